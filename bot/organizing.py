"""The organizer's use cases: figures, subscribers, schedules. Every channel calls these.

The chat commands, the command line and (later) the web console read and change
the consultation through these functions, so that a rule (a schedule must be
still to come, a group subscribes in a language the survey has) holds the same
everywhere. Access control is the caller's: only organizers reach this.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

from storage.db import Database, transaction
from storage.participants import get_participant
from storage.rounds import ReminderOutlook
from storage.schedules import Schedule, list_schedules, remove_schedule, set_paused
from storage.stats import Figures
from storage.subscriptions import Subscription, get_subscription
from telegram import Bot, Chat, ChatMember, ChatMemberRestricted
from telegram.error import BadRequest, Forbidden

from bot.config import Config
from bot.figures import figures_of
from bot.rounds import reminder_outlook
from bot.scheduling import add_schedule, next_run, split_when
from bot.survey.model import Survey
from storage import subscriptions


@dataclass(frozen=True, slots=True)
class Planned:
    schedule: Schedule
    next_run: dt.datetime | None  # None: paused, or a one-off already run


class Organizing:
    """What organizers read and change, over one database and one survey."""

    def __init__(self, db: Database, survey: Survey, config: Config,
                 clock: Callable[[], dt.datetime]) -> None:
        self.db = db
        self.survey = survey
        self.config = config
        self.clock = clock

    async def language_of(self, user_id: int) -> str | None:
        """The language an organizer chose in the bot (as a participant), if any."""
        participant = await get_participant(self.db, user_id)
        return participant.language if participant else None

    async def reminder_outlook(self) -> ReminderOutlook:
        """Who a reminder round would reach now, who not and why, and when next."""
        return await reminder_outlook(self.db, self.survey, self.config, self.clock())

    async def figures(self) -> Figures:
        return await figures_of(self.db, self.survey, self.clock())

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
        return await add_schedule(self.db, kind, cron=cron, at=at,
                                  timezone=self.config.timezone, now=self.clock())

    async def pause_schedule(self, schedule_id: int, paused: bool) -> bool:
        async with transaction(self.db) as tx:
            return await set_paused(tx, schedule_id, paused)

    async def remove_schedule(self, schedule_id: int) -> bool:
        async with transaction(self.db) as tx:
            return await remove_schedule(tx, schedule_id)


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
