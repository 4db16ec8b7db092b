"""The chart of a summary: a PNG for a phone, one panel of bars per question.

:func:`chart_of` puts the figures into words in the recipient's language (a
:class:`Chart`); :func:`draw_chart` draws that with matplotlib, Arabic shaped
for it where it needs to be. Drawing is synchronous (run it with
:func:`asyncio.to_thread`); matplotlib is not thread-safe, so one lock
serializes every chart. matplotlib is imported when the first chart is measured
or drawn, not with this module: a process that never draws one (the command
line, most of the bot's work) does not pay its second of start-up.
"""

from __future__ import annotations

import functools
import io
import re
import threading
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING

import arabic_reshaper  # type: ignore[import-untyped]
from babel.dates import format_date
from bidi import get_display  # type: ignore[import-untyped]

from bot.i18n import Translator, titled
from bot.summary.figures import BlockKind, CategoryKind, Summary, is_country_list
from bot.summary.labels import block_title, block_value_text, category_label, percent, words
from bot.survey.model import Survey

if TYPE_CHECKING:
    from matplotlib.textpath import TextToPath


@functools.cache
def native_text_layout() -> bool:
    """Whether matplotlib lays text out with libraqm (≥ 3.11): bidi reordering and
    HarfBuzz shaping happen inside it, so Arabic goes in as it is stored (logical
    order). Earlier releases draw characters one by one, left to right; for them
    Arabic must be shaped into presentation forms and reordered beforehand, or it
    comes out backwards and unjoined."""
    from matplotlib import ft2font

    return hasattr(ft2font, "__libraqm_version__")


_RTL_CHARACTER = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]")

_LOCK = threading.Lock()
# DejaVu Sans comes with matplotlib (Latin, Cyrillic, Greek, Arabic); the others are
# used when the system has them (Debian: fonts-noto-core, fonts-noto-cjk), glyph by
# glyph where DejaVu lacks one: Persian and Urdu letters, Bengali, Chinese.
_CANDIDATES = ("DejaVu Sans", "Noto Sans", "Noto Naskh Arabic", "Noto Sans Arabic",
               "Noto Nastaliq Urdu", "Noto Sans Bengali", "Noto Sans CJK SC", "Noto Sans SC",
               "WenQuanYi Zen Hei", "Droid Sans Fallback")

WIDTH_PX = 1080
DPI = 100
MAX_SIDE_PX = 8000  # width + height stay well under Telegram's 10000 for a photo

_INK, _MUTED, _BAR, _OTHER_BAR = "#1f2933", "#52606d", "#2f6f9f", "#a3acb9"
_TITLE_PT, _SUBTITLE_PT, _PANEL_PT, _NOTE_PT, _LABEL_PT, _FOOTER_PT = 22, 14, 16, 12.5, 14, 11
_LINE = 1.25  # line height, in font sizes
_MARGIN, _LABEL_WIDTH, _GAP, _PERCENT_ROOM = 0.4, 4.0, 0.15, 0.85  # inches
_ROW, _BAR_HEIGHT = 0.44, 0.26


@functools.cache
def _fonts() -> tuple[tuple[str, frozenset[int]], ...]:
    """The candidate families installed here, each with the characters it draws."""
    from matplotlib import font_manager, ft2font
    from matplotlib.font_manager import FontProperties

    installed = {entry.name for entry in font_manager.fontManager.ttflist}
    found = []
    for family in _CANDIDATES:
        if family in installed:  # the regular face's file, as matplotlib will pick it
            path = font_manager.findfont(FontProperties(family=family),
                                         fallback_to_default=False)
            found.append((family, frozenset(ft2font.FT2Font(path).get_charmap())))
    return tuple(found)


def families() -> list[str]:
    """The font families the chart asks for, in order (matplotlib falls back glyph by glyph)."""
    return [family for family, _ in _fonts()]


def drawable(chart: Chart) -> bool:
    """Whether the installed fonts draw every character of the chart's texts."""
    texts = [chart.title, chart.subtitle, *chart.footer,
             *(text for panel in chart.panels
               for text in (panel.title, panel.note, *(bar.label for bar in panel.bars),
                            *(bar.percent for bar in panel.bars)))]
    covered = frozenset().union(*(chars for _, chars in _fonts()))
    return all(ord(ch) in covered for text in texts for ch in text
               if not ch.isspace() and unicodedata.category(ch) not in ("Cf", "Mn"))


def chart_text(text: str, native: bool | None = None) -> str:
    """``text`` as matplotlib must be given it to draw it right (``native``: whether it
    shapes text itself, by default :func:`native_text_layout`)."""
    if native is None:
        native = native_text_layout()
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
    title = titled(t, survey.title.get(t.language))
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
        from matplotlib.textpath import TextToPath

        self._paths: TextToPath = TextToPath()
        self._widths: dict[tuple[str, float, bool], float] = {}

    def width(self, text: str, size: float, bold: bool = False) -> float:
        key = (text, size, bold)
        if key not in self._widths:
            from matplotlib.font_manager import FontProperties

            prop = FontProperties(family=families(), size=size,
                                  weight="bold" if bold else "normal")
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
        for word in words(text):
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



def _height(lines: int, size: float) -> float:
    return lines * size * _LINE / 72


def draw_chart(chart: Chart) -> bytes:
    """The PNG of ``chart``; safe to call from several threads (one at a time draws)."""
    with _LOCK:
        return _draw(chart)


def _draw(chart: Chart) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

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
                  family=families(), fontweight="bold" if item.bold else "normal", color=item.color,
                  ha="right" if at_right else "left", multialignment="right" if at_right
                  else "left", va=item.va, parse_math=False, linespacing=_LINE)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    return buffer.getvalue()
