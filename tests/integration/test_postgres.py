"""The real bot on PostgreSQL: a participant's journey, a reminder round's delivery, an
erasure with /delete, the web console's figures, and a second polling process refused."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from bot.app import build_application, running
from bot.sandbox.standin import StandIn
from bot.scheduling import start_round
from bot.survey.model import Survey
from storage.db import Database, fetch_all
from storage.postgres import DatabaseInUse, PostgresDatabase
from storage.rounds import REMINDER

from tests.data import PARTNER, add_response
from tests.integration.harness import ORGANIZER, TOKEN, Harness, complete_quickly
from tests.integration.test_rounds import drained, sent_to

SECRET_TEXT = "Fatima Zahra, the shop on Rue Hassan II"


@pytest.fixture
async def harness(api: StandIn, tmp_path: Path, consultation: Survey, pg_url: str
                  ) -> AsyncIterator[Harness]:
    bot = Harness(api, tmp_path / "files" / "bot.sqlite3", consultation, db_url=pg_url)
    await bot.start()
    try:
        yield bot
    finally:
        await bot.stop()


def database(harness: Harness) -> Database:
    assert harness.application is not None and harness.application.bot_data.database
    database = harness.application.bot_data.database
    assert isinstance(database, PostgresDatabase)
    return database


async def test_a_participant_completes_the_consultation(harness: Harness) -> None:
    person = harness.person(4_000_000_001)
    await complete_quickly(person)
    assert "receive a summary" in person.last.text  # the offer after the last question
    rows = await fetch_all(database(harness), "SELECT r.completed_at IS NOT NULL, count(*) "
                           "FROM responses r JOIN answers a ON a.response_id = r.id "
                           "WHERE r.participant_id = ? GROUP BY 1", (4_000_000_001,))
    assert [tuple(row) for row in rows] == [(True, 6)]


async def test_a_reminder_round_is_delivered(harness: Harness, consultation: Survey) -> None:
    db = database(harness)
    started = harness.clock.now
    for user in (301, 302):
        harness.api.introduce(user)
        await add_response(db, consultation, user, PARTNER[:3],
                           started=started.replace(day=started.day - 5), minutes_per_answer=0.1)
    harness.api.introduce(ORGANIZER)
    assert harness.application is not None
    round_ = await start_round(harness.application, REMINDER, "test")
    assert round_.recipients == 2
    await drained(harness)
    assert set(sent_to(harness.api)) == {301, 302, ORGANIZER}
    rows = await fetch_all(db, "SELECT status, count(*) FROM outbox GROUP BY status")
    assert [tuple(row) for row in rows] == [("sent", 2)]


async def test_delete_erases_the_person_and_vacuums(harness: Harness) -> None:
    user = 7_123_456_789
    alice = harness.person(user)
    await alice.start()
    await alice.press("Other")
    await alice.send(SECRET_TEXT)
    await alice.send("/subscribe")
    db = database(harness)
    assert await fetch_all(db, "SELECT 1 FROM answers WHERE value = ?", (SECRET_TEXT,))
    await alice.send("/delete")
    await alice.press("Yes, delete everything")
    assert "delete this chat in Telegram" in alice.last.text
    for table, column in (("participants", "id"), ("responses", "participant_id"),
                          ("subscriptions", "chat_id"), ("outbox", "chat_id")):
        assert not await fetch_all(db, f"SELECT 1 FROM {table} WHERE {column} = ?", (user,))
    assert not await fetch_all(db, "SELECT 1 FROM answers")
    assert db.vacuuming is not None
    await db.vacuuming  # the erased rows' space is marked free (docs/reliability.md)
    rows = await fetch_all(db, "SELECT n_dead_tup FROM pg_stat_user_tables "
                               "WHERE relname = 'answers'")
    assert [row[0] for row in rows] == [0]


async def test_the_console_reads_figures_from_postgresql(harness: Harness) -> None:
    await complete_quickly(harness.person(4_000_000_002))
    assert harness.application is not None
    organizing = harness.application.bot_data.organizing
    assert organizing is not None
    overview = await organizing.overview()
    assert overview.counts.completed == 1


async def test_a_second_polling_process_on_the_database_is_refused(
    harness: Harness, api: StandIn, consultation: Survey
) -> None:
    second = build_application(harness.config, consultation)
    with pytest.raises(DatabaseInUse, match="already served"):
        async with running(second, poll_timeout=5):
            pass
    assert TOKEN


async def test_two_webhook_workers_share_the_database_and_a_poller_is_refused(
    api: StandIn, tmp_path: Path, consultation: Survey, pg_url: str
) -> None:
    first = Harness(api, tmp_path / "files" / "bot.sqlite3", consultation, webhook=True,
                    db_url=pg_url)
    second = Harness(api, tmp_path / "files" / "bot.sqlite3", consultation, webhook=True,
                     db_url=pg_url)
    await first.start()  # the leader: it alone registered its address, where updates go
    try:
        await second.start()  # beside the first: webhook workers share the serving lock
        assert sum(c.method == "setWebhook" for c in api.calls) == 1
        await second.stop()
        poller = build_application(first.config, consultation)
        with pytest.raises(DatabaseInUse, match="already served"):
            async with running(poller, poll_timeout=5):
                pass
        person = first.person(4_000_000_003)
        await person.start()
        assert await fetch_all(database(first), "SELECT 1 FROM participants WHERE id = ?",
                               (4_000_000_003,))
    finally:
        await first.stop()
        await second.stop()
