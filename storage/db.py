"""The one SQLite connection of the process, its migrations and its transactions.

One aiosqlite connection per process, WAL journal, foreign keys on, ``synchronous=FULL``
(a committed answer survives a power cut, not only a ``kill -9``), ``secure_delete`` on
(erased rows are overwritten, not left in free pages; SQLite's own default is off).
A new database file is created readable by its owner only; SQLite gives its
``-wal`` and ``-shm`` files the same permissions.

All writes go through :func:`transaction`: the connection is shared by every
participant's coroutine, so a lock keeps one transaction open at a time and a
write can never slip into somebody else's transaction. Reads may happen outside.

Schema changes are the numbered files in ``storage/migrations/``; each is applied
in one explicit transaction together with its ``PRAGMA user_version`` bump.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import sqlite3
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import aiosqlite

logger = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


class StorageError(Exception):
    """Base class of the storage layer's own errors."""


class MigrationError(StorageError):
    """The migrations folder or the database's schema version is inconsistent."""


class DatabaseUnavailable(StorageError):
    """The database file cannot be opened or written; the message says what to check."""


@dataclass(eq=False)
class Database:
    """The process's connection and the lock that serializes its transactions."""

    connection: aiosqlite.Connection
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def close(self) -> None:
        await self.connection.close()


def migration_files(folder: Path = MIGRATIONS) -> list[tuple[int, Path]]:
    """The migration files in order; raises if numbering has a gap or a duplicate."""
    found: list[tuple[int, Path]] = []
    for path in sorted(folder.glob("*.sql")):
        match = _MIGRATION_NAME.match(path.name)
        if not match:
            raise MigrationError(f"{path}: migration files are named NNNN_description.sql")
        found.append((int(match.group(1)), path))
    for expected, (number, path) in enumerate(found, start=1):
        if number != expected:
            raise MigrationError(f"{path}: expected migration number {expected:04d}")
    return found


async def connect(path: str | Path) -> Database:
    """Open the database file, configure it and bring its schema up to date."""
    in_memory = str(path) == ":memory:"
    if not in_memory:
        create_private(Path(path))
    try:
        connection = await aiosqlite.connect(str(path), isolation_level=None)
    except sqlite3.Error as exc:
        raise _unavailable(path, exc) from None
    connection.row_factory = sqlite3.Row
    try:
        if not in_memory:
            await connection.execute("PRAGMA journal_mode=WAL")
        await connection.execute("PRAGMA synchronous=FULL")
        await connection.execute("PRAGMA foreign_keys=ON")
        await connection.execute("PRAGMA secure_delete=ON")
        await connection.execute("PRAGMA busy_timeout=5000")
        db = Database(connection)
        await migrate(db)
    except sqlite3.DatabaseError as exc:
        await connection.close()
        raise _unavailable(path, exc) from None
    except BaseException:
        await connection.close()
        raise
    return db


async def connect_reader(path: str | Path) -> Database:
    """A second, read-only connection to a database :func:`connect` has opened: long reads
    (the web console's figures) run on its own thread and, in WAL mode, never hold up
    the writer."""
    db = await connect(path)
    await db.connection.execute("PRAGMA query_only = ON")
    return db


def create_private(path: Path) -> None:
    """Create the database file, readable and writable by its owner only, if it is new."""
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        pass
    except OSError as exc:
        raise DatabaseUnavailable(f"cannot open database {path}: {exc.strerror} (does its "
                                  "folder exist, and may this user write there?)") from None


def _unavailable(path: str | Path, exc: sqlite3.Error) -> DatabaseUnavailable:
    hint = ("check that this user may write the file and its folder (SQLite writes "
            "-wal and -shm files beside it)" if "readonly" in str(exc) or "unable to open"
            in str(exc) else "is it a consultbot database?")
    return DatabaseUnavailable(f"{path}: cannot use the database: {exc}; {hint}")


async def checkpoint(db: Database) -> bool:
    """Copy the write-ahead log into the database file and empty it (after an erasure, so
    erased rows do not linger in the ``-wal`` file); False if a reader kept it busy."""
    async with db.lock:
        rows = await db.connection.execute_fetchall("PRAGMA wal_checkpoint(TRUNCATE)")
    busy = next(iter(rows), (0,))[0]
    return not busy


async def schema_version(db: Database) -> int:
    row = await fetch_one(db, "PRAGMA user_version")
    return int(row[0]) if row else 0


async def migrate(db: Database, folder: Path = MIGRATIONS) -> int:
    """Apply every migration newer than the database; returns the resulting version."""
    files = migration_files(folder)
    current = await schema_version(db)
    if current > len(files):
        raise MigrationError(
            f"database schema version {current} is newer than this program "
            f"(knows {len(files)}): upgrade consultbot"
        )
    for number, path in files[current:]:
        statements = path.read_text(encoding="utf-8")
        async with transaction(db):
            for statement in _split_statements(statements):
                await db.connection.execute(statement)
            await db.connection.execute(f"PRAGMA user_version = {number:d}")
        logger.info("applied migration %s", path.name)
    return len(files)


def _split_statements(script: str) -> list[str]:
    """Split a migration into statements (``executescript`` would commit on its own)."""
    statements: list[str] = []
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            if pending.strip():
                statements.append(pending.strip())
            pending = ""
    if pending.strip() and not pending.strip().startswith("--"):
        raise MigrationError(f"incomplete SQL statement at the end: {pending.strip()[:60]!r}")
    return statements


Source = Database | aiosqlite.Connection  # reads work on the database or inside a transaction
Parameters = Sequence[object] | Mapping[str, object]  # ``?`` values, or ``:name`` values


async def fetch_all(source: Source, sql: str, params: Parameters = ()) -> list[sqlite3.Row]:
    """Every row of a query, read in one trip to the database thread."""
    connection = source.connection if isinstance(source, Database) else source
    return list(await connection.execute_fetchall(sql, params))


async def fetch_one(source: Source, sql: str, params: Parameters = ()) -> sqlite3.Row | None:
    rows = await fetch_all(source, sql, params)
    return rows[0] if rows else None


async def write_one(db: Database, sql: str, params: Sequence[object] = ()) -> int:
    """A single-statement write, committed on its own (one trip); returns the rows changed."""
    async with db.lock:
        cursor = await db.connection.execute(sql, params)
        return cursor.rowcount


@asynccontextmanager
async def transaction(db: Database) -> AsyncIterator[aiosqlite.Connection]:
    """Run the block in one ``BEGIN IMMEDIATE … COMMIT``; roll back on any exception."""
    async with db.lock:
        await db.connection.execute("BEGIN IMMEDIATE")
        try:
            yield db.connection
        except BaseException:
            await db.connection.execute("ROLLBACK")
            raise
        else:
            await db.connection.execute("COMMIT")
