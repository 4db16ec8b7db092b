"""The ground every use case stands on: reading a participant, and what they see."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Mapping
from pathlib import Path

from storage.db import Connection, Database
from storage.sessions import Session, claim_session
from storage.subscriptions import get_subscription

from bot import media
from bot.participation.outcomes import (
    Asking,
    Completion,
    DiscardQuestion,
    Next,
    Note,
    Outcome,
    Reviewing,
    Say,
)
from bot.survey import engine
from bot.survey.engine import (
    GateClosed,
    InvalidAnswer,
    Progress,
    Rounds,
    RoundsDiscarded,
    Slot,
    Step,
    SurveyFlowError,
)
from bot.survey.model import MEDIA_TYPES, Question, QuestionType, Survey
from bot.survey.search import ordered_choices
from bot.survey.walk import slot_of
from storage import participants

logger = logging.getLogger(__name__)

SEARCHABLE_ABOVE = 12  # a choice list longer than this is paged, and searched by typing
PAGE_SIZE = 8
TYPED = frozenset({QuestionType.TEXT, QuestionType.INTEGER, QuestionType.DECIMAL,
                   QuestionType.DATE, QuestionType.TIME, QuestionType.DATETIME})


class Base:
    """What every use case shares: the database, the survey, the clock; reading a
    participant; building what they see next."""

    def __init__(self, db: Database, survey: Survey, clock: Callable[[], dt.datetime],
                 database_path: Path, command_words: Mapping[str, str] | None = None) -> None:
        self.db = db
        self.survey = survey
        self.clock = clock
        self.database_path = database_path
        self.command_words = command_words or {}  # a word people type -> the command

    async def language_of(self, user_id: int) -> str | None:
        """The language the participant chose, if any (for replies outside the survey)."""
        participant = await participants.get_participant(self.db, user_id)
        return participant.language if participant else None

    # --- reading the session --------------------------------------------------------

    async def _claim(self, tx: Connection, user_id: int, update_id: int,
                     now: dt.datetime) -> tuple[Session, bool]:
        """Claim the update and read the participant: (session, False if seen before)."""
        return await claim_session(tx, user_id, self.survey.id, update_id, now)

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

    def _slot(self, progress: Progress | None) -> Slot | None:
        """Where the participant is: a question in its rounds, a review, or nowhere."""
        if progress is None or progress.current is None:
            return None
        return slot_of(self.survey, progress.current)

    def _current(self, progress: Progress | None) -> Question | None:
        """The question being asked (None at a review, or outside the survey)."""
        slot = self._slot(progress)
        return slot.question if slot is not None else None

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
    def _draft(session: Session, key: str) -> frozenset[str]:
        """The choices ticked so far: the draft, else the answer given before."""
        response = session.response
        if response is not None and response.draft is not None:
            return frozenset(response.draft.split())
        answer = session.answers.get(key) if response is not None else None
        return frozenset((answer or "").split())


    # --- what the participant sees ----------------------------------------------------

    def _resume(self, session: Session, progress: Progress, now: dt.datetime,
                language: str | None = None) -> Next:
        """The current question again (with the ticks of a multi-select question so far),
        or the current review."""
        language = language or self._language(session)
        draft = None
        if session.response is not None and session.response.draft is not None:
            draft = frozenset(session.response.draft.split())
        return Next((), self._screen(progress, language, now, draft=draft))

    async def _next(self, source: Connection, user_id: int, step: Step,
                    language: str, now: dt.datetime) -> Next:
        keys = step.note_keys or tuple(note.id for note in step.notes)
        notes = tuple(self._note(note, key, language, step.progress, now)
                      for note, key in zip(step.notes, keys, strict=True))
        if step.progress.current is not None:
            return Next(notes, self._screen(step.progress, language, now))
        closing = self.survey.closing.get(language) if self.survey.closing else None
        subscribed = await get_subscription(source, user_id) is not None
        return Next(notes, Completion(closing, offer_subscription=not subscribed))

    def _screen(self, progress: Progress, language: str, now: dt.datetime, *,
                draft: frozenset[str] | None = None) -> Asking | Reviewing:
        """What the current place shows: its question, or the review of a repeat's rounds."""
        slot = self._slot(progress)
        assert slot is not None
        if slot.question is None:
            return self._reviewing(progress, language, now)
        return self._asking(progress, language, now, draft=draft)

    def _reviewing(self, progress: Progress, language: str, now: dt.datetime) -> Reviewing:
        review = engine.review(self.survey, progress, now, language)
        assert progress.current is not None
        return Reviewing(progress.current, review.repeat, review.rounds, review.inside,
                         review.can_add, engine.can_go_back(self.survey, progress, now))

    def _asking(self, progress: Progress, language: str, now: dt.datetime, *,
                draft: frozenset[str] | None = None, page: int | None = None) -> Asking:
        survey = self.survey
        slot = self._slot(progress)
        assert slot is not None and slot.question is not None
        question = self._offered(slot.question, progress, now)
        answers = progress.answers
        offered = {c.id for c in engine.available_choices(survey, progress, now)}
        choices = tuple(c for c in ordered_choices(question, language) if c.id in offered)
        has_previous = slot.key in answers or question.default is not None
        previous = answers[slot.key] if slot.key in answers else question.default
        hint = (engine.interpolate(survey, question.hint.get(language), answers, language,
                                   slot.rounds) if question.hint else None)
        return Asking(
            question=question, text=self._text(question, language, answers, slot.rounds),
            hint=hint, choices=choices, position=engine.position(survey, progress, now),
            previous=previous, has_previous=has_previous,
            draft=draft if question.type is QuestionType.SELECT_MULTIPLE else None,
            page=page, can_go_back=engine.can_go_back(survey, progress, now),
            can_skip=not engine.is_required(survey, progress, now),
            bounds=engine.bounds(question, now.year), key=slot.key,
            rounds=self._rounds(progress, slot.rounds, language, now))

    def _offered(self, question: Question, progress: Progress, now: dt.datetime) -> Question:
        """The question with the choices it offers now, when they are a repeat's answers."""
        if question.choices_from is None:
            return question
        return engine.with_choices(self.survey, progress, now)

    def _rounds(self, progress: Progress, rounds: Rounds, language: str, now: dt.datetime
                ) -> tuple[engine.Round, ...]:
        if not rounds:
            return ()
        return engine.describe_rounds(self.survey, progress, rounds, now, language)

    def _note(self, note: Question, key: str, language: str, progress: Progress,
              now: dt.datetime) -> Note:
        answers = progress.answers
        slot = slot_of(self.survey, key)
        rounds = slot.rounds if slot is not None else ()
        hint = (engine.interpolate(self.survey, note.hint.get(language), answers, language,
                                   rounds) if note.hint else None)
        value = answers.get(key) if key in answers else note.default
        return Note(note, self._text(note, language, answers, rounds), hint,
                    value if note.read_only else None,
                    self._rounds(progress, rounds, language, now))

    def _text(self, question: Question, language: str, answers: engine.Answers,
              rounds: Rounds = ()) -> str:
        return engine.interpolate(self.survey, question.text.get(language), answers, language,
                                  rounds)

    def _discard(self, session: Session, progress: Progress, error: RoundsDiscarded,
                 pending: int, language: str, now: dt.datetime) -> DiscardQuestion:
        """The question before an answer erases whole rounds."""
        slot = self._slot(progress)
        assert slot is not None and slot.question is not None
        rounds = tuple(engine.describe_rounds(self.survey, progress, each, now, language)
                       for each in error.rounds)
        return DiscardQuestion(slot.question, slot.key, rounds, pending,
                               self._rounds(progress, slot.rounds, language, now))

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
            slot = slot_of(self.survey, error.key)
            return Say("custom", {"text": engine.interpolate(
                self.survey, error.note.text.get(language), error.answers, language,
                slot.rounds if slot is not None else ())})
        if isinstance(error, InvalidAnswer):
            if error.code == "constraint" and question.constraint_message is not None:
                return Say("custom", {"text": question.constraint_message.get(language)})
            if error.code == "constraint" and question.expects is not None:
                return Say("constraint", {"limits": question.expects})
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

