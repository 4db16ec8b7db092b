"""Responses written the way the bot writes them (engine + storage), without Telegram."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from bot.survey import engine
from bot.survey.model import Survey
from storage.db import Database, transaction
from storage.events import record_event
from storage.sqlite import SqliteDatabase

from storage import participants, responses

START = dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC)


async def add_response(
    db: Database,
    survey: Survey,
    user_id: int,
    inputs: Sequence[str | None],
    *,
    language: str = "en",
    source: str | None = None,
    started: dt.datetime = START,
    minutes_per_answer: float = 1.0,
) -> None:
    """A participant who consented and gave ``inputs`` in order (``None``: skip; at the
    review of a repeat's rounds, ``"+"`` adds a round and anything else goes on)."""
    now = started
    step = engine.start(survey, now)
    async with transaction(db) as tx:
        await participants.create_participant(tx, user_id, source, now)
        await participants.set_language(tx, user_id, language, now)
        await participants.save_consent(tx, user_id, now)
        await responses.start_response(
            tx, participant_id=user_id, survey_id=survey.id, survey_version=survey.version,
            language=language, source=source, current=step.progress.current, now=now)
    response = await responses.get_response(db, user_id, survey.id)
    assert response is not None
    for raw in inputs:
        now += dt.timedelta(minutes=minutes_per_answer)
        question = step.progress.current
        assert question is not None, "more inputs than questions"
        if question.endswith("[+]"):  # the review of a repeat's rounds: "+" adds one
            move = engine.add_round if raw == "+" else engine.go_on
            step = move(survey, step.progress, now)
        elif raw is None:
            step = engine.skip(survey, step.progress, now)
        else:
            step = engine.answer(survey, step.progress, raw, now)
        async with transaction(db) as tx:
            await responses.save_step(
                tx, response, survey_version=survey.version,
                answered=step.changes(),
                dropped=step.dropped, current=step.progress.current, now=now)


async def add_event(db: Database, kind: str, language: str = "en") -> None:
    async with transaction(db) as tx:
        await record_event(tx, kind, language, START)


# Walks through the built-in consultation.
PARTNER = ["migrant", "DE", None, "yes", "local regional", "civil_society", "rights", None,
           "4", "3", "2015", "divided_debate", "A good practice"]
NO_PARTNER = ["civil_society", "KE", "SN", "no", "information funding", None]


@asynccontextmanager
async def traced(db: Database) -> AsyncIterator[list[str]]:
    """The statements ``db`` runs inside the block (SQLite's trace callback; on
    PostgreSQL, every read the storage layer sends)."""
    statements: list[str] = []
    if isinstance(db, SqliteDatabase):
        await db.connection.set_trace_callback(statements.append)
        try:
            yield statements
        finally:
            await db.connection.set_trace_callback(None)
        return
    read = db.fetch_all

    async def fetch_all(sql: str, params: Any = ()) -> list[Any]:
        statements.append(sql)
        return await read(sql, params)

    db.fetch_all = fetch_all  # type: ignore[method-assign]
    try:
        yield statements
    finally:
        del db.fetch_all
