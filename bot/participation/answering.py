"""Answering: button presses, typed answers, /back and /skip, files and places."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Sequence

import aiosqlite
from storage.db import transaction
from storage.sessions import Session, get_session

from bot import media
from bot.participation.base import SEARCHABLE_ABOVE, TYPED, Base, _with_says
from bot.participation.inputs import Action, Attachment, AttachmentUnavailable, Place, Press, _takes
from bot.participation.outcomes import (
    Closed,
    Echo,
    LanguagePicker,
    Outcome,
    Redraw,
    Say,
    SearchResults,
)
from bot.survey import engine
from bot.survey.engine import Progress, Step, SurveyFlowError
from bot.survey.model import MEDIA_TYPES, Question, QuestionType
from bot.survey.search import Offered, find_choice, match_typed, normalize
from storage import responses

logger = logging.getLogger(__name__)


class Answering(Base):
    """A press on a question's button, a typed answer, /back and /skip, a file or a place."""

    async def press(self, user_id: int, update_id: int, press: Press) -> Outcome:
        """A press on a question's button: answer, tick, page, skip, keep or go back."""
        now = self.clock()
        async with transaction(self.db) as tx:
            session, fresh = await self._claim(tx, user_id, update_id, now)
            language = self._language(session)
            if not fresh:
                return self._replay(session, now)
            progress = self._progress(session, now)
            question = self._current(progress)
            if (question is None or progress is None or press.fingerprint != self.survey.fingerprint
                    or press.question != question.index):
                return Outcome(language, stale=True)
            if press.action is Action.PAGE:
                asking = self._asking(progress, language, now, draft=self._draft(session, question),
                                      page=press.number or 0)
                return Outcome(language, pressed=Redraw(asking))
            if press.action is Action.TOGGLE:
                return await self._toggle(tx, session, progress, question, press, language, now)
            try:
                step = self._step(press, session, progress, question, now)
            except SurveyFlowError as error:
                return Outcome(language, says=(self._refusal(question, error, language),))
            outcome = await self._advance(tx, user_id, session, question, step,
                                          language, now, answered=press.action is not Action.BACK,
                                          pressed_message=press.message_id)
        await self._forget_replaced(progress, step)
        return outcome

    async def _toggle(self, tx: aiosqlite.Connection, session: Session, progress: Progress,
                      question: Question, press: Press, language: str,
                      now: dt.datetime) -> Outcome:
        number = press.number
        if question.type is not QuestionType.SELECT_MULTIPLE or number is None or not (
                0 <= number < len(question.choices)):
            return Outcome(language, stale=True)
        assert session.response is not None
        choice = question.choices[number].id
        ticked = self._draft(session, question) ^ {choice}
        draft = " ".join(c.id for c in question.choices if c.id in ticked)
        await responses.set_draft(tx, session.response.id, draft)
        asking = self._asking(progress, language, now, draft=ticked,
                              page=self._page_of(question, language, choice))
        return Outcome(language, pressed=Redraw(asking))

    def _step(self, press: Press, session: Session, progress: Progress, question: Question,
              now: dt.datetime) -> Step:
        """The engine's transition for a button (raises what the engine refuses)."""
        survey = self.survey
        match press.action:
            case Action.BACK:
                return engine.back(survey, progress, now)
            case Action.SKIP:
                return engine.skip(survey, progress, now)
            case Action.KEEP:
                return engine.keep(survey, progress, now)
            case Action.DONE:
                raw = " ".join(sorted(self._draft(session, question)))
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
        async with transaction(self.db) as tx:
            session, fresh = await self._claim(tx, user_id, update_id, now)
            language = self._language(session)
            if not fresh:
                return self._replay(session, now)
            progress = self._progress(session, now)
            question = self._current(progress)
            if question is None or progress is None:
                if command:
                    raise _Redirect(Outcome(language, command=command))
                return Outcome(language, says=(self._not_in_survey(session, long=True),))
            if question.type is QuestionType.TEXT:
                command = None
            long_list = len(question.choices) > SEARCHABLE_ABOVE
            raw: str | None = text
            if question.type is QuestionType.SELECT_ONE and long_list:
                offered = {c.id for c in engine.available_choices(
                    self.survey, question, progress.answers, now)}
                found = find_choice(question, language, text, available=offered)
                if isinstance(found, Offered):
                    if command and not found.choices:
                        raise _Redirect(Outcome(language, command=command))
                    return Outcome(language, screen=SearchResults(question, found.choices))
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
        async with transaction(self.db) as tx:
            session, fresh = await self._claim(tx, user_id, update_id, now)
            language = self._language(session)
            if not fresh:
                return self._replay(session, now)
            progress = self._progress(session, now)
            question = self._current(progress)
            participant = session.participant
            if (action is Action.BACK and participant is not None and not participant.consented
                    and participant.language):  # on the consent notice: back to the languages
                return Outcome(language, screen=LanguagePicker(self._languages()))
            if question is None or progress is None:
                return Outcome(language, says=(self._not_in_survey(session),))
            try:
                step = (engine.back(self.survey, progress, now) if action is Action.BACK
                        else engine.skip(self.survey, progress, now))
            except SurveyFlowError as error:
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
            async with transaction(self.db) as tx:
                session, fresh = await self._claim(tx, user_id, update_id, now)
                language = self._language(session)
                progress = self._progress(session, now)
                if not fresh or progress is None or progress.current != question.id:
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

    async def _advance(self, tx: aiosqlite.Connection, user_id: int, session: Session,
                       question: Question, step: Step, language: str, now: dt.datetime, *,
                       answered: bool = True, pressed_message: int | None = None,
                       echo_typed: bool = False) -> Outcome:
        """Store a step; the reply echoes the answer (or closes the pressed message) and
        shows what comes next. ``echo_typed``: the answer is not what was typed (a country
        found from a misspelt name): the question message shows it."""
        response = session.response
        assert response is not None
        changes = step.changes(question) if answered else {}
        await responses.save_step(tx, response, survey_version=self.survey.version,
                                  answered=changes, dropped=step.dropped,
                                  current=step.progress.current, now=now)
        if step.progress.current is None and response.completed_at is None:
            logger.info("response completed (survey %s)", self.survey.id)
        screen = await self._next(tx, user_id, step, language, now)
        pressed = None
        if pressed_message is not None:
            pressed = (Echo(question, self._text(question, language, step.progress.answers),
                            changes[question.id], step.progress.answers)
                       if answered else Closed())
        recorded = response.question_message_id
        if echo_typed and recorded is not None:
            echo = Echo(question, self._text(question, language, step.progress.answers),
                        changes[question.id], step.progress.answers)
            return Outcome(language, pressed=echo, echo_in=recorded, screen=screen)
        retire = recorded if recorded != pressed_message else None
        return Outcome(language, pressed=pressed, retire=retire, screen=screen)

    async def shown(self, user_id: int, message_id: int, question_id: str) -> None:
        """The reply showed ``question_id`` in message ``message_id`` (one statement)."""
        await responses.set_question_message(self.db, user_id, self.survey.id, message_id,
                                             question_id)


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


_SENTENCE_MARKS = " .!?¿¡؟।۔。！？"  # around a word typed for a command, in every script


class _Redirect(Exception):
    """A command typed as a word: the transaction is rolled back, the command runs."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.command)
        self.outcome = outcome
