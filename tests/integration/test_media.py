"""Answers Telegram collects natively (photo, voice, file, location) and the other new types."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import openpyxl
import pytest
from bot.exports import ExportOptions, write_export
from bot.sandbox.standin import StandIn
from bot.survey.loader import load_survey

from tests.integration.harness import Harness, stored_answers

SURVEY = """\
id: media
version: 1
default_language: en
languages: [en, ar]
title: {en: Media, ar: وسائط}
introduction: {en: A test., ar: اختبار.}
consent:
  notice: {en: Notice, ar: إشعار}
  details: {en: Details, ar: تفاصيل}
questions:
  - {id: name, type: text, required: true, text: {en: "Your first name?", ar: "اسمك؟"}}
  - {id: began, type: calculate, calculation: "now()"}
  - {id: hello, type: note, text: {en: "Thank you, ${name}.", ar: "شكرا ${name}."}}
  - {id: picture, type: photo, required: true, text: {en: "A photo?", ar: "صورة؟"}}
  - {id: voice, type: audio, text: {en: "Tell us by voice", ar: "بالصوت"}}
  - {id: place, type: geopoint, text: {en: "Where?", ar: "أين؟"}}
  - {id: paper, type: file, text: {en: "A document?", ar: "وثيقة؟"}}
  - {id: confirm, type: acknowledge, text: {en: "Please confirm", ar: "يرجى التأكيد"}}
  - {id: hour, type: time, text: {en: "What time?", ar: "متى؟"}}
"""


@pytest.fixture
async def media_bot(api: StandIn, tmp_path: Path) -> AsyncIterator[Harness]:
    path = tmp_path / "media.yaml"
    path.write_text(SURVEY, encoding="utf-8")
    survey, _ = load_survey(path)
    harness = Harness(api, tmp_path / "data" / "bot.sqlite3", survey)
    (tmp_path / "data").mkdir()
    await harness.start()
    try:
        yield harness
    finally:
        await harness.stop()


async def test_photo_voice_location_file_and_the_rest(media_bot: Harness) -> None:
    harness = media_bot
    amina = harness.person(700)
    await amina.start()
    replies = await amina.send("Amina")
    assert replies[0].text == "Thank you, Amina."  # the label names the earlier answer
    assert "Send a photo" in replies[-1].text
    amina.user.send_sticker()
    await harness.settle()
    assert amina.last.text == "This question asks for a photo."
    replies = await amina.send("here it is")
    assert replies[-1].text == "This question asks for a photo."
    assert "picture" not in stored_answers(harness)

    amina.user.send_photo(b"\x89PNG\r\n\x1a\n" + bytes(200))
    await harness.settle()
    assert "voice message" in amina.last.text
    stored = stored_answers(harness)["picture"]
    assert stored is not None and stored.startswith("media/") and stored.endswith(".png")
    assert (harness.db.parent / stored).read_bytes().startswith(b"\x89PNG")

    amina.user.send_voice(b"OggS\x00\x02" + bytes(20) + b"\x01\x13OpusHead\x01\x01" + bytes(64))
    await harness.settle()
    voice = stored_answers(harness)["voice"]
    assert voice is not None and voice.endswith(".ogg") and (harness.db.parent / voice).exists()
    location_prompt = amina.last
    assert location_prompt.buttons[0][0].request_location

    amina.user.send_location(14.6928, -17.4467)
    await harness.settle()
    assert stored_answers(harness)["place"] == "14.6928 -17.4467 0 0"
    assert any(m.text == "Location received." for m in amina.messages)

    amina.user.send_document(b"%PDF-1.4 test", "contract.pdf", "application/pdf")
    await harness.settle()
    paper = stored_answers(harness)["paper"]
    assert paper is not None and paper.endswith(".pdf")
    await amina.press("OK")
    replies = await amina.send("9h05")
    assert stored_answers(harness)["confirm"] == "OK" and stored_answers(harness)["hour"] == "09:05"
    assert stored_answers(harness)["began"]  # computed, never asked

    out = harness.db.parent / "export.csv"
    write_export(harness.db, out, harness.survey, ExportOptions(format="csv"), "k" * 20,
                 dt.datetime(2026, 11, 28, tzinfo=dt.UTC))
    rows = list(csv.reader(out.read_text("utf-8-sig").splitlines()))
    record = dict(zip(rows[0], rows[1], strict=True))
    assert record["picture"] == stored and record["paper"] == paper

    book = harness.db.parent / "export.xlsx"
    write_export(harness.db, book, harness.survey, ExportOptions(format="xlsx"), "k" * 20,
                 dt.datetime(2026, 11, 28, tzinfo=dt.UTC))
    sheet = openpyxl.load_workbook(book)["responses"]
    header = [cell.value for cell in sheet[1]]
    cell = sheet.cell(row=2, column=header.index("picture") + 1)
    assert (cell.value, cell.data_type, cell.hyperlink) == (stored, "s", None)

    files = [harness.db.parent / p for p in (stored, voice, paper)]
    await amina.send("/delete")
    await amina.press("Yes, delete everything")
    assert not any(path.exists() for path in files)


async def test_a_changed_photo_does_not_leave_the_old_file(media_bot: Harness) -> None:
    harness = media_bot
    omar = harness.person(701)
    await omar.start()
    await omar.send("Omar")
    omar.user.send_photo(b"first")
    await harness.settle()
    first = stored_answers(harness)["picture"]
    assert first is not None
    await omar.send("/back")
    omar.user.send_photo(b"second")
    await harness.settle()
    second = stored_answers(harness)["picture"]
    assert second != first
    assert not (harness.db.parent / first).exists()
    assert (harness.db.parent / str(second)).read_bytes() == b"second"


async def test_text_for_a_location(media_bot: Harness) -> None:
    harness = media_bot
    lina = harness.person(702, language_code="ar")
    await lina.start("العربية")
    await lina.send("لينا")
    lina.user.send_photo(b"x")
    await harness.settle()
    await lina.press(lina.labels(lina.last)[-1], message=lina.last)  # skip the voice one
    replies = await lina.send("Dakar")
    assert replies[-1].text != "This question asks for a location: press “Share my location”."
    assert "place" not in stored_answers(harness)
