"""What the pages show, shaped from the use cases' values: funnel, distributions, filters.

Nothing here reads the database or renders HTML; the templates lay these out.
Counts under ``CONSULTBOT_SMALL_CELL`` are shown (organizers may see them) but
marked ``small``, so an organizer knows what a published summary would hide.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from storage.results import Counts, Filters, People

from bot.i18n import Translator, language_name
from bot.regions import REGION_CODES, region_name, region_of
from bot.summary import is_country_list
from bot.survey.model import CHOICE_TYPES, NUMBER_TYPES, Question, QuestionType, Survey

MOST_ROWS = 30  # rows of a distribution of numbers shown before the rest is summed


@dataclass(frozen=True, slots=True)
class Row:
    label: str
    count: int
    share: float  # of the responses that answered the question
    small: bool  # fewer than k: a published summary would hide it


@dataclass(frozen=True, slots=True)
class Stage:
    label: str
    count: int
    share: float  # of the first stage
    lost: int  # fewer than the step before that everyone reaches
    conditional: bool = False  # asked only to some (a condition): nobody is lost at it


@dataclass(frozen=True, slots=True)
class Distribution:
    question: Question
    title: str
    answered: int
    skipped: int
    rows: tuple[Row, ...]
    notes: tuple[str, ...]
    free_text: bool


def question_title(question: Question, language: str) -> str:
    return question.text.get(language) or question.id


def funnel(t: Translator, survey: Survey, people: People, counts: Counts) -> list[Stage]:
    """Opened → consented → each question → completed, with what each step lost."""
    language = t.language
    steps: list[tuple[str, int, bool]] = [
        (t.gettext("Opened the bot"), people.opened, False),
        (t.gettext("Consented"), people.consented, False)]
    steps += [(question_title(q, language), counts.reached(q.id), q.relevant is not None)
              for q in survey.questions if q.asks]
    steps.append((t.gettext("Completed"), counts.completed, False))
    first = steps[0][1] or 1
    stages, before = [], steps[0][1]
    for label, count, conditional in steps:
        lost = 0 if conditional else max(0, before - count)
        stages.append(Stage(label, count, count / first, lost, conditional))
        if not conditional:
            before = count
    return stages


def _rows(counts: Mapping[str, int], label: Mapping[str, str], k: int,
          order: list[str] | None = None, total: int | None = None) -> tuple[Row, ...]:
    answered = total if total is not None else sum(counts.values())
    keys = order if order is not None else sorted(counts, key=lambda v: -counts[v])
    return tuple(Row(label.get(v, v), counts.get(v, 0), counts.get(v, 0) / (answered or 1),
                     0 < counts.get(v, 0) < k) for v in keys if v in counts or order)


def breakdown(t: Translator, counts: Mapping[str, int], k: int,
              label: Mapping[str, str] | None = None) -> tuple[Row, ...]:
    """A breakdown (languages, say) as rows, the largest first."""
    return _rows(counts, label or {}, k)


def languages(t: Translator, counts: Counts, k: int) -> tuple[Row, ...]:
    return breakdown(t, counts.by_language, k, {code: language_name(code)
                                                for code in counts.by_language})


def distribution(t: Translator, question: Question, values: Mapping[str | None, int],
                 k: int) -> Distribution:
    """One question's answers counted: one row per choice (or region, or number)."""
    language = t.language
    skipped = values.get(None, 0)
    given = {v: n for v, n in values.items() if v is not None}
    answered = sum(given.values())
    notes: list[str] = []
    rows: tuple[Row, ...] = ()
    if question.type is QuestionType.SELECT_ONE and is_country_list(question):
        regions: dict[str, int] = {}
        for value, count in given.items():
            region = region_of(value) or ""
            regions[region] = regions.get(region, 0) + count
        names = {code: region_name(code, language) for code in REGION_CODES}
        names[""] = t.gettext("Other answers")
        rows = _rows(regions, names, k)
        notes.append(t.gettext("Countries are grouped by world region."))
    elif question.type is QuestionType.SELECT_MULTIPLE:
        picked: dict[str, int] = {}
        for combination, count in given.items():
            for choice in set(combination.split()):
                picked[choice] = picked.get(choice, 0) + count
        names = {c.id: c.label.get(language) for c in question.choices}
        order = [c.id for c in question.choices if c.id in picked]
        order += sorted(set(picked) - set(order))
        rows = _rows(picked, names, k, order, answered)
        notes.append(t.gettext("Several answers possible: the shares add up to more than "
                               "100%."))
    elif question.type in CHOICE_TYPES:
        names = {c.id: c.label.get(language) for c in question.choices}
        order = [c.id for c in question.choices if c.id in given]
        order += sorted(set(given) - set(order))
        rows = _rows(given, names, k, order)
    elif question.type in NUMBER_TYPES:
        numbers = _numbers(given)
        ordered = sorted(numbers)
        shown = {str(v): numbers[v] for v in ordered}
        keys = [str(v) for v in ordered]
        if len(keys) > MOST_ROWS:
            keys = sorted(keys, key=lambda v: -shown[v])[:MOST_ROWS]
            keys.sort(key=Decimal)
            notes.append(t.gettext("The {count} most frequent values are shown.",
                                   count=MOST_ROWS))
        rows = _rows(shown, {}, k, keys, answered)
        if numbers:
            mean, median = _mean_and_median(numbers)
            notes.append(t.gettext("Mean {mean}, median {median}.",
                                   mean=t.number(round(mean, 2)),
                                   median=t.number(median, grouping=False)))
    return Distribution(question, question_title(question, language), answered, skipped, rows,
                        tuple(notes), question.type is QuestionType.TEXT)


def _mean_and_median(numbers: Mapping[Decimal, int]) -> tuple[float, float]:
    """From counts per value, without expanding them."""
    total = sum(numbers.values())
    mean = float(sum(v * n for v, n in numbers.items())) / total
    middle, seen = [], 0
    wanted = sorted({(total - 1) // 2, total // 2})
    for value, count in sorted(numbers.items()):
        middle += [float(value) for position in wanted if seen <= position < seen + count]
        seen += count
    return mean, statistics.fmean(middle)


def _numbers(values: Mapping[str, int]) -> dict[Decimal, int]:
    found: dict[Decimal, int] = {}
    for raw, count in values.items():
        try:
            number = Decimal(raw)
        except InvalidOperation:
            continue
        if number.is_finite():
            found[number] = found.get(number, 0) + count
    return found


@dataclass(frozen=True, slots=True)
class FilterChoice:
    """A filter the results page offers on a breakdown question."""

    question: Question
    title: str
    options: tuple[tuple[str, str], ...]  # value in the query, shown text
    regions: bool  # the values are world regions of a country question


def filter_choices(survey: Survey, language: str) -> list[FilterChoice]:
    """A filter for each breakdown question with choices (a stakeholder type; world regions
    for a list of countries)."""
    found = []
    for question in survey.breakdown_questions:
        if question.type is not QuestionType.SELECT_ONE:
            continue
        if is_country_list(question):
            options = tuple((code, region_name(code, language)) for code in REGION_CODES)
            found.append(FilterChoice(question, question_title(question, language), options,
                                      True))
        else:
            options = tuple((c.id, c.label.get(language)) for c in question.choices)
            found.append(FilterChoice(question, question_title(question, language), options,
                                      False))
    return found


def filters_from(query: Mapping[str, str], survey: Survey,
                 choices: list[FilterChoice]) -> tuple[Filters, dict[str, str]]:
    """The filters a query asks for (unknown values ignored), and what it asked, to show."""
    asked: dict[str, str] = {}
    language = query.get("language") or None
    if language not in survey.languages:
        language = None
    else:
        asked["language"] = language
    days: list[dt.date | None] = []
    for name in ("from", "until"):
        try:
            day = dt.date.fromisoformat(query.get(name, ""))
            asked[name] = day.isoformat()
        except ValueError:
            day = None
        days.append(day)
    answers = []
    for choice in choices:
        value = query.get(f"q.{choice.question.id}", "")
        if value not in {v for v, _ in choice.options}:
            continue
        asked[f"q.{choice.question.id}"] = value
        if choice.regions:
            countries = tuple(sorted(c.id for c in choice.question.choices
                                     if region_of(c.id) == value))
            answers.append((choice.question.id, countries))
        else:
            answers.append((choice.question.id, (value,)))
    return Filters(language, days[0], days[1], tuple(answers)), asked
