"""SQLite, the default engine: one file, one connection per process, WAL.

One aiosqlite connection per process, WAL journal, foreign keys on, ``synchronous=FULL``
(a committed answer survives a power cut, not only a ``kill -9``), ``secure_delete`` on
(erased rows are overwritten, not left in free pages; SQLite's own default is off).
A new database file is created readable by its owner only; SQLite gives its
``-wal`` and ``-shm`` files the same permissions.

The connection is shared by every participant's coroutine, so a lock keeps one
transaction open at a time and a write can never slip into somebody else's
transaction (``key`` needs nothing more: everything is serialized). Reads may
happen outside. A transaction's ``BEGIN IMMEDIATE`` travels to the database
thread with its first statement, and its ``COMMIT`` alone: two trips fewer than
one each.

Schema changes are the numbered files in ``storage/migrations/``; each is applied
in one explicit transaction together with its ``PRAGMA user_version`` bump.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar, cast

import aiosqlite

from storage.db import (
    MIGRATIONS,
    Database,
    DatabaseUnavailable,
    Dialect,
    MigrationError,
    Parameters,
    Row,
    Written,
)
from storage.db import (
    migrate as run_migrations,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")


class SqliteTransaction:
    """A transaction on the process's one connection (see :class:`storage.db.Connection`)."""

    dialect: Dialect = "sqlite"

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._connection = connection
        self._begun = False
        self._sent = False  # something went to the database thread
        self._pending: list[tuple[str, Parameters | list[Sequence[object]], bool]] = []

    async def _run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """``work`` on the database thread, after ``BEGIN IMMEDIATE`` the first time and the
        writes left for later: one trip. (aiosqlite runs every call this way; ``_execute``
        is how it queues one.)"""
        pending, self._pending = self._pending, []

        def step(raw: sqlite3.Connection) -> T:
            if not self._begun:
                raw.execute("BEGIN IMMEDIATE")
                self._begun = True
            for sql, parameters, many in pending:
                if many:
                    raw.executemany(sql, parameters)  # type: ignore[arg-type]
                else:
                    raw.execute(sql, parameters)
            return work(raw)

        connection = self._connection
        self._sent = True
        result = await connection._execute(step, connection._conn)  # type: ignore[no-untyped-call]  # noqa: SLF001
        return cast(T, result)

    async def execute(self, sql: str, parameters: Parameters = (), /) -> Written:
        return await self._run(lambda raw: raw.execute(sql, parameters))

    async def executemany(self, sql: str, parameters: Iterable[Sequence[object]], /) -> None:
        rows = list(parameters)
        await self._run(lambda raw: raw.executemany(sql, rows))

    async def execute_fetchall(self, sql: str, parameters: Parameters = (), /
                               ) -> Sequence[Row]:
        return await self._run(lambda raw: raw.execute(sql, parameters).fetchall())

    def later(self, sql: str, parameters: Parameters = (), /) -> None:
        self._pending.append((sql, parameters, False))

    def later_many(self, sql: str, parameters: Iterable[Sequence[object]], /) -> None:
        self._pending.append((sql, list(parameters), True))

    async def commit(self) -> None:
        if self._begun or self._pending:
            def commit(raw: sqlite3.Connection) -> None:
                raw.execute("COMMIT")
                self._begun = False
            await self._run(commit)

    async def rollback(self) -> None:
        """Undo what was sent. Decided on the database thread, after everything queued
        before it: a caller cancelled while its COMMIT (or its BEGIN) was on the way
        cannot know whether it ran, so SQLite is asked whether a transaction is open."""
        self._pending = []
        if not self._sent:
            return

        def rollback(raw: sqlite3.Connection) -> None:
            self._begun = False
            if raw.in_transaction:
                raw.execute("ROLLBACK")

        connection = self._connection
        await connection._execute(rollback, connection._conn)  # type: ignore[no-untyped-call]  # noqa: SLF001


class SqliteDatabase(Database):
    """The process's connection and the lock that serializes its transactions."""

    dialect: Dialect = "sqlite"

    def __init__(self, connection: aiosqlite.Connection, path: str | Path) -> None:
        self.connection = connection
        self.lock = asyncio.Lock()
        self.where = str(path)

    def transaction(self, key: int | None = None) -> AbstractAsyncContextManager[
            SqliteTransaction]:
        return self._transaction()

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[SqliteTransaction]:
        async with self.lock:
            tx = SqliteTransaction(self.connection)
            try:
                yield tx
                await tx.commit()  # a write left for later may fail here: rolled back too
            except BaseException:
                await tx.rollback()
                raise

    async def fetch_all(self, sql: str, params: Parameters = ()) -> list[Row]:
        return list(await self.connection.execute_fetchall(sql, params))

    async def write_one(self, sql: str, params: Sequence[object] = ()) -> int:
        async with self.lock:
            cursor = await self.connection.execute(sql, params)
            return cursor.rowcount

    async def schema_version(self) -> int:
        rows = await self.fetch_all("PRAGMA user_version")
        return int(rows[0][0]) if rows else 0

    async def lock_schema(self, tx: Any) -> int:
        return await self.schema_version()  # BEGIN IMMEDIATE: the only writer already

    async def run_script(self, tx: Any, script: str) -> None:
        for statement in split_statements(script):
            await tx.execute(statement)

    async def record_version(self, tx: Any, number: int) -> None:
        await tx.execute(f"PRAGMA user_version = {number:d}")

    async def erased(self) -> bool:
        """Copy the write-ahead log into the database file and empty it, so that erased
        rows do not linger in the ``-wal`` file."""
        async with self.lock:
            rows = await self.connection.execute_fetchall("PRAGMA wal_checkpoint(TRUNCATE)")
        busy = next(iter(rows), (0,))[0]
        return not busy

    async def close(self) -> None:
        await self.connection.close()


async def connect_sqlite(path: str | Path) -> SqliteDatabase:
    """Open the database file, configure it and bring its schema up to date."""
    in_memory = str(path) == ":memory:"
    if not in_memory:
        create_private(Path(path))
    try:
        connecting = aiosqlite.connect(str(path), isolation_level=None)
        # A connection someone forgot to close must not keep the process from exiting
        # (aiosqlite's thread is not a daemon): stopping mid-write is what kill -9 does,
        # and SQLite's journal makes that safe.
        connecting._thread.daemon = True  # noqa: SLF001
        connection = await connecting
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
        db = SqliteDatabase(connection, path)
        await migrate(db)
    except sqlite3.DatabaseError as exc:
        await connection.close()
        raise _unavailable(path, exc) from None
    except BaseException:
        await connection.close()
        raise
    return db


async def connect_sqlite_reader(path: str | Path) -> SqliteDatabase:
    """A second, read-only connection to a database :func:`connect_sqlite` has opened: long
    reads run on its own thread and, in WAL mode, never hold up the writer."""
    db = await connect_sqlite(path)
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


async def migrate(db: SqliteDatabase, folder: Path = MIGRATIONS) -> int:
    """Apply every migration newer than the database (see :func:`storage.db.migrate`)."""
    return await run_migrations(db, folder)


def split_statements(script: str) -> list[str]:
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
