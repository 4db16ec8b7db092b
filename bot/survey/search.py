"""Finding choices by typing, for lists too long for a keyboard (countries).

Matching ignores case, accents, Arabic diacritics and the usual Arabic letter
variants, and looks at the label in every language and at the choice id
(``fr`` finds France), so a participant may type in the script they know best.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from bot.survey.model import Choice, Question

_ARABIC_VARIANTS = str.maketrans(
    {"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه", "ـ": ""})
_WORD_SPLIT = re.compile(r"[\s\-'’()/,.]+")


@lru_cache(maxsize=65536)
def normalize(text: str) -> str:
    """Fold case, drop accents and Arabic diacritics, unify Arabic letter variants."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return stripped.translate(_ARABIC_VARIANTS).strip()


def _score(query: str, label: str) -> int:
    """Higher is better; 0 means no match."""
    if label == query:
        return 4
    if label.startswith(query):
        return 3
    if any(word.startswith(query) for word in _WORD_SPLIT.split(label)):
        return 2
    if len(query) >= 3 and query in label:
        return 1
    return 0


def search_choices(question: Question, language: str, text: str, limit: int = 8) -> list[Choice]:
    """The choices that best match what was typed, best first (label in ``language`` first)."""
    query = normalize(text)
    if not query:
        return []
    ranked: list[tuple[int, int, str, Choice]] = []
    for choice in question.choices:
        own = normalize(choice.label.get(language))
        best = _score(query, own) * 2
        if best < 8:
            others = [normalize(label) for label in choice.label.texts.values()]
            others.append(normalize(choice.id))
            best = max([best, *(_score(query, other) * 2 - 1 for other in others)])
        if best > 0:
            ranked.append((-best, len(own), own, choice))
    ranked.sort(key=lambda item: item[:3])
    return [choice for *_, choice in ranked[:limit]]


def ordered_choices(question: Question, language: str) -> tuple[Choice, ...]:
    """Choices in display order: as written, or by label in ``language`` for sorted lists."""
    if not question.sort_choices:
        return question.choices
    return tuple(sorted(question.choices, key=lambda c: normalize(c.label.get(language))))


def match_typed(question: Question, text: str) -> str | None:
    """The choice whose label (in any language) or id is exactly what was typed, if one is."""
    query = normalize(text)
    if not query:
        return None
    found = {
        choice.id
        for choice in question.choices
        if query == normalize(choice.id)
        or any(query == normalize(label) for label in choice.label.texts.values())
    }
    return found.pop() if len(found) == 1 else None
