"""Reading every response for an export, streamed, on its own read-only connection.

An export can read a million answers. It runs in a worker thread with a plain
``sqlite3`` connection opened read-only: in WAL mode readers never block the
bot's writer, so participants keep being served while the file is written.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson

from storage.clock import timestamp


@dataclass(frozen=True, slots=True)
class ExportedResponse:
    """A response as stored: times are the stored UTC text (``2026-11-28T10:17:13Z``)."""

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


def open_reader(path: Path) -> sqlite3.Connection:
    """A read-only connection (fails if the database file does not exist)."""
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)


def question_ids(
    connection: sqlite3.Connection, survey_id: str, *, besides: Collection[str] = ()
) -> list[tuple[str, str]]:
    """The questions answered in this survey other than ``besides``, with the latest
    version each was answered under, in the order they were first answered.

    The distinct question ids are found by hopping through the index on
    ``question_id`` (one lookup per question, not a scan of every answer); only
    the answers to the questions not in ``besides`` are then read.
    """
    found: list[tuple[str, str, str]] = []
    question = connection.execute("SELECT min(question_id) FROM answers").fetchone()[0]
    while question is not None:
        if question not in besides:
            version, first = connection.execute(
                "SELECT max(a.survey_version), min(a.answered_at) FROM answers a "
                "JOIN responses r ON r.id = a.response_id "
                "WHERE a.question_id = ? AND r.survey_id = ?", (question, survey_id)).fetchone()
            if version is not None:
                found.append((first, question, version))
        question = connection.execute(
            "SELECT min(question_id) FROM answers WHERE question_id > ?", (question,)
        ).fetchone()[0]
    return [(question, version) for _, question, version in sorted(found)]


def survey_ids(connection: sqlite3.Connection) -> list[str]:
    """The ids of the surveys the database holds responses to, in alphabetical order."""
    rows = connection.execute("SELECT DISTINCT survey_id FROM responses ORDER BY survey_id")
    return [str(row[0]) for row in rows]


def iter_responses(
    connection: sqlite3.Connection,
    survey_id: str,
    *,
    since: dt.datetime | None = None,
    completed_only: bool = False,
) -> Iterator[ExportedResponse]:
    """Responses in id order with their answers, streamed by one query.

    SQLite gathers each response's answers into one JSON object, so Python
    reads one row per response rather than one per answer. The read is one
    transaction: the export is a consistent snapshot while the bot goes on
    writing (WAL).
    """
    conditions = "+survey_id = ?"  # a scan in id order, no index, no sort
    params: list[object] = [survey_id]
    if since is not None:
        conditions += " AND updated_at >= ?"
        params.append(timestamp(since))
    if completed_only:
        conditions += " AND completed_at IS NOT NULL"
    rows = connection.execute(
        "SELECT id, participant_id, survey_id, survey_version, language, source, started_at, "
        "updated_at, completed_at, (SELECT json_group_object(question_id, value) FROM answers "
        f"WHERE response_id = responses.id) FROM responses WHERE {conditions} ORDER BY id",
        params,
    )
    loads = orjson.loads  # 3x the standard library's decoder on these small objects
    for (id_, participant, survey, version, language, source, started, updated, completed,
         answers) in rows:
        yield ExportedResponse(id_, participant, survey, version, language, source, started,
                               updated, completed, loads(answers) if answers else {})


def get_secret(connection: sqlite3.Connection, key: str) -> str | None:
    row = connection.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
    return str(row[0]) if row else None
