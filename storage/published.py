"""Survey files published from the web console; the newest one is the survey the bot runs."""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from storage.clock import parse_timestamp, timestamp
from storage.db import Connection, DatabaseUnavailable, Source, fetch_one, insert, is_url


@dataclass(frozen=True, slots=True)
class Published:
    id: int
    survey_id: str
    version: str
    fingerprint: str
    filename: str
    content: bytes
    published_at: dt.datetime
    published_by: str  # the organizer's log pseudonym


async def add_published(
    tx: Connection, *, survey_id: str, version: str, fingerprint: str, filename: str,
    content: bytes, now: dt.datetime, by: str,
) -> int:
    return await insert(
        tx, "INSERT INTO published_surveys (survey_id, version, fingerprint, filename, "
        "content, published_at, published_by) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (survey_id, version, fingerprint, filename, content, timestamp(now), by))


_LATEST = ("SELECT id, survey_id, version, fingerprint, filename, content, published_at, "
           "published_by FROM published_surveys ORDER BY id DESC LIMIT 1")


def _row(row: Any) -> Published:
    published = parse_timestamp(str(row[6]))
    assert published is not None
    return Published(int(row[0]), str(row[1]), str(row[2]), str(row[3]), str(row[4]),
                     bytes(row[5]), published, str(row[7]))


async def latest_published(source: Source) -> Published | None:
    row = await fetch_one(source, _LATEST)
    return _row(row) if row else None


async def latest_fingerprint(source: Source) -> str | None:
    """The newest published survey's fingerprint (without reading the file)."""
    row = await fetch_one(source, "SELECT fingerprint FROM published_surveys "
                                  "ORDER BY id DESC LIMIT 1")
    return str(row[0]) if row else None


def read_latest_published(path: Path | str) -> Published | None:
    """The same, read-only and synchronously (the command line, before any event loop);
    None when the database or its table does not exist yet."""
    if is_url(path):
        return _read_latest_postgres(str(path))
    path = Path(path)
    if not path.exists():
        return None
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error:
        return None
    try:
        row = connection.execute(_LATEST).fetchone()
    except sqlite3.DatabaseError:  # from before the console, or no database: said later
        return None
    finally:
        connection.close()
    return _row(row) if row else None


def _read_latest_postgres(url: str) -> Published | None:
    import asyncpg

    from storage.exports import open_reader

    try:
        reader = open_reader(url)
    except DatabaseUnavailable:
        return None  # said precisely when the command opens the database
    try:
        row = reader.one(_LATEST)
    except asyncpg.UndefinedTableError:  # a database the bot has not set up yet
        return None
    finally:
        reader.close()
    return _row(row) if row else None
