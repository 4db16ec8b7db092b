"""Every country of the country list belongs to one world region, named in every language."""

from __future__ import annotations

import pytest
from bot.regions import _COUNTRIES_BY_REGION, REGION_CODES, REGION_OF, region_name, region_of
from bot.survey.countries import country_codes


def test_every_country_code_is_mapped_once() -> None:
    listed = [code for codes in _COUNTRIES_BY_REGION.values() for code in codes.split()]
    assert len(listed) == len(set(listed)), "a country is in two regions"
    assert set(country_codes()) - set(REGION_OF) == set(), "countries without a region"
    assert set(REGION_OF) - set(country_codes()) == set(), "regions hold unknown codes"
    assert set(REGION_OF.values()) == set(REGION_CODES)


@pytest.mark.parametrize("language", ["en", "fr", "es", "ar"])
def test_every_region_has_a_name(language: str) -> None:
    names = [region_name(code, language) for code in REGION_CODES]
    assert all(name and not name.isdigit() for name in names)
    assert len(set(names)) == len(names)


@pytest.mark.parametrize(("country", "region"), [
    ("MA", "015"), ("SD", "015"), ("EG", "015"), ("MR", "202"), ("SN", "202"), ("RE", "202"),
    ("MX", "419"), ("HT", "419"), ("CA", "021"), ("GL", "021"), ("TR", "145"), ("PS", "145"),
    ("KZ", "143"), ("AF", "034"), ("IR", "034"), ("CN", "030"), ("TW", "030"),
    ("PH", "035"), ("RU", "150"), ("XK", "150"), ("FJ", "009"), ("AU", "009"),
])
def test_un_m49_grouping(country: str, region: str) -> None:
    assert region_of(country) == region


def test_unknown_codes() -> None:
    assert region_of("ZZ") is None
    assert region_name("202", "xx") == "Sub-Saharan Africa"
