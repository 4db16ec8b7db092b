"""World regions of the countries people live in, for results that must not single anyone out.

A summary never shows a country: one person from a rare country would be
recognizable. It shows the country's region instead, one of eleven UN M49
regions (Africa split into Northern and Sub-Saharan, the Americas into
Northern and Latin America with the Caribbean, Asia into five). The codes are
CLDR territory codes, so babel names each region in every language
(``Locale(language).territories["202"]``).

The grouping follows the UN M49 standard; territories M49 does not list follow
CLDR's containment (Taiwan in Eastern Asia, Kosovo in Europe).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from babel import Locale, UnknownLocaleError

NORTHERN_AFRICA = "015"
SUB_SAHARAN_AFRICA = "202"
LATIN_AMERICA = "419"  # Latin America and the Caribbean
NORTHERN_AMERICA = "021"
WESTERN_ASIA = "145"
CENTRAL_ASIA = "143"
SOUTHERN_ASIA = "034"
EASTERN_ASIA = "030"
SOUTHEAST_ASIA = "035"
EUROPE = "150"
OCEANIA = "009"

REGION_CODES = (
    NORTHERN_AFRICA, SUB_SAHARAN_AFRICA, LATIN_AMERICA, NORTHERN_AMERICA, WESTERN_ASIA,
    CENTRAL_ASIA, SOUTHERN_ASIA, EASTERN_ASIA, SOUTHEAST_ASIA, EUROPE, OCEANIA,
)

_COUNTRIES_BY_REGION = {
    NORTHERN_AFRICA: "DZ EG EH LY MA SD TN",
    SUB_SAHARAN_AFRICA: (
        "AO BF BI BJ BW CD CF CG CI CM CV DJ ER ET GA GH GM GN GQ GW IO KE KM LR LS MG "
        "ML MR MU MW MZ NA NE NG RE RW SC SH SL SN SO SS ST SZ TD TF TG TZ UG YT ZA ZM ZW"
    ),
    LATIN_AMERICA: (
        "AG AI AR AW BB BL BO BQ BR BS BZ CL CO CR CU CW DM DO EC FK GD GF GP GS GT GY "
        "HN HT JM KN KY LC MF MQ MS MX NI PA PE PR PY SR SV SX TC TT UY VC VE VG VI"
    ),
    NORTHERN_AMERICA: "BM CA GL PM US",
    WESTERN_ASIA: "AE AM AZ BH CY GE IL IQ JO KW LB OM PS QA SA SY TR YE",
    CENTRAL_ASIA: "KG KZ TJ TM UZ",
    SOUTHERN_ASIA: "AF BD BT IN IR LK MV NP PK",
    EASTERN_ASIA: "CN HK JP KP KR MN MO TW",
    SOUTHEAST_ASIA: "BN ID KH LA MM MY PH SG TH TL VN",
    EUROPE: (
        "AD AL AT AX BA BE BG BY CH CZ DE DK EE ES FI FO FR GB GG GI GR HR HU IE IM IS "
        "IT JE LI LT LU LV MC MD ME MK MT NL NO PL PT RO RS RU SE SI SJ SK SM UA VA XK"
    ),
    OCEANIA: (
        "AS AU CC CK CX FJ FM GU KI MH MP NC NF NR NU NZ PF PG PN PW SB TK TO TV VU WF WS"
    ),
}

REGION_OF: Mapping[str, str] = MappingProxyType({
    country: region
    for region, countries in _COUNTRIES_BY_REGION.items()
    for country in countries.split()
})
"""ISO 3166-1 alpha-2 country code → CLDR / UN M49 region code."""


def region_of(country: str) -> str | None:
    return REGION_OF.get(country)


def region_name(region: str, language: str) -> str:
    """The region's name in ``language`` (CLDR), or in English for a language babel lacks."""
    try:
        territories = Locale.parse(language).territories
    except (ValueError, UnknownLocaleError):
        territories = Locale("en").territories
    name = territories.get(region) or Locale("en").territories.get(region) or region
    return str(name)
