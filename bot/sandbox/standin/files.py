"""Files on the stand-in's "servers": what people and the bot uploaded.

Every stored file has a ``file_id`` shaped like Telegram's (the prefix tells
its kind), a ``file_unique_id`` and a ``file_path`` under which
``{url}/file/bot{token}/{path}`` serves it. A photo is stored in several sizes,
each a file of its own, as Telegram does.
"""

from __future__ import annotations

import base64
import random
import struct
from dataclasses import dataclass
from typing import Any

_FILE_ID_PREFIXES = {
    "document": "BQACAgIAAxkBAA",
    "photo": "AgACAgIAAxkBAA",
    "voice": "AwACAgIAAxkBAA",
}
_STICKER_FILE_ID_PREFIX = "CAACAgIAAxkBAA"


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    kind: str  # "document", "photo", "voice", "sticker"
    data: bytes
    file_name: str | None = None
    mime_type: str | None = None
    photo: list[dict[str, Any]] | None = None  # all sizes, for photos

    def as_file(self) -> dict[str, Any]:
        """The File object, as getFile answers it."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
            "file_path": self.file_path,
        }

    def ids(self) -> dict[str, Any]:
        """The fields every Document, PhotoSize, Voice and Sticker object has."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
        }


class FileStore:
    """All stored files, by ``file_id`` and by ``file_path``."""

    def __init__(self, rng: random.Random) -> None:
        self.by_id: dict[str, StoredFile] = {}
        self.by_path: dict[str, StoredFile] = {}
        self._rng = rng

    def store(
        self, kind: str, data: bytes, mime_type: str | None, file_name: str | None = None
    ) -> StoredFile:
        file_id, unique = self._new_ids(kind)
        number = len(self.by_id) + 1
        if kind == "document":
            suffix = (file_name or "").rpartition(".")[2] if "." in (file_name or "") else ""
            path = f"documents/file_{number}" + (f".{suffix}" if suffix else "")
        else:
            folder, ext = {"photo": ("photos", "jpg"), "voice": ("voice", "oga")}.get(
                kind, ("stickers", "webp")
            )
            path = f"{folder}/file_{number}.{ext}"
        stored = StoredFile(file_id, unique, path, kind, data, file_name, mime_type)
        self.by_id[file_id] = stored
        self.by_path[path] = stored
        return stored

    def store_photo(self, data: bytes, file_name: str) -> list[dict[str, Any]]:
        """Store an image as Telegram does: several sizes, each with its own file id.

        Returns the PhotoSize objects, smallest first.
        """
        width, height = image_size(data) or (800, 600)
        scale = min(1.0, 1280 / max(width, height, 1))
        width, height = max(1, round(width * scale)), max(1, round(height * scale))
        sides = [side for side in (90, 320, 800) if side < max(width, height)] + [
            max(width, height)
        ]
        sizes: list[dict[str, Any]] = []
        records: list[StoredFile] = []
        for side in sides:
            ratio = side / max(width, height)
            stored = self.store("photo", data, "image/jpeg", file_name)
            records.append(stored)
            sizes.append(
                {
                    **stored.ids(),
                    "width": max(1, round(width * ratio)),
                    "height": max(1, round(height * ratio)),
                }
            )
        for stored in records:
            stored.photo = sizes
        return sizes

    def _new_ids(self, kind: str) -> tuple[str, str]:
        raw = self._rng.getrandbits(8 * 45).to_bytes(45, "big")
        prefix = _FILE_ID_PREFIXES.get(kind, _STICKER_FILE_ID_PREFIX)
        file_id = prefix + base64.urlsafe_b64encode(raw).decode()
        unique_raw = self._rng.getrandbits(72).to_bytes(9, "big")
        return file_id, "AQAD" + base64.urlsafe_b64encode(unique_raw).decode()


def image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height of a PNG, GIF, JPEG or WebP image; ``None`` for anything else."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return int(width), int(height)
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return 512, 512
    if data.startswith(b"\xff\xd8"):
        pos = 2
        while pos + 9 < len(data):
            if data[pos] != 0xFF:
                return None
            marker = data[pos + 1]
            length = int.from_bytes(data[pos + 2 : pos + 4], "big")
            if marker in (0xC0, 0xC1, 0xC2):
                height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
                return int(width), int(height)
            pos += 2 + length
        return 800, 600
    return None
