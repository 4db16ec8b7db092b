"""Opening the bot: /start, the language, consent; and coming back after a reminder."""

from __future__ import annotations

import datetime as dt
import logging

from storage.db import Connection, transaction
from storage.events import record_event
from storage.sessions import Session, get_session

from bot.i18n import best_language
from bot.participation.base import Base
from bot.participation.outcomes import (
    Closed,
    ConsentScreen,
    LanguagePicker,
    LanguageSet,
    Next,
    Outcome,
    Say,
)
from bot.survey import engine
from storage import participants, responses

logger = logging.getLogger(__name__)


class Opening(Base):
    """/start, the language picker, consent, and "Continue" under a reminder."""

    async def start(self, user_id: int, update_id: int, source: str | None,
                    app_language: str | None) -> Outcome:
        """Begin the consultation, or pick up where the participant left off."""
        now = self.clock()
        async with transaction(self.db, user_id) as tx:
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
        async with transaction(self.db, user_id) as tx:
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
        async with transaction(self.db, user_id) as tx:
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

    async def _begin(self, tx: Connection, user_id: int, session: Session,
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


    # --- coming back --------------------------------------------------------------------

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

    async def pick_language(self, user_id: int) -> Outcome:
        """/language: the picker, every language of the survey."""
        return Outcome(await self.language_of(user_id),
                       screen=LanguagePicker(self.survey.languages))
