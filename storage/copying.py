"""Copying a whole consultation from one database to another, either engine to either.

Every table the migrations create is copied (participants, responses and their
answers, subscriptions, schedules, rounds and the outbox, settings with the
pseudonym key, published surveys, anonymous events, the update ids of the last
day, console sign-ins), parents before children, in primary-key order, a batch
at a time, into one transaction on the target: a failure leaves the target as
it was. The source is read in one transaction too (a consistent snapshot; on
SQLite it also holds off the bot's writes for the length of the copy). The
target must be empty (rows go into PostgreSQL through ``COPY``); afterwards
its row count of every table is checked against the source's. PostgreSQL's
identity sequences are moved past the copied ids, so new rows never collide
with them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from storage.db import Connection, Database, StorageError, transaction
from storage.postgres import PostgresTransaction

BATCH = 5000

# (table, primary key columns, has an identity ``id``), parents before children
TABLES: tuple[tuple[str, tuple[str, ...], bool], ...] = (
    ("settings", ("key",), False),
    ("participants", ("id",), False),
    ("responses", ("id",), True),
    ("answers", ("response_id", "question_id"), False),
    ("processed_updates", ("update_id",), False),
    ("events", ("id",), True),
    ("subscriptions", ("chat_id",), False),
    ("schedules", ("id",), True),
    ("rounds", ("id",), True),
    ("round_contents", ("round_id", "language"), False),
    ("outbox", ("id",), True),
    ("console_links", ("token_hash",), False),
    ("console_sessions", ("token_hash",), False),
    ("published_surveys", ("id",), True),
)


class TargetNotEmpty(StorageError):
    """The target database holds data already."""


class CountsDiffer(StorageError):
    """After the copy, a table of the target does not hold as many rows as the source's."""


@dataclass(frozen=True, slots=True)
class Copied:
    counts: dict[str, int]  # table -> rows copied (and found in the target)

    @property
    def rows(self) -> int:
        return sum(self.counts.values())


async def _count(source: Database | Connection, table: str) -> int:
    if isinstance(source, Database):
        rows = await source.fetch_all(f"SELECT count(*) FROM {table}")
    else:
        rows = list(await source.execute_fetchall(f"SELECT count(*) FROM {table}"))
    return int(rows[0][0])


async def copy_database(source: Database, target: Database) -> Copied:
    """Copy every row of ``source`` into the empty ``target``; raises
    :class:`TargetNotEmpty` before writing anything, :class:`CountsDiffer` after."""
    held = {table: n for table, _, _ in TABLES if (n := await _count(target, table))}
    if held:
        listed = ", ".join(f"{n} in {table}" for table, n in held.items())
        raise TargetNotEmpty(f"{target.where}: the target database is not empty ({listed}); "
                             "db copy only fills a new, empty database")
    counts: dict[str, int] = {}
    async with transaction(source) as read, transaction(target) as write:
        if source.dialect == "postgresql":
            await read.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        for table, key, identity in TABLES:
            counts[table] = await _count(read, table)
            await _copy_table(read, write, table, key)
            if identity and target.dialect == "postgresql":
                await write.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"coalesce(max(id), 0) + 1, false) FROM {table}")
    found = {table: await _count(target, table) for table, _, _ in TABLES}
    wrong = [f"{table}: {found[table]} of {n}" for table, n in counts.items()
             if found[table] != n]
    if wrong:
        raise CountsDiffer(f"{target.where}: the copy's row counts differ from the source's "
                           f"({'; '.join(wrong)})")
    return Copied(counts)


async def _copy_table(read: Connection, write: Connection, table: str,
                      key: Sequence[str]) -> None:
    order = ", ".join(key)
    after: tuple[object, ...] | None = None
    columns: list[str] | None = None
    while True:
        where = ""
        params: list[object] = []
        if after is not None:
            marks = ", ".join("?" for _ in key)
            where = f"WHERE ({order}) > ({marks}) "
            params.extend(after)
        rows = list(await read.execute_fetchall(
            f"SELECT * FROM {table} {where}ORDER BY {order} LIMIT ?", [*params, BATCH]))
        if not rows:
            return
        if columns is None:
            columns = _columns(rows[0])
        values = [tuple(row[c] for c in columns) for row in rows]
        if isinstance(write, PostgresTransaction):
            await write.copy_rows(table, columns, values)
        else:
            names = ", ".join(columns)
            marks = ", ".join("?" for _ in columns)
            await write.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", values)
        last = rows[-1]
        after = tuple(last[c] for c in key)
        if len(rows) < BATCH:
            return


def _columns(row: object) -> list[str]:
    keys = getattr(row, "keys", None)
    assert keys is not None, "rows are read with their column names"
    return [str(name) for name in keys()]
