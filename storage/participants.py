"""People who opened the bot in a private chat."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from storage.clock import parse_timestamp, timestamp
from storage.db import Connection, Row, Source, fetch_all, fetch_one


@dataclass(frozen=True, slots=True)
class Participant:
    id: int
    language: str | None
    status: str
    source: str | None
    created_at: dt.datetime
    consented_at: dt.datetime | None
    last_seen_at: dt.datetime
    blocked_at: dt.datetime | None
    reminders_off: bool
    reminders_sent: int = 0
    last_reminded_at: dt.datetime | None = None

    @property
    def consented(self) -> bool:
        return self.status == "consented"


def _row(row: Row) -> Participant:
    return Participant(
        id=row["id"],
        language=row["language"],
        status=row["status"],
        source=row["source"],
        created_at=parse_timestamp(row["created_at"]) or dt.datetime.min,
        consented_at=parse_timestamp(row["consented_at"]),
        last_seen_at=parse_timestamp(row["last_seen_at"]) or dt.datetime.min,
        blocked_at=parse_timestamp(row["blocked_at"]),
        reminders_off=bool(row["reminders_off"]),
        reminders_sent=row["reminders_sent"],
        last_reminded_at=parse_timestamp(row["last_reminded_at"]),
    )


async def get_participant(db: Source, participant_id: int) -> Participant | None:
    row = await fetch_one(db, "SELECT * FROM participants WHERE id = ?", (participant_id,))
    return _row(row) if row else None


async def create_participant(
    tx: Connection, participant_id: int, source: str | None, now: dt.datetime
) -> None:
    """A new person, before any consent: only the deep-link source is kept."""
    tx.later(
        "INSERT INTO participants (id, source, created_at, last_seen_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (id) DO NOTHING",
        (participant_id, source, timestamp(now), timestamp(now)),
    )


async def set_language(
    tx: Connection, participant_id: int, language: str, now: dt.datetime
) -> None:
    tx.later(
        "UPDATE participants SET language = ?, last_seen_at = ? WHERE id = ?",
        (language, timestamp(now), participant_id),
    )


async def save_consent(tx: Connection, participant_id: int, now: dt.datetime) -> None:
    tx.later(
        "UPDATE participants SET status = 'consented', consented_at = ?, last_seen_at = ? "
        "WHERE id = ?",
        (timestamp(now), timestamp(now), participant_id),
    )


async def delete_participant(tx: Connection, participant_id: int) -> list[str]:
    """Erase every row keyed by the person: their participant row and so, by cascade,
    every response and answer; their subscription to summaries; every message to
    them in the outbox, sent or not. Returns the stored files their answers named
    (for the caller to remove once this is committed); raises :class:`NothingStored`
    if there was nothing at all."""
    files = await fetch_all(
        tx, "SELECT a.value FROM answers a JOIN responses r ON r.id = a.response_id "
            "WHERE r.participant_id = ? AND a.value LIKE 'media/%'", (participant_id,))
    person = await tx.execute("DELETE FROM participants WHERE id = ?", (participant_id,))
    subscription = await tx.execute(
        "DELETE FROM subscriptions WHERE chat_id = ? AND kind = 'participant'", (participant_id,))
    await tx.execute("DELETE FROM outbox WHERE chat_id = ? OR participant_id = ?",
                     (participant_id, participant_id))
    if person.rowcount == 0 and subscription.rowcount == 0:
        raise NothingStored()
    return [row[0] for row in files]


class NothingStored(Exception):
    """There was nothing about this person to erase."""


async def mark_blocked(tx: Connection, participant_id: int, now: dt.datetime) -> None:
    """The person blocked the bot (a 403): no more rounds until they write again."""
    tx.later("UPDATE participants SET blocked_at = ? WHERE id = ?",
                     (timestamp(now), participant_id))


async def set_reminders_off(tx: Connection, participant_id: int, off: bool) -> None:
    tx.later("UPDATE participants SET reminders_off = ? WHERE id = ?",
                     (int(off), participant_id))


async def note_reminder(tx: Connection, participant_id: int, now: dt.datetime) -> None:
    tx.later(
        "UPDATE participants SET reminders_sent = reminders_sent + 1, last_reminded_at = ? "
        "WHERE id = ?", (timestamp(now), participant_id))
