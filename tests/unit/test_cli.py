"""The command line and configuration: organizer mistakes end in one precise line, status 2."""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from urllib.parse import quote

import pytest
from bot.cli import configure_logging, main
from bot.config import SETTINGS, Config, ConfigError, env_name

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("CONSULTBOT_"):
            monkeypatch.delenv(key)


def run_main(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    status = main(args)
    return status, capsys.readouterr().err


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("CONSULTBOT_TOKN", "1:x", "CONSULTBOT_TOKN: unknown setting"),
        ("CONSULTBOT_ADMINS", "12, abc", "CONSULTBOT_ADMINS: 'abc' is not a Telegram user id"),
        ("CONSULTBOT_SURVEY", "/nowhere/survey.yaml",
         "CONSULTBOT_SURVEY: cannot read survey file /nowhere/survey.yaml: No such file"),
        ("CONSULTBOT_API_URL", "api.telegram.org", "CONSULTBOT_API_URL: expected an http://"),
        ("CONSULTBOT_RATE", "fast", "CONSULTBOT_RATE: expected a number"),
        ("CONSULTBOT_TIMEZONE", "Mars/Olympus", "CONSULTBOT_TIMEZONE: unknown time zone"),
        ("CONSULTBOT_TOKEN", "not a token", "CONSULTBOT_TOKEN: does not look like a bot token"),
    ],
)
def test_bad_settings_are_named_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], variable: str,
    value: str, message: str,
) -> None:
    monkeypatch.setenv(variable, value)
    status, err = run_main(["run"], capsys)
    assert status == 2
    assert err.count("\n") == 1 and message in err, err
    assert "Traceback" not in err


def test_a_token_is_never_echoed_in_an_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CONSULTBOT_TOKEN", "123:secret part with spaces")
    _, err = run_main(["run"], capsys)
    assert "secret" not in err


def test_run_without_a_token(capsys: pytest.CaptureFixture[str]) -> None:
    status, err = run_main(["run"], capsys)
    assert status == 2
    assert "CONSULTBOT_TOKEN: not set" in err


def test_config_file_problems(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    unknown = tmp_path / "bot.toml"
    unknown.write_text('token = "1:abc"\ncolour = "red"\n')
    status, err = run_main(["--config", str(unknown), "run"], capsys)
    assert status == 2 and f"{unknown}: colour: unknown setting" in err
    broken = tmp_path / "broken.toml"
    broken.write_text("token = \n")
    status, err = run_main(["--config", str(broken), "run"], capsys)
    assert status == 2 and f"{broken}: not valid TOML" in err
    status, err = run_main(["--config", str(tmp_path / "none.toml"), "run"], capsys)
    assert status == 2 and "cannot read the configuration file" in err


def test_the_environment_wins_over_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "bot.toml"
    path.write_text('CONSULTBOT_DB = "file.sqlite3"\nadmins = [1, 2]\nrate = 10\n')
    monkeypatch.setenv("CONSULTBOT_DB", "env.sqlite3")
    config = Config.from_env(config_file=path)
    assert config.db == Path("env.sqlite3")
    assert config.admins == frozenset({1, 2})
    assert config.rate == 10.0


def test_an_invalid_survey_is_reported_whole_and_nothing_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    survey = tmp_path / "survey.yaml"
    survey.write_text("id: s\nversion: 1\nquestions:\n  - {id: q, type: txt}\n")
    monkeypatch.setenv("CONSULTBOT_SURVEY", str(survey))
    monkeypatch.setenv("CONSULTBOT_TOKEN", "1:abc")
    monkeypatch.setenv("CONSULTBOT_DB", str(tmp_path / "db.sqlite3"))
    status, err = run_main(["run"], capsys)
    assert status == 2
    assert f"{survey}:4: error: question 'q', field 'type': unknown type 'txt'" in err
    assert "the bot was not started" in err
    assert not (tmp_path / "db.sqlite3").exists()


def test_an_unopenable_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CONSULTBOT_TOKEN", "1:abc")
    monkeypatch.setenv("CONSULTBOT_DB", str(tmp_path / "missing" / "db.sqlite3"))
    status, err = run_main(["run"], capsys)
    assert status == 2 and "CONSULTBOT_DB: cannot open database" in err


def test_a_file_that_is_no_database_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "notes.sqlite3"
    path.write_bytes(b"these are my notes, not a database" * 100)
    monkeypatch.setenv("CONSULTBOT_TOKEN", "1:abc")
    monkeypatch.setenv("CONSULTBOT_DB", str(path))
    status, err = run_main(["run"], capsys)
    assert status == 2 and err.count("\n") == 1
    assert f"CONSULTBOT_DB: cannot open database {path}: file is not a database" in err


def test_the_token_is_taken_out_of_logged_exceptions_too(
    capsys: pytest.CaptureFixture[str],
) -> None:
    token = "123456:SECRET-token_value"
    root = logging.getLogger()
    saved = root.handlers[:]
    root.handlers = []
    try:
        configure_logging(1, [token])
        try:
            raise RuntimeError(f"GET https://api.example/bot{quote(token, safe='')}/getMe failed")
        except RuntimeError:
            logging.getLogger("telegram.ext.Updater").exception("polling failed for %s", token)
        for handler in root.handlers:
            handler.flush()
    finally:
        root.handlers = saved
    err = capsys.readouterr().err
    assert "polling failed for <token>" in err and "/bot<token>/getMe" in err
    assert "SECRET" not in err


def test_config_repr_hides_secrets() -> None:
    config = Config(token="123:abcdef", secret="s" * 20)
    assert "abcdef" not in repr(config) and "sss" not in repr(config)
    with pytest.raises(ConfigError):
        Config().require_token()


def test_the_readme_configuration_table_lists_every_setting() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `(CONSULTBOT_[A-Z_]+)` \|", readme, re.MULTILINE))
    assert documented == {env_name(s.name) for s in SETTINGS}


def test_the_readme_quick_start_names_real_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("```", 2)[1]
    commands = [line for line in block.splitlines()[1:] if line.strip()]
    assert len(commands) == 2
    assert "consultbot sandbox" in commands[0]
    assert "pytest" in commands[1]
    assert "pytest" in (ROOT / ".ci" / "run").read_text()


@pytest.fixture
def database(tmp_path: Path) -> Path:
    """A database file with two responses to the built-in consultation."""
    return _database(tmp_path)


def _database(tmp_path: Path) -> Path:
    import asyncio

    from bot.survey.loader import BUILTIN_SURVEY, load_survey
    from storage.db import connect

    from tests.data import NO_PARTNER, PARTNER, add_response

    consultation, _ = load_survey(BUILTIN_SURVEY)
    path = tmp_path / "bot.sqlite3"

    async def fill() -> None:
        db = await connect(path)
        await add_response(db, consultation, 555000111, PARTNER)
        await add_response(db, consultation, 555000222, NO_PARTNER, language="ar")
        await db.close()

    asyncio.run(fill())
    return path


def test_stats_and_export_from_the_command_line(
    tmp_path: Path, database: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import json

    monkeypatch.setenv("CONSULTBOT_DB", str(database))
    assert main(["stats"]) == 0
    text = capsys.readouterr().out
    assert "Completed: 2" in text and "Migrant: 1" in text
    assert main(["stats", "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["responses"]["completed"] == 2
    out = tmp_path / "exports" / "all.csv"
    assert main(["export", "--format", "csv", "--out", str(out)]) == 0
    assert "2 responses written" in capsys.readouterr().out
    first = out.read_text("utf-8-sig").splitlines()[1]
    assert "555000111" not in out.read_text("utf-8-sig")
    # the same pseudonym in every export: the secret was kept in the database
    again = tmp_path / "again.csv"
    assert main(["export", "--format", "csv", "--out", str(again)]) == 0
    assert again.read_text("utf-8-sig").splitlines()[1].split(",")[0] == first.split(",")[0]


def test_export_for_spss_stata_and_european_excel(
    tmp_path: Path, database: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import pyreadstat

    monkeypatch.setenv("CONSULTBOT_DB", str(database))
    out = tmp_path / "all.sav"
    assert main(["export", "--format", "sav", "--out", str(out), "--labels", "fr",
                 "--kobo-names"]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed == [f"2 responses written to {out} ({out.stat().st_size} bytes)",
                       f"and {tmp_path / 'all.codebook.csv'} "
                       f"({(tmp_path / 'all.codebook.csv').stat().st_size} bytes)"]
    frame, meta = pyreadstat.read_sav(str(out))
    assert len(frame) == 2 and "uuid" in frame.columns
    assert meta.column_names_to_labels["role"].startswith("Laquelle")
    semicolons = tmp_path / "all.zip"
    assert main(["export", "--format", "csv", "--delimiter", ";", "--out",
                 str(semicolons)]) == 0
    import zipfile

    with zipfile.ZipFile(semicolons) as bundle:
        assert sorted(bundle.namelist()) == ["codebook.csv", "responses.csv"]
        assert bundle.read("responses.csv").decode("utf-8-sig").startswith("participant;")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["export", "--format", "pdf", "--out", "x"], "argument --format: invalid choice"),
        (["export", "--format", "csv", "--out", "/proc/nope/x.csv"], "cannot write"),
        (["export", "--format", "csv", "--out", "OUT", "--since", "last week"],
         "--since: 'last week' is not a date"),
        (["export", "--format", "csv", "--out", "OUT", "--survey", "nope"],
         "no responses to a survey with id 'nope' in the database (its surveys: "
         "idm2018-partnerships)"),
        (["export", "--format", "json", "--out", "OUT", "--labels", "xx"],
         "--labels xx: the survey's languages are en, fr, es, ar"),
        (["export", "--format", "xlsx", "--out", "OUT", "--delimiter", ";"],
         "--delimiter is for CSV only, not XLSX"),
        (["export", "--format", "csv", "--out", "OUT", "--delimiter", "|"],
         "argument --delimiter: invalid choice"),
    ],
)
def test_export_mistakes_end_in_one_line(
    tmp_path: Path, database: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str], arguments: list[str], message: str,
) -> None:
    monkeypatch.setenv("CONSULTBOT_DB", str(database))
    arguments = [str(tmp_path / "out.csv") if a == "OUT" else a for a in arguments]
    try:
        status = main(arguments)
    except SystemExit as exit_:
        status = int(exit_.code or 0)
    err = capsys.readouterr().err
    assert status == 2
    assert err.count("\n") == 1 and message in err, err


def test_stats_without_a_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CONSULTBOT_DB", str(tmp_path / "none.sqlite3"))
    status, err = run_main(["stats"], capsys)
    assert status == 2 and "no database at" in err
    assert not (tmp_path / "none.sqlite3").exists()


def test_survey_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from bot.survey.loader import BUILTIN_SURVEY

    assert main(["survey", "check", str(BUILTIN_SURVEY)]) == 0
    assert "survey 'idm2018-partnerships' version 2: 17 questions" in capsys.readouterr().out
    broken = tmp_path / "s.yaml"
    broken.write_text(
        "id: s\nversion: 1\ndefault_language: en\nlanguages: [en, fr]\n"
        "title: {en: T}\nintroduction: {en: I}\nconsent: {notice: {en: N}, details: {en: D}}\n"
        "questions:\n  - {id: q, type: txt, text: {en: Q}}\n"
        "  - {id: r, type: text, text: {en: R}, relevant: '${q} ='}\n")
    assert main(["survey", "check", str(broken)]) == 1
    out = capsys.readouterr().out
    assert f"{broken}:9: error: question 'q', field 'type': unknown type 'txt'" in out
    assert f"{broken}:10: error: question 'r', field 'relevant'" in out
    assert f"{broken}: 5 missing translation(s) in 'fr'" in out
    assert f"{broken}: 2 error(s)" in out


def _guide_commands() -> list[list[str]]:
    import shlex

    guide = (ROOT / "docs" / "organizers.md").read_text(encoding="utf-8")
    blocks = guide.split("```")[1::2]
    return [shlex.split(line.strip())[1:] for block in blocks for line in block.splitlines()
            if line.strip().startswith("consultbot ")]


def test_every_command_in_the_organizer_guide_parses() -> None:
    from bot.cli import build_parser

    commands = _guide_commands()
    assert len(commands) >= 8
    parser = build_parser()
    for command in commands:
        parser.parse_args(command)  # exits (status 2) on an option the program does not have


def test_the_organizer_guide_covers_every_command_and_option() -> None:
    import argparse

    from bot.cli import build_parser

    guide = (ROOT / "docs" / "organizers.md").read_text(encoding="utf-8")

    def walk(parser: argparse.ArgumentParser, prefix: str) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    assert f"{prefix}{name}".strip() in guide, f"{prefix}{name}"
                    walk(sub, f"{prefix}{name} ")
            else:
                for option in action.option_strings:
                    if option.startswith("--") and option != "--help":
                        assert option in guide, f"{prefix}{option}"

    walk(build_parser(), "consultbot ")


def test_subscribers_and_schedules_from_the_command_line(
    database: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CONSULTBOT_DB", str(database))
    monkeypatch.setenv("CONSULTBOT_TIMEZONE", "Europe/Paris")
    assert main(["subscribers", "add", "-1001234", "--language", "fr", "--name", "Asso"]) == 0
    assert main(["subscribers", "list"]) == 0
    out = capsys.readouterr().out
    assert "-1001234\tgroup\tfr\tAsso" in out and "1 group(s)" in out
    status, err = run_main(["subscribers", "add", "-1001234", "--language", "de"], capsys)
    assert status == 2 and "--language de" in err
    status, err = run_main(["subscribers", "add", "1234", "--language", "fr"], capsys)
    assert status == 2 and "negative" in err

    assert main(["schedule", "add", "reminder", "--cron", "0 18 * * 1"]) == 0
    assert main(["schedule", "add", "summary", "--at", "2030-12-15 10:00"]) == 0
    assert main(["schedule", "pause", "1"]) == 0
    assert main(["schedule", "list"]) == 0
    out = capsys.readouterr().out
    assert "1\treminder\tcron '0 18 * * 1'\tpaused" in out
    assert "2\tsummary\tat 2030-12-15 09:00 UTC\tnext 2030-12-15 10:00 CET" in out
    status, err = run_main(["schedule", "add", "reminder", "--cron", "every monday"], capsys)
    assert status == 2 and "'every monday' is not a cron expression" in err
    status, err = run_main(["schedule", "remove", "9"], capsys)
    assert status == 2 and "schedule 9: no such schedule" in err
    assert main(["schedule", "remove", "2"]) == 0

    assert main(["remind"]) == 0  # the two people in the database are not quiet long enough?
    out = capsys.readouterr().out
    assert "reminder" in out
    assert main(["subscribers", "remove", "-1001234"]) == 0
    assert main(["broadcast"]) == 0
    assert "nobody to send a summary to now" in capsys.readouterr().out


# --- summaries: preview, and no broadcast of a summary that shows nothing ---------------


def _rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    import sqlite3

    with sqlite3.connect(path) as connection:
        return list(connection.execute(sql))


def test_broadcast_refuses_a_summary_that_shows_no_figure_unless_forced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    database = _database(tmp_path)
    monkeypatch.setenv("CONSULTBOT_DB", str(database))
    assert main(["subscribers", "add", "-1001234", "--language", "fr"]) == 0
    capsys.readouterr()
    status, err = run_main(["broadcast"], capsys)
    assert status == 2 and err.count("\n") == 1, err
    assert ("not sent: the summary shows no figure yet: fewer than 5 (CONSULTBOT_SMALL_CELL) "
            "people have taken part so far") in err
    assert "--force" in err
    assert _rows(database, "SELECT count(*) FROM rounds") == [(0,)]

    monkeypatch.setenv("CONSULTBOT_SMALL_CELL", "2")  # two people: every answer is alone
    status, err = run_main(["broadcast"], capsys)
    assert status == 2 and "each question it covers has fewer than 2" in err, err
    assert "(role, residence, " in err

    assert main(["broadcast", "--force"]) == 0
    assert "the summary is queued for 1 chat(s)" in capsys.readouterr().out
    assert _rows(database, "SELECT count(*) FROM rounds") == [(1,)]


def test_broadcast_sends_a_summary_with_figures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CONSULTBOT_DB", str(_database(tmp_path)))
    monkeypatch.setenv("CONSULTBOT_SMALL_CELL", "1")
    assert main(["subscribers", "add", "-1001234", "--language", "ar"]) == 0
    assert main(["broadcast"]) == 0
    assert "round 1: the summary is queued for 1 chat(s)" in capsys.readouterr().out


def test_the_summary_preview_is_what_recipients_in_that_language_get(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.summary import plain_text

    database = _database(tmp_path)
    monkeypatch.setenv("CONSULTBOT_DB", str(database))
    monkeypatch.setenv("CONSULTBOT_SMALL_CELL", "1")
    assert main(["subscribers", "add", "-1001234", "--language", "fr"]) == 0
    assert main(["broadcast"]) == 0
    capsys.readouterr()
    chart = tmp_path / "preview" / "summary.png"
    assert main(["summary", "--language", "fr", "--out", str(chart)]) == 0
    out = capsys.readouterr().out
    [(text, image)] = _rows(database, "SELECT text, image FROM round_contents "
                                      "WHERE language = 'fr'")
    assert isinstance(text, str) and isinstance(image, bytes)
    assert out.startswith(plain_text(text) + "\n\n")
    assert "<b>" not in out and "Résultats" in out
    assert chart.read_bytes() == image
    assert f"chart written to {chart}" in out
    assert "shows no figure" not in out


def test_the_summary_preview_says_when_it_shows_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CONSULTBOT_DB", str(_database(tmp_path)))
    assert main(["summary"]) == 0
    out = capsys.readouterr().out
    assert "Results will be shared once enough people have answered." in out
    assert "give --out FILE.png" in out
    assert ("this summary shows no figure yet: fewer than 5 (CONSULTBOT_SMALL_CELL) people "
            "have taken part so far") in out


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["summary", "--language", "de"], "--language de: the survey's languages are "
                                          "en, fr, es, ar"),
        (["summary", "--out", "/proc/nope/chart.png"], "--out /proc/nope/chart.png: cannot "
                                                      "write there"),
        (["stats", "--language", "xx"], "--language xx: the survey's languages are "
                                        "en, fr, es, ar"),
    ],
)
def test_language_and_output_mistakes_end_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    arguments: list[str], message: str,
) -> None:
    monkeypatch.setenv("CONSULTBOT_DB", str(_database(tmp_path)))
    status, err = run_main(arguments, capsys)
    assert status == 2
    assert err.count("\n") == 1 and message in err, err


# --- reminder rounds: why nobody is due, and when someone will be ----------------------


def _participants(path: Path, sql: str) -> None:
    import sqlite3

    with sqlite3.connect(path) as connection:
        connection.execute(sql)


def test_remind_says_why_nobody_is_due_and_when_someone_will_be(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import asyncio
    import datetime as dt
    from zoneinfo import ZoneInfo

    from bot.survey.loader import BUILTIN_SURVEY, load_survey
    from storage.db import connect

    from tests.data import PARTNER, add_response

    monkeypatch.setenv("CONSULTBOT_TIMEZONE", "Europe/Paris")
    empty = tmp_path / "empty.sqlite3"
    monkeypatch.setenv("CONSULTBOT_DB", str(empty))
    asyncio.run(_created(empty))
    assert main(["remind"]) == 0
    assert capsys.readouterr().out == ("nobody is due a reminder: nobody has started the "
                                       "survey yet\n")

    database = _database(tmp_path)
    monkeypatch.setenv("CONSULTBOT_DB", str(database))
    assert main(["remind"]) == 0
    assert capsys.readouterr().out == ("nobody is due a reminder: everyone who started has "
                                       "completed the survey (2)\n")

    survey, _ = load_survey(BUILTIN_SURVEY)
    recently = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)

    async def add_people() -> None:
        db = await connect(database)
        await add_response(db, survey, 555000333, PARTNER[:3], started=recently)
        await add_response(db, survey, 555000444, PARTNER[:2], started=recently)
        await db.close()

    asyncio.run(add_people())
    _participants(database, "UPDATE participants SET reminders_sent = 2 WHERE id = 555000444")
    [(seen,)] = _rows(database, "SELECT last_seen_at FROM participants WHERE id = 555000333")
    due = dt.datetime.fromisoformat(str(seen)) + dt.timedelta(hours=72)
    assert main(["remind"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "nobody is due a reminder now",
        "not finished: 2, of whom",
        "  reminded the most times allowed (2, CONSULTBOT_REMINDER_MAX): 1",
        "  active or reminded in the last 72 hours (CONSULTBOT_REMINDER_INTERVAL): 1",
        "completed: 2",
        "the next person is due a reminder at "
        f"{due.astimezone(ZoneInfo('Europe/Paris')):%Y-%m-%d %H:%M} CET",
    ]

    _participants(database, "UPDATE participants SET last_seen_at = '2026-11-01T10:00:00Z' "
                            "WHERE id = 555000333")
    assert main(["remind"]) == 0
    assert "round 1: 1 reminder(s) queued" in capsys.readouterr().out
    assert main(["remind"]) == 0
    out = capsys.readouterr().out
    assert "  a reminder already waiting to be sent (is `consultbot run` running?): 1" in out
    assert "nobody else will be due a reminder later" in out


async def _created(path: Path) -> None:
    from storage.db import connect

    await (await connect(path)).close()


def test_the_outlook_counts_the_people_a_round_reaches(tmp_path: Path) -> None:
    import asyncio
    import datetime as dt

    from bot.config import Config
    from bot.rounds import reminder_outlook, start_reminder_round
    from bot.survey.loader import BUILTIN_SURVEY, load_survey
    from storage.db import connect

    from tests.data import PARTNER, add_response

    survey, _ = load_survey(BUILTIN_SURVEY)
    now = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)

    async def check() -> None:
        db = await connect(tmp_path / "o.sqlite3")
        for number in range(4):
            await add_response(db, survey, 555001000 + number, PARTNER[:number + 1])
        config = Config(remind_unconsented=True)
        before = await reminder_outlook(db, survey, config, now)
        started = await start_reminder_round(db, survey, config, now, "test")
        assert before.due == started.recipients == 4 and before.next_due is None
        after = await reminder_outlook(db, survey, config, now)
        assert (after.due, after.queued, after.unfinished) == (0, 4, 4)
        await db.close()

    asyncio.run(check())


# --- a database for the commands that write; none for those that read -------------------


@pytest.mark.parametrize(
    "arguments",
    [
        ["subscribers", "add", "-1001234", "--language", "fr"],
        ["schedule", "add", "summary", "--cron", "0 18 * * 1"],
    ],
)
def test_commands_that_write_create_the_database_before_the_first_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    arguments: list[str],
) -> None:
    from storage.db import migration_files

    path = tmp_path / "new.sqlite3"
    monkeypatch.setenv("CONSULTBOT_DB", str(path))
    assert main(arguments) == 0
    assert f"new database created at {path}" in capsys.readouterr().out
    assert path.stat().st_mode & 0o777 == 0o600
    assert _rows(path, "PRAGMA user_version") == [(len(migration_files()),)]
    assert main(arguments) == 0
    assert "new database" not in capsys.readouterr().out


@pytest.mark.parametrize(
    "arguments",
    [
        ["subscribers", "list"], ["subscribers", "remove", "-1001234"], ["schedule", "list"],
        ["schedule", "pause", "1"], ["remind"], ["broadcast"], ["summary"], ["stats"],
        ["schedule", "add", "summary", "--cron", "every monday"],
        ["subscribers", "add", "-1001234", "--language", "de"],
    ],
)
def test_other_commands_do_not_create_a_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    arguments: list[str],
) -> None:
    path = tmp_path / "none.sqlite3"
    monkeypatch.setenv("CONSULTBOT_DB", str(path))
    status, err = run_main(arguments, capsys)
    assert status == 2 and err.count("\n") == 1, err
    assert not path.exists()


# --- stats ------------------------------------------------------------------------------


def test_times_and_rates_in_stats_json_are_rounded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import asyncio
    import json

    from bot.survey.loader import BUILTIN_SURVEY, load_survey
    from storage.db import connect

    from tests.data import PARTNER, add_response

    database = _database(tmp_path)
    survey, _ = load_survey(BUILTIN_SURVEY)

    async def one_more() -> None:
        db = await connect(database)
        await add_response(db, survey, 555000333, PARTNER[:3])
        await db.close()

    asyncio.run(one_more())
    monkeypatch.setenv("CONSULTBOT_DB", str(database))
    assert main(["stats", "--json"]) == 0
    text = capsys.readouterr().out
    responses = json.loads(text)["responses"]
    assert responses["completion_rate"] == 0.667
    assert isinstance(responses["median_seconds_to_complete"], int)
    assert re.search(r'"median_seconds_to_complete": \d+\n', text)


def test_stats_in_another_language(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CONSULTBOT_DB", str(_database(tmp_path)))
    assert main(["stats", "--language", "fr"]) == 0
    assert "Ont terminé\u00a0: 2" in capsys.readouterr().out


# --- help -------------------------------------------------------------------------------


def _parsers() -> list[tuple[str, object]]:
    import argparse

    from bot.cli import build_parser

    found: list[tuple[str, object]] = []

    def walk(parser: argparse.ArgumentParser, prefix: str) -> None:
        found.append((prefix, parser))
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, f"{prefix} {name}")

    walk(build_parser(), "consultbot")
    return found


def test_every_command_and_argument_explains_itself() -> None:
    import argparse

    for name, parser in _parsers():
        assert isinstance(parser, argparse.ArgumentParser)
        assert parser.description, name
        assert name == "consultbot" or parser.description[0].isupper(), name
        for action in parser._actions:
            if not isinstance(action, argparse._SubParsersAction):
                assert action.help, f"{name} {action.dest}"
            else:
                for choice in action._choices_actions:
                    assert choice.help, f"{name} {choice.dest}"


def test_a_usage_mistake_is_one_line_naming_the_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["schedule", "add", "summary"])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and err.count("\n") == 1
    assert "one of the arguments --cron --at is required" in err
    assert "see consultbot schedule add --help" in err


def test_the_readme_names_every_command() -> None:
    import argparse

    from bot.cli import build_parser

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = next(a for a in build_parser()._actions
                    if isinstance(a, argparse._SubParsersAction))
    for name in commands.choices:
        assert f"`consultbot {name}" in readme, name


# --- CONSULTBOT_DB: a file, or a PostgreSQL URL -------------------------------------------


def test_a_postgresql_url_is_kept_whole_and_never_shown() -> None:
    url = "postgresql://consultbot:s3cret@db.example.org:5433/consultation"
    config = Config.from_env({"CONSULTBOT_DB": url})
    assert config.db_url == url and config.database == url
    assert "s3cret" not in repr(config)
    assert Config.from_env({}).database == Path("consultbot.sqlite3")


@pytest.mark.parametrize("url", ["postgresql://u:s3cret@host:port/x", "postgres://u:s3cret@h/"])
def test_a_malformed_postgresql_url_is_one_line_without_the_password(url: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Config.from_env({"CONSULTBOT_DB": url})
    assert "CONSULTBOT_DB" in str(caught.value) and "s3cret" not in str(caught.value)
