"""The organizer's use cases: figures, responses, subscribers, schedules, rounds, the survey.

The chat commands, the command line and the web console read and change the
consultation through these functions, so that a rule (a schedule must be still
to come, a group subscribes in a language the survey has) holds the same
everywhere. Access control is the caller's: only organizers reach this.

Long reads (figures under filters, the list of responses) go to ``reader``, a
connection of their own when the caller has one, so that they never hold up
participants' answers on the writer; their results are kept until another
connection commits (``PRAGMA data_version``). People appear only under their
export codes (:class:`bot.pseudonyms.ExportCodes`), never their Telegram id.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Any, TypeVar

from storage.db import Database, transaction
from storage.participants import get_participant
from storage.results import (
    Counts,
    Filters,
    FullResponse,
    Listed,
    People,
    TextAnswer,
    count_people,
    count_responses,
    data_version,
    get_full_response,
    list_responses,
    response_ids,
    text_answers,
)
from storage.rounds import ReminderOutlook, Tally, list_tallies
from storage.schedules import Schedule, get_schedule, list_schedules, remove_schedule, set_paused
from storage.stats import Figures
from storage.subscriptions import Subscription, get_subscription, list_subscriptions
from telegram import Bot, Chat, ChatMember, ChatMemberRestricted
from telegram.error import BadRequest, Forbidden

from bot.config import Config
from bot.figures import figures_of
from bot.i18n import Catalogs
from bot.pseudonyms import ExportCodes
from bot.rounds import (
    Reminder,
    RoundStarted,
    reminder_outlook,
    start_reminder_round,
    start_summary_round,
)
from bot.scheduling import add_schedule, next_run, split_when
from bot.summary import Summary, render_chart, render_text, summarize
from bot.survey.model import Survey
from storage import subscriptions

T = TypeVar("T")
PAGE = 50  # rows of a page of responses or of free-text answers


@dataclass(frozen=True, slots=True)
class Planned:
    schedule: Schedule
    next_run: dt.datetime | None  # None: paused, or a one-off already run


@dataclass(frozen=True, slots=True)
class Overview:
    """The consultation at a glance: people, responses, the funnel, the breakdowns."""

    people: People
    counts: Counts


@dataclass(frozen=True, slots=True)
class Coded:
    """A response under its codes (as in exports), never its row or the person's id."""

    code: str
    participant: str
    response: Listed


@dataclass(frozen=True, slots=True)
class CodedText:
    code: str
    answer: TextAnswer


@dataclass(frozen=True, slots=True)
class Subscribers:
    groups: list[Subscription]  # groups and channels, listed
    participants: int  # people subscribed themselves: counted only


class Organizing:
    """What organizers read and change, over one database and one survey.

    ``reader``: a read-only connection of its own for long reads (the writer
    by default); ``catalogs``: the bot's words, for summaries; ``secret``: the
    key of export codes; ``wake``: called after a round is queued (the running
    bot's delivery worker), ``schedules_changed`` after a schedule changed (the
    running bot's jobs).
    """

    def __init__(self, db: Database, survey: Survey, config: Config,
                 clock: Callable[[], dt.datetime], *, reader: Database | None = None,
                 catalogs: Catalogs | None = None, secret: str | None = None,
                 wake: Callable[[], None] | None = None,
                 schedules_changed: Callable[[], Awaitable[None]] | None = None) -> None:
        self.db = db
        self.survey = survey
        self.config = config
        self.clock = clock
        self.reader = reader or db
        self.catalogs = catalogs or Catalogs.load()
        self.codes = ExportCodes(secret or "")
        self.wake = wake
        self.schedules_changed = schedules_changed
        self._kept: dict[Hashable, tuple[int, Any]] = {}
        self._overview: Overview | None = None  # the latest computed, whatever its version
        self._code_of: dict[str, int] = {}  # response code -> response id, as seen
        self._coded_up_to = 0

    def use_survey(self, survey: Survey) -> None:
        """Read and count ``survey`` from now on (a newly published one)."""
        self.survey = survey
        self.catalogs = self.catalogs.with_fallbacks(survey.bot_language)
        self._kept.clear()
        self._overview = None

    async def _kept_until_changed(self, key: Hashable, make: Callable[[], Awaitable[T]]) -> T:
        """``make()``, computed again only after another connection committed."""
        if self.reader is self.db:  # one connection: its own commits leave no trace
            return await make()
        version = await data_version(self.reader)
        full_key = (self.survey.fingerprint, key)
        kept = self._kept.get(full_key)
        if kept is not None and kept[0] == version:
            value: T = kept[1]
            return value
        value = await make()
        if len(self._kept) > 64:
            self._kept.clear()
        self._kept[full_key] = (version, value)
        return value

    async def language_of(self, user_id: int) -> str | None:
        """The language an organizer chose in the bot (as a participant), if any."""
        participant = await get_participant(self.db, user_id)
        return participant.language if participant else None

    async def reminder_outlook(self) -> ReminderOutlook:
        """Who a reminder round would reach now, who not and why, and when next."""
        return await reminder_outlook(self.db, self.survey, self.config, self.clock())

    async def figures(self) -> Figures:
        return await figures_of(self.db, self.survey, self.clock())

    # --- what the web console shows ---------------------------------------------------

    async def overview(self, *, latest: bool = True) -> Overview:
        """People, responses, the completion funnel and the breakdowns, unfiltered.

        With ``latest=False``, the figures last computed are good enough (a page that a
        background task keeps fresh, see :meth:`keep_overview_fresh`).
        """
        if not latest and self._overview is not None and self.reader is not self.db:
            return self._overview

        async def make() -> Overview:
            return Overview(await count_people(self.reader),
                            await count_responses(self.reader, self.survey.id, Filters(),
                                                  self.clock()))
        self._overview = await self._kept_until_changed("overview", make)
        return self._overview

    async def keep_overview_fresh(self, seconds: float, watched: Callable[[], bool]) -> None:
        """Run forever: every ``seconds``, while ``watched()``, compute the overview again if
        another connection committed since (pages then read it without waiting)."""
        while True:
            if watched() or self._overview is None:
                await self.overview()
            await asyncio.sleep(seconds)

    async def results(self, filters: Filters) -> Counts:
        """Every question's answers counted, for the responses ``filters`` keep."""
        return await self._kept_until_changed(("results", filters), lambda: count_responses(
            self.reader, self.survey.id, filters, self.clock()))

    async def text_answers(self, question_id: str, filters: Filters,
                           page: int) -> tuple[list[CodedText], int]:
        """A page of one question's free-text answers, each under its response's code."""
        found, total = await text_answers(self.reader, self.survey.id, question_id, filters,
                                          offset=page * PAGE, limit=PAGE)
        coded = []
        for answer in found:
            code = self.codes.response_id(answer.response_id)
            self._code_of[code] = answer.response_id
            coded.append(CodedText(code, answer))
        return coded, total

    async def responses(self, status: str | None, page: int) -> tuple[list[Coded], int]:
        """A page of responses, the latest active first, under their codes; and the total."""
        listed, total = await list_responses(self.reader, self.survey.id, self.clock(),
                                             status=status, offset=page * PAGE, limit=PAGE)
        coded = []
        for response in listed:
            code = self.codes.response_id(response.id)
            self._code_of[code] = response.id
            coded.append(Coded(code, self.codes.participant_id(response.participant_id),
                               response))
        return coded, total

    async def response(self, code: str) -> tuple[Coded, FullResponse] | None:
        """One response in full, found by its code; None if there is none (any more)."""
        response_id = self._code_of.get(code)
        if response_id is None:
            for found, _ in await response_ids(self.reader, self.survey.id, self._coded_up_to):
                self._code_of[self.codes.response_id(found)] = found
                self._coded_up_to = max(self._coded_up_to, found)
            response_id = self._code_of.get(code)
        if response_id is None:
            return None
        full = await get_full_response(self.reader, response_id, self.clock())
        if full is None:
            return None
        listed = full.listed
        return Coded(code, self.codes.participant_id(listed.participant_id), listed), full

    async def subscribers(self) -> Subscribers:
        listed = await list_subscriptions(self.db)
        groups = [s for s in listed if s.kind != "participant"]
        return Subscribers(groups, len(listed) - len(groups))

    async def rounds(self) -> list[Tally]:
        """The latest rounds, each with its delivery report."""
        return await list_tallies(self.reader)

    async def start_round(self, kind: str, origin: str) -> RoundStarted:
        """A reminder round or a summary broadcast, queued now for the running bot."""
        now = self.clock()
        if kind == "reminder":
            started = await start_reminder_round(self.db, self.survey, self.config, now, origin)
        else:
            started = await start_summary_round(self.db, self.survey, self.catalogs,
                                                self.config, now, origin)
        if self.wake is not None:
            self.wake()
        return started

    async def run_schedule_now(self, schedule_id: int, origin: str) -> RoundStarted | None:
        """The round a schedule asks for, now (its own times do not change)."""
        schedule = await get_schedule(self.db, schedule_id)
        if schedule is None:
            return None
        return await self.start_round(schedule.kind, f"{origin}, schedule {schedule_id}")

    def example_reminder(self, language: str) -> Reminder:
        """The reminder someone in ``language`` gets who answered a third of the questions."""
        total = sum(1 for q in self.survey.questions if q.asks)
        return Reminder(language, True, max(1, total // 3), total)

    async def summary(self) -> Summary:
        """What a summary broadcast would publish now (small-cell protection applied).

        Counted from the overview's figures (one scan of the answers' index) rather than
        by :func:`bot.rounds.current_summary`'s join of every answer to its participant:
        the same figures, since a response exists only once its participant consented.
        """
        overview = await self.overview(latest=False)
        counts = overview.counts
        answers = {question: {value: n for value, n in values.items() if value is not None}
                   for question, values in counts.answers.items()}
        return summarize(self.survey, counts.responses, answers, self.clock(),
                         self.config.small_cell)

    async def summary_caption(self, language: str) -> str:
        """The caption of the summary as recipients in ``language`` get it (Telegram HTML)."""
        return render_text(await self.summary(), self.survey, self.catalogs.get(language))

    async def summary_chart(self, language: str) -> bytes:
        """The chart of the summary as recipients in ``language`` get it (PNG), drawn in a
        worker thread."""
        summary = await self.summary()
        return await self._kept_until_changed(("chart", language), lambda: asyncio.to_thread(
            render_chart, summary, self.survey, self.catalogs.get(language)))

    # --- groups and channels that receive summaries -----------------------------------

    async def subscription(self, chat_id: int) -> Subscription | None:
        return await get_subscription(self.db, chat_id)

    async def subscribe(self, chat_id: int, *, kind: str, language: str,
                        name: str | None) -> None:
        """Register a group or channel for summaries (again: new language and name)."""
        async with transaction(self.db) as tx:
            await subscriptions.subscribe(tx, chat_id, kind=kind, language=language, name=name,
                                          participant_id=None, now=self.clock())

    async def unsubscribe(self, chat_id: int) -> bool:
        async with transaction(self.db) as tx:
            return await subscriptions.unsubscribe(tx, chat_id)

    # --- schedules ----------------------------------------------------------------------

    async def schedules(self) -> list[Planned]:
        now, zone = self.clock(), self.config.timezone
        return [Planned(s, next_run(s, now, zone)) for s in await list_schedules(self.db)]

    async def add_schedule(self, kind: str, when: str) -> int:
        """A cron expression (five fields) or a date and time still to come."""
        cron, at = split_when(when)
        schedule_id = await add_schedule(self.db, kind, cron=cron, at=at,
                                         timezone=self.config.timezone, now=self.clock())
        await self._changed()
        return schedule_id

    async def pause_schedule(self, schedule_id: int, paused: bool) -> bool:
        async with transaction(self.db) as tx:
            done = await set_paused(tx, schedule_id, paused)
        await self._changed()
        return done

    async def remove_schedule(self, schedule_id: int) -> bool:
        async with transaction(self.db) as tx:
            done = await remove_schedule(tx, schedule_id)
        await self._changed()
        return done

    async def _changed(self) -> None:
        if self.schedules_changed is not None:
            await self.schedules_changed()


# --- finding a group or channel by its public name -----------------------------------

_PUBLIC_NAME = re.compile(r"^(?:@|(?:https?://)?t\.me/)([A-Za-z][A-Za-z0-9_]{4,31})/?$")


class ChatNotUsable(Exception):
    """A named group or channel that cannot receive summaries; the message says why and
    what to do about it."""


@dataclass(frozen=True, slots=True)
class FoundChat:
    chat_id: int
    kind: str  # group | channel
    title: str | None


def public_name(text: str) -> str | None:
    """The chat name in what an organizer typed (``@name`` or a ``t.me/name`` link)."""
    match = _PUBLIC_NAME.match(text.strip())
    return match.group(1) if match else None


async def find_chat(bot: Bot, name: str) -> FoundChat:
    """The group or channel called ``@name``, if the bot may post there.

    Asks the Bot API (``getChat``, then ``getChatMember`` for the bot itself: a
    public chat is found even when the bot is not in it). ``bot`` must be
    initialized. Raises :class:`ChatNotUsable`; a refused token or an unreachable
    server is the caller's to report (PTB's ``InvalidToken``, ``NetworkError``).
    """
    shown = f"@{name}"
    not_in = (f"{shown}: the bot is not in that chat (add it to the group, or make it an "
              "administrator of the channel, then try again)")
    try:
        chat = await bot.get_chat(shown)
    except BadRequest:
        raise ChatNotUsable(f"{shown}: Telegram knows no group or channel by that name (check "
                            "the spelling; a private group has no name: give its number "
                            "instead)") from None
    except Forbidden:
        raise ChatNotUsable(not_in) from None
    try:
        member = await bot.get_chat_member(chat.id, bot.id)
    except (BadRequest, Forbidden):
        raise ChatNotUsable(not_in) from None
    if member.status in (ChatMember.LEFT, ChatMember.BANNED):
        raise ChatNotUsable(not_in)
    if chat.type == Chat.CHANNEL and member.status != ChatMember.ADMINISTRATOR:
        raise ChatNotUsable(f"{shown}: only administrators post in a channel: make the bot "
                            "an administrator of it, then try again")
    if isinstance(member, ChatMemberRestricted) and not member.can_send_messages:
        raise ChatNotUsable(f"{shown}: the bot may not send messages there (an administrator "
                            "restricted it)")
    kind = "channel" if chat.type == Chat.CHANNEL else "group"
    return FoundChat(chat.id, kind, chat.title)
