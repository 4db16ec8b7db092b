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
from bot.survey.model import Survey

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
def database(tmp_path: Path, consultation: Survey) -> Path:
    """A database file with two responses to the built-in consultation."""
    import asyncio

    from storage.db import connect

    from tests.data import NO_PARTNER, PARTNER, add_response

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


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["export", "--format", "pdf", "--out", "x"], "argument --format: invalid choice"),
        (["export", "--format", "csv", "--out", "/proc/nope/x.csv"], "cannot write"),
        (["export", "--format", "csv", "--out", "OUT", "--since", "last week"],
         "--since: 'last week' is not a date"),
        (["export", "--format", "csv", "--out", "OUT", "--survey", "nope"],
         "no responses to a survey with id 'nope'"),
        (["export", "--format", "json", "--out", "OUT", "--labels", "xx"],
         "--labels xx: the survey's languages are en, fr, es, ar"),
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
    assert "survey 'idm2018-partnerships' version 1: 15 questions" in capsys.readouterr().out
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
            elif prefix.split()[-1] in ("stats", "export", "add"):
                for option in action.option_strings:
                    if option.startswith("--") and option != "--help":
                        assert option in guide, f"consultbot {prefix}{option}"

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
