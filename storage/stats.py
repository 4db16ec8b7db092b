"""The consultation's figures, computed by SQLite (aggregates only, no rows loaded)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from storage.clock import timestamp
from storage.db import Database, fetch_all, fetch_one

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
    breakdowns: dict[str, dict[str, int]]  # question id -> value -> responses
    reached: dict[str, int]  # question id -> responses that were asked it

    @property
    def responses(self) -> int:
        return self.completed + self.in_progress + self.stopped

    @property
    def completion_rate(self) -> float | None:
        return self.completed / self.responses if self.responses else None


async def _scalar(db: Database, sql: str, *params: object) -> int:
    row = await fetch_one(db, sql, params)
    return int(row[0] or 0) if row else 0


async def _counts(db: Database, sql: str, *params: object) -> dict[str, int]:
    rows = await fetch_all(db, sql, params)
    return {str(row[0]) if row[0] is not None else "": int(row[1]) for row in rows}


async def get_figures(
    db: Database, survey_id: str, breakdown_questions: Sequence[str], now: dt.datetime
) -> Figures:
    stale = timestamp(now - STOPPED_AFTER)
    declined = await _scalar(db, "SELECT count(*) FROM events WHERE kind = 'declined'")
    deleted = await _scalar(db, "SELECT count(*) FROM events WHERE kind = 'deleted'")
    people = await _scalar(db, "SELECT count(*) FROM participants")
    consented = await _scalar(
        db, "SELECT count(*) FROM participants WHERE status = 'consented'")
    blocked = await _scalar(
        db, "SELECT count(*) FROM participants WHERE blocked_at IS NOT NULL")
    row = await fetch_one(
        db,
        "SELECT count(completed_at), "
        "       sum(completed_at IS NULL AND updated_at >= ?), "
        "       sum(completed_at IS NULL AND updated_at < ?) "
        "FROM responses WHERE survey_id = ?",
        (stale, stale, survey_id),
    )
    completed, in_progress, stopped = (int(v or 0) for v in row) if row else (0, 0, 0)
    median = await _median_seconds(db, survey_id, completed)
    by_language = await _counts(
        db, "SELECT language, count(*) FROM responses WHERE survey_id = ? GROUP BY language",
        survey_id)
    by_source = await _counts(
        db, "SELECT coalesce(source, ''), count(*) FROM responses WHERE survey_id = ? "
            "GROUP BY 1", survey_id)
    breakdowns = {}
    for question in breakdown_questions:
        breakdowns[question] = await _counts(
            db, "SELECT a.value, count(*) FROM answers a JOIN responses r ON r.id = a.response_id "
                "WHERE a.question_id = ? AND r.survey_id = ? AND a.value IS NOT NULL "
                "GROUP BY a.value", question, survey_id)
    reached = await _counts(
        db, "SELECT a.question_id, count(*) FROM answers a "
            "JOIN responses r ON r.id = a.response_id WHERE r.survey_id = ? "
            "GROUP BY a.question_id", survey_id)
    waiting = await _counts(
        db, "SELECT current, count(*) FROM responses WHERE survey_id = ? AND current IS NOT NULL "
            "GROUP BY current", survey_id)
    for question, count in waiting.items():
        reached[question] = reached.get(question, 0) + count
    return Figures(
        started=people + declined + deleted, consented=consented, declined=declined,
        deleted=deleted, blocked=blocked, completed=completed, in_progress=in_progress,
        stopped=stopped, median_seconds=median, by_language=by_language, by_source=by_source,
        breakdowns=breakdowns, reached=reached,
    )


async def _median_seconds(db: Database, survey_id: str, completed: int) -> float | None:
    if not completed:
        return None
    rows = await fetch_all(
        db,
        "SELECT (julianday(completed_at) - julianday(started_at)) * 86400 AS seconds "
        "FROM responses WHERE survey_id = ? AND completed_at IS NOT NULL "
        "ORDER BY seconds LIMIT ? OFFSET ?",
        (survey_id, 2 - completed % 2, (completed - 1) // 2),
    )
    middle = [float(row[0]) for row in rows]
    return sum(middle) / len(middle)
