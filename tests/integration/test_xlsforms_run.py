"""XLSForms running on Telegram, end to end: the features form, and real forms by others."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from bot.sandbox.standin import StandIn
from bot.survey.loader import load_survey
from bot.survey.model import MEDIA_TYPES, Question, QuestionType, Survey

from tests import stored
from tests.integration.harness import Harness, Person, stored_answers
from tests.shared import XLSFORMS

FORMS = Path(__file__).resolve().parents[1] / "forms"


async def running(api: StandIn, tmp_path: Path, form: Path) -> Harness:
    survey, _ = load_survey(form)
    harness = Harness(api, tmp_path / "bot.sqlite3", survey)
    await harness.start()
    return harness


@pytest.fixture
async def features(api: StandIn, tmp_path: Path) -> AsyncIterator[Harness]:
    harness = await running(api, tmp_path, FORMS / "features.md")
    try:
        yield harness
    finally:
        await harness.stop()


def current(harness: Harness) -> str | None:
    found = stored.rows(harness.db, "SELECT current FROM responses")
    return found[0][0] if found else None


async def test_the_features_form_runs_with_its_logic(features: Harness) -> None:
    harness = features
    person = harness.person(900)
    first = await person.start()
    assert "Do you work?" in first[-1].text
    assert stored_answers(harness)["started"]  # the start time, filled in by the bot
    replies = await person.send("/skip")
    assert replies[-1].text == "Please answer."  # the form's required_message
    await person.press("Yes")
    replies = await person.press("Keep")  # hours: the form's default, 40
    assert "Region?" in replies[-1].text  # 40 is not more than 40: no details
    await person.send("/back")
    replies = await person.send("70")
    assert replies[-1].text == "That is a lot: 70"  # a required note: the answer is refused
    assert stored_answers(harness)["hours"] == "40"
    await person.send("50")
    replies = await person.press("Other")
    assert "Specify other" in replies[-1].text or "other" in replies[-1].text.lower()
    await person.send("Fishing")
    await person.press("North")
    assert person.labels() [:1] == ["North 1"]  # the cascading select keeps only the north
    assert "South 1" not in person.labels()
    await person.press("North 1")
    await person.press("4")  # rating: a 1-5 range, as buttons
    await person.send("30")  # percent: 0-100 by tens
    replies = await person.send("1.5")  # weight
    assert any("A-1" in m.text for m in replies)  # the read-only code, shown with its value
    await person.press("Keep")  # arrived: the form's default date
    await person.send("14:30")
    person.user.send_location(12.65, -8.0)
    await harness.settle()
    await person.press("Skip »")  # the photo is optional
    await person.press("OK")
    answers = stored_answers(harness)
    assert current(harness) is None
    assert answers["hours"] == "50" and answers["daily"] == "10"
    assert answers["sector"] == "other" and answers["sector_other"] == "Fishing"
    assert answers["district"] == "n1" and answers["arrived"] == "2020-01-31"
    assert answers["at"] == "14:30" and answers["where"] == "12.65 -8.0 0 0"
    assert answers["ok"] == "OK" and answers["ended"] and answers["day"]


async def test_the_form_speaks_arabic(features: Harness) -> None:
    person = features.person(901, language_code="ar")
    first = await person.start("العربية")
    assert "هل تعمل؟" in first[-1].text


class Robot:
    """A participant who answers whatever a form asks, trying plausible values in turn."""

    NUMBERS = ["1", "0", "2", "5", "10", "18", "25", "30", "50", "100", "1000", "2020"]
    DATES = ["01/01/2000", "01/01/2020", "15/06/2024", "01/01/1990"]

    def __init__(self, harness: Harness, person: Person) -> None:
        self.harness = harness
        self.person = person
        self.survey: Survey = harness.survey

    def candidates(self, question: Question) -> list[str]:
        kind = question.type
        if kind in (QuestionType.INTEGER, QuestionType.DECIMAL):
            return self.NUMBERS
        if kind is QuestionType.DATE:
            return self.DATES
        if kind is QuestionType.TIME:
            return ["10:00"]
        if kind is QuestionType.DATETIME:
            return ["01/01/2020 10:00"]
        return ["test answer", "12345", "abc", "07701234567"]

    async def act(self, question: Question, attempt: int) -> None:
        person, kind = self.person, question.type
        nav = {"« Back", "Skip »", "Keep", "Done ✔"}
        if kind in (QuestionType.SELECT_ONE, QuestionType.SCALE, QuestionType.ACKNOWLEDGE,
                    QuestionType.SELECT_MULTIPLE):
            message = person.messages[-1]
            options = [label for label in person.labels(message)
                       if label not in nav and not label.startswith(("Page ", "‹", "Next"))]
            assert options, f"{question.id}: no choice to press"
            await person.press(options[attempt % len(options)], message=message)
            if kind is QuestionType.SELECT_MULTIPLE:
                await person.press("Done ✔", message=message)
        elif kind is QuestionType.LOCATION:
            person.user.send_location(13.5, 2.1)
            await self.harness.settle()
        elif kind in MEDIA_TYPES:
            person.user.send_photo(b"\x89PNG" + bytes(32))
            await self.harness.settle()
        else:
            values = self.candidates(question)
            await person.send(values[attempt % len(values)])

    async def complete(self, limit: int) -> int:
        """Answer until the response is completed; returns how many questions were answered."""
        answered = 0
        tries = 0
        while (question_id := current(self.harness)) is not None:
            question = self.survey.question(question_id)
            await self.act(question, tries)
            if current(self.harness) == question_id:
                tries += 1
                if tries > 12:
                    await self.person.send("/skip")
                    assert current(self.harness) != question_id, (
                        f"stuck at {question_id}: {self.person.messages[-1].text}")
                continue
            tries = 0
            answered += 1
            assert answered <= limit, "the robot is going round in circles"
        return answered


@pytest.mark.shared_xlsforms
@pytest.mark.parametrize(
    ("name", "questions"),
    [
        ("ona_mali_health_en_fr.xlsx", 15),
        ("ona_multi_lingual_en_sw_fr.xlsx", 5),
        ("pyxform_md_choices_en_ko.md", 1),
        ("pyxform_md_note_en_fr.md", 0),
        ("pyxform_md_partial_translations_or_other.md", 1),
        ("reach_cleaningtools_form_en_ar.xlsx", 214),
    ],
)
async def test_real_forms_by_other_organizations_run_end_to_end(
    api: StandIn, tmp_path: Path, name: str, questions: int
) -> None:
    harness = await running(api, tmp_path, XLSFORMS / name)
    try:
        person = harness.person(902)
        await person.start(person_language(harness))
        answered = await Robot(harness, person).complete(limit=questions * 2 + 5)
        assert current(harness) is None, "the response was not completed"
        assert answered <= questions
        assert stored.value(harness.db, "SELECT completed_at FROM responses") is not None
    finally:
        await harness.stop()


def person_language(harness: Harness) -> str:
    from bot.i18n import language_name

    return language_name(harness.survey.languages[0])
