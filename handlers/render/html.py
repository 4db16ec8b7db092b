"""Telegram HTML as the bot writes it, measured and cut the way Telegram counts it.

The bot writes a small subset of Telegram's HTML: ``<b>``, ``<i>`` and text
escaped with ``&amp;``, ``&lt;``, ``&gt;``. Telegram limits a message to 4,096
characters of its *visible* text (tags do not count, an entity counts as the
one character it stands for), measured in UTF-16 code units. :func:`split`
cuts a longer text into messages at the best place it can find (a paragraph
break, else a line break, else a space, else anywhere), never inside a tag or
an entity, and closes the tags still open at the end of a part and opens them
again at the start of the next. A leading right-to-left mark is repeated on
every part so each aligns right.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from bot.i18n import RLM
from telegram import InlineKeyboardMarkup, ReplyKeyboardMarkup, ReplyKeyboardRemove

MESSAGE_LIMIT = 4096

_ATOM = re.compile(r"<(/?)([a-z]+)[^>]*>|&[a-z]+;|&#\d+;|.", re.DOTALL)


@dataclass(frozen=True, slots=True)
class View:
    text: str
    keyboard: InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | None = None

    @property
    def buttons(self) -> InlineKeyboardMarkup | None:
        """The inline keyboard (the only kind an edited message can carry)."""
        return self.keyboard if isinstance(self.keyboard, InlineKeyboardMarkup) else None


def escape(text: str) -> str:
    return html.escape(text, quote=False)


def units(text: str) -> int:
    """Length in UTF-16 code units, as Telegram counts it."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def visible_length(markup: str) -> int:
    """How long Telegram finds this HTML text: its text without tags, entities as one."""
    return units(html.unescape(re.sub(r"<[^>]*>", "", markup)))


def shorten(text: str, limit: int, ellipsis: str = "…") -> str:
    """Plain text cut at a word boundary to at most ``limit`` units, ending with ``ellipsis``."""
    if units(text) <= limit:
        return text
    room = max(0, limit - units(ellipsis))
    cut = text[:room]
    while units(cut) > room:
        cut = cut[:-1]
    space = cut.rfind(" ")
    if space > room // 2:
        cut = cut[:space]
    return cut.rstrip() + ellipsis


@dataclass(frozen=True, slots=True)
class _Atom:
    raw: str
    size: int  # visible UTF-16 units
    opens: str | None = None  # a tag name this atom opens…
    closes: str | None = None  # …or closes


def _atoms(markup: str) -> list[_Atom]:
    found = []
    for match in _ATOM.finditer(markup):
        raw = match.group(0)
        if match.group(2) is not None:
            name = match.group(2)
            found.append(_Atom(raw, 0, closes=name) if match.group(1) else
                         _Atom(raw, 0, opens=name))
        elif raw.startswith("&") and len(raw) > 1:
            found.append(_Atom(raw, units(html.unescape(raw))))
        else:
            found.append(_Atom(raw, units(raw)))
    return found


def _break_rank(atoms: list[_Atom], index: int) -> int:
    """How good a cut before ``atoms[index]`` is: 3 paragraph, 2 line, 1 space, 0 none."""
    raw = atoms[index].raw
    if raw == "\n":
        following = atoms[index + 1].raw if index + 1 < len(atoms) else ""
        return 3 if following == "\n" else 2
    return 1 if raw == " " else 0


def split(markup: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """``markup`` as messages of at most ``limit`` visible units each (see the module).

    A cut goes at the best break in the second half of the room (a paragraph
    break before a line break before a space); failing that, at the best break
    anywhere; failing that, where the room ends.
    """
    if visible_length(markup) <= limit:
        return [markup]
    prefix = RLM if markup.startswith(RLM) else ""
    atoms = _atoms(markup[len(prefix):])
    room = limit - units(prefix)
    parts: list[str] = []
    opened: list[str] = []  # the tags open where the current part starts
    start = 0
    while start < len(atoms):
        end, size = start, 0
        late: dict[int, int] = {}  # rank -> last cut position in the second half
        early: dict[int, int] = {}
        while end < len(atoms) and size + atoms[end].size <= room:
            rank = _break_rank(atoms, end)
            if rank and end > start:
                (late if size >= room // 2 else early)[rank] = end
            size += atoms[end].size
            end += 1
        if end == len(atoms):
            cut = end
        elif late:
            cut = late[max(late)]
        elif early:
            cut = early[max(early)]
        else:
            cut = end
        body = atoms[start:cut]
        stack = list(opened)
        for atom in body:
            if atom.opens:
                stack.append(atom.opens)
            elif atom.closes and atom.closes in stack:
                stack.remove(atom.closes)
        if any(atom.size for atom in body):
            text = ("".join(f"<{name}>" for name in opened) + "".join(a.raw for a in body)
                    + "".join(f"</{name}>" for name in reversed(stack)))
            parts.append(prefix + text)
        opened = stack
        start = cut
        while start < len(atoms) and atoms[start].raw in ("\n", " "):
            start += 1
    return parts
