"""Anonymous events: counted for the figures, tied to nobody."""

from __future__ import annotations

import datetime as dt

from storage.clock import timestamp
from storage.db import Connection


async def record_event(
    tx: Connection, kind: str, language: str | None, now: dt.datetime
) -> None:
    """Count a declined consent or a deletion; the day is all that is kept of the time."""
    day = dt.datetime.combine(now.date(), dt.time(), tzinfo=dt.UTC)
    tx.later(
        "INSERT INTO events (kind, language, at) VALUES (?, ?, ?)",
        (kind, language, timestamp(day)),
    )
