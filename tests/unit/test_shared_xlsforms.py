"""Six real XLSForms from other organizations (``../shared/xlsforms``) give the expected result.

The forms are data kept beside the project, not in it; without the folder these
tests are skipped (failed under ``CONSULTBOT_REQUIRE_SHARED=1``; see tests/shared.py).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from bot.survey.expressions import Limits
from bot.survey.loader import check_survey
from bot.survey.model import QuestionType, Survey

from tests.shared import XLSFORMS

pytestmark = pytest.mark.shared_xlsforms

NO_DEFAULT = ("(sheet settings): warning: field 'default_language': no default_language: "
              "English (en) is taken as the default language (its texts fill the gaps of the "
              "others)")
NO_MESSAGE = ("warning: question '{}', field 'constraint_message': constraint without "
              "constraint_message: participants will only read that the answer is not accepted")
WHOLE = " and what the bot makes of the constraint (a whole number from {} to {})"
NO_TITLE = ("(sheet settings): warning: field 'form_title': the form has no title (form_title "
            "in the settings sheet): participants see the bot's own neutral title")


def load(name: str) -> tuple[Survey, list[str]]:
    path = XLSFORMS / name
    survey, problems = check_survey(path)
    assert survey is not None, [str(p) for p in problems]
    return survey, [str(p).replace(str(path), name) for p in problems]


def test_ona_mali_health_loads_with_its_location_and_cascading_select() -> None:
    survey, problems = load("ona_mali_health_en_fr.xlsx")
    name = "ona_mali_health_en_fr.xlsx"
    assert problems == [
        f"{name} {NO_DEFAULT}",
        f"{name} (sheet survey, row 2): {NO_MESSAGE.format('Pcode')} and what the bot makes "
        "of the constraint (text matching the pattern [a-zA-Z0-9]{11})",
        f"{name} (sheet survey, row 5): {NO_MESSAGE.format('Code_CSREF')} and what the bot "
        "makes of the constraint (text matching the pattern [a-zA-Z0-9]{7})",
        f"{name} (sheet survey, row 7): {NO_MESSAGE.format('PCODE2')} and what the bot makes "
        "of the constraint (text matching the pattern [a-zA-Z0-9]{7})",
        f"{name} (sheet survey, row 9): {NO_MESSAGE.format('NBRE_VILLAGE')} and what the bot "
        "makes of the constraint (a whole number no less than 0)",
    ]
    assert survey.by_id["PCODE2"].expects == Limits(pattern="[a-zA-Z0-9]{7}")
    assert survey.languages == ("en", "fr") and survey.title.get("en") == "Mali Health Facilities"
    assert len(survey.questions) == 15 and all(q.asks for q in survey.questions)
    assert survey.by_id["location"].type is QuestionType.LOCATION
    district = survey.by_id["DISTRICT"]
    assert district.choice_filter is not None
    assert district.choice_filter.source == "region =${region}"
    assert district.choices[0].columns == {"region": "bamako"}
    assert survey.by_id["ACCESSIBILITIE"].text.get("fr") == "Accessibilité"


def test_ona_multi_lingual_loads_in_three_languages() -> None:
    survey, problems = load("ona_multi_lingual_en_sw_fr.xlsx")
    assert problems == [
        "ona_multi_lingual_en_sw_fr.xlsx (sheet settings): warning: field 'form_title': the form "
        "has no title (form_title in the settings sheet): participants see 'Multi lingual "
        "export', made from its form_id",
    ]
    assert survey.id == "multi_lingual_export"
    assert survey.title.get("fr") == "Multi lingual export"  # never the file's name
    assert survey.languages == ("en", "sw", "fr") and survey.default_language == "en"
    assert [q.id for q in survey.questions] == ["resp_name", "age", "sex_resp", "Fruits",
                                                "cities"]
    assert survey.by_id["sex_resp"].choices[1].label.get("sw") == "Mke"


def test_pyxform_choices_loads_with_its_duplicate_choice_said() -> None:
    survey, problems = load("pyxform_md_choices_en_ko.md")
    assert problems == [
        f"pyxform_md_choices_en_ko.md {NO_DEFAULT}",
        f"pyxform_md_choices_en_ko.md {NO_TITLE}",
        "pyxform_md_choices_en_ko.md (sheet choices, row 5): warning: question 'S1': the list "
        "'list' has the choice 'c' twice (rows 4 and 5): both store the answer 'c'",
    ]
    assert survey.languages == ("en", "ko")
    (question,) = survey.questions
    assert [c.id for c in question.choices] == ["a", "b", "c", "c"]
    assert question.text.get("ko") == "질문 1"


def test_pyxform_note_loads_and_has_nothing_to_answer() -> None:
    survey, problems = load("pyxform_md_note_en_fr.md")
    assert problems == [
        f"pyxform_md_note_en_fr.md {NO_DEFAULT}",
        f"pyxform_md_note_en_fr.md {NO_TITLE}",
        "pyxform_md_note_en_fr.md: warning: the form has nothing to answer: the bot only shows "
        "its notes",
    ]
    assert survey.languages == ("en", "fr")
    (note,) = survey.questions
    assert note.type is QuestionType.NOTE and note.text.get("fr") == "bonjour"


def test_pyxform_partial_translations_with_or_other() -> None:
    survey, problems = load("pyxform_md_partial_translations_or_other.md")
    name = "pyxform_md_partial_translations_or_other.md"
    assert problems == [
        f"{name} (sheet settings): warning: field 'default_language': no default_language: the "
        "columns without a language (label, hint, …) are taken to be English (en); say so with "
        "default_language in the settings sheet",
        f"{name} {NO_TITLE}",
        f"{name} (sheet survey, row 3): warning: question 'q1_other': or_other adds the choice "
        "'Other' to 'q1' and this question ('Specify other.') in English only, whatever the "
        "language",
        f"{name}: warning: language 'fr': translations missing: 2 labels, 1 choice label (the "
        "first in sheet survey, row 3); the English (en) text is shown instead",
    ]
    assert survey.languages == ("en", "fr")
    q1, other = survey.questions
    assert q1.text.get("en") == "Question A"  # label::eng wins over the unsuffixed label
    assert [(c.id, c.label.get("fr")) for c in q1.choices] == [
        ("na", "la"), ("nb", "lb-f"), ("other", "Other")]
    assert other.relevant is not None and other.relevant.source == "selected(../q1, 'other')"


def test_reach_household_survey_loads_with_what_it_skips_said() -> None:
    survey, problems = load("reach_cleaningtools_form_en_ar.xlsx")
    name = "reach_cleaningtools_form_en_ar.xlsx"
    assert problems == [
        f"{name} {NO_DEFAULT}",
        f"{name} {NO_TITLE}",
        f"{name} (sheet survey, row 5): warning: question 'audit': skipped: 'audit' is device "
        "metadata, which Telegram does not give the bot",
        f"{name} (sheet survey, row 6): warning: question 'deviceid': skipped: 'deviceid' is "
        "device metadata, which Telegram does not give the bot",
        *(f"{name} (sheet survey, row {row}): {NO_MESSAGE.format(question)}{told}"
          for row, question, told in [
              (20, "num_hh_member", WHOLE.format(1, 49)),
              (22, "num_hh_hosting", WHOLE.format(1, 49)),
              (30, "inc_employment_pension", ""),  # . = 0 or …: nothing it can say
              (31, "tot_expenses", ""),
              (164, "connection_fees_amount", WHOLE.format(1, 10000000)),
              (167, "pay_water_charges_amount", WHOLE.format(1, 10000000)),
          ]),
        f"{name}: warning: language 'en': translations missing: 8 constraint messages (the "
        "first in sheet survey, row 49); another language's text is shown",
    ]
    assert survey.languages == ("en", "ar")
    assert len(survey.questions) == 221 and sum(q.asks for q in survey.questions) == 214
    clocks = [(q.id, q.calculation.source) for q in survey.questions if q.calculation]
    assert clocks == [("start", "now()"), ("date_assessment", "today()"), ("end", "now()")]
    assert survey.questions[-1].id == "end"
    gates = [q.id for q in survey.questions if q.gate]
    assert gates == ["note_water_expenditure", "piped_water_note"]
    location = survey.by_id["gpslocation"]
    assert location.type is QuestionType.LOCATION and location.required
    age = survey.by_id["age_respondent_r"]
    assert age.constraint is not None and age.constraint_message is not None
    assert age.expects == Limits(minimum=Decimal(18), maximum=Decimal(119), whole_numbers=True)
    assert age.constraint_message.get("ar").startswith("لا يمكن")


def test_kobo_paths_follow_the_groups_of_real_forms() -> None:
    survey, _ = load("ona_multi_lingual_en_sw_fr.xlsx")
    assert [(q.id, q.path) for q in survey.questions][:2] == [
        ("resp_name", "group1/resp_name"), ("age", "group1/age")]
    survey, _ = load("reach_cleaningtools_form_en_ar.xlsx")
    assert survey.by_id["age_respondent_r"].path == "hh_info/age_respondent_r"
    assert survey.by_id["start"].path == "start"
