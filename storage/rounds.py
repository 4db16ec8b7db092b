"""Reminder rounds and summary broadcasts: who gets one, the outbox, the tallies.

A round is written whole before anything is sent: one outbox row per recipient.
The delivery worker then moves each row from ``pending`` to ``sent`` (the Bot
API confirmed it), ``unreachable`` (403, chat not found), ``failed`` (gave up
after retries) or ``skipped`` (no longer eligible when its turn came).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from storage.clock import parse_timestamp, timestamp
from storage.db import (
    Connection,
    Database,
    Row,
    fetch_all,
    fetch_one,
    insert,
    transaction,
    write_one,
)
from storage.dialect import claim_abandoned, int_list, not_in_list, skip_locked
from storage.participants import note_reminder

REMINDER = "reminder"
SUMMARY = "summary"


@dataclass(frozen=True, slots=True)
class Recipient:
    chat_id: int
    language: str
    participant_id: int | None = None


@dataclass(frozen=True, slots=True)
class OutboxRow:
    id: int
    round_id: int
    kind: str
    chat_id: int
    participant_id: int | None
    language: str
    status: str
    attempts: int


@dataclass(frozen=True, slots=True)
class Tally:
    round_id: int
    kind: str
    origin: str
    created_at: dt.datetime
    finished_at: dt.datetime | None
    sent: int
    unreachable: int
    failed: int
    skipped: int
    waiting: int

    @property
    def seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.created_at).total_seconds()


# Where each person stands for reminders: the first state that applies. Only ``due``
# people get one; the other states say why not (see :class:`ReminderOutlook`).
_REMINDER_STATE = (
    "CASE "
    "  WHEN p.status = 'consented' AND r.id IS NULL THEN 'not_started' "
    "  WHEN p.status = 'consented' AND r.completed_at IS NOT NULL THEN 'completed' "
    "  WHEN p.status = 'new' AND :unconsented = 0 THEN 'unconsented' "
    "  WHEN p.blocked_at IS NOT NULL THEN 'blocked' "
    "  WHEN p.reminders_off = 1 THEN 'stopped' "
    "  WHEN p.reminders_sent >= CASE WHEN p.status = 'new' THEN 1 ELSE :most END "
    "    THEN 'most' "
    "  WHEN EXISTS (SELECT 1 FROM outbox o JOIN rounds x ON x.id = o.round_id "
    "               WHERE o.participant_id = p.id AND o.status = 'pending' "
    "               AND x.kind = 'reminder') THEN 'queued' "
    "  WHEN p.last_seen_at >= :cutoff OR p.last_reminded_at >= :cutoff THEN 'quiet' "
    "  ELSE 'due' "
    "END"
)
_PEOPLE = (
    "FROM participants p "
    "LEFT JOIN responses r ON r.participant_id = p.id AND r.survey_id = :survey"
)


def _state_parameters(
    survey_id: str, now: dt.datetime, interval: dt.timedelta, most: int, unconsented: bool
) -> dict[str, object]:
    return {"survey": survey_id, "cutoff": timestamp(now - interval), "most": most,
            "unconsented": int(unconsented)}


async def reminder_targets(
    db: Database, survey_id: str, now: dt.datetime, *, interval: dt.timedelta,
    most: int, unconsented: bool,
) -> list[tuple[int, str | None]]:
    """(participant id, language) of everyone a reminder round may invite back.

    Participants who consented and started but did not complete, fewer than
    ``most`` reminders so far, none within ``interval``, quiet for ``interval``;
    with ``unconsented``, also people who opened the bot but never consented, once.
    Never: people who completed, blocked the bot, asked for no reminders or already
    have a reminder waiting in another round (people who declined or deleted their
    data have no row at all).
    """
    rows = await fetch_all(
        db,
        f"SELECT p.id, p.language {_PEOPLE} WHERE {_REMINDER_STATE} = 'due' ORDER BY p.id",
        _state_parameters(survey_id, now, interval, most, unconsented),
    )
    return [(row[0], row[1]) for row in rows]


@dataclass(frozen=True, slots=True)
class ReminderOutlook:
    """Where everyone stands for reminders now; each person is counted once, under the
    first of these that applies (in this order)."""

    not_started: int  # consented, no response to this survey
    completed: int
    unconsented: int  # opened the bot, never consented (reminding them is off)
    blocked: int  # blocked the bot
    stopped: int  # asked for no reminders
    most: int  # reminded the most times allowed already (unconsented people: once)
    queued: int  # a reminder of an earlier round still waits to be sent
    quiet: int  # active, or reminded, within the interval
    due: int
    next_due: dt.datetime | None  # when the first of the quiet ones falls due

    @property
    def unfinished(self) -> int:
        """People a reminder is about: started (or, if enabled, not consented) and not done."""
        return self.blocked + self.stopped + self.most + self.queued + self.quiet + self.due


async def reminder_outlook(
    db: Database, survey_id: str, now: dt.datetime, *, interval: dt.timedelta,
    most: int, unconsented: bool,
) -> ReminderOutlook:
    """Who a reminder round started now would reach, who not and why, and when the next
    person falls due (with the same rules as :func:`reminder_targets`)."""
    rows = await fetch_all(
        db,
        f"SELECT {_REMINDER_STATE} AS state, count(*), "
        "  min(CASE WHEN p.last_reminded_at > p.last_seen_at THEN p.last_reminded_at "
        "      ELSE p.last_seen_at END) "
        f"{_PEOPLE} GROUP BY state",
        _state_parameters(survey_id, now, interval, most, unconsented),
    )
    counts = {str(row[0]): int(row[1]) for row in rows}
    last = parse_timestamp(next((row[2] for row in rows if row[0] == "quiet"), None))
    next_due = last + interval if last is not None else None
    return ReminderOutlook(
        not_started=counts.get("not_started", 0), completed=counts.get("completed", 0),
        unconsented=counts.get("unconsented", 0), blocked=counts.get("blocked", 0),
        stopped=counts.get("stopped", 0), most=counts.get("most", 0),
        queued=counts.get("queued", 0), quiet=counts.get("quiet", 0),
        due=counts.get("due", 0), next_due=next_due)


async def create_round(
    tx: Connection, kind: str, origin: str, recipients: Iterable[Recipient],
    now: dt.datetime,
) -> int:
    round_id = await insert(
        tx, "INSERT INTO rounds (kind, origin, created_at) VALUES (?, ?, ?) RETURNING id",
        (kind, origin, timestamp(now)))
    await tx.executemany(
        "INSERT INTO outbox (round_id, chat_id, participant_id, language) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (round_id, chat_id) DO NOTHING",
        [(round_id, r.chat_id, r.participant_id, r.language) for r in recipients])
    return round_id


async def save_contents(
    tx: Connection, round_id: int, language: str, text: str, image: bytes | None
) -> None:
    await tx.execute(
        "INSERT INTO round_contents (round_id, language, text, image) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (round_id, language) DO UPDATE SET text = excluded.text, "
        "image = excluded.image, file_id = NULL", (round_id, language, text, image))


@dataclass(frozen=True, slots=True)
class Contents:
    text: str
    image: bytes | None
    file_id: str | None


async def get_contents(db: Database, round_id: int, language: str) -> Contents | None:
    row = await fetch_one(
        db,
        "SELECT text, image, file_id FROM round_contents WHERE round_id = ? AND language = ?",
        (round_id, language),
    )
    return Contents(row[0], row[1], row[2]) if row else None


def _outbox(row: Row) -> OutboxRow:
    return OutboxRow(id=row["id"], round_id=row["round_id"], kind=row["kind"],
                     chat_id=row["chat_id"], participant_id=row["participant_id"],
                     language=row["language"], status=row["status"], attempts=row["attempts"])


async def claim_due(
    db: Database, now: dt.datetime, limit: int, owner: str, *,
    exclude: Collection[int] = (),
) -> list[OutboxRow]:
    """Claim for ``owner`` the pending messages whose time has come, oldest first
    (leaving out the ids in ``exclude``).

    Finding and claiming is one statement, so no two senders ever take the
    same message (on PostgreSQL, rows another worker is claiming are skipped, not
    waited for); messages claimed by someone else are not due for anyone.
    """
    dialect = db.dialect
    await db.keep_claims(owner)
    async with transaction(db) as tx:
        claimed = await tx.execute_fetchall(
            "UPDATE outbox SET claimed_by = ? WHERE id IN ("
            "  SELECT id FROM outbox WHERE status = 'pending' AND claimed_by IS NULL "
            "  AND (not_before IS NULL OR not_before <= ?) "
            f"  AND {not_in_list(dialect, 'id')} ORDER BY id LIMIT ?{skip_locked(dialect)}) "
            "AND claimed_by IS NULL RETURNING id",
            (owner, timestamp(now), int_list(dialect, exclude), limit))
    ids = sorted(row[0] for row in claimed)
    if not ids:
        return []
    rows = await fetch_all(
        db,
        "SELECT o.*, r.kind FROM outbox o JOIN rounds r ON r.id = o.round_id "
        f"WHERE o.id IN ({','.join('?' * len(ids))}) ORDER BY o.id",
        ids,
    )
    return [_outbox(row) for row in rows]


async def release_claims(tx: Connection, *, owner: str | None = None,
                         row_id: int | None = None) -> None:
    """Let a message be taken again: one row, one owner's, or (no arguments, at start-up)
    every pending message whose owner is gone (on SQLite every one: no other sender can
    be running; on PostgreSQL other workers may be, and keep theirs)."""
    if row_id is not None:
        await tx.execute("UPDATE outbox SET claimed_by = NULL WHERE id = ?", (row_id,))
    elif owner is not None:
        await tx.execute("UPDATE outbox SET claimed_by = NULL WHERE claimed_by = ? "
                         "AND status = 'pending'", (owner,))
    else:
        await tx.execute("UPDATE outbox SET claimed_by = NULL WHERE status = 'pending' "
                         "AND claimed_by IS NOT NULL "
                         f"AND {claim_abandoned(tx.dialect, 'claimed_by')}")


async def next_wakeup(db: Database) -> dt.datetime | None:
    """When the earliest postponed message falls due."""
    row = await fetch_one(
        db,
        "SELECT min(not_before) FROM outbox WHERE status = 'pending' AND not_before IS NOT NULL",
    )
    return parse_timestamp(row[0]) if row and row[0] else None


async def mark_sent(
    db: Database, row_id: int, telegram_message_id: int, now: dt.datetime,
    *, reminded: int | None = None,
) -> None:
    """A message the Bot API confirmed, committed at once (with, for a reminder, the
    participant's count of reminders) so that it is never sent again."""
    sql = ("UPDATE outbox SET status = 'sent', sent_at = ?, message_id = ?, error = NULL "
           "WHERE id = ?")
    params = (timestamp(now), telegram_message_id, row_id)
    if reminded is None:
        await write_one(db, sql, params)
        return
    async with transaction(db, reminded) as tx:  # in turn with the person's own updates
        await tx.execute(sql, params)
        await note_reminder(tx, reminded, now)


async def mark_done(tx: Connection, row_id: int, status: str, error: str) -> None:
    """A final state other than sent: unreachable, failed or skipped."""
    await tx.execute("UPDATE outbox SET status = ?, error = ? WHERE id = ?",
                     (status, error[:200], row_id))


async def postpone(
    tx: Connection, row_id: int, not_before: dt.datetime, error: str,
    *, count_attempt: bool = True,
) -> None:
    await tx.execute(
        "UPDATE outbox SET not_before = ?, error = ?, attempts = attempts + ?, claimed_by = NULL "
        "WHERE id = ?",
        (timestamp(not_before), error[:200], int(count_attempt), row_id))


async def move_chat(tx: Connection, row_id: int, new_chat_id: int) -> None:
    await tx.execute("UPDATE outbox SET chat_id = ?, claimed_by = NULL WHERE id = ?",
                     (new_chat_id, row_id))


async def save_file_id(
    tx: Connection, round_id: int, language: str, file_id: str
) -> None:
    await tx.execute(
        "UPDATE round_contents SET file_id = ? WHERE round_id = ? AND language = ?",
        (file_id, round_id, language))


async def finish_rounds(tx: Connection, now: dt.datetime) -> list[int]:
    """Close the rounds with nothing left to send; returns their ids."""
    rows = await fetch_all(
        tx,
        "SELECT r.id FROM rounds r WHERE r.finished_at IS NULL AND NOT EXISTS ("
        "SELECT 1 FROM outbox o WHERE o.round_id = r.id AND o.status = 'pending')",
    )
    finished = [row[0] for row in rows]
    await tx.executemany("UPDATE rounds SET finished_at = ? WHERE id = ?",
                         [(timestamp(now), round_id) for round_id in finished])
    return finished


async def unreported_rounds(db: Database) -> list[Tally]:
    rows = await fetch_all(
        db,
        "SELECT id FROM rounds WHERE finished_at IS NOT NULL AND reported_at IS NULL ORDER BY id",
    )
    ids = [row[0] for row in rows]
    return [tally for round_id in ids if (tally := await get_tally(db, round_id)) is not None]


async def mark_reported(tx: Connection, round_id: int, now: dt.datetime) -> None:
    await tx.execute("UPDATE rounds SET reported_at = ? WHERE id = ?",
                     (timestamp(now), round_id))


async def get_tally(db: Database, round_id: int) -> Tally | None:
    row = await fetch_one(
        db,
        "SELECT r.*, "
        "  (SELECT count(*) FROM outbox WHERE round_id = r.id AND status = 'sent') AS sent, "
        "  (SELECT count(*) FROM outbox WHERE round_id = r.id AND status = 'unreachable') "
        "    AS unreachable, "
        "  (SELECT count(*) FROM outbox WHERE round_id = r.id AND status = 'failed') AS failed, "
        "  (SELECT count(*) FROM outbox WHERE round_id = r.id AND status = 'skipped') "
        "    AS skipped, "
        "  (SELECT count(*) FROM outbox WHERE round_id = r.id AND status = 'pending') "
        "    AS waiting "
        "FROM rounds r WHERE r.id = ?",
        (round_id,),
    )
    if row is None:
        return None
    return Tally(
        round_id=row["id"], kind=row["kind"], origin=row["origin"],
        created_at=parse_timestamp(row["created_at"]) or dt.datetime.min,
        finished_at=parse_timestamp(row["finished_at"]), sent=row["sent"],
        unreachable=row["unreachable"], failed=row["failed"], skipped=row["skipped"],
        waiting=row["waiting"],
    )


async def list_tallies(db: Database, limit: int = 50) -> list[Tally]:
    """The latest rounds, newest first, each with its delivery report."""
    rows = await fetch_all(
        db,
        "SELECT r.id, r.kind, r.origin, r.created_at, r.finished_at, "
        "  count(CASE WHEN o.status = 'sent' THEN 1 END), "
        "  count(CASE WHEN o.status = 'unreachable' THEN 1 END), "
        "  count(CASE WHEN o.status = 'failed' THEN 1 END), "
        "  count(CASE WHEN o.status = 'skipped' THEN 1 END), "
        "  count(CASE WHEN o.status = 'pending' THEN 1 END) "
        "FROM rounds r LEFT JOIN outbox o ON o.round_id = r.id "
        "GROUP BY r.id ORDER BY r.id DESC LIMIT ?", (limit,))
    return [Tally(round_id=row[0], kind=row[1], origin=row[2],
                  created_at=parse_timestamp(row[3]) or dt.datetime.min,
                  finished_at=parse_timestamp(row[4]), sent=row[5], unreachable=row[6],
                  failed=row[7], skipped=row[8], waiting=row[9]) for row in rows]
