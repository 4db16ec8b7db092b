"""The caption of a summary: its figures as Telegram HTML in the recipient's language."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.i18n import RLM, Translator, titled
from bot.summary.figures import Block, BlockKind, Summary
from bot.summary.labels import block_title, block_value_text, category_label, percent, words
from bot.survey.model import Survey

CAPTION_LIMIT = 1024  # characters of a photo caption once Telegram parsed the HTML

_TAG = re.compile(r"</?b>")
_SHORTEST_TITLE = 40  # a question's text is never cut shorter than this
_SHORT_LABEL = 30


def plain_text(text: str) -> str:
    """The caption ``text`` as Telegram shows it: its HTML parsed, bold marks gone."""
    return html.unescape(_TAG.sub("", text)).strip()


def caption_length(text: str) -> int:
    """Length of the HTML ``text`` as Telegram counts a caption (parsed, UTF-16 code units)."""
    return len(plain_text(text).encode("utf-16-le")) // 2


def shorten(text: str, limit: int | None) -> str:
    """``text`` cut at a word boundary to at most ``limit`` characters, with "…"."""
    text = " ".join(words(text))
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
    # (top, label limit) → the line's items: the fitting loop composes the caption many times
    items: dict[tuple[int, int | None], str] = field(default_factory=dict)
    titles: dict[int | None, str] = field(default_factory=dict)  # title limit → the title

    def shown_title(self) -> str:
        """The question's text, cut to :attr:`title_limit`."""
        if self.title_limit not in self.titles:
            self.titles[self.title_limit] = shorten(self.title, self.title_limit)
        return self.titles[self.title_limit]

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
    title = titled(t, survey.title.get(t.language))
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
        longest = max(plan, key=lambda line: len(line.shown_title()))
        length = len(longest.shown_title())
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
    key = (line.top, label_limit)
    if key not in line.items:
        line.items[key] = _compose_items(line, survey, t, label_limit)
    return line.items[key]


def _compose_items(line: _Line, survey: Survey, t: Translator, label_limit: int | None) -> str:
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
        _bold(shorten(titled(t, survey.title.get(t.language)), title_limit)),
        _escape(t.ngettext("Results from {count} participant so far.",
                           "Results from {count} participants so far.",
                           summary.participants, count=summary.participants)),
    ]
    paragraphs = [head]
    for line in plan:
        paragraphs.append([_bold(line.shown_title()),
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
