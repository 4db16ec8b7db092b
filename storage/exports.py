"""Reading every response for an export, in batches, on its own read-only connection.

An export can read a million answers. It runs in a worker thread with a plain
``sqlite3`` connection opened read-only: in WAL mode readers never block the
bot's writer, so participants keep being served while the file is written.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from storage.clock import parse_timestamp, timestamp

BATCH = 2000


@dataclass(frozen=True, slots=True)
class ExportedResponse:
    id: int
    participant_id: int
    survey_id: str
    survey_version: str
    language: str
    source: str | None
    started_at: dt.datetime
    updated_at: dt.datetime
    completed_at: dt.datetime | None
    answers: dict[str, str | None]
    answer_versions: dict[str, str]


def open_reader(path: Path) -> sqlite3.Connection:
    """A read-only connection (fails if the database file does not exist)."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    connection.row_factory = sqlite3.Row
    return connection


def survey_ids(connection: sqlite3.Connection) -> list[str]:
    return [row[0] for row in connection.execute(
        "SELECT DISTINCT survey_id FROM responses ORDER BY survey_id")]


def question_ids(connection: sqlite3.Connection, survey_id: str) -> list[tuple[str, str]]:
    """Every question answered in this survey, with the latest version it was answered under."""
    rows = connection.execute(
        "SELECT a.question_id, max(a.survey_version) FROM answers a "
        "JOIN responses r ON r.id = a.response_id WHERE r.survey_id = ? "
        "GROUP BY a.question_id ORDER BY min(a.answered_at), a.question_id",
        (survey_id,),
    )
    return [(row[0], row[1]) for row in rows]


def iter_responses(
    connection: sqlite3.Connection,
    survey_id: str,
    *,
    since: dt.datetime | None = None,
    completed_only: bool = False,
    batch: int = BATCH,
) -> Iterator[ExportedResponse]:
    """Responses in id order, with their answers, read ``batch`` responses at a time."""
    after = 0
    conditions = "survey_id = ? AND id > ?"
    params: list[object] = [survey_id]
    if since is not None:
        conditions += " AND updated_at >= ?"
    if completed_only:
        conditions += " AND completed_at IS NOT NULL"
    while True:
        values = [*params, after]
        if since is not None:
            values.append(timestamp(since))
        rows = connection.execute(
            f"SELECT * FROM responses WHERE {conditions} ORDER BY id LIMIT ?",
            (*values, batch),
        ).fetchall()
        if not rows:
            return
        first, last = rows[0]["id"], rows[-1]["id"]
        answers: dict[int, dict[str, str | None]] = {row["id"]: {} for row in rows}
        versions: dict[int, dict[str, str]] = {row["id"]: {} for row in rows}
        for answer in connection.execute(
            "SELECT response_id, question_id, value, survey_version FROM answers "
            "WHERE response_id BETWEEN ? AND ?", (first, last)
        ):
            if answer[0] in answers:
                answers[answer[0]][answer[1]] = answer[2]
                versions[answer[0]][answer[1]] = answer[3]
        for row in rows:
            yield ExportedResponse(
                id=row["id"], participant_id=row["participant_id"], survey_id=row["survey_id"],
                survey_version=row["survey_version"], language=row["language"],
                source=row["source"],
                started_at=parse_timestamp(row["started_at"]) or dt.datetime.min,
                updated_at=parse_timestamp(row["updated_at"]) or dt.datetime.min,
                completed_at=parse_timestamp(row["completed_at"]),
                answers=answers[row["id"]], answer_versions=versions[row["id"]],
            )
        after = last


def get_secret(connection: sqlite3.Connection, key: str) -> str | None:
    row = connection.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
    return str(row[0]) if row else None
