"""The participant's own data and choices: /mydata, /delete, summaries, reminders."""

from __future__ import annotations

import asyncio
import logging

from storage.db import checkpoint, transaction
from storage.events import record_event
from storage.sessions import get_session
from storage.subscriptions import get_subscription

from bot import media
from bot.i18n import best_language
from bot.participation.base import Base
from bot.participation.outcomes import (
    Closed,
    DeleteQuestion,
    MyData,
    Outcome,
    Replaced,
    Say,
    StoredAnswer,
)
from bot.survey.walk import slot_of
from storage import participants, subscriptions

logger = logging.getLogger(__name__)


class Privacy(Base):
    """Summaries (/subscribe, /unsubscribe), reminders (/stop), /mydata and /delete."""

    # --- summaries ----------------------------------------------------------------------

    async def subscribe(self, user_id: int, update_id: int, app_language: str | None, *,
                        pressed: bool = False) -> Outcome:
        """Receive summaries of the results (/subscribe, or "Yes" to the offer at the end)."""
        now = self.clock()
        async with transaction(self.db, user_id) as tx:
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
        async with transaction(self.db, user_id) as tx:
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
            found = []
            for key, value in progress.answers.items():  # in the order they were asked
                slot = slot_of(self.survey, key)
                if slot is None or slot.question is None:
                    continue
                found.append(StoredAnswer(
                    slot.question, self._text(slot.question, language, progress.answers,
                                              slot.rounds),
                    value, self._rounds(progress, slot.rounds, language, now)))
            stored = tuple(found)
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
        async with transaction(self.db, user_id) as tx:
            session, _ = await self._claim(tx, user_id, update_id, now)
            language = self._chosen(session)
            if not confirmed:
                return Outcome(language, pressed=Replaced(Say("nothing_deleted")))
            try:
                files = await participants.delete_participant(tx, user_id)
            except participants.NothingStored:
                return Outcome(language, pressed=Replaced(Say("nothing_stored")))
            if session.participant is not None:
                await record_event(tx, "deleted", language, now)
        removed = await asyncio.to_thread(media.forget, self.database_path, files)
        if not await checkpoint(self.db):
            logger.info("erasure reaches the database file at the next checkpoint (a reader "
                        "was busy)")
        logger.info("participant erased their data (%d file(s))", removed)
        return Outcome(language, pressed=Replaced(Say("deleted")))

    # --- reminders -------------------------------------------------------------------

    async def stop_reminders(self, user_id: int, update_id: int, *, pressed: bool = False
                             ) -> Outcome:
        """No more reminders (/stop, or "Stop reminders" under a reminder)."""
        now = self.clock()
        async with transaction(self.db, user_id) as tx:
            session, _ = await self._claim(tx, user_id, update_id, now)
            if session.participant is not None:
                await participants.set_reminders_off(tx, user_id, True)
        return Outcome(self._chosen(session), pressed=Closed() if pressed else None,
                       says=(Say("reminders_stopped"),))
