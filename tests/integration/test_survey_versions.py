"""Changing the survey file between runs: nothing is lost, people in progress continue."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from bot.exports import ExportOptions, write_export
from bot.sandbox.standin import StandIn
from bot.survey.loader import load_survey

from tests import stored
from tests.integration.harness import Harness

HEAD = """\
id: versions
version: {version}
default_language: en
languages: [en]
title: Versions
introduction: A test survey.
consent: {{notice: Notice, details: Details}}
questions:
"""
QUESTION = "  - {{id: {id}, type: text, required: true, text: 'Question {id}?'}}\n"


def write(path: Path, version: int, ids: list[str]) -> Path:
    path.write_text(HEAD.format(version=version)
                    + "".join(QUESTION.format(id=i) for i in ids), encoding="utf-8")
    return path


async def test_answers_keep_their_version_and_removed_questions_stay_in_exports(
    api: StandIn, tmp_path: Path
) -> None:
    v1, _ = load_survey(write(tmp_path / "v1.yaml", 1, ["a", "b", "c"]))
    harness = Harness(api, tmp_path / "bot.sqlite3", v1)
    await harness.start()
    try:
        alice = harness.person(80)
        await alice.start()
        await alice.send("first")
        await alice.send("second")
        assert "Question c?" in alice.last.text
        bob = harness.person(81)
        await bob.start()
        await bob.send("bob's a")
        assert "Question b?" in bob.last.text

        v2, _ = load_survey(write(tmp_path / "v2.yaml", 2, ["a", "c", "d"]))
        await harness.restart(v2)
        replies = await alice.send("/start")
        assert "Question c?" in replies[-1].text  # where she was: it still exists
        await alice.send("third")
        await alice.send("fourth")
        replies = await bob.send("/start")
        assert "Question c?" in replies[-1].text  # b is gone: first unanswered that exists
    finally:
        await harness.stop()

    versions = dict(stored.rows(
        harness.db, "SELECT question_id, survey_version FROM answers WHERE response_id = 1"))
    assert versions == {"a": "1", "b": "1", "c": "2", "d": "2"}

    out = tmp_path / "out.csv"
    write_export(harness.db, out, v2, ExportOptions(format="csv"), "x" * 20,
                 dt.datetime(2026, 11, 28, tzinfo=dt.UTC))
    rows = list(csv.reader(out.read_text("utf-8-sig").splitlines()))
    header = rows[0]
    assert header[9:] == ["a", "c", "d", "b"]  # b, removed, after the current questions
    alice_row = dict(zip(header, rows[1], strict=True))
    assert alice_row["b"] == "second" and alice_row["status"] == "completed"
    assert alice_row["survey_version"] == "2"
