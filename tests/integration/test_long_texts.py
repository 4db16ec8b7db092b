"""Long questions, notes, choices and answers, in each language, through the stand-in
(which refuses what Telegram refuses: over 4,096 characters, broken HTML)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from bot.sandbox.standin import StandIn
from bot.survey.loader import load_survey

from tests.integration.harness import Harness, stored_answers

LANGUAGES = {"en": "English", "fr": "Français", "es": "Español", "ar": "العربية"}
SENTENCE = {
    "en": "Partners & friends <colleagues> work together on migration, every day. ",
    "fr": "Les partenaires & amis <collègues> travaillent ensemble sur la migration. ",
    "es": "Los socios & amigos <colegas> trabajan juntos en la migración, cada día. ",
    "ar": "يعمل الشركاء والأصدقاء <الزملاء> معا في مجال الهجرة & التنقل كل يوم. ",
}


def text(times: int, paragraph: int = 0) -> dict[str, str]:
    """A long text in every language (``paragraph``: a paragraph break every n sentences)."""
    out = {}
    for language, sentence in SENTENCE.items():
        parts = [sentence * paragraph] * (times // paragraph) if paragraph else [sentence * times]
        out[language] = "\n\n".join(parts)
    return out


def choices(count: int, times: int) -> list[dict[str, object]]:
    return [{"id": f"c{n}", "label": {lang: f"{n}: {s * times}" for lang, s in SENTENCE.items()}}
            for n in range(count)]


SURVEY = {
    "id": "long", "version": 1, "default_language": "en", "languages": list(LANGUAGES),
    "title": {lang: "Long" for lang in LANGUAGES},
    "introduction": {lang: "A test." for lang in LANGUAGES},
    "consent": {"notice": text(2), "details": text(2)},
    "questions": [
        {"id": "essay", "type": "note", "text": text(80, 10)},  # ~5,800 characters
        {"id": "wall", "type": "note", "text": text(70)},  # one paragraph, no break
        {"id": "many", "type": "select_multiple", "text": text(2),
         "choices": choices(10, 5)},  # ten labels of ~350 characters
        {"id": "one", "type": "select_one", "text": text(60), "choices": choices(3, 4)},
        {"id": "story", "type": "text", "max_length": 3500, "text": text(62)},
    ],
}


@pytest.fixture
async def long_bot(api: StandIn, tmp_path: Path) -> AsyncIterator[Harness]:
    path = tmp_path / "long.yaml"
    path.write_text(json.dumps(SURVEY, ensure_ascii=False), encoding="utf-8")
    survey, problems = load_survey(path)
    assert not [p for p in problems if p.severity == "error"], problems
    harness = Harness(api, tmp_path / "bot.sqlite3", survey)
    await harness.start()
    try:
        yield harness
    finally:
        await harness.stop()


@pytest.mark.parametrize("language", LANGUAGES)
async def test_a_long_survey_goes_through_in_every_language(
    long_bot: Harness, language: str
) -> None:
    harness = long_bot
    person = harness.person(800, language_code=language)
    await person.send("/start")
    await person.press(LANGUAGES[language])
    replies = await person.press(0)  # I agree
    assert len(replies) >= 4  # the long notes came in several messages
    choices_message = person.last
    assert [b.text for b in choices_message.buttons[0]][:5] == ["1", "2", "3", "4", "5"]
    assert "1. 0: " in choices_message.text  # the long labels are listed, numbered
    for number in range(10):
        await person.press(str(number + 1))
    done = next(b.text for row in person.last.buttons for b in row
                if (b.callback_data or "").startswith("D:"))
    await person.press(done)
    echo = person.messages[[m.message_id for m in person.messages].index(
        choices_message.message_id)]
    assert "→" in echo.text and not echo.buttons
    await person.press("2")
    story = ("Mon histoire & la tienne <vraie>. " * 120)[:3490]
    await person.send(story)
    failures = [c for c in harness.api.calls
                if c.method in ("sendMessage", "editMessageText") and not c.ok]
    assert failures == [], [c.response for c in failures][:3]
    answers = stored_answers(harness)
    assert answers["story"] == story.strip() and len(str(answers["many"]).split()) == 10
    mydata = await person.send("/mydata")
    assert len(mydata) >= 2 and all(len(m.text) <= 4096 for m in mydata)
    assert not any("&am" in m.text and "&amp;" not in m.text for m in mydata)
    assert not [c for c in harness.api.calls if c.method == "sendMessage" and not c.ok]
