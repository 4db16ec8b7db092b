"""The participant's use cases: start, language, consent, answer, back, skip, media…

Every channel calls these: the Telegram handlers today, a web page or a webhook
worker tomorrow. Nothing here knows Telegram. Each use case that changes state
is one call that

1. claims the update first, inside one transaction: an update delivered a
   second time changes nothing (:meth:`Participation._replay` shows the
   current question again only if the reply to the first delivery never went
   out);
2. loads the participant, their response and its answers once
   (:func:`storage.sessions.get_session`);
3. asks the engine, writes once, and commits before anything is sent;
4. returns an :class:`~bot.outcomes.Outcome` that says everything the reply
   needs.

After the reply shows a question, :meth:`Participation.shown` records which
message shows it (so its buttons can be taken away later).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import aiosqlite
from storage.db import Database, transaction
from storage.events import record_event
from storage.sessions import Session, get_session
from storage.subscriptions import get_subscription
from storage.updates import claim_update

from bot import media
from bot.i18n import best_language
from bot.outcomes import (
    Asking,
    Closed,
    Completion,
    ConsentScreen,
    DeleteQuestion,
    Echo,
    LanguagePicker,
    LanguageSet,
    MyData,
    Next,
    Note,
    Outcome,
    Redraw,
    Replaced,
    Say,
    SearchResults,
    StoredAnswer,
)
from bot.survey import engine
from bot.survey.engine import GateClosed, InvalidAnswer, Progress, Step, SurveyFlowError
from bot.survey.model import MEDIA_TYPES, Question, QuestionType, Survey
from bot.survey.search import match_typed, ordered_choices, search_choices
from storage import participants, responses, subscriptions

logger = logging.getLogger(__name__)

SEARCHABLE_ABOVE = 12  # a choice list longer than this is paged, and searched by typing
PAGE_SIZE = 8
TYPED = frozenset({QuestionType.TEXT, QuestionType.INTEGER, QuestionType.DECIMAL,
                   QuestionType.DATE, QuestionType.TIME, QuestionType.DATETIME})


class Action(StrEnum):
    """What a press on one of a question's buttons asks for."""

    ANSWER = "A"  # choose choice number n (select_one) or value n (scale)
    TOGGLE = "T"  # tick or untick choice number n (select_multiple)
    DONE = "D"  # confirm the ticked choices
    PAGE = "P"  # show page n of a long choice list
    SKIP = "S"
    BACK = "B"
    KEEP = "K"  # keep the answer given before


@dataclass(frozen=True, slots=True)
class Press:
    """A press on a question's button: which survey, question and message it was on."""

    action: Action
    fingerprint: str
    question: int  # the question's index in the survey
    number: int | None
    message_id: int | None  # the message the button is on


class AttachmentKind(StrEnum):
    PHOTO = "photo"
    VOICE = "voice"
    AUDIO = "audio"
    VIDEO = "video"
    VIDEO_NOTE = "video_note"
    DOCUMENT = "document"


class AttachmentUnavailable(Exception):
    """The file could not be fetched from where the participant sent it."""


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file a participant sent; ``fetch`` is called only if the question takes it."""

    kind: AttachmentKind
    size: int | None
    mime_type: str | None
    fetch: Callable[[], Awaitable[bytes]]


@dataclass(frozen=True, slots=True)
class Place:
    latitude: float
    longitude: float
    accuracy: float | None = None


_TAKES: dict[QuestionType, frozenset[AttachmentKind]] = {
    QuestionType.PHOTO: frozenset({AttachmentKind.PHOTO}),
    QuestionType.AUDIO: frozenset({AttachmentKind.VOICE, AttachmentKind.AUDIO}),
    QuestionType.VIDEO: frozenset({AttachmentKind.VIDEO, AttachmentKind.VIDEO_NOTE}),
    QuestionType.FILE: frozenset(AttachmentKind),
}
_DOCUMENT_MIME = {QuestionType.PHOTO: "image/", QuestionType.AUDIO: "audio/",
                  QuestionType.VIDEO: "video/"}


def _takes(question: Question, attachment: Attachment) -> bool:
    if attachment.kind in _TAKES.get(question.type, frozenset()):
        return True
    prefix = _DOCUMENT_MIME.get(question.type)
    return (attachment.kind is AttachmentKind.DOCUMENT and prefix is not None
            and (attachment.mime_type or "").startswith(prefix))


class Participation:
    """The participant's use cases over one database and one survey."""

    def __init__(self, db: Database, survey: Survey, clock: Callable[[], dt.datetime],
                 database_path: Path) -> None:
        self.db = db
        self.survey = survey
        self.clock = clock
        self.database_path = database_path

    # --- opening: /start, language, consent -----------------------------------------

    async def start(self, user_id: int, update_id: int, source: str | None,
                    app_language: str | None) -> Outcome:
        """Begin the consultation, or pick up where the participant left off."""
        now = self.clock()
        async with transaction(self.db) as tx:
            session, fresh = await self._claim(tx, user_id, update_id, now)
            if not fresh:
                return self._replay(session, now)
            participant = session.participant
            if participant is None:
                await participants.create_participant(tx, user_id, source, now)
                logger.info("participant started (source %s)", "set" if source else "none")
                first = best_language(app_language, self.survey.languages)
                return Outcome(None, screen=LanguagePicker(self._languages(first)))
            language = participant.language
            if not participant.consented:
                screen = ConsentScreen() if language else LanguagePicker(self._languages())
                return Outcome(language, screen=screen)
            progress = self._progress(session, now)
            if progress is None:
                return Outcome(language, screen=await self._begin(tx, user_id, session, now))
        if progress.completed:
            return Outcome(language, says=(Say("already_completed_long"),))
        return Outcome(language, retire=self._recorded(session), says=(Say("welcome_back"),),
                       screen=self._resume(session, progress, now))

    async def choose_language(self, user_id: int, update_id: int, language: str | None
                              ) -> Outcome:
        """Switch to the chosen language and show what comes next in it."""
        now = self.clock()
        async with transaction(self.db) as tx:
            session, fresh = await self._claim(tx, user_id, update_id, now)
            current = session.participant.language if session.participant else None
            if not fresh:
                return self._replay(session, now)
            if language not in self.survey.languages:
                return Outcome(current, stale=True)
            if session.participant is None:
                await participants.create_participant(tx, user_id, None, now)
            await participants.set_language(tx, user_id, language, now)
            if session.response is not None:
                await responses.set_response_language(tx, session.response.id, language)
            pressed = LanguageSet(language)
            if session.participant is None or not session.participant.consented:
                return Outcome(language, pressed=pressed, screen=ConsentScreen())
            progress = self._progress(session, now)
            if progress is None:
                return Outcome(language, pressed=pressed,
                               screen=await self._begin(tx, user_id, session, now))
        return Outcome(language, pressed=pressed, retire=self._recorded(session),
                       screen=self._resume(session, progress, now, language))

    async def consent(self, user_id: int, update_id: int, choice: str | None) -> Outcome:
        """"I agree" (``y``), "No thanks" (``n``) or "More information" (``i``)."""
        now = self.clock()
        async with transaction(self.db) as tx:
            session, fresh = await self._claim(tx, user_id, update_id, now)
            participant = session.participant
            language = participant.language if participant else None
            if not fresh:
                return self._replay(session, now)
            if choice not in ("y", "n", "i") or participant is None or participant.consented:
                return Outcome(language, stale=True)
            if choice == "i":
                return Outcome(language, screen=ConsentScreen(details=True))
            if choice == "n":
                await participants.delete_participant(tx, user_id)
                await record_event(tx, "declined", language, now)
                logger.info("consent declined; participant row erased")
                return Outcome(language, pressed=Closed(), says=(Say("declined"),))
            screen = await self._begin(tx, user_id, session, now)
        return Outcome(language, pressed=Closed(), screen=screen)

    async def _begin(self, tx: aiosqlite.Connection, user_id: int, session: Session,
                     now: dt.datetime) -> Next:
        """Record consent (if not yet given), open a response, and step to the first question."""
        survey, participant = self.survey, session.participant
        assert participant is not None
        step = engine.start(survey, now)
        if not participant.consented:
            await participants.save_consent(tx, user_id, now)
        if session.response is None:
            response_id = await responses.start_response(
                tx, participant_id=user_id, survey_id=survey.id, survey_version=survey.version,
                language=participant.language or survey.default_language,
                source=participant.source, current=step.progress.current, now=now)
            if step.computed:  # calculations at the very start (e.g. the start time)
                await responses.save_answers(tx, response_id, step.changes(None),
                                             survey.version, now)
        logger.info("response started (survey %s v%s)", survey.id, survey.version)
        language = participant.language or survey.default_language
        return await self._next(tx, user_id, step, language, now)

    # --- answering ------------------------------------------------------------------

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
        """A typed message: the answer to a typed question, a search in a long list, or a hint."""
        now = self.clock()
        async with transaction(self.db) as tx:
            session, fresh = await self._claim(tx, user_id, update_id, now)
            language = self._language(session)
            if not fresh:
                return self._replay(session, now)
            progress = self._progress(session, now)
            question = self._current(progress)
            if question is None or progress is None:
                return Outcome(language, says=(self._not_in_survey(session, long=True),))
            long_list = len(question.choices) > SEARCHABLE_ABOVE
            if question.type is QuestionType.SELECT_ONE and long_list:
                found = search_choices(question, language, text[:100])
                return Outcome(language, screen=SearchResults(question, tuple(found)))
            raw: str | None = text
            if question.type is QuestionType.SELECT_ONE:
                raw = match_typed(question, text)  # typed a label instead of pressing it
            elif question.type not in TYPED and question.type is not QuestionType.SCALE:
                raw = None
            if raw is None:
                return self._expected(session, progress, question, language, now)
            try:
                step = engine.answer(self.survey, progress, raw, now)
            except SurveyFlowError as error:
                return Outcome(language, says=(self._refusal(question, error, language),))
            outcome = await self._advance(tx, user_id, session, question, step, language, now)
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
        suffix = media.extension(None, attachment.mime_type)
        return await asyncio.to_thread(media.store, self.database_path, data, suffix)

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
                       answered: bool = True, pressed_message: int | None = None) -> Outcome:
        """Store a step; the reply echoes the answer (or closes the pressed message) and
        shows what comes next."""
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
        retire = recorded if recorded != pressed_message else None
        return Outcome(language, pressed=pressed, retire=retire, screen=screen)

    async def shown(self, user_id: int, message_id: int, question_id: str) -> None:
        """The reply showed ``question_id`` in message ``message_id`` (one statement)."""
        await responses.set_question_message(self.db, user_id, self.survey.id, message_id,
                                             question_id)

    # --- reminders ------------------------------------------------------------------

    async def continue_after_reminder(self, user_id: int) -> Outcome:
        """"Continue" under a reminder: the consultation where it stopped."""
        now = self.clock()
        session = await get_session(self.db, user_id, self.survey.id)
        language = self._language(session) if session.participant else None
        participant = session.participant
        if participant is None:
            return Outcome(language, pressed=Closed(), says=(Say("send_start"),))
        if not participant.consented:
            return Outcome(language, pressed=Closed(), screen=ConsentScreen())
        progress = self._progress(session, now)
        if progress is None or progress.completed:
            return Outcome(language, pressed=Closed(), says=(Say("already_completed"),))
        return Outcome(language, pressed=Closed(), retire=self._recorded(session),
                       screen=self._resume(session, progress, now))

    async def stop_reminders(self, user_id: int, update_id: int, *, pressed: bool = False
                             ) -> Outcome:
        """No more reminders (/stop, or "Stop reminders" under a reminder)."""
        now = self.clock()
        async with transaction(self.db) as tx:
            session, _ = await self._claim(tx, user_id, update_id, now)
            if session.participant is not None:
                await participants.set_reminders_off(tx, user_id, True)
        return Outcome(self._chosen(session), pressed=Closed() if pressed else None,
                       says=(Say("reminders_stopped"),))

    # --- summaries ------------------------------------------------------------------

    async def subscribe(self, user_id: int, update_id: int, app_language: str | None, *,
                        pressed: bool = False) -> Outcome:
        """Receive summaries of the results (/subscribe, or "Yes" to the offer at the end)."""
        now = self.clock()
        async with transaction(self.db) as tx:
            session, _ = await self._claim(tx, user_id, update_id, now)
            participant = session.participant
            language = (participant.language if participant else None) or best_language(
                app_language, self.survey.languages) or self.survey.default_language
            await subscriptions.subscribe(
                tx, user_id, kind="participant", language=language, name=None,
                participant_id=user_id if participant else None, now=now)
        say = Say("subscribed")
        if pressed:
            return Outcome(self._chosen(session), pressed=Replaced(say))
        return Outcome(self._chosen(session), says=(say,))

    async def decline_offer(self, user_id: int) -> Outcome:
        """"No, thank you" to the offer of summaries at the end."""
        session = await get_session(self.db, user_id, self.survey.id)
        return Outcome(self._chosen(session), pressed=Replaced(Say("offer_declined")))

    async def unsubscribe(self, user_id: int, update_id: int) -> Outcome:
        """Stop receiving summaries: one step, effective at once."""
        now = self.clock()
        async with transaction(self.db) as tx:
            session, _ = await self._claim(tx, user_id, update_id, now)
            await subscriptions.unsubscribe(tx, user_id)
        return Outcome(self._chosen(session), says=(Say("unsubscribed"),))

    # --- the participant's own data ---------------------------------------------------

    async def my_data(self, user_id: int) -> Outcome:
        """Everything stored about the participant."""
        now = self.clock()
        session = await get_session(self.db, user_id, self.survey.id)
        participant = session.participant
        subscription = await get_subscription(self.db, user_id)
        subscribed = subscription.language if subscription else None
        if participant is None:
            return Outcome(None, screen=MyData(subscribed_language=subscribed))
        language = self._language(session)
        response = session.response
        stored: tuple[StoredAnswer, ...] = ()
        progress = self._progress(session, now)
        if progress is not None:
            kept = progress.answers
            stored = tuple(StoredAnswer(q, q.text.get(language), kept[q.id])
                           for q in self.survey.questions if q.id in kept)
        return Outcome(participant.language, screen=MyData(
            created_at=participant.created_at, language=participant.language,
            source=participant.source, consented_at=participant.consented_at,
            started=response is not None,
            completed_at=response.completed_at if response else None, answers=stored,
            subscribed_language=subscribed, reminders_off=participant.reminders_off))

    async def ask_to_delete(self, user_id: int) -> Outcome:
        """/delete: ask for confirmation, if anything is stored."""
        session = await get_session(self.db, user_id, self.survey.id)
        subscription = await get_subscription(self.db, user_id)
        if session.participant is None and subscription is None:
            return Outcome(None, says=(Say("nothing_stored"),))
        return Outcome(self._chosen(session), screen=DeleteQuestion())

    async def delete(self, user_id: int, update_id: int, confirmed: bool) -> Outcome:
        """Erase everything about the participant (after "Yes"), or nothing (after "No")."""
        now = self.clock()
        async with transaction(self.db) as tx:
            session, _ = await self._claim(tx, user_id, update_id, now)
            language = self._chosen(session)
            if not confirmed:
                return Outcome(language, pressed=Replaced(Say("nothing_deleted")))
            erased = await participants.delete_participant(tx, user_id)
            if erased and session.participant is not None:
                await record_event(tx, "deleted", language, now)
        if not erased:
            return Outcome(language, pressed=Replaced(Say("nothing_stored")))
        files = await asyncio.to_thread(media.forget, self.database_path,
                                        session.answers.values())
        logger.info("participant erased their data (%d file(s))", files)
        return Outcome(language, pressed=Replaced(Say("deleted")))

    # --- what else a participant may send -------------------------------------------

    async def stale(self, user_id: int) -> Outcome:
        """A press on a button that does nothing any more (or was never ours)."""
        return Outcome(await self.language_of(user_id), stale=True)

    async def language_of(self, user_id: int) -> str | None:
        """The language the participant chose, if any (for replies outside the survey)."""
        participant = await participants.get_participant(self.db, user_id)
        return participant.language if participant else None

    async def pick_language(self, user_id: int) -> Outcome:
        """/language: the picker, every language of the survey."""
        return Outcome(await self.language_of(user_id),
                       screen=LanguagePicker(self.survey.languages))

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

    # --- reading the session --------------------------------------------------------

    async def _claim(self, tx: aiosqlite.Connection, user_id: int, update_id: int,
                     now: dt.datetime) -> tuple[Session, bool]:
        """Claim the update, then read the participant: (session, False if seen before)."""
        fresh = await claim_update(tx, update_id, now)
        return await get_session(tx, user_id, self.survey.id), fresh

    def _replay(self, session: Session, now: dt.datetime) -> Outcome:
        """A second delivery of an update already applied: nothing changes; the current
        question is shown again only if the first reply never showed it."""
        language = self._chosen(session)
        progress = self._progress(session, now)
        response = session.response
        if progress is None or progress.current is None or response is None or \
                response.shown_question == progress.current:
            return Outcome(language)
        return Outcome(language, retire=self._recorded(session),
                       screen=self._resume(session, progress, now))

    def _progress(self, session: Session, now: dt.datetime) -> Progress | None:
        participant = session.participant
        if participant is None or not participant.consented or session.response is None:
            return None
        return engine.resume(self.survey, session.answers, session.response.current,
                             now).progress

    def _current(self, progress: Progress | None) -> Question | None:
        if progress is None or progress.current is None:
            return None
        return self.survey.question(progress.current)

    def _chosen(self, session: Session) -> str | None:
        return session.participant.language if session.participant else None

    def _language(self, session: Session) -> str:
        """The language survey texts are shown in (the default one until one is chosen)."""
        return self._chosen(session) or self.survey.default_language

    def _languages(self, first: str | None = None) -> tuple[str, ...]:
        languages = list(self.survey.languages)
        if first in languages:
            languages.remove(first)
            languages.insert(0, first)
        return tuple(languages)

    @staticmethod
    def _recorded(session: Session) -> int | None:
        return session.response.question_message_id if session.response else None

    @staticmethod
    def _draft(session: Session, question: Question) -> frozenset[str]:
        """The choices ticked so far: the draft, else the answer given before."""
        response = session.response
        if response is not None and response.draft is not None:
            return frozenset(response.draft.split())
        answer = session.answers.get(question.id) if response is not None else None
        return frozenset((answer or "").split())

    # --- what the participant sees ----------------------------------------------------

    def _resume(self, session: Session, progress: Progress, now: dt.datetime,
                language: str | None = None) -> Next:
        """The current question again (with the ticks of a multi-select question so far)."""
        language = language or self._language(session)
        question = self._current(progress)
        assert question is not None
        draft = None
        if session.response is not None and session.response.draft is not None:
            draft = frozenset(session.response.draft.split())
        return Next((), self._asking(progress, language, now, draft=draft))

    async def _next(self, source: aiosqlite.Connection, user_id: int, step: Step,
                    language: str, now: dt.datetime) -> Next:
        answers = step.progress.answers
        notes = tuple(self._note(note, language, answers) for note in step.notes)
        if step.progress.current is not None:
            return Next(notes, self._asking(step.progress, language, now))
        closing = self.survey.closing.get(language) if self.survey.closing else None
        subscribed = await get_subscription(source, user_id) is not None
        return Next(notes, Completion(closing, offer_subscription=not subscribed))

    def _asking(self, progress: Progress, language: str, now: dt.datetime, *,
                draft: frozenset[str] | None = None, page: int | None = None) -> Asking:
        survey = self.survey
        question = self._current(progress)
        assert question is not None
        answers = progress.answers
        offered = {c.id for c in engine.available_choices(survey, question, answers, now)}
        choices = tuple(c for c in ordered_choices(question, language) if c.id in offered)
        has_previous = question.id in answers or question.default is not None
        previous = answers[question.id] if question.id in answers else question.default
        hint = (engine.interpolate(survey, question.hint.get(language), answers, language)
                if question.hint else None)
        return Asking(
            question=question, text=self._text(question, language, answers), hint=hint,
            choices=choices, position=engine.position(survey, progress, now),
            previous=previous, has_previous=has_previous,
            draft=draft if question.type is QuestionType.SELECT_MULTIPLE else None,
            page=page, can_go_back=engine.can_go_back(survey, progress, now),
            can_skip=not engine.is_required(survey, question, answers, now))

    def _note(self, note: Question, language: str, answers: engine.Answers) -> Note:
        hint = (engine.interpolate(self.survey, note.hint.get(language), answers, language)
                if note.hint else None)
        value = answers.get(note.id) if note.id in answers else note.default
        return Note(note, self._text(note, language, answers), hint,
                    value if note.read_only else None)

    def _text(self, question: Question, language: str, answers: engine.Answers) -> str:
        return engine.interpolate(self.survey, question.text.get(language), answers, language)

    @staticmethod
    def _page_of(question: Question, language: str, choice_id: str) -> int:
        """The page of a long list on which ``choice_id`` is shown."""
        for position, choice in enumerate(ordered_choices(question, language)):
            if choice.id == choice_id:
                return position // PAGE_SIZE
        return 0

    def _expected(self, session: Session, progress: Progress, question: Question,
                  language: str, now: dt.datetime) -> Outcome:
        """A message the question cannot take: say what it expects, and ask it again
        (media and location questions keep their message: the hint is enough)."""
        say = Say("expected", {"type": question.type})
        if question.type in MEDIA_TYPES or question.type is QuestionType.LOCATION:
            return Outcome(language, says=(say,))
        return Outcome(language, retire=self._recorded(session), says=(say,),
                       screen=self._resume(session, progress, now, language))

    @staticmethod
    def _not_in_survey(session: Session, *, long: bool = False) -> Say:
        participant = session.participant
        if participant is None:
            return Say("send_start")
        if not participant.consented:
            return Say("use_buttons_above" if long else "send_start")
        if session.response is None:
            return Say("send_start")
        return Say("already_completed_long" if long else "already_completed")

    def _refusal(self, question: Question, error: SurveyFlowError, language: str) -> Say:
        """What the engine refused, as a hint (the survey's own words where it has them)."""
        if isinstance(error, GateClosed):
            return Say("custom", {"text": engine.interpolate(
                self.survey, error.note.text.get(language), error.answers, language)})
        if isinstance(error, InvalidAnswer):
            if error.code == "constraint" and question.constraint_message is not None:
                return Say("custom", {"text": question.constraint_message.get(language)})
            return Say(error.code, error.params)
        if error.code == "required" and question.required_message is not None:
            return Say("custom", {"text": question.required_message.get(language)})
        return Say(error.code)

    async def _forget_replaced(self, before: Progress | None, step: Step) -> None:
        """Files of answers changed or dropped by a step are not kept."""
        if before is None:
            return
        after = step.progress.answers
        replaced = [before.answers.get(qid) for qid in (*after, *step.dropped)
                    if before.answers.get(qid) != after.get(qid)]
        if any(media.is_stored_file(value) for value in replaced):
            await asyncio.to_thread(media.forget, self.database_path, replaced)


def _with_says(outcome: Outcome, *says: Say) -> Outcome:
    return Outcome(outcome.language, outcome.stale, outcome.pressed, outcome.retire,
                   (*says, *outcome.says), outcome.screen)
