"""The real command line, run as a new user runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


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
