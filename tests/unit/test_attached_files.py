"""Choice lists and values from files attached to an XLSForm, laid out as Kobo and ODK lay
them out (``media/`` beside the form, ``<form>-media/``, or next to it): the shapes of
pyxform's own tests (cities and suburbs, fruits), read by the importer and run by the
engine."""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import pytest
from bot.cli import main
from bot.survey import engine
from bot.survey.expressions import DataTable, Env, ExpressionError, parse
from bot.survey.loader import check_survey
from bot.survey.model import QuestionType, Survey

NOW = dt.datetime(2026, 11, 4, 10, 0, tzinfo=dt.UTC)

CITIES = """\
| survey |
|        | type                                    | name    | label   | choice_filter  | parameters           |
|        | select_one_from_file cities.csv         | city    | City    |                |                      |
|        | select_multiple_from_file suburbs.xml   | suburbs | Suburbs | city=${city}   | value=val, label=lbl |
"""  # noqa: E501
CITIES_CSV = ("name,label::English (en),label::French (fr)\nsyd,Sydney,Sydney\n"
              "mel,Melbourne,Melbourne\n")
SUBURBS_XML = """<root>
  <item><val>balmain</val><lbl>Balmain</lbl><city>syd</city></item>
  <item><val>newtown</val><lbl>Newtown</lbl><city>syd</city></item>
  <item><val>footscray</val><lbl>Footscray</lbl><city>mel</city></item>
</root>
"""

FRUITS = """\
| settings |
|          | form_title | default_language |
|          | Fruit      | English (en)     |
| survey |
|        | type                            | name   | label::English (en)  | calculation                                      | constraint |
|        | select_one_from_file fruits.csv | fruit  | Which fruit?         |                                                  |            |
|        | calculate                       | price  |                      | pulldata('fruits', 'price', 'name_key', ${fruit}) |            |
|        | integer                         | kilos  | How many kilos?      |                                                  | . * ${price} <= 20 |
|        | note                            | total  | That is ${price} a kilo. |                                              |            |
"""  # noqa: E501
FRUITS_CSV = ("name_key,name,label::English (en),price\nmango,mango,Mango,4\n"
              "papaya,papaya,Papaya,2.5\n")


def form(folder: Path, text: str, name: str = "form.md") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def check(path: Path) -> tuple[Survey | None, list[str]]:
    survey, problems = check_survey(path)
    return survey, [str(p).replace(str(path), path.name) for p in problems
                    if p.severity == "error"]


def test_choices_from_the_media_folder_and_odk_collect_folder(tmp_path: Path) -> None:
    path = form(tmp_path, CITIES)
    (tmp_path / "media").mkdir()
    (tmp_path / "media" / "cities.csv").write_text(CITIES_CSV, encoding="utf-8")
    (tmp_path / "form-media").mkdir()
    (tmp_path / "form-media" / "suburbs.xml").write_text(SUBURBS_XML, encoding="utf-8")
    survey, errors = check(path)
    assert errors == [] and survey is not None
    city, suburbs = survey.questions
    assert [(c.id, c.label.get("fr")) for c in city.choices] == [
        ("syd", "Sydney"), ("mel", "Melbourne")]
    assert suburbs.type is QuestionType.SELECT_MULTIPLE
    assert [(c.id, c.label.get("en"), dict(c.columns)) for c in suburbs.choices] == [
        ("balmain", "Balmain", {"city": "syd"}), ("newtown", "Newtown", {"city": "syd"}),
        ("footscray", "Footscray", {"city": "mel"})]
    step = engine.answer(survey, engine.start(survey, NOW).progress, "syd", NOW)
    offered = engine.available_choices(survey, step.progress, NOW)  # at the suburbs
    assert [c.id for c in offered] == ["balmain", "newtown"]
    step = engine.answer(survey, step.progress, "balmain newtown", NOW)
    assert step.progress.answers["suburbs"] == "balmain newtown"


def test_a_missing_file_is_named_with_where_it_was_looked_for(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = form(tmp_path, CITIES, "cities.md")
    (tmp_path / "cities.csv").write_text(CITIES_CSV, encoding="utf-8")
    survey, errors = check(path)
    assert survey is None
    assert errors == [
        "cities.md (sheet survey, row 3): error: question 'suburbs', field 'type': the choices "
        "come from 'suburbs.xml', which is not attached: looked for media/suburbs.xml, "
        "cities-media/suburbs.xml and suburbs.xml, beside cities.md",
    ]
    assert main(["survey", "check", str(path)]) == 1
    out = capsys.readouterr().out
    assert "'suburbs.xml', which is not attached: looked for media/suburbs.xml" in out


def test_pulldata_reads_the_attached_csv_as_the_survey_runs(tmp_path: Path) -> None:
    path = form(tmp_path, FRUITS)
    (tmp_path / "media").mkdir()
    (tmp_path / "media" / "fruits.csv").write_text(FRUITS_CSV, encoding="utf-8")
    survey, errors = check(path)
    assert errors == [] and survey is not None
    step = engine.answer(survey, engine.start(survey, NOW).progress, "papaya", NOW)
    assert step.progress.answers["price"] == "2.5"
    with pytest.raises(engine.InvalidAnswer):
        engine.answer(survey, step.progress, "9", NOW)  # 9 kilos at 2.5 is more than 20
    step = engine.answer(survey, step.progress, "8", NOW)
    assert step.progress.answers["kilos"] == "8"
    assert engine.interpolate(survey, "${price}", step.progress.answers, "en") == "2.5"


def test_pulldata_problems_name_the_file_and_the_column(tmp_path: Path) -> None:
    path = form(tmp_path, FRUITS)
    survey, errors = check(path)
    assert survey is None and errors == [
        "form.md (sheet survey, row 2): error: question 'fruit', field 'type': the choices come "
        "from 'fruits.csv', which is not attached: looked for media/fruits.csv, "
        "form-media/fruits.csv and fruits.csv, beside form.md",
        "form.md (sheet survey, row 3): error: question 'price', field 'calculation': "
        "pulldata(): 'fruits.csv' is not attached: looked for media/fruits.csv, "
        "form-media/fruits.csv and fruits.csv, beside form.md at position 9 in: "
        "pulldata('fruits', 'price', 'name_key', ${fruit})",
    ]
    (tmp_path / "fruits.csv").write_text(FRUITS_CSV.replace("price", "cost"), encoding="utf-8")
    survey, errors = check(path)
    assert survey is None and errors == [
        "form.md (sheet survey, row 3): error: question 'price', field 'calculation': "
        "pulldata(): 'fruits.csv' has no column 'price' (its columns: name_key, name, "
        "label::English (en), cost) at position 19 in: "
        "pulldata('fruits', 'price', 'name_key', ${fruit})",
    ]


def test_a_changed_file_changes_the_survey_fingerprint(tmp_path: Path) -> None:
    path = form(tmp_path, FRUITS)
    (tmp_path / "fruits.csv").write_text(FRUITS_CSV, encoding="utf-8")
    before, _ = check(path)
    (tmp_path / "fruits.csv").write_text(FRUITS_CSV.replace("2.5", "3"), encoding="utf-8")
    after, _ = check(path)
    assert before is not None and after is not None
    assert before.fingerprint != after.fingerprint  # buttons of the old list are stale


@pytest.mark.parametrize(
    ("source", "values", "expected"),
    [
        ("pulldata('fruits', 'price', 'name', ${f})", {"f": "mango"}, "4"),
        ("pulldata('fruits.csv', 'price', 'name', ${f})", {"f": "kiwi"}, ""),
        ("pulldata('fruits', 'price', 'name', ${f}) * 2", {"f": "papaya"}, 5.0),
        ("pulldata('fruits', ${c}, 'name', 'mango')", {"c": "label"}, "Mango"),
        ("pulldata('fruits', ${c}, 'name', 'mango')", {"c": "nope"}, ""),
        ("pulldata('fruits', 'name', 'price', 4)", {}, "mango"),  # a number as ODK writes it
    ],
)
def test_pulldata_as_odk_evaluates_it(source: str, values: dict[str, str],
                                      expected: object) -> None:
    table = DataTable("fruits.csv", ("name", "label", "price"),
                      (("mango", "Mango", "4"), ("papaya", "Papaya", "2.5"),
                       ("mango", "Second mango", "9")))
    expression = parse(source, data=lambda name: table)
    assert expression.evaluate(Env(values=values)) == expected


def test_pulldata_needs_an_xlsform_and_a_literal_file_name() -> None:
    with pytest.raises(ExpressionError, match="attached to an XLSForm"):
        parse("pulldata('fruits', 'price', 'name', 'mango')")
    with pytest.raises(ExpressionError, match="the file's name in quotes"):
        parse("pulldata(${f}, 'price', 'name', 'mango')", data=lambda name: DataTable(
            name, (), ()))
