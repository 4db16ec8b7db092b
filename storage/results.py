"""What the web console reads: figures under filters, the list of responses, one response.

Filters narrow the responses counted: their language, the day they started, and
the answers they gave to some questions (a stakeholder type, the countries of a
world region). Counts of answers are read from the index on
``answers (question_id, value)`` and, under filters, kept to the matching
responses by a set SQLite builds once (``response_id IN (…)``), never by a join
of every answer to its response (several times slower on a large database).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field

from storage.clock import parse_timestamp, timestamp
from storage.db import Database, fetch_all, fetch_one
from storage.dialect import data_version_sql, json_rows_agg
from storage.stats import STOPPED_AFTER


@dataclass(frozen=True, slots=True)
class Filters:
    """Which responses to count; empty: all of them."""

    language: str | None = None
    started_from: dt.date | None = None
    started_until: dt.date | None = None  # inclusive
    answers: tuple[tuple[str, tuple[str, ...]], ...] = ()  # question id, values accepted

    @property
    def empty(self) -> bool:
        return (self.language is None and self.started_from is None
                and self.started_until is None and not self.answers)


def _matching(survey_id: str, filters: Filters) -> tuple[str, list[object]]:
    """The WHERE clause (on ``responses``) and its parameters for ``filters``."""
    conditions = ["+survey_id = ?"]
    params: list[object] = [survey_id]
    if filters.language is not None:
        conditions.append("language = ?")
        params.append(filters.language)
    if filters.started_from is not None:
        conditions.append("started_at >= ?")
        params.append(timestamp(dt.datetime.combine(filters.started_from, dt.time())))
    if filters.started_until is not None:
        day_after = filters.started_until + dt.timedelta(days=1)
        conditions.append("started_at < ?")
        params.append(timestamp(dt.datetime.combine(day_after, dt.time())))
    for question, values in filters.answers:
        marks = ", ".join("?" for _ in values) or "NULL"
        conditions.append("id IN (SELECT response_id FROM answers WHERE question_id = ? "
                          f"AND value IN ({marks}))")
        params.extend([question, *values])
    return " AND ".join(conditions), params


@dataclass(frozen=True, slots=True)
class Counts:
    """The responses that match, and their answers counted per question and value."""

    responses: int
    completed: int
    in_progress: int
    stopped: int  # no answer for STOPPED_AFTER, not completed
    by_language: dict[str, int]
    answers: dict[str, dict[str | None, int]]  # question id -> stored value (None: skipped)
    waiting: dict[str, int]  # question id -> responses being asked it now
    last_activity: dt.datetime | None

    def reached(self, question_id: str) -> int:
        """Responses that got as far as this question (answered, skipped or being asked)."""
        return sum(self.answers.get(question_id, {}).values()) + self.waiting.get(question_id, 0)


async def count_responses(
    db: Database, survey_id: str, filters: Filters, now: dt.datetime
) -> Counts:
    """Every figure of the results and the overview in two scans."""
    where, params = _matching(survey_id, filters)
    stale = timestamp(now - STOPPED_AFTER)
    groups = await fetch_all(
        db, "SELECT language, current, completed_at IS NOT NULL, updated_at < ?, count(*), "
            f"max(updated_at) FROM responses WHERE {where} GROUP BY 1, 2, 3, 4",
        [stale, *params])
    completed = in_progress = stopped = 0
    by_language: dict[str, int] = {}
    waiting: dict[str, int] = {}
    latest: str | None = None
    for language, current, done, old, count, last in groups:
        by_language[language] = by_language.get(language, 0) + count
        if current is not None:
            waiting[current] = waiting.get(current, 0) + count
        if done:
            completed += count
        elif old:
            stopped += count
        else:
            in_progress += count
        latest = max(latest or last, last)
    if filters.empty and await _only_survey(db, survey_id):
        rows = await fetch_all(
            db, "SELECT question_id, value, count(*) FROM answers GROUP BY 1, 2")
    else:
        rows = await fetch_all(
            db, "SELECT question_id, value, count(*) FROM answers "
                f"WHERE response_id IN (SELECT id FROM responses WHERE {where}) GROUP BY 1, 2",
            params)
    answers: dict[str, dict[str | None, int]] = {}
    for question, value, count in rows:
        answers.setdefault(str(question), {})[value] = int(count)
    return Counts(completed + in_progress + stopped, completed, in_progress, stopped,
                  by_language, answers, waiting, parse_timestamp(latest))


async def _only_survey(db: Database, survey_id: str) -> bool:
    row = await fetch_one(
        db, "SELECT EXISTS (SELECT 1 FROM responses WHERE survey_id < ? OR survey_id > ?)",
        (survey_id, survey_id))
    return not (row and row[0])


@dataclass(frozen=True, slots=True)
class People:
    """People, whatever survey they answered: who opened the bot, who consented."""

    opened: int  # including those who declined or deleted their data since
    consented: int
    declined: int
    deleted: int


async def count_people(db: Database) -> People:
    row = await fetch_one(
        db, "SELECT (SELECT count(*) FROM participants), "
            "(SELECT count(*) FROM participants WHERE status = 'consented'), "
            "(SELECT count(*) FROM events WHERE kind = 'declined'), "
            "(SELECT count(*) FROM events WHERE kind = 'deleted')")
    people, consented, declined, deleted = (int(v or 0) for v in row) if row else (0, 0, 0, 0)
    return People(people + declined + deleted, consented, declined, deleted)


@dataclass(frozen=True, slots=True)
class TextAnswer:
    response_id: int
    value: str
    answered_at: dt.datetime


async def text_answers(
    db: Database, survey_id: str, question_id: str, filters: Filters, *, offset: int,
    limit: int,
) -> tuple[list[TextAnswer], int]:
    """One question's answers (not skipped), newest first, a page at a time; and how many."""
    where, params = _matching(survey_id, filters)
    scope = (f"question_id = ? AND value IS NOT NULL AND response_id IN "
             f"(SELECT id FROM responses WHERE {where})")
    total = await fetch_one(db, f"SELECT count(*) FROM answers WHERE {scope}",
                            [question_id, *params])
    rows = await fetch_all(
        db, f"SELECT response_id, value, answered_at FROM answers WHERE {scope} "
            "ORDER BY answered_at DESC, response_id DESC LIMIT ? OFFSET ?",
        [question_id, *params, limit, offset])
    found = [TextAnswer(int(r[0]), str(r[1]), parse_timestamp(r[2]) or dt.datetime.min)
             for r in rows]
    return found, int(total[0]) if total else 0


STATUSES = ("completed", "in_progress", "stopped")


@dataclass(frozen=True, slots=True)
class Listed:
    """A response as the list shows it (the caller turns the id into a code)."""

    id: int
    participant_id: int
    survey_version: str
    language: str
    started_at: dt.datetime
    updated_at: dt.datetime
    completed_at: dt.datetime | None
    status: str


def _status(completed_at: str | None, updated_at: str, stale: str) -> str:
    if completed_at is not None:
        return "completed"
    return "stopped" if updated_at < stale else "in_progress"


async def list_responses(
    db: Database, survey_id: str, now: dt.datetime, *, status: str | None, offset: int,
    limit: int,
) -> tuple[list[Listed], int]:
    """A page of responses, the latest active first, and how many there are in all."""
    stale = timestamp(now - STOPPED_AFTER)
    condition, params = "survey_id = ?", [survey_id]
    if status == "completed":
        condition += " AND completed_at IS NOT NULL"
    elif status == "in_progress":
        condition += " AND completed_at IS NULL AND updated_at >= ?"
        params.append(stale)
    elif status == "stopped":
        condition += " AND completed_at IS NULL AND updated_at < ?"
        params.append(stale)
    total = await fetch_one(db, f"SELECT count(*) FROM responses WHERE {condition}", params)
    rows = await fetch_all(
        db, "SELECT id, participant_id, survey_version, language, started_at, updated_at, "
            f"completed_at FROM responses WHERE {condition} "
            "ORDER BY updated_at DESC, id DESC LIMIT ? OFFSET ?", [*params, limit, offset])
    listed = [Listed(int(r[0]), int(r[1]), str(r[2]), str(r[3]),
                     parse_timestamp(r[4]) or dt.datetime.min,
                     parse_timestamp(r[5]) or dt.datetime.min, parse_timestamp(r[6]),
                     _status(r[6], r[5], stale)) for r in rows]
    return listed, int(total[0]) if total else 0


async def response_ids(db: Database, survey_id: str, after: int) -> list[tuple[int, int]]:
    """(response id, participant id) of the responses with an id above ``after``."""
    rows = await fetch_all(db, "SELECT id, participant_id FROM responses WHERE survey_id = ? "
                               "AND id > ? ORDER BY id", (survey_id, after))
    return [(int(r[0]), int(r[1])) for r in rows]


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    question_id: str
    value: str | None
    survey_version: str
    answered_at: dt.datetime


@dataclass(frozen=True, slots=True)
class FullResponse:
    listed: Listed
    source: str | None
    current: str | None
    answers: list[StoredAnswer] = field(default_factory=list)


async def get_full_response(
    db: Database, response_id: int, now: dt.datetime
) -> FullResponse | None:
    """One response with every answer it holds, in the order they were given."""
    row = await fetch_one(
        db, "SELECT id, participant_id, survey_version, language, started_at, updated_at, "
            "completed_at, source, current, (SELECT "
            f"{json_rows_agg(db.dialect, 'question_id', 'value', 'survey_version', 'answered_at')}"
            " FROM answers WHERE response_id = r.id) "
            "FROM responses r WHERE id = ?", (response_id,))
    if row is None:
        return None
    stale = timestamp(now - STOPPED_AFTER)
    listed = Listed(int(row[0]), int(row[1]), str(row[2]), str(row[3]),
                    parse_timestamp(row[4]) or dt.datetime.min,
                    parse_timestamp(row[5]) or dt.datetime.min, parse_timestamp(row[6]),
                    _status(row[6], row[5], stale))
    answers = [StoredAnswer(q, v, version, parse_timestamp(at) or dt.datetime.min)
               for q, v, version, at in json.loads(row[9] or "[]")]
    answers.sort(key=lambda a: a.answered_at)
    return FullResponse(listed, row[7], row[8], answers)


async def data_version(db: Database) -> int:
    """Changes whenever another connection commits (``PRAGMA data_version``; on
    PostgreSQL, see :func:`storage.dialect.data_version_sql`): the console reads on a
    connection of its own and recomputes only then."""
    row = await fetch_one(db, data_version_sql(db.dialect))
    return int(row[0]) if row else 0


def question_order(questions: Sequence[str], answers: dict[str, object]) -> list[str]:
    """The survey's questions, then any other question the answers hold (an earlier version)."""
    return [*questions, *sorted(set(answers) - set(questions))]
