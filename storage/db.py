"""The storage's one door: a database, its transactions and its reads, whichever engine.

Two engines keep a consultation: SQLite, the default (one file, nothing to
install, one serving process: :mod:`storage.sqlite`), and PostgreSQL for a
fleet of webhook workers (:mod:`storage.postgres`). ``CONSULTBOT_DB`` chooses:
a ``postgresql://`` URL, or a file path. Every storage module is written once
against what this module declares:

- :class:`Database`: the process's handle; :func:`transaction` opens one
  transaction on it (``BEGIN IMMEDIATE`` on SQLite, where one writer at a time
  holds the file; a pooled connection on PostgreSQL, serialized per ``key``
  when one is given: a participant's updates never interleave, whichever
  worker runs them);
- :class:`Connection`: what a transaction offers (``execute``,
  ``executemany``, ``execute_fetchall``, and ``later`` for a write whose
  outcome nobody reads, which then travels with the next statement or the
  commit), and what reads take as a :data:`Source` when they belong to a
  transaction;
- :class:`Row`: a row read, by position or by column name.

SQL is written once, SQLite's way, with ``?`` placeholders; the PostgreSQL
engine numbers them (``$1``…) and drops a ``+`` written right before a column
name (SQLite's way of keeping an index out of a query; PostgreSQL's planner
needs no such hint). Where the two engines differ (JSON aggregates, glob
matching, date arithmetic, list parameters, row locks), a module gets the
SQL from :mod:`storage.dialect` for ``source.dialect``; upserts
(``ON CONFLICT``) and new ids (``RETURNING id``) are written once, both
engines have them.

Schema changes: :func:`migrate` applies the engine's numbered files
(``migrations/`` for SQLite, ``migrations/postgresql/`` with the same numbers),
each in one transaction with the version it reaches.
"""

from __future__ import annotations

import logging
import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any, Literal, Protocol

logger = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"  # SQLite's; PostgreSQL's in postgresql/
_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")

Dialect = Literal["sqlite", "postgresql"]
Parameters = Sequence[object] | Mapping[str, object]  # ``?`` values, or ``:name`` values


class StorageError(Exception):
    """Base class of the storage layer's own errors."""


class MigrationError(StorageError):
    """The migrations folder or the database's schema version is inconsistent."""


class DatabaseUnavailable(StorageError):
    """The database cannot be opened or written; the message says what to check."""


class Row(Protocol):
    """A row read: ``row[0]`` or ``row["name"]``, and unpacking."""

    def __getitem__(self, key: int | str, /) -> Any: ...

    def __iter__(self) -> Iterator[Any]: ...

    def __len__(self) -> int: ...


class Written(Protocol):
    """What a write says back: the number of rows it changed."""

    @property
    def rowcount(self) -> int: ...


class Connection(Protocol):
    """A transaction in progress (see :func:`transaction`)."""

    @property
    def dialect(self) -> Dialect: ...

    async def execute(self, sql: str, parameters: Parameters = (), /) -> Written: ...

    async def executemany(self, sql: str, parameters: Iterable[Sequence[object]], /) -> None: ...

    async def execute_fetchall(self, sql: str, parameters: Parameters = (), /
                               ) -> Sequence[Row]: ...

    def later(self, sql: str, parameters: Parameters = (), /) -> None:
        """A write whose outcome nobody reads: it reaches the database with the
        transaction's next statement or its commit, in order (fewer trips)."""

    def later_many(self, sql: str, parameters: Iterable[Sequence[object]], /) -> None:
        """:meth:`later` for ``executemany``."""


class Database(ABC):
    """The process's handle on the consultation's database (see the module's docstring)."""

    dialect: Dialect
    where: str  # the file, or the server and database, for messages (never a password)

    @abstractmethod
    def transaction(self, key: int | None = None) -> AbstractAsyncContextManager[Connection]:
        """One transaction: committed when the block ends, rolled back on any exception.
        ``key`` (a chat id) serializes the transactions that give the same one."""

    @abstractmethod
    async def fetch_all(self, sql: str, params: Parameters = ()) -> list[Row]:
        """Every row of one query, outside any transaction."""

    @abstractmethod
    async def write_one(self, sql: str, params: Sequence[object] = ()) -> int:
        """One statement committed on its own; returns the rows it changed."""

    migrations: Path = MIGRATIONS  # this engine's migration files

    @abstractmethod
    async def schema_version(self) -> int: ...

    @abstractmethod
    async def lock_schema(self, tx: Any) -> int:
        """In a migration's transaction: make it the only one changing the schema, and
        return the version it finds then."""

    @abstractmethod
    async def run_script(self, tx: Any, script: str) -> None:
        """A migration file's statements, inside ``tx``."""

    @abstractmethod
    async def record_version(self, tx: Any, number: int) -> None: ...

    async def serve_alone(self) -> None:
        """Refuse (:class:`StorageError`) if another process serves this database, and keep
        others from serving it until :meth:`close`: a long-polling process (SQLite: the run
        lock file of :mod:`storage.lock` does it already)."""
        return None

    async def lead(self) -> bool:
        """Whether this process is the one that runs the schedules and sends the outbox
        (:mod:`bot.leadership`): always on SQLite (one process); on PostgreSQL the worker
        holding the leader's lock, until it ends, then the next that asks."""
        return True

    async def keep_claims(self, owner: str) -> None:
        """Mark ``owner``'s outbox claims as held by a live process until :meth:`close`
        (PostgreSQL, where a new leader must not take back a live sender's claims; SQLite
        has one process)."""
        return None

    async def serve_alongside(self) -> None:
        """Refuse (:class:`StorageError`) if a process serves this database alone, and keep
        one from starting until :meth:`close`: one of several webhook workers."""
        return None

    @abstractmethod
    async def erased(self) -> bool:
        """After an erasure: make the engine drop what it still keeps of erased rows (the
        write-ahead log); False if a reader kept it from doing so now."""

    @abstractmethod
    async def close(self) -> None: ...


Source = Database | Connection  # reads work on the database or inside a transaction


def is_url(where: str | Path) -> bool:
    """True for a PostgreSQL URL, False for a SQLite file path."""
    return str(where).startswith(("postgresql://", "postgres://"))


async def connect(where: str | Path) -> Database:
    """Open the database (a file path or a ``postgresql://`` URL), configure it and bring
    its schema up to date."""
    if is_url(where):
        from storage.postgres import connect_postgres

        return await connect_postgres(str(where))
    from storage.sqlite import connect_sqlite

    return await connect_sqlite(where)


async def connect_reader(where: str | Path) -> Database:
    """A second connection for long reads (the web console's figures), which never hold up
    the bot's writes."""
    if is_url(where):  # a pool of its own: long reads never hold the bot's connections
        from storage.postgres import connect_postgres

        return await connect_postgres(str(where), size=2)
    from storage.sqlite import connect_sqlite_reader

    return await connect_sqlite_reader(where)


def transaction(db: Database, key: int | None = None) -> AbstractAsyncContextManager[Connection]:
    """``async with transaction(db) as tx:`` (see :meth:`Database.transaction`)."""
    return db.transaction(key)


async def fetch_all(source: Source, sql: str, params: Parameters = ()) -> list[Row]:
    """Every row of a query, read in one trip."""
    if isinstance(source, Database):
        return await source.fetch_all(sql, params)
    return list(await source.execute_fetchall(sql, params))


async def fetch_one(source: Source, sql: str, params: Parameters = ()) -> Row | None:
    rows = await fetch_all(source, sql, params)
    return rows[0] if rows else None


async def write_one(db: Database, sql: str, params: Sequence[object] = ()) -> int:
    """A single-statement write, committed on its own (one trip); returns the rows changed."""
    return await db.write_one(sql, params)


async def insert(tx: Connection, sql: str, params: Parameters = ()) -> int:
    """An ``INSERT … RETURNING id`` in a transaction: the new row's id."""
    rows = await tx.execute_fetchall(sql, params)
    return int(rows[0][0])


async def schema_version(db: Database) -> int:
    return await db.schema_version()


async def checkpoint(db: Database) -> bool:
    """See :meth:`Database.erased`."""
    return await db.erased()


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


async def migrate(db: Database, folder: Path | None = None) -> int:
    """Apply every migration newer than the database (the engine's own files, numbered
    alike), each in one transaction with its version; returns the resulting version."""
    files = migration_files(folder or db.migrations)
    current = await db.schema_version()
    if current > len(files):
        raise too_new(current, len(files))
    for number, path in files[current:]:
        script = path.read_text(encoding="utf-8")
        async with db.transaction() as tx:
            found = await db.lock_schema(tx)
            if found > len(files):
                raise too_new(found, len(files))
            if number <= found:
                continue  # another process applied it meanwhile
            await db.run_script(tx, script)
            await db.record_version(tx, number)
        logger.info("applied migration %s", path.name)
    return len(files)


def too_new(current: int, known: int) -> MigrationError:
    return MigrationError(f"database schema version {current} is newer than this program "
                          f"(knows {known}): upgrade consultbot")
