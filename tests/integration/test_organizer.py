"""Organizer tools in chat: only for CONSULTBOT_ADMINS, everyone else sees nothing."""

from __future__ import annotations

import csv
import io
import logging
import zipfile
from pathlib import Path

import pytest
from bot.i18n import Catalogs
from handlers import organizer
from handlers.commands import Audience, by_audience

from tests.integration.harness import ORGANIZER, Harness, complete_quickly


@pytest.mark.parametrize("command", sorted(c.name for c in by_audience(Audience.ORGANIZER)))
async def test_every_organizer_command_refuses_anyone_else(
    harness: Harness, command: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    stranger = harness.person(70000019)
    unknown = await stranger.send("/nosuchcommand")
    replies = await stranger.send(f"/{command}")
    assert [m.text for m in replies] == [unknown[-1].text]
    assert not any(call.method == "sendDocument" for call in harness.api.calls)
    refused = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert len(refused) == 1 and "70000019" not in refused[0]  # a pseudonym, never the id


async def test_forged_organizer_buttons_are_dead_buttons(harness: Harness) -> None:
    stranger = harness.person(71)
    await stranger.send("/help")
    for data in ("E:csv", "E:xlsx:en", "E:json", "E:sav:en", "E:csv::s", "E:xlsx::k", "H:a:r",
                 "H:x:1", "H:p:1"):
        query = stranger.user.press_data(stranger.last.message_id, data)
        await harness.settle()
        assert harness.api.callback_answers[query].get("text") == (
            "This button is no longer active.")
    assert not any(call.method == "sendDocument" for call in harness.api.calls)


async def test_organizer_commands_only_in_a_private_chat(harness: Harness) -> None:
    group = harness.api.group(-100777, "Organizers' group")
    boss = harness.person(ORGANIZER)
    boss.user.send("/stats", chat=group)
    await harness.settle()
    [reply] = harness.api.messages(group.id)
    assert "private chat" in reply.text and "Opened the bot" not in reply.text


async def test_stats_in_the_organizer_language(harness: Harness, catalogs: Catalogs) -> None:
    await complete_quickly(harness.person(72))
    boss = harness.person(ORGANIZER, language_code="fr")
    replies = await boss.send("/stats")
    text = "\n".join(m.text for m in replies)
    completed = catalogs.get("fr").gettext("Completed: {count}", count=1)
    assert completed in text and "Completed" not in text
    assert "Personne migrante" in text and "Chili" in text
    help_text = (await boss.send("/help"))[-1].text
    assert "/stats" in help_text and "/export" in help_text
    stranger_help = (await harness.person(73).send("/help"))[-1].text
    assert "/stats" not in stranger_help


async def test_export_arrives_as_a_document(harness: Harness) -> None:
    await complete_quickly(harness.person(7404417213))
    boss = harness.person(ORGANIZER)
    await boss.send("/export")
    await boss.press("CSV")
    document, codebook = [m for m in boss.messages if m.kind == "document"]
    assert codebook.filename is not None and codebook.filename.endswith(".codebook.csv")
    assert codebook.document is not None and b"question,type,choice" in codebook.document
    assert document.filename is not None and document.filename.endswith(".csv")
    assert document.document is not None and document.document.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(document.document.decode("utf-8-sig"))))
    assert rows[0][0] == "participant" and len(rows) == 2
    assert b"7404417213" not in document.document  # a pseudonym, never the Telegram id
    assert "1 response" in document.text


async def test_spss_semicolon_and_kobo_exports_from_chat(
    harness: Harness, tmp_path: Path
) -> None:
    import openpyxl
    import pyreadstat

    await complete_quickly(harness.person(7404417214))
    boss = harness.person(ORGANIZER, language_code="fr")
    await boss.send("/export")
    await boss.press("SPSS (.sav)")
    data, book = [m for m in boss.messages if m.kind == "document"]
    assert data.filename is not None and data.filename.endswith(".sav")
    assert book.filename == data.filename.removesuffix(".sav") + ".codebook.csv"
    assert data.document is not None and book.document is not None
    saved = tmp_path / "chat.sav"
    saved.write_bytes(data.document)
    frame, meta = pyreadstat.read_sav(str(saved))
    assert len(frame) == 1 and meta.column_names_to_labels["role"].startswith("Laquelle")
    assert b"7404417214" not in data.document
    await boss.send("/export")
    await boss.press("CSV (;)")
    semicolons = [m for m in boss.messages if m.kind == "document"][-2]
    assert semicolons.document is not None
    assert semicolons.document.decode("utf-8-sig").startswith("participant;response_id;")
    await boss.send("/export")
    await boss.press("XLSX (Kobo)")
    kobo = [m for m in boss.messages if m.kind == "document"][-1]
    assert kobo.filename is not None and kobo.filename.endswith(".xlsx")
    assert kobo.document is not None
    workbook = openpyxl.load_workbook(io.BytesIO(kobo.document), read_only=True)
    header = next(workbook["responses"].iter_rows(max_row=1, values_only=True))
    assert "_uuid" in header and header[-1] == "_index"


async def test_a_large_export_is_zipped(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(organizer, "ZIP_ABOVE", 10)
    await complete_quickly(harness.person(75))
    boss = harness.person(ORGANIZER)
    await boss.send("/export")
    await boss.press("XLSX with labels in my language")
    [document] = [m for m in boss.messages if m.kind == "document"]
    assert document.filename is not None and document.filename.endswith(".xlsx.zip")
    assert document.document is not None
    with zipfile.ZipFile(io.BytesIO(document.document)) as bundle:
        assert bundle.namelist() == [document.filename.removesuffix(".zip")]


async def test_summary_preview_remind_and_broadcast_from_chat(harness: Harness) -> None:
    boss = harness.person(ORGANIZER)
    replies = await boss.send("/summary")
    assert replies[-1].kind == "photo" and len(replies[-1].text) <= 1024
    replies = await boss.send("/summary ar")
    assert any("\u0600" <= ch <= "\u06ff" for ch in replies[-1].text)
    replies = await boss.send("/summary xx")
    assert "en, fr, es, ar" in replies[-1].text
    replies = await boss.send("/remind")
    assert "/remind now" in replies[-1].text
    replies = await boss.send("/remind now")
    assert replies[-1].text == "Nobody needs a reminder now."
    replies = await boss.send("/broadcast now")
    assert replies[-1].text == "There are no subscribers to send the summary to."
    group = harness.api.group(-1004440001, "Diaspora association")
    harness.api.user(ORGANIZER).send("/subscribe", chat=group)
    await harness.settle()
    replies = await boss.send("/broadcast now")
    assert replies[-1].text.startswith("Round 1 started for 1 recipient.")
    assert harness.application is not None and harness.application.bot_data.worker
    await harness.application.bot_data.worker.drained()
    assert [m.kind for m in harness.api.messages(group.id)][-1] == "photo"
    assert boss.messages[-1].text.startswith("Summary broadcast 1 finished")


async def test_schedules_from_chat(harness: Harness) -> None:
    boss = harness.person(ORGANIZER)
    replies = await boss.send("/schedule")
    assert "None yet." in replies[-1].text
    await boss.press("Reminders every Monday 18:00")
    listing = boss.last
    assert "#1 Reminder round — cron 0 18 * * 1 — next:" in listing.text
    await boss.press("Pause #1")
    assert "#1 Reminder round — cron 0 18 * * 1 — paused" in boss.last.text
    replies = await boss.send("/schedule add summary 2030-01-06 10:00")
    assert "#2 Summary broadcast" in replies[-1].text
    replies = await boss.send("/schedule add summary every day")
    assert "is not a date and time" in replies[-1].text
    replies = await boss.send("/schedule add reminder 61 18 * * *")
    assert "is not a cron expression" in replies[-1].text
    listing = boss.with_button("Remove #1")
    await boss.press("Remove #1", message=listing)
    edited = next(m for m in boss.messages if m.message_id == listing.message_id)
    assert "#1 " not in edited.text and "#2 Summary broadcast" in edited.text
    assert harness.application is not None and harness.application.job_queue is not None
    names = [job.name for job in harness.application.job_queue.jobs()]
    assert any(name and name.startswith("schedule 2 summary") for name in names)
    assert not any(name and name.startswith("schedule 1 ") for name in names)
