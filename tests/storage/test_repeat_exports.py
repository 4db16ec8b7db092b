"""Repeats exported as KoboToolbox exports them, in every format, re-read the way analysts
read them: a table per repeat (a nested one too) whose rows join their parent's on
``_parent_index`` = ``_index``; CSV files read with the csv module's defaults, XLSX sheets
with openpyxl, SPSS and Stata files with pyreadstat (labels included), JSON nested."""

from __future__ import annotations

import csv
import datetime as dt
import json
import textwrap
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import openpyxl
import pyreadstat
import pytest
from bot.exports import ExportOptions, write_export
from bot.exports.workbook import sheet_names
from bot.pseudonyms import participant_id
from bot.survey.loader import load_survey
from bot.survey.model import Survey
from storage.db import connect

from tests.data import START, add_response

SECRET = "repeat-exports-secret-for-tests"
NOW = START + dt.timedelta(days=3)
IDS = (800000001, 800000002, 800000003)

FORM = """\
| settings |
|          | form_title | form_id | version | default_language |
|          | Households | hh_roster | 2     | English (en)     |
| survey |
| | type | name | label::English (en) | label::French (fr) | repeat_count | relevant |
| | begin_group | hh | Household | Ménage |  |  |
| | integer | size | How many people? | Combien ? |  |  |
| | begin_repeat | member | Person | Personne | ${size} |  |
| | text | name | First name? | Prénom ? |  |  |
| | integer | age | Age of ${name}? | Âge de ${name} ? |  |  |
| | select_one sex | sex | ${name} is: | ${name} est : |  |  |
| | select_multiple need | needs | Needs of ${name}? | Besoins ? |  |  |
| | begin_repeat | job | Job | Emploi |  | ${age} >= 15 |
| | text | employer | Employer? | Employeur ? |  |  |
| | decimal | wage | Wage? | Salaire ? |  |  |
| | end_repeat |  |  |  |  |  |
| | end_repeat |  |  |  |  |  |
| | end_group |  |  |  |  |  |
| | begin_repeat | well | Well | Puits |  |  |
| | date | dug | Dug when? | Creusé quand ? |  |  |
| | end_repeat |  |  |  |  |  |
| | text | comment | Anything else? | Autre chose ? |  |  |
| choices |
|         | list_name | name  | label::English (en) | label::French (fr) |
|         | sex       | f     | Woman               | Femme              |
|         | sex       | m     | Man                 | Homme              |
|         | need      | food  | Food                | Nourriture         |
|         | need      | water | Water               | Eau                |
"""
# The inputs of each household (None: skip; "+" adds a round at a review, ">" goes on).
AWA = ["2", "Awa", "40", "f", "food water", "=HYPERLINK(x)", "12.5", "+", "Shop", "3", ">",
       "Ali", "7", "m", None, ">", "2020-01-02", "+", "2021-05-06", ">", "ok"]
BEA = ["1", "Bea", "30", "f", "water", "Farm", None, ">", ">", None, ">", None]
CY = ["3", "Cy", "20", "m"]  # stopped in the middle of the first person

MEMBER_KEYS = ["_index", "_parent_index", "_parent_table_name", "participant", "response_id"]


@pytest.fixture
async def roster(tmp_path: Path) -> AsyncIterator[tuple[Path, Survey]]:
    form = tmp_path / "roster.md"
    form.write_text(textwrap.dedent(FORM), encoding="utf-8")
    survey, _ = load_survey(form)
    path = tmp_path / "roster.sqlite3"
    db = await connect(path)
    try:
        await add_response(db, survey, IDS[0], AWA)
        await add_response(db, survey, IDS[1], BEA, language="fr")
        await add_response(db, survey, IDS[2], CY)
    finally:
        await db.close()
    yield path, survey


def export(roster: tuple[Path, Survey], out: Path, **options: Any) -> tuple[Path, ...]:
    database, survey = roster
    result = write_export(database, out, survey, ExportOptions(**options), SECRET, NOW)
    assert result.rows == 3 and result.path == out
    return result.files


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def sheet(book: Any, name: str) -> list[dict[str, Any]]:
    header, *rows = book[name].iter_rows(values_only=True)
    return [dict(zip(header, row, strict=True)) for row in rows]


def parents(rows: list[dict[str, Any]], children: list[dict[str, Any]]) -> list[Any]:
    """Each child's parent row, found by joining ``_parent_index`` on ``_index``."""
    by_index = {row["_index"]: row for row in rows}
    return [by_index[child["_parent_index"]] for child in children]


# --- CSV -----------------------------------------------------------------------------------


async def test_csv_writes_a_file_per_repeat_beside_the_main_one(
    roster: tuple[Path, Survey], tmp_path: Path
) -> None:
    files = export(roster, tmp_path / "x.csv", format="csv")
    assert [f.name for f in files] == ["x.csv", "x.member.csv", "x.job.csv", "x.well.csv",
                                       "x.codebook.csv"]
    responses = read_csv(tmp_path / "x.csv")
    assert [r["_index"] for r in responses] == ["1", "2", "3"]
    assert "name" not in responses[0] and responses[0]["size"] == "2"
    members = read_csv(tmp_path / "x.member.csv")
    assert list(members[0])[:5] == MEMBER_KEYS
    assert list(members[0])[5:] == ["name", "age", "sex", "needs", "needs/food", "needs/water"]
    assert [(m["_index"], m["_parent_index"], m["name"]) for m in members] == [
        ("1", "1", "Awa"), ("2", "1", "Ali"), ("3", "2", "Bea"), ("4", "3", "Cy")]
    for member, parent in zip(members, parents(responses, members), strict=True):
        assert member["response_id"] == parent["response_id"]
        assert member["participant"] == parent["participant"]
        assert member["_parent_table_name"] == "responses"
    assert members[0]["participant"] == participant_id(SECRET, IDS[0])
    assert (members[0]["needs/food"], members[1]["needs/food"], members[1]["needs"]) == (
        "1", "", "")
    jobs = read_csv(tmp_path / "x.job.csv")
    assert [(j["_index"], j["_parent_index"], j["_parent_table_name"]) for j in jobs] == [
        ("1", "1", "member"), ("2", "1", "member"), ("3", "3", "member")]
    assert [p["name"] for p in parents(members, jobs)] == ["Awa", "Awa", "Bea"]
    assert jobs[0]["employer"] == "'=HYPERLINK(x)"  # never a formula in a spreadsheet
    assert (jobs[0]["wage"], jobs[2]["wage"]) == ("12.5", "")
    wells = read_csv(tmp_path / "x.well.csv")
    assert [(w["_parent_index"], w["dug"]) for w in wells] == [
        ("1", "2020-01-02"), ("1", "2021-05-06"), ("2", "")]  # Cy's household: not reached
    codebook = {(row["question"], row["choice"]): row
                for row in read_csv(tmp_path / "x.codebook.csv")}
    assert codebook["member", ""]["type"] == "repeat"
    assert codebook["member", ""]["table"] == "member"
    assert "_parent_index" in codebook["job", ""]["note"] and "'member'" in codebook["job", ""][
        "note"]
    assert (codebook["employer", ""]["table"], codebook["employer", ""]["column"]) == (
        "job", "employer")
    assert (codebook["needs", "food"]["table"], codebook["needs", "food"]["column"]) == (
        "member", "needs/food")
    assert codebook["size", ""]["table"] == "responses"


async def test_a_csv_zip_holds_every_table_and_the_codebook(
    roster: tuple[Path, Survey], tmp_path: Path
) -> None:
    (out,) = export(roster, tmp_path / "all.zip", format="csv", delimiter=";")
    with zipfile.ZipFile(out) as bundle:
        assert bundle.namelist() == ["responses.csv", "member.csv", "job.csv", "well.csv",
                                     "codebook.csv"]
        jobs = bundle.read("job.csv").decode("utf-8-sig").splitlines()
    assert jobs[0].startswith("_index;_parent_index;_parent_table_name;participant;")
    assert jobs[1].endswith(";12,5")  # decimal commas with semicolons


# --- XLSX ----------------------------------------------------------------------------------


async def test_xlsx_sheets_join_on_their_keys(roster: tuple[Path, Survey],
                                              tmp_path: Path) -> None:
    (out,) = export(roster, tmp_path / "x.xlsx", format="xlsx", labels="fr")
    book = openpyxl.load_workbook(out, read_only=True)
    assert book.sheetnames == ["responses", "member", "job", "well", "codebook"]
    responses, members = sheet(book, "responses"), sheet(book, "member")
    jobs, wells = sheet(book, "job"), sheet(book, "well")
    assert [r["_index"] for r in responses] == [1, 2, 3]
    assert [(m["name"], m["age"], m["sex"], m["sex:label"]) for m in members] == [
        ("Awa", 40, "f", "Femme"), ("Ali", 7, "m", "Homme"), ("Bea", 30, "f", "Femme"),
        ("Cy", 20, "m", "Homme")]
    for child, parent in zip(members, parents(responses, members), strict=True):
        assert child["response_id"] == parent["response_id"]
    assert [(p["name"], j["employer"], j["wage"]) for j, p in zip(
        jobs, parents(members, jobs), strict=True)] == [
        ("Awa", "=HYPERLINK(x)", 12.5), ("Awa", "Shop", 3), ("Bea", "Farm", None)]
    assert [w["dug"] for w in wells] == [dt.datetime(2020, 1, 2), dt.datetime(2021, 5, 6), None]
    assert [w["_parent_index"] for w in wells] == [1, 1, 2]
    codebook = sheet(book, "codebook")
    assert {(row["question"], row["table"]) for row in codebook if row["type"] == "repeat"} == {
        ("member", "member"), ("job", "job"), ("well", "well")}


def test_sheet_names_are_valid_for_excel_and_distinct() -> None:
    long = "a_repeat_with_a_very_long_name_indeed"
    names = sheet_names(["responses", long, long + "_too", "what?", "'quoted'", "History",
                         "CODEBOOK", "codebook"])
    assert names[:2] == ["responses", long[:31]]
    assert names[2] == long[:29] + "~2" and len(names[2]) == 31
    assert names[3:6] == ["what_", "quoted", "History_"]
    assert names[6:] == ["CODEBOOK", "codebook~2"]


# --- SPSS and Stata ------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["sav", "dta"])
async def test_spss_and_stata_write_a_labelled_file_per_table(
    roster: tuple[Path, Survey], tmp_path: Path, fmt: str
) -> None:
    files = export(roster, tmp_path / f"x.{fmt}", format=fmt, labels="fr")
    assert [f.name for f in files] == [f"x.{fmt}", f"x.member.{fmt}", f"x.job.{fmt}",
                                       f"x.well.{fmt}", "x.codebook.csv"]
    read = pyreadstat.read_sav if fmt == "sav" else pyreadstat.read_dta
    responses, _ = read(str(files[0]))
    members, meta = read(str(files[1]))
    jobs, job_meta = read(str(files[2]))
    assert list(responses["index"]) == [1, 2, 3]
    assert list(members.columns)[:5] == ["index", "parent_index", "parent_table_name",
                                         "participant", "response_id"]
    assert list(members["name"]) == ["Awa", "Ali", "Bea", "Cy"]
    assert list(members["parent_index"]) == [1, 1, 2, 3]
    joined = members.merge(responses, left_on="parent_index", right_on="index",
                           suffixes=("", "_response"))
    assert list(joined["response_id"]) == list(joined["response_id_response"])
    labels = meta.column_names_to_labels
    assert labels["age"] == "Âge de ${name} ?" and labels["needs_food"] == (
        "Besoins ?: Nourriture")
    assert meta.variable_value_labels["sex"] == {1: "Femme", 2: "Homme"}
    assert list(members["sex"]) == [1, 2, 1, 2]
    water = list(members["needs_water"])
    assert (water[0], water[2], water[3] != water[3]) == (1, 1, True)  # Cy's: not answered
    assert list(members["needs_food"])[:3:2] == [1, 0]
    assert list(jobs["employer"]) == ["=HYPERLINK(x)", "Shop", "Farm"]  # data, kept as given
    assert list(jobs["parent_index"]) == [1, 1, 3]
    assert job_meta.column_names_to_labels["wage"] == "Salaire ?"
    codebook = read_csv(files[-1])
    assert {(row["question"], row["table"], row["column"]) for row in codebook
            if row["question"] in ("needs", "job") and not row["choice"]} == {
        ("needs", "member", ""), ("job", "job", "")}
    assert any(row["choice"] == "food" and row["column"] == "needs_food" for row in codebook)


# --- JSON ----------------------------------------------------------------------------------


async def test_json_nests_the_rounds_in_their_response(roster: tuple[Path, Survey],
                                                       tmp_path: Path) -> None:
    (out,) = export(roster, tmp_path / "x.json", format="json")
    data = json.loads(out.read_text(encoding="utf-8"))
    awa, bea, cy = (r["answers"] for r in data["responses"])
    assert [m["name"] for m in awa["member"]] == ["Awa", "Ali"]
    assert awa["member"][0] == {
        "name": "Awa", "age": 40, "sex": "f", "needs": ["food", "water"],
        "job": [{"employer": "=HYPERLINK(x)", "wage": 12.5}, {"employer": "Shop", "wage": 3}]}
    assert "job" not in awa["member"][1] and awa["member"][1]["needs"] is None
    assert awa["well"] == [{"dug": "2020-01-02"}, {"dug": "2021-05-06"}]
    assert bea["member"][0]["job"] == [{"employer": "Farm", "wage": None}]
    assert bea["well"] == [{"dug": None}] and bea["comment"] is None
    assert cy["member"] == [{"name": "Cy", "age": 20, "sex": "m", "needs": None}]
    assert "well" not in cy
    entries = {e["question"]: e for e in data["codebook"]}
    assert entries["job"]["type"] == "repeat" and entries["job"]["parent_table"] == "member"
    assert entries["wage"]["table"] == "job" and entries["size"]["table"] == "responses"


# --- Kobo names ----------------------------------------------------------------------------


async def test_kobo_names_for_the_repeat_tables(roster: tuple[Path, Survey],
                                                tmp_path: Path) -> None:
    (out,) = export(roster, tmp_path / "kobo.xlsx", format="xlsx", kobo_names=True)
    book = openpyxl.load_workbook(out, read_only=True)
    responses, members, jobs = (sheet(book, name) for name in ("responses", "member", "job"))
    assert "hh/size" in responses[0] and responses[0]["_index"] == 1
    assert list(members[0]) == [
        "_index", "_parent_index", "_parent_table_name", "participant", "_submission__uuid",
        "hh/member/name", "hh/member/age", "hh/member/sex", "hh/member/needs",
        "hh/member/needs/food", "hh/member/needs/water"]
    assert list(jobs[0])[5:] == ["hh/member/job/employer", "hh/member/job/wage"]
    for child, parent in zip(members, parents(responses, members), strict=True):
        assert child["_submission__uuid"] == parent["_uuid"]
    (document,) = export(roster, tmp_path / "kobo.json", format="json", kobo_names=True)
    awa = json.loads(document.read_text(encoding="utf-8"))["responses"][0]["answers"]
    assert awa["hh/member"][0]["hh/member/job"][1] == {"hh/member/job/employer": "Shop",
                                                      "hh/member/job/wage": 3}
    assert awa["well"] == [{"well/dug": "2020-01-02"}, {"well/dug": "2021-05-06"}]


async def test_a_yaml_roster_under_kobo_names_is_named_by_its_repeats(tmp_path: Path) -> None:
    survey, _ = load_survey(Path(__file__).resolve().parents[1] / "forms" / "roster.yaml")
    database = tmp_path / "yaml.sqlite3"
    db = await connect(database)
    try:
        await add_response(db, survey, IDS[0], ["1", "Amina", "34", "f", "no", ">", "Amina",
                                                "Caritas", "ngo", ">", None])
    finally:
        await db.close()
    out = tmp_path / "yaml.csv"
    write_export(database, out, survey, ExportOptions("csv", kobo_names=True), SECRET, NOW)
    (member,) = read_csv(tmp_path / "yaml.member.csv")
    assert list(member)[4:] == ["_submission__uuid", "member/member_name", "member/age",
                                "member/sex", "member/works"]
    assert (member["member/member_name"], member["_parent_table_name"]) == ("Amina",
                                                                           "responses")
