"""Who receives summaries: participants who opted in, organizations' groups and channels."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from storage.clock import parse_timestamp, timestamp
from storage.db import Connection, Database, Row, Source, fetch_all, fetch_one


@dataclass(frozen=True, slots=True)
class Subscription:
    chat_id: int
    kind: str  # participant | group | channel
    participant_id: int | None  # the participant's row, when the subscriber took part
    language: str
    name: str | None
    created_at: dt.datetime
    unreachable_at: dt.datetime | None


def _row(row: Row) -> Subscription:
    return Subscription(
        chat_id=row["chat_id"], kind=row["kind"], participant_id=row["participant_id"],
        language=row["language"], name=row["name"],
        created_at=parse_timestamp(row["created_at"]) or dt.datetime.min,
        unreachable_at=parse_timestamp(row["unreachable_at"]),
    )


async def subscribe(
    tx: Connection, chat_id: int, *, kind: str, language: str, name: str | None,
    participant_id: int | None, now: dt.datetime,
) -> None:
    """Add the chat, or update its language and name (it becomes reachable again)."""
    await tx.execute(
        "INSERT INTO subscriptions (chat_id, kind, participant_id, language, name, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (chat_id) DO UPDATE SET language = "
        "excluded.language, name = coalesce(excluded.name, name), unreachable_at = NULL",
        (chat_id, kind, participant_id, language, name, timestamp(now)),
    )


async def unsubscribe(tx: Connection, chat_id: int) -> bool:
    cursor = await tx.execute("DELETE FROM subscriptions WHERE chat_id = ?", (chat_id,))
    return cursor.rowcount > 0


async def get_subscription(db: Source, chat_id: int) -> Subscription | None:
    row = await fetch_one(db, "SELECT * FROM subscriptions WHERE chat_id = ?", (chat_id,))
    return _row(row) if row else None


async def list_subscriptions(db: Database, *, reachable_only: bool = False) -> list[Subscription]:
    where = "WHERE unreachable_at IS NULL" if reachable_only else ""
    rows = await fetch_all(
        db,
        f"SELECT * FROM subscriptions {where} ORDER BY kind DESC, created_at, chat_id",
    )
    return [_row(row) for row in rows]


async def mark_unreachable(tx: Connection, chat_id: int, now: dt.datetime) -> None:
    await tx.execute("UPDATE subscriptions SET unreachable_at = ? WHERE chat_id = ?",
                     (timestamp(now), chat_id))


async def move_subscription(tx: Connection, old_chat_id: int, new_chat_id: int) -> None:
    """A group became a supergroup: follow its new id."""
    if old_chat_id == new_chat_id:
        return
    moving = await tx.execute_fetchall("SELECT 1 FROM subscriptions WHERE chat_id = ?",
                                       (old_chat_id,))
    if moving:  # the new id replaces any row it already had
        await tx.execute("DELETE FROM subscriptions WHERE chat_id = ?", (new_chat_id,))
    await tx.execute("UPDATE subscriptions SET chat_id = ?, kind = 'group' WHERE chat_id = ?",
                     (new_chat_id, old_chat_id))
