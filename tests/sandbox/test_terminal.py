"""``consultbot sandbox`` in this process: a scripted person at the terminal."""

from __future__ import annotations

import io
from pathlib import Path

from bot.config import Config
from bot.sandbox.terminal import run_sandbox
from bot.survey.loader import load_survey

from tests import stored

SURVEY = """\
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
"""


async def chat(config: Config, path: Path, script: str) -> str:
    survey, _ = load_survey(path)
    out = io.StringIO()
    done = await run_sandbox(config, survey, language="en", source=io.StringIO(script), out=out)
    assert done == 0
    return out.getvalue()


async def test_a_second_sandbox_on_the_same_database_is_heard(tmp_path: Path) -> None:
    """The bot remembers the update ids it handled; each run has a new stand-in, whose ids
    must not repeat the last run's (were they to start over, the mood press would get the
    id the consent press had, and be dropped as seen before)."""
    survey = tmp_path / "ages.yaml"
    survey.write_text(SURVEY, encoding="utf-8")
    config = Config(db=tmp_path / "s.sqlite3")
    await chat(config, survey, "1\n1\n41\n/quit\n")  # /start, language, consent, age
    second = await chat(config, survey, "hello\n2\n/quit\n")  # /start, not a number, mood
    assert "Welcome back" in second
    answers = dict(stored.rows(config.db, "SELECT question_id, value FROM answers"))
    assert answers == {"age": "41", "mood": "2"}
