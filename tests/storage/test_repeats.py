"""Repeats in the stored data: figures and summaries count people (or rounds when the survey
says so, small cells protected either way), exports give each repeat its own table, and
erasing a participant erases every round."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import openpyxl
import pytest
from bot.exports import ExportOptions, write_export
from bot.figures import figures_of
from bot.i18n import Catalogs
from bot.summary import BlockKind, CategoryKind, build_summary, render_text
from bot.survey.loader import load_survey
from bot.survey.model import Survey
from storage.db import Database, connect, fetch_all, fetch_one, transaction
from storage.participants import delete_participant

from tests import stored
from tests.data import START, add_response
from tests.unit.surveys import survey_from

FORMS = Path(__file__).resolve().parents[1] / "forms"
# small-cell protection is Python over the same counts on both engines: SQLite only
SMALL_CELLS = pytest.mark.sqlite_only
NOW = START + dt.timedelta(days=3)
SECRET = "s3cret-for-tests-only"


@pytest.fixture(scope="module")
def roster() -> Survey:
    return load_survey(FORMS / "roster.yaml")[0]


def household(*people: tuple[str, str, str], helpers: tuple[str, ...] = ("Caritas",)
              ) -> list[str | None]:
    """The inputs of one household: its people (name, age, sex), then its helpers."""
    inputs: list[str | None] = [str(len(people))]
    for name, age, sex in people:
        inputs += [name, age, sex]
        if int(age) >= 15:
            inputs.append("no")
    inputs.append(">")  # the review of the people
    adults = [name for name, age, _ in people if int(age) >= 18]
    if adults:
        inputs.append(adults[0])  # the head of the household (asked when there are adults)
    for number, helper in enumerate(helpers):
        if number:
            inputs.append("+")
        inputs += [helper, "ngo"]
    return [*inputs, ">", None]


WOMEN = household(("A", "30", "f"), ("B", "8", "f"), ("C", "60", "f"))
MIXED = household(("D", "40", "m"), ("E", "38", "f"))
ALONE = household(("F", "25", "m"))


async def fill(db: Database, survey: Survey) -> None:
    for n in range(3):
        await add_response(db, survey, 100 + n, WOMEN)
    for n in range(3):
        await add_response(db, survey, 200 + n, MIXED)
    for n in range(2):
        await add_response(db, survey, 300 + n, ALONE)


async def test_a_household_is_stored_round_by_round(db: Database, roster: Survey) -> None:
    await add_response(db, roster, 100, household(("A", "30", "f"), ("B", "8", "f"),
                                                  helpers=("Caritas", "Mairie")))
    rows = {row[0]: row[1] for row in await fetch_all(
        db, "SELECT question_id, value FROM answers")}
    assert rows == {
        "household_size": "2", "member[1]/member_name": "A", "member[1]/age": "30",
        "member[1]/sex": "f", "member[1]/works": "no", "member[2]/member_name": "B",
        "member[2]/age": "8", "member[2]/sex": "f", "total_age": "38", "people_counted": "2",
        "head": "A", "helper[1]/helper_name": "Caritas", "helper[1]/helper_kind": "ngo",
        "helper[2]/helper_name": "Mairie", "helper[2]/helper_kind": "ngo", "comment": None}
    async with transaction(db) as tx:
        await delete_participant(tx, 100)
    row = await fetch_one(db, "SELECT count(*) FROM answers")
    assert row is not None and tuple(row) == (0,)


async def test_figures_count_people_not_rounds(db: Database, roster: Survey) -> None:
    await fill(db, roster)
    figures = await figures_of(db, roster, NOW)
    assert figures.breakdowns["sex"] == {"f": 6, "m": 5}  # households with a woman, a man
    assert figures.reached["age"] == 8 and figures.reached["helper_name"] == 8


async def test_figures_count_rounds_when_the_survey_says_so(db: Database, tmp_path: Path,
                                                            roster: Survey) -> None:
    by_rounds = counting_rounds(tmp_path)
    await fill(db, by_rounds)
    figures = await figures_of(db, by_rounds, NOW)
    assert figures.breakdowns["sex"] == {"f": 12, "m": 5}  # people in the households


def counting_rounds(tmp_path: Path) -> Survey:
    text = (FORMS / "roster.yaml").read_text(encoding="utf-8").replace(
        "    text: {en: Person, fr: Personne}\n",
        "    text: {en: Person, fr: Personne}\n    figures: rounds\n")
    return survey_from(text, tmp_path)


async def test_a_summary_counts_people(db: Database, roster: Survey, catalogs: Catalogs) -> None:
    await fill(db, roster)
    summary = await build_summary(db, roster, NOW, k=2)
    caption = render_text(summary, roster, catalogs.get("en"))
    assert "How old is …?" in caption and "${" not in caption
    (sex,) = summary.breakdowns
    assert sex.kind is BlockKind.SELECTED and sex.respondents == 8
    assert {(c.id, c.count) for c in sex.categories} == {("f", 6), ("m", 5)}
    (age,) = summary.results
    assert age.kind is BlockKind.MEDIAN and age.respondents == 8
    assert age.value == pytest.approx(98 / 3)  # the median of each home's mean age


@SMALL_CELLS
async def test_a_summary_counting_rounds_protects_people_too(db: Database,
                                                             tmp_path: Path) -> None:
    by_rounds = counting_rounds(tmp_path)
    await fill(db, by_rounds)
    summary = await build_summary(db, by_rounds, NOW, k=2)
    (sex,) = summary.breakdowns
    assert sex.kind is BlockKind.SHARES and sex.respondents == 17  # every person
    assert {(c.id, c.count) for c in sex.categories} == {("f", 12), ("m", 5)}
    shown = await build_summary(db, by_rounds, NOW, k=5)  # 'f': 6 homes, 'm': 5
    assert [c.id for c in shown.breakdowns[0].categories] == ["f", "m"]
    assert "sex" in (await build_summary(db, by_rounds, NOW, k=7)).withheld  # 6 homes: too few


@SMALL_CELLS
async def test_one_household_of_many_men_is_not_shown_as_many(db: Database,
                                                              tmp_path: Path) -> None:
    by_rounds = counting_rounds(tmp_path)
    for n in range(5):
        await add_response(db, by_rounds, 500 + n, household(("W", "30", "f")))
    await add_response(db, by_rounds, 600, household(*[(f"M{n}", "30", "m") for n in range(5)]))
    summary = await build_summary(db, by_rounds, NOW, k=5)
    assert "sex" in summary.withheld  # 5 men, but from 1 household: withheld
    assert all(c.kind is not CategoryKind.CHOICE or c.id != "m"
               for block in summary.blocks for c in block.categories)


async def test_exports_give_rounds_their_own_tables(tmp_path: Path, roster: Survey) -> None:
    path = tmp_path / "bot.sqlite3"
    db = await connect(path)
    try:
        await fill(db, roster)
    finally:
        await db.close()
    for format in ("csv", "xlsx", "json"):
        out = tmp_path / f"export.{format}"
        result = write_export(path, out, roster, ExportOptions(format), SECRET, NOW)  # type: ignore[arg-type]
        assert result.rows == 8
    header = (tmp_path / "export.csv").read_text(encoding="utf-8-sig").splitlines()[0]
    assert "household_size" in header and "total_age" in header  # a calculation, as Kobo
    assert "age" not in header.split(",") and "member[" not in header
    with (tmp_path / "export.csv").open(encoding="utf-8-sig", newline="") as handle:
        first = next(csv.DictReader(handle))
    assert (first["household_size"], first["people_counted"]) == ("3", "3")  # computed, kept
    members = (tmp_path / "export.member.csv").read_text(encoding="utf-8-sig").splitlines()
    assert len(members) == 1 + 3 * 3 + 3 * 2 + 2 * 1  # a row per person
    data = json.loads((tmp_path / "export.json").read_text(encoding="utf-8"))
    assert set(data["responses"][0]["answers"]) >= {"household_size", "head", "comment",
                                                    "member", "helper"}
    notes = {e["question"]: e for e in data["codebook"] if e.get("repeat")}
    assert set(notes) == {"member_name", "age", "sex", "works", "helper_name", "helper_kind"}
    assert notes["age"]["stored_as"] == "member[n]/age" and notes["age"]["table"] == "member"
    book = openpyxl.load_workbook(tmp_path / "export.xlsx", read_only=True)
    assert book.sheetnames == ["responses", "member", "helper", "codebook"]
    codebook = list(book["codebook"].iter_rows(values_only=True))
    assert codebook[0][-1] == "note"
    assert any(row[0] == "age" and "'member'" in (row[-1] or "") for row in codebook)
    assert stored.count(path, "answers") > 8 * 3
