"""Anonymous events: counted for the figures, tied to nobody."""

from __future__ import annotations

import datetime as dt

import aiosqlite

from storage.clock import timestamp


async def record_event(
    tx: aiosqlite.Connection, kind: str, language: str | None, now: dt.datetime
) -> None:
    """Count a declined consent or a deletion; the day is all that is kept of the time."""
    day = dt.datetime.combine(now.date(), dt.time(), tzinfo=dt.UTC)
    await tx.execute(
        "INSERT INTO events (kind, language, at) VALUES (?, ?, ?)",
        (kind, language, timestamp(day)),
    )
