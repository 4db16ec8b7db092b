"""Answering: button presses, typed answers, /back and /skip, files and places."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Sequence

from storage.db import Connection, transaction
from storage.sessions import Session, get_session

from bot import media
from bot.participation.base import SEARCHABLE_ABOVE, TYPED, Base, _with_says
from bot.participation.inputs import Action, Attachment, AttachmentUnavailable, Place, Press, _takes
from bot.participation.outcomes import (
    Closed,
    Echo,
    LanguagePicker,
    Next,
    Outcome,
    Redraw,
    Say,
    SearchResults,
)
from bot.survey import engine
from bot.survey.engine import Progress, RoundsDiscarded, Slot, Step, SurveyFlowError
from bot.survey.model import MEDIA_TYPES, Question, QuestionType
from bot.survey.search import Offered, find_choice, match_typed, normalize
from bot.survey.walk import slot_of
from storage import responses

logger = logging.getLogger(__name__)


class Answering(Base):
    """A press on a question's button, a typed answer, /back and /skip, a file or a place."""

    async def press(self, user_id: int, update_id: int, press: Press) -> Outcome:
        """A press on a question's button (answer, tick, page, skip, keep or go back), or on
        a review's (add a round, correct one, go on)."""
        now = self.clock()
        async with transaction(self.db, user_id) as tx:
            session, fresh = await self._claim(tx, user_id, update_id, now)
            language = self._language(session)
            if not fresh:
                return self._replay(session, now)
            progress = self._progress(session, now)
            slot = self._slot(progress)
            if (slot is None or progress is None or press.fingerprint != self.survey.fingerprint
                    or not _on(slot, press)):
                return Outcome(language, stale=True)
            question = slot.question
            if question is None:
                return await self._review_press(tx, user_id, session, progress, press,
                                                language, now)
            question = self._offered(question, progress, now)
            if press.action is Action.PAGE:
                asking = self._asking(progress, language, now, draft=self._draft(session, slot.key),
                                      page=press.number or 0)
                return Outcome(language, pressed=Redraw(asking))
            if press.action is Action.TOGGLE:
                return await self._toggle(tx, session, progress, slot, question, press, language,
                                          now)
            if press.action is Action.KEEP_ROUNDS:
                assert session.response is not None
                await responses.set_draft(tx, session.response.id, None)
                return Outcome(language, pressed=Closed(),
                               screen=Next((), self._asking(progress, language, now)))
            try:
                step = self._step(press, session, progress, slot, question, now)
            except RoundsDiscarded as error:
                raw = self._raw(press, session, slot.key, question)
                return await self._confirm_discard(tx, session, progress, error, press, raw,
                                                   language, now)
            except SurveyFlowError as error:
                return Outcome(language, says=(self._refusal(question, error, language),))
            outcome = await self._advance(tx, user_id, session, question, step,
                                          language, now, answered=press.action is not Action.BACK,
                                          pressed_message=press.message_id)
        await self._forget_replaced(progress, step)
        return outcome

    async def _review_press(self, tx: Connection, user_id: int, session: Session,
                            progress: Progress, press: Press, language: str,
                            now: dt.datetime) -> Outcome:
        """A review's button: add a round, correct one, go on, or go back."""
        survey = self.survey
        try:
            match press.action:
                case Action.ADD:
                    step = engine.add_round(survey, progress, now)
                case Action.CORRECT:
                    step = engine.correct_round(survey, progress, press.number or 0, now)
                case Action.CONTINUE:
                    step = engine.go_on(survey, progress, now)
                case _:
                    step = engine.back(survey, progress, now)
        except SurveyFlowError:
            return Outcome(language, stale=True)
        return await self._advance(tx, user_id, session, None, step, language, now,
                                   answered=False, pressed_message=press.message_id)

    async def _confirm_discard(self, tx: Connection, session: Session,
                               progress: Progress, error: RoundsDiscarded, press: Press | None,
                               raw: str | None, language: str, now: dt.datetime) -> Outcome:
        """Ask before an answer erases whole rounds; the answer waits in the draft."""
        assert session.response is not None
        pending = 0 if raw is not None else 1 if press is None or press.action is Action.SKIP \
            else 2
        await responses.set_draft(tx, session.response.id, raw)
        screen = self._discard(session, progress, error, pending, language, now)
        if press is not None and press.message_id is not None:
            return Outcome(language, pressed=Closed(), screen=screen)
        return Outcome(language, retire=self._recorded(session), screen=screen)

    def _raw(self, press: Press, session: Session, key: str, question: Question) -> str | None:
        """The answer a press gave, to be kept while the participant confirms (None: a skip
        or a keep)."""
        match press.action:
            case Action.SKIP | Action.KEEP:
                return None
            case Action.DONE:
                return " ".join(sorted(self._draft(session, key)))
            case Action.DISCARD:
                response = session.response
                return response.draft if response is not None and press.number == 0 else None
            case _ if question.type is QuestionType.SCALE:
                return str(press.number)
        number = press.number if press.number is not None else -1
        return question.choices[number].id if 0 <= number < len(question.choices) else None

    async def _toggle(self, tx: Connection, session: Session, progress: Progress,
                      slot: Slot, question: Question, press: Press, language: str,
                      now: dt.datetime) -> Outcome:
        number = press.number
        if question.type is not QuestionType.SELECT_MULTIPLE or number is None or not (
                0 <= number < len(question.choices)):
            return Outcome(language, stale=True)
        assert session.response is not None
        choice = question.choices[number].id
        ticked = self._draft(session, slot.key) ^ {choice}
        draft = " ".join(c.id for c in question.choices if c.id in ticked)
        await responses.set_draft(tx, session.response.id, draft)
        asking = self._asking(progress, language, now, draft=ticked,
                              page=self._page_of(question, language, choice))
        return Outcome(language, pressed=Redraw(asking))

    def _step(self, press: Press, session: Session, progress: Progress, slot: Slot,
              question: Question, now: dt.datetime) -> Step:
        """The engine's transition for a button (raises what the engine refuses)."""
        survey = self.survey
        match press.action:
            case Action.BACK:
                return engine.back(survey, progress, now)
            case Action.SKIP:
                return engine.skip(survey, progress, now)
            case Action.KEEP:
                return engine.keep(survey, progress, now)
            case Action.DISCARD if press.number == 1:
                return engine.skip(survey, progress, now, discard=True)
            case Action.DISCARD if press.number == 2:
                return engine.keep(survey, progress, now, discard=True)
            case Action.DISCARD:
                response = session.response
                raw = response.draft if response is not None and response.draft else ""
                return engine.answer(survey, progress, raw, now, discard=True)
            case Action.DONE:
                raw = " ".join(sorted(self._draft(session, slot.key)))
            case _ if question.type is QuestionType.SCALE:
                raw = str(press.number)
            case _:
                number = press.number if press.number is not None else -1
                raw = question.choices[number].id if 0 <= number < len(question.choices) else ""
        return engine.answer(survey, progress, raw, now)

    async def type_text(self, user_id: int, update_id: int, text: str) -> Outcome:
        """A typed message: the answer to a typed question, a search in a long list, a
        command typed as a word ("help", "aide", "مساعدة"), or a hint.

        A command word is taken as the command wherever it is not an answer: outside
        the survey, and on any question but a free-text one, unless it is a choice.
        """
        now = self.clock()
        command = self.command_words.get(normalize(text.strip(_SENTENCE_MARKS)))
        try:
            return await self._typed(user_id, update_id, text, command, now)
        except _Redirect as redirect:  # rolled back: the command claims the update itself
            return redirect.outcome

    async def _typed(self, user_id: int, update_id: int, text: str, command: str | None,
                     now: dt.datetime) -> Outcome:
        async with transaction(self.db, user_id) as tx:
            session, fresh = await self._claim(tx, user_id, update_id, now)
            language = self._language(session)
            if not fresh:
                return self._replay(session, now)
            progress = self._progress(session, now)
            slot = self._slot(progress)
            if slot is None or progress is None:
                if command:
                    raise _Redirect(Outcome(language, command=command))
                return Outcome(language, says=(self._not_in_survey(session, long=True),))
            question = slot.question
            if question is None:  # a review: its buttons say what to do
                if command:
                    raise _Redirect(Outcome(language, command=command))
                return Outcome(language, says=(Say("use_buttons_above"),))
            question = self._offered(question, progress, now)
            if question.type is QuestionType.TEXT:
                command = None
            long_list = len(question.choices) > SEARCHABLE_ABOVE
            raw: str | None = text
            if question.type is QuestionType.SELECT_ONE and long_list:
                offered = {c.id for c in engine.available_choices(self.survey, progress, now)}
                found = find_choice(question, language, text, available=offered)
                if isinstance(found, Offered):
                    if command and not found.choices:
                        raise _Redirect(Outcome(language, command=command))
                    return Outcome(language, screen=SearchResults(
                        question, found.choices, tuple(n for _, n in slot.rounds)))
                raw = found.choice.id  # named beyond doubt: taken without a tap
            elif question.type is QuestionType.SELECT_ONE:
                raw = match_typed(question, text)  # typed a label instead of pressing it
            elif question.type not in TYPED and question.type is not QuestionType.SCALE:
                raw = None
            if raw is None:
                if command:
                    raise _Redirect(Outcome(language, command=command))
                return self._expected(session, progress, question, language, now)
            try:
                step = engine.answer(self.survey, progress, raw, now)
            except RoundsDiscarded as error:
                return await self._confirm_discard(tx, session, progress, error, None, raw,
                                                   language, now)
            except SurveyFlowError as error:
                if command:
                    raise _Redirect(Outcome(language, command=command)) from None
                return Outcome(language, says=(self._refusal(question, error, language),))
            outcome = await self._advance(tx, user_id, session, question, step, language, now,
                                          echo_typed=raw != text)
        await self._forget_replaced(progress, step)
        return outcome

    async def navigate(self, user_id: int, update_id: int, action: Action) -> Outcome:
        """/back or /skip typed as a command."""
        now = self.clock()
        async with transaction(self.db, user_id) as tx:
            session, fresh = await self._claim(tx, user_id, update_id, now)
            language = self._language(session)
            if not fresh:
                return self._replay(session, now)
            progress = self._progress(session, now)
            slot = self._slot(progress)
            participant = session.participant
            if (action is Action.BACK and participant is not None and not participant.consented
                    and participant.language):  # on the consent notice: back to the languages
                return Outcome(language, screen=LanguagePicker(self._languages()))
            if slot is None or progress is None:
                return Outcome(language, says=(self._not_in_survey(session),))
            question = slot.question
            if question is None and action is not Action.BACK:
                return Outcome(language, says=(Say("use_buttons_above"),))
            try:
                step = (engine.back(self.survey, progress, now) if action is Action.BACK
                        else engine.skip(self.survey, progress, now))
            except RoundsDiscarded as error:
                skipped = Press(Action.SKIP, "", 0, None, None)
                return await self._confirm_discard(tx, session, progress, error, skipped, None,
                                                   language, now)
            except SurveyFlowError as error:
                assert question is not None
                return Outcome(language, says=(self._refusal(question, error, language),))
            outcome = await self._advance(tx, user_id, session, question, step, language, now,
                                          answered=action is not Action.BACK)
        await self._forget_replaced(progress, step)
        return outcome

    async def send_media(self, user_id: int, update_id: int,
                         attachments: Sequence[Attachment] = (),
                         place: Place | None = None) -> Outcome:
        """A photo, voice note, video, file or location: the answer to the question, or a hint.

        The file is fetched and stored before the transaction (which must not wait
        on the network), then kept only if the answer is.
        """
        now = self.clock()
        session = await get_session(self.db, user_id, self.survey.id)
        language = self._language(session)
        question = self._current(self._progress(session, now))
        if question is None or (question.type not in MEDIA_TYPES
                                and question.type is not QuestionType.LOCATION):
            logger.info("unsupported message type ignored")
            return Outcome(language, says=(Say("unsupported"),))
        expected = Outcome(language, says=(Say("expected", {"type": question.type}),))
        if question.type is QuestionType.LOCATION:
            if place is None:
                return expected
            accuracy = place.accuracy or 0
            raw = f"{place.latitude} {place.longitude} 0 {accuracy}"
        else:
            attachment = next((a for a in attachments if _takes(question, a)), None)
            if attachment is None:
                return expected
            received = await self._receive(attachment, question, language)
            if isinstance(received, Outcome):
                return received
            raw = received
        outcome = await self._answer_media(user_id, update_id, question, raw, now)
        return outcome

    async def _receive(self, attachment: Attachment, question: Question,
                       language: str) -> str | Outcome:
        """The stored file's answer value, or the outcome that says why there is none."""
        too_large = Outcome(language, says=(Say("file_too_large",
                                                {"size": media.MAX_BYTES // (1024 * 1024)}),))
        if attachment.size is not None and attachment.size > media.MAX_BYTES:
            return too_large
        try:
            data = await attachment.fetch()
        except AttachmentUnavailable:
            return Outcome(language, says=(Say("file_not_received"),))
        if len(data) > media.MAX_BYTES:
            return too_large
        return await asyncio.to_thread(media.store, self.database_path, data, question.type)

    async def _answer_media(self, user_id: int, update_id: int, question: Question, raw: str,
                            now: dt.datetime) -> Outcome:
        stored = False
        try:
            async with transaction(self.db, user_id) as tx:
                session, fresh = await self._claim(tx, user_id, update_id, now)
                language = self._language(session)
                progress = self._progress(session, now)
                slot = self._slot(progress)
                if not fresh or progress is None or slot is None or slot.question is not question:
                    return self._replay(session, now)
                try:
                    step = engine.answer(self.survey, progress, raw, now)
                except SurveyFlowError as error:
                    return Outcome(language, says=(self._refusal(question, error, language),))
                outcome = await self._advance(tx, user_id, session, question, step, language,
                                              now)
            stored = True
        finally:
            if not stored:
                await asyncio.to_thread(media.forget, self.database_path, [raw])
        await self._forget_replaced(progress, step)
        if question.type is QuestionType.LOCATION:
            return _with_says(outcome, Say("location_received"))
        return outcome

    async def _advance(self, tx: Connection, user_id: int, session: Session,
                       question: Question | None, step: Step, language: str, now: dt.datetime,
                       *, answered: bool = True, pressed_message: int | None = None,
                       echo_typed: bool = False) -> Outcome:
        """Store a step; the reply echoes the answer (or closes the pressed message) and
        shows what comes next. ``echo_typed``: the answer is not what was typed (a country
        found from a misspelt name): the question message shows it."""
        response = session.response
        assert response is not None
        changes = step.changes(question) if answered else step.changes()
        await responses.save_step(tx, response, survey_version=self.survey.version,
                                  answered=changes, dropped=step.dropped,
                                  current=step.progress.current, now=now)
        if step.progress.current is None and response.completed_at is None:
            logger.info("response completed (survey %s)", self.survey.id)
        screen = await self._next(tx, user_id, step, language, now)
        echo = None
        if answered and question is not None:
            echo = self._echo(question, step, changes, language, now)
        pressed = None
        if pressed_message is not None:
            pressed = echo if echo is not None else Closed()
        recorded = response.question_message_id
        if echo_typed and recorded is not None and echo is not None:
            return Outcome(language, pressed=echo, echo_in=recorded, screen=screen)
        retire = recorded if recorded != pressed_message else None
        return Outcome(language, pressed=pressed, retire=retire, screen=screen)

    def _echo(self, question: Question, step: Step, changes: dict[str, str | None],
              language: str, now: dt.datetime) -> Echo:
        """The answered question's message: the question (in its round) and the answer."""
        key = step.answered or question.id
        slot = slot_of(self.survey, key)
        rounds = slot.rounds if slot is not None else ()
        answers = step.progress.answers
        return Echo(question, self._text(question, language, answers, rounds), changes.get(key),
                    answers, self._rounds(step.progress, rounds, language, now))

    async def shown(self, user_id: int, message_id: int, key: str) -> None:
        """The reply showed the place ``key`` (a question in its round, or a review) in
        message ``message_id`` (one statement)."""
        await responses.set_question_message(self.db, user_id, self.survey.id, message_id, key)


    # --- what else a participant may send ------------------------------------------------

    async def stale(self, user_id: int) -> Outcome:
        """A press on a button that does nothing any more (or was never ours)."""
        return Outcome(await self.language_of(user_id), stale=True)

    async def unsupported(self, user_id: int) -> Outcome:
        """A sticker, contact, poll…: nothing is stored; a hint says what would be read."""
        now = self.clock()
        session = await get_session(self.db, user_id, self.survey.id)
        question = self._current(self._progress(session, now))
        logger.info("unsupported message type ignored")
        if question is not None and (question.type in MEDIA_TYPES
                                     or question.type is QuestionType.LOCATION):
            return Outcome(self._chosen(session), says=(Say("expected", {"type": question.type}),))
        return Outcome(self._chosen(session), says=(Say("unsupported"),))


_REVIEW_ACTIONS = frozenset({Action.ADD, Action.CORRECT, Action.CONTINUE, Action.BACK})


def _on(slot: Slot, press: Press) -> bool:
    """True when the pressed button belongs to the place the participant is at (the same
    question in the same rounds, or the same review)."""
    if press.rounds != tuple(number for _, number in slot.rounds):
        return False
    if slot.repeat is not None:
        return press.question == slot.repeat.start and press.action in _REVIEW_ACTIONS
    assert slot.question is not None
    return (press.question == slot.question.index
            and (press.action is Action.BACK or press.action not in _REVIEW_ACTIONS))


_SENTENCE_MARKS = " .!?¿¡؟।۔。！？"  # around a word typed for a command, in every script


class _Redirect(Exception):
    """A command typed as a word: the transaction is rolled back, the command runs."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.command)
        self.outcome = outcome
