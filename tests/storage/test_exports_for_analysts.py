"""Exports for statistics programs, re-read the way analysts read them: SPSS and Stata files
with pyreadstat, CSV with pandas' defaults, Kobo-style column names, the codebook beside."""

from __future__ import annotations

import csv
import datetime as dt
import math
import textwrap
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pyreadstat
import pytest
from bot.exports import ExportError, ExportOptions, write_export
from bot.exports.options import single_file_name
from bot.pseudonyms import participant_id, response_id
from bot.survey.loader import load_survey
from bot.survey.model import Survey
from storage.db import connect

from tests import stored
from tests.data import NO_PARTNER, PARTNER, START, add_response

SECRET = "analysts-secret-for-tests"
NOW = START + dt.timedelta(days=3)
IDS = (700000001, 700000002, 700000003)

FORM = """\
| settings |
|          | form_title | default_language |
|          | Household  | English (en)     |
| survey |
|        | type                 | name     | label::English (en)  | label::French (fr)      |
|        | begin_group          | hh       | Household            | Ménage                  |
|        | integer              | size     | How many people?     | Combien de personnes ?  |
|        | begin_group          | water    | Water                | Eau                     |
|        | select_multiple src  | sources  | Water sources?       | Sources d'eau ?         |
|        | decimal              | litres   | Litres a day?        | Litres par jour ?       |
|        | end_group            |          |                      |                         |
|        | end_group            |          |                      |                         |
|        | select_one yn        | toilet   | A toilet?            | Des toilettes ?         |
|        | date                 | visit    | Day of the visit?    | Jour de la visite ?     |
| choices |
|         | list_name | name  | label::English (en) | label::French (fr) |
|         | src       | well  | Well                | Puits              |
|         | src       | tap   | Tap                 | Robinet            |
|         | src       | river | River               | Rivière            |
|         | yn        | 1     | Yes                 | Oui                |
|         | yn        | 0     | No                  | Non                |
"""
ANSWERS = (["4", "well tap", "12.5", "1", "2026-10-30"],
           ["2", "river", "3", "0", "2026-10-31"],
           ["6", None, "0.75", "1", None])


@pytest.fixture
async def consultation_db(tmp_path: Path, consultation: Survey) -> AsyncIterator[Path]:
    path = tmp_path / "bot.sqlite3"
    db = await connect(path)
    try:
        await add_response(db, consultation, IDS[0], PARTNER, source="radio")
        await add_response(db, consultation, IDS[1], NO_PARTNER, language="fr")
        await add_response(db, consultation, IDS[2], PARTNER[:4], language="ar")
    finally:
        await db.close()
    yield path


@pytest.fixture
async def household(tmp_path: Path) -> AsyncIterator[tuple[Path, Survey]]:
    form = tmp_path / "household.md"
    form.write_text(textwrap.dedent(FORM), encoding="utf-8")
    survey, _ = load_survey(form)
    path = tmp_path / "household.sqlite3"
    db = await connect(path)
    try:
        for number, answers in enumerate(ANSWERS):
            await add_response(db, survey, IDS[number], answers)
    finally:
        await db.close()
    yield path, survey


def export(database: Path, survey: Survey, out: Path, **options: Any) -> Path:
    result = write_export(database, out, survey, ExportOptions(**options), SECRET, NOW)
    assert result.path == out and result.files[0] == out
    return out


def codebook(path: Path, delimiter: str = ",") -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle, delimiter=delimiter))


# --- SPSS and Stata ------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["sav", "dta"])
async def test_spss_and_stata_files_carry_variable_and_value_labels(
    consultation_db: Path, consultation: Survey, tmp_path: Path, fmt: str
) -> None:
    out = export(consultation_db, consultation, tmp_path / f"out.{fmt}", format=fmt,
                 labels="fr")
    read = pyreadstat.read_sav if fmt == "sav" else pyreadstat.read_dta
    frame, meta = read(str(out))
    assert len(frame) == 3
    role = consultation.by_id["role"]
    first = frame.iloc[0]
    assert first["participant"] == participant_id(SECRET, IDS[0])
    assert first["source"] == "radio" and first["status"] == "completed"
    assert first["started_at"] == dt.datetime(2026, 11, 1, 9, 0)
    assert pd.isna(frame.iloc[2]["completed_at"]) and frame.iloc[2]["status"] == "in_progress"
    labels = meta.column_names_to_labels
    limit = 80 if fmt == "dta" else 128
    assert labels["role"] == role.text.get("fr")[:limit]
    assert meta.variable_value_labels["role"] == {
        float(n): c.label.get("fr") for n, c in enumerate(role.choices, start=1)}
    assert first["role"] == 1 + [c.id for c in role.choices].index("migrant")
    assert first["inclusiveness"] == 4 and first["started"] == 2015
    assert (first["levels_local"], first["levels_national"]) == (1, 0)
    levels = consultation.by_id["levels"]
    whole = f"{levels.text.get('fr')}: {levels.choices[0].label.get('fr')}"
    assert whole.startswith(labels["levels_local"].removesuffix("…"))
    assert "levels" not in frame.columns  # a multi-select is its 0/1 variables
    second = frame.iloc[1]
    assert math.isnan(second["levels_local"])  # not asked: missing, not 0
    entries = codebook(tmp_path / "out.codebook.csv")
    rows = [e for e in entries if e["question"] == "role" and e["choice"]]
    assert [(e["choice"], e["value"]) for e in rows][:2] == [
        (role.choices[0].id, "1"), (role.choices[1].id, "2")]
    assert next(e for e in entries if e["choice"] == "local")["column"] == "levels_local"


async def test_numeric_choice_names_keep_their_numbers_and_dates_are_dates(
    household: tuple[Path, Survey], tmp_path: Path
) -> None:
    database, survey = household
    for fmt in ("sav", "dta"):
        out = export(database, survey, tmp_path / f"hh.{fmt}", format=fmt)
        read = pyreadstat.read_sav if fmt == "sav" else pyreadstat.read_dta
        frame, meta = read(str(out))
        assert meta.variable_value_labels["toilet"] == {1: "Yes", 0: "No"}
        assert list(frame["toilet"]) == [1, 0, 1]
        assert list(frame["litres"]) == [12.5, 3, 0.75]
        assert frame["visit"][0] == dt.date(2026, 10, 30)
        assert meta.column_names_to_labels["size"] == "How many people?"
        assert list(frame["sources_tap"])[:2] == [1, 0]


async def test_labels_too_long_for_stata_are_cut_and_names_made_valid(
    tmp_path: Path
) -> None:
    long_text = "A question whose text is far longer than Stata lets a variable label be, " * 4
    form = tmp_path / "long.md"
    form.write_text(textwrap.dedent(f"""\
        | survey |
        |        | type    | name       | label |
        |        | text    | _private   | {long_text} |
        |        | integer | with       | How many? |
        |        | text    | a-b.c      | Dashes |
        """), encoding="utf-8")
    survey, _ = load_survey(form)
    database = tmp_path / "long.sqlite3"
    db = await connect(database)
    try:
        await add_response(db, survey, IDS[0], ["x", "3", "y"])
    finally:
        await db.close()
    frame, meta = pyreadstat.read_dta(str(export(database, survey, tmp_path / "l.dta",
                                                 format="dta")))
    assert list(frame.columns)[9:] == ["private", "with_", "a_b_c"]
    label = meta.column_names_to_labels["private"]
    assert len(label) == 80 and label.endswith("…")
    frame, meta = pyreadstat.read_sav(str(export(database, survey, tmp_path / "l.sav",
                                                 format="sav")))
    assert list(frame.columns)[9:] == ["private", "with_", "a_b_c"]
    assert meta.column_names_to_labels["private"].endswith("…")


# --- CSV as pandas, R and European Excel read it -----------------------------------------


async def test_pandas_reads_the_csv_with_its_defaults(
    consultation_db: Path, consultation: Survey, tmp_path: Path
) -> None:
    out = export(consultation_db, consultation, tmp_path / "out.csv", format="csv",
                 labels="fr")
    frame = pd.read_csv(out)
    assert list(frame.columns)[0] == "participant"  # the byte-order mark is not in the name
    assert len(frame) == 3 and frame["participant"][0] == participant_id(SECRET, IDS[0])
    assert frame["inclusiveness"].dtype.kind in "if" and frame["inclusiveness"][0] == 4
    assert frame["role:label"][0] == "Personne migrante"
    book = pd.read_csv(tmp_path / "out.codebook.csv")
    assert "question" in book.columns and "text:fr" in book.columns


async def test_semicolons_and_decimal_commas_for_european_excel(
    household: tuple[Path, Survey], tmp_path: Path
) -> None:
    database, survey = household
    out = export(database, survey, tmp_path / "hh.csv", format="csv", delimiter=";")
    raw = out.read_text("utf-8-sig")
    assert raw.splitlines()[0].startswith("participant;response_id;")
    frame = pd.read_csv(out, sep=";", decimal=",")  # R: read.csv2 with its defaults
    assert list(frame["litres"]) == [12.5, 3, 0.75]
    assert list(frame["visit"])[:2] == ["2026-10-30", "2026-10-31"]  # ISO dates
    assert codebook(tmp_path / "hh.codebook.csv", ";")[0]["question"] == "size"
    with pytest.raises(ExportError, match="--delimiter is for CSV only"):
        export(database, survey, tmp_path / "hh.xlsx", format="xlsx", delimiter=";")
    with pytest.raises(ExportError, match="--delimiter '|'"):
        export(database, survey, tmp_path / "hh2.csv", format="csv", delimiter="|")


@pytest.mark.parametrize("fmt", ["csv", "sav", "dta", "xlsx", "json"])
async def test_a_zip_holds_the_data_and_its_codebook(
    household: tuple[Path, Survey], tmp_path: Path, fmt: str
) -> None:
    database, survey = household
    name = single_file_name("household-20261104", fmt)  # type: ignore[arg-type]
    out = export(database, survey, tmp_path / "out" / name, format=fmt)
    assert list(out.parent.iterdir()) == [out]  # nothing else left beside it
    if fmt in ("xlsx", "json"):
        assert name == f"household-20261104.{fmt}"
        return
    assert name == f"household-20261104-{fmt}.zip"
    with zipfile.ZipFile(out) as bundle:
        assert sorted(bundle.namelist()) == sorted([f"responses.{fmt}", "codebook.csv"])


# --- Kobo's column names -------------------------------------------------------------------


async def test_kobo_names_follow_the_groups_and_choices(
    household: tuple[Path, Survey], tmp_path: Path
) -> None:
    database, survey = household
    out = export(database, survey, tmp_path / "kobo.csv", format="csv", kobo_names=True)
    rows = list(csv.DictReader(out.read_text("utf-8-sig").splitlines()))
    header = list(rows[0])
    assert header[:9] == ["participant", "_uuid", "survey_id", "__version__", "language",
                          "status", "started_at", "_submission_time", "source"]
    assert header[9:] == ["hh/size", "hh/water/sources", "hh/water/sources/well",
                          "hh/water/sources/tap", "hh/water/sources/river", "hh/water/litres",
                          "toilet", "visit", "_index"]
    response_ids = [row[0] for row in stored.rows(database, "SELECT id FROM responses "
                                                  "ORDER BY id")]
    assert [r["_uuid"] for r in rows] == [response_id(SECRET, n) for n in response_ids]
    assert [r["_index"] for r in rows] == ["1", "2", "3"]
    assert (rows[0]["hh/water/sources"], rows[0]["hh/water/sources/tap"]) == ("well tap", "1")
    assert rows[2]["hh/water/sources/tap"] == ""  # skipped: empty, not 0

    book = openpyxl.load_workbook(export(database, survey, tmp_path / "kobo.xlsx",
                                         format="xlsx", kobo_names=True), read_only=True)
    header_xlsx = next(book["responses"].iter_rows(max_row=1, values_only=True))
    assert list(header_xlsx) == header
    frame, _ = pyreadstat.read_sav(str(export(database, survey, tmp_path / "kobo.sav",
                                              format="sav", kobo_names=True)))
    assert {"uuid", "version__", "hh_water_sources_tap", "index"} <= set(frame.columns)


async def test_yaml_surveys_keep_their_ids_under_kobo_names(
    consultation_db: Path, consultation: Survey, tmp_path: Path
) -> None:
    out = export(consultation_db, consultation, tmp_path / "k.csv", format="csv",
                 kobo_names=True)
    header = next(csv.reader(out.read_text("utf-8-sig").splitlines()))
    assert "levels/local" in header and "role" in header and header[-1] == "_index"
