"""The web console's sign-in links and sessions: only hashes of their tokens are stored.

A link is used once, before it expires; a session ends when it is signed out of,
or after a time without requests. The token itself lives only in the link (or
the cookie) the organizer holds.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from storage.clock import parse_timestamp, timestamp
from storage.db import Connection, Source, fetch_one


@dataclass(frozen=True, slots=True)
class ConsoleSession:
    user_id: int
    language: str | None
    created_at: dt.datetime
    last_seen_at: dt.datetime


async def add_link(tx: Connection, token_hash: str, user_id: int, now: dt.datetime,
                   expires_at: dt.datetime) -> None:
    await tx.execute(
        "INSERT INTO console_links (token_hash, user_id, created_at, expires_at) "
        "VALUES (?, ?, ?, ?)", (token_hash, user_id, timestamp(now), timestamp(expires_at)))


@dataclass(frozen=True, slots=True)
class ConsoleLink:
    user_id: int
    expires_at: dt.datetime
    used_at: dt.datetime | None


async def get_link(source: Source, token_hash: str) -> ConsoleLink | None:
    row = await fetch_one(
        source, "SELECT user_id, expires_at, used_at FROM console_links WHERE token_hash = ?",
        (token_hash,))
    if row is None:
        return None
    expires = parse_timestamp(row[1])
    assert expires is not None
    return ConsoleLink(int(row[0]), expires, parse_timestamp(row[2]))


async def use_link(tx: Connection, token_hash: str, now: dt.datetime) -> bool:
    """Mark the link used; False if it was used already (by a request just before)."""
    cursor = await tx.execute(
        "UPDATE console_links SET used_at = ? WHERE token_hash = ? AND used_at IS NULL",
        (timestamp(now), token_hash))
    return cursor.rowcount > 0


async def add_session(tx: Connection, token_hash: str, user_id: int,
                      language: str | None, now: dt.datetime) -> None:
    await tx.execute(
        "INSERT INTO console_sessions (token_hash, user_id, language, created_at, last_seen_at) "
        "VALUES (?, ?, ?, ?, ?)", (token_hash, user_id, language, timestamp(now), timestamp(now)))


async def get_session(source: Source, token_hash: str) -> ConsoleSession | None:
    row = await fetch_one(
        source, "SELECT user_id, language, created_at, last_seen_at FROM console_sessions "
                "WHERE token_hash = ?", (token_hash,))
    if row is None:
        return None
    created, seen = parse_timestamp(row[2]), parse_timestamp(row[3])
    assert created is not None and seen is not None
    return ConsoleSession(int(row[0]), row[1], created, seen)


async def touch_session(tx: Connection, token_hash: str, now: dt.datetime) -> None:
    await tx.execute("UPDATE console_sessions SET last_seen_at = ? WHERE token_hash = ?",
                     (timestamp(now), token_hash))


async def set_session_language(tx: Connection, token_hash: str, language: str) -> None:
    await tx.execute("UPDATE console_sessions SET language = ? WHERE token_hash = ?",
                     (language, token_hash))


async def end_session(tx: Connection, token_hash: str) -> None:
    await tx.execute("DELETE FROM console_sessions WHERE token_hash = ?", (token_hash,))


async def forget_expired(tx: Connection, idle_since: dt.datetime,
                         now: dt.datetime) -> None:
    """Sessions idle since before ``idle_since`` and links past their time, gone."""
    await tx.execute("DELETE FROM console_sessions WHERE last_seen_at < ?",
                     (timestamp(idle_since),))
    await tx.execute("DELETE FROM console_links WHERE expires_at < ?",
                     (timestamp(now - dt.timedelta(days=1)),))
