"""The words of a summary in a recipient's language, shared by the caption and the chart."""

from __future__ import annotations

import re
from decimal import Decimal

from babel.numbers import format_decimal, format_percent

from bot.i18n import Translator
from bot.regions import region_name
from bot.summary.figures import Block, BlockKind, Category, CategoryKind
from bot.survey.model import Survey

_ANSWER = re.compile(r"\$\{[^}]*\}")


def block_title(block: Block, survey: Survey, t: Translator) -> str:
    """The question's text; an answer it shows (``${member_name}``: each person's, in a
    repeat) is no one's in a summary: "…" stands for it."""
    return _ANSWER.sub("…", survey.question(block.question_id).text.get(t.language))


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


def words(text: str) -> list[str]:
    """Words between ordinary spaces (a no-break space, as in French "organisation ?", holds)."""
    return [word for word in re.split(r"[ \t\r\n]+", text) if word]
