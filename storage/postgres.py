"""PostgreSQL, for a fleet of workers: an asyncpg connection pool behind :class:`Database`.

Statements arrive written SQLite's way and are translated once each
(:func:`storage.dialect.to_postgres`). A transaction takes a pooled connection
for its length; ``transaction(key=chat_id)`` begins with
``pg_advisory_xact_lock(chat_id)``, so one chat's updates never interleave,
whichever worker (or coroutine) runs them; the lock ends with the transaction.
That is what SQLite's single writer gives for free, and all the code relies on:
different chats run side by side.

Other locks are advisory locks of two 32-bit keys (a space apart from the
chats' 64-bit keys), session locks held on one connection of their own, kept
open for as long as the process serves:

* :data:`MIGRATING` while the schema changes (workers that start together
  migrate once);
* :data:`SERVING`, taken exclusively by a long-polling process
  (:meth:`PostgresDatabase.serve_alone`: a second one is refused, as
  ``storage.lock`` refuses it on SQLite) and shared by webhook workers
  (:meth:`PostgresDatabase.serve_alongside`: any number of them, never beside a
  poller);
* :data:`LEADING`, the fleet's leader (:meth:`PostgresDatabase.lead`,
  :mod:`bot.leadership`): the one process that runs the schedules and sends the
  outbox. The others ask again every few seconds; the session of a leader that
  dies, ``kill -9`` included, ends with its connection, and the lock with it;
* ``(CLAIMS, hashtext(owner))`` while an outbox sender lives
  (:meth:`PostgresDatabase.keep_claims`): a new leader takes back only the
  claims of senders that are gone.

Schema changes are the numbered files in ``storage/migrations/postgresql/``,
numbered as SQLite's; the version is kept in the table ``schema_version``.
Messages name the server and database, never the password.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

import asyncpg

from storage.db import (
    MIGRATIONS,
    Database,
    DatabaseUnavailable,
    Dialect,
    Parameters,
    Row,
    StorageError,
    Written,
)
from storage.dialect import CLAIMS_KEY, arguments, to_postgres

logger = logging.getLogger(__name__)

PG_MIGRATIONS = MIGRATIONS / "postgresql"
_KEYS = 0x636F6E73  # 'cons': the first key of consultbot's own two-key advisory locks
MIGRATING = (_KEYS, 1)
SERVING = (_KEYS, 2)
LEADING = (_KEYS, 3)  # held by the leader: it runs the schedules and sends the outbox
CLAIMS = CLAIMS_KEY  # (CLAIMS, hashtext(owner)): held while an outbox sender lives
POOL_SIZE = 10
ERASED_TABLES = "participants, responses, answers, subscriptions, outbox"  # what /delete empties
_ROWS = re.compile(r"(\d+)$")


class DatabaseInUse(StorageError):
    """Another process serves this database by long polling (or, to a polling process,
    webhook workers do)."""


def describe(url: str) -> str:
    """``postgresql://host:port/name`` without user or password, for messages."""
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ":?"
    return f"postgresql://{host}{port}{parts.path or '/'}"


class _Status:
    """What a write says back (asyncpg gives a status such as ``UPDATE 3``)."""

    __slots__ = ("rowcount",)

    def __init__(self, status: str) -> None:
        found = _ROWS.search(status or "")
        self.rowcount = int(found.group(1)) if found else -1


class PostgresTransaction:
    """A transaction on one pooled connection (see :class:`storage.db.Connection`)."""

    dialect: Dialect = "postgresql"

    def __init__(self, connection: asyncpg.Connection) -> None:
        self._connection = connection
        self._pending: list[tuple[str, Parameters | list[Sequence[object]], bool]] = []

    async def _flush(self) -> None:
        pending, self._pending = self._pending, []
        for sql, parameters, many in pending:
            if many:
                await self.executemany(sql, cast(list[Sequence[object]], parameters))
            else:
                await self.execute(sql, parameters)

    async def execute(self, sql: str, parameters: Parameters = (), /) -> Written:
        if self._pending:
            await self._flush()
        text, names = to_postgres(sql)
        return _Status(await self._connection.execute(text, *arguments(names, parameters)))

    async def executemany(self, sql: str, parameters: Iterable[Sequence[object]], /) -> None:
        if self._pending:
            await self._flush()
        rows = list(parameters)
        if rows:
            await self._connection.executemany(to_postgres(sql)[0], rows)

    async def execute_fetchall(self, sql: str, parameters: Parameters = (), /
                               ) -> Sequence[Row]:
        if self._pending:
            await self._flush()
        text, names = to_postgres(sql)
        return cast(Sequence[Row], await self._connection.fetch(
            text, *arguments(names, parameters)))

    def later(self, sql: str, parameters: Parameters = (), /) -> None:
        self._pending.append((sql, parameters, False))

    def later_many(self, sql: str, parameters: Iterable[Sequence[object]], /) -> None:
        self._pending.append((sql, list(parameters), True))

    async def copy_rows(self, table: str, columns: Sequence[str],
                        rows: list[tuple[object, ...]]) -> None:
        """Rows into a table through COPY (``db copy``: many times faster than INSERTs)."""
        if self._pending:
            await self._flush()
        await self._connection.copy_records_to_table(table, records=rows,
                                                     columns=list(columns))

    async def script(self, sql: str) -> None:
        """Several statements without parameters (a migration), in one trip."""
        await self._connection.execute(sql)


class PostgresDatabase(Database):
    """A pool of connections to one PostgreSQL database."""

    dialect: Dialect = "postgresql"

    def __init__(self, pool: asyncpg.Pool, url: str) -> None:
        self.pool = pool
        self.url = url
        self.where = describe(url)
        self._serving: asyncpg.Connection | None = None  # holds the session locks
        self._shared: bool | None = None  # how it serves (None: it does not)
        self._owners: set[str] = set()
        self._leading = False
        self._owning = asyncio.Lock()  # one statement at a time on the serving connection
        self.vacuuming: asyncio.Task[None] | None = None
        self._vacuum_again = False

    def transaction(self, key: int | None = None) -> AbstractAsyncContextManager[
            PostgresTransaction]:
        return self._transaction(key)

    @asynccontextmanager
    async def _transaction(self, key: int | None) -> AsyncIterator[PostgresTransaction]:
        async with self.pool.acquire() as connection:
            begin = ("BEGIN" if key is None
                     else f"BEGIN; SELECT pg_advisory_xact_lock({int(key):d})")
            await connection.execute(begin)
            tx = PostgresTransaction(connection)
            try:
                yield tx
                await tx._flush()  # noqa: SLF001  (a write left for later may fail here)
                await connection.execute("COMMIT")
            except BaseException:
                await _rollback(connection)
                raise

    async def fetch_all(self, sql: str, params: Parameters = ()) -> list[Row]:
        text, names = to_postgres(sql)
        return cast(list[Row], await self.pool.fetch(text, *arguments(names, params)))

    async def write_one(self, sql: str, params: Sequence[object] = ()) -> int:
        text, _ = to_postgres(sql)
        return _Status(await self.pool.execute(text, *params)).rowcount

    migrations = PG_MIGRATIONS

    async def schema_version(self) -> int:
        if not await self.pool.fetchval("SELECT to_regclass('schema_version') IS NOT NULL"):
            return 0
        return int(await self.pool.fetchval("SELECT coalesce(max(version), 0) "
                                            "FROM schema_version"))

    async def lock_schema(self, tx: Any) -> int:
        """Workers that start together migrate one after the other (:data:`MIGRATING`)."""
        await tx.execute("SELECT pg_advisory_xact_lock(?, ?)", MIGRATING)
        await tx.script("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        rows = await tx.execute_fetchall("SELECT coalesce(max(version), 0) FROM schema_version")
        return int(rows[0][0])

    async def run_script(self, tx: Any, script: str) -> None:
        await tx.script(script)

    async def record_version(self, tx: Any, number: int) -> None:
        await tx.execute("DELETE FROM schema_version")
        await tx.execute("INSERT INTO schema_version (version) VALUES (?)", (number,))

    async def erased(self) -> bool:
        """Vacuum, in the background, the tables an erasure deletes from: the erased rows'
        index entries go and their space is marked free, to be overwritten by new rows,
        now rather than when autovacuum comes round. (Their bytes may stay in free space
        and in the write-ahead log until overwritten: docs/reliability.md.) Erasures that
        come while one vacuum runs share the next one."""
        self._vacuum_again = True
        if self.vacuuming is None or self.vacuuming.done():
            self.vacuuming = asyncio.create_task(self._vacuum(), name="vacuum after erasure")
        return True

    async def _vacuum(self) -> None:
        while self._vacuum_again:
            self._vacuum_again = False
            try:
                async with self.pool.acquire() as connection:
                    await connection.execute(f"VACUUM (SKIP_LOCKED) {ERASED_TABLES}")
            except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
                logger.warning("vacuum after an erasure failed (%s); autovacuum will do it",
                               type(exc).__name__)
                return

    async def serve_alone(self) -> None:
        """Hold the serving lock, exclusively, for as long as this database stays open: a
        second long-polling process, or a webhook worker, is refused (:class:`DatabaseInUse`)
        while this one runs."""
        await self._serve(shared=False)

    async def serve_alongside(self) -> None:
        """Hold the serving lock, shared with the other webhook workers: a long-polling
        process is refused while any of them runs, and they are while it does."""
        await self._serve(shared=True)

    async def lead(self) -> bool:
        """Whether this process is the fleet's leader now: takes :data:`LEADING` if it is
        free, or checks that the connection holding it is still alive. A connection lost
        (the server restarted, the network cut) loses the lead; the next call serves
        again on a new connection and tries for the lead once more. A database that does
        not serve (a command, a test) is alone: it leads."""
        if self._shared is None:
            return True
        async with self._owning:
            try:
                if self._serving is None or self._serving.is_closed():
                    self._drop_serving()
                    await self._serve(shared=self._shared)
                connection = self._serving
                assert connection is not None
                if self._leading:
                    await connection.fetchval("SELECT 1")
                else:
                    self._leading = bool(await connection.fetchval(
                        "SELECT pg_try_advisory_lock($1, $2)", *LEADING))
            except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError,
                    TimeoutError) as exc:
                logger.warning("the connection holding the serving lock failed (%s)",
                               type(exc).__name__)
                self._drop_serving()
        return self._leading

    def _drop_serving(self) -> None:
        self._leading = False
        self._owners.clear()  # their locks went with the session
        if self._serving is not None:
            serving, self._serving = self._serving, None
            serving.terminate()

    async def keep_claims(self, owner: str) -> None:
        """A session lock named after ``owner`` on the serving connection: while this
        process lives its claims are its own; once it is gone (however it ended, the
        server drops the lock with the session) a new leader takes them back
        (:func:`storage.rounds.release_claims`)."""
        if self._serving is None or owner in self._owners:
            return
        async with self._owning:
            if self._serving is not None and owner not in self._owners:
                await self._serving.execute("SELECT pg_advisory_lock($1, hashtext($2))",
                                            CLAIMS, owner)
                self._owners.add(owner)

    async def _serve(self, *, shared: bool) -> None:
        """Take the serving lock on a connection of its own, kept until :meth:`close`."""
        take = "pg_try_advisory_lock_shared" if shared else "pg_try_advisory_lock"
        connection = await asyncpg.connect(self.url, timeout=10)
        try:
            taken = await connection.fetchval(f"SELECT {take}($1, $2)", *SERVING)
        except BaseException:
            connection.terminate()
            raise
        if not taken:
            await connection.close()
            who = ("a consultbot run that polls Telegram" if shared
                   else "another consultbot run (polling, or webhook workers)")
            raise DatabaseInUse(f"{self.where}: already served by {who}; stop it first, or "
                                "use another database")
        self._shared = shared
        self._serving = connection
        self._leading = False

    async def close(self) -> None:
        if self.vacuuming is not None:
            self._vacuum_again = False
            await asyncio.gather(self.vacuuming, return_exceptions=True)
        if self._serving is not None:
            serving, self._serving = self._serving, None
            self._leading = False
            self._owners.clear()
            await serving.close()  # ends the session, and so its locks
        await self.pool.close()


async def _rollback(connection: asyncpg.Connection) -> None:
    try:
        if connection.is_in_transaction():
            await connection.execute("ROLLBACK")
    except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, asyncio.CancelledError):
        connection.terminate()  # the pool replaces it


async def connect_postgres(url: str, *, migrate_schema: bool = True,
                           size: int = POOL_SIZE) -> PostgresDatabase:
    """Open a pool on the database at ``url`` and bring its schema up to date."""
    pool = await open_pool(url, size=size)
    db = PostgresDatabase(pool, url)
    try:
        if migrate_schema:
            await migrate(db)
    except BaseException:
        await pool.close()
        raise
    return db


async def open_pool(url: str, *, size: int = POOL_SIZE) -> asyncpg.Pool:
    try:
        pool = await asyncpg.create_pool(url, min_size=1, max_size=size, timeout=10,
                                         command_timeout=None)
    except UNREACHABLE as exc:
        raise unavailable(url, exc) from None
    assert pool is not None
    return pool


# what connecting raises when the server, the user or the database is not as the URL says
UNREACHABLE = (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError,
               ValueError)


def unavailable(url: str, exc: BaseException) -> DatabaseUnavailable:
    """One line saying why the database at ``url`` cannot be used (no password in it)."""
    where = describe(url)
    if isinstance(exc, OSError | TimeoutError):
        return DatabaseUnavailable(f"{where}: cannot reach the PostgreSQL server "
                                   f"({_reason(exc)}); is it running, and are the host and "
                                   "port right?")
    if isinstance(exc, asyncpg.InvalidPasswordError):
        return DatabaseUnavailable(f"{where}: the server refused the user name or password")
    if isinstance(exc, asyncpg.InvalidCatalogNameError):
        return DatabaseUnavailable(f"{where}: no such database on the server (create it "
                                   "first: createdb NAME)")
    return DatabaseUnavailable(f"{where}: cannot use the database: {_reason(exc)}")


def _reason(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:200]


async def migrate(db: PostgresDatabase, folder: Path = PG_MIGRATIONS) -> int:
    """Apply every migration newer than the database (see :func:`storage.db.migrate`)."""
    from storage.db import migrate as run_migrations

    return await run_migrations(db, folder)
