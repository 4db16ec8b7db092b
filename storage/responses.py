"""Responses (one participant's pass through one survey) and their answers.

Answers: one row of ``answers`` per (response, key), ``value`` NULL for a
skipped question, each with the survey version it was given under. The key
is the question's id, except for a question inside a repeat (a household
roster), which is asked once per *round*: its answer in a round is stored
under a key that names the round, built by
:func:`bot.survey.model.answer_key` and read back by
:func:`bot.survey.model.parse_key`::

    household_size                 a question outside repeats: its id
    member[2]/age                  'age' for the 2nd round of the repeat 'member'
    member[2]/visit[1]/visit_date  one level deeper: 1st visit of the 2nd member
    member[2]/member_pos           a calculation inside the round (stored too)

- Round numbers start at 1 and are the order the participant answered them
  in; for each repeat they run 1..n with no gap in a completed response (a
  round whose questions were all not relevant has no row: it is still a
  round, so count rounds from the highest number, not from the rows).
  ``[`` never appears in a question id, so ``question_id GLOB '*]/age'``
  finds every round's answer to ``age`` (:func:`storage.stats.round_keys`).
- Nothing else is stored for a round: the rounds of a repeat are the numbers
  that appear in its keys. A round is named by the answer the survey takes
  as its title (``Repeat.title``, e.g. ``member[2]/member_name``).
- ``responses.current`` holds a key too: the question being asked in its
  round, or ``member[+]`` (``member[2]/visit[+]``) while the participant is
  at the review of a repeat's rounds.
- Rows outside what the survey now walks (a round beyond a count lowered
  before the participant confirmed, answers of an earlier survey version)
  may remain until the response moves on; what counts is what
  :func:`bot.survey.engine.effective_answers` keeps (it walks the rounds).

To list a response's rounds, as an export with a sheet per repeat needs them::

    SELECT question_id, value FROM answers WHERE response_id = ?

then for each key, ``parse_key(key)`` gives ``((("member", 2), ("visit", 1)),
"visit_date")``: the row belongs to the sheet of the last pair's repeat
(``visit``), the column is the question id, and the pairs name the round
exactly: (this response, member 2, visit 1) is one row of the ``visit``
sheet, whose parent is the row (this response, member 2) of the ``member``
sheet, whose parent is the response's row in the main table. Kobo numbers
the rows of each sheet as it writes them (``_index``) and gives each the
number of its parent's row (``_parent_index``); write the rows in response
order, then round order, and those numbers follow. Keep only the keys
:func:`bot.survey.engine.effective_answers` keeps, and read questions and
repeats (labels, order, which repeat a question is in: ``Question.repeat``,
``Survey.repeats``) from the survey.
/delete erases the response and, through ``ON DELETE CASCADE``, every answer
of every round.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from storage.clock import parse_timestamp, timestamp
from storage.db import Connection, Database, Row, fetch_all, fetch_one, insert, write_one


@dataclass(frozen=True, slots=True)
class Response:
    id: int
    participant_id: int
    survey_id: str
    survey_version: str
    language: str
    source: str | None
    started_at: dt.datetime
    updated_at: dt.datetime
    completed_at: dt.datetime | None
    current: str | None
    draft: str | None
    question_message_id: int | None
    shown_question: str | None = None  # the question that message shows


def _row(row: Row) -> Response:
    return Response(
        id=row["id"],
        participant_id=row["participant_id"],
        survey_id=row["survey_id"],
        survey_version=row["survey_version"],
        language=row["language"],
        source=row["source"],
        started_at=parse_timestamp(row["started_at"]) or dt.datetime.min,
        updated_at=parse_timestamp(row["updated_at"]) or dt.datetime.min,
        completed_at=parse_timestamp(row["completed_at"]),
        current=row["current"],
        draft=row["draft"],
        question_message_id=row["question_message_id"],
        shown_question=row["shown_question"],
    )


async def get_response(db: Database, participant_id: int, survey_id: str) -> Response | None:
    row = await fetch_one(
        db,
        "SELECT * FROM responses WHERE participant_id = ? AND survey_id = ?",
        (participant_id, survey_id),
    )
    return _row(row) if row else None


async def get_answers(db: Database, response_id: int) -> dict[str, str | None]:
    """Question id → stored value (``None``: skipped)."""
    rows = await fetch_all(
        db,
        "SELECT question_id, value FROM answers WHERE response_id = ?",
        (response_id,),
    )
    return {row["question_id"]: row["value"] for row in rows}


async def start_response(
    tx: Connection,
    *,
    participant_id: int,
    survey_id: str,
    survey_version: str,
    language: str,
    source: str | None,
    current: str | None,
    now: dt.datetime,
) -> int:
    return await insert(
        tx, "INSERT INTO responses (participant_id, survey_id, survey_version, language, "
        "source, started_at, updated_at, completed_at, current) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (participant_id, survey_id, survey_version, language, source, timestamp(now),
         timestamp(now), timestamp(now) if current is None else None, current),
    )


async def save_step(
    tx: Connection,
    response: Response,
    *,
    survey_version: str,
    answered: dict[str, str | None],
    dropped: Iterable[str],
    current: str | None,
    now: dt.datetime,
) -> None:
    """Store new answers, forget dropped ones, move the response to ``current``.

    A response whose ``current`` becomes ``None`` is completed (the first time only
    sets ``completed_at``). The multi-select draft is cleared.
    """
    stamp = timestamp(now)
    if answered:
        await save_answers(tx, response.id, answered, survey_version, now)
    forgotten = [(response.id, qid) for qid in dropped]
    if forgotten:
        tx.later_many(
            "DELETE FROM answers WHERE response_id = ? AND question_id = ?", forgotten)
    tx.later(
        "UPDATE responses SET current = ?, draft = NULL, survey_version = ?, updated_at = ?, "
        "completed_at = CASE WHEN CAST(? AS TEXT) IS NULL THEN coalesce(completed_at, ?) "
        "ELSE completed_at END "
        "WHERE id = ?",
        (current, survey_version, stamp, current, stamp, response.id),
    )


async def save_answers(
    tx: Connection, response_id: int, answered: dict[str, str | None],
    survey_version: str, now: dt.datetime,
) -> None:
    """Store (or replace) answers, each with the survey version it was given under."""
    stamp = timestamp(now)
    tx.later_many(
        "INSERT INTO answers (response_id, question_id, value, survey_version, answered_at) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (response_id, question_id) DO UPDATE SET "
        "value = excluded.value, survey_version = excluded.survey_version, "
        "answered_at = excluded.answered_at",
        [(response_id, qid, value, survey_version, stamp) for qid, value in answered.items()],
    )


async def set_draft(tx: Connection, response_id: int, draft: str | None) -> None:
    tx.later("UPDATE responses SET draft = ? WHERE id = ?", (draft, response_id))


async def set_question_message(
    db: Database, participant_id: int, survey_id: str, message_id: int, question_id: str
) -> None:
    """The chat message that now shows ``question_id`` to the participant (one statement)."""
    await write_one(
        db, "UPDATE responses SET question_message_id = ?, shown_question = ? "
            "WHERE participant_id = ? AND survey_id = ?",
        (message_id, question_id, participant_id, survey_id))


async def set_response_language(
    tx: Connection, response_id: int, language: str
) -> None:
    tx.later("UPDATE responses SET language = ? WHERE id = ?", (language, response_id))


async def stored_files(db: Database) -> list[str]:
    """Every answer value that names a stored file (``media/…``)."""
    rows = await fetch_all(db, "SELECT value FROM answers WHERE value LIKE 'media/%'")
    return [row[0] for row in rows]
