"""Values the bot keeps for itself, such as the generated export secret."""

from __future__ import annotations

from storage.db import Database, fetch_one, transaction

PSEUDONYM_SECRET = "pseudonym_secret"  # the generated key of exported pseudonyms


async def get_setting(db: Database, key: str) -> str | None:
    row = await fetch_one(db, "SELECT value FROM settings WHERE key = ?", (key,))
    return str(row["value"]) if row else None


async def get_or_create_setting(db: Database, key: str, make: str) -> str:
    """The stored value, or ``make`` stored now if there was none."""
    async with transaction(db) as tx:
        await tx.execute(
            "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
            (key, make),
        )
    value = await get_setting(db, key)
    assert value is not None
    return value
