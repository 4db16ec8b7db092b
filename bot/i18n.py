"""Translations of the bot's own words (gettext catalogs in ``locales/``) and locale formatting.

Catalogs are the ``.po`` files themselves, compiled in memory at start-up with
babel: no compiled ``.mo`` file is committed or needed. Messages use
``{name}`` placeholders; values are formatted for the language (numbers by
babel) and, in right-to-left languages, wrapped in Unicode first-strong
isolates so that Latin words or digits inside Arabic text keep their order.
"""

from __future__ import annotations

import functools
import gettext
import io
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.lists import format_list
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

LOCALES = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "bot"  # the bot's words, in every shipped language
CONSOLE_DOMAIN = "console"  # the web console's own words, for organizers (en, fr, es, ar)
SOURCE_LANGUAGE = "en"
_NUMBERS_KEPT = 4096  # whole numbers a Translator keeps written

FSI = "\u2068"  # first strong isolate
PDI = "\u2069"  # pop directional isolate
RLM = "\u200f"  # right-to-left mark
LRM = "\u200e"  # left-to-right mark


def N_(message: str) -> str:  # noqa: N802 (the name pybabel looks for)
    """Mark a message for translation where it is defined; translate it where it is shown."""
    return message


# What people type instead of a command, per command: comma-separated words and short
# phrases, translated like any message (each language adds its own; every language's
# words work in every chat).
COMMAND_WORDS = {
    # Translators: words people type to ask for help, comma-separated
    "help": N_("help, what can I do, how does this work"),
    # Translators: words people type to start or continue, comma-separated
    "start": N_("start, begin, continue, hello, hi"),
    # Translators: words people type to go back one question, comma-separated
    "back": N_("back, go back, previous"),
    # Translators: words people type to skip a question, comma-separated
    "skip": N_("skip, next, pass"),
    # Translators: words people type to change the language, comma-separated
    "language": N_("language, change language"),
    # Translators: words people type to see their data, comma-separated
    "mydata": N_("my data, my answers, show my data"),
    # Translators: words people type to erase their data, comma-separated
    "delete": N_("delete, delete my data, erase my data, remove my data"),
    # Translators: words people type to stop reminders, comma-separated
    "stop": N_("stop, stop reminders, no more reminders"),
}


def shipped_languages(folder: Path = LOCALES, domain: str = DOMAIN) -> tuple[str, ...]:
    """The languages that have a catalog in ``domain``, English first."""
    found = sorted(p.parent.parent.name for p in folder.glob(f"*/LC_MESSAGES/{domain}.po"))
    return tuple(sorted(found, key=lambda code: (code != SOURCE_LANGUAGE, code)))


def _compile(po_file: Path) -> gettext.GNUTranslations:
    return _compiled(po_file.read_bytes(), po_file.parent.parent.name)


@functools.lru_cache(maxsize=128)
def _compiled(po_text: bytes, language: str) -> gettext.GNUTranslations:
    """The catalog ``po_text`` compiled, once per process for the same text: parsing the
    .po files takes a good part of a second, and the application and its console load
    the same catalogs more than once. A compiled catalog is only ever read, so sharing
    it is safe."""
    catalog = read_po(io.BytesIO(po_text), locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def is_rtl(language: str) -> bool:
    try:
        return Locale.parse(language).character_order == "right-to-left"
    except (ValueError, UnknownLocaleError):
        return False


def language_name(code: str) -> str:
    """The language's own name for itself, capitalized as a menu entry ("Français", "العربية")."""
    try:
        name = Locale.parse(code).get_display_name(code) or code
    except (ValueError, UnknownLocaleError):
        return code
    return name[:1].upper() + name[1:]


@dataclass(eq=False)
class Translator:
    """Everything the bot says, in one language."""

    language: str
    catalog: gettext.NullTranslations
    rtl: bool = False
    locale: Locale = field(init=False)
    # whole numbers already written (scale buttons, counts): babel takes ~20 µs a number
    _written: dict[tuple[int, bool], str] = field(init=False, default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        try:
            self.locale = Locale.parse(self.language)
        except (ValueError, UnknownLocaleError):
            self.locale = Locale.parse(SOURCE_LANGUAGE)

    def gettext(self, message: str, **params: object) -> str:
        return self._format(self.catalog.gettext(message), params)

    def ngettext(self, singular: str, plural: str, n: int, **params: object) -> str:
        return self._format(self.catalog.ngettext(singular, plural, n), params)

    def number(self, value: int | float | Decimal, *, grouping: bool = True) -> str:
        """A number in the language's digits and decimal sign (``grouping``: thousands
        separators, never for years and other identifiers)."""
        if type(value) is not int:
            return format_decimal(value, locale=self.locale, group_separator=grouping)
        text = self._written.get((value, grouping))
        if text is None:
            text = format_decimal(value, locale=self.locale, group_separator=grouping)
            if len(self._written) < _NUMBERS_KEPT:
                self._written[value, grouping] = text
        return text

    def listing(self, items: Sequence[str]) -> str:
        """Items as the language lists them ("A, B and C", "A、B和C", "A، B و C")."""
        return format_list(list(items), style="standard", locale=self.locale) if items else ""

    def isolate(self, text: str) -> str:
        """Keep embedded text in its own direction inside a right-to-left sentence."""
        return f"{FSI}{text}{PDI}" if self.rtl else text

    def _format(self, template: str, params: dict[str, object]) -> str:
        if not params:
            return template
        values = {}
        for key, value in params.items():
            if isinstance(value, int) and not isinstance(value, bool):
                text = self.number(value, grouping=False)  # counts, bounds, years alike
            elif isinstance(value, float | Decimal):
                text = self.number(value)
            else:
                text = str(value)
            values[key] = self.isolate(text)
        return template.format(**values)


@dataclass(eq=False)
class Catalogs:
    """One translator per shipped language. A language without a catalog (a survey in
    Hausa, say) gets the catalog its survey names in ``fallbacks`` (``bot_language``),
    else English, while numbers, dates and direction follow the language itself."""

    translators: dict[str, Translator]
    fallbacks: Mapping[str, str] = field(default_factory=dict)

    def with_fallbacks(self, fallbacks: Mapping[str, str]) -> Catalogs:
        return Catalogs(self.translators, dict(fallbacks))

    def words_for(self, language: str) -> str:
        """The language the bot's own words are in for this language."""
        if language in self.translators:
            return language
        if _base(language) in self.translators:
            return _base(language)
        fallback = self.fallbacks.get(language)
        return fallback if fallback in self.translators else SOURCE_LANGUAGE

    @classmethod
    def load(cls, folder: Path = LOCALES, domain: str = DOMAIN) -> Catalogs:
        """Every shipped catalog of ``domain`` (the bot's words by default; the web
        console's with :data:`CONSOLE_DOMAIN`)."""
        translators: dict[str, Translator] = {}
        for language in shipped_languages(folder, domain):
            po_file = folder / language / "LC_MESSAGES" / f"{domain}.po"
            translators[language] = Translator(language, _compile(po_file), is_rtl(language))
        if SOURCE_LANGUAGE not in translators:
            translators[SOURCE_LANGUAGE] = Translator(SOURCE_LANGUAGE, gettext.NullTranslations())
        return cls(translators)

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(self.translators)

    def get(self, language: str | None) -> Translator:
        if language and language in self.translators:
            return self.translators[language]
        if not language:
            return self.translators[SOURCE_LANGUAGE]
        words = self.words_for(language)
        if words == _base(language):
            return self.translators[words]
        # a survey language without a catalog: its own formats and direction, the bot's
        # words in the fallback language
        return Translator(language, self.translators[words].catalog, is_rtl(language))

    def command_words(self, normalize: Callable[[str], str]) -> dict[str, str]:
        """Every language's words for the commands (:data:`COMMAND_WORDS`), normalized,
        each mapped to its command; a word two commands share is left out."""
        found: dict[str, set[str]] = {}
        for translator in self.translators.values():
            for command, words in COMMAND_WORDS.items():
                for word in translator.gettext(words).split(","):
                    if key := normalize(word):
                        found.setdefault(key, set()).add(command)
        return {word: commands.pop() for word, commands in found.items() if len(commands) == 1}

    def for_person(self, chosen: str | None, app_language: str | None) -> Translator:
        """The language a person chose; before they chose, their Telegram app's if the bot
        speaks it (else English)."""
        if chosen:
            return self.get(chosen)
        return self.get(best_language(app_language, self.translators))


@dataclass(frozen=True, slots=True)
class Completeness:
    language: str
    translated: int
    total: int
    fuzzy: int

    @property
    def complete(self) -> bool:
        return self.translated == self.total and not self.fuzzy


def completeness(folder: Path = LOCALES, domain: str = DOMAIN) -> list[Completeness]:
    """How much of the template each catalog translates (no fuzzy entry counts)."""
    with (folder / f"{domain}.pot").open("rb") as handle:
        template = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(handle) if m.id}
    found = []
    for language in shipped_languages(folder, domain):
        with (folder / language / "LC_MESSAGES" / f"{domain}.po").open("rb") as handle:
            catalog = read_po(handle, locale=language)
        done = fuzzy = 0
        for message in catalog:
            key = message.id if isinstance(message.id, str) else message.id[0]
            if not key or key not in template:
                continue
            strings = (message.string if isinstance(message.string, tuple | list)
                       else (message.string,))
            if message.fuzzy:
                fuzzy += 1
            elif all(isinstance(text, str) and text.strip() for text in strings):
                done += 1
        found.append(Completeness(language, done, len(template), fuzzy))
    return found


def _base(language: str) -> str:
    """"pt-br" → "pt"."""
    return language.replace("_", "-").split("-")[0].lower()


def titled(t: Translator, title: str) -> str:
    """A survey's title, or a neutral one in ``t``'s language when the form has none."""
    return title or t.gettext("Consultation")


def best_language(hint: str | None, offered: Iterable[str]) -> str | None:
    """The offered language matching a Telegram ``language_code`` hint ("pt-br" → "pt")."""
    if not hint:
        return None
    offered = list(offered)
    hint = hint.replace("_", "-").lower()
    if hint in offered:
        return hint
    base = hint.split("-")[0]
    return base if base in offered else None
