"""The real command line, run as a new user runs it."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from bot.cli import main
from bot.sandbox.standin import StandIn

from tests import stored
from tests.integration.harness import TOKEN


def test_python_dash_m_bot_is_the_same_command() -> None:
    done = subprocess.run([sys.executable, "-m", "bot", "--help"], capture_output=True,
                          text=True, check=False, timeout=60)
    assert done.returncode == 0
    assert "sandbox" in done.stdout and "run" in done.stdout


def test_the_sandbox_can_be_scripted_through_the_real_command_line(tmp_path: Path) -> None:
    script = "1\n1\n1\nGermany\n1\n/mydata\n/quit\n"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONSULTBOT_")}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "sandbox", "--db", str(tmp_path / "s.sqlite3"),
         "--language", "en"],
        input=script, capture_output=True, text=True, check=False, timeout=90, env=env,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "[1] English" in out
    assert re.search(r"web console: http://127\.0\.0\.1:\d+/", out)
    assert "Question 1 of 17" in out
    assert "→ Germany" in out
    assert "What is stored about you" in out
    assert "Traceback" not in done.stderr


def test_in_the_sandbox_a_number_that_is_no_button_is_an_answer(tmp_path: Path) -> None:
    survey = tmp_path / "ages.yaml"
    survey.write_text("""\
id: ages
version: 1
default_language: en
languages: [en]
title: {en: Ages}
introduction: {en: A test.}
consent:
  notice: {en: Notice}
  details: {en: Details}
questions:
  - {id: age, type: integer, min: 0, max: 120, text: {en: "Your age?"}}
  - {id: mood, type: scale, min: 1, max: 3, text: {en: "Your mood?"}}
""", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONSULTBOT_")}
    env["CONSULTBOT_SURVEY"] = str(survey)
    done = subprocess.run(
        [sys.executable, "-m", "bot", "sandbox", "--db", str(tmp_path / "s.sqlite3")],
        input="1\n1\n41\n2\n/quit\n", capture_output=True, text=True, check=False, timeout=90,
        env=env, cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    answers = dict(stored.rows(tmp_path / "s.sqlite3", "SELECT question_id, value FROM answers"))
    assert answers == {"age": "41", "mood": "2"}  # 41 typed; 2 pressed (the second button)


def _database(tmp_path: Path) -> Path:
    import asyncio

    from bot.survey.loader import BUILTIN_SURVEY, load_survey
    from storage.db import connect

    from tests.data import NO_PARTNER, PARTNER, add_response

    survey, _ = load_survey(BUILTIN_SURVEY)
    path = tmp_path / "bot.sqlite3"

    async def fill() -> None:
        db = await connect(path)
        await add_response(db, survey, 555000111, PARTNER)
        await add_response(db, survey, 555000222, NO_PARTNER, language="ar")
        await db.close()

    asyncio.run(fill())
    return path


def test_output_cut_short_by_its_reader_ends_quietly(tmp_path: Path) -> None:
    """`consultbot stats | head -1`, with the reader gone before anything was written."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONSULTBOT_")}
    env["CONSULTBOT_DB"] = str(_database(tmp_path))
    for command in (["stats"], ["stats", "--json"], ["--help"]):
        reader, writer = os.pipe()
        os.close(reader)
        try:
            done = subprocess.run([sys.executable, "-m", "bot", *command], stdout=writer,
                                  stderr=subprocess.PIPE, text=True, check=False, timeout=60,
                                  env=env, cwd=tmp_path)
        finally:
            os.close(writer)
        assert done.returncode in ((0, 141) if command == ["--help"] else (141,)), command
        assert done.stderr == "", command


async def test_subscribers_add_finds_a_group_or_channel_by_its_name(
    api: StandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`subscribers add @name` asks the Bot API (getChat, getChatMember) for the chat."""
    for key in [k for k in os.environ if k.startswith("CONSULTBOT_")]:
        monkeypatch.delenv(key)
    database = tmp_path / "bot.sqlite3"
    monkeypatch.setenv("CONSULTBOT_DB", str(database))
    monkeypatch.setenv("CONSULTBOT_API_URL", api.url)

    async def consultbot(*arguments: str) -> tuple[int, str, str]:
        status = await asyncio.to_thread(main, ["subscribers", "add", *arguments])
        out, err = capsys.readouterr()
        return status, out, err

    status, _, err = await consultbot("@maliens_paris", "--language", "fr")
    assert status == 2 and err.count("\n") == 1
    assert "CONSULTBOT_TOKEN: not set; it is needed to look up @maliens_paris" in err
    assert not database.exists()

    monkeypatch.setenv("CONSULTBOT_TOKEN", TOKEN)
    api.group(-1001000000001, "Maliens de Paris", type="channel", username="maliens_paris")
    api.group(-1001000000002, "Diaspora Lyon", type="supergroup", username="DiasporaLyon")
    status, out, _ = await consultbot("@maliens_paris", "--language", "fr")
    assert status == 0
    assert "-1001000000001 (Maliens de Paris) will receive summaries in fr" in out
    status, out, _ = await consultbot("https://t.me/diasporalyon", "--language", "ar",
                                      "--name", "Association")
    assert status == 0 and "-1001000000002 (Association) will receive summaries in ar" in out
    rows = set(stored.rows(database, "SELECT chat_id, kind, language, name FROM subscriptions"))
    assert rows == {(-1001000000001, "channel", "fr", "Maliens de Paris"),
                    (-1001000000002, "group", "ar", "Association")}
    assert [c.method for c in api.calls if c.method.startswith("getChat")] == [
        "getChat", "getChatMember", "getChat", "getChatMember"]

    api.user(4321, username="amina").send("/start")
    api.group(-1001000000003, "Left", type="supergroup", username="left_group")
    api.remove_bot(-1001000000003)
    news = api.group(-1001000000004, "News", type="channel", username="news_channel")
    news.bot_status = "member"
    for name, message in [
        ("@nobody_here", "@nobody_here: Telegram knows no group or channel by that name"),
        ("@left_group", "@left_group: the bot is not in that chat (add it to the group"),
        ("@news_channel", "@news_channel: only administrators post in a channel"),
        ("@amina", "@amina: Telegram knows no group or channel by that name"),
        ("diaspora lyon", "diaspora lyon: neither a chat number (such as -1001234567890) nor "
                          "a public name (such as @mychannel)"),
        ("@abc", "@abc: not a public name (5 to 32 letters, digits or underscores"),
    ]:
        status, _, err = await consultbot(name, "--language", "fr")
        assert status == 2 and err.count("\n") == 1 and message in err, (name, err)
        assert TOKEN not in err

    monkeypatch.setenv("CONSULTBOT_TOKEN", "4242:not-the-token")
    status, _, err = await consultbot("@maliens_paris", "--language", "fr")
    assert status == 2 and "CONSULTBOT_TOKEN: the Bot API at" in err and "refused" in err
