"""Export and figures on a large database: time, peak memory, file size.

Builds a database of RESPONSES responses to the built-in consultation, 12
answers each (about 1.2 million answers at the default 100,000), shaped like the
bot's own rows (a partnership path through the survey, with realistic spread of
choices, languages, sources and completion). Then, each in a fresh process:

* ``consultbot export --format csv|xlsx|json|sav|dta`` (the real command line),
* the floor: the ``sqlite3`` command-line shell writing the same join
  (responses × answers) as CSV,
* ``consultbot stats --json``, and the SQL of the figures timed in-process.

Peak memory is the process's maximum resident set size (see bench/measure.py).

With ``--roster``, the survey is instead the household XLSForm of
bench/repeats.py (a roster of 8 people × 15 questions, most with a condition)
and the database holds RESPONSES (default 10,000) completed households of 8
people, walked through the engine (a few hundred households walked, then
repeated with other names); each format is exported by the command line, a
table per repeat (the XLSX sheet, the CSV, SAV and DTA files of the roster).

    python bench/exports.py [--responses 100000] [--keep DIR] [--json out.json]
    python bench/exports.py --roster [--responses 10000] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import random
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.measure import measure  # noqa: E402
from bench.repeats import write_form  # noqa: E402
from bot.survey import engine  # noqa: E402
from bot.survey.loader import BUILTIN_SURVEY, load_survey  # noqa: E402
from bot.survey.model import QuestionType, Survey  # noqa: E402
from storage.db import connect  # noqa: E402
from storage.stats import get_figures  # noqa: E402

COUNTRIES = ["DE", "FR", "SN", "MA", "SY", "AF", "KE", "NG", "PH", "MX", "CO", "IT", "ES", "TR"]
LANGUAGES = ["en", "fr", "es", "ar"]
SOURCES = [None, "radio_fr", "flyer_lyon", "whatsapp", "ngo_partner"]
STAMP = "%Y-%m-%dT%H:%M:%SZ"


def build(path: Path, responses: int, seed: int = 7) -> None:
    """Create the schema with the bot's own migrations, then bulk-insert rows."""

    async def schema() -> None:
        db = await connect(path)
        await db.close()

    asyncio.run(schema())
    survey, _ = load_survey(BUILTIN_SURVEY)
    rng = random.Random(seed)
    multi = {q.id: [c.id for c in q.choices] for q in survey.questions
             if q.type.value == "select_multiple"}
    roles = [c.id for c in survey.by_id["role"].choices]
    start = dt.datetime(2026, 9, 1, tzinfo=dt.UTC)
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA synchronous=OFF")
    participants, rows, answers = [], [], []
    for n in range(1, responses + 1):
        user = 100_000_000 + n * 7
        language = rng.choice(LANGUAGES)
        source = rng.choice(SOURCES)
        began = start + dt.timedelta(seconds=rng.randrange(0, 80 * 86400))
        done = rng.random() < 0.7
        ended = began + dt.timedelta(seconds=rng.randrange(180, 1800))
        participants.append((user, language, "consented", source, began.strftime(STAMP),
                             began.strftime(STAMP), ended.strftime(STAMP)))
        rows.append((n, user, survey.id, survey.version, language, source,
                     began.strftime(STAMP), ended.strftime(STAMP),
                     ended.strftime(STAMP) if done else None, None if done else "difficulties"))
        values = {
            "role": rng.choice(roles), "residence": rng.choice(COUNTRIES),
            "origin": rng.choice(COUNTRIES), "partnership": "yes",
            "levels": " ".join(sorted(rng.sample(multi["levels"], 2))),
            "actors": " ".join(sorted(rng.sample(multi["actors"], 3))),
            "issues": " ".join(sorted(rng.sample(multi["issues"], 2))),
            "domains": rng.choice(multi["domains"]),
            "inclusiveness": str(rng.randint(1, 5)), "effectiveness": str(rng.randint(1, 5)),
            "started": str(rng.randint(1990, 2025)),
            "difficulties": rng.choice(multi["difficulties"][:-1]),
        }
        for question, value in values.items():
            answers.append((n, question, value, survey.version, ended.strftime(STAMP)))
        if len(answers) > 200_000:
            _flush(connection, participants, rows, answers)
    _flush(connection, participants, rows, answers)
    connection.execute("INSERT INTO settings VALUES ('pseudonym_secret', 'bench-secret-0000')")
    connection.commit()
    connection.close()


def _flush(connection: sqlite3.Connection, participants: list[Any], rows: list[Any],
           answers: list[Any]) -> None:
    connection.executemany(
        "INSERT INTO participants (id, language, status, source, created_at, consented_at, "
        "last_seen_at) VALUES (?, ?, ?, ?, ?, ?, ?)", participants)
    connection.executemany(
        "INSERT INTO responses (id, participant_id, survey_id, survey_version, language, "
        "source, started_at, updated_at, completed_at, current) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    connection.executemany("INSERT INTO answers VALUES (?, ?, ?, ?, ?)", answers)
    connection.commit()
    participants.clear()
    rows.clear()
    answers.clear()


def household(survey: Survey, rng: random.Random) -> dict[str, str | None]:
    """The stored answers of one household of 8, walked through the engine."""
    step = engine.start(survey, ROSTER_NOW)
    while step.progress.current is not None:
        slot = engine.current_slot(survey, step.progress)
        question = slot.question
        if question is None:
            step = engine.go_on(survey, step.progress, ROSTER_NOW)
            continue
        name = question.id
        ids = [c.id for c in question.choices]
        if name == "household_size":
            raw = str(ROSTER_PEOPLE)
        elif name == "age":
            raw = str(rng.choice([38, 35, 16, 12, 9, 67, 22, 4, 71, 1, 45, 19]))
        elif question.type is QuestionType.SELECT_MULTIPLE:
            raw = " ".join(sorted(rng.sample(ids[:-1], rng.randint(1, 3))))
        elif question.type is QuestionType.SELECT_ONE:
            raw = rng.choice(ids)
        elif question.type is QuestionType.INTEGER:
            raw = str(rng.randint(1, 12))
        elif question.type is QuestionType.DECIMAL:
            raw = f"{rng.randint(0, 90000) / 100}"
        elif question.type is QuestionType.DATE:
            raw = (dt.date(2015, 1, 1) + dt.timedelta(days=rng.randrange(3000))).isoformat()
        elif name == "member_name":
            raw = "Person"
        else:
            raw = rng.choice(["a few words", "farming", "driver", "=1+1", "nurse"])
        step = engine.answer(survey, step.progress, raw, ROSTER_NOW)
    return dict(step.progress.answers)


def build_roster(path: Path, survey: Survey, responses: int, seed: int = 11) -> None:
    """The schema, then ``responses`` completed households (``_TEMPLATES`` walked through
    the engine, each used again with other names)."""

    async def schema() -> None:
        db = await connect(path)
        await db.close()

    asyncio.run(schema())
    rng = random.Random(seed)
    templates = [household(survey, rng) for _ in range(min(_TEMPLATES, responses))]
    start = dt.datetime(2026, 9, 1, tzinfo=dt.UTC)
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA synchronous=OFF")
    participants, rows, answers = [], [], []
    for n in range(1, responses + 1):
        user = 100_000_000 + n * 7
        language = "en"
        began = start + dt.timedelta(seconds=rng.randrange(0, 80 * 86400))
        ended = (began + dt.timedelta(seconds=rng.randrange(600, 3600))).strftime(STAMP)
        participants.append((user, language, "consented", None, began.strftime(STAMP),
                             began.strftime(STAMP), ended))
        rows.append((n, user, survey.id, survey.version, language, None,
                     began.strftime(STAMP), ended, ended, None))
        for key, value in templates[n % len(templates)].items():
            if key.endswith("/member_name"):
                value = f"{NAMES[rng.randrange(len(NAMES))]} {n}"
            answers.append((n, key, value, survey.version, ended))
        if len(answers) > 200_000:
            _flush(connection, participants, rows, answers)
    _flush(connection, participants, rows, answers)
    connection.execute("INSERT INTO settings VALUES ('pseudonym_secret', 'bench-secret-0000')")
    connection.commit()
    connection.close()


ROSTER_NOW = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)
ROSTER_PEOPLE = 8
NAMES = ["Amina", "Omar", "Lina", "Yusuf", "Fatou", "Ali", "Sara", "Idris", "Mariam", "Tesfaye"]
_TEMPLATES = 60


def fresh_database(database: Path, make: Callable[[], None], what: str,
                   results: dict[str, Any]) -> dict[str, str]:
    """Build ``database`` anew with ``make``, record and print its size; the environment
    the command line is then measured in (no other ``CONSULTBOT_`` setting)."""
    if database.exists():
        database.unlink()
    began = time.perf_counter()
    make()
    with sqlite3.connect(database) as connection:
        answers = connection.execute("SELECT count(*) FROM answers").fetchone()[0]
    results["answers"] = answers
    results["build_seconds"] = round(time.perf_counter() - began, 1)
    print(f"database: {what}, {answers:,} answers "
          f"({database.stat().st_size / 1e6:.0f} MB, built in {results['build_seconds']} s)")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONSULTBOT_")}
    env["CONSULTBOT_DB"] = str(database)
    return env


def roster_main(args: argparse.Namespace, folder: Path, results: dict[str, Any]) -> None:
    """The exports of ``args.responses`` households of 8 (see the module)."""
    form = folder / "household.md"
    write_form(form)
    survey, _ = load_survey(form)
    results["survey"] = {"people": ROSTER_PEOPLE, "questions_per_person": sum(
        1 for q in survey.questions if q.repeat == "member" and q.asks)}
    database = folder / "roster.sqlite3"
    env = fresh_database(database, lambda: build_roster(database, survey, args.responses),
                         f"{args.responses:,} households of {ROSTER_PEOPLE}", results)
    env["CONSULTBOT_SURVEY"] = str(form)
    for fmt in ("csv", "xlsx", "json", "sav", "dta"):
        out = folder / f"roster.{fmt}"
        run = measure([sys.executable, "-m", "bot", "export", "--format", fmt, "--out",
                       str(out)], env)
        run.pop("output")
        written = [f for f in folder.iterdir() if f.name.startswith("roster.")
                   and f.suffix in (f".{fmt}", ".csv") and f != database]
        run["mb"] = round(sum(f.stat().st_size for f in written) / 1e6, 1)
        run["files"] = len(written)
        results[f"export_{fmt}"] = run
        for file in written:
            file.unlink()
    print(f"{'what':<28}{'seconds':>9}{'peak RSS MB':>13}{'files MB':>10}")
    for fmt in ("csv", "xlsx", "json", "sav", "dta"):
        row = results[f"export_{fmt}"]
        print(f"{'export_' + fmt:<28}{row['seconds']:>9}{row['peak_rss_mb']:>13}{row['mb']:>10}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--responses", type=int, default=None,
                        help="responses in the database (default 100,000; 10,000 households "
                             "with --roster)")
    parser.add_argument("--roster", action="store_true",
                        help="a household roster (8 people × 15 questions) instead of the "
                             "built-in consultation")
    parser.add_argument("--keep", type=Path, help="keep the database and files in this folder")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    if args.responses is None:
        args.responses = 10_000 if args.roster else 100_000
    folder = args.keep or Path(tempfile.mkdtemp(prefix="consultbot-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    database = folder / "bench.sqlite3"
    results: dict[str, Any] = {"responses": args.responses, "machine": {
        "cpus": os.cpu_count(), "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version, "load_average": os.getloadavg()}}
    if args.roster:
        try:
            roster_main(args, folder, results)
        finally:
            if not args.keep:
                shutil.rmtree(folder, ignore_errors=True)
        results["load_average_after"] = os.getloadavg()
        if args.json:
            args.json.write_text(json.dumps(results, indent=2) + "\n")
        return
    try:
        env = fresh_database(database, lambda: build(database, args.responses),
                             f"{args.responses:,} responses", results)
        consultbot = [sys.executable, "-m", "bot"]
        floor_file = folder / "floor.csv"
        floor = measure(["sqlite3", "-csv", "-header", str(database),
                         "SELECT r.id, r.participant_id, r.survey_id, r.survey_version, "
                         "r.language, r.started_at, r.completed_at, r.source, a.question_id, "
                         "a.value FROM responses r JOIN answers a ON a.response_id = r.id "
                         "ORDER BY r.id"], env, stdout=floor_file)
        floor.pop("output")
        floor["mb"] = round(floor_file.stat().st_size / 1e6, 1)
        results["floor_sqlite3_csv"] = floor
        for fmt in ("csv", "xlsx", "json", "sav", "dta"):
            out = folder / f"export.{fmt}"
            run = measure([*consultbot, "export", "--format", fmt, "--out", str(out)], env)
            run.pop("output")
            run["mb"] = round(out.stat().st_size / 1e6, 1)
            results[f"export_{fmt}"] = run
        results["stats_command"] = measure([*consultbot, "stats", "--json"], env)
        results["stats_command"].pop("output")

        async def figures() -> float:
            survey, _ = load_survey(BUILTIN_SURVEY)
            db = await connect(database)
            try:
                began = time.perf_counter()
                await get_figures(db, survey.id, ["role", "residence"],
                                  dt.datetime.now(dt.UTC))
                return time.perf_counter() - began
            finally:
                await db.close()

        results["stats_sql_seconds"] = round(asyncio.run(figures()), 3)
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)

    ratio = results["export_csv"]["seconds"] / results["floor_sqlite3_csv"]["seconds"]
    results["csv_vs_floor"] = round(ratio, 2)
    print(f"{'what':<28}{'seconds':>9}{'peak RSS MB':>13}{'file MB':>9}")
    for key in ("floor_sqlite3_csv", "export_csv", "export_xlsx", "export_json",
                "export_sav", "export_dta", "stats_command"):
        row = results[key]
        print(f"{key:<28}{row['seconds']:>9}{row['peak_rss_mb']:>13}{row.get('mb', ''):>9}")
    print(f"figures SQL (in-process): {results['stats_sql_seconds']} s; "
          f"CSV export / sqlite3 floor: {ratio:.2f}x")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
