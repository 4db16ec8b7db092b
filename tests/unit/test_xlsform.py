"""XLSForms read into the survey model: what runs, what is refused or skipped, and how it is said.

Forms are written for the tests as markdown tables (pyxform's own test format),
inline or in ``tests/forms/``; two are built as ``.xlsx`` files with XlsxWriter.
"""

from __future__ import annotations

import hashlib
import re
import textwrap
from decimal import Decimal
from pathlib import Path

import pytest
import xlsxwriter
from bot.cli import main
from bot.survey.expressions import Limits
from bot.survey.loader import Problem, SurveyInvalid, check_survey, load_survey
from bot.survey.model import QuestionType, Survey
from bot.survey.xlsform import language_code
from bot.survey.xlsform.languages import derived_code

FORMS = Path(__file__).resolve().parents[1] / "forms"


def write(tmp_path: Path, text: str, name: str = "form.md") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def check(path: Path) -> tuple[Survey | None, list[str]]:
    """The survey and the problems as printed, with the file shown as its name only."""
    survey, problems = check_survey(path)
    if any(p.severity == "error" for p in problems):
        assert survey is None
    return survey, [str(p).replace(str(path), path.name) for p in problems]


def check_text(tmp_path: Path, text: str) -> tuple[Survey | None, list[str]]:
    return check(write(tmp_path, text))


NO_DEFAULT = ("form.md (sheet settings): warning: field 'default_language': no "
              "default_language: the form's texts are taken to be in English (en); say which "
              "language they are in with default_language in the settings sheet")
NO_TITLE = ("form.md (sheet settings): warning: field 'form_title': the form has no title "
            "(form_title in the settings sheet): participants see the bot's own neutral title")


# --- language names --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("English (en)", "en"),
        ("English(en)", "en"),
        ("english (en)", "en"),
        ("Arabic (ar)", "ar"),
        ("Français (fr)", "fr"),
        ("Portuguese (pt-BR)", "pt_BR"),
        ("en", "en"),
        ("EN", "en"),
        ("eng", "en"),
        ("fra", "fr"),
        ("English", "en"),
        ("english", "en"),
        ("French", "fr"),
        ("Swahili", "sw"),
        ("العربية", "ar"),
        ("Français", "fr"),
        ("Kiswahili", "sw"),
        ("한국어", "ko"),
        ("English (United States)", "en"),  # not a code in parentheses: the name counts
        ("Klingonish", None),
        ("Krio", "kri"),  # CLDR names it, babel has no locale for it: the code is kept
        ("Acoli (ach)", "ach"),  # a code babel does not know, in parentheses: kept
        ("Dinka (din)", "din"),
        ("Elvish (xx)", None),  # two letters: an ISO 639-1 code babel would know
        ("", None),
    ],
)
def test_language_names_and_codes(name: str, code: str | None) -> None:
    assert language_code(name) == code


# --- a form with every supported feature -------------------------------------------------


def test_every_supported_feature_becomes_the_model() -> None:
    path = FORMS / "features.md"
    survey, problems = check(path)
    assert problems == [
        "features.md (sheet survey, row 8): warning: question 'sector_other': or_other adds "
        "the choice 'Other' to 'sector' and this question ('Specify other.') in English only, "
        "whatever the language",
        "features.md: warning: language 'ar': translations missing: 1 label (the first in "
        "sheet survey, row 8); the English (en) text is shown instead",
    ]
    assert survey is not None
    assert (survey.id, survey.version, survey.default_language) == ("work", "2024-05", "en")
    assert survey.languages == ("en", "ar")
    assert survey.title.get("ar") == "Work"
    assert survey.introduction is None and survey.consent_notice is None
    assert survey.consent_details is None and survey.closing is None
    q = survey.by_id
    assert [x.id for x in survey.questions] == [
        "started", "works", "hours", "too_much", "sector", "sector_other", "daily", "region",
        "district", "rating", "percent", "weight", "code", "arrived", "at", "where", "photo",
        "ok", "day", "ended",  # `end` is moved last: it is filled when the survey ends
    ]
    assert [x.index for x in survey.questions] == list(range(20))

    assert q["started"].type is QuestionType.CALCULATE and not q["started"].asks
    assert q["started"].calculation is not None and q["started"].calculation.source == "now()"
    assert q["ended"].calculation is not None and q["ended"].calculation.source == "now()"
    assert q["day"].calculation is not None and q["day"].calculation.source == "today()"

    works = q["works"]
    assert works.type is QuestionType.SELECT_ONE and works.required
    assert dict(works.text.texts) == {"en": "Do you work?", "ar": "هل تعمل؟"}
    assert works.required_message is not None
    assert dict(works.required_message.texts) == {"en": "Please answer.", "ar": "الرجاء الإجابة."}
    assert [c.id for c in works.choices] == ["yes", "no"]
    assert works.choices[0].label.get("ar") == "نعم"
    assert works.source == "sheet survey, row 3"

    hours = q["hours"]
    assert hours.type is QuestionType.INTEGER and hours.required and hours.default == "40"
    assert hours.relevant is not None and hours.relevant.source == "${works} = 'yes'"
    assert hours.constraint is not None and hours.constraint.source == ". > 0 and . <= 80"
    assert hours.constraint_message is not None
    assert hours.constraint_message.get("ar") == "بين 1 و 80."
    assert hours.hint is not None and hours.hint.get("en") == "Whole hours"

    too_much = q["too_much"]  # a required note inside two groups: a gate
    assert too_much.type is QuestionType.NOTE and too_much.gate and not too_much.required
    assert too_much.relevant is not None
    assert too_much.relevant.source == "(${works} = 'yes') and (${hours} > 40) and (${hours} > 60)"
    assert too_much.text.get("en") == "That is a lot: ${hours}"  # the renderer substitutes

    sector = q["sector"]
    assert [c.id for c in sector.choices] == ["farm", "care", "other"]
    assert sector.relevant is not None
    assert sector.relevant.source == "(${works} = 'yes') and (${hours} > 40)"
    other = q["sector_other"]
    assert other.type is QuestionType.TEXT and other.text.get("en") == "Specify other."
    assert other.relevant is not None
    assert other.relevant.references == {"works", "hours", "sector"}

    daily = q["daily"]
    assert daily.type is QuestionType.CALCULATE and daily.calculation is not None
    assert daily.calculation.source == "${hours} div 5" and not daily.required

    district = q["district"]
    assert district.choice_filter is not None
    assert district.choice_filter.source == "region = ${region}"
    assert district.choice_filter.references == {"region"}
    assert [dict(c.columns) for c in district.choices] == [{"region": "north"},
                                                            {"region": "south"}]
    assert not q["region"].required and not district.required

    assert (q["rating"].type, q["rating"].minimum, q["rating"].maximum) == (
        QuestionType.SCALE, Decimal(1), Decimal(5))
    assert (q["percent"].type, q["percent"].minimum, q["percent"].maximum) == (
        QuestionType.INTEGER, Decimal(0), Decimal(100))
    assert (q["weight"].type, q["weight"].minimum, q["weight"].maximum) == (
        QuestionType.DECIMAL, Decimal(0), Decimal(2))

    code = q["code"]
    assert code.read_only and not code.asks and code.default == "A-1"
    assert not code.required and code.required_if is not None
    assert code.required_if.source == "${works} = 'no'"
    assert q["arrived"].type is QuestionType.DATE and q["arrived"].default == "2020-01-31"
    assert q["at"].type is QuestionType.TIME
    assert q["where"].type is QuestionType.LOCATION and q["where"].required
    assert q["photo"].type is QuestionType.PHOTO
    assert q["ok"].type is QuestionType.ACKNOWLEDGE


def test_an_xlsform_loads_through_load_survey_and_the_command_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = FORMS / "features.md"
    survey, warnings = load_survey(path)
    assert survey.id == "work" and len(warnings) == 2
    assert main(["survey", "check", str(path)]) == 0
    out = capsys.readouterr().out
    assert f"{path}: survey 'work' version 2024-05: 14 questions in en, ar; 2 warning(s)" in out


# --- title -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "title", "warning"),
    [
        ("| settings |\n|  | form_title | form_id |\n|  | Household survey | hh |\n",
         "Household survey", None),
        ("| settings |\n|  | form_id |\n|  | household_survey-2024 |\n",
         "Household survey 2024",
         "participants see 'Household survey 2024', made from its form_id"),
        ("", None, "participants see the bot's own neutral title"),
    ],
)
def test_the_title_is_the_forms_never_its_file_name(
    tmp_path: Path, settings: str, title: str | None, warning: str | None,
) -> None:
    form = "| survey |\n|  | type | name | label |\n|  | text | a | A? |\n" + settings
    survey, problems = check(write(tmp_path, form, name="household_v3_final.md"))
    assert survey is not None
    assert dict(survey.title.texts) == ({"en": title} if title else {})
    assert survey.title.get("en") == (title or "")
    titles = [p for p in problems if "'form_title'" in p]
    assert titles == ([] if warning is None else [
        "household_v3_final.md (sheet settings): warning: field 'form_title': the form has no "
        f"title (form_title in the settings sheet): {warning}"])


@pytest.mark.parametrize(
    ("instance_name", "why"),
    [
        ("concat(${name}, '-', ${age})", None),
        ("concat(${name}, ${device})", "refers to 'device', which is device metadata "
         "('deviceid') that Telegram does not give the bot"),
        ("my_form", "cannot be read: unexpected name 'my_form'; did you mean ${my_form}? at "
         "position 0 in: my_form"),
        ("random()", "cannot be read: unknown function 'random' at position 0 in: random()"),
    ],
)
def test_an_instance_name_is_a_last_calculation_or_left_out_never_a_refusal(
    tmp_path: Path, instance_name: str, why: str | None,
) -> None:
    survey, problems = check_text(tmp_path, f"""\
        | survey |
        |        | type     | name   | label      |
        |        | text     | name   | Your name? |
        |        | integer  | age    | Your age?  |
        |        | deviceid | device |            |
        | settings |
        |          | form_title | default_language | instance_name   |
        |          | Household  | English          | {instance_name} |
        """)
    assert survey is not None
    named = [p for p in problems if "instance" in p]
    if why is None:
        assert named == []
        last = survey.questions[-1]
        assert (last.id, last.type, last.source) == (
            "instanceName", QuestionType.CALCULATE, "sheet settings, instance_name")
        assert last.calculation is not None
        assert last.calculation.references == {"name", "age"}
    else:
        assert named == [f"form.md (sheet settings): warning: field 'instance_name': ignored: "
                         f"instance_name {why}; it only names each submission in ODK and "
                         "KoboToolbox, which the bot does not need"]
        assert "instanceName" not in survey.by_id
    assert [q.id for q in survey.questions][:2] == ["name", "age"]
    assert any("skipped: 'deviceid' is device metadata" in p for p in problems)


# --- languages -------------------------------------------------------------------------


def test_arabic_columns_in_every_spelling_are_merged(tmp_path: Path) -> None:
    survey, problems = check_text(tmp_path, """\
        | survey |
        |        | type    | name | label:English | label::Arabic (ar) | label::العربية | hint::English (en) | hint::العربية |
        |        | text    | name | Your name?    | ما اسمك؟           |                | First name         | الاسم الأول   |
        |        | integer | age  | Your age?     |                    | كم عمرك؟       |                    |               |
        |        | note    | bye  | Thank you     |                    |                |                    |               |
        | settings |
        |          | default_language |
        |          | English          |
        """)  # noqa: E501
    assert problems == [
        NO_TITLE,
        "form.md: warning: language 'en': the columns for 'English' and 'English (en)' are the "
        "same language, English (en): their texts are merged (where both have one, the first "
        "column's is used)",
        "form.md: warning: language 'ar': the columns for 'Arabic (ar)' and 'العربية' are the "
        "same language, Arabic (ar): their texts are merged (where both have one, the first "
        "column's is used)",
        "form.md: warning: language 'ar': translations missing: 1 label (the first in sheet "
        "survey, row 4); the English (en) text is shown instead",
    ]
    assert survey is not None
    assert survey.languages == ("en", "ar") and survey.default_language == "en"
    name, age, bye = survey.questions
    assert dict(name.text.texts) == {"en": "Your name?", "ar": "ما اسمك؟"}
    assert name.hint is not None and dict(name.hint.texts) == {"en": "First name",
                                                               "ar": "الاسم الأول"}
    assert dict(age.text.texts) == {"en": "Your age?", "ar": "كم عمرك؟"}
    assert bye.text.get("ar") == "Thank you"  # falls back to the default language


def test_unsuffixed_columns_with_one_other_language_are_that_language(tmp_path: Path) -> None:
    survey, problems = check_text(tmp_path, """\
        | survey |
        |        | type | name | label    | label::Français |
        |        | text | a    | Question | Question ?      |
        |        | text | b    | Seconde  |                 |
        """)
    assert problems == [
        "form.md (sheet settings): warning: field 'default_language': no default_language: the "
        "columns without a language (label, hint, …) are taken to be French (fr), the form's "
        "only other language; say so with default_language in the settings sheet",
        NO_TITLE,
    ]
    assert survey is not None and survey.languages == ("fr",)
    assert dict(survey.questions[0].text.texts) == {"fr": "Question ?"}  # the named column wins
    assert dict(survey.questions[1].text.texts) == {"fr": "Seconde"}


def test_unsuffixed_columns_with_several_languages_are_english(tmp_path: Path) -> None:
    survey, problems = check_text(tmp_path, """\
        | survey |
        |        | type | name | label | label::fr | label::ar |
        |        | text | a    | Name  | Nom       | الاسم     |
        """)
    assert problems == [
        "form.md (sheet settings): warning: field 'default_language': no default_language: the "
        "columns without a language (label, hint, …) are taken to be English (en); say so with "
        "default_language in the settings sheet",
        NO_TITLE,
    ]
    assert survey is not None and survey.languages == ("en", "fr", "ar")


def test_a_language_nothing_identifies_keeps_the_forms_name(tmp_path: Path) -> None:
    survey, problems = check_text(tmp_path, """\
        | survey |
        |        | type         | name | label::English (en) | label::Sudanese Arabic | label::Krio | label::Acoli (ach) |
        |        | select_one l | a    | Name                | الاسم                  | Nem         | Nying              |
        | choices |
        |         | list_name | name | label::English (en) | label::Sudanese Arabic | label::Krio | label::Acoli (ach) |
        |         | l         | x    | X                   | إكس                    | Eks         | Iks                |
        | settings |
        |          | form_title | default_language |
        |          | Names      | English (en)     |
        """)  # noqa: E501
    assert problems == [
        "form.md (sheet survey, row 1): warning: field 'label::Sudanese Arabic': 'Sudanese "
        "Arabic' is not a language I can identify: its texts are kept as the language 'Sudanese "
        "Arabic' (code 'qaa_sudanese_arabic'), shown so in the language menu, with the bot's "
        "own messages in English; to give its code, write 'label::Sudanese Arabic (code)'",
        "form.md (sheet survey, row 1): warning: field 'label::Krio': language 'Krio': the bot's "
        "language data has no 'kri': the language menu shows 'Krio', and the bot's own messages "
        "are in English",
        "form.md (sheet survey, row 1): warning: field 'label::Acoli (ach)': language 'Acoli "
        "(ach)': the bot's language data has no 'ach': the language menu shows 'Acoli', and the "
        "bot's own messages are in English",
    ]
    assert survey is not None
    assert survey.languages == ("en", "qaa_sudanese_arabic", "kri", "ach")
    assert survey.language_names == {"qaa_sudanese_arabic": "Sudanese Arabic", "kri": "Krio",
                                      "ach": "Acoli"}
    (question,) = survey.questions
    assert question.text.get("qaa_sudanese_arabic") == "الاسم"
    assert question.text.get("kri") == "Nem"
    assert question.choices[0].label.get("qaa_sudanese_arabic") == "إكس"

    from bot.i18n import Catalogs
    from handlers.callbacks import Kind, make, parse

    for code in survey.languages[1:]:  # a language button, and the bot's words in English
        assert parse(Kind.LANGUAGE, make(Kind.LANGUAGE, code)) == (code,)
        assert Catalogs.load().get(code).gettext("Continue") == "Continue"


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("Sudanese Arabic", "qaa_sudanese_arabic"),
        ("  sudanese   ARABIC ", "qaa_sudanese_arabic"),  # the same language, the same code
        ("Kreyòl ayisyen du Nord-Ouest profond", "qaa_kreyol_ayisyen_du_nord"),
        ("Tamazight (Aït Baâmrane)", "qaa_tamazigh_ait_baamrane"),
        ("ትግርኛ ሳሆ", "qaa_" + hashlib.sha256("ትግርኛ ሳሆ".encode()).hexdigest()[:8]),
    ],
)
def test_a_derived_code_is_stable_and_a_valid_tag(name: str, code: str) -> None:
    assert derived_code(name) == code
    assert re.fullmatch(r"[a-z]{3}(_[a-z0-9]{2,8}){1,4}", code)


def test_an_unidentified_default_language_keeps_its_name(tmp_path: Path) -> None:
    survey, problems = check_text(tmp_path, """\
        | survey |
        |        | type | name | label | label::English (en) |
        |        | text | a    | Nem?  | Name?               |
        | settings |
        |          | form_title | default_language |
        |          | Names      | Krio-Temne mix   |
        """)
    assert problems == [
        "form.md (sheet settings): warning: field 'default_language': 'Krio-Temne mix' is not a "
        "language I can identify: its texts are kept as the language 'Krio-Temne mix' (code "
        "'qaa_krio_temne_mix'), shown so in the language menu, with the bot's own messages in "
        "English; to give its code, write 'Krio-Temne mix (code)'",
    ]
    assert survey is not None
    assert survey.default_language == "qaa_krio_temne_mix"
    assert survey.languages == ("qaa_krio_temne_mix", "en")
    assert survey.language_names == {"qaa_krio_temne_mix": "Krio-Temne mix"}
    assert dict(survey.questions[0].text.texts) == {"qaa_krio_temne_mix": "Nem?", "en": "Name?"}


def test_missing_translations_are_counted_per_language(tmp_path: Path) -> None:
    _, problems = check_text(tmp_path, """\
        | survey |
        |        | type          | name | label::en | label::fr | hint::en | constraint | constraint_message::en | required | required_message::en | required_message::fr |
        |        | integer       | a    | A         |           | Hint     | . > 1      | Too small              | yes      | Needed               |                      |
        |        | select_one l  | b    | B         | B-fr      | Hint     |            |                        | yes      | Needed               | Requis               |
        | choices |
        |         | list_name | name | label::en | label::fr |
        |         | l         | x    | X         |           |
        |         | l         | y    | Y         |           |
        | settings |
        |          | default_language |
        |          | en               |
        """)  # noqa: E501
    assert problems == [
        NO_TITLE,
        "form.md: warning: language 'fr': translations missing: 1 label, 2 hints, 1 constraint "
        "message, 1 required message, 2 choice labels (the first in sheet survey, row 2); the "
        "English (en) text is shown instead",
    ]


# --- refused and skipped -----------------------------------------------------------------


def test_a_repeat_and_a_loop_run(tmp_path: Path) -> None:
    survey, problems = check_text(tmp_path, """\
        | survey |
        |        | type          | name     | label           | relevant        | repeat_count |
        |        | integer       | children | How many?       |                 |              |
        |        | begin repeat  | child    | Child           |                 | ${children}  |
        |        | text          | cname    | Name            |                 |              |
        |        | end repeat    | child    |                 |                 |              |
        |        | note          | thanks   | Thanks ${cname} | ${children} > 0 |              |
        |        | begin loop over c | each | Each          |                 |              |
        |        | text          | what     | What about %(label)s? |           |              |
        |        | end loop      |          |                 |                 |              |
        | choices |
        |         | list_name | name | label |
        |         | c         | a    | Apples |
        |         | c         | b    | Beans  |
        """)
    assert problems == [NO_DEFAULT, NO_TITLE]
    assert survey is not None
    child, each = survey.repeats
    assert (child.id, child.open, child.title) == ("child", False, None)  # named from outside
    assert (each.id, [c.id for c in each.over], each.count and each.count.source) == (
        "each", ["a", "b"], "2")  # a loop: one round per choice


def test_what_telegram_cannot_collect_is_skipped_or_refused(tmp_path: Path) -> None:
    survey, problems = check_text(tmp_path, """\
        | survey |
        |        | type      | name   | label   | required | relevant      | calculation | media::image |
        |        | deviceid  | device |         |          |               |             |              |
        |        | username  | user   |         |          |               |             |              |
        |        | audit     | audit  |         |          |               |             |              |
        |        | barcode   | code   | Scan it |          |               |             |              |
        |        | geotrace  | path   | Walk it | yes      |               |             |              |
        |        | geoshape  | area   | Draw it |          |               |             |              |
        |        | text      | serial | Serial? |          | ${code} != '' |             |              |
        |        | calculate | who    |         |          |               | ${user}     |              |
        |        | text      | name   | Name?   |          |               |             | face.png     |
        """)  # noqa: E501
    assert survey is None
    assert problems == [
        NO_DEFAULT,
        "form.md (sheet survey, row 2): warning: question 'device': skipped: 'deviceid' is "
        "device metadata, which Telegram does not give the bot",
        "form.md (sheet survey, row 3): error: question 'user': 'username' is device metadata, "
        "which Telegram does not give the bot, and 'who' (row 9) refers to it",
        "form.md (sheet survey, row 4): warning: question 'audit': skipped: 'audit' is device "
        "metadata, which Telegram does not give the bot",
        "form.md (sheet survey, row 5): error: question 'code': 'barcode' questions cannot be "
        "answered on Telegram, and 'serial' (row 8) refers to it",
        "form.md (sheet survey, row 6): error: question 'path', field 'required': 'geotrace' "
        "questions cannot be answered on Telegram, and this one is required",
        "form.md (sheet survey, row 7): warning: question 'area': skipped: 'geoshape' questions "
        "cannot be answered on Telegram",
        "form.md (sheet survey, row 8): error: question 'serial', field 'relevant': refers to "
        "'code', which is a 'barcode' question (it cannot be answered on Telegram)",
        "form.md (sheet survey, row 9): error: question 'who', field 'calculation': refers to "
        "'user', which is device metadata ('username') that Telegram does not give the bot",
        "form.md (sheet survey, row 10): warning: question 'name', field 'media': skipped: the "
        "media on its label ('face.png') are not next to the form",
    ]


def test_optional_unsupported_items_alone_are_skipped_and_the_form_runs(tmp_path: Path) -> None:
    survey, problems = check_text(tmp_path, """\
        | survey |
        |        | type     | name   | label   |
        |        | start    | start  |         |
        |        | barcode  | code   | Scan it |
        |        | rank l   | order  | Order   |
        |        | text     | name   | Name?   |
        | choices |
        |         | list_name | name | label |
        |         | l         | a    | A     |
        |         | l         | b    | B     |
        """)
    assert problems == [
        NO_DEFAULT,
        NO_TITLE,
        "form.md (sheet survey, row 3): warning: question 'code': skipped: 'barcode' questions "
        "cannot be answered on Telegram",
        "form.md (sheet survey, row 4): warning: question 'order': skipped: 'rank' questions "
        "cannot be answered on Telegram",
    ]
    assert survey is not None and [q.id for q in survey.questions] == ["start", "name"]


def test_choices_from_a_file_need_the_file(tmp_path: Path) -> None:
    text = """\
        | survey |
        |        | type                                 | name  | label  | choice_filter |
        |        | select_one_from_file fruits.csv      | fruit | Fruit? |               |
        |        | select_multiple_from_file shops.xml  | shops | Shops? |               |
        |        | select_one_from_file kinds.csv       | kind  | Kind?  | fruit = ${fruit} |
        """
    survey, problems = check_text(tmp_path, text)
    assert survey is None
    where = "looked for media/{0}, form-media/{0} and {0}, beside form.md"
    assert problems == [
        NO_DEFAULT,
        "form.md (sheet survey, row 2): error: question 'fruit', field 'type': the choices come "
        f"from 'fruits.csv', which is not attached: {where.format('fruits.csv')}",
        "form.md (sheet survey, row 3): error: question 'shops', field 'type': the choices come "
        f"from 'shops.xml', which is not attached: {where.format('shops.xml')}",
        "form.md (sheet survey, row 4): error: question 'kind', field 'type': the choices come "
        f"from 'kinds.csv', which is not attached: {where.format('kinds.csv')}",
    ]
    (tmp_path / "fruits.csv").write_text("name,label,label::fr\napple,Apple,Pomme\n"
                                         "pear,Pear,Poire\n", encoding="utf-8")
    (tmp_path / "shops.xml").write_text("<root/>", encoding="utf-8")
    (tmp_path / "kinds.csv").write_text("name,label,fruit\nred,Red,apple\ngreen,Green,pear\n",
                                        encoding="utf-8")
    survey, problems = check_text(tmp_path, text)
    assert problems[1:] == [
        "form.md (sheet survey, row 3): error: question 'shops': no choices in 'shops.xml'",
    ]
    (tmp_path / "shops.xml").unlink()
    survey, problems = check_text(tmp_path, text.replace(
        "|        | select_multiple_from_file shops.xml  | shops | Shops? |               |\n", ""))
    assert survey is not None
    fruit, kind = survey.questions
    assert [(c.id, dict(c.label.texts)) for c in fruit.choices] == [
        ("apple", {"en": "Apple", "fr": "Pomme"}), ("pear", {"en": "Pear", "fr": "Poire"})]
    assert [dict(c.columns) for c in kind.choices] == [{"fruit": "apple"}, {"fruit": "pear"}]


def test_external_choices_come_from_their_sheet(tmp_path: Path) -> None:
    survey, problems = check_text(tmp_path, """\
        | survey |
        |        | type                  | name   | label   | choice_filter      |
        |        | select_one regions    | region | Region? |                    |
        |        | select_one_external towns | town | Town?  | region = ${region} |
        |        | select_one l          | shop   | Shop?   |                    |
        | choices |
        |         | list_name | name  | label |
        |         | regions   | north | North |
        |         | l         | a     | A     |
        | external_choices |
        |         | list_name | name  | label | region |
        |         | towns     | t1    | Town1 | north  |
        |         | towns     | t2    | Town2 | south  |
        """)
    assert problems == [NO_DEFAULT, NO_TITLE]
    assert survey is not None
    town = survey.by_id["town"]
    assert town.type is QuestionType.SELECT_ONE
    assert [(c.id, c.label.get("en"), dict(c.columns)) for c in town.choices] == [
        ("t1", "Town1", {"region": "north"}), ("t2", "Town2", {"region": "south"})]


def test_search_appearances_are_refused(tmp_path: Path) -> None:
    survey, problems = check_text(tmp_path, """\
        | survey |
        |        | type         | name  | label  | appearance       |
        |        | select_one l | fruit | Fruit? | search('fruits') |
        | choices |
        |         | list_name | name | label |
        |         | l         | name | label |
        """)
    assert survey is None
    assert problems[1:] == [
        "form.md (sheet survey, row 2): error: question 'fruit', field 'appearance': the "
        "choices come from 'fruits.csv' (search() appearance), which is not attached: looked "
        "for media/fruits.csv, form-media/fruits.csv and fruits.csv, beside form.md",
    ]


# --- expressions, names, values ----------------------------------------------------------


def test_expression_mistakes_name_sheet_row_column_and_question(tmp_path: Path) -> None:
    survey, problems = check_text(tmp_path, """\
        | survey |
        |        | type        | name | label | relevant      | constraint | calculation  |
        |        | integer     | age  | Age?  | ${job} = ‘yes’ | foo(.)     |              |
        |        | text        | job  | Job?  |               |            |              |
        |        | calculate   | twice|       |               |            | ${age} * 2 + |
        |        | begin group | g    | G     | ${later} > 1  |            |              |
        |        | integer     | later| Later?|               |            |              |
        |        | end group   |      |       |               |            |              |
        """)
    assert survey is None
    assert problems == [
        NO_DEFAULT,
        "form.md (sheet survey, row 2): warning: question 'age', field 'relevant': typographic "
        "quotes read as straight quotes",
        "form.md (sheet survey, row 2): error: question 'age', field 'constraint': unknown "
        "function 'foo' at position 0 in: foo(.)",
        "form.md (sheet survey, row 2): warning: question 'age', field 'relevant': refers to "
        "'job' (row 3), which comes later in the form: its value is empty until that question "
        "is answered, so here it reads as empty",
        "form.md (sheet survey, row 2): warning: question 'age', field 'relevant': the "
        "question is never asked: its condition is false while 'job' is unanswered, which it "
        "is whenever the question is reached",
        "form.md (sheet survey, row 4): error: question 'twice', field 'calculation': "
        "unexpected end of expression at position 12 in: ${age} * 2 +",
        "form.md (sheet survey, row 5): warning: question 'g', field 'relevant': refers to "
        "'later' (row 6), which is inside this group: its value is empty until that question "
        "is answered, so the group's questions up to 'later' are shown or skipped with it "
        "empty, those after it with its answer (ODK Collect refuses such a form: a cycle)",
        "form.md (sheet survey, row 5): warning: question 'g', field 'relevant': the group is "
        "never shown: its condition is false while 'later' is unanswered, which it is "
        "whenever the group is reached",
    ]


def test_what_a_constraint_asks_is_carried_and_a_missing_message_is_said(
    tmp_path: Path,
) -> None:
    survey, problems = check_text(tmp_path, """\
        | survey |
        |        | type              | name  | label  | constraint                | constraint_message |
        |        | integer           | age   | Age?   | . > 17 and . < 120        |                    |
        |        | decimal           | kg    | Kg?    | . > 0                     | More than 0.       |
        |        | text              | code  | Code?  | regex(., '^[A-Z]{3}$')    |                    |
        |        | text              | name  | Name?  | string-length(.) <= 20    |                    |
        |        | select_multiple l | picks | Picks? | count-selected(.) <= 2    |                    |
        |        | integer           | most  | Most?  | . <= ${age} and . >= 1    |                    |
        |        | integer           | odd   | Odd?   | . mod 2 = 1               |                    |
        | choices |
        |         | list_name | name | label |
        |         | l         | a    | A     |
        |         | l         | b    | B     |
        |         | l         | c    | C     |
        | settings |
        |          | form_title |
        |          | Limits     |
        """)  # noqa: E501
    said = ("warning: question '{}', field 'constraint_message': constraint without "
            "constraint_message: participants will only read that the answer is not accepted{}")
    told = " and what the bot makes of the constraint ({})"
    assert problems == [
        NO_DEFAULT,
        "form.md (sheet survey, row 2): " + said.format(
            "age", told.format("a whole number from 18 to 119")),
        "form.md (sheet survey, row 4): " + said.format(
            "code", told.format("text matching the pattern ^[A-Z]{3}$")),
        "form.md (sheet survey, row 5): " + said.format(
            "name", told.format("at most 20 characters")),
        "form.md (sheet survey, row 6): " + said.format(
            "picks", told.format("at most 2 choices")),
        "form.md (sheet survey, row 7): " + said.format(
            "most", told.format("a whole number no less than 1; and more it cannot put in "
                                "words")),
        "form.md (sheet survey, row 8): " + said.format("odd", ""),
    ]
    assert survey is not None
    q = survey.by_id
    assert q["age"].expects == Limits(minimum=Decimal(18), maximum=Decimal(119),
                                      whole_numbers=True)
    assert q["kg"].expects == Limits(minimum=Decimal(0), minimum_excluded=True)
    assert q["code"].expects == Limits(pattern="^[A-Z]{3}$")
    assert q["name"].expects == Limits(max_length=20)
    assert q["picks"].expects == Limits(max_selected=2)
    assert q["most"].expects == Limits(minimum=Decimal(1), whole_numbers=True, complete=False)
    assert q["odd"].expects is None


def test_a_question_further_on_is_read_as_empty_with_a_warning() -> None:
    survey, problems = check(FORMS / "forward.md")
    later = ("refers to 'later' (row 13), which comes later in the form: its value is empty "
             "until that question is answered, so here it reads as empty")
    inside = ("refers to '{0}' (row {1}), which is inside this group: its value is empty until "
              "that question is answered, so the group's questions up to '{0}' are shown or "
              "skipped with it empty, those after it with its answer (ODK Collect refuses such "
              "a form: a cycle)")
    no_message = ("field 'constraint_message': constraint without constraint_message: "
                  "participants will only read that the answer is not accepted")
    assert problems == [
        f"forward.md (sheet survey, row 2): warning: question 'first', {no_message}",
        f"forward.md (sheet survey, row 2): warning: question 'first', field 'relevant': {later}",
        "forward.md (sheet survey, row 2): warning: question 'first', field 'constraint': "
        + later,
        "forward.md (sheet survey, row 3): warning: question 'echo', field 'calculation': "
        + later,
        "forward.md (sheet survey, row 4): warning: question 'kids', field 'relevant': "
        + inside.format("has_kids", 5),
        f"forward.md (sheet survey, row 6): warning: question 'how_many', {no_message} and "
        "what the bot makes of the constraint (a whole number no less than 1)",
        "forward.md (sheet survey, row 8): warning: question 'locked', field 'relevant': "
        + inside.format("word", 9),
        "forward.md (sheet survey, row 8): warning: question 'locked', field 'relevant': the "
        "group is never shown: its condition is false while 'word' is unanswered, which it is "
        "whenever the group is reached",
        "forward.md (sheet survey, row 11): warning: question 'pick', field 'choice_filter': "
        + later,
        f"forward.md (sheet survey, row 12): warning: question 'why', field 'required': {later}",
    ]
    assert survey is not None and [q.id for q in survey.questions] == [
        "first", "echo", "has_kids", "how_many", "word", "pick", "why", "later"]


def test_a_question_may_not_read_itself_but_in_its_constraint(tmp_path: Path) -> None:
    survey, problems = check_text(tmp_path, """\
        | survey |
        |        | type      | name | label | relevant     | constraint | calculation |
        |        | integer   | a    | A?    | ${a} > 1     | ${a} < 9   |             |
        |        | calculate | c    |       |              |            | ${c} + 1    |
        """)
    assert survey is None
    assert errors_of(problems) == [
        "form.md (sheet survey, row 2): error: question 'a', field 'relevant': refers to 'a', "
        "which is this question itself (only its constraint may read its answer, as '.')",
        "form.md (sheet survey, row 3): error: question 'c', field 'calculation': refers to "
        "'c', which is this question itself (only its constraint may read its answer, as '.')",
    ]


def test_pyxform_errors_are_reported_as_pyxform_words_them(tmp_path: Path) -> None:
    survey, problems = check_text(tmp_path, """\
        | survey |
        |        | type | name | label | relevant    |
        |        | text | a    | A     | ${nope} = 1 |
        """)
    assert survey is None
    assert problems == [
        "form.md: error: [row : 2] On the 'survey' sheet, the 'relevant' value is invalid. "
        "Reference variables must contain a name from the 'survey' sheet. Could not find the "
        "name 'nope'.",
    ]


@pytest.mark.parametrize("sheet", ["settings", "choices", "external_choices", "entities"])
def test_an_empty_markdown_sheet_is_named_with_its_line(tmp_path: Path, sheet: str) -> None:
    survey, problems = check_text(tmp_path, f"""\
        | survey |
        |        | type | name | label |
        |        | text | a    | A?    |
        | {sheet} |
        """)
    assert survey is None
    assert problems == [
        f"form.md (sheet {sheet}): error: the sheet is empty (line 4): pyxform cannot read an "
        "empty table; give it a header row and rows, or remove it",
    ]


def test_an_empty_markdown_survey_sheet_is_named_too(tmp_path: Path) -> None:
    _, problems = check_text(tmp_path, """\
        | survey |
        | settings |
        |          | form_id |
        |          | empty   |
        """)
    assert problems == [
        "form.md (sheet survey): error: the sheet is empty (line 1): pyxform cannot read an "
        "empty table; give it a header row and rows, or remove it",
    ]


def test_a_file_that_is_not_a_form_is_one_error_and_no_traceback(tmp_path: Path) -> None:
    path = tmp_path / "form.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a workbook")
    survey, problems = check_survey(path)
    assert survey is None and len(problems) == 1
    assert problems[0].severity == "error" and problems[0].file == str(path)
    with pytest.raises(SurveyInvalid):
        load_survey(path)
    survey, problems = check_survey(tmp_path / "missing.xlsx")
    assert [str(p) for p in problems] == [
        f"{tmp_path / 'missing.xlsx'}: error: cannot read the file: No such file or directory"]


def test_a_name_used_again_in_another_group_is_told_apart_by_its_group(
    tmp_path: Path
) -> None:
    survey, problems = check_text(tmp_path, """\
        | survey |
        |        | type        | name | label |
        |        | begin group | g1   | G1    |
        |        | text        | name | Name? |
        |        | end group   |      |       |
        |        | begin group | g2   | G2    |
        |        | text        | name | Name? |
        |        | end group   |      |       |
        """)
    assert problems[2:] == [
        "form.md (sheet survey, row 6): warning: question 'name', field 'name': the name 'name' "
        "is also used in row 3: this question is 'g2.name' in the bot and in exports",
    ]
    assert survey is not None and [q.id for q in survey.questions] == ["name", "g2.name"]


def test_a_name_used_again_outside_any_group_is_refused(tmp_path: Path) -> None:
    _, problems = check_text(tmp_path, """\
        | survey |
        |        | type        | name | label |
        |        | begin group | g1   | G1    |
        |        | text        | name | Name? |
        |        | end group   |      |       |
        |        | text        | name | Name? |
        """)
    assert errors_of(problems) == [
        "form.md (sheet survey, row 5): error: question 'name', field 'name': the name 'name' is "
        "also used in row 3 (names must be unique once groups are flattened)",
    ]


def test_a_choice_name_with_a_space_is_refused_in_a_select_multiple_only(
    tmp_path: Path
) -> None:
    survey, problems = check_text(tmp_path, """\
        | survey |
        |        | type              | name | label |
        |        | select_one l      | a    | A?    |
        |        | select_multiple l | b    | B?    |
        | choices |
        |         | list_name | name       | label       |
        |         | l         | one        | One         |
        |         | l         | once a week| Once a week |
        """)
    assert survey is None  # pyxform says so itself, in its words
    assert problems[0] == ("form.md: error: Choice names with spaces cannot be added to "
                           "multiple choice selects. See [once a week] in [l]")
    _, ok = check_text(tmp_path, """\
        | survey |
        |        | type              | name | label |
        |        | select_one l      | a    | A?    |
        | choices |
        |         | list_name | name       | label       |
        |         | l         | one        | One         |
        |         | l         | once a week| Once a week |
        """)
    assert not [p for p in ok if ": error:" in p]


@pytest.mark.parametrize(
    ("cell", "required", "condition"),
    [
        ("yes", True, None), ("Yes", True, None), ("true", True, None), ("TRUE", True, None),
        ("1", True, None), ("true()", True, None),
        ("no", False, None), ("false", False, None), ("FALSE", False, None), ("0", False, None),
        ("false()", False, None), ("", False, None),
        ("${a} = 'x'", False, "${a} = 'x'"),
    ],
)
def test_required_in_all_its_spellings(
    tmp_path: Path, cell: str, required: bool, condition: str | None
) -> None:
    survey, problems = check_text(tmp_path, f"""\
        | survey |
        |        | type | name | label | required |
        |        | text | a    | A     |          |
        |        | text | b    | B     | {cell} |
        """)
    assert problems == [NO_DEFAULT, NO_TITLE]
    assert survey is not None
    b = survey.by_id["b"]
    assert b.required is required
    assert (b.required_if.source if b.required_if else None) == condition


def test_defaults_and_read_only(tmp_path: Path) -> None:
    survey, problems = check_text(tmp_path, """\
        | survey |
        |        | type              | name  | label | default     | read_only |
        |        | select_multiple l | fruit | F?    | a b         |           |
        |        | integer           | n     | N?    | 4.5         |           |
        |        | date              | day   | D?    | today()     |           |
        |        | decimal           | x     | X?    | 2.50        | yes       |
        |        | select_one l      | one   | O?    | c           |           |
        | choices |
        |         | list_name | name | label |
        |         | l         | a    | A     |
        |         | l         | b    | B     |
        """)
    assert survey is None
    assert problems == [
        NO_DEFAULT,
        "form.md (sheet survey, row 3): error: question 'n', field 'default': default '4.5' is "
        "not a possible answer to a integer question",
        "form.md (sheet survey, row 4): warning: question 'day', field 'default': a default "
        "computed by an expression is not offered (only fixed defaults are)",
        "form.md (sheet survey, row 6): error: question 'one', field 'default': default 'c' is "
        "not a possible answer to a select_one question",
    ]


def test_a_markdown_form_with_an_xlsx_twin_gives_the_same_survey(tmp_path: Path) -> None:
    rows = {
        "survey": [
            ["type", "name", "label::English (en)", "label::Français\n", "relevant"],
            ["select_one yn", "ok", "All good?", "Tout va bien ?", None],
            [None, None, None, None, None],  # an empty row still counts
            ["text", "why", "Why not?", "Pourquoi ?", "${ok} = 'no'"],
            ["barcode", "code", "Scan", "Scanner", None],
        ],
        "choices": [
            ["list_name", "name", "label::English (en)", "label::Français\n"],
            ["yn", "yes", "Yes", "Oui"],
            ["yn", "no", "No", "Non"],
        ],
        "settings": [["form_id", "form_title", "default_language"],
                     ["twin", "Twin", "English (en)"]],
    }
    path = tmp_path / "twin.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    for sheet, lines in rows.items():
        worksheet = workbook.add_worksheet(sheet)
        for r, line in enumerate(lines):
            for c, value in enumerate(line):
                if value is not None:
                    worksheet.write(r, c, value)
    workbook.close()
    survey, problems = check(path)
    assert problems == [
        "twin.xlsx (sheet survey, row 5): warning: question 'code': skipped: 'barcode' "
        "questions cannot be answered on Telegram",
    ]
    assert survey is not None and survey.languages == ("en", "fr")
    ok, why = survey.questions
    assert ok.text.get("fr") == "Tout va bien ?" and ok.choices[1].label.get("fr") == "Non"
    assert why.relevant is not None and why.relevant.source == "${ok} = 'no'"
    assert why.source == "sheet survey, row 4"


def test_problem_text_with_a_sheet_and_row() -> None:
    problem = Problem("error", "unknown function 'foo' at position 3 in: foo(.)", "form.xlsx",
                      12, question="age", field="constraint", sheet="survey")
    assert str(problem) == ("form.xlsx (sheet survey, row 12): error: question 'age', field "
                            "'constraint': unknown function 'foo' at position 3 in: foo(.)")
    assert str(Problem("warning", "w", "form.xlsx", None, sheet="settings")) == (
        "form.xlsx (sheet settings): warning: w")
    assert str(Problem("warning", "w", "s.yaml", 3, question="q")) == (
        "s.yaml:3: warning: question 'q': w")


# --- forms found in the wild (a sweep over pyxform's and onadata's test forms) --------


def errors_of(problems: list[str]) -> list[str]:
    return [p for p in problems if ": error:" in p]


def test_an_entities_sheet_is_ignored_with_one_warning(tmp_path: Path) -> None:
    survey, problems = check_text(tmp_path, """\
        | survey |
        |        | type | name | label |
        |        | text | a    | A?    |
        | entities |
        |          | dataset | label |
        |          | people  | ${a}  |
        """)
    assert survey is not None and [q.id for q in survey.questions] == ["a"]
    assert [p for p in problems if "entit" in p] == [
        "form.md (sheet entities): warning: ignored: entities update ODK Central datasets, "
        "which the bot does not use"]


def test_randomized_choices_are_still_found(tmp_path: Path) -> None:
    survey, problems = check_text(tmp_path, """\
        | survey |
        |        | type                    | name   | label  | parameters     |
        |        | select_multiple choices | select | Select | randomize=true |
        | choices |
        |         | list_name | name | label |
        |         | choices   | a    | opt_a |
        |         | choices   | b    | opt_b |
        """)
    assert not errors_of(problems)
    assert survey is not None
    assert [c.id for c in survey.by_id["select"].choices] == ["a", "b"]


def test_external_choices_headers_in_capitals(tmp_path: Path) -> None:
    survey, problems = check_text(tmp_path, """\
        | survey |
        |        | type                   | name | label          |
        |        | select_one_external c1 | q2   | Where are you? |
        | choices |
        |         | list_name | name | label |
        |         | c1        | n1-c | l1-c  |
        | external_choices |
        |                  | LIST_NAME | NAME | LABEL |
        |                  | c1        | n1-e | l1-e  |
        |                  | c1        | n2-e | l2-e  |
        """)
    assert not errors_of(problems)
    assert survey is not None
    assert [c.id for c in survey.by_id["q2"].choices] == ["n1-e", "n2-e"]


def test_a_name_used_again_inside_a_repeat_is_told_apart(tmp_path: Path) -> None:
    survey, problems = check_text(tmp_path, """\
        | survey |
        |        | type         | name     | label |
        |        | text         | name     | Name? |
        |        | begin repeat | children | Kids  |
        |        | text         | name     | Name? |
        |        | end repeat   |          |       |
        """)
    assert not errors_of(problems)
    assert survey is not None
    assert [(q.id, q.repeat) for q in survey.questions] == [
        ("name", None), ("children.name", "children")]


def test_each_line_of_a_pyxform_error_is_a_problem(tmp_path: Path) -> None:
    _, problems = check_text(tmp_path, """\
        | survey |
        |        | type         | name | label |
        |        | select_one l | a    | A?    |
        |        | select_one m | b    | B?    |
        """)
    assert len(errors_of(problems)) >= 1
    assert all("\n" not in p for p in problems)


def test_odk_features_the_bot_lacks_are_named_as_such(tmp_path: Path) -> None:
    _, problems = check_text(tmp_path, """\
        | survey |
        |  | type      | name | label              | calculation                | relevant |
        |  | text      | a    | A?                 |                            |          |
        |  | calculate | c    |                    | concat(${instanceID}, 'x') |          |
        |  | text      | b    | B? ${last-saved#a} |                            |          |
        |  | text      | d    | D?                 |          | ${last-saved#a} = 'x'      |
        """)
    assert errors_of(problems) == [
        "form.md (sheet survey, row 3): error: question 'c', field 'calculation': refers to "
        "'instanceID', which is ODK's submission id (the bot has none)",
        "form.md (sheet survey, row 4): error: question 'b', field 'label', language 'en': "
        "${last-saved#a}: answers saved in an earlier submission (last-saved) are not supported",
        "form.md (sheet survey, row 5): error: question 'd', field 'relevant': "
        "${last-saved#a}: answers saved in an earlier submission (last-saved) are not "
        "supported at position 0 in: ${last-saved#a} = 'x'",
    ]
