"""What the bot stored, read straight from its database file, as a test checks it.

Each call opens the file (never creating it: a wrong path fails instead of
reading an empty new database), runs one statement and closes the connection,
so no test keeps a read transaction open on a database the bot is still
writing. Reads are ``query_only``; :func:`write` is for a test that changes a
stored row behind the bot's back.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

Row = tuple[Any, ...]


def _open(path: Path | str) -> sqlite3.Connection:
    uri = f"{Path(path).resolve().as_uri()}?mode=rw"
    return sqlite3.connect(uri, uri=True, timeout=10)


def rows(path: Path | str, sql: str, *params: object) -> list[Row]:
    """Every row ``sql`` finds."""
    with closing(_open(path)) as connection:
        connection.execute("PRAGMA query_only = ON")
        return connection.execute(sql, params).fetchall()


def value(path: Path | str, sql: str, *params: object) -> Any:
    """The one value of a query that finds exactly one row of one column."""
    found = rows(path, sql, *params)
    assert len(found) == 1 and len(found[0]) == 1, f"{sql!r} found {found!r}"
    return found[0][0]


def count(path: Path | str, table: str) -> int:
    """How many rows ``table`` holds."""
    if not table.isidentifier():
        raise ValueError(f"not a table name: {table!r}")
    return int(value(path, f"SELECT count(*) FROM {table}"))


def write(path: Path | str, sql: str, *params: object) -> None:
    """Run one changing statement and commit it."""
    with closing(_open(path)) as connection, connection:
        connection.execute(sql, params)
