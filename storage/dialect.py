"""Where SQLite's SQL and PostgreSQL's differ, in one place.

Storage modules write their SQL once, SQLite's way, with ``?`` (or ``:name``)
placeholders; :func:`to_postgres` turns a statement into PostgreSQL's (``$1``…,
cached per statement). What cannot be translated mechanically is spelled here,
per dialect, and a module asks for it with the ``dialect`` of the source it reads:

- JSON gathered in the database (a response's answers in one value):
  :func:`json_object_agg`, :func:`json_rows_agg`;
- string aggregation (:func:`text_agg`), glob matching (:func:`glob`),
  seconds between two stored times (:func:`seconds_between`);
- a list parameter (:func:`not_in_list`), row locks for a queue
  (:func:`skip_locked`), and how to tell that another connection committed
  (:func:`data_version_sql`).

Portable on both and so written once: ``INSERT … ON CONFLICT … DO UPDATE/NOTHING``
(upserts), ``RETURNING id`` (new ids: ``INTEGER PRIMARY KEY`` on SQLite, an
identity column on PostgreSQL), flags as 0/1 integers (``reminders_off = 1``,
never a bare boolean), times as the same ISO 8601 UTC text (``storage.clock``)
compared as text (PostgreSQL's columns are ``COLLATE "C"``, byte order as in
SQLite), and ``CAST(? AS TEXT)`` wherever a parameter stands alone (PostgreSQL
must know its type).
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping, Sequence
from functools import lru_cache

from storage.db import Dialect, Parameters

# --- statements -------------------------------------------------------------------------

# A quoted string or identifier (left as it is), a ``?``, a ``:name``, or a ``+`` right
# before a column name (SQLite's way of keeping an index out of a plan).
_TOKEN = re.compile(r"""('(?:[^']|'')*'|"(?:[^"]|"")*")|(\?)|(?<!:):([A-Za-z_]\w*)|"""
                    r"""(?<=[\s(,=])\+(?=[A-Za-z_])""")


@lru_cache(maxsize=1024)
def to_postgres(sql: str) -> tuple[str, tuple[str, ...]]:
    """PostgreSQL's form of a statement written SQLite's way, and the names of its
    ``:name`` parameters in ``$n`` order (empty for ``?`` parameters)."""
    names: list[str] = []
    count = 0

    def replace(match: re.Match[str]) -> str:
        nonlocal count
        quoted, mark, name = match.groups()
        if quoted is not None:
            return quoted
        if mark is not None:
            count += 1
            return f"${count}"
        if name is not None:
            if name not in names:
                names.append(name)
            return f"${names.index(name) + 1}"
        return ""  # the ``+`` hint

    translated = _TOKEN.sub(replace, sql)
    if names and count:
        raise ValueError("a statement mixes ? and :name parameters")
    return translated, tuple(names)


def arguments(names: tuple[str, ...], parameters: Parameters) -> Sequence[object]:
    """The values in ``$n`` order."""
    if isinstance(parameters, Mapping):
        return [parameters[name] for name in names]
    return parameters


# --- what differs -----------------------------------------------------------------------


def json_object_agg(dialect: Dialect, key: str, value: str) -> str:
    """One JSON object (text) of every row's ``key: value``; NULL (PostgreSQL) or ``{}``
    (SQLite) when there is no row."""
    if dialect == "postgresql":
        return f"json_object_agg({key}, {value})"
    return f"json_group_object({key}, {value})"


def json_rows_agg(dialect: Dialect, *columns: str) -> str:
    """A JSON array (text) holding one array of ``columns`` per row."""
    listed = ", ".join(columns)
    if dialect == "postgresql":
        return f"json_agg(json_build_array({listed}))"
    return f"json_group_array(json_array({listed}))"


def text_agg(dialect: Dialect, column: str, separator: str) -> str:
    """The values of ``column`` joined by ``separator`` (a literal, no quote in it)."""
    assert "'" not in separator
    if dialect == "postgresql":
        return f"string_agg({column}, '{separator}')"
    return f"group_concat({column}, '{separator}')"


def glob(dialect: Dialect, column: str, pattern: str | None = None) -> str:
    """``column`` matches a glob pattern (``*`` any text; no other wildcard is used): the
    pattern is a ``?`` parameter (give it through :func:`glob_pattern`), or ``pattern``
    written in (no quote in it)."""
    operand = "?" if pattern is None else f"'{glob_pattern(dialect, pattern)}'"
    if dialect == "postgresql":
        return f"{column} ~ {operand}"
    return f"{column} GLOB {operand}"


def glob_pattern(dialect: Dialect, pattern: str) -> str:
    """The parameter :func:`glob` compares with: the glob itself on SQLite, the same
    pattern as an anchored regular expression on PostgreSQL."""
    if dialect == "postgresql":
        return "^" + ".*".join(re.escape(part) for part in pattern.split("*")) + "$"
    return pattern


def seconds_between(dialect: Dialect, start: str, end: str) -> str:
    """Seconds from one stored time (ISO 8601 text) to another."""
    if dialect == "postgresql":
        return (f"extract(epoch FROM (CAST({end} AS timestamptz) "
                f"- CAST({start} AS timestamptz)))")
    return f"(julianday({end}) - julianday({start})) * 86400"


def not_in_list(dialect: Dialect, column: str) -> str:
    """``column`` is none of the integers of one parameter (see :func:`int_list`)."""
    if dialect == "postgresql":
        return f"{column} <> ALL (CAST(? AS bigint[]))"
    return f"{column} NOT IN (SELECT value FROM json_each(?))"


def int_list(dialect: Dialect, values: Collection[int]) -> object:
    """The parameter of :func:`not_in_list`."""
    ordered = sorted(values)
    return ordered if dialect == "postgresql" else json.dumps(ordered)


def skip_locked(dialect: Dialect) -> str:
    """After a SELECT that picks rows to claim: other transactions' picks are passed
    over, not waited for (PostgreSQL; SQLite has one writer at a time anyway)."""
    return " FOR UPDATE SKIP LOCKED" if dialect == "postgresql" else ""


def claim_abandoned(dialect: Dialect, column: str) -> str:
    """A condition on an outbox claim's owner: true when no running process holds it.
    SQLite: always (one process sends, and it is starting). PostgreSQL: the owner's
    session lock (``storage.postgres.CLAIMS``) is held by no session of this database."""
    if dialect != "postgresql":
        return "1 = 1"
    return ("NOT EXISTS (SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory' "
            "AND l.granted AND l.objsubid = 2 "
            "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            f"AND l.classid = {CLAIMS_KEY} "
            f"AND CAST(l.objid AS bigint) = CAST(hashtext({column}) AS bigint) & 4294967295)")


CLAIMS_KEY = 0x636F6E74  # the first key of the locks of live outbox senders (storage.postgres)


def data_version_sql(dialect: Dialect) -> str:
    """A number that changes whenever a connection commits a change: SQLite's
    ``data_version``; on PostgreSQL, the next transaction id to be given out (any
    writing transaction, anywhere, moves it)."""
    if dialect == "postgresql":
        return "SELECT CAST(CAST(pg_snapshot_xmax(pg_current_snapshot()) AS text) AS bigint)"
    return "PRAGMA data_version"
