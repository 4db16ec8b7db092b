"""Scheduled rounds: once at a date and time, or repeatedly on a cron expression."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from storage.clock import parse_timestamp, timestamp
from storage.db import Connection, Database, Row, fetch_all, fetch_one, insert


@dataclass(frozen=True, slots=True)
class Schedule:
    id: int
    kind: str  # reminder | summary
    cron: str | None
    run_at: dt.datetime | None
    paused: bool
    created_at: dt.datetime
    last_run_at: dt.datetime | None


def _row(row: Row) -> Schedule:
    return Schedule(
        id=row["id"], kind=row["kind"], cron=row["cron"],
        run_at=parse_timestamp(row["run_at"]), paused=bool(row["paused"]),
        created_at=parse_timestamp(row["created_at"]) or dt.datetime.min,
        last_run_at=parse_timestamp(row["last_run_at"]),
    )


async def add_schedule(
    tx: Connection, kind: str, *, cron: str | None, run_at: dt.datetime | None,
    now: dt.datetime,
) -> int:
    return await insert(
        tx, "INSERT INTO schedules (kind, cron, run_at, created_at) VALUES (?, ?, ?, ?) "
        "RETURNING id", (kind, cron, timestamp(run_at) if run_at else None, timestamp(now)))


async def list_schedules(db: Database) -> list[Schedule]:
    rows = await fetch_all(db, "SELECT * FROM schedules ORDER BY id")
    return [_row(row) for row in rows]


async def get_schedule(db: Database, schedule_id: int) -> Schedule | None:
    row = await fetch_one(db, "SELECT * FROM schedules WHERE id = ?", (schedule_id,))
    return _row(row) if row else None


async def remove_schedule(tx: Connection, schedule_id: int) -> bool:
    cursor = await tx.execute("DELETE FROM schedules WHERE id = ?", (schedule_id,))
    return cursor.rowcount > 0


async def set_paused(tx: Connection, schedule_id: int, paused: bool) -> bool:
    cursor = await tx.execute("UPDATE schedules SET paused = ? WHERE id = ?",
                              (int(paused), schedule_id))
    return cursor.rowcount > 0


async def note_run(tx: Connection, schedule_id: int, when: dt.datetime) -> None:
    await tx.execute("UPDATE schedules SET last_run_at = ? WHERE id = ?",
                     (timestamp(when), schedule_id))
