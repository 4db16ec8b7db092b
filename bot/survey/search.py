"""Finding choices by typing, for lists too long for a keyboard (countries).

Matching ignores case, accents, punctuation, Arabic diacritics and the usual
Arabic, Persian, Urdu and Turkish letter variants, and a leading article
(``the``, ``la``, ``el``, ``ال``…). It looks at the label in every language, so a
participant may type in the script they know best. For the built-in country
list it also knows the CLDR names in every language of ``country_aliases/``
and the everyday names listed there (``UK``, ``Holland``, ``RDC``, ``أمريكا``).

:func:`find_choice` decides what typed text means:

* :class:`Taken`, one choice to record without asking back: the whole name of
  exactly one choice (a label in any language or an everyday name), or the only
  choice found at all by a text of four characters or more (with at most one
  letter wrong, or two from eight characters on);
* :class:`Offered`, choices to show as buttons, best first, when the text is
  ambiguous (``Congo``, ``Korea``, ``America``), has three letters or fewer and
  begins a longer word of another name (``UK`` → United Kingdom, Ukraine), or
  is only a beginning several names share.

Ranked best first: the whole name; the start of a name; the start of a later
word; a name with letters wrong (one from three characters, two from five; a
swapped pair counts as one: rapidfuzz's optimal string alignment distance); the
start of a name with letters wrong (five to sixteen characters); a part inside a name
(from three characters, two in Chinese, Japanese or Korean). When a name or a
word starts with the text, only near misses (one letter wrong) are shown beside
them. Within one kind of match: fewer letters wrong, then names in the
participant's language, the same first letter, and shorter labels come first.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import OSA

from bot.survey.countries import country_aliases, is_country_code, locale_country_names
from bot.survey.model import Choice, Question

__all__ = [
    "Offered",
    "Taken",
    "find_choice",
    "match_typed",
    "normalize",
    "ordered_choices",
    "search_choices",
]

_LETTER_VARIANTS = str.maketrans({
    "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه", "ـ": "",
    "ی": "ي", "ې": "ي", "ے": "ي", "ک": "ك", "ہ": "ه", "ھ": "ه", "ۀ": "ه", "ە": "ه",
    "ı": "i",
})
_SEPARATORS = re.compile(r"[\s\-‐‑–—_/\\,;:()\[\]&+'’‘ʼ`´،؛]+")
_DROPPED = re.compile(r"[.·•\"“”«»!?؟]")
_ARTICLE = re.compile(r"(?:the|le|la|les|l|el|los|las) (?=.)|ال(?=...)")

MIN_TAKEN = 4  # characters a text needs to be taken for being the only match
SURE_WITH_TWO_TYPOS = 8  # characters a text needs to be taken with two letters wrong
SHORT_FORM = 3  # a name this short is taken only if it begins no longer word of a name the
#                participant may be typing (unless it is their language's label in a script
#                where three characters make a word: مصر, 中国)
_INDEXES_KEPT = 32
_LONGEST_BEGINNING = 16  # longer texts are matched with letters wrong as whole names only


@lru_cache(maxsize=65536)
def normalize(text: str) -> str:
    """Fold case, drop accents and Arabic diacritics, unify Arabic letter variants."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(ch for ch in decomposed
                       if not unicodedata.combining(ch) and unicodedata.category(ch) != "Cf")
    return stripped.translate(_LETTER_VARIANTS).strip()


@lru_cache(maxsize=65536)
def _fold(text: str) -> str:
    """:func:`normalize`, with punctuation dropped and separators made single spaces."""
    return " ".join(_SEPARATORS.split(_DROPPED.sub("", normalize(text)))).strip()


def _bare(folded: str) -> str:
    """Without its leading article, if it has one and something is left."""
    article = _ARTICLE.match(folded)
    return folded[article.end():] if article else folded


@dataclass(frozen=True, slots=True)
class Taken:
    """The choice typed text names beyond doubt: record it without a confirmation tap."""

    choice: Choice


@dataclass(frozen=True, slots=True)
class Offered:
    """Choices to offer as buttons, best first; empty when nothing matched."""

    choices: tuple[Choice, ...]


@dataclass(slots=True)
class _Name:
    """One way of naming one choice, folded."""

    text: str
    choice: int
    languages: set[str] = field(default_factory=set)
    takes: bool = False  # a label or an everyday name: taken when typed whole
    label: bool = False
    shown: bool = False  # one of the question's own labels
    order: int | None = None  # position in an ambiguous entry: offered, never taken


@dataclass(slots=True)
class _Strings:
    """Strings to search with rapidfuzz, each with the names it stands for."""

    texts: list[str] = field(default_factory=list)
    names: list[list[int]] = field(default_factory=list)
    _at: dict[str, int] = field(default_factory=dict)

    def add(self, text: str, name: int) -> None:
        at = self._at.get(text)
        if at is None:
            self._at[text] = len(self.texts)
            self.texts.append(text)
            self.names.append([name])
        elif name not in self.names[at]:
            self.names[at].append(name)


@dataclass(slots=True)
class _Index:
    """Every name of every choice of one question, arranged for each way of matching."""

    choices: tuple[Choice, ...]
    names: list[_Name]
    whole: dict[str, list[int]]  # whole name (and without its article) → names
    starts: list[tuple[str, int]]  # sorted whole names
    words: list[tuple[str, int]]  # sorted names from their second word on
    fuzzy: dict[int, _Strings]  # whole names and distinctive tails, by length: letters wrong
    haystack: str = ""  # the sorted whole names joined by newlines: parts inside a name
    offsets: list[int] = field(default_factory=list)  # where each of them starts there
    beginnings: dict[int, _Strings] = field(default_factory=dict)  # by length of the text

    def __post_init__(self) -> None:
        self.haystack = "\n".join(text for text, _ in self.starts)
        at = 0
        for text, _ in self.starts:
            self.offsets.append(at)
            at += len(text) + 1

    def fuzzy_near(self, length: int, typos: int) -> list[_Strings]:
        """The strings a text of ``length`` can match with ``typos`` letters wrong: a
        distance is at least the difference of lengths, so only those lengths."""
        return [self.fuzzy[size] for size in range(length - typos, length + typos + 1)
                if size in self.fuzzy]

    def containing(self, query: str) -> list[int]:
        """The names (positions in ``starts``) with ``query`` inside, in one C-speed scan."""
        found: list[int] = []
        if "\n" in query:
            return found
        at = self.haystack.find(query)
        while at != -1:
            i = bisect_right(self.offsets, at) - 1
            found.append(i)
            following = self.offsets[i + 1] if i + 1 < len(self.offsets) else len(self.haystack)
            at = self.haystack.find(query, following)
        return found

    def beginnings_of(self, length: int) -> _Strings:
        """The first ``length - 1`` to ``length + 1`` characters of names longer than that."""
        found = self.beginnings.get(length)
        if found is None:
            found = _Strings()
            for text, name in self.starts:
                if len(text) > length + 1:
                    for size in (length - 1, length, length + 1):
                        found.add(text[:size], name)
            self.beginnings[length] = found
        return found


_indexes: OrderedDict[tuple[int, bool], tuple[tuple[Choice, ...], _Index]] = OrderedDict()


def _index(question: Question) -> _Index:
    """The index of a question's choices, built on first use and kept for the next texts."""
    key = (id(question.choices), question.sort_choices)
    kept = _indexes.get(key)
    if kept is not None and kept[0] is question.choices:
        _indexes.move_to_end(key)
        return kept[1]
    index = _build(question.choices, _is_country_list(question))
    _indexes[key] = (question.choices, index)
    while len(_indexes) > _INDEXES_KEPT:
        _indexes.popitem(last=False)
    return index


def warm_up(questions: Iterable[Question]) -> None:
    """Build the index of every country list now (reading CLDR's country names in every
    locale of ``country_aliases/``), so that the first country a participant types in
    a running bot does not wait for it."""
    for question in questions:
        if question.choices and _is_country_list(question):
            _index(question)


def _is_country_list(question: Question) -> bool:
    """True for the built-in country list: the loader's only sorted list, all ISO codes."""
    return question.sort_choices and all(is_country_code(c.id) for c in question.choices)


def _build(choices: tuple[Choice, ...], countries: bool) -> _Index:
    names: list[_Name] = []
    by_text: dict[tuple[str, int], _Name] = {}

    def add(text: str, choice: int, language: str | None, *, takes: bool = True,
            label: bool = False, shown: bool = False, order: int | None = None) -> None:
        folded = _fold(text)
        if not folded:
            return
        name = by_text.get((folded, choice))
        if name is None:
            name = by_text[folded, choice] = _Name(folded, choice)
            names.append(name)
        if language is not None:
            name.languages.add(language)
        name.takes = name.takes or takes
        name.label = name.label or label
        name.shown = name.shown or shown
        if order is not None:
            name.order = order if name.order is None else min(name.order, order)

    position = {choice.id: i for i, choice in enumerate(choices)}
    for i, choice in enumerate(choices):
        for language, text in choice.label.texts.items():
            add(text, i, language, label=True, shown=True)
        add(choice.id, i, None, takes=False)
    if countries:
        aliases = country_aliases()
        for table in aliases.values():
            for locale in table.locales:
                for code, text in locale_country_names(locale).items():
                    if code in position:
                        add(text, position[code], table.language, label=True)
        for language, table in aliases.items():
            for code, texts in table.names.items():
                for text in texts:
                    if code in position:
                        add(text, position[code], language)
            for text, codes in table.ambiguous.items():
                for order, code in enumerate(codes):
                    if code in position:
                        add(text, position[code], language, takes=False, order=order)

    whole: dict[str, list[int]] = {}
    starts: list[tuple[str, int]] = []
    words: list[tuple[str, int]] = []
    tails: list[tuple[str, int]] = []
    for n, name in enumerate(names):
        for text in dict.fromkeys((name.text, _bare(name.text))):
            whole.setdefault(text, []).append(n)
            starts.append((text, n))
        parts = name.text.split(" ")
        for i in range(1, len(parts)):
            tail = " ".join(parts[i:])
            for text in dict.fromkeys((tail, _bare(tail))):
                words.append((text, n))
                tails.append((text, n))
    owners: dict[str, set[int]] = {}
    for text, n in tails:
        owners.setdefault(text.split(" ")[0], set()).add(names[n].choice)
    fuzzy: dict[int, _Strings] = {}
    for text, n in starts:
        if len(text) >= 3 and (names[n].label or names[n].takes or names[n].order is not None):
            fuzzy.setdefault(len(text), _Strings()).add(text, n)
    for text, n in tails:
        if len(text) >= 5 and len(owners[text.split(" ")[0]]) < 3:
            fuzzy.setdefault(len(text), _Strings()).add(text, n)
    return _Index(choices, names, whole, sorted(starts), sorted(words), fuzzy)


def _ideographic(text: str) -> bool:
    """True for Chinese, Japanese or Korean characters, words on their own without spaces."""
    return any("\u2e80" <= ch <= "\u9fff" or "\uac00" <= ch <= "\ud7af" for ch in text)


def _alphabetic(text: str) -> bool:
    """True for Latin, Greek or Cyrillic text: three letters are a beginning or a short form."""
    return all(ch < "\u0530" for ch in text)


def _allowed_typos(length: int) -> int:
    """Letters that may be wrong in a text of ``length`` characters."""
    return 0 if length < 3 else 1 if length < 5 else 2


@dataclass(slots=True)
class _Ranking:
    """The best way each choice was matched, and how ambiguous the text is."""

    index: _Index
    language: str
    query: str
    available: Collection[str] | None
    best: dict[int, tuple[int, int, int, int, int]] = field(default_factory=dict)
    ambiguous: dict[int, int] = field(default_factory=dict)  # choice → position in its entry
    takes: set[int] = field(default_factory=set)  # choices named whole by a takeable name
    own_label: set[int] = field(default_factory=set)  # named whole in the participant's language
    longer_word: set[int] = field(default_factory=set)  # own-language names with a word it begins

    def note(self, tier: int, name_at: int, typos: int = 0, text: str = "") -> None:
        name = self.index.names[name_at]
        if self.available is not None and self.index.choices[name.choice].id not in self.available:
            return
        foreign = 0 if self.language in name.languages else 1
        other_initial = 0 if name.text[:1] == self.query[:1] else 1
        rank = (tier, typos, foreign, other_initial if typos else 0, name_at)
        if tier == 0:
            if name.order is not None:
                self.ambiguous[name.choice] = min(name.order,
                                                  self.ambiguous.get(name.choice, name.order))
            elif name.takes:
                self.takes.add(name.choice)
                if name.label and self.language in name.languages:
                    self.own_label.add(name.choice)
        if (tier in (1, 2) and self.language in name.languages
                and len(text) > len(self.query) and text[len(self.query)] != " "):
            self.longer_word.add(name.choice)
        known = self.best.get(name.choice)
        if known is None or rank < known:
            self.best[name.choice] = rank

    def order(self) -> list[int]:
        """The choices found, best first; beside whole names and beginnings, only near misses."""
        choices = self.index.choices
        if any(rank[0] <= 2 for rank in self.best.values()):
            self.best = {choice: rank for choice, rank in self.best.items()
                         if rank[0] <= 2 or (rank[0] == 3 and rank[1] <= 1)}

        def key(choice: int) -> tuple[object, ...]:
            label = normalize(choices[choice].label.get(self.language))
            return (self.ambiguous.get(choice, len(choices)), self.best[choice][:4],
                    len(label), label)

        return sorted(self.best, key=key)


def _rank(question: Question, language: str, text: str,
          available: Collection[str] | None) -> _Ranking:
    index = _index(question)
    query = _fold(text)
    ranking = _Ranking(index, language, query, available)
    if not query:
        return ranking
    queries = tuple(dict.fromkeys((query, _bare(query))))
    for q in queries:
        for n in index.whole.get(q, ()):
            ranking.note(0, n)
        for tier, sorted_names in ((1, index.starts), (2, index.words)):
            at = bisect_left(sorted_names, (q, -1))
            while at < len(sorted_names) and sorted_names[at][0].startswith(q):
                ranking.note(tier, sorted_names[at][1], text=sorted_names[at][0])
                at += 1
    typos = _allowed_typos(len(query))
    if typos:
        for q in queries:
            for strings in index.fuzzy_near(len(q), typos):
                for _, distance, at in process.extract(q, strings.texts, scorer=OSA.distance,
                                                       score_cutoff=typos, limit=None):
                    for n in strings.names[at]:
                        ranking.note(3, n, int(distance))
    if 5 <= len(query) <= _LONGEST_BEGINNING:
        beginnings = index.beginnings_of(len(query))
        for _, distance, at in process.extract(query, beginnings.texts, scorer=OSA.distance,
                                               score_cutoff=1 if len(query) < 8 else 2,
                                               limit=None):
            for n in beginnings.names[at]:
                ranking.note(4, n, int(distance))
    if len(query) >= (2 if _ideographic(query) else 3):
        for at in index.containing(query):
            ranking.note(5, index.starts[at][1])
    return ranking


def find_choice(question: Question, language: str, text: str, *, limit: int = 8,
                available: Collection[str] | None = None) -> Taken | Offered:
    """What typed text means in a question's choice list: one choice to take, or some to offer.

    ``available`` restricts the answer to these choice ids (a ``choice_filter``'s result).
    """
    ranking = _rank(question, language, text[:200], available)
    ordered = ranking.order()
    choices = ranking.index.choices
    exact = [c for c in ordered if ranking.best[c][0] == 0]
    if exact:
        short_form = len(ranking.query) <= SHORT_FORM and (
            _alphabetic(ranking.query) or exact[0] not in ranking.own_label)
        if (len(exact) == 1 and not ranking.ambiguous and exact[0] in ranking.takes
                and not (short_form and ranking.longer_word - {exact[0]})):
            return Taken(choices[exact[0]])
    elif len(ordered) == 1 and len(ranking.query) >= MIN_TAKEN:
        tier, typos = ranking.best[ordered[0]][:2]
        if tier <= 4 and typos <= (1 if len(ranking.query) < SURE_WITH_TWO_TYPOS else 2):
            return Taken(choices[ordered[0]])
    return Offered(tuple(choices[c] for c in ordered[:limit]))


def search_choices(question: Question, language: str, text: str, limit: int = 8) -> list[Choice]:
    """The choices that best match what was typed, best first (label in ``language`` first).

    The ranking :func:`find_choice` offers, without deciding whether to take one.
    """
    ranking = _rank(question, language, text[:200], None)
    return [ranking.index.choices[c] for c in ranking.order()[:limit]]


_orders: OrderedDict[tuple[int, str], tuple[tuple[Choice, ...], tuple[Choice, ...]]] = (
    OrderedDict())


def ordered_choices(question: Question, language: str) -> tuple[Choice, ...]:
    """Choices in display order: as written, or by label in ``language`` for sorted lists
    (sorted once per list and language, then kept: the country list is shown often)."""
    if not question.sort_choices:
        return question.choices
    key = (id(question.choices), language)
    kept = _orders.get(key)
    if kept is not None and kept[0] is question.choices:
        _orders.move_to_end(key)
        return kept[1]
    ordered = tuple(sorted(question.choices, key=lambda c: normalize(c.label.get(language))))
    _orders[key] = (question.choices, ordered)
    while len(_orders) > _INDEXES_KEPT * 16:
        _orders.popitem(last=False)
    return ordered


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
