"""The rounds queries on their own: who a reminder round invites, and how the outbox is claimed."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from bot.survey.model import Survey
from storage.db import Database, fetch_all, transaction
from storage.rounds import (
    REMINDER,
    SUMMARY,
    OutboxRow,
    Recipient,
    claim_due,
    create_round,
    mark_done,
    mark_sent,
    next_wakeup,
    postpone,
    release_claims,
    reminder_targets,
)

from storage import participants
from tests.data import NO_PARTNER, PARTNER, add_response

NOW = dt.datetime(2026, 11, 28, 9, 0, tzinfo=dt.UTC)
INTERVAL = dt.timedelta(hours=72)
MOST = 2


async def targets(db: Database, survey: Survey, *, unconsented: bool = False,
                  now: dt.datetime = NOW) -> list[int]:
    found = await reminder_targets(db, survey.id, now, interval=INTERVAL, most=MOST,
                                   unconsented=unconsented)
    return [participant for participant, _ in found]


async def in_progress(db: Database, survey: Survey, user: int, *, language: str = "en",
                      quiet: dt.timedelta = dt.timedelta(days=5)) -> None:
    """Consented, answered three questions, then nothing for ``quiet``."""
    await add_response(db, survey, user, PARTNER[:3], language=language,
                       started=NOW - quiet - dt.timedelta(minutes=3))


async def reminded(db: Database, user: int, *ago: dt.timedelta) -> None:
    async with transaction(db) as tx:
        for delay in ago:
            await participants.note_reminder(tx, user, NOW - delay)


async def never_consented(db: Database, user: int) -> None:
    async with transaction(db) as tx:
        await participants.create_participant(tx, user, None, NOW - dt.timedelta(days=5))


async def queue(db: Database, kind: str, chats: list[int], *,
                participants_too: bool = False) -> list[int]:
    """A round to ``chats``; returns its outbox ids in order."""
    async with transaction(db) as tx:
        round_id = await create_round(
            tx, kind, "test",
            [Recipient(chat, "en", chat if participants_too else None) for chat in chats], NOW)
    rows = await fetch_all(
        db, "SELECT id FROM outbox WHERE round_id = ? ORDER BY id", (round_id,))
    return [row[0] for row in rows]


def ids(rows: list[OutboxRow]) -> list[int]:
    return [row.id for row in rows]


# --- reminder_targets -------------------------------------------------------------------


async def test_a_round_invites_those_who_stopped_half_way_with_their_language(
    db: Database, consultation: Survey
) -> None:
    await in_progress(db, consultation, 2, language="fr")
    await in_progress(db, consultation, 1)
    found = await reminder_targets(db, consultation.id, NOW, interval=INTERVAL, most=MOST,
                                   unconsented=False)
    assert found == [(1, "en"), (2, "fr")]


@pytest.mark.parametrize("situation", [
    "completed", "blocked", "reminders_off", "reminded_within_the_interval",
    "at_the_maximum", "active_within_the_interval", "started_another_survey",
    "never_consented",
])
async def test_a_round_leaves_out(db: Database, consultation: Survey, situation: str) -> None:
    await in_progress(db, consultation, 1)  # invited in every case: the query does run
    user = 2
    if situation == "completed":
        await add_response(db, consultation, user, NO_PARTNER,
                           started=NOW - dt.timedelta(days=5))
    elif situation == "active_within_the_interval":
        await in_progress(db, consultation, user, quiet=dt.timedelta(hours=1))
    elif situation == "started_another_survey":
        other = dataclasses.replace(consultation, id="another-consultation")
        await in_progress(db, other, user)
    elif situation == "never_consented":
        await never_consented(db, user)
    else:
        await in_progress(db, consultation, user)
    async with transaction(db) as tx:
        if situation == "blocked":
            await participants.mark_blocked(tx, user, NOW - dt.timedelta(days=1))
        elif situation == "reminders_off":
            await participants.set_reminders_off(tx, user, True)
    if situation == "reminded_within_the_interval":
        await reminded(db, user, dt.timedelta(days=1))
    elif situation == "at_the_maximum":
        await reminded(db, user, dt.timedelta(days=9), dt.timedelta(days=8))
    assert await targets(db, consultation) == [1]


async def test_a_second_reminder_comes_after_the_interval_and_not_past_the_maximum(
    db: Database, consultation: Survey
) -> None:
    await in_progress(db, consultation, 1, quiet=dt.timedelta(days=10))
    await reminded(db, 1, dt.timedelta(days=4))
    assert await targets(db, consultation) == [1]
    await reminded(db, 1, dt.timedelta(days=3, hours=1))
    assert await targets(db, consultation) == []


async def test_people_who_never_consented_are_invited_once_when_configured(
    db: Database, consultation: Survey
) -> None:
    await never_consented(db, 1)
    await in_progress(db, consultation, 2)
    assert await targets(db, consultation) == [2]
    assert await targets(db, consultation, unconsented=True) == [1, 2]
    await reminded(db, 1, dt.timedelta(days=30))
    assert await targets(db, consultation, unconsented=True) == [2]


async def test_a_reminder_waiting_in_another_round_is_not_doubled(
    db: Database, consultation: Survey
) -> None:
    for user in (1, 2, 3):
        await in_progress(db, consultation, user)
    outbox = await queue(db, REMINDER, [1, 2, 3], participants_too=True)
    await queue(db, SUMMARY, [3], participants_too=True)  # a summary does not count
    async with transaction(db) as tx:
        await mark_done(tx, outbox[1], "failed", "gave up")
        await mark_done(tx, outbox[2], "skipped", "no longer eligible")
    assert await targets(db, consultation) == [2, 3]  # 1's reminder is still waiting


# --- claim_due, release_claims, postpone -----------------------------------------------


async def test_claim_due_takes_the_oldest_first_up_to_the_limit(db: Database) -> None:
    outbox = await queue(db, SUMMARY, [-101, -102, -103, -104, -105])
    first = await claim_due(db, NOW, 2, "a")
    assert ids(first) == outbox[:2]
    assert [(row.chat_id, row.kind, row.status, row.attempts) for row in first] == [
        (-101, SUMMARY, "pending", 0), (-102, SUMMARY, "pending", 0)]
    assert ids(await claim_due(db, NOW, 10, "a")) == outbox[2:]
    assert await claim_due(db, NOW, 10, "a") == []  # its own claims are not given twice


async def test_only_pending_messages_are_due(db: Database) -> None:
    outbox = await queue(db, SUMMARY, [-101, -102, -103])
    await mark_sent(db, outbox[0], 77, NOW)
    async with transaction(db) as tx:
        await mark_done(tx, outbox[1], "unreachable", "Forbidden")
    assert ids(await claim_due(db, NOW, 10, "a")) == [outbox[2]]


async def test_claimed_messages_go_to_no_other_owner_until_released(db: Database) -> None:
    outbox = await queue(db, SUMMARY, [-101, -102, -103, -104])
    assert ids(await claim_due(db, NOW, 3, "a")) == outbox[:3]
    assert ids(await claim_due(db, NOW, 10, "b")) == outbox[3:]
    assert await claim_due(db, NOW, 10, "b") == []
    async with transaction(db) as tx:
        await release_claims(tx, row_id=outbox[1])
    assert ids(await claim_due(db, NOW, 10, "b")) == [outbox[1]]
    async with transaction(db) as tx:
        await release_claims(tx, owner="a")  # a's others: outbox[0] and outbox[2]
    assert ids(await claim_due(db, NOW, 10, "c")) == [outbox[0], outbox[2]]


async def test_releasing_every_claim_at_start_up_spares_finished_messages(
    db: Database,
) -> None:
    outbox = await queue(db, SUMMARY, [-101, -102, -103])
    await claim_due(db, NOW, 10, "gone")
    await mark_sent(db, outbox[0], 77, NOW)
    async with transaction(db) as tx:
        await mark_done(tx, outbox[1], "unreachable", "Forbidden")
        await release_claims(tx)
    assert ids(await claim_due(db, NOW, 10, "new")) == [outbox[2]]


async def test_a_postponed_message_is_due_again_at_its_time_claimed_by_nobody(
    db: Database,
) -> None:
    outbox = await queue(db, SUMMARY, [-101, -102, -103])
    await claim_due(db, NOW, 10, "a")
    later = NOW + dt.timedelta(seconds=8)
    async with transaction(db) as tx:
        await postpone(tx, outbox[0], later, "Bad Gateway")
        await postpone(tx, outbox[1], NOW + dt.timedelta(seconds=2), "429",
                       count_attempt=False)
    assert await next_wakeup(db) == NOW + dt.timedelta(seconds=2)
    assert await claim_due(db, NOW, 10, "b") == []  # not due yet; outbox[2] is a's
    due = await claim_due(db, NOW + dt.timedelta(seconds=2), 10, "b")
    assert [(row.id, row.attempts) for row in due] == [(outbox[1], 0)]
    due = await claim_due(db, later, 10, "b")
    assert [(row.id, row.attempts) for row in due] == [(outbox[0], 1)]
    async with transaction(db) as tx:
        await mark_done(tx, outbox[0], "failed", "gave up")
        await mark_done(tx, outbox[1], "failed", "gave up")
    assert await next_wakeup(db) is None  # only pending messages wake the worker
