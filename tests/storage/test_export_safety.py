"""What an export must not do: run participants' text as formulas, link files, reveal ids."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from bot import pseudonyms
from bot.exports import ExportOptions, neutralized, write_export
from bot.survey.loader import load_survey
from bot.survey.model import Survey
from storage.db import connect

from tests import stored
from tests.data import START, add_response

SECRET = "another-secret-for-tests"
NOW = START + dt.timedelta(days=1)
SURVEY = """\
id: safety
version: 1
default_language: en
languages: [en]
title: {en: Safety}
introduction: {en: A test.}
consent:
  notice: {en: Notice}
  details: {en: Details}
questions:
  - {id: story, type: text, text: {en: "Your story?"}}
  - {id: count, type: integer, text: {en: "How many?"}}
  - {id: amount, type: decimal, text: {en: "How much?"}}
  - id: pick
    type: select_one
    text: {en: "Pick one"}
    choices:
      - {id: a, label: {en: "=1+1"}}
      - {id: b, label: {en: "@SUM(A1)"}}
  - id: many
    type: select_multiple
    text: {en: "=Pick several"}
    choices:
      - {id: a, label: {en: "+cmd|' /C calc'!A0"}}
      - {id: b, label: {en: "Plain"}}
  - {id: picture, type: photo, text: {en: "A photo?"}}
"""
FORMULAS = ['=HYPERLINK("http://x","click")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)"]
PICTURE = "media/0123456789abcdef0123456789abcdef.png"
USERS = (612345001, 612345002, 612345003, 612345004, 612345005, 612345006)


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[tuple[Path, Survey]]:
    source = tmp_path / "safety.yaml"
    source.write_text(SURVEY, encoding="utf-8")
    survey, _ = load_survey(source)
    path = tmp_path / "bot.sqlite3"
    db = await connect(path)
    try:
        await add_response(db, survey, USERS[0], [FORMULAS[0], "-2", "-3.5", "a", "a b", PICTURE],
                           source="@evil")
        for user, story in zip(USERS[1:4], FORMULAS[1:], strict=True):
            await add_response(db, survey, user, [story, "3", "2.5", "b", "b", None])
        for user in USERS[4:]:
            await add_response(db, survey, user, ["placeholder"])
    finally:
        await db.close()
    for user, text in zip(USERS[4:], ("\t=1+1", "\r=1+1"), strict=True):  # text the engine
        stored.write(path, "UPDATE answers SET value = ? WHERE question_id = 'story' "  # trims
                     "AND response_id = (SELECT id FROM responses WHERE participant_id = ?)",
                     text, user)
    return path, survey


def export(path: Path, survey: Survey, out: Path, **options: Any) -> Path:
    write_export(path, out, survey, ExportOptions(**options), SECRET, NOW)
    return out


def read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


def records(rows: list[list[str]], skip: int = 1) -> list[dict[str, str]]:
    return [dict(zip(rows[0], row, strict=True)) for row in rows[skip:]]


@pytest.mark.parametrize(
    ("text", "cell"),
    [
        ('=HYPERLINK("http://x","click")', '\'=HYPERLINK("http://x","click")'),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("-", "'-"),
        ("-2", "-2"),
        ("-3.5", "-3.5"),
        ("+4", "+4"),
        ("a = b", "a = b"),
        ("", ""),
    ],
)
def test_a_text_cell_that_starts_like_a_formula_gets_a_quote(text: str, cell: str) -> None:
    assert neutralized(text) == cell


async def test_csv_never_carries_a_formula(
    database: tuple[Path, Survey], tmp_path: Path
) -> None:
    path, survey = database
    out = export(path, survey, tmp_path / "out.csv", format="csv")
    rows = read_csv(out)
    assert rows[0][:9] == ["participant", "response_id", "survey_id", "survey_version",
                           "language", "status", "started_at", "completed_at", "source"]
    found = records(rows)
    assert [r["story"] for r in found] == [
        "'" + text for text in [*FORMULAS, "\t=1+1", "\r=1+1"]]
    assert (found[0]["count"], found[0]["amount"]) == ("-2", "-3.5")  # numbers stay numbers
    assert found[0]["source"] == "'@evil"
    assert found[0]["picture"] == PICTURE

    labelled = export(path, survey, tmp_path / "labels.csv", format="csv", labels="en")
    first, second = records(read_csv(labelled))[:2]
    assert (first["pick"], first["pick:label"]) == ("a", "'=1+1")
    assert second["pick:label"] == "'@SUM(A1)"
    assert first["many:label"] == "'+cmd|' /C calc'!A0; Plain" and second["many:label"] == "Plain"
    assert (first["many/a"], first["many/b"]) == ("1", "1")
    assert first["story"] == "'" + FORMULAS[0]
    codebook = records(read_csv(tmp_path / "labels.codebook.csv"))
    many = next(r for r in codebook if r["question"] == "many" and not r["choice"])
    assert many["text:en"] == "'=Pick several"
    assert [r["text:en"] for r in codebook if r["question"] == "many" and r["choice"]] == [
        "'+cmd|' /C calc'!A0", "Plain"]


async def test_xlsx_writes_text_as_text_and_files_as_names(
    database: tuple[Path, Survey], tmp_path: Path
) -> None:
    path, survey = database
    out = export(path, survey, tmp_path / "out.xlsx", format="xlsx", labels="en")
    book = openpyxl.load_workbook(out)
    sheet = book["responses"]
    header = [cell.value for cell in sheet[1]]
    row = {name: cell for name, cell in zip(header, sheet[2], strict=True)}
    story = row["story"]
    assert (story.value, story.data_type, story.quotePrefix) == (FORMULAS[0], "s", True)
    assert (row["pick:label"].value, row["pick:label"].data_type) == ("=1+1", "s")
    assert row["pick:label"].quotePrefix and row["pick"].value == "a"
    assert (row["source"].value, row["source"].data_type) == ("@evil", "s")
    assert (row["count"].value, row["amount"].value) == (-2, -3.5)
    picture = row["picture"]
    assert (picture.value, picture.data_type, picture.hyperlink) == (PICTURE, "s", None)
    assert not sheet._hyperlinks
    stories = [sheet.cell(row=r, column=header.index("story") + 1) for r in range(2, 8)]
    assert all(c.data_type == "s" for c in stories)
    assert [c.value for c in stories][:4] == FORMULAS
    codebook = book["codebook"]
    for text in ("=1+1", "=Pick several"):
        written = [c for line in codebook.iter_rows() for c in line if c.value == text]
        assert written and all(c.data_type == "s" and c.quotePrefix for c in written)
    assert not any(c.data_type == "f" for ws in book for line in ws.iter_rows() for c in line)


async def test_json_keeps_answers_verbatim(
    database: tuple[Path, Survey], tmp_path: Path
) -> None:
    path, survey = database
    out = export(path, survey, tmp_path / "out.json", format="json", labels="en")
    responses = json.loads(out.read_text("utf-8"))["responses"]
    assert [r["answers"]["story"] for r in responses] == [*FORMULAS, "\t=1+1", "\r=1+1"]
    assert responses[0]["answers"]["pick"] == "=1+1" and responses[0]["source"] == "@evil"
    assert responses[0]["answers"]["count"] == -2


async def test_response_ids_are_keyed_codes_no_log_line_shares(
    database: tuple[Path, Survey], tmp_path: Path
) -> None:
    path, survey = database
    response_ids = dict(stored.rows(path, "SELECT participant_id, id FROM responses"))
    expected = [(pseudonyms.participant_id(SECRET, user),
                 pseudonyms.response_id(SECRET, response_ids[user])) for user in USERS]
    rows = read_csv(export(path, survey, tmp_path / "out.csv", format="csv"))
    assert [(r["participant"], r["response_id"]) for r in records(rows)] == expected
    responses = json.loads(export(path, survey, tmp_path / "out.json", format="json")
                           .read_text("utf-8"))["responses"]
    assert [(r["participant"], r["response_id"]) for r in responses] == expected
    book = openpyxl.load_workbook(export(path, survey, tmp_path / "out.xlsx", format="xlsx"),
                                  read_only=True)
    try:
        rows_xlsx = book["responses"].iter_rows(min_row=2, values_only=True)
        assert [tuple(r[:2]) for r in rows_xlsx] == expected
    finally:
        book.close()
    logged = {pseudonyms.log_id(SECRET, user) for user in USERS}
    codes = {code for pair in expected for code in pair}
    assert not any(code.startswith(log) or log.startswith(code)
                   for code in codes for log in logged)
    assert not {str(number) for number in response_ids.values()} & codes
