"""Files participants send as answers: stored beside the database, under random names.

An answer to a photo, audio, video or file question is the file's path relative
to the database's folder (``media/3f9c….jpg``): exports list it, and the
folder can be handed to analysts with the export. Names are random, so a path
says nothing about who sent it. A file no longer referenced (the answer was
changed, dropped or deleted with /delete) is removed.

The extension says what the file is, never what the sender claimed: it comes
from the file's first bytes, and only from the formats the question's type
allows (``ALLOWED``). Anything else is stored as ``.bin``, which no program
opens by double-click. The folder is the owner's alone (0700), and so is each
file (0600).
"""

from __future__ import annotations

import io
import logging
import os
import re
import secrets
import time
import zipfile
from collections.abc import Iterable
from pathlib import Path

from bot.survey.model import QuestionType

logger = logging.getLogger(__name__)

FOLDER = "media"
MAX_BYTES = 20 * 1024 * 1024  # the most a bot can download through the Bot API
UNKNOWN = "bin"
_STORED = re.compile(rf"^{FOLDER}/[0-9a-f]{{32}}(\.[A-Za-z0-9]{{1,8}})?$")

_PHOTO = frozenset({"jpg", "png", "webp", "gif", "heic"})
_AUDIO = frozenset({"ogg", "mp3", "m4a", "mp4", "wav", "amr"})
_VIDEO = frozenset({"mp4", "mov", "webm", "3gp"})
_DOCUMENTS = frozenset({"pdf", "docx", "xlsx", "pptx", "odt", "ods", "odp", "txt"})
ALLOWED: dict[QuestionType, frozenset[str]] = {
    QuestionType.PHOTO: _PHOTO,
    QuestionType.AUDIO: _AUDIO,
    QuestionType.VIDEO: _VIDEO,
    QuestionType.FILE: _PHOTO | _AUDIO | _VIDEO | _DOCUMENTS,
}

_HEIC_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"})
_AUDIO_BRANDS = frozenset({b"M4A ", b"M4B "})
_VIDEO_BRANDS = frozenset({b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42",
                           b"avc1", b"dash", b"mmp4", b"M4V ", b"MSNV", b"f4v "})
_3GP_BRANDS = frozenset({b"3gp4", b"3gp5", b"3gp6", b"3gp7", b"3gg6", b"3ge6", b"3ge7",
                         b"3gs7"})
_OPEN_DOCUMENT = {b"application/vnd.oasis.opendocument.text": "odt",
                  b"application/vnd.oasis.opendocument.spreadsheet": "ods",
                  b"application/vnd.oasis.opendocument.presentation": "odp"}
_OFFICE_PARTS = {"word/document.xml": "docx", "xl/workbook.xml": "xlsx",
                 "ppt/presentation.xml": "pptx"}
_TEXT_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def media_root(database: Path) -> Path:
    return database.parent / FOLDER


def sniff(data: bytes) -> str | None:
    """What the bytes are, as a file name extension (``"jpg"``), or None if unknown."""
    head = data[:16]
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head.startswith(b"RIFF") and head[8:12] in (b"WEBP", b"WAVE"):
        return "webp" if head[8:12] == b"WEBP" else "wav"
    if head.startswith(b"OggS"):
        return _ogg(data)
    if head[4:8] == b"ftyp":
        return _iso_media(data)
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return _ebml(data)
    if head.startswith((b"#!AMR\n", b"#!AMR-WB\n")):
        return "amr"
    if head.startswith(b"ID3") or _mp3_frame(head):
        return "mp3"
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return _zipped(data)
    return _text(data)


def _ogg(data: bytes) -> str | None:
    """An Ogg stream whose first packet opens an Opus or Vorbis voice/audio stream."""
    if len(data) < 27:
        return None
    start = 27 + data[26]
    return "ogg" if data[start:start + 8] == b"OpusHead" or (
        data[start:start + 7] == b"\x01vorbis") else None


def _iso_media(data: bytes) -> str | None:
    """The kind of an ISO base media file (the MP4 family) from its ``ftyp`` brands."""
    brand = data[8:12]
    if brand in (b"mif1", b"msf1"):
        size = int.from_bytes(data[0:4], "big")
        compatible = data[16:min(size, 64)]
        brands = {compatible[i:i + 4] for i in range(0, len(compatible) - 3, 4)}
        return "heic" if brands & _HEIC_BRANDS else None
    if brand in _HEIC_BRANDS:
        return "heic"
    if brand in _AUDIO_BRANDS:
        return "m4a"
    if brand in _VIDEO_BRANDS:
        return "mp4"
    if brand == b"qt  ":
        return "mov"
    if brand in _3GP_BRANDS:
        return "3gp"
    return None


def _ebml(data: bytes) -> str | None:
    """WebM (a Matroska file whose DocType is ``webm``); other Matroska files are unknown."""
    head = data[:64]
    at = head.find(b"\x42\x82")
    if at < 0 or at + 3 > len(head) or not head[at + 2] & 0x80:
        return None
    size = head[at + 2] & 0x7F
    return "webm" if head[at + 3:at + 3 + size] == b"webm" else None


def _mp3_frame(head: bytes) -> bool:
    """An MPEG audio Layer III frame header: sync bits, a valid bitrate and sample rate."""
    if len(head) < 4 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return False
    version, layer = (head[1] >> 3) & 0x3, (head[1] >> 1) & 0x3
    bitrate, rate = head[2] >> 4, (head[2] >> 2) & 0x3
    return version != 1 and layer == 1 and bitrate not in (0, 15) and rate != 3


def _zipped(data: bytes) -> str | None:
    """An OpenDocument or Office Open XML file without macros; any other zip is unknown.

    Only the zip's directory and its first entry's header are read, nothing is
    decompressed. OpenDocument names its type in that first entry,
    ``mimetype``, stored uncompressed; Office Open XML is told by its main part.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, ValueError, EOFError, OSError):
        return None
    stored, name_length = data[8:10] == b"\x00\x00", data[26:28] == b"\x08\x00"
    if stored and name_length and data[30:38] == b"mimetype":
        if any(name.startswith(("Basic/", "Scripts/")) for name in names):
            return None
        start = 38 + int.from_bytes(data[28:30], "little")
        for mime, kind in _OPEN_DOCUMENT.items():
            if data[start:start + len(mime)] == mime:
                return kind
        return None
    if "[Content_Types].xml" not in names or any(
            name.lower().endswith("vbaproject.bin") for name in names):
        return None
    found = {kind for part, kind in _OFFICE_PARTS.items() if part in names}
    return found.pop() if len(found) == 1 else None


def _text(data: bytes) -> str | None:
    """Plain UTF-8 text: no control characters but tab, line and page breaks, no markup.

    Text that opens with ``<`` (HTML, SVG, an HTA, XML) is not plain: some
    programs would render or run it.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    if not text.strip() or text.lstrip().startswith("<") or _TEXT_CONTROLS.search(text):
        return None
    return "txt"


def extension_for(data: bytes, kind: QuestionType) -> str:
    """The stored file's extension: what the bytes are if ``kind`` allows it, else ``bin``."""
    found = sniff(data)
    return found if found is not None and found in ALLOWED.get(kind, ()) else UNKNOWN


def store(database: Path, data: bytes, kind: QuestionType) -> str:
    """Write the file, owner-only, under a random name; returns the answer value.

    Synchronous: the bot calls it in a worker thread.
    """
    root = media_root(database)
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    if root.stat().st_mode & 0o777 != 0o700:
        root.chmod(0o700)
    name = f"{secrets.token_hex(16)}.{extension_for(data, kind)}"
    path = root / name
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    descriptor = os.open(path, flags, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            os.fchmod(handle.fileno(), 0o600)
            handle.write(data)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
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


def sweep(database: Path, referenced: Iterable[str], older: float | None = None) -> int:
    """Remove the stored files no answer refers to (a file kept when the process died
    between storing it and committing its answer); returns how many. ``older``: only
    files last written more than that many seconds ago (other workers may be storing
    one whose answer is not committed yet)."""
    root = media_root(database)
    if not root.is_dir():
        return 0
    kept = {value.removeprefix(f"{FOLDER}/") for value in referenced}
    before = time.time() - older if older is not None else None
    orphans = [path for path in root.iterdir()
               if path.is_file() and is_stored_file(f"{FOLDER}/{path.name}")
               and path.name not in kept
               and (before is None or path.stat().st_mtime < before)]
    return forget(database, [f"{FOLDER}/{path.name}" for path in orphans])
