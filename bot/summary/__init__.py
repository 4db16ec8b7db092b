"""What a summary broadcast publishes: the figures, protected against singling anyone out.

:func:`build_summary` reads the aggregates of :mod:`storage.summaries` and
turns them into a :class:`Summary`, a value that holds only publishable
figures; :func:`render_text` (the photo caption, Telegram HTML) and
:func:`render_chart` (a PNG) draw from it and from nothing else, so neither can
show more than it holds.

- :mod:`~bot.summary.figures`: the :class:`Summary` and its small-cell
  protection, computed from counts (no I/O, no translation);
- :mod:`~bot.summary.labels`: the names of questions, categories and figures
  in the recipient's language;
- :mod:`~bot.summary.caption`: the caption, fitted to Telegram's 1024 characters;
- :mod:`~bot.summary.chart`: the chart's texts, and its drawing with matplotlib.
"""

from __future__ import annotations

import datetime as dt
import logging
from gettext import NullTranslations

from storage.db import Database

from bot.i18n import SOURCE_LANGUAGE, Translator
from bot.summary.caption import (
    CAPTION_LIMIT,
    caption_length,
    plain_text,
    render_text,
    shorten,
)
from bot.summary.chart import (
    DPI,
    MAX_SIDE_PX,
    WIDTH_PX,
    Bar,
    Chart,
    Panel,
    chart_of,
    chart_text,
    draw_chart,
    drawable,
    native_text_layout,
)
from bot.summary.figures import (
    MOST_SHOWN,
    OTHER_CHOICE,
    Block,
    BlockKind,
    Category,
    CategoryKind,
    Summary,
    is_country_list,
    summarize,
    summarize_question,
    summarize_rounds,
    summarized_questions,
)
from bot.summary.labels import block_title, block_value_text, category_label, percent
from bot.survey.model import Survey
from storage import summaries

logger = logging.getLogger(__name__)

__all__ = [
    "CAPTION_LIMIT",
    "DPI",
    "MAX_SIDE_PX",
    "MOST_SHOWN",
    "OTHER_CHOICE",
    "WIDTH_PX",
    "Bar",
    "Block",
    "BlockKind",
    "Category",
    "CategoryKind",
    "Chart",
    "Panel",
    "Summary",
    "block_title",
    "block_value_text",
    "build_summary",
    "caption_length",
    "category_label",
    "chart_of",
    "chart_text",
    "draw_chart",
    "drawable",
    "native_text_layout",
    "is_country_list",
    "percent",
    "plain_text",
    "render_chart",
    "render_text",
    "shorten",
    "summarize",
    "summarize_question",
    "summarize_rounds",
    "summarized_questions",
]


async def build_summary(db: Database, survey: Survey, now: dt.datetime, k: int = 5) -> Summary:
    """The survey's publishable results so far; no figure stands for fewer than ``k`` people."""
    breakdowns, keys = summarized_questions(survey)
    participants = await summaries.count_participants(db, survey.id)
    if participants < k:
        return summarize(survey, participants, {}, now, k)
    asked = breakdowns + keys
    answers = await summaries.count_answers(
        db, survey.id, [q.id for q in asked if q.repeat is None])
    rounds = await summaries.values_per_participant(
        db, survey.id, [q.id for q in asked if q.repeat is not None])
    return summarize(survey, participants, answers, now, k, rounds)


def render_chart(summary: Summary, survey: Survey, t: Translator) -> bytes:
    """The summary as a PNG bar chart for a phone: one panel per block (synchronous).

    When no installed font draws the language (Chinese, Bengali or Urdu on a
    machine without Noto fonts), the chart is drawn in English, and the caption
    stays in the language: Telegram's apps draw text themselves.
    """
    chart = chart_of(summary, survey, t)
    if not drawable(chart):
        logger.warning("no installed font draws %s: its summary charts are in English "
                       "(install Noto fonts, e.g. Debian's fonts-noto-core and "
                       "fonts-noto-cjk)", t.language)
        chart = chart_of(summary, survey, Translator(SOURCE_LANGUAGE, NullTranslations()))
    return draw_chart(chart)
