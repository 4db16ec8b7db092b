"""A participant as one use case needs them: their row, their response, its answers.

Read in one query (one trip to the database thread): the response is joined
to the participant and its answers come packed as one JSON object.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import orjson

from storage.clock import parse_timestamp, timestamp
from storage.db import Connection, Dialect, Row, Source, fetch_one
from storage.dialect import json_object_agg
from storage.participants import Participant
from storage.responses import Response


@dataclass(frozen=True, slots=True)
class Session:
    """What is stored about one person for one survey (``participant`` None: nothing)."""

    participant: Participant | None = None
    response: Response | None = None
    answers: dict[str, str | None] = field(default_factory=dict)


def _query(dialect: Dialect) -> str:
    return (
    "SELECT p.id, p.language, p.status, p.source, p.created_at, p.consented_at, "
    "p.last_seen_at, p.blocked_at, p.reminders_off, p.reminders_sent, "
    "r.id, r.survey_version, r.language, r.source, r.started_at, r.updated_at, "
    "r.completed_at, r.current, r.draft, r.question_message_id, r.shown_question, "
    f"(SELECT {json_object_agg(dialect, 'question_id', 'value')} FROM answers "
    "WHERE response_id = r.id) "
    "FROM participants p LEFT JOIN responses r ON r.participant_id = p.id AND r.survey_id = ? "
    "WHERE p.id = ?"
    )


_QUERY: dict[Dialect, str] = {d: _query(d) for d in ("sqlite", "postgresql")}


# The same, with whether the update was applied before, for a use case that claims it.
_CLAIM_QUERY: dict[Dialect, str] = {d: (
    "SELECT EXISTS (SELECT 1 FROM processed_updates WHERE update_id = ?), "
    + query.removeprefix("SELECT ").replace(
        "FROM participants p LEFT JOIN", "FROM (SELECT 1) AS one LEFT JOIN participants p "
        "ON p.id = ? LEFT JOIN").replace("WHERE p.id = ?", "")
) for d, query in _QUERY.items()}


async def get_session(
    source: Source, participant_id: int, survey_id: str
) -> Session:
    row = await fetch_one(source, _QUERY[source.dialect], (survey_id, participant_id))
    return Session() if row is None else _session(row, 0, participant_id, survey_id)


async def claim_session(
    tx: Connection, participant_id: int, survey_id: str, update_id: int, now: dt.datetime
) -> tuple[Session, bool]:
    """Claim the update and read the session in one trip: (session, False if the update
    was applied before). The claim is written with the transaction's next statement; a
    participant's transactions never run side by side (``key``), nor do an update's."""
    row = await fetch_one(tx, _CLAIM_QUERY[tx.dialect], (update_id, participant_id, survey_id))
    assert row is not None
    fresh = not row[0]
    if fresh:
        tx.later("INSERT INTO processed_updates (update_id, processed_at) VALUES (?, ?)",
                 (update_id, timestamp(now)))
    if row[1] is None:
        return Session(), fresh
    return _session(row, 1, participant_id, survey_id), fresh


def _session(found: Row, start: int, participant_id: int, survey_id: str) -> Session:
    row = [found[i] for i in range(start, len(found))]
    participant = Participant(
        id=row[0], language=row[1], status=row[2], source=row[3],
        created_at=parse_timestamp(row[4]) or dt.datetime.min,
        consented_at=parse_timestamp(row[5]),
        last_seen_at=parse_timestamp(row[6]) or dt.datetime.min,
        blocked_at=parse_timestamp(row[7]), reminders_off=bool(row[8]), reminders_sent=row[9],
    )
    if row[10] is None:
        return Session(participant)
    response = Response(
        id=row[10], participant_id=participant_id, survey_id=survey_id, survey_version=row[11],
        language=row[12], source=row[13],
        started_at=parse_timestamp(row[14]) or dt.datetime.min,
        updated_at=parse_timestamp(row[15]) or dt.datetime.min,
        completed_at=parse_timestamp(row[16]), current=row[17], draft=row[18],
        question_message_id=row[19], shown_question=row[20],
    )
    answers: dict[str, str | None] = orjson.loads(row[21]) if row[21] else {}
    return Session(participant, response, answers)
