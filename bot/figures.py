"""The consultation's figures: read (:func:`figures_of`), and as text for a person (in
their language) or as JSON.

A breakdown question asked once per round of a repeat counts people (each
response once, whatever its rounds hold), or rounds when its repeat says so
(``figures: rounds``); the funnel counts the responses that reached each
question, in any round.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from babel.dates import format_datetime, format_timedelta
from babel.numbers import format_percent
from storage.db import Database
from storage.stats import STOPPED_AFTER, Figures, get_figures

from bot.i18n import Translator, language_name, titled
from bot.survey.model import Counting, Question, Survey

TOP = 12  # longest breakdown shown in a message; JSON has them all


async def figures_of(db: Database, survey: Survey, now: dt.datetime) -> Figures:
    """The figures of ``survey`` now."""
    repeated = {q.id: survey.repeat_by_id[q.repeat].counting is Counting.ROUNDS
                for q in survey.questions if q.repeat is not None}
    return await get_figures(db, survey.id, [q.id for q in survey.breakdown_questions], now,
                             repeated)


def as_json(survey: Survey, figures: Figures, now: dt.datetime) -> dict[str, Any]:
    """The figures for programs: seconds as whole numbers, rates to three decimals."""
    return {
        "survey": {"id": survey.id, "version": survey.version},
        "generated_at": now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "participants": {
            "started": figures.started, "consented": figures.consented,
            "declined": figures.declined, "deleted_their_data": figures.deleted,
            "blocked_the_bot": figures.blocked,
        },
        "responses": {
            "completed": figures.completed, "in_progress": figures.in_progress,
            "stopped_responding": figures.stopped,
            "stopped_after_days": STOPPED_AFTER.days,
            "completion_rate": _rounded(figures.completion_rate, 3),
            "median_seconds_to_complete": _rounded(figures.median_seconds, 0),
        },
        "by_language": figures.by_language,
        "by_source": figures.by_source,
        "breakdowns": figures.breakdowns,
        "funnel": [{"question": q.id, "reached": figures.reached.get(q.id, 0)}
                   for q in survey.questions if q.asks],
    }


def _rounded(value: float | None, decimals: int) -> float | int | None:
    """``value`` to ``decimals`` places (a whole number for none), as JSON readers want it."""
    if value is None:
        return None
    return round(value) if decimals == 0 else round(value, decimals)


def _label(t: Translator, question: Question, value: str) -> str:
    index = question.choice_index.get(value)
    return question.choices[index].label.get(t.language) if index is not None else value


def _ranked(t: Translator, counts: dict[str, int], name: Any) -> str:
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    shown = [f"{name(value)}: {t.number(count)}" for value, count in ordered[:TOP]]
    rest = sum(count for _, count in ordered[TOP:])
    if rest:
        shown.append(t.gettext("others: {count}", count=rest))
    return " · ".join(shown) if shown else "—"


def as_text(t: Translator, survey: Survey, figures: Figures, now: dt.datetime) -> str:
    """The figures for an organizer, in their language (plain text, paragraphs)."""
    rate = figures.completion_rate
    median = figures.median_seconds
    when = format_datetime(now, "medium", tzinfo=dt.UTC, locale=t.locale)
    no_link = t.gettext("(no link)")
    paragraphs = [
        t.gettext("{title} (survey {id}, version {version}) — {time} UTC",
                  title=titled(t, survey.title.get(t.language)), id=survey.id,
                  version=survey.version, time=when),
        "\n".join([
            t.gettext("Opened the bot: {count}", count=figures.started),
            t.gettext("Consented: {count}", count=figures.consented),
            t.gettext("Declined: {count}", count=figures.declined),
            t.gettext("Deleted their data: {count}", count=figures.deleted),
            t.gettext("Blocked the bot: {count}", count=figures.blocked),
        ]),
        "\n".join([
            t.gettext("Completed: {count}", count=figures.completed),
            t.gettext("In progress: {count}", count=figures.in_progress),
            t.ngettext("Stopped responding (no answer for {days} day): {count}",
                       "Stopped responding (no answer for {days} days): {count}",
                       STOPPED_AFTER.days, days=STOPPED_AFTER.days, count=figures.stopped),
            t.gettext("Completion rate: {rate}", rate=format_percent(rate, "#,##0.0%",
                                                                      locale=t.locale)
                      if rate is not None else "—"),
            t.gettext("Median time to complete: {duration}", duration=format_timedelta(
                dt.timedelta(seconds=median), locale=t.locale) if median is not None else "—"),
        ]),
        t.gettext("By language: {list}", list=_ranked(t, figures.by_language, language_name)),
        t.gettext("By link: {list}", list=_ranked(
            t, figures.by_source, lambda source: source or no_link)),
    ]
    for question_id, counts in figures.breakdowns.items():
        question = survey.by_id[question_id]
        paragraphs.append(t.gettext("By “{question}”: {list}", question=question.id,
                                    list=_ranked(t, counts, lambda v, q=question: _label(t, q, v))))
    funnel = [t.gettext("Reached each question (of {count} responses):", count=figures.responses)]
    for question in survey.questions:
        if question.asks:
            funnel.append(f"{question.id}: {t.number(figures.reached.get(question.id, 0))}")
    paragraphs.append("\n".join(funnel))
    return "\n\n".join(paragraphs)
