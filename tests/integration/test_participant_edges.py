"""What a real person hits at the edges: years, words instead of commands, the phone's
language before any choice, going back from the consent notice, who runs the consultation."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from bot.sandbox.standin import StandIn
from bot.survey.loader import load_survey
from bot.survey.model import Survey

from tests.integration.harness import Harness, Person, stored_answers


async def to_the_year(person: Person, language: str = "English") -> None:
    await person.start(language)
    await person.press(0)  # role: the first choice
    await person.send("Peru")  # taken at once
    await person.press(len(person.labels()) - 1)  # skip the country of origin
    await person.press(0)  # yes, a partnership
    for _ in range(4):  # levels, actors, issues, domains: one choice each, then done
        await person.press(0)
        done = next(b.text for row in person.last.buttons for b in row
                    if (b.callback_data or "").startswith("D:"))
        await person.press(done)
    await person.press("3")  # inclusiveness
    await person.press("3")  # effectiveness


async def test_a_year_is_never_written_with_a_thousands_separator(harness: Harness) -> None:
    paz = harness.person(90, language_code="es")
    await to_the_year(paz, "Español")
    assert "1950 a 2026" in paz.last.text  # "Escriba un año de 1950 a 2026."
    await paz.send("2015")
    mydata = "\n".join(m.text for m in await paz.send("/mydata"))
    assert "2015" in mydata and "2.015" not in mydata


async def test_a_year_after_this_one_is_refused(harness: Harness) -> None:
    ana = harness.person(91)
    await to_the_year(ana)
    replies = await ana.send("2031")  # the harness clock is in 2026
    assert replies[-1].text == "Please type a year from 1950 to 2026."
    assert "started" not in stored_answers(harness)


async def test_help_before_any_choice_answers_in_the_phone_language(harness: Harness) -> None:
    layla = harness.person(92, language_code="ar")
    await layla.send("/start")
    replies = await layla.send("/help")
    assert any("\u0600" <= ch <= "\u06ff" for ch in replies[-1].text)


async def test_back_on_the_consent_notice_returns_to_the_languages(harness: Harness) -> None:
    omar = harness.person(93)
    await omar.send("/start")
    await omar.press("English")
    replies = await omar.send("/back")
    assert "Français" in omar.labels(replies[-1])


@pytest.mark.parametrize(("language", "label", "typed", "expected"), [
    ("fr", "Français", "aide", "/start"),  # the help lists the commands
    ("ar", "العربية", "مساعدة", "/start"),
    ("en", "English", "Delete my data", "cannot be undone"),
    ("es", "Español", "Ayuda", "/start"),
])
async def test_a_command_typed_as_a_word_runs_the_command(
    harness: Harness, language: str, label: str, typed: str, expected: str,
) -> None:
    person = harness.person(94, language_code=language)
    await person.start(label)  # at the role question: buttons only
    replies = await person.send(typed)
    assert expected in replies[-1].text
    assert "role" not in stored_answers(harness)


async def test_a_command_word_typed_as_a_free_text_answer_is_the_answer(
    harness: Harness,
) -> None:
    nadia = harness.person(95)
    await nadia.start()
    await nadia.press("Other")
    await nadia.send("help")
    assert stored_answers(harness)["role_other"] == "help"


async def test_stop_typed_as_a_word_stops_reminders(harness: Harness) -> None:
    sam = harness.person(96)
    await sam.start()
    replies = await sam.send("stop")
    assert replies[-1].text == "You will not get any more reminders."


async def test_other_difficulties_are_asked_what(harness: Harness) -> None:
    ali = harness.person(97)
    await to_the_year(ali)
    await ali.press(len(ali.labels()) - 1)  # skip the year
    await ali.press("Other")
    await ali.press("Done ✔")
    assert "What other difficulty did you meet?" in ali.last.text


@pytest.fixture
async def named_bot(api: StandIn, tmp_path: Path, consultation: Survey
                    ) -> AsyncIterator[Harness]:
    harness = Harness(api, tmp_path / "bot.sqlite3", consultation,
                      organizer="Migrant Voices Network", contact="hello@migrantvoices.example",
                      ends=dt.date(2027, 3, 31))
    await harness.start()
    try:
        yield harness
    finally:
        await harness.stop()


async def test_the_consent_notice_says_who_runs_it_how_to_reach_them_and_until_when(
    named_bot: Harness,
) -> None:
    eva = named_bot.person(98)
    await eva.send("/start")
    replies = await eva.press("English")
    notice = replies[-1].text
    assert "run by Migrant Voices Network" in notice
    assert "hello@migrantvoices.example" in notice and "until March 31, 2027" in notice
    assert len(notice.split()) < 90


HAUSA = """\
id: hausa
version: 1
default_language: ha
languages: [ha, en]
bot_language: {ha: fr}
title: {ha: "Shawarwari", en: "Consultation"}
introduction: {ha: "Gwaji.", en: "A test."}
consent:
  notice: {ha: "Sanarwa", en: "Notice"}
  details: {ha: "Bayani", en: "Details"}
questions:
  - {id: age, type: integer, text: {ha: "Shekarunka nawa?", en: "Your age?"}}
"""


@pytest.fixture
async def hausa_bot(api: StandIn, tmp_path: Path) -> AsyncIterator[Harness]:
    path = tmp_path / "hausa.yaml"
    path.write_text(HAUSA, encoding="utf-8")
    survey, problems = load_survey(path)
    assert not [p for p in problems if p.severity == "error"]
    harness = Harness(api, tmp_path / "bot.sqlite3", survey)
    await harness.start()
    try:
        yield harness
    finally:
        await harness.stop()


async def test_a_language_the_bot_lacks_gets_its_words_in_the_language_the_survey_names(
    hausa_bot: Harness,
) -> None:
    musa = hausa_bot.person(99, language_code="ha")
    await musa.send("/start")
    replies = await musa.press("Hausa")
    assert "Sanarwa" in replies[-1].text  # the survey's own words, in Hausa
    assert "J'accepte" in musa.labels(replies[-1])  # the bot's, in French as it asks
    replies = await musa.press("J'accepte")
    assert "Shekarunka nawa?" in replies[-1].text
    replies = await musa.send("many")
    assert replies[-1].text == "Veuillez écrire un nombre entier, par exemple 12."
