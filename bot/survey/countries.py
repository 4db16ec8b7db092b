"""The country choice list, named in every survey language by Unicode CLDR (via babel)."""

from __future__ import annotations

from collections.abc import Iterable

from babel import Locale

# CLDR region codes that are not countries or territories people live in.
_NOT_COUNTRIES = frozenset(
    "AC AQ BV CP CQ DG EA EU EZ HM IC QO TA UM UN XA XB ZZ".split()
)


def country_codes() -> list[str]:
    """ISO 3166-1 alpha-2 codes of the countries and territories CLDR names."""
    territories = Locale("en").territories
    return sorted(
        code
        for code in map(str, territories)
        if len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES
    )


def country_names(languages: Iterable[str]) -> dict[str, dict[str, str]]:
    """``{code: {language: name}}`` for every country, in each language babel knows."""
    names: dict[str, dict[str, str]] = {code: {} for code in country_codes()}
    for language in languages:
        try:
            territories = Locale.parse(language).territories
        except (ValueError, LookupError):
            continue
        for code, by_language in names.items():
            if code in territories:
                by_language[language] = territories[code]
    return names
