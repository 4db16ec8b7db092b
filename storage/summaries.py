"""The aggregates a published summary is drawn from (counts only: no row is loaded).

Everything counts responses of consented participants to one survey. Answers
are counted per stored value: for a multi-select question a value is a
space-separated combination of choice ids, counted as a whole here (the caller
splits combinations into choices). Skipped answers (``NULL``) count nowhere.
Small-cell protection is the caller's job (``bot.summary``): these are the raw
figures and must not be published as they are.

A question asked once per round of a repeat (its answers stored as
``member[2]/sex``) is read per participant instead: one row per response,
holding the values of all its rounds (:func:`values_per_participant`), so that
the caller can count people, or rounds, and protect both.
"""

from __future__ import annotations

from collections.abc import Sequence

from storage.db import Database, fetch_all, fetch_one
from storage.dialect import glob, glob_pattern, text_agg
from storage.stats import round_keys

_SEPARATOR = "\x1e"  # between the values of one response's rounds (never in a stored value)


async def count_participants(db: Database, survey_id: str) -> int:
    """Consented participants who started the survey (finished or not)."""
    row = await fetch_one(
        db,
        "SELECT count(*) FROM responses r JOIN participants p ON p.id = r.participant_id "
        "WHERE r.survey_id = ? AND p.status = 'consented'",
        (survey_id,),
    )
    return int(row[0]) if row else 0


async def count_answers(
    db: Database, survey_id: str, question_ids: Sequence[str]
) -> dict[str, dict[str, int]]:
    """Question id → stored value → number of responses that gave it.

    Every requested question is in the result, with an empty mapping when
    nobody answered it.
    """
    counts: dict[str, dict[str, int]] = {question: {} for question in question_ids}
    if not counts:
        return counts
    marks = ", ".join("?" for _ in counts)
    rows = await fetch_all(
        db,
        "SELECT a.question_id, a.value, count(*) FROM answers a "
        "JOIN responses r ON r.id = a.response_id "
        "JOIN participants p ON p.id = r.participant_id "
        f"WHERE r.survey_id = ? AND p.status = 'consented' AND a.question_id IN ({marks}) "
        "AND a.value IS NOT NULL "
        "GROUP BY a.question_id, a.value",
        (survey_id, *counts),
    )
    for question, value, count in rows:
        counts[str(question)][str(value)] = int(count)
    return counts


async def values_per_participant(
    db: Database, survey_id: str, question_ids: Sequence[str]
) -> dict[str, list[list[str]]]:
    """Question id (asked once per round) → for each response that answered it in some
    round, the values of its rounds (skipped rounds left out)."""
    found: dict[str, list[list[str]]] = {}
    for question in question_ids:
        rows = await fetch_all(
            db,
            f"SELECT {text_agg(db.dialect, 'a.value', _SEPARATOR)} FROM answers a "
            "JOIN responses r ON r.id = a.response_id "
            "JOIN participants p ON p.id = r.participant_id "
            "WHERE r.survey_id = ? AND p.status = 'consented' "
            f"AND {glob(db.dialect, 'a.question_id')} "
            "AND a.value IS NOT NULL GROUP BY a.response_id",
            (survey_id, glob_pattern(db.dialect, round_keys(question))),
        )
        found[question] = [str(row[0]).split(_SEPARATOR) for row in rows]
    return found
