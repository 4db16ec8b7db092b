"""Figures and exports on a real database file filled the way the bot fills it."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import json
from collections.abc import AsyncIterator
from pathlib import Path

import openpyxl
import pytest
from bot.exports import ExportError, ExportOptions, write_export
from bot.figures import as_json, as_text
from bot.i18n import Catalogs
from bot.pseudonyms import participant_id
from bot.survey.model import Survey
from storage.db import Database, connect
from storage.stats import get_figures

from tests import stored
from tests.data import NO_PARTNER, PARTNER, START, add_event, add_response

SECRET = "s3cret-for-tests-only"
NOW = START + dt.timedelta(days=3)
IDS = (987654321, 987654322, 987654323, 987654324)


async def fill(db: Database, consultation: Survey) -> None:
    await add_response(db, consultation, IDS[0], PARTNER, source="radio")
    await add_response(db, consultation, IDS[1], NO_PARTNER, language="ar", minutes_per_answer=3)
    await add_response(db, consultation, IDS[2], PARTNER[:4], language="fr")  # still going
    await add_response(db, consultation, IDS[3], PARTNER[:2], started=START - dt.timedelta(days=30))
    await add_event(db, "declined")
    await add_event(db, "deleted", "fr")


@pytest.fixture
async def database(
    tmp_path: Path, consultation: Survey
) -> AsyncIterator[tuple[Path, Database]]:
    path = tmp_path / "bot.sqlite3"
    db = await connect(path)
    await fill(db, consultation)
    try:
        yield path, db
    finally:
        await db.close()


@pytest.fixture
async def filled(database_url: str, consultation: Survey) -> AsyncIterator[Database]:
    """The same database on each engine (the figures' SQL differs between them)."""
    db = await connect(database_url)
    await fill(db, consultation)
    try:
        yield db
    finally:
        await db.close()


async def test_figures(filled: Database, consultation: Survey, catalogs: Catalogs) -> None:
    db = filled
    figures = await get_figures(db, consultation.id, ["role", "residence"], NOW)
    assert (figures.started, figures.consented, figures.declined, figures.deleted) == (6, 4, 1, 1)
    assert (figures.completed, figures.in_progress, figures.stopped) == (2, 1, 1)
    assert figures.completion_rate == 0.5
    assert figures.median_seconds == pytest.approx((13 * 60 + 6 * 180) / 2)
    assert figures.by_language == {"en": 2, "ar": 1, "fr": 1}
    assert figures.by_source == {"radio": 1, "": 3}
    assert figures.breakdowns["role"] == {"migrant": 3, "civil_society": 1}
    assert figures.breakdowns["residence"] == {"DE": 3, "KE": 1}
    assert figures.reached["role"] == 4
    assert figures.reached["partnership"] == 3  # answered twice, waiting once
    assert figures.reached["levels"] == 1 + 1

    text = as_text(catalogs.get("fr"), consultation, figures, NOW)
    assert "Personne migrante" in text and "Allemagne" in text
    data = as_json(consultation, figures, NOW)
    assert data["responses"]["completed"] == 2
    assert [f["question"] for f in data["funnel"]][:2] == ["role", "role_other"]
    json.dumps(data)


async def test_figures_count_only_their_survey_when_another_shares_the_database(
    filled: Database, consultation: Survey
) -> None:
    db = filled
    alone = await get_figures(db, consultation.id, ["role", "residence"], NOW)
    other = dataclasses.replace(consultation, id="another-consultation")
    for n in range(3):  # the same question ids, answered in another survey
        await add_response(db, other, 555000 + n, PARTNER, language="es")
    shared = await get_figures(db, consultation.id, ["role", "residence"], NOW)
    assert shared.breakdowns == alone.breakdowns
    assert shared.reached == alone.reached
    assert shared.by_language == alone.by_language
    assert (shared.completed, shared.in_progress, shared.stopped) == (2, 1, 1)
    assert shared.median_seconds == alone.median_seconds
    theirs = await get_figures(db, other.id, ["role"], NOW)
    assert theirs.completed == 3 and theirs.breakdowns["role"] == {"migrant": 3}


def export(path: Path, survey: Survey, out: Path, **options: object) -> list[list[str]]:
    result = write_export(path, out, survey, ExportOptions(**options), SECRET, NOW)  # type: ignore[arg-type]
    assert result.bytes == out.stat().st_size
    if out.suffix == ".csv":
        raw = out.read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf")  # a BOM, so Excel reads Arabic right
        return list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    return []


async def test_csv_export_one_row_per_response(
    database: tuple[Path, Database], consultation: Survey, tmp_path: Path
) -> None:
    path, _ = database
    rows = export(path, consultation, tmp_path / "out.csv", format="csv")
    header, body = rows[0], rows[1:]
    assert header[:9] == ["participant", "response_id", "survey_id", "survey_version",
                          "language", "status", "started_at", "completed_at", "source"]
    assert "levels" in header and "levels/local" in header and "levels/global" in header
    assert header.index("role") < header.index("residence") < header.index("good_practice")
    assert "partnership_intro" not in header  # notes are not columns
    assert len(body) == 4
    first = dict(zip(header, body[0], strict=True))
    assert first["participant"] == participant_id(SECRET, IDS[0])
    assert first["status"] == "completed" and first["source"] == "radio"
    assert first["started_at"] == "2026-11-01T09:00:00Z"
    assert first["levels"] == "local regional"
    assert (first["levels/local"], first["levels/national"]) == ("1", "0")
    assert first["origin"] == "" and first["would_help"] == ""
    statuses = [dict(zip(header, row, strict=True))["status"] for row in body]
    assert statuses == ["completed", "completed", "in_progress", "stopped"]
    second = dict(zip(header, body[1], strict=True))
    assert second["levels/local"] == ""  # not asked: empty, not 0
    only_done = export(path, consultation, tmp_path / "done.csv", format="csv", completed_only=True)
    assert len(only_done) == 3


async def test_no_export_contains_a_telegram_user_id(
    database: tuple[Path, Database], consultation: Survey, tmp_path: Path
) -> None:
    path, _ = database
    for fmt in ("csv", "json", "xlsx"):
        out = tmp_path / f"all.{fmt}"
        export(path, consultation, out, format=fmt)
        export(path, consultation, tmp_path / f"labels.{fmt}", format=fmt, labels="ar")
        for file in (out, tmp_path / f"labels.{fmt}"):
            content = file.read_bytes()
            if fmt == "xlsx":
                import zipfile

                with zipfile.ZipFile(file) as book:
                    content = b"".join(book.read(name) for name in book.namelist())
            for user_id in IDS:
                assert str(user_id).encode() not in content, (file, user_id)


async def test_labels_give_a_column_of_choice_labels_and_texts_in_the_codebook(
    database: tuple[Path, Database], consultation: Survey, tmp_path: Path
) -> None:
    path, _ = database
    rows = export(path, consultation, tmp_path / "fr.csv", format="csv", labels="fr")
    header, first = rows[0], rows[1]  # one header row: the second row is data
    assert first[0] == participant_id(SECRET, IDS[0])
    assert header.index("role:label") == header.index("role") + 1
    assert header.index("levels:label") == header.index("levels") + 1 < header.index(
        "levels/local")
    record = dict(zip(header, first, strict=True))
    assert (record["role"], record["role:label"]) == ("migrant", "Personne migrante")
    assert (record["residence"], record["residence:label"]) == ("DE", "Allemagne")
    assert record["levels"] == "local regional"
    assert record["levels:label"].count("; ") == 1
    with (tmp_path / "fr.codebook.csv").open(encoding="utf-8-sig", newline="") as handle:
        codebook = list(csv.DictReader(handle))
    role = next(r for r in codebook if r["question"] == "role" and not r["choice"])
    assert role["text:fr"] == consultation.by_id["role"].text.get("fr")
    assert role["column"] == "role"
    assert {r["choice"]: r["column"] for r in codebook if r["question"] == "levels"
            and r["choice"]}["local"] == "levels/local"
    with pytest.raises(ExportError, match="--labels de"):
        export(path, consultation, tmp_path / "de.csv", format="csv", labels="de")


async def test_xlsx_has_real_dates_and_a_codebook(
    database: tuple[Path, Database], consultation: Survey, tmp_path: Path
) -> None:
    path, _ = database
    out = tmp_path / "out.xlsx"
    export(path, consultation, out, format="xlsx", labels="ar")
    book = openpyxl.load_workbook(out, read_only=True)
    assert book.sheetnames == ["responses", "codebook"]
    rows = list(book["responses"].iter_rows(values_only=True))
    header = list(rows[0])
    record = dict(zip(header, rows[1], strict=True))
    assert record["started_at"] == dt.datetime(2026, 11, 1, 9, 0)
    assert record["inclusiveness"] == 4 and record["started"] == 2015
    assert record["role"] == "migrant"
    assert record["role:label"] == consultation.by_id["role"].choices[0].label.get("ar")
    codebook = list(book["codebook"].iter_rows(values_only=True))
    assert codebook[0][:4] == ("question", "type", "choice", "text:en")
    questions = [row[0] for row in codebook[1:] if row[2] in (None, "")]
    assert questions[:2] == ["role", "role_other"]
    assert any(row[2] == "DE" for row in codebook[1:])


async def test_json_export(
    database: tuple[Path, Database], consultation: Survey, tmp_path: Path
) -> None:
    path, _ = database
    out = tmp_path / "out.json"
    export(path, consultation, out, format="json")
    data = json.loads(out.read_text("utf-8"))
    assert data["survey"]["id"] == consultation.id
    assert [entry["question"] for entry in data["codebook"]][:2] == ["role", "role_other"]
    first = data["responses"][0]
    assert first["participant"] == participant_id(SECRET, IDS[0])
    assert first["answers"]["levels"] == ["local", "regional"]
    assert first["answers"]["inclusiveness"] == 4


async def test_irrelevant_and_removed_questions(
    database: tuple[Path, Database], consultation: Survey, tmp_path: Path
) -> None:
    path, _ = database
    # a stale answer to a question that is not relevant for this response, and one to a
    # question that is no longer in the survey file
    stored.write(path, "INSERT INTO answers VALUES (2, 'levels', 'global', '1', "
                 "'2026-11-01T09:30:00Z')")
    stored.write(path, "INSERT INTO answers VALUES (1, 'old_question', 'kept', '0', "
                 "'2026-10-01T09:30:00Z')")
    rows = export(path, consultation, tmp_path / "out.csv", format="csv", labels="en")
    header, body = rows[0], rows[1:]
    records = [dict(zip(header, row, strict=True)) for row in body]
    assert records[1]["levels"] == ""  # the person said they had no partnership
    assert header[-1] == "old_question"
    assert records[0]["old_question"] == "kept"
    with (tmp_path / "out.codebook.csv").open(encoding="utf-8-sig", newline="") as handle:
        last = list(csv.DictReader(handle))[-1]
    assert (last["question"], last["in_current_version"], last["column"]) == (
        "old_question", "no", "old_question")


async def test_since_and_unknown_surveys(
    database: tuple[Path, Database], consultation: Survey, tmp_path: Path
) -> None:
    path, _ = database
    recent = export(path, consultation, tmp_path / "recent.csv", format="csv",
                    since=START - dt.timedelta(days=1))
    assert len(recent) == 4  # the one that stopped a month ago is left out
    with pytest.raises(ExportError, match="no responses to a survey with id 'nope'"):
        export(path, consultation, tmp_path / "x.csv", format="csv", survey_id="nope")
    with pytest.raises(ExportError, match="cannot write"):
        export(path, consultation, Path("/proc/consultbot/out.csv"), format="csv")
