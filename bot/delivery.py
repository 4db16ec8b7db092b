"""The delivery worker: sends the outbox at Telegram's limits, without losing or repeating.

Rounds are written to the outbox first (:mod:`bot.rounds`); this worker sends
the pending rows in order and records each outcome the moment the Bot API
answers:

* confirmed → ``sent`` (never sent again, whatever happens next);
* 429 → every send stops for exactly ``retry_after`` seconds, then the message
  is tried again (the attempt does not count);
* 403 (blocked, kicked) or "chat not found" → ``unreachable``, and the person or
  group is left out of future rounds;
* a group upgraded to a supergroup → the subscription and the message follow
  the new chat id;
* network errors, time-outs and 5xx → tried again later with exponential
  back-off, ``failed`` after ``MAX_ATTEMPTS``.

A message whose request was out when the process died has no outcome recorded
and is sent again at start: only the Bot API's confirmation makes it final.

It uses its own Bot instance (no PTB rate limiter, whose retries would hide
429s from it) and paces itself: ``rate`` messages a second overall, one a
second per private chat, twenty a minute per group. Rounds queued by another
process (the command line) are noticed within ``POLL_SECONDS``. When a round
has nothing left to send, the organizers get a report.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable

from storage.db import Database, transaction
from storage.participants import mark_blocked, note_reminder
from storage.rounds import REMINDER, OutboxRow, Tally
from telegram import Bot, Message
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
)

from bot.config import Config
from bot.i18n import Catalogs
from bot.rounds import reminder_message
from bot.survey.model import Survey
from storage import rounds, subscriptions

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
BATCH = 200
POLL_SECONDS = 5.0
SHUTDOWN_SECONDS = 10.0  # how long a stop waits for the answers to requests already out
PRIVATE_CHAT_SPACING = 1.0  # seconds between two messages to one person
GROUP_SPACING = 3.0  # 20 a minute to one group


class Pacer:
    """When the next message may leave: a global rate, per-chat spacing, 429 pauses."""

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = 1.0 / rate
        self.clock = clock
        self.next_slot = 0.0
        self.paused_until = 0.0
        self.chat_free: dict[int, float] = {}

    def pause(self, seconds: float) -> None:
        """A 429: nothing leaves for exactly ``seconds`` from now."""
        self.paused_until = max(self.paused_until, self.clock() + seconds)

    async def wait(self, chat_id: int) -> None:
        while True:
            now = self.clock()
            ready = max(self.next_slot, self.paused_until, self.chat_free.get(chat_id, 0.0))
            if ready <= now:
                break
            await asyncio.sleep(ready - now)
        self.next_slot = max(self.next_slot, now) + self.interval
        self.chat_free[chat_id] = now + (GROUP_SPACING if chat_id < 0 else PRIVATE_CHAT_SPACING)
        if len(self.chat_free) > 10_000:
            self.chat_free = {c: t for c, t in self.chat_free.items() if t > now}


Report = Callable[[Tally], Awaitable[None]]


class DeliveryWorker:
    def __init__(
        self,
        bot: Bot,
        db: Database,
        survey: Survey,
        catalogs: Catalogs,
        config: Config,
        clock: Callable[[], dt.datetime],
        report: Report | None = None,
        *,
        backoff: float = 2.0,
    ) -> None:
        self.bot = bot
        self.db = db
        self.survey = survey
        self.catalogs = catalogs
        self.config = config
        self.clock = clock
        self.report = report
        self.backoff = backoff
        self.pacer = Pacer(config.rate)
        self.inflight: set[int] = set()
        self.slots = asyncio.Semaphore(max(4, int(config.rate // 2)))
        self._wake = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._drained: list[asyncio.Future[None]] = []

    def wake(self) -> None:
        """A round was just queued: look at the outbox now."""
        self._wake.set()

    async def drained(self) -> None:
        """Return once the worker has found nothing due and nothing out (after this call)."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._drained.append(done)
        self.wake()
        await done

    async def run(self) -> None:
        """Send until cancelled; on cancellation, messages already out are seen through."""
        try:
            while True:
                self._wake.clear()
                rows = [r for r in await rounds.due_messages(self.db, self.clock(), BATCH)
                        if r.id not in self.inflight]
                if not rows:
                    if not self.inflight:
                        await self._close_rounds()
                        for waiter in self._drained:
                            if not waiter.done():
                                waiter.set_result(None)
                        self._drained.clear()
                    await self._sleep()
                    continue
                for row in rows:
                    await self.pacer.wait(row.chat_id)
                    await self.slots.acquire()
                    self.inflight.add(row.id)
                    task = asyncio.create_task(self._deliver(row))
                    self._tasks.add(task)
                    task.add_done_callback(self._done)
        finally:
            # a request already sent gets its answer recorded: a clean stop repeats nothing
            if self._tasks:
                await asyncio.wait(self._tasks, timeout=SHUTDOWN_SECONDS)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self.slots.release()
        if not task.cancelled() and task.exception() is not None:
            logger.error("delivery task failed", exc_info=task.exception())
        self._wake.set()

    async def _sleep(self) -> None:
        timeout = POLL_SECONDS
        wakeup = await rounds.next_wakeup(self.db)
        if wakeup is not None:
            timeout = min(timeout, max(0.0, (wakeup - self.clock()).total_seconds()))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout)

    async def _close_rounds(self) -> None:
        async with transaction(self.db) as tx:
            finished = await rounds.finish_rounds(tx, self.clock())
        for round_id in finished:
            logger.info("round %d finished", round_id)
        for tally in await rounds.unreported_rounds(self.db):
            if self.report is not None:
                try:
                    await self.report(tally)
                except TelegramError as exc:
                    logger.warning("round %d report not delivered: %s", tally.round_id, exc)
            async with transaction(self.db) as tx:
                await rounds.mark_reported(tx, tally.round_id, self.clock())

    # --- one message ------------------------------------------------------------------

    async def _deliver(self, row: OutboxRow) -> None:
        try:
            message = await self._send(row)
            async with transaction(self.db) as tx:
                if message is None:
                    await rounds.mark_done(tx, row.id, "skipped", "no longer eligible")
                    return
                await rounds.mark_sent(tx, row.id, message.message_id, self.clock())
                if row.kind == REMINDER and row.participant_id is not None:
                    await note_reminder(tx, row.participant_id, self.clock())
            await self._remember_photo(row, message)
        except RetryAfter as exc:
            # the message stays pending; the pacer holds every send until the time is up
            seconds = _seconds(exc.retry_after)
            self.pacer.pause(seconds)
            logger.warning("429 from the Bot API: all sending paused for %s s", seconds)
        except Forbidden as exc:
            await self._unreachable(row, exc.message)
        except ChatMigrated as exc:
            logger.info("a subscribed group became a supergroup; following it")
            async with transaction(self.db) as tx:
                await subscriptions.move_subscription(tx, row.chat_id, exc.new_chat_id)
                await rounds.move_chat(tx, row.id, exc.new_chat_id)
        except BadRequest as exc:
            if "chat not found" in exc.message.lower():
                await self._unreachable(row, exc.message)
            else:
                logger.warning("message %d refused by the Bot API: %s", row.id, exc.message)
                async with transaction(self.db) as tx:
                    await rounds.mark_done(tx, row.id, "failed", exc.message)
        except NetworkError as exc:  # time-outs, connection errors, 5xx
            await self._retry_later(row, str(exc))
        finally:
            self.inflight.discard(row.id)

    async def _send(self, row: OutboxRow) -> Message | None:
        if row.kind == REMINDER:
            assert row.participant_id is not None
            reminder = await reminder_message(self.db, self.survey, self.catalogs,
                                              row.participant_id, self.clock())
            if reminder is None:
                return None
            text, keyboard = reminder
            return await self.bot.send_message(row.chat_id, text, parse_mode=ParseMode.HTML,
                                               reply_markup=keyboard)
        contents = await rounds.get_contents(self.db, row.round_id, row.language)
        if contents is None:
            return None
        if contents.image is None:
            return await self.bot.send_message(row.chat_id, contents.text,
                                               parse_mode=ParseMode.HTML)
        return await self.bot.send_photo(row.chat_id, contents.file_id or contents.image,
                                         caption=contents.text, parse_mode=ParseMode.HTML)

    async def _remember_photo(self, row: OutboxRow, message: Message) -> None:
        """After the first upload of a chart, send Telegram's file id instead of the bytes."""
        if not message.photo:
            return
        contents = await rounds.get_contents(self.db, row.round_id, row.language)
        if contents is not None and contents.file_id is None:
            async with transaction(self.db) as tx:
                await rounds.save_file_id(tx, row.round_id, row.language,
                                          message.photo[-1].file_id)

    async def _unreachable(self, row: OutboxRow, reason: str) -> None:
        now = self.clock()
        async with transaction(self.db) as tx:
            await rounds.mark_done(tx, row.id, "unreachable", reason)
            await subscriptions.mark_unreachable(tx, row.chat_id, now)
            if row.participant_id is not None:
                await mark_blocked(tx, row.participant_id, now)

    async def _retry_later(self, row: OutboxRow, reason: str) -> None:
        attempts = row.attempts + 1
        async with transaction(self.db) as tx:
            if attempts >= MAX_ATTEMPTS:
                logger.warning("message %d failed after %d attempts: %s", row.id, attempts,
                               reason)
                await rounds.postpone(tx, row.id, self.clock(), reason)
                await rounds.mark_done(tx, row.id, "failed", reason)
                return
            delay = self.backoff * 2 ** (attempts - 1)
            await rounds.postpone(tx, row.id, self.clock() + dt.timedelta(seconds=delay), reason)


def _seconds(value: int | dt.timedelta) -> float:
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)
