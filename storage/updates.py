"""Telegram update ids already applied, so that an update delivered twice is applied once.

Telegram keeps an unconfirmed update for 24 hours, so an id older than that can
never come back: :data:`KEEP` (a little more, for clocks that differ) is how long
ids are remembered. They must not be kept much longer: after a week without
updates Telegram picks the next update id at random, and a remembered id could
then drop a new update as if it were a repeat.
"""

from __future__ import annotations

import datetime as dt

from storage.clock import timestamp
from storage.db import Connection, Database, transaction

KEEP = dt.timedelta(hours=26)


async def claim_update(tx: Connection, update_id: int, now: dt.datetime) -> bool:
    """Record the update inside the caller's transaction; False if it was applied before."""
    cursor = await tx.execute(
        "INSERT INTO processed_updates (update_id, processed_at) VALUES (?, ?) "
        "ON CONFLICT (update_id) DO NOTHING",
        (update_id, timestamp(now)),
    )
    return cursor.rowcount > 0


async def prune_updates(db: Database, before: dt.datetime) -> int:
    """Forget update ids older than ``before`` (Telegram keeps updates 24 hours at most)."""
    async with transaction(db) as tx:
        cursor = await tx.execute(
            "DELETE FROM processed_updates WHERE processed_at < ?", (timestamp(before),)
        )
        return cursor.rowcount
