"""Loading survey files: every problem reported at once, each with its location."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from bot.i18n import shipped_languages
from bot.survey.expressions import Limits
from bot.survey.loader import BUILTIN_SURVEY, Problem, check_survey, load_survey
from bot.survey.model import QuestionType, Survey

from tests.unit.surveys import BASIC, survey_from

HEADER = """\
id: broken
version: 1
default_language: en
languages: [en, fr]
title: {en: T, fr: T}
introduction: {en: I, fr: I}
consent: {notice: {en: N, fr: N}, details: {en: D, fr: D}}
questions:
"""


def problems(tmp_path: Path, text: str) -> list[Problem]:
    path = tmp_path / "s.yaml"
    path.write_text(text, encoding="utf-8")
    survey, found = check_survey(path)
    if any(p.severity == "error" for p in found):
        assert survey is None
    return found


def errors(tmp_path: Path, text: str) -> list[str]:
    return [str(p) for p in problems(tmp_path, text) if p.severity == "error"]


def test_the_builtin_consultation_loads_without_any_problem() -> None:
    survey, found = load_survey(BUILTIN_SURVEY)
    assert found == []
    assert set(survey.languages) == set(shipped_languages())  # every language the bot speaks
    for question in survey.questions:
        for language in survey.languages:
            assert question.text.has(language), (question.id, language)
            for choice in question.choices:
                assert choice.label.has(language), (question.id, choice.id, language)


def test_builtin_consultation_asks_what_the_concept_note_names(consultation: Survey) -> None:
    by_id = consultation.by_id
    assert by_id["role"].type is QuestionType.SELECT_ONE
    assert len(by_id["residence"].choices) > 200  # the country list
    assert by_id["residence"].choices[0].label.has("ar")
    assert {c.id for c in by_id["levels"].choices} >= {
        "local", "national", "bilateral", "regional", "global"}
    assert len(by_id["issues"].choices) == 6
    assert by_id["inclusiveness"].type is QuestionType.SCALE
    assert by_id["effectiveness"].type is QuestionType.SCALE
    assert by_id["good_practice"].type is QuestionType.TEXT
    assert "divided_debate" in {c.id for c in by_id["difficulties"].choices}
    assert by_id["would_help"].relevant is not None  # asked of people without a partnership


def test_a_valid_file_with_missing_translations_loads_with_warnings(tmp_path: Path) -> None:
    text = HEADER + "  - {id: q1, type: text, text: {en: Hello}}\n"
    found = problems(tmp_path, text)
    assert [str(p) for p in found] == [
        f"{tmp_path / 's.yaml'}:9: warning: question 'q1', field 'text', language 'fr': "
        "translation missing"]


@pytest.mark.parametrize(
    ("questions", "expected"),
    [
        ("  - {id: q1, type: txt, text: {en: A}}\n",
         ":9: error: question 'q1', field 'type': unknown type 'txt'"),
        ("  - {id: q1, type: text, text: {en: A}}\n  - {id: q1, type: text, text: {en: B}}\n",
         ":10: error: question 'q1', field 'id': duplicate question id"),
        ("  - {id: q1, type: select_one, text: {en: A}}\n",
         ":9: error: question 'q1', field 'choices': select questions need choices"),
        ("  - {id: q1, type: select_one, text: {en: A}, choices: nope}\n",
         "field 'choices': no choice list named 'nope'"),
        ("  - {id: q1, type: text, text: {fr: A}}\n",
         ":9: error: question 'q1', field 'text', language 'en': no text in the default language"),
        ("  - {id: q1, type: text, text: {en: A, de: B}}\n",
         ":9: error: question 'q1', field 'text', language 'de': language not listed"),
        ("  - {id: q1, type: text, text: {en: A}, relevant: '${q2} = 1'}\n"
         "  - {id: q2, type: integer, text: {en: B}}\n",
         "question 'q1', field 'relevant': refers to 'q2', which comes later"),
        ("  - {id: q1, type: text, text: {en: A}, relevant: '${ghost} = 1'}\n",
         "field 'relevant': refers to unknown question 'ghost'"),
        ("  - {id: q1, type: text, text: {en: A}, relevant: 'selected(${q1}, 1'}\n",
         "field 'relevant': "),
        ("  - {id: q1, type: text, text: {en: A}, colour: red}\n",
         "question 'q1', field 'colour': unknown field"),
        ("  - {id: q1, type: text, txt: {en: A}}\n",
         "field 'txt': unknown field; did you mean 'text'?"),
        ("  - {id: q1, type: scale, text: {en: A}, min: 1, max: 20}\n",
         "field 'max': a scale has 2 to 11 points"),
        ("  - {id: q1, type: integer, text: {en: A}, min: 5, max: 1}\n",
         "field 'min': min is greater than max"),
        ("  - {id: q1, type: note, text: {en: A}, required: true}\n",
         "field 'required': a note cannot be required"),
        ("  - id: q1\n    type: select_one\n    text: {en: A}\n    choices:\n"
         "      - {id: a b, label: {en: A}}\n",
         ":13: error: question 'q1', field 'choices': choice id 'a b' may only hold"),
        ("  - id: q1\n    type: select_one\n    text: {en: A}\n    choices:\n"
         "      - {id: a, label: {en: A}}\n      - {id: a, label: {en: B}}\n",
         ":14: error: question 'q1', field 'choices': duplicate choice id 'a'"),
        ("  - {id: 1q, type: text, text: {en: A}}\n",
         "field 'id': missing or invalid question id"),
    ],
)
def test_each_problem_names_its_place(tmp_path: Path, questions: str, expected: str) -> None:
    found = errors(tmp_path, HEADER + questions)
    assert any(expected in line for line in found), found


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = HEADER + (
        "  - {id: q1, type: txt, text: {en: A}}\n"
        "  - {id: q2, type: text, text: {fr: B}}\n"
        "  - {id: q3, type: select_one, text: {en: C}}\n"
        "  - {id: q4, type: text, text: {en: D}, relevant: '${nope} = 1'}\n"
    )
    found = errors(tmp_path, text)
    assert len(found) == 4, found
    assert [line.split(":")[1] for line in found] == ["9", "10", "11", "12"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("id: [unclosed\n", "not valid YAML"),
        ("- just\n- a list\n", "a survey file is a map"),
        (HEADER.replace("default_language: en\n", ""), "field 'default_language': missing"),
        (HEADER.replace("languages: [en, fr]", "languages: [en, zz-notalang]")
         + "  - {id: q, type: text, text: {en: A}}\n", "is not a language code"),
        (HEADER.replace("consent: {notice: {en: N, fr: N}, details: {en: D, fr: D}}\n", "")
         + "  - {id: q, type: text, text: {en: A}}\n", "field 'consent': missing"),
        (HEADER + "  - {id: q, type: note, text: {en: A}}\n", "only notes"),
        (HEADER.replace("title: {en: T, fr: T}", "title: {en: T, fr: T}\ntitle: {en: X}")
         + "  - {id: q, type: text, text: {en: A}}\n", "'title' is given twice"),
    ],
)
def test_file_level_problems(tmp_path: Path, text: str, expected: str) -> None:
    found = errors(tmp_path, text)
    assert any(expected in line for line in found), found


def test_unreadable_file(tmp_path: Path) -> None:
    survey, found = check_survey(tmp_path / "missing.yaml")
    assert survey is None
    assert "cannot read the file" in str(found[0])


def test_yes_and_no_stay_text_and_the_country_code_for_norway_too(tmp_path: Path) -> None:
    survey = survey_from(BASIC, tmp_path)
    assert [c.id for c in survey.by_id["work"].choices] == ["yes", "no"]
    text = HEADER + (
        "  - id: q\n    type: select_one\n    text: {en: A}\n"
        "    choices: [{id: NO, label: {en: Norway}}, {id: on, label: {en: On}}]\n")
    path = tmp_path / "norway.yaml"
    path.write_text(text, encoding="utf-8")
    loaded, _ = load_survey(path)
    assert [c.id for c in loaded.by_id["q"].choices] == ["NO", "on"]


def test_country_lists_are_named_in_each_language(tmp_path: Path) -> None:
    text = HEADER + "  - {id: home, type: select_one, text: {en: A, fr: A}, choices: countries}\n"
    path = tmp_path / "c.yaml"
    path.write_text(text, encoding="utf-8")
    survey, warnings = load_survey(path)
    names = {c.id: c.label for c in survey.by_id["home"].choices}
    assert names["DE"].get("fr") == "Allemagne"
    assert names["DE"].get("en") == "Germany"
    assert "ZZ" not in names and "EU" not in names
    assert warnings == []


def test_the_documented_example_loads(tmp_path: Path) -> None:
    guide = (Path(__file__).resolve().parents[2] / "docs" / "surveys.md").read_text("utf-8")
    example = guide.split("```yaml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "example.yaml"
    path.write_text(example, encoding="utf-8")
    survey, warnings = load_survey(path)
    assert [q.id for q in survey.questions][:3] == ["works", "hours", "sectors"]
    assert warnings == []


def test_conditions_that_can_never_be_true_are_flagged(tmp_path: Path) -> None:
    text = HEADER + (
        "  - id: q1\n    type: select_one\n    text: {en: A, fr: A}\n"
        "    choices: [{id: a, label: {en: A, fr: A}}, {id: b, label: {en: B, fr: B}}]\n"
        "  - {id: q2, type: text, text: {en: B, fr: B}, relevant: \"${q1} = 'c'\"}\n"
        "  - {id: q3, type: text, text: {en: C, fr: C}, relevant: \"selected(${q1}, 'b')\"}\n"
        "  - {id: q4, type: text, text: {en: D, fr: D}, relevant: '1 = 2'}\n"
    )
    warnings = [str(p) for p in problems(tmp_path, text) if p.severity == "warning"]
    assert len(warnings) == 2, warnings
    assert "question 'q2', field 'relevant': compares 'q1' with 'c'" in warnings[0]
    assert "question 'q4', field 'relevant': never asked" in warnings[1]


NOT_A_SURVEY = ("not a survey file: {}; a survey is a YAML file or an XLSForm (.xlsx, .xlsm, "
                ".xls, or its sheets as markdown tables in .md)")


@pytest.mark.parametrize(
    ("name", "content", "what"),
    [
        ("README", b"# Our project\n\nRun it with care.\n", "it holds plain text"),
        ("README.md", b"# Our project\n\nRun it with care.\n",
         "it is markdown without a '| survey |' table (a form in markdown has one table per "
         "sheet, the sheet's name in its first cell)"),
        ("notes.txt", b"Usage: consultbot run\nDocs: see docs/\n",
         "it holds YAML without any survey field (id, version, languages, questions, …)"),
        ("todo.txt", b"Usage: consultbot run\nSee the docs.\n",
         "it holds text that is not YAML (could not find expected ':', line 3)"),
        ("answers.csv", b"id,answer\n1,yes\n", "it is a CSV file"),
        ("report.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "it is a PDF document"),
        ("survey.yaml", b"", "it is empty"),
        ("form.xlsx", b"", "it is empty"),
        ("form.md", b"\n\n", "it is empty"),
        ("survey.yaml", b"# only a comment\n", "it holds no YAML data"),
        ("blob", bytes(range(256)) * 4, "it holds binary data"),
        ("photo.yaml", b"\x89PNG\r\n\x1a\n\x00\x00", "it is a PNG image"),
        ("form.zip", b"PK\x03\x04\x14\x00",
         "it is a ZIP archive (a workbook needs the suffix .xlsx)"),
        ("form.xls", b"<html><body><table></table></body></html>",
         "it holds text, not a workbook"),
        ("form.xlsx", b"PK\x03\x04 not really a workbook",
         "it is no workbook pyxform can read (a damaged file, or another document)"),
    ],
)
def test_a_file_that_is_no_survey_is_said_so_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, content: bytes, what: str,
) -> None:
    from bot.cli import main

    path = tmp_path / name
    path.write_bytes(content)
    survey, found = check_survey(path)
    assert survey is None
    assert [str(p) for p in found] == [f"{path}: error: {NOT_A_SURVEY.format(what)}"]
    assert main(["survey", "check", str(path)]) == 1
    out, err = capsys.readouterr()
    assert out.splitlines()[0] == f"{path}: error: {NOT_A_SURVEY.format(what)}"
    assert "Traceback" not in out + err


def test_what_a_yaml_constraint_asks_is_carried_and_said(tmp_path: Path) -> None:
    found = problems(tmp_path, HEADER
                     + "  - {id: age, type: integer, text: {en: A, fr: A}, constraint: "
                     "'. >= 18 and . < 120'}\n"
                     + "  - {id: name, type: text, text: {en: N, fr: N}, constraint: "
                     "'string-length(.) <= 20', constraint_message: {en: Short, fr: Court}}\n")
    assert [str(p) for p in found] == [
        f"{tmp_path / 's.yaml'}:9: warning: question 'age', field 'constraint_message': "
        "constraint without constraint_message: participants will only read that the answer is "
        "not accepted and what the bot makes of the constraint (a whole number from 18 to 119)",
    ]
    survey, _ = check_survey(tmp_path / "s.yaml")
    assert survey is not None
    assert survey.by_id["age"].expects == Limits(minimum=Decimal(18), maximum=Decimal(119),
                                                 whole_numbers=True)
    assert survey.by_id["name"].expects == Limits(max_length=20)
