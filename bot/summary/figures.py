"""The figures of a summary: what it may publish, computed from counts alone.

:func:`summarize` turns aggregates (question id → stored value → responses)
into a :class:`Summary`, a value that holds only publishable figures; the
caption and the chart draw from it and from nothing else, so neither can show
more than it holds. Nothing here reads the database or translates.

- Fewer than ``k`` participants: nothing is published (``participants`` is
  ``None``, no block), only a note that results come later.
- A question answered by fewer than ``k`` people: its block is withheld.
- One answer per person (``select_one``): a category of fewer than ``k`` goes
  into "Other", together with the survey's own "other" choice and values the
  survey no longer knows. While "Other" holds between 1 and ``k - 1`` people,
  the smallest shown category joins it, so no hidden count can be recovered
  by subtracting the shown ones from the total. Fewer than two categories
  left: the block is withheld. Beyond the ``MOST_SHOWN`` largest categories,
  the rest goes into "Other" too, so that the chart stays readable on a phone.
  Countries are never shown, only world regions (:mod:`bot.regions`),
  protected the same way.
- Several answers per person (``select_multiple``): a choice picked by fewer
  than ``k`` (or beyond the ``MOST_SHOWN`` most picked) is not shown; "Other
  answers" (people who picked at least one choice not shown, the survey's
  "other" included) is shown only when it counts ``k`` or more. Fewer than two
  entries left: the block is withheld.
- Scales: the mean of everyone who answered; the low, middle and high thirds
  of the scale are shown only when each holds ``k`` or more, the smallest
  group being merged into its smaller neighbour until they do (one group left:
  the mean alone).
- Numbers: the median.

Percentages are of the people who answered the question, rounded to whole
percent. Free text is never read, ``text`` questions are never summarized and
nothing identifies a participant.

A question asked once per round of a repeat (:func:`summarize_rounds`) counts
people unless its repeat says ``rounds``:

- people: each participant once. A choice is the share of people who gave it
  in at least one round (several answers per person, as above, whatever the
  question's type; a country list, each person's first round); a scale or a
  number, each person's mean over their rounds. The rules above apply as
  they are.
- rounds: every round counts (the share of household members, not of
  households), computed by the rules above over rounds; and each category
  shown, "Other" included, must also stand for ``k`` people or more, and the
  whole for ``k`` people: otherwise the block is withheld.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from bot.regions import REGION_CODES, region_of
from bot.survey.model import Counting, Question, QuestionType, Survey

OTHER_CHOICE = "other"
MOST_SHOWN = 7  # categories of a block shown on their own; the rest is "Other"


class BlockKind(StrEnum):
    SHARES = "shares"  # one answer per person: the categories add up to everyone
    SELECTED = "selected"  # several answers per person: share who picked each
    SCALE = "scale"  # mean, and share per part of the scale
    MEDIAN = "median"


class CategoryKind(StrEnum):
    CHOICE = "choice"  # ``id`` is a choice id
    REGION = "region"  # ``id`` is a region code of bot.regions
    OTHER = "other"  # everything not shown on its own
    RANGE = "range"  # scale points ``low`` to ``high``


@dataclass(frozen=True, slots=True)
class Category:
    kind: CategoryKind
    id: str
    count: int  # people it stands for: never fewer than the summary's k
    share: float  # of the people who answered the question
    low: Decimal | None = None
    high: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Block:
    """One question's publishable results."""

    question_id: str
    kind: BlockKind
    respondents: int
    categories: tuple[Category, ...] = ()
    value: float | None = None  # the mean of a scale, the median of a number


@dataclass(frozen=True, slots=True)
class Summary:
    survey_id: str
    generated_at: dt.datetime
    k: int
    participants: int | None  # None while fewer than k: nothing is published
    breakdowns: tuple[Block, ...] = ()  # who answered (the survey's breakdown questions)
    results: tuple[Block, ...] = ()  # the key questions
    withheld: tuple[str, ...] = ()  # questions whose block is withheld (too few answers)

    @property
    def published(self) -> bool:
        return self.participants is not None

    @property
    def blocks(self) -> tuple[Block, ...]:
        return self.breakdowns + self.results

    @property
    def shows_figures(self) -> bool:
        """Whether any result is shown: the number of participants alone is not one."""
        return bool(self.blocks)


_SUMMARIZED = frozenset({
    QuestionType.SELECT_ONE, QuestionType.SELECT_MULTIPLE, QuestionType.SCALE,
    QuestionType.INTEGER, QuestionType.DECIMAL,
})


def summarized_questions(survey: Survey) -> tuple[tuple[Question, ...], tuple[Question, ...]]:
    """The breakdown questions and the key questions a summary covers, in survey order."""
    breakdowns = tuple(q for q in survey.breakdown_questions if q.type in _SUMMARIZED)
    keys = tuple(q for q in survey.key_questions if q.type in _SUMMARIZED and not q.breakdown)
    return breakdowns, keys


def summarize(
    survey: Survey,
    participants: int,
    answers: Mapping[str, Mapping[str, int]],
    now: dt.datetime,
    k: int = 5,
    rounds: Mapping[str, Sequence[Sequence[str]]] | None = None,
) -> Summary:
    """The :class:`Summary` of these aggregates (question id → stored value → responses);
    ``rounds``: for questions asked once per round, the values of each participant's
    rounds."""
    if k < 1:
        raise ValueError(f"k must be at least 1, not {k}")
    if participants < k:
        return Summary(survey.id, now, k, None)
    breakdowns, keys = summarized_questions(survey)
    withheld: list[str] = []
    blocks: dict[str, tuple[Block, ...]] = {"breakdowns": (), "results": ()}
    for part, questions in (("breakdowns", breakdowns), ("results", keys)):
        built = []
        for question in questions:
            if question.repeat is not None:
                counting = survey.repeat_by_id[question.repeat].counting
                block = summarize_rounds(question, (rounds or {}).get(question.id, ()),
                                         counting, k)
            else:
                block = summarize_question(question, answers.get(question.id, {}), k)
            if block is None:
                withheld.append(question.id)
            else:
                built.append(block)
        blocks[part] = tuple(built)
    return Summary(survey.id, now, k, participants, blocks["breakdowns"], blocks["results"],
                   tuple(withheld))


def summarize_question(question: Question, counts: Mapping[str, int], k: int) -> Block | None:
    """One question's block, or ``None`` when it must be withheld."""
    if question.type is QuestionType.SELECT_ONE:
        return _select_one(question, counts, k)
    if question.type is QuestionType.SELECT_MULTIPLE:
        return _select_multiple(question, counts, k)
    if question.type is QuestionType.SCALE:
        return _scale(question, counts, k)
    if question.type in (QuestionType.INTEGER, QuestionType.DECIMAL):
        return _median(question, counts, k)
    return None


def summarize_rounds(question: Question, people: Sequence[Sequence[str]], counting: Counting,
                     k: int) -> Block | None:
    """A question asked once per round: its block from each participant's rounds' values
    (see the module's docstring), or ``None`` when it must be withheld."""
    if len(people) < k:
        return None
    if counting is Counting.PEOPLE:
        return summarize_question(_per_person(question), _people_counts(question, people), k)
    tally: dict[str, int] = {}
    for values in people:
        for value in values:
            tally[value] = tally.get(value, 0) + 1
    block = summarize_question(question, tally, k)
    if block is None:
        return None
    for category in block.categories:
        holders = sum(1 for values in people if any(_in(question, block, category, v)
                                                   for v in values))
        if holders < k:
            return None
    return block


def _per_person(question: Question) -> Question:
    """How a choice question reads per person: several answers each (every round's)."""
    if question.type is QuestionType.SELECT_ONE and not is_country_list(question):
        return replace(question, type=QuestionType.SELECT_MULTIPLE)
    return question


def _people_counts(question: Question, people: Sequence[Sequence[str]]) -> dict[str, int]:
    """Per person: the choices of all their rounds, or the mean of their numbers."""
    counts: dict[str, int] = {}
    for values in people:
        if question.type in (QuestionType.SELECT_ONE, QuestionType.SELECT_MULTIPLE):
            if question.type is QuestionType.SELECT_ONE and is_country_list(question):
                counts[values[0]] = counts.get(values[0], 0) + 1  # their first round's
                continue
            chosen = sorted({c for value in values for c in value.split()})
            key = " ".join(chosen)
        else:
            numbers = _numbers({value: 1 for value in values})
            if not numbers:
                continue
            key = str(sum(v * n for v, n in numbers.items()) / sum(numbers.values()))
        counts[key] = counts.get(key, 0) + 1
    return counts


def _in(question: Question, block: Block, category: Category, value: str) -> bool:
    """True when a round's ``value`` is counted in ``category`` of ``block``."""
    if category.kind is CategoryKind.RANGE:
        try:
            number = Decimal(value)
        except InvalidOperation:
            return False
        assert category.low is not None and category.high is not None
        return category.low <= number <= category.high
    chosen = value.split() if question.type is QuestionType.SELECT_MULTIPLE else [value]
    shown = {c.id for c in block.categories if c.kind is not CategoryKind.OTHER}
    if category.kind is CategoryKind.OTHER:
        if block.categories and any(c.kind is CategoryKind.REGION for c in block.categories):
            return region_of(value) not in shown
        return any(c not in shown for c in chosen)
    if category.kind is CategoryKind.REGION:
        return region_of(value) == category.id
    return category.id in chosen


def is_country_list(question: Question) -> bool:
    return question.sort_choices and all(region_of(c.id) for c in question.choices)


def _select_one(question: Question, counts: Mapping[str, int], k: int) -> Block | None:
    respondents = sum(counts.values())
    if respondents < k:
        return None
    grouped: dict[str, int] = {}
    rest = 0
    if is_country_list(question):
        kind, rank = CategoryKind.REGION, {code: i for i, code in enumerate(REGION_CODES)}
        for value, count in counts.items():
            region = region_of(value)
            if region is None:
                rest += count
            else:
                grouped[region] = grouped.get(region, 0) + count
    else:
        kind, rank = CategoryKind.CHOICE, dict(question.choice_index)
        for value, count in counts.items():
            if value in rank and value != OTHER_CHOICE:
                grouped[value] = count
            else:
                rest += count
    shown, rest = _protect(grouped, rest, k, rank)
    categories = [Category(kind, value, count, count / respondents) for value, count in shown]
    if rest:
        categories.append(Category(CategoryKind.OTHER, "", rest, rest / respondents))
    if len(categories) < 2:
        return None
    return Block(question.id, BlockKind.SHARES, respondents, tuple(categories))


def _protect(
    counts: Mapping[str, int], rest: int, k: int, rank: Mapping[str, int]
) -> tuple[list[tuple[str, int]], int]:
    """The categories shown (largest first) and what goes into "Other" (0 or at least k)."""
    shown = {value: count for value, count in counts.items() if count >= k}
    rest += sum(count for count in counts.values() if count < k)
    while 0 < rest < k and shown:
        smallest = min(shown, key=lambda value: (shown[value], -rank[value]))
        rest += shown.pop(smallest)
    ordered = sorted(shown.items(), key=lambda item: (-item[1], rank[item[0]]))
    rest += sum(count for _, count in ordered[MOST_SHOWN:])
    return ordered[:MOST_SHOWN], rest


def _select_multiple(question: Question, counts: Mapping[str, int], k: int) -> Block | None:
    respondents = sum(counts.values())
    if respondents < k:
        return None
    known = dict(question.choice_index)
    picked: dict[str, int] = {}
    for combination, count in counts.items():
        for choice in set(combination.split()):
            if choice in known and choice != OTHER_CHOICE:
                picked[choice] = picked.get(choice, 0) + count
    shown = sorted(((c, n) for c, n in picked.items() if n >= k),
                   key=lambda item: (-item[1], known[item[0]]))[:MOST_SHOWN]
    visible = {choice for choice, _ in shown}
    others = sum(count for combination, count in counts.items()
                 if any(choice not in visible for choice in combination.split()))
    categories = [Category(CategoryKind.CHOICE, choice, count, count / respondents)
                  for choice, count in shown]
    if others >= k:
        categories.append(Category(CategoryKind.OTHER, "", others, others / respondents))
    if len(categories) < 2:
        return None
    return Block(question.id, BlockKind.SELECTED, respondents, tuple(categories))


def _numbers(counts: Mapping[str, int]) -> dict[Decimal, int]:
    values: dict[Decimal, int] = {}
    for raw, count in counts.items():
        try:
            value = Decimal(raw)
        except InvalidOperation:
            continue
        if value.is_finite():
            values[value] = values.get(value, 0) + count
    return values


def _scale(question: Question, counts: Mapping[str, int], k: int) -> Block | None:
    low, high = question.minimum, question.maximum
    if low is None or high is None or high <= low:
        return None
    values = {v: n for v, n in _numbers(counts).items() if low <= v <= high}
    respondents = sum(values.values())
    if respondents < k:
        return None
    mean = float(sum(v * n for v, n in values.items()) / respondents)
    span = high - low
    thirds: list[list[Decimal]] = [[], [], []]
    point = low
    while point <= high:
        third = 0 if 3 * (point - low) < span else 2 if 3 * (point - low) > 2 * span else 1
        thirds[third].append(point)
        point += 1
    bounds = [(part[0], part[-1]) for part in thirds if part]
    tally = [0] * len(bounds)
    for value, count in values.items():
        # a value between two points (a decimal on a scale of whole points) goes below
        group = max((i for i, (start, _) in enumerate(bounds) if start <= value), default=0)
        tally[group] += count
    groups = [(start, end, count) for (start, end), count in zip(bounds, tally, strict=True)]
    while len(groups) > 1 and min(count for _, _, count in groups) < k:
        i = min(range(len(groups)), key=lambda j: (groups[j][2], j))
        neighbours = [j for j in (i - 1, i + 1) if 0 <= j < len(groups)]
        j = min(neighbours, key=lambda m: (groups[m][2], m))
        first, second = sorted((i, j))
        groups[first:second + 1] = [
            (groups[first][0], groups[second][1], groups[first][2] + groups[second][2])]
    categories = tuple(
        Category(CategoryKind.RANGE, "", count, count / respondents, start, end)
        for start, end, count in groups
    ) if len(groups) > 1 else ()
    return Block(question.id, BlockKind.SCALE, respondents, categories, mean)


def _median(question: Question, counts: Mapping[str, int], k: int) -> Block | None:
    values = sorted(_numbers(counts).items())
    respondents = sum(n for _, n in values)
    if respondents < k:
        return None
    middle: list[Decimal] = []
    seen = 0
    for value, count in values:
        # the 0-based positions (respondents - 1) // 2 and respondents // 2
        for position in sorted({(respondents - 1) // 2, respondents // 2}):
            if seen <= position < seen + count:
                middle.append(value)
        seen += count
    return Block(question.id, BlockKind.MEDIAN, respondents,
                 value=float(sum(middle) / len(middle)))
