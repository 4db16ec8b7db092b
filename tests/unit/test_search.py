"""Typing to find a choice: the country list in each language, and any long list."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest
from bot.survey.countries import (
    country_aliases,
    country_names,
    locale_country_names,
    read_aliases,
)
from bot.survey.loader import BUILTIN_SURVEY, load_survey
from bot.survey.model import Choice, Question, QuestionType, Translated
from bot.survey.search import (
    Offered,
    Taken,
    find_choice,
    match_typed,
    normalize,
    search_choices,
)


@pytest.fixture(scope="module")
def countries() -> Question:
    survey, _ = load_survey(BUILTIN_SURVEY)
    return next(q for q in survey.questions if q.sort_choices)


def found(question: Question, language: str, typed: str) -> tuple[str | None, list[str]]:
    """(the code taken at once or None, the codes offered)."""
    result = find_choice(question, language, typed)
    if isinstance(result, Taken):
        return result.choice.id, [result.choice.id]
    return None, [c.id for c in result.choices]


# Typed text → the country it must find: taken at once, or first of the buttons.
FINDS = {
    "en": [
        ("Turkey", "TR"), ("Türkiye", "TR"), ("Turkiye", "TR"), ("Palestine", "PS"),
        ("Gaza", "PS"), ("West Bank", "PS"), ("Palestinian territories", "PS"),
        ("USA", "US"), ("U.S.A.", "US"), ("US", "US"), ("United States of America", "US"),
        ("America", "US"), ("UK", "GB"), ("England", "GB"), ("Britain", "GB"),
        ("Great Britain", "GB"), ("Scotland", "GB"), ("Wales", "GB"),
        ("Northern Ireland", "GB"), ("Holland", "NL"), ("the Netherlands", "NL"),
        ("Ivory Coast", "CI"), ("Cote d'Ivoire", "CI"), ("DRC", "CD"), ("DR Congo", "CD"),
        ("Congo-Kinshasa", "CD"), ("Congo-Brazzaville", "CG"), ("Burma", "MM"),
        ("Myanmar", "MM"), ("Czechia", "CZ"), ("Czech Republic", "CZ"), ("Swaziland", "SZ"),
        ("Eswatini", "SZ"), ("Macedonia", "MK"), ("Cape Verde", "CV"), ("East Timor", "TL"),
        ("Vatican", "VA"), ("Russia", "RU"), ("South Korea", "KR"), ("North Korea", "KP"),
        ("Iran", "IR"), ("Syria", "SY"), ("Laos", "LA"), ("Vietnam", "VN"), ("UAE", "AE"),
        ("Emirates", "AE"), ("Dubai", "AE"), ("KSA", "SA"), ("Saudi", "SA"), ("CAR", "CF"),
        ("Bosnia", "BA"), ("Bosnia and Herzegovina", "BA"), ("Moldova", "MD"),
        ("Tanzania", "TZ"), ("Bolivia", "BO"), ("Venezuela", "VE"), ("the Gambia", "GM"),
        ("Guinea Conakry", "GN"), ("Somaliland", "SO"), ("Canary Islands", "ES"),
        ("Lampedusa", "IT"), ("Germ", "DE"),
        # one or two letters wrong
        ("Germny", "DE"), ("Lybia", "LY"), ("Tunisa", "TN"), ("Marocco", "MA"),
        ("Afganistan", "AF"), ("Phillipines", "PH"), ("Venezuala", "VE"), ("Columbia", "CO"),
        ("Nigeira", "NG"), ("Eritria", "ER"), ("Somolia", "SO"), ("Sirya", "SY"),
        ("Pakistn", "PK"), ("Bangladish", "BD"), ("Jordon", "JO"), ("Lebenon", "LB"),
        ("Sweeden", "SE"), ("Spian", "ES"), ("Belguim", "BE"), ("Senagal", "SN"),
        ("Ukrain", "UA"), ("Kuba", "CU"), ("Afgahnistan", "AF"), ("Afganist", "AF"),
    ],
    "fr": [
        ("États-Unis", "US"), ("etats unis", "US"), ("USA", "US"), ("Amérique", "US"),
        ("Angleterre", "GB"), ("Grande-Bretagne", "GB"), ("Écosse", "GB"),
        ("Hollande", "NL"), ("les Pays-Bas", "NL"), ("RDC", "CD"),
        ("République démocratique du Congo", "CD"), ("Congo-Brazzaville", "CG"),
        ("Côte d'Ivoire", "CI"), ("Cote dIvoire", "CI"), ("Turquie", "TR"),
        ("Birmanie", "MM"), ("République tchèque", "CZ"), ("Swaziland", "SZ"),
        ("Macédoine", "MK"), ("Cap-Vert", "CV"), ("Timor oriental", "TL"),
        ("Vatican", "VA"), ("Russie", "RU"), ("Corée du Sud", "KR"), ("Syrie", "SY"),
        ("EAU", "AE"), ("Arabie", "SA"), ("RCA", "CF"), ("Centrafrique", "CF"),
        ("Bosnie", "BA"), ("Moldavie", "MD"), ("Tanzanie", "TZ"), ("Palestine", "PS"),
        ("Gaza", "PS"), ("Cisjordanie", "PS"), ("Guinée-Conakry", "GN"),
        ("l'Allemagne", "DE"), ("Île Maurice", "MU"), ("Maroc", "MA"), ("Algérie", "DZ"),
        # one or two letters wrong
        ("Alemagne", "DE"), ("Allemange", "DE"), ("Etats Uni", "US"), ("Angletere", "GB"),
        ("Hollende", "NL"), ("Tunisi", "TN"), ("Marroc", "MA"), ("Sénégale", "SN"),
    ],
    "es": [
        ("EE. UU.", "US"), ("EEUU", "US"), ("EE.UU.", "US"), ("Estados Unidos", "US"),
        ("América", "US"), ("Norteamérica", "US"), ("Inglaterra", "GB"),
        ("Gran Bretaña", "GB"), ("Reino Unido", "GB"), ("Holanda", "NL"),
        ("Costa de Marfil", "CI"), ("RDC", "CD"), ("República Democrática del Congo", "CD"),
        ("Congo", "CD"), ("Turquía", "TR"), ("Birmania", "MM"), ("República Checa", "CZ"),
        ("Suazilandia", "SZ"), ("Macedonia", "MK"), ("Cabo Verde", "CV"),
        ("Timor Oriental", "TL"), ("Vaticano", "VA"), ("Rusia", "RU"), ("Corea", "KR"),
        ("Irán", "IR"), ("Siria", "SY"), ("Emiratos", "AE"), ("Arabia Saudita", "SA"),
        ("Bosnia", "BA"), ("Moldavia", "MD"), ("Palestina", "PS"), ("Gaza", "PS"),
        ("Méjico", "MX"), ("Mexico", "MX"), ("El Salvador", "SV"), ("Perú", "PE"),
        ("peru", "PE"), ("Dominicana", "DO"),
        # one or two letters wrong
        ("Colonbia", "CO"), ("Venesuela", "VE"), ("Ecuadro", "EC"), ("Guatemla", "GT"),
        ("Estado Unidos", "US"), ("Hondura", "HN"), ("Nicaragüa", "NI"), ("Alemana", "DE"),
    ],
    "ar": [
        ("أمريكا", "US"), ("امريكا", "US"), ("أميركا", "US"), ("الولايات المتحدة", "US"),
        ("بريطانيا", "GB"), ("إنجلترا", "GB"), ("انجلترا", "GB"), ("إنكلترا", "GB"),
        ("هولندا", "NL"), ("ساحل العاج", "CI"), ("كوت ديفوار", "CI"), ("غزة", "PS"),
        ("فلسطين", "PS"), ("الضفة الغربية", "PS"), ("تركيا", "TR"), ("بورما", "MM"),
        ("التشيك", "CZ"), ("سوازيلاند", "SZ"), ("مقدونيا", "MK"), ("الفاتيكان", "VA"),
        ("روسيا", "RU"), ("كوريا", "KR"), ("إيران", "IR"), ("سوريا", "SY"), ("سورية", "SY"),
        ("الشام", "SY"), ("الإمارات", "AE"), ("دبي", "AE"), ("السعودية", "SA"),
        ("الكونغو الديمقراطية", "CD"), ("الكونغو", "CD"), ("أفريقيا الوسطى", "CF"),
        ("البوسنة", "BA"), ("المغرب", "MA"), ("مغرب", "MA"), ("الجزائر", "DZ"),
        ("تونس", "TN"), ("ليبيا", "LY"), ("مصر", "EG"), ("السودان", "SD"), ("الحبشة", "ET"),
        ("إريتريا", "ER"), ("الصومال", "SO"), ("العراق", "IQ"), ("أفغانستان", "AF"),
        ("لبنان", "LB"), ("الأردن", "JO"), ("المجر", "HU"), ("الدنمارك", "DK"),
        ("ألمانيا", "DE"), ("Germany", "DE"),
        # letter variants, diacritics, tatweel, Persian and Urdu letters
        ("المانيا", "DE"), ("أَلْمَانِيَا", "DE"), ("مـصـر", "EG"), ("السعوديه", "SA"),
        ("ایران", "IR"), ("الجزاير", "DZ"), ("اثيوبيا", "ET"), ("عُمان", "OM"), ("عمان", "OM"),
        # one or two letters wrong
        ("ليبيه", "LY"), ("أفغانستن", "AF"), ("الصومل", "SO"), ("السويدد", "SE"),
    ],
    "pt": [
        ("EUA", "US"), ("Estados Unidos", "US"), ("Inglaterra", "GB"), ("Holanda", "NL"),
        ("Costa do Marfim", "CI"), ("RDC", "CD"), ("Palestina", "PS"), ("Turquia", "TR"),
        ("Birmânia", "MM"), ("República Tcheca", "CZ"), ("Alemanha", "DE"),
        ("Moçambique", "MZ"), ("Cabo Verde", "CV"), ("Guiné-Bissau", "GW"), ("Irão", "IR"),
        ("Vietname", "VN"), ("Quénia", "KE"), ("Irã", "IR"),
        ("Alemana", "DE"), ("Portugual", "PT"), ("Moçambiqe", "MZ"), ("Franca", "FR"),
    ],
    "ru": [
        ("США", "US"), ("Америка", "US"), ("Англия", "GB"), ("Британия", "GB"),
        ("Голландия", "NL"), ("Кот-д'Ивуар", "CI"), ("Берег Слоновой Кости", "CI"),
        ("ДР Конго", "CD"), ("Палестина", "PS"), ("Турция", "TR"), ("Бирма", "MM"),
        ("Южная Корея", "KR"), ("Белоруссия", "BY"), ("Молдавия", "MD"),
        ("Кыргызстан", "KG"), ("Киргизия", "KG"), ("Таджикистан", "TJ"),
        ("Германя", "DE"), ("Узбекистн", "UZ"),
    ],
    "uk": [
        ("США", "US"), ("Англія", "GB"), ("Британія", "GB"), ("Голландія", "NL"),
        ("Німеччина", "DE"), ("Польща", "PL"), ("Чехія", "CZ"), ("Турція", "TR"),
        ("Росія", "RU"), ("Молдова", "MD"), ("Ізраїль", "IL"),
        ("Німечина", "DE"), ("Ізраіль", "IL"), ("Польша", "PL"),
    ],
    "fa": [
        ("آمریکا", "US"), ("امریکا", "US"), ("انگلیس", "GB"), ("آلمان", "DE"),
        ("جرمنی", "DE"), ("هالند", "NL"), ("هلند", "NL"), ("ترکیه", "TR"), ("یونان", "GR"),
        ("فلسطین", "PS"), ("جاپان", "JP"), ("ناروی", "NO"), ("عربستان", "SA"),
        ("امارات", "AE"), ("افغانستان", "AF"), ("ایران", "IR"), ("اتریش", "AT"),
    ],
    "tr": [
        ("ABD", "US"), ("Amerika", "US"), ("İngiltere", "GB"), ("Ingiltere", "GB"),
        ("Hollanda", "NL"), ("Almanya", "DE"), ("Fildişi Sahili", "CI"), ("Filistin", "PS"),
        ("Gazze", "PS"), ("Suriye", "SY"), ("İran", "IR"), ("Yunanistan", "GR"),
        ("Almnya", "DE"), ("Yunanistn", "GR"), ("Bulgaristan", "BG"),
    ],
    "sw": [
        ("Marekani", "US"), ("Uingereza", "GB"), ("Ujerumani", "DE"), ("DRC", "CD"),
        ("Uturuki", "TR"), ("Misri", "EG"), ("Sudani", "SD"), ("Uholanzi", "NL"),
        ("Ujeremani", "DE"),
    ],
    "ur": [
        ("امریکہ", "US"), ("برطانیہ", "GB"), ("سعودیہ", "SA"), ("سعودی عرب", "SA"),
        ("دبئی", "AE"), ("ترکی", "TR"), ("روس", "RU"), ("جرمنی", "DE"), ("اٹلی", "IT"),
        ("ہندوستان", "IN"), ("بھارت", "IN"), ("ملیشیا", "MY"),
    ],
    "bn": [
        ("আমেরিকা", "US"), ("মার্কিন যুক্তরাষ্ট্র", "US"), ("ইংল্যান্ড", "GB"),
        ("ব্রিটেন", "GB"), ("সৌদি", "SA"), ("সৌদি আরব", "SA"), ("দুবাই", "AE"),
        ("ইতালি", "IT"), ("মালয়েশিয়া", "MY"), ("কুয়েত", "KW"), ("ইন্ডিয়া", "IN"),
        ("গ্রিস", "GR"), ("চীন", "CN"),
    ],
    "zh": [
        ("美国", "US"), ("美國", "US"), ("英国", "GB"), ("英格兰", "GB"), ("荷兰", "NL"),
        ("德国", "DE"), ("科特迪瓦", "CI"), ("象牙海岸", "CI"), ("刚果金", "CD"),
        ("巴勒斯坦", "PS"), ("土耳其", "TR"), ("缅甸", "MM"), ("南韩", "KR"), ("北韩", "KP"),
        ("阿联酋", "AE"), ("迪拜", "AE"), ("沙特", "SA"), ("香港", "HK"), ("澳门", "MO"),
        ("中国", "CN"), ("俄国", "RU"),
    ],
}

# Texts that must not be taken at once: the buttons start with these codes, in this order.
AMBIGUOUS = {
    "en": [("UK", ["GB", "UA"]), ("America", ["US", "AS"]), ("Congo", ["CD", "CG"]),
           ("Korea", ["KR", "KP"]), ("SA", ["ZA", "SA"]), ("Kurdistan", ["IQ", "TR", "SY", "IR"]),
           ("Virgin Islands", ["VI", "VG"]), ("CA", ["CA"]), ("Ira", []), ("Aus", []),
           ("Guin", []), ("Sud", []), ("Lybia", ["LY"])],
    "fr": [("Corée", ["KR", "KP"]), ("Congo", ["CD", "CG"]), ("Amérique", ["US"]),
           ("Guin", []), ("Saint-Martin", ["MF", "SX"])],
    "es": [("Corea", ["KR", "KP"]), ("Congo", ["CD", "CG"]), ("América", ["US"]),
           ("Guayana", ["GY", "GF"]), ("Norteamérica", ["US"])],
    "ar": [("كوريا", ["KR", "KP"]), ("الكونغو", ["CD", "CG"]),
           ("كردستان", ["IQ", "TR", "SY", "IR"]), ("الم", []), ("ألما", ["DE"])],
    "pt": [("Congo", ["CD", "CG"]), ("Coreia", ["KR", "KP"]), ("América", ["US"]),
           ("Ira", ["IR", "IQ"])],
    "ru": [("Корея", ["KR", "KP"]), ("Конго", ["CD", "CG"]), ("Америка", ["US"])],
    "uk": [("Корея", ["KR", "KP"]), ("Конго", ["CD", "CG"])],
    "fa": [("کره", ["KR", "KP"]), ("کنگو", ["CD", "CG"])],
    "tr": [("Kore", ["KR", "KP"]), ("Kongo", ["CD", "CG"]), ("Fas", ["MA", "BF"])],
    "sw": [("Kongo", ["CD", "CG"]), ("Korea", ["KR", "KP"])],
    "ur": [("کوریا", ["KR", "KP"])],
    "bn": [("কোরিয়া", ["KR", "KP"])],
    "zh": [("刚果", ["CD", "CG"])],
}


def rows(table: Mapping[str, Sequence[tuple[str, object]]]) -> list[object]:
    return [pytest.param(language, typed, want, id=f"{language}-{typed}")
            for language, pairs in table.items() for typed, want in pairs]


@pytest.mark.parametrize(("language", "typed", "code"), rows(FINDS))
def test_a_country_is_found_as_people_type_it(
    countries: Question, language: str, typed: str, code: str
) -> None:
    _, offered = found(countries, language, typed)
    assert offered[:1] == [code]


@pytest.mark.parametrize(("language", "typed", "first"), rows(AMBIGUOUS))
def test_an_ambiguous_text_is_offered_not_taken(
    countries: Question, language: str, typed: str, first: list[str]
) -> None:
    taken, offered = found(countries, language, typed)
    assert taken is None
    assert offered
    assert offered[:len(first)] == first


@pytest.mark.parametrize(("language", "typed", "code"), [
    ("en", "Turkey", "TR"), ("en", "USA", "US"), ("en", "England", "GB"), ("en", "US", "US"),
    ("en", "Holland", "NL"), ("en", "Ivory Coast", "CI"), ("en", "DRC", "CD"),
    ("en", "Gaza", "PS"), ("en", "Germny", "DE"), ("en", "Tunisa", "TN"), ("en", "Marocco", "MA"),
    ("en", "Germany", "DE"), ("en", "Iran", "IR"), ("en", "Sudan", "SD"), ("en", "Guinea", "GN"),
    ("en", "Niger", "NE"), ("en", "Austri", "AT"), ("fr", "RDC", "CD"), ("fr", "Hollande", "NL"),
    ("es", "EE. UU.", "US"), ("es", "Costa de Marfil", "CI"), ("ar", "أمريكا", "US"),
    ("ar", "ساحل العاج", "CI"), ("ar", "المانيا", "DE"), ("ar", "Germany", "DE"),
    ("fr", "Germany", "DE"), ("en", "Allemagne", "DE"), ("en", "ألمانيا", "DE"),
    ("en", "Palestine", "PS"), ("en", "Britain", "GB"), ("en", "Afganistan", "AF"),
    ("en", "Phillipines", "PH"), ("en", "the UK", "GB"), ("fr", "États-Unis", "US"),
    ("fr", "Angleterre", "GB"), ("fr", "Côte d'Ivoire", "CI"), ("es", "Inglaterra", "GB"),
    ("es", "Holanda", "NL"), ("ar", "غزة", "PS"), ("ar", "فلسطين", "PS"), ("ar", "هولندا", "NL"),
    ("ar", "بريطانيا", "GB"), ("ar", "إنجلترا", "GB"), ("zh", "中国", "CN"), ("bn", "চীন", "CN"),
    ("ur", "روس", "RU"),
])
def test_a_whole_name_or_a_sure_match_is_taken_without_asking(
    countries: Question, language: str, typed: str, code: str
) -> None:
    assert found(countries, language, typed)[0] == code


def test_every_everyday_name_finds_its_country(countries: Question) -> None:
    for language, table in country_aliases().items():
        for code, names in table.names.items():
            for name in names:
                assert found(countries, language, name)[1][:1] == [code], (language, name)
        for name, codes in table.ambiguous.items():
            taken, offered = found(countries, language, name)
            assert taken is None and offered[:len(codes)] == list(codes), (language, name)


def test_every_cldr_name_is_taken_unless_it_names_several(countries: Question) -> None:
    ambiguous = {normalize(name) for table in country_aliases().values()
                 for name in table.ambiguous}
    for table in country_aliases().values():
        for locale in table.locales:
            for code, name in locale_country_names(locale).items():
                taken, offered = found(countries, table.language, name)
                if normalize(name) in ambiguous:
                    assert taken is None and code in offered[:3], (locale, name)
                elif len(normalize(name)) <= 3:  # Irã, Fas: Iraq, Burkina Faso start so
                    assert offered[0] == code, (locale, name)
                else:
                    assert taken == code, (locale, name, offered)


def test_alias_files_name_only_known_countries(tmp_path: Path) -> None:
    bad = tmp_path / "de.yaml"
    bad.write_text("names:\n  ZZ: [Nowhere]\n", encoding="utf-8")
    with pytest.raises(ValueError, match="de.yaml: names: 'ZZ'"):
        read_aliases(bad)
    bad.write_text("cldr: [de_XX_nowhere]\n", encoding="utf-8")
    with pytest.raises(ValueError, match="not a CLDR locale"):
        read_aliases(bad)
    norway = tmp_path / "sv.yaml"
    norway.write_text("names:\n  NO: [Norge]\nambiguous:\n  Nordic: [NO, SE]\n", encoding="utf-8")
    table = read_aliases(norway)
    assert table.names == {"NO": ("Norge",)} and table.ambiguous == {"Nordic": ("NO", "SE")}


def long_list(*labels: str, sort: bool = False) -> Question:
    choices = tuple(Choice(f"c{i}", Translated({"en": label}, "en"))
                    for i, label in enumerate(labels))
    return Question("q", QuestionType.SELECT_ONE, Translated({"en": "Where?"}, "en"), 0,
                    choices=choices, sort_choices=sort,
                    choice_index={c.id: i for i, c in enumerate(choices)})


DISTRICTS = long_list("Kampala", "Kampala Central", "Wakiso", "Mukono", "Jinja", "Gulu",
                      "Mbarara", "Masaka", "Lira", "Arua", "Holland Park")


def test_a_part_inside_a_name_is_found_in_every_name_and_never_across_two() -> None:
    # sorted: "abcxyz", "mid abc town", "wxyz road", "zzzabc"; "zmi" is only found
    # across the end of one name and the beginning of the next
    names = long_list("Abcxyz", "Wxyz Road", "Zzzabc", "Mid abc town")
    assert [c.id for c in search_choices(names, "en", "bcx")] == ["c0"]  # the first name
    assert [c.id for c in search_choices(names, "en", "zab")] == ["c2"]  # the last one
    assert [c.id for c in search_choices(names, "en", "xyz")] == ["c0", "c1"]
    assert search_choices(names, "en", "zmi") == []


@pytest.mark.parametrize(("typed", "taken", "offered"), [
    ("Kampala", "c0", None),
    ("kampala central", "c1", None),
    ("Kamp", None, ["c0", "c1"]),
    ("Wakso", "c2", None),
    ("Mbar", "c6", None),
    ("Gul", None, ["c5"]),
    ("c4", None, ["c4"]),
    ("Holland", "c10", None),
    ("UK", None, []),
    ("xyzzy", None, []),
])
def test_any_long_list_is_searched_without_the_country_names(
    typed: str, taken: str | None, offered: list[str] | None
) -> None:
    result = find_choice(DISTRICTS, "en", typed)
    if taken is not None:
        assert result == Taken(DISTRICTS.choices[int(taken[1:])])
    else:
        assert isinstance(result, Offered)
        assert [c.id for c in result.choices][:len(offered or [])] == offered


def test_a_list_of_countries_of_ones_own_has_no_everyday_names() -> None:
    names = country_names(["en"])
    choices = tuple(Choice(code, Translated(by, "en")) for code, by in names.items())
    own = Question("home", QuestionType.SELECT_ONE, Translated({"en": "Where?"}, "en"), 0,
                   choices=choices, choice_index={c.id: i for i, c in enumerate(choices)})
    assert find_choice(own, "en", "Holland") == Offered((own.choices[own.choice_index["PL"]],))
    assert [c.id for c in search_choices(own, "en", "UK")] == ["UA"]
    assert found(own, "en", "Germany")[0] == "DE"


def test_only_the_available_choices_are_found(countries: Question) -> None:
    assert found(countries, "en", "Congo")[1][:2] == ["CD", "CG"]
    result = find_choice(countries, "en", "Congo", available={"CG", "FR"})
    assert result == Offered((countries.choices[countries.choice_index["CG"]],))
    assert find_choice(countries, "en", "Congo-Brazzaville", available={"CD"}) == Offered(())


def test_search_choices_and_match_typed_still_serve_other_callers(countries: Question) -> None:
    assert [c.id for c in search_choices(countries, "en", "UK")] == ["GB", "UA"]
    assert search_choices(countries, "en", "Germany")[0].id == "DE"
    assert search_choices(countries, "en", "") == []
    assert match_typed(countries, "Allemagne") == "DE"
    assert match_typed(countries, "ألمانيا") == "DE"
    assert match_typed(countries, "Germ") is None


def test_nothing_typed_finds_nothing(countries: Question) -> None:
    assert find_choice(countries, "en", "   ") == Offered(())
    assert find_choice(countries, "en", "...") == Offered(())
    assert find_choice(countries, "en", "qqqqqqqq") == Offered(())


def test_the_normalizer_folds_letter_variants() -> None:
    assert normalize("أإآٱ") == "اااا"
    assert normalize("مدرسة") == normalize("مدرسه")
    assert normalize("مستشفى") == normalize("مستشفي")
    assert normalize("مـصـر") == "مصر"
    assert normalize("عُمَان") == "عمان"
    assert normalize("ایران") == normalize("إيران")  # Persian yeh
    assert normalize("کویت") == normalize("كويت")  # Persian kaf
    assert normalize("ÉTATS-UNIS") == "etats-unis"
    assert normalize("Irak\u200c") == "irak"


def test_a_search_over_the_whole_list_is_fast(countries: Question) -> None:
    typed = ["Germny", "UK", "America", "Afganistan", "ألما", "كوريا", "Costa de Marfil",
             "Republica Democratica del Kongo", "qqqqqqqq", "G", "Sierra Leon", "Phillipines"]
    for text in typed:
        find_choice(countries, "en", text)
    start = time.perf_counter()
    for _ in range(10):
        for text in typed:
            find_choice(countries, "en", text)
    assert (time.perf_counter() - start) / (10 * len(typed)) < 0.010
