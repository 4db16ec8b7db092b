"""What a summary broadcast publishes: the figures, protected against singling anyone out.

:func:`build_summary` turns the aggregates of :mod:`storage.summaries` into a
:class:`Summary`, a value that holds only publishable figures;
:func:`render_text` (the photo caption, Telegram HTML) and :func:`render_chart`
(a PNG) draw from it and from nothing else, so neither can show more than it
holds.

Small-cell protection, with ``k`` the smallest group a figure may describe:

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

Rendering the chart is synchronous (run it with :func:`asyncio.to_thread`);
matplotlib is not thread-safe, so one lock serializes every chart.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum

import arabic_reshaper  # type: ignore[import-untyped]
from babel.dates import format_date
from babel.numbers import format_decimal, format_percent
from bidi import get_display  # type: ignore[import-untyped]
from matplotlib import ft2font
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.textpath import TextToPath
from storage.db import Database

from bot.i18n import RLM, Translator
from bot.regions import REGION_CODES, region_name, region_of
from bot.survey.model import Question, QuestionType, Survey
from storage import summaries

CAPTION_LIMIT = 1024  # characters of a photo caption once Telegram parsed the HTML
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


# --- building ----------------------------------------------------------------------------

_SUMMARIZED = frozenset({
    QuestionType.SELECT_ONE, QuestionType.SELECT_MULTIPLE, QuestionType.SCALE,
    QuestionType.INTEGER, QuestionType.DECIMAL,
})


def summarized_questions(survey: Survey) -> tuple[tuple[Question, ...], tuple[Question, ...]]:
    """The breakdown questions and the key questions a summary covers, in survey order."""
    breakdowns = tuple(q for q in survey.breakdown_questions if q.type in _SUMMARIZED)
    keys = tuple(q for q in survey.key_questions if q.type in _SUMMARIZED and not q.breakdown)
    return breakdowns, keys


async def build_summary(db: Database, survey: Survey, now: dt.datetime, k: int = 5) -> Summary:
    """The survey's publishable results so far; no figure stands for fewer than ``k`` people."""
    breakdowns, keys = summarized_questions(survey)
    participants = await summaries.count_participants(db, survey.id)
    if participants < k:
        return summarize(survey, participants, {}, now, k)
    answers = await summaries.count_answers(db, survey.id, [q.id for q in breakdowns + keys])
    return summarize(survey, participants, answers, now, k)


def summarize(
    survey: Survey,
    participants: int,
    answers: Mapping[str, Mapping[str, int]],
    now: dt.datetime,
    k: int = 5,
) -> Summary:
    """The :class:`Summary` of these aggregates (question id → stored value → responses)."""
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


# --- labels ------------------------------------------------------------------------------


def block_title(block: Block, survey: Survey, t: Translator) -> str:
    return survey.question(block.question_id).text.get(t.language)


def category_label(category: Category, block: Block, survey: Survey, t: Translator) -> str:
    """The category's name for a recipient reading ``t``'s language."""
    question = survey.question(block.question_id)
    if category.kind is CategoryKind.CHOICE:
        return question.choices[question.choice_index[category.id]].label.get(t.language)
    if category.kind is CategoryKind.REGION:
        return region_name(category.id, t.language)
    if category.kind is CategoryKind.OTHER:
        if block.kind is BlockKind.SELECTED:
            # Translators: a bar of a summary: people who picked any choice not shown on its own
            return t.gettext("Other answers")
        # Translators: a bar of a summary: everyone in the groups too small to be shown
        return t.gettext("Other")
    assert category.low is not None and category.high is not None
    if category.low == category.high:
        return t.number(category.low)
    # Translators: a part of a rating scale, such as "1–2" (points 1 to 2)
    return t.gettext("{low}–{high}", low=category.low, high=category.high)


def percent(t: Translator, share: float) -> str:
    return format_percent(share, locale=t.locale)


def _one_decimal(t: Translator, value: float) -> str:
    return format_decimal(value, format="0.0", locale=t.locale)


def _plain_number(t: Translator, value: float) -> str:
    """A number without grouping separators (a year reads 2015, not 2,015)."""
    return format_decimal(value, format="0.##", locale=t.locale)


def block_value_text(block: Block, survey: Survey, t: Translator) -> str | None:
    """The block's single figure in words (a scale's mean, a number's median)."""
    if block.value is None:
        return None
    if block.kind is BlockKind.SCALE:
        question = survey.question(block.question_id)
        top = question.maximum if question.maximum is not None else Decimal(0)
        mean = _one_decimal(t, block.value)
        # Translators: the mean of a rating, as in "average 3.4 out of 5"
        return t.gettext("average {mean} out of {top}", mean=mean, top=top)
    median = _plain_number(t, block.value)
    # Translators: the median of numbers people gave, as in "median 2015"
    return t.gettext("median {value}", value=median)


# --- the caption -------------------------------------------------------------------------

_TAG = re.compile(r"</?b>")
_SHORTEST_TITLE = 40  # a question's text is never cut shorter than this
_SHORT_LABEL = 30


def caption_length(text: str) -> int:
    """Length of the HTML ``text`` as Telegram counts a caption (parsed, UTF-16 code units)."""
    plain = html.unescape(_TAG.sub("", text)).strip()
    return len(plain.encode("utf-16-le")) // 2


def shorten(text: str, limit: int | None) -> str:
    """``text`` cut at a word boundary to at most ``limit`` characters, with "…"."""
    text = " ".join(_words(text))
    if limit is None or len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut[limit // 2:]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:.–—-") + "…"


@dataclass(slots=True)
class _Line:
    """How much of one block the caption shows."""

    block: Block
    title: str
    top: int = 3  # categories shown (a scale shows all its parts)
    title_limit: int | None = None

    def can_drop_category(self) -> bool:
        return (self.block.kind in (BlockKind.SHARES, BlockKind.SELECTED)
                and 1 < self.top <= len(self.block.categories))


def render_text(summary: Summary, survey: Survey, t: Translator) -> str:
    """The summary as a photo caption: Telegram HTML of at most 1024 characters once parsed.

    One paragraph per block, its question and its largest categories; the chart
    carries the detail. Until it fits: the longest lines lose categories (down
    to one), then the longest questions are cut, then labels, then the last
    blocks are left to the chart.
    """
    title = survey.title.get(t.language)
    if not summary.published:
        lines = [_bold(title), _escape(t.gettext(
            "Results will be shared once enough people have answered."))]
        return _finish(t, [lines])
    plan = [_Line(block, block_title(block, survey, t)) for block in summary.blocks]

    def compose(label_limit: int | None = None, cut: bool = False,
                title_limit: int | None = None) -> str:
        return _compose(summary, survey, t, plan, label_limit, cut, title_limit)

    def fits(text: str) -> bool:
        return caption_length(text) <= CAPTION_LIMIT

    text = compose()
    while not fits(text) and any(line.can_drop_category() for line in plan):
        widest = max((line for line in plan if line.can_drop_category()),
                     key=lambda line: (line.top, len(_items(line, survey, t, None))))
        widest.top -= 1
        text = compose()
    while not fits(text) and plan:
        longest = max(plan, key=lambda line: len(shorten(line.title, line.title_limit)))
        length = len(shorten(longest.title, longest.title_limit))
        if length <= _SHORTEST_TITLE:
            break
        longest.title_limit = max(_SHORTEST_TITLE, length - 15)
        text = compose()
    if fits(text):
        return text
    text = compose(_SHORT_LABEL)
    while not fits(text) and plan:
        plan.pop()
        text = compose(_SHORT_LABEL, cut=True)
    for limit in (None, 120, 60, 30):  # an organizer's very long survey title
        text = compose(_SHORT_LABEL, cut=len(plan) < len(summary.blocks), title_limit=limit)
        if fits(text):
            break
    return text


def _items(line: _Line, survey: Survey, t: Translator, label_limit: int | None) -> str:
    block = line.block
    items = []
    value = block_value_text(block, survey, t)
    if value is not None:
        items.append(value)
    shown = block.categories if block.kind is BlockKind.SCALE else block.categories[:line.top]
    for category in shown:
        label = shorten(category_label(category, block, survey, t), label_limit)
        share = percent(t, category.share)
        # Translators: one result in a summary, as in "Migrant: 35%"
        items.append(t.gettext("{label}: {percent}", label=label, percent=share))
    return " · ".join(items)


def _compose(
    summary: Summary,
    survey: Survey,
    t: Translator,
    plan: Sequence[_Line],
    label_limit: int | None,
    cut: bool,
    title_limit: int | None,
) -> str:
    assert summary.participants is not None
    head = [
        _bold(shorten(survey.title.get(t.language), title_limit)),
        _escape(t.ngettext("Results from {count} participant so far.",
                           "Results from {count} participants so far.",
                           summary.participants, count=summary.participants)),
    ]
    paragraphs = [head]
    for line in plan:
        paragraphs.append([_bold(shorten(line.title, line.title_limit)),
                           _escape(_items(line, survey, t, label_limit))])
    notes = []
    if summary.withheld:
        notes.append(_escape(t.gettext(
            "Some questions are not shown yet: too few people have answered them.")))
    if cut:
        # Translators: closes a summary's text when some results are only in its chart
        notes.append(_escape(t.gettext("More results in the chart.")))
    if notes:
        paragraphs.append(notes)
    return _finish(t, paragraphs)


def _finish(t: Translator, paragraphs: list[list[str]]) -> str:
    start = RLM if t.rtl else ""
    return "\n\n".join("\n".join(start + line for line in p) for p in paragraphs)


def _escape(text: str) -> str:
    return html.escape(text, quote=False)


def _bold(text: str) -> str:
    return f"<b>{_escape(text)}</b>"


# --- the chart ---------------------------------------------------------------------------

# matplotlib ≥ 3.11 lays text out with libraqm: bidi reordering and HarfBuzz shaping
# happen inside it, so Arabic goes in as it is stored (logical order). Earlier releases
# draw characters one by one, left to right; for them Arabic must be shaped into
# presentation forms and reordered beforehand, or it comes out backwards and unjoined.
NATIVE_TEXT_LAYOUT = hasattr(ft2font, "__libraqm_version__")
_RTL_CHARACTER = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]")

_LOCK = threading.Lock()
_FONT = "DejaVu Sans"  # in matplotlib's own bundle, with Arabic glyphs (regular and bold)

WIDTH_PX = 1080
DPI = 100
MAX_SIDE_PX = 8000  # width + height stay well under Telegram's 10000 for a photo

_INK, _MUTED, _BAR, _OTHER_BAR = "#1f2933", "#52606d", "#2f6f9f", "#a3acb9"
_TITLE_PT, _SUBTITLE_PT, _PANEL_PT, _NOTE_PT, _LABEL_PT, _FOOTER_PT = 22, 14, 16, 12.5, 14, 11
_LINE = 1.25  # line height, in font sizes
_MARGIN, _LABEL_WIDTH, _GAP, _PERCENT_ROOM = 0.4, 4.0, 0.15, 0.85  # inches
_ROW, _BAR_HEIGHT = 0.44, 0.26


def chart_text(text: str, native: bool = NATIVE_TEXT_LAYOUT) -> str:
    """``text`` as matplotlib must be given it to draw it right (see NATIVE_TEXT_LAYOUT)."""
    if native or not _RTL_CHARACTER.search(text):
        return text
    return str(get_display(arabic_reshaper.reshape(text)))


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    share: float
    percent: str
    count: int  # not drawn: what the bar stands for
    other: bool = False


@dataclass(frozen=True, slots=True)
class Panel:
    title: str
    note: str
    bars: tuple[Bar, ...]


@dataclass(frozen=True, slots=True)
class Chart:
    """Everything the chart shows, as text in the recipient's language."""

    title: str
    subtitle: str
    panels: tuple[Panel, ...]
    footer: tuple[str, ...]
    rtl: bool


def chart_of(summary: Summary, survey: Survey, t: Translator) -> Chart:
    """What :func:`render_chart` draws for this summary in ``t``'s language."""
    title = survey.title.get(t.language)
    if not summary.published:
        return Chart(title, t.gettext("Results will be shared once enough people have answered."),
                     (), (), t.rtl)
    assert summary.participants is not None
    day = format_date(summary.generated_at, "long", locale=t.locale)
    # Translators: under the title of a summary chart; {date} is the day it was made
    subtitle = t.ngettext("{count} participant so far · {date}",
                          "{count} participants so far · {date}",
                          summary.participants, count=summary.participants, date=day)
    panels = []
    for block in summary.blocks:
        question = survey.question(block.question_id)
        # Translators: how many people answered the question of a chart panel
        notes = [t.ngettext("{count} answer", "{count} answers", block.respondents,
                            count=block.respondents)]
        if block.kind is BlockKind.SHARES and is_country_list(question):
            # Translators: a chart panel about countries shows world regions instead
            notes.append(t.gettext("by world region"))
        if block.kind is BlockKind.SELECTED:
            # Translators: percentages of a multiple-choice question do not add up to 100
            notes.append(t.gettext("several answers possible"))
        value = block_value_text(block, survey, t)
        if value is not None:
            notes.append(value)
        if block.kind is BlockKind.SCALE and question.min_label and question.max_label:
            assert question.minimum is not None and question.maximum is not None
            low_label = question.min_label.get(t.language)
            high_label = question.max_label.get(t.language)
            # Translators: the meaning of a rating scale's ends, as in "1 = Not at all, 5 = Fully"
            notes.append(t.gettext("{low} = {low_label}, {high} = {high_label}",
                                   low=question.minimum, low_label=low_label,
                                   high=question.maximum, high_label=high_label))
        bars = tuple(
            Bar(category_label(c, block, survey, t), c.share, percent(t, c.share), c.count,
                c.kind is CategoryKind.OTHER)
            for c in block.categories
        )
        panels.append(Panel(block_title(block, survey, t), " · ".join(notes), bars))
    footer = [t.ngettext("Groups of fewer than {k} person are never shown on their own.",
                         "Groups of fewer than {k} people are never shown on their own.",
                         summary.k, k=summary.k)]
    if summary.withheld:
        footer.append(t.gettext(
            "Some questions are not shown yet: too few people have answered them."))
    return Chart(title, subtitle, tuple(panels), tuple(footer), t.rtl)


def render_chart(summary: Summary, survey: Survey, t: Translator) -> bytes:
    """The summary as a PNG bar chart for a phone: one panel per block (synchronous)."""
    return draw_chart(chart_of(summary, survey, t))


@dataclass(frozen=True, slots=True)
class _Text:
    x: float  # inches from the start side (left, or right in right-to-left charts)
    y: float  # inches from the top
    text: str
    size: float
    color: str = _INK
    bold: bool = False
    va: str = "top"


@dataclass(frozen=True, slots=True)
class _Bars:
    ys: tuple[float, ...]
    widths: tuple[float, ...]
    colors: tuple[str, ...]
    start: float


class _Measure:
    """Text widths in points, for wrapping (under the chart lock: fonts are shared).

    A line's width is the sum of its words' widths and its spaces: shaping never
    joins letters across a space, so the words are measured once each.
    """

    def __init__(self) -> None:
        self._paths = TextToPath()
        self._widths: dict[tuple[str, float, bool], float] = {}

    def width(self, text: str, size: float, bold: bool = False) -> float:
        key = (text, size, bold)
        if key not in self._widths:
            prop = FontProperties(family=_FONT, size=size, weight="bold" if bold else "normal")
            width, _, _ = self._paths.get_text_width_height_descent(
                chart_text(text), prop, False)
            self._widths[key] = float(width)
        return self._widths[key]

    def wrap(self, text: str, size: float, inches: float, bold: bool = False,
             most: int = 3) -> list[str]:
        """``text`` in lines of at most ``inches``, ``most`` lines, the last one cut with "…"."""
        limit = inches * 72
        space = self.width(" ", size, bold)
        lines: list[list[str]] = []
        used = 0.0
        for word in _words(text):
            width = self.width(word, size, bold)
            if lines and used + space + width <= limit:
                lines[-1].append(word)
                used += space + width
            else:
                lines.append([word])
                used = width
        joined = [" ".join(words) for words in lines] or [""]
        if len(joined) > most:
            joined = joined[:most]
            joined[-1] += "…"
        while self.width(joined[-1], size, bold) > limit and len(joined[-1]) > 2:
            joined[-1] = joined[-1][:-2].rstrip() + "…"
        return joined


def _words(text: str) -> list[str]:
    """Words between ordinary spaces (a no-break space, as in French "organisation ?", holds)."""
    return [word for word in re.split(r"[ \t\r\n]+", text) if word]


def _height(lines: int, size: float) -> float:
    return lines * size * _LINE / 72


def draw_chart(chart: Chart) -> bytes:
    """The PNG of ``chart``; safe to call from several threads (one at a time draws)."""
    with _LOCK:
        return _draw(chart)


def _draw(chart: Chart) -> bytes:
    width = WIDTH_PX / DPI
    inner = width - 2 * _MARGIN
    measure = _Measure()
    texts: list[_Text] = []
    bars: list[_Bars] = []
    y = _MARGIN
    lines = measure.wrap(chart.title, _TITLE_PT, inner, bold=True)
    texts.append(_Text(_MARGIN, y, "\n".join(lines), _TITLE_PT, bold=True))
    y += _height(len(lines), _TITLE_PT) + 0.08
    lines = measure.wrap(chart.subtitle, _SUBTITLE_PT, inner)
    texts.append(_Text(_MARGIN, y, "\n".join(lines), _SUBTITLE_PT, _MUTED))
    y += _height(len(lines), _SUBTITLE_PT) + 0.3
    bar_start = _MARGIN + _LABEL_WIDTH + _GAP
    bar_room = width - _MARGIN - bar_start - _PERCENT_ROOM
    for panel in chart.panels:
        lines = measure.wrap(panel.title, _PANEL_PT, inner, bold=True)
        texts.append(_Text(_MARGIN, y, "\n".join(lines), _PANEL_PT, bold=True))
        y += _height(len(lines), _PANEL_PT) + 0.04
        lines = measure.wrap(panel.note, _NOTE_PT, inner)
        texts.append(_Text(_MARGIN, y, "\n".join(lines), _NOTE_PT, _MUTED))
        y += _height(len(lines), _NOTE_PT) + 0.12
        ys, widths, colors = [], [], []
        for bar in panel.bars:
            lines = measure.wrap(bar.label, _LABEL_PT, _LABEL_WIDTH, most=2)
            row = max(_ROW, _height(len(lines), _LABEL_PT) + 0.1)
            middle = y + row / 2
            texts.append(_Text(_MARGIN, middle, "\n".join(lines), _LABEL_PT, va="center"))
            length = max(bar.share * bar_room, 0.02)
            ys.append(middle)
            widths.append(length)
            colors.append(_OTHER_BAR if bar.other else _BAR)
            texts.append(_Text(bar_start + length + 0.08, middle, bar.percent, _LABEL_PT,
                               bold=True, va="center"))
            y += row
        if panel.bars:
            bars.append(_Bars(tuple(ys), tuple(widths), tuple(colors), bar_start))
        y += 0.32
    for note in chart.footer:
        lines = measure.wrap(note, _FOOTER_PT, inner)
        texts.append(_Text(_MARGIN, y, "\n".join(lines), _FOOTER_PT, _MUTED))
        y += _height(len(lines), _FOOTER_PT) + 0.04
    height = y + _MARGIN - 0.04
    dpi = min(DPI, MAX_SIDE_PX / height)

    figure = Figure(figsize=(width, height), dpi=dpi, facecolor="white")
    FigureCanvasAgg(figure)
    axes = figure.add_axes((0.0, 0.0, 1.0, 1.0))
    axes.set_xlim(0, width)
    axes.set_ylim(height, 0)
    axes.set_axis_off()

    def x_of(x: float) -> float:
        return width - x if chart.rtl else x

    for panel_bars in bars:
        sign = -1 if chart.rtl else 1
        axes.barh(list(panel_bars.ys), [sign * w for w in panel_bars.widths],
                  left=x_of(panel_bars.start), height=_BAR_HEIGHT, color=list(panel_bars.colors))
    for item in texts:
        at_right = chart.rtl
        axes.text(x_of(item.x), item.y, chart_text(item.text), fontsize=item.size,
                  family=_FONT, fontweight="bold" if item.bold else "normal", color=item.color,
                  ha="right" if at_right else "left", multialignment="right" if at_right
                  else "left", va=item.va, parse_math=False, linespacing=_LINE)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    return buffer.getvalue()

