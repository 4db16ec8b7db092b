"""The consultation's figures, computed by SQLite (aggregates only, no rows loaded).

A question asked once per round of a repeat has its answers under keys such
as ``member[2]/sex`` (:mod:`storage.responses`): its figures gather every
round's, and count people (each response once, whatever its rounds hold)
unless the survey says to count rounds.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from storage.clock import timestamp
from storage.db import Database, fetch_all, fetch_one
from storage.dialect import glob, glob_pattern, seconds_between

STOPPED_AFTER = dt.timedelta(days=7)


@dataclass(frozen=True, slots=True)
class Figures:
    started: int  # everyone who opened the bot, including those who declined or deleted
    consented: int
    declined: int
    deleted: int
    blocked: int
    completed: int
    in_progress: int
    stopped: int  # not completed and no answer for STOPPED_AFTER
    median_seconds: float | None
    by_language: dict[str, int]
    by_source: dict[str, int]
    breakdowns: dict[str, dict[str, int]]  # question id -> value -> responses (or rounds)
    reached: dict[str, int]  # question id -> responses that were asked it

    @property
    def responses(self) -> int:
        return self.completed + self.in_progress + self.stopped

    @property
    def completion_rate(self) -> float | None:
        return self.completed / self.responses if self.responses else None


def round_keys(question_id: str) -> str:
    """The glob pattern of the keys of a question's answers in rounds (``*]/age``);
    question ids hold no GLOB character."""
    return f"*]/{question_id}"


# the question a stored key answers: what follows its last '/' (the key itself outside rounds)
_QUESTION_OF_KEY = ("substr(question_id, "
                    "length(rtrim(question_id, replace(question_id, '/', ''))) + 1)")


async def get_figures(
    db: Database, survey_id: str, breakdown_questions: Sequence[str], now: dt.datetime,
    repeated: Mapping[str, bool] | None = None,
) -> Figures:
    """The figures in a few scans (about 0.3 s for 100,000 responses and 1.2 million
    answers; see docs/performance.md).

    Every response of a survey is counted, so SQLite scans the table rather than
    visiting it row by row through an index (the ``+`` before a column keeps the
    index out). When the database holds no other survey, answers are counted
    from their index alone, without looking up each one's response.

    ``repeated``: the questions asked once per round, each with True when its
    breakdown counts rounds rather than responses.
    """
    repeated = repeated or {}
    dialect = db.dialect
    stale = timestamp(now - STOPPED_AFTER)
    events = await _counts(db, "SELECT kind, count(*) FROM events GROUP BY kind")
    row = await fetch_one(
        db, "SELECT count(*), count(CASE WHEN status = 'consented' THEN 1 END), count(blocked_at) "
            "FROM participants")
    people, consented, blocked = (int(v or 0) for v in row) if row else (0, 0, 0)
    groups = await fetch_all(
        db,
        "SELECT language, coalesce(source, ''), current, completed_at IS NOT NULL, "
        "       updated_at < ?, count(*) "
        "FROM responses WHERE +survey_id = ? GROUP BY 1, 2, 3, 4, 5",
        (stale, survey_id),
    )
    completed = in_progress = stopped = 0
    by_language: Counter[str] = Counter()
    by_source: Counter[str] = Counter()
    waiting: Counter[str] = Counter()
    for language, source, current, done, old, count in groups:
        by_language[language] += count
        by_source[source] += count
        if current is not None:
            waiting[current] += count
        if done:
            completed += count
        elif old:
            stopped += count
        else:
            in_progress += count
    median = await _median_seconds(db, survey_id, completed)
    alone = await _only_survey(db, survey_id)
    breakdowns = {}
    for question in breakdown_questions:
        if question in repeated:
            counted = "count(*)" if repeated[question] else "count(DISTINCT a.response_id)"
            breakdowns[question] = await _counts(
                db, f"SELECT a.value, {counted} FROM answers a "
                    "JOIN responses r ON r.id = a.response_id "
                    f"WHERE {glob(dialect, 'a.question_id')} "
                    "AND r.survey_id = ? AND a.value IS NOT NULL GROUP BY a.value",
                glob_pattern(dialect, round_keys(question)), survey_id)
        elif alone:
            sql = ("SELECT value, count(*) FROM answers WHERE question_id = ? "
                   "AND value IS NOT NULL GROUP BY value")
            breakdowns[question] = await _counts(db, sql, question)
        else:
            sql = ("SELECT a.value, count(*) FROM answers a "
                   "JOIN responses r ON r.id = a.response_id WHERE a.question_id = ? "
                   "AND r.survey_id = ? AND a.value IS NOT NULL GROUP BY a.value")
            breakdowns[question] = await _counts(db, sql, question, survey_id)
    if alone:
        reached = await _counts(
            db, "SELECT question_id, count(*) FROM answers GROUP BY question_id")
    else:
        reached = await _counts(
            db, "SELECT a.question_id, count(*) FROM answers a "
                "JOIN responses r ON r.id = a.response_id WHERE r.survey_id = ? "
                "GROUP BY a.question_id", survey_id)
    if repeated:
        reached.update(await _counts(
            db, f"SELECT {_QUESTION_OF_KEY}, count(DISTINCT a.response_id) FROM answers a "
                "JOIN responses r ON r.id = a.response_id "
                f"WHERE {glob(dialect, 'a.question_id', '*]/*')} "
                "AND r.survey_id = ? GROUP BY 1", survey_id))
    for question, count in waiting.items():
        if "[" in question:  # in a round: reached already, unless it is the very first round
            if question.endswith("]") or any(
                    not part.endswith("[1]") for part in question.split("/")[:-1]):
                continue
            question = question.rpartition("/")[2]
        reached[question] = reached.get(question, 0) + count
    declined, deleted = events.get("declined", 0), events.get("deleted", 0)
    return Figures(
        started=people + declined + deleted, consented=consented, declined=declined,
        deleted=deleted, blocked=blocked, completed=completed, in_progress=in_progress,
        stopped=stopped, median_seconds=median, by_language=dict(by_language),
        by_source=dict(by_source), breakdowns=breakdowns, reached=reached,
    )


async def _counts(db: Database, sql: str, *params: object) -> dict[str, int]:
    rows = await fetch_all(db, sql, params)
    return {str(row[0]) if row[0] is not None else "": int(row[1]) for row in rows}


async def _only_survey(db: Database, survey_id: str) -> bool:
    """True when no response in the database belongs to another survey (two index probes)."""
    row = await fetch_one(
        db, "SELECT EXISTS (SELECT 1 FROM responses WHERE survey_id < ? OR survey_id > ?)",
        (survey_id, survey_id))
    return not (row and row[0])


async def _median_seconds(db: Database, survey_id: str, completed: int) -> float | None:
    if not completed:
        return None
    rows = await fetch_all(
        db,
        f"SELECT {seconds_between(db.dialect, 'started_at', 'completed_at')} AS seconds "
        "FROM responses WHERE +survey_id = ? AND +completed_at IS NOT NULL "
        "ORDER BY seconds LIMIT ? OFFSET ?",
        (survey_id, 2 - completed % 2, (completed - 1) // 2),
    )
    middle = [float(row[0]) for row in rows]
    return sum(middle) / len(middle)
