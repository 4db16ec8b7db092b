"""``consultbot sandbox`` in this process: a scripted person at the terminal."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from bot.config import Config, ConfigError
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


EVERYTHING = """\
id: everything
version: 1
default_language: en
languages: [en]
title: {en: Everything}
introduction: {en: A test.}
consent:
  notice: {en: Notice}
  details: {en: Details}
questions:
  - {id: born, type: year, text: {en: "Your year of birth?"}}
  - {id: where, type: location, text: {en: "Where are you?"}}
  - {id: face, type: photo, text: {en: "A photo?"}}
  - {id: voice, type: audio, text: {en: "Say something"}}
  - {id: paper, type: file, text: {en: "A document?"}}
  - {id: story, type: text, text: {en: "Anything else?"}}
"""
PNG = bytes.fromhex("89504e470d0a1a0a") + bytes(64)


async def test_every_kind_of_answer_can_be_tried_from_the_terminal(tmp_path: Path) -> None:
    survey = tmp_path / "everything.yaml"
    survey.write_text(EVERYTHING, encoding="utf-8")
    (tmp_path / "me.png").write_bytes(PNG)
    page = b"OggS\x00\x02" + bytes(20) + bytes([1, 19])  # one segment of 19 bytes
    (tmp_path / "hello.ogg").write_bytes(page + b"OpusHead\x01\x01" + bytes(9))
    (tmp_path / "cv.pdf").write_bytes(b"%PDF-1.4\n%fake\n")
    config = Config(db=tmp_path / "s.sqlite3")
    script = (f"1\n1\n1\n"  # the year question has only a Skip button: "1" would be an answer
              "1990\n"
              "1\n"  # the reply keyboard's "Share my location"
              f"/photo {tmp_path / 'me.png'}\n/voice {tmp_path / 'hello.ogg'}\n"
              f"/file {tmp_path / 'cv.pdf'}\n/file {tmp_path / 'missing.pdf'}\nfine\n/quit\n")
    out = await chat(config, survey, script)
    assert "your phone shared a place" in out and "cannot read" in out
    answers = dict(stored.rows(config.db, "SELECT question_id, value FROM answers"))
    assert answers["born"] == "1990" and answers["where"].startswith("14.6928 -17.4467")
    assert answers["face"].endswith(".png") and answers["voice"].endswith(".ogg")
    assert answers["paper"].endswith(".pdf") and answers["story"] == "fine"


async def test_people_time_and_reminders(tmp_path: Path) -> None:
    survey = tmp_path / "ages.yaml"
    survey.write_text(SURVEY, encoding="utf-8")
    config = Config(db=tmp_path / "s.sqlite3")
    script = ("/as Amina\n/start radio_fr\n1\n1\n"  # Amina consents, from a radio link
              "/as you\n/remind now\n/wait 80h\n/remind now\n/as Amina\n/quit\n")
    out = await chat(config, survey, script)
    assert "you are now Amina" in out and "scheduled" not in out
    assert "Nobody needs a reminder now" in out  # Amina has been quiet for minutes only
    assert "recently active or reminded: 1" in out and "The next person is due on" in out
    assert "You have answered 0 of 2 questions" in out  # 80 hours later, she is reminded
    assert stored.rows(config.db, "SELECT source FROM participants WHERE id = 100002") == [
        ("radio_fr",)]


async def test_a_real_consultation_is_refused_and_its_people_never_reached(
    tmp_path: Path,
) -> None:
    survey = tmp_path / "ages.yaml"
    survey.write_text(SURVEY, encoding="utf-8")
    real = tmp_path / "real.sqlite3"
    config = Config(db=real)
    await chat(config, survey, "/quit\n")  # made by the sandbox: accepted again
    stored.write(real, "DELETE FROM settings WHERE key = 'sandbox'")  # pretend it is real
    stored.write(real, "INSERT INTO subscriptions (chat_id, kind, language, created_at) "
                       "VALUES (-1001234, 'group', 'en', '2026-11-01T00:00:00Z')")
    with pytest.raises(ConfigError, match="holds a real consultation"):
        await chat(config, survey, "/quit\n")
    out = io.StringIO()
    loaded, _ = load_survey(survey)
    await run_sandbox(config, loaded, language="en", allow_real_data=True,
                      source=io.StringIO("/broadcast now\n/quit\n"), out=out)
    assert stored.rows(real, "SELECT status, unreachable_at FROM outbox JOIN subscriptions "
                             "USING (chat_id)") == [("pending", None)]  # not sent, not marked
