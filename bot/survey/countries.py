"""The country choice list, named in every survey language by Unicode CLDR (via babel),
and the everyday names people type for countries, one file per language.

``country_aliases/<language>.yaml`` holds, for one language, what CLDR's names
in that language do not: the regional CLDR locales whose names count too
(``cldr``: ``[es_419]``, ``[fa_AF]`` for Dari), short forms, older and everyday
names (``names``: ISO code → names, each taken at once when typed), and words
that could mean several countries (``ambiguous``: word → codes, offered in that
order and never taken at once). Adding a language to the search is adding its
file: its CLDR names come with it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml
from babel import Locale, UnknownLocaleError

ALIASES_DIR = Path(__file__).parent / "country_aliases"
_TEXT_ONLY = getattr(yaml, "CBaseLoader", yaml.BaseLoader)  # every value is text: NO stays "NO"

# CLDR region codes that are not countries or territories people live in.
_NOT_COUNTRIES = frozenset(
    "AC AQ BV CP CQ DG EA EU EZ HM IC QO TA UM UN XA XB ZZ".split()
)


@cache
def _codes() -> tuple[str, ...]:
    territories = Locale("en").territories
    return tuple(sorted(
        code
        for code in map(str, territories)
        if len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES
    ))


def country_codes() -> list[str]:
    """ISO 3166-1 alpha-2 codes of the countries and territories CLDR names."""
    return list(_codes())


def country_names(languages: Iterable[str]) -> dict[str, dict[str, str]]:
    """``{code: {language: name}}`` for every country, in each language babel knows.

    The loader calls this when it reads a survey with a country list. The CLDR names
    of the other locales in ``country_aliases/``, which only the search of a typed
    country needs, are read when a running bot starts
    (:func:`bot.survey.search.warm_up`), not here: a command such as ``export`` would
    spend a third of a second on them.
    """
    names: dict[str, dict[str, str]] = {code: {} for code in _codes()}
    for language in languages:
        try:
            territories = Locale.parse(language).territories
        except (ValueError, LookupError):
            continue
        for code, by_language in names.items():
            if code in territories:
                by_language[language] = territories[code]
    return names


@cache
def locale_country_names(locale: str) -> Mapping[str, str]:
    """``{code: name}`` in one CLDR locale (``fa``, ``fa_AF``), read once."""
    territories = Locale.parse(locale).territories
    return {code: territories[code] for code in _codes() if code in territories}


@dataclass(frozen=True, slots=True)
class CountryAliases:
    """Everyday names of countries in one language, besides the CLDR ones."""

    language: str
    locales: tuple[str, ...]  # CLDR locales whose names count: the language, its regions
    names: Mapping[str, tuple[str, ...]]  # ISO code → names taken at once
    ambiguous: Mapping[str, tuple[str, ...]]  # name → ISO codes, offered in this order


class AliasFileInvalid(ValueError):
    """A file of ``country_aliases/`` does not follow its format."""


@cache
def country_aliases() -> Mapping[str, CountryAliases]:
    """Every language's everyday country names, read once from ``country_aliases/``."""
    return {path.stem: read_aliases(path) for path in sorted(ALIASES_DIR.glob("*.yaml"))}


def read_aliases(path: Path) -> CountryAliases:
    """One language's file, checked: CLDR locales, known ISO codes, names as lists of text."""
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=_TEXT_ONLY)
    known = set(_codes())

    def fail(problem: str) -> AliasFileInvalid:
        return AliasFileInvalid(f"{path.name}: {problem}")

    def codes(raw: object, where: str) -> tuple[str, ...]:
        items = raw if isinstance(raw, list) else [raw]
        for code in items:
            if not isinstance(code, str) or code not in known:
                raise fail(f"{where}: {code!r} is not an ISO code of the country list")
        return tuple(items)

    def texts(raw: object, where: str) -> tuple[str, ...]:
        items = raw if isinstance(raw, list) else [raw]
        if not all(isinstance(item, str) and item.strip() for item in items):
            raise fail(f"{where}: expected a name or a list of names")
        return tuple(items)

    if not isinstance(data, dict) or set(data) - {"cldr", "names", "ambiguous"}:
        raise fail("expected a map with 'cldr', 'names' and 'ambiguous'")
    locales = (path.stem, *texts(data.get("cldr") or [], "cldr"))
    for locale in locales:
        try:
            Locale.parse(locale)
        except (ValueError, LookupError, UnknownLocaleError):
            raise fail(f"{locale!r} is not a CLDR locale") from None
    names, ambiguous = data.get("names") or {}, data.get("ambiguous") or {}
    if not isinstance(names, dict) or not isinstance(ambiguous, dict):
        raise fail("'names' and 'ambiguous' are maps")
    return CountryAliases(
        language=path.stem,
        locales=locales,
        names={codes(code, "names")[0]: texts(items, f"names.{code}")
               for code, items in names.items()},
        ambiguous={texts(name, "ambiguous")[0]: codes(items, f"ambiguous.{name}")
                   for name, items in ambiguous.items()},
    )


def is_country_code(code: str) -> bool:
    """True for an ISO code of the built-in country list."""
    return code in _code_set()


@cache
def _code_set() -> frozenset[str]:
    return frozenset(_codes())
