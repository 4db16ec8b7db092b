"""Files participants send as answers: stored beside the database, under random names.

An answer to a photo, audio, video or file question is the file's path relative
to the database's folder (``media/3f9c….jpg``): exports list it, and the
folder can be handed to analysts with the export. Names are random, so a path
says nothing about who sent it. A file no longer referenced (the answer was
changed, dropped or deleted with /delete) is removed.
"""

from __future__ import annotations

import logging
import mimetypes
import re
import secrets
from collections.abc import Iterable
from pathlib import Path

logger = logging.getLogger(__name__)

FOLDER = "media"
MAX_BYTES = 20 * 1024 * 1024  # the most a bot can download through the Bot API
_STORED = re.compile(rf"^{FOLDER}/[0-9a-f]{{32}}(\.[A-Za-z0-9]{{1,8}})?$")


def media_root(database: Path) -> Path:
    return database.parent / FOLDER


def extension(file_path: str | None, mime_type: str | None) -> str:
    """A file name extension from Telegram's file path, else from the MIME type."""
    suffix = Path(file_path or "").suffix.lower()
    if re.fullmatch(r"\.[a-z0-9]{1,8}", suffix):
        return suffix
    guessed = mimetypes.guess_extension(mime_type or "") or ""
    return guessed if re.fullmatch(r"\.[a-z0-9]{1,8}", guessed) else ".bin"


def store(database: Path, data: bytes, suffix: str) -> str:
    """Write the file under a random name; returns the answer value (a relative path)."""
    root = media_root(database)
    root.mkdir(parents=True, exist_ok=True)
    name = f"{secrets.token_hex(16)}{suffix}"
    (root / name).write_bytes(data)
    return f"{FOLDER}/{name}"


def is_stored_file(value: str | None) -> bool:
    return value is not None and bool(_STORED.match(value))


def forget(database: Path, values: Iterable[str | None]) -> int:
    """Remove the stored files among ``values`` (other values are ignored)."""
    removed = 0
    for value in values:
        if value is not None and is_stored_file(value):
            path = database.parent / value
            try:
                path.unlink()
                removed += 1
            except FileNotFoundError:
                pass
            except OSError as exc:
                logger.warning("a media file could not be removed: %s", exc.strerror)
    return removed
