"""The participant's use cases at unit speed: plain calls, a database in memory, no Telegram."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

import pytest
from bot.participation import Action, Participation, Press
from bot.participation.outcomes import (
    Asking,
    Closed,
    Completion,
    ConsentScreen,
    Echo,
    LanguagePicker,
    Next,
    Outcome,
    Redraw,
    Replaced,
    Say,
)
from bot.survey.model import Survey
from storage.db import Database
from storage.sessions import get_session

from tests.unit.surveys import BASIC, survey_from

NOW = dt.datetime(2026, 11, 28, 9, 0, tzinfo=dt.UTC)


class Phone:
    """One participant calling the use cases, each call with a new update id."""

    def __init__(self, participation: Participation, user_id: int = 42) -> None:
        self.p = participation
        self.user_id = user_id
        self.ids = itertools.count(1)
        self.last_update = 0

    def next_id(self) -> int:
        self.last_update = next(self.ids)
        return self.last_update

    def press(self, action: Action, number: int | None = None, *,
              message_id: int | None = 7) -> Press:
        session_question = self.current_index
        return Press(action, self.p.survey.fingerprint, session_question, number, message_id)

    current_index = 0

    async def through_consent(self) -> Outcome:
        await self.p.start(self.user_id, self.next_id(), None, "en")
        await self.p.choose_language(self.user_id, self.next_id(), "en")
        outcome = await self.p.consent(self.user_id, self.next_id(), "y")
        self.follow(outcome)
        return outcome

    def follow(self, outcome: Outcome) -> None:
        screen = outcome.screen
        if isinstance(screen, Next) and isinstance(screen.then, Asking):
            self.current_index = screen.then.question.index
        if isinstance(outcome.pressed, Redraw):
            self.current_index = outcome.pressed.asking.question.index


@pytest.fixture
def survey(tmp_path: Path) -> Survey:
    return survey_from(BASIC, tmp_path)


@pytest.fixture
def participation(db: Database, survey: Survey, tmp_path: Path) -> Participation:
    return Participation(db, survey, lambda: NOW, tmp_path / "bot.sqlite3")


def asked(outcome: Outcome) -> Asking:
    screen = outcome.screen
    assert isinstance(screen, Next) and isinstance(screen.then, Asking), outcome
    return screen.then


async def test_a_new_person_gets_the_picker_with_their_app_language_first(
    participation: Participation,
) -> None:
    outcome = await participation.start(42, 1, "radio", "ar")
    assert outcome == Outcome(None, screen=LanguagePicker(("ar", "en")))
    outcome = await participation.choose_language(42, 2, "ar")
    assert outcome.screen == ConsentScreen() and outcome.language == "ar"


async def test_consent_opens_a_response_and_asks_the_first_question(
    participation: Participation,
) -> None:
    phone = Phone(participation)
    outcome = await phone.through_consent()
    assert outcome.pressed == Closed()
    question = asked(outcome)
    assert question.question.id == "work" and question.position == (1, 7)
    assert not question.can_go_back and not question.can_skip


async def test_declining_consent_keeps_nothing(participation: Participation, db: Database
                                               ) -> None:
    await participation.start(42, 1, None, "en")
    await participation.choose_language(42, 2, "en")
    outcome = await participation.consent(42, 3, "n")
    assert outcome.says == (Say("declined"),)
    assert (await get_session(db, 42, "basic")).participant is None


async def test_an_answer_echoes_and_moves_on(participation: Participation) -> None:
    phone = Phone(participation)
    await phone.through_consent()
    outcome = await participation.press(42, phone.next_id(), phone.press(Action.ANSWER, 0))
    assert isinstance(outcome.pressed, Echo) and outcome.pressed.value == "yes"
    assert asked(outcome).question.id == "hours" and asked(outcome).can_go_back


async def test_a_redelivered_toggle_does_not_flip_the_tick_back(
    participation: Participation, db: Database,
) -> None:
    phone = Phone(participation)
    phone.follow(await phone.through_consent())
    phone.follow(await participation.press(42, phone.next_id(), phone.press(Action.ANSWER, 0)))
    phone.follow(await participation.type_text(42, phone.next_id(), "20"))
    toggle = phone.press(Action.TOGGLE, 1)
    first = await participation.press(42, phone.next_id(), toggle)
    assert isinstance(first.pressed, Redraw) and first.pressed.asking.draft == {"care"}
    again = await participation.press(42, phone.last_update, toggle)  # the same update
    assert again.pressed is None
    session = await get_session(db, 42, "basic")
    assert session.response is not None and session.response.draft == "care"


async def test_a_redelivered_answer_changes_nothing_and_shows_what_was_not_shown(
    participation: Participation, db: Database,
) -> None:
    phone = Phone(participation)
    await phone.through_consent()
    update = phone.next_id()
    first = await participation.press(42, update, phone.press(Action.ANSWER, 0))
    assert asked(first).question.id == "hours"
    # the reply never went out (the process died): the redelivery shows the question
    replay = await participation.press(42, update, phone.press(Action.ANSWER, 1))
    assert asked(replay).question.id == "hours"
    assert (await get_session(db, 42, "basic")).answers == {"work": "yes"}
    # once the question was shown, a redelivery sends nothing
    await participation.shown(42, 99, "hours")
    assert await participation.press(42, update, phone.press(Action.ANSWER, 1)) == \
        Outcome("en")


async def test_a_refused_answer_says_why_and_stores_nothing(
    participation: Participation, db: Database,
) -> None:
    phone = Phone(participation)
    await phone.through_consent()
    await participation.press(42, phone.next_id(), phone.press(Action.ANSWER, 0))
    outcome = await participation.type_text(42, phone.next_id(), "200")
    assert outcome.says == (Say("too_large", {"maximum": 80}),) and outcome.screen is None
    assert (await get_session(db, 42, "basic")).answers == {"work": "yes"}


async def test_a_press_on_another_question_is_stale(participation: Participation) -> None:
    phone = Phone(participation)
    await phone.through_consent()
    press = Press(Action.ANSWER, participation.survey.fingerprint, 3, 0, 7)
    assert (await participation.press(42, phone.next_id(), press)).stale
    other = Press(Action.ANSWER, "0" * 16, 0, 0, 7)
    assert (await participation.press(42, phone.next_id(), other)).stale


async def test_back_then_the_end(participation: Participation) -> None:
    phone = Phone(participation)
    await phone.through_consent()
    await participation.press(42, phone.next_id(), phone.press(Action.ANSWER, 1))  # no work
    outcome = await participation.navigate(42, phone.next_id(), Action.BACK)
    assert asked(outcome).question.id == "work" and asked(outcome).previous == "no"
    phone.current_index = 0
    await participation.press(42, phone.next_id(), phone.press(Action.ANSWER, 1))
    for _ in range(3):  # born, rating, income are optional
        await participation.navigate(42, phone.next_id(), Action.SKIP)
    outcome = await participation.navigate(42, phone.next_id(), Action.SKIP)
    screen = outcome.screen
    assert isinstance(screen, Next) and screen.then == Completion(None, True)


async def test_delete_erases_a_subscription_made_before_start(
    participation: Participation, db: Database,
) -> None:
    await participation.subscribe(42, 1, "en")
    assert (await participation.my_data(42)).screen is not None
    outcome = await participation.ask_to_delete(42)
    assert outcome.screen is not None  # there is something to delete
    outcome = await participation.delete(42, 2, confirmed=True)
    assert outcome.pressed == Replaced(Say("deleted"))
    assert (await participation.ask_to_delete(42)).says == (Say("nothing_stored"),)
