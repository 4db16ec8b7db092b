"""The real command line, run as a new user runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests import stored


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
    assert "Question 1 of 15" in out
    assert "Did you mean one of these?" in out
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
