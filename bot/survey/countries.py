"""The country choice list, named in every survey language by Unicode CLDR (via babel),
and the everyday names people type for countries, one file per language.

``country_aliases/<language>.yaml`` holds, for one language, what CLDR does not:
short forms, older and everyday names (``names``: ISO code → names, each taken at
once when typed), and words that could mean several countries (``ambiguous``:
word → codes, offered in that order and never taken at once). Adding a language
to the search is adding its file: its CLDR names come with it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml
from babel import Locale

ALIASES_DIR = Path(__file__).parent / "country_aliases"

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
    """``{code: {language: name}}`` for every country, in each language babel knows."""
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


@dataclass(frozen=True, slots=True)
class CountryAliases:
    """Everyday names of countries in one language, besides the CLDR ones."""

    language: str
    names: Mapping[str, tuple[str, ...]]  # ISO code → names taken at once
    ambiguous: Mapping[str, tuple[str, ...]]  # name → ISO codes, offered in this order


class AliasFileInvalid(ValueError):
    """A file of ``country_aliases/`` does not follow its format."""


@cache
def country_aliases() -> Mapping[str, CountryAliases]:
    """Every language's everyday country names, read once from ``country_aliases/``."""
    return {path.stem: read_aliases(path) for path in sorted(ALIASES_DIR.glob("*.yaml"))}


def read_aliases(path: Path) -> CountryAliases:
    """One language's file, checked: known ISO codes, names as lists of text."""
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.BaseLoader)  # all text
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

    if not isinstance(data, dict) or set(data) - {"names", "ambiguous"}:
        raise fail("expected a map with 'names' and 'ambiguous'")
    names, ambiguous = data.get("names") or {}, data.get("ambiguous") or {}
    if not isinstance(names, dict) or not isinstance(ambiguous, dict):
        raise fail("'names' and 'ambiguous' are maps")
    return CountryAliases(
        language=path.stem,
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
