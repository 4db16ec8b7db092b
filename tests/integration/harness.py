"""The real bot (PTB over HTTP) against the local Bot API stand-in, and people who talk to it.

``Harness`` owns one stand-in, one database file and the running application
(which it can restart, as after a crash). ``Person`` plays a participant and
waits for the bot the right way: until every update was fetched, confirmed and
handled (an event from the update processor), never by sleeping.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.app import build_application, running
from bot.config import Config
from bot.context import ConsultApplication
from bot.ordering import PerChatUpdateProcessor
from bot.sandbox.standin import SentMessage, SimUser, StandIn
from bot.survey.model import Survey
from bot.waiting import wait_event
from bot.webhook import Webhook

from tests import stored

TOKEN = "4242:integration-test-token"
DEADLINE = 10.0
ORGANIZER = 9000  # in CONSULTBOT_ADMINS of every test bot


@dataclass
class Clock:
    """The bot's clock, moved by the test."""

    now: dt.datetime = field(default_factory=lambda: dt.datetime(2026, 11, 28, 9, 0,
                                                                  tzinfo=dt.UTC))

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


class Harness:
    """``webhook=True``: updates come by webhook, the bot's server on 127.0.0.1 (port 0)
    and the stand-in in local mode posting to it; else by long polling."""

    def __init__(self, api: StandIn, db: Path, survey: Survey, *, webhook: bool = False,
                 **config: Any) -> None:
        self.api = api
        self.db = db
        self.survey = survey
        self.webhook = webhook
        self.webhook_address: tuple[str, int] | None = None
        self.clock = Clock()
        config.setdefault("admins", frozenset({ORGANIZER}))
        self.config = Config(token=TOKEN, api_url=api.url, db=db, **config)
        self.application: ConsultApplication | None = None
        self._stack: AsyncExitStack | None = None

    async def start(self) -> None:
        self.application = build_application(self.config, self.survey, clock=self.clock)
        self._stack = AsyncExitStack()
        hook = None
        if self.webhook:
            self.api.local_mode = True
            hook = Webhook(self.webhook_url, ("127.0.0.1", 0))
        await self._stack.enter_async_context(
            running(self.application, poll_timeout=5, webhook=hook))

    def webhook_url(self, bound: tuple[str, int]) -> str:
        """The webhook's URL, once its server is bound (kept in :attr:`webhook_address`)."""
        self.webhook_address = bound
        return f"http://127.0.0.1:{bound[1]}/telegram"

    async def stop(self) -> None:
        if self._stack is not None:
            await self._stack.aclose()
        self._stack = None
        self.application = None

    async def restart(self, survey: Survey | None = None) -> None:
        await self.settle()
        await self.stop()
        if survey is not None:
            self.survey = survey
        await self.start()

    async def settle(self) -> None:
        """Wait until every update sent so far has been fetched and fully handled."""
        assert self.application is not None
        processor = self.application.update_processor
        assert isinstance(processor, PerChatUpdateProcessor)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + DEADLINE
        stable = 0
        while stable < 3:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError("the bot did not finish handling its updates")
            await self.api.wait_until(lambda: self.api.pending_updates == 0, timeout=remaining)
            if not await wait_event(processor.idle, deadline - loop.time()):
                raise TimeoutError("the bot did not finish handling its updates")
            quiet = (self.api.pending_updates == 0 and processor.active == 0
                     and self.application.update_queue.empty())
            stable = stable + 1 if quiet else 0
            await asyncio.sleep(0)

    def person(self, user_id: int, language_code: str | None = "en") -> Person:
        return Person(self, self.api.user(user_id, language_code=language_code))


class Person:
    """A participant on their phone: sends, presses, reads what came back."""

    def __init__(self, harness: Harness, user: SimUser) -> None:
        self.harness = harness
        self.user = user
        self.id = user.id
        self._seen = 0

    @property
    def messages(self) -> list[SentMessage]:
        return self.harness.api.messages(self.id)

    def _new(self) -> list[SentMessage]:
        fresh = self.messages[self._seen:]
        self._seen = len(self.messages)
        return fresh

    async def send(self, text: str) -> list[SentMessage]:
        """Send a message; returns the bot's new messages once it has answered."""
        self._new()
        self.user.send(text)
        await self.harness.settle()
        return self._new()

    async def press(self, label: str | int, message: SentMessage | None = None) -> list[
            SentMessage]:
        """Press a button on ``message`` (default: the latest message that has it)."""
        self._new()
        target = message or self.with_button(label)
        self.user.press(target, label)
        await self.harness.settle()
        return self._new()

    def with_button(self, label: str | int) -> SentMessage:
        for message in reversed(self.messages):
            flat = [b.text for row in message.buttons for b in row]
            if (isinstance(label, int) and label < len(flat)) or label in flat:
                return message
        raise AssertionError(f"no message with a button {label!r}; last messages: "
                             f"{[m.text[:60] for m in self.messages[-3:]]}")

    @property
    def last(self) -> SentMessage:
        return self.messages[-1]

    def labels(self, message: SentMessage | None = None) -> list[str]:
        message = message or self.last
        return [b.text for row in message.buttons for b in row]

    async def start(self, language_label: str = "English") -> list[SentMessage]:
        """/start, choose the language, agree: returns what came after consent."""
        await self.send("/start")
        await self.press(language_label)
        return await self.press(self.consent_label())

    def consent_label(self) -> str:
        return self.labels(self.with_button(0))[0]


async def complete_quickly(person: Person) -> None:
    """The shortest way through the built-in consultation (no partnership experience)."""
    await person.start()
    await person.press("Migrant")
    await person.send("Chile")  # named in full: taken without a tap
    await person.press("Skip »")
    await person.press("No")
    await person.press("Funding")
    await person.press("Done ✔")
    await person.press("Skip »")


def stored_answers(harness: Harness) -> dict[str, str | None]:
    """Question id → value, as stored in the bot's database file."""
    return dict(stored.rows(harness.db, "SELECT question_id, value FROM answers"))
