"""Organizer tools in chat: only for CONSULTBOT_ADMINS, everyone else sees nothing."""

from __future__ import annotations

import csv
import io
import logging
import zipfile

import pytest

from bot.i18n import Catalogs
from handlers import organizer
from handlers.organizer import ORGANIZER_COMMANDS
from tests.integration.harness import ORGANIZER, Harness, Person


async def finish_quickly(person: Person) -> None:
    await person.start()
    await person.press("Migrant")
    await person.send("Chil")
    await person.press("Chile")
    await person.press("Skip »")
    await person.press("No")
    await person.press("Funding")
    await person.press("Done ✔")
    await person.press("Skip »")


@pytest.mark.parametrize("command", sorted(ORGANIZER_COMMANDS))
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
    for data in ("E:csv", "E:xlsx:en", "E:json"):
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


async def test_stats_in_the_organizer_language(harness: Harness) -> None:
    await finish_quickly(harness.person(72))
    boss = harness.person(ORGANIZER, language_code="fr")
    replies = await boss.send("/stats")
    text = "\n".join(m.text for m in replies)
    completed = Catalogs.load().get("fr").gettext("Completed: {count}", count=1)
    assert completed in text and "Completed" not in text
    assert "Personne migrante" in text and "Chili" in text
    help_text = (await boss.send("/help"))[-1].text
    assert "/stats" in help_text and "/export" in help_text
    stranger_help = (await harness.person(73).send("/help"))[-1].text
    assert "/stats" not in stranger_help


async def test_export_arrives_as_a_document(harness: Harness) -> None:
    await finish_quickly(harness.person(74))
    boss = harness.person(ORGANIZER)
    await boss.send("/export")
    await boss.press("CSV")
    [document] = [m for m in boss.messages if m.kind == "document"]
    assert document.filename is not None and document.filename.endswith(".csv")
    assert document.document is not None and document.document.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(document.document.decode("utf-8-sig"))))
    assert rows[0][0] == "participant" and len(rows) == 2
    assert "74" not in rows[1][0]
    assert "1 response" in document.text


async def test_a_large_export_is_zipped(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(organizer, "ZIP_ABOVE", 10)
    await finish_quickly(harness.person(75))
    boss = harness.person(ORGANIZER)
    await boss.send("/export")
    await boss.press("XLSX with labels in my language")
    [document] = [m for m in boss.messages if m.kind == "document"]
    assert document.filename is not None and document.filename.endswith(".xlsx.zip")
    assert document.document is not None
    with zipfile.ZipFile(io.BytesIO(document.document)) as bundle:
        assert bundle.namelist() == [document.filename.removesuffix(".zip")]
