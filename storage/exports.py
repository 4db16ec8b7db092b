"""Reading every response for an export, streamed, on its own read-only connection.

An export can read a million answers. It runs in a worker thread with a
:class:`Reader` of its own, synchronous: on SQLite a plain ``sqlite3``
connection opened read-only (in WAL mode readers never block the bot's
writer, so participants keep being served while the file is written); on
PostgreSQL an asyncpg connection driven by an event loop private to the
thread, in one read-only ``REPEATABLE READ`` transaction (a consistent
snapshot), its rows fetched through a cursor a batch at a time.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import orjson

from storage.clock import timestamp
from storage.db import Dialect, is_url
from storage.dialect import arguments, json_object_agg, to_postgres

_BATCH = 2000  # rows a PostgreSQL cursor fetches at a time


@dataclass(slots=True)
class ExportedResponse:
    """A response as stored: times are the stored UTC text (``2026-11-28T10:17:13Z``).

    Not frozen, though nothing changes it: a frozen dataclass sets each field through
    ``object.__setattr__``, 5x the cost of making one, and an export makes one per
    response (docs/performance.md, issue 11).
    """

    id: int
    participant_id: int
    survey_id: str
    survey_version: str
    language: str
    source: str | None
    started_at: str
    updated_at: str
    completed_at: str | None
    answers: dict[str, str | None]


class Reader(Protocol):
    """A synchronous, read-only view of the database, for one thread."""

    dialect: Dialect

    def one(self, sql: str, params: Sequence[object] = ()) -> tuple[Any, ...] | None:
        """The first row of a query."""

    def rows(self, sql: str, params: Sequence[object] = ()) -> Iterator[tuple[Any, ...]]:
        """Every row of a query, streamed."""

    def close(self) -> None: ...


class SqliteReader:
    dialect: Dialect = "sqlite"

    def __init__(self, path: Path) -> None:
        self.connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True,
                                          check_same_thread=False)

    def one(self, sql: str, params: Sequence[object] = ()) -> tuple[Any, ...] | None:
        row: tuple[Any, ...] | None = self.connection.execute(sql, params).fetchone()
        return row

    def rows(self, sql: str, params: Sequence[object] = ()) -> Iterator[tuple[Any, ...]]:
        return iter(self.connection.execute(sql, params))

    def close(self) -> None:
        self.connection.close()


class PostgresReader:
    """asyncpg driven synchronously by an event loop of its own (one thread at a time)."""

    dialect: Dialect = "postgresql"

    def __init__(self, url: str) -> None:
        import asyncpg

        from storage.postgres import UNREACHABLE, unavailable

        self._loop = asyncio.new_event_loop()
        try:
            self._connection = self._loop.run_until_complete(asyncpg.connect(url, timeout=10))
            self._transaction = self._connection.transaction(isolation="repeatable_read",
                                                             readonly=True)
            self._loop.run_until_complete(self._transaction.start())
        except UNREACHABLE as exc:
            self._loop.close()
            raise unavailable(url, exc) from None

    def one(self, sql: str, params: Sequence[object] = ()) -> tuple[Any, ...] | None:
        text, names = to_postgres(sql)
        row = self._loop.run_until_complete(
            self._connection.fetchrow(text, *arguments(names, params)))
        return tuple(row) if row is not None else None

    def rows(self, sql: str, params: Sequence[object] = ()) -> Iterator[tuple[Any, ...]]:
        text, names = to_postgres(sql)
        run = self._loop.run_until_complete
        cursor = run(self._connection.cursor(text, *arguments(names, params)))
        while True:
            batch = run(cursor.fetch(_BATCH))
            if not batch:
                return
            for row in batch:
                yield tuple(row)

    def close(self) -> None:
        try:
            self._loop.run_until_complete(self._connection.close())
        finally:
            self._loop.close()


def open_reader(where: Path | str) -> Reader:
    """A read-only reader (fails if the database file does not exist)."""
    if is_url(where):
        return PostgresReader(str(where))
    return SqliteReader(Path(where))


def question_ids(
    connection: Reader, survey_id: str, *, besides: Collection[str] = ()
) -> list[tuple[str, str]]:
    """The questions answered in this survey other than ``besides``, with the latest
    version each was answered under, in the order they were first answered.

    The distinct question ids are found by hopping through the index on
    ``question_id`` (one lookup per question, not a scan of every answer); only
    the answers to the questions not in ``besides`` are then read.
    """
    found: list[tuple[str, str, str]] = []
    question = _value(connection, "SELECT min(question_id) FROM answers")
    while question is not None:
        if question not in besides:
            version, first = connection.one(
                "SELECT max(a.survey_version), min(a.answered_at) FROM answers a "
                "JOIN responses r ON r.id = a.response_id "
                "WHERE a.question_id = ? AND r.survey_id = ?", (question, survey_id)
            ) or (None, None)
            if version is not None:
                found.append((first, question, version))
        question = _value(connection, "SELECT min(question_id) FROM answers "
                                      "WHERE question_id > ?", (question,))
    return [(question, version) for _, question, version in sorted(found)]


def _value(connection: Reader, sql: str, params: Sequence[object] = ()) -> Any:
    row = connection.one(sql, params)
    return row[0] if row else None


def survey_ids(connection: Reader) -> list[str]:
    """The ids of the surveys the database holds responses to, in alphabetical order."""
    rows = connection.rows("SELECT DISTINCT survey_id FROM responses ORDER BY survey_id")
    return [str(row[0]) for row in rows]


def iter_responses(
    connection: Reader,
    survey_id: str,
    *,
    since: dt.datetime | None = None,
    completed_only: bool = False,
) -> Iterator[ExportedResponse]:
    """Responses in id order with their answers, streamed by one query.

    The database gathers each response's answers into one JSON object, so Python
    reads one row per response rather than one per answer. The read is one
    transaction: the export is a consistent snapshot while the bot goes on
    writing (WAL; on PostgreSQL, the reader's REPEATABLE READ transaction).
    """
    conditions = "+survey_id = ?"  # a scan in id order, no index, no sort
    params: list[object] = [survey_id]
    if since is not None:
        conditions += " AND updated_at >= ?"
        params.append(timestamp(since))
    if completed_only:
        conditions += " AND completed_at IS NOT NULL"
    gathered = json_object_agg(connection.dialect, "question_id", "value")
    rows = connection.rows(
        "SELECT id, participant_id, survey_id, survey_version, language, source, started_at, "
        f"updated_at, completed_at, (SELECT {gathered} FROM answers "
        f"WHERE response_id = responses.id) FROM responses WHERE {conditions} ORDER BY id",
        params,
    )
    loads = orjson.loads  # 3x the standard library's decoder on these small objects
    for (id_, participant, survey, version, language, source, started, updated, completed,
         answers) in rows:
        yield ExportedResponse(id_, participant, survey, version, language, source, started,
                               updated, completed, loads(answers) if answers else {})


def get_secret(connection: Reader, key: str) -> str | None:
    row = connection.one("SELECT value FROM settings WHERE key = ?", (key,))
    return str(row[0]) if row else None
