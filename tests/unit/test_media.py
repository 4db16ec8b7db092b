"""Stored media answers: the extension comes from the bytes, the files are the owner's alone."""

from __future__ import annotations

import io
import os
import stat
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from bot import media
from bot.survey.model import QuestionType

PHOTO, AUDIO, VIDEO, FILE = (QuestionType.PHOTO, QuestionType.AUDIO, QuestionType.VIDEO,
                             QuestionType.FILE)


def ftyp(brand: bytes, *compatible: bytes) -> bytes:
    box = brand + b"\x00\x00\x00\x00" + b"".join(compatible)
    return (8 + len(box)).to_bytes(4, "big") + b"ftyp" + box + bytes(32)


def ogg(packet: bytes) -> bytes:
    return b"OggS\x00\x02" + bytes(20) + b"\x01" + bytes([len(packet)]) + packet


def zipped(entries: dict[str, bytes], *, mimetype: bytes | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        if mimetype is not None:
            archive.writestr("mimetype", mimetype, compress_type=zipfile.ZIP_STORED)
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


OOXML = {"[Content_Types].xml": b"<Types/>", "_rels/.rels": b"<Relationships/>"}
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(64)
PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(64)
LNK = b"L\x00\x00\x00\x01\x14\x02\x00\x00\x00\x00\x00\xc0\x00\x00\x00" + bytes(64)
HTA = b'<html><head><HTA:APPLICATION id="x"/><script>new ActiveXObject("WScript.Shell")'
SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'


@pytest.mark.parametrize(
    ("data", "found"),
    [
        (JPEG, "jpg"),
        (PNG, "png"),
        (b"GIF89a" + bytes(32), "gif"),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 " + bytes(32), "webp"),
        (ftyp(b"heic", b"mif1", b"heic"), "heic"),
        (ftyp(b"mif1", b"mif1", b"heic"), "heic"),
        (ftyp(b"avif", b"mif1", b"avif"), None),
        (ftyp(b"mif1", b"mif1", b"avif"), None),
        (ogg(b"OpusHead\x01\x01"), "ogg"),
        (ogg(b"\x01vorbis\x00\x00"), "ogg"),
        (ogg(b"\x80theora"), None),
        (b"ID3\x04\x00\x00" + bytes(32), "mp3"),
        (b"\xff\xfb\x90\x64" + bytes(32), "mp3"),
        (b"\xff\xf1\x50\x80" + bytes(32), None),  # AAC in ADTS, not Layer III
        (ftyp(b"M4A ", b"isom"), "m4a"),
        (b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(32), "wav"),
        (b"#!AMR\n" + bytes(32), "amr"),
        (b"#!AMR-WB\n" + bytes(32), "amr"),
        (ftyp(b"isom", b"isom", b"avc1"), "mp4"),
        (ftyp(b"qt  "), "mov"),
        (ftyp(b"3gp4"), "3gp"),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm" + bytes(16), "webm"),
        (b"\x1a\x45\xdf\xa3\xa3\x42\x86\x81\x01\x42\x82\x88matroska" + bytes(16), None),
        (b"%PDF-1.7\n" + bytes(32), "pdf"),
        (zipped({**OOXML, "word/document.xml": b"<w/>"}), "docx"),
        (zipped({**OOXML, "xl/workbook.xml": b"<w/>"}), "xlsx"),
        (zipped({**OOXML, "ppt/presentation.xml": b"<p/>"}), "pptx"),
        (zipped({**OOXML, "word/document.xml": b"<w/>", "word/vbaProject.bin": b"x"}), None),
        (zipped({"content.xml": b"<x/>"},
                mimetype=b"application/vnd.oasis.opendocument.text"), "odt"),
        (zipped({"content.xml": b"<x/>"},
                mimetype=b"application/vnd.oasis.opendocument.spreadsheet"), "ods"),
        (zipped({"content.xml": b"<x/>", "Basic/Standard/Module1.xml": b"<m/>"},
                mimetype=b"application/vnd.oasis.opendocument.text"), None),
        (zipped({"run.exe": EXE}), None),
        (b"PK\x03\x04" + bytes(64), None),  # the magic number, but no zip
        ("Bonjour,\nمرحبا\tشكرا\r\n".encode(), "txt"),
        (b"\xef\xbb\xbfWith a byte-order mark", "txt"),
        (EXE, None),
        (LNK, None),
        (HTA, None),
        (SVG, None),
        (b"text with a \x1b[31m terminal escape", None),
        (b"\xc3\x28 not UTF-8", None),
        (b"", None),
    ],
)
def test_what_the_bytes_are(data: bytes, found: str | None) -> None:
    assert media.sniff(data) == found


@pytest.mark.parametrize(
    ("data", "kind", "extension"),
    [
        (JPEG, PHOTO, "jpg"),
        (JPEG, FILE, "jpg"),
        (JPEG, AUDIO, "bin"),
        (ogg(b"OpusHead\x01\x01"), AUDIO, "ogg"),
        (ogg(b"OpusHead\x01\x01"), PHOTO, "bin"),
        (ftyp(b"isom"), VIDEO, "mp4"),
        (ftyp(b"isom"), AUDIO, "mp4"),
        (ftyp(b"M4A "), VIDEO, "bin"),
        (b"%PDF-1.7\n", PHOTO, "bin"),
        (b"%PDF-1.7\n", FILE, "pdf"),
        (b"plain words", FILE, "txt"),
        (b"plain words", VIDEO, "bin"),
        (EXE, FILE, "bin"),
        (JPEG, QuestionType.TEXT, "bin"),
    ],
)
def test_each_question_type_allows_its_own_formats(
    data: bytes, kind: QuestionType, extension: str
) -> None:
    assert media.extension_for(data, kind) == extension


@pytest.fixture
def open_umask() -> Iterator[None]:
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


@pytest.mark.parametrize(
    ("data", "claimed", "kind"),
    [(EXE, "holiday.jpg.exe", FILE), (LNK, "photo.lnk", PHOTO), (HTA, "notes.hta", FILE),
     (SVG, "drawing.svg", PHOTO), (EXE, "song.mp3", AUDIO)],
)
@pytest.mark.usefixtures("open_umask")
def test_a_dangerous_file_is_stored_as_bin_and_owner_only(
    tmp_path: Path, data: bytes, claimed: str, kind: QuestionType
) -> None:
    database = tmp_path / "bot.sqlite3"
    value = media.store(database, data, kind)
    assert media.is_stored_file(value) and value.endswith(".bin"), (claimed, value)
    path = tmp_path / value
    assert path.read_bytes() == data
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(media.media_root(database).stat().st_mode) == 0o700


@pytest.mark.usefixtures("open_umask")
def test_a_folder_left_open_by_an_older_version_is_closed(tmp_path: Path) -> None:
    database = tmp_path / "bot.sqlite3"
    media.media_root(database).mkdir(mode=0o755)
    value = media.store(database, PNG, PHOTO)
    assert value.startswith("media/") and value.endswith(".png")
    assert stat.S_IMODE(media.media_root(database).stat().st_mode) == 0o700
    assert media.forget(database, [value, "media/../bot.sqlite3", None]) == 1


def test_files_no_answer_refers_to_are_swept(tmp_path: Path) -> None:
    database = tmp_path / "bot.sqlite3"
    kept = media.store(database, b"%PDF-1.4", QuestionType.FILE)
    orphan = media.store(database, b"%PDF-1.4", QuestionType.FILE)
    (media.media_root(database) / "notes.txt").write_text("not ours")
    assert media.sweep(database, [kept]) == 1
    assert (tmp_path / kept).exists() and not (tmp_path / orphan).exists()
    assert (media.media_root(database) / "notes.txt").exists()
