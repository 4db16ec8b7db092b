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

Each message is claimed for this worker in the statement that finds it due, so
two senders never take the same one; a message that must wait is released. A
message whose request was out when the process died has no outcome recorded and
is sent again at start (its claim released then, the process holding the
database's run lock being the only sender): only the Bot API's confirmation
makes it final.

It uses its own Bot instance (no PTB rate limiter, whose retries would hide
429s from it) and paces itself (:class:`Pacer`): ``rate`` messages a second
overall, one a second per private chat, twenty a minute per group. A chart is
uploaded once per round and language, then sent by its Telegram file id.
Rounds queued by another process (the command line) are noticed within
``POLL_SECONDS``. When a round has nothing left to send, the organizers get a
report.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
import os
import secrets
import socket
import time
from collections.abc import Awaitable, Callable

from storage.db import Database, transaction
from storage.participants import mark_blocked
from storage.rounds import REMINDER, OutboxRow, Tally
from telegram import InlineKeyboardMarkup
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
)

from bot.api import ConsultBot
from bot.config import Config
from bot.rounds import Reminder, reminder_for
from bot.survey.model import Survey
from bot.waiting import wait_event
from storage import rounds, subscriptions

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
BATCH = 200
POLL_SECONDS = 5.0
SHUTDOWN_SECONDS = 10.0  # how long a stop waits for the answers to requests already out
PRIVATE_CHAT_SPACING = 1.0  # seconds between two messages to one person
GROUP_SPACING = 3.0  # 20 a minute to one group
RATE_SHARE = 0.97  # of the global rate, on average: see Pacer
BURST_SHARE = 0.01  # of the global rate, saved up at most


class Pacer:
    """When the next message may leave: a global rate, per-chat spacing, 429 pauses.

    The global rate is a token bucket: tokens accrue at ``RATE_SHARE × rate`` a
    second and up to ``max(1, BURST_SHARE × rate)`` are kept. Time lost to a late
    wake-up is made up from the bucket, so the rate achieved stays close to
    ``RATE_SHARE × rate``, while no one-second window holds more than the bucket
    plus one second of refill: 98 % of ``rate`` (from 100 a second up; at most
    ``rate`` below that). The last 2 % absorb the jitter of the network, since the
    Bot API counts messages when they arrive, not when they leave.
    """

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.refill = rate * RATE_SHARE
        self.capacity = max(1.0, rate * BURST_SHARE)
        self.clock = clock
        self.sleep = sleep
        self.tokens = self.capacity
        self.updated = clock()
        self.paused_until = 0.0
        self.chat_free: dict[int, float] = {}

    def pause(self, seconds: float) -> None:
        """A 429: nothing leaves for exactly ``seconds`` from now, then one message, and
        the bucket fills again from there (no burst saved up during the pause)."""
        self.paused_until = max(self.paused_until, self.clock() + seconds)
        self.tokens = 1.0
        self.updated = max(self.updated, self.paused_until)

    async def wait(self, chat_id: int) -> None:
        while True:
            now = self.clock()
            if now > self.updated:
                self.tokens = min(self.capacity,
                                  self.tokens + (now - self.updated) * self.refill)
                self.updated = now
            ready = max(self.paused_until, self.chat_free.get(chat_id, 0.0))
            if self.tokens < 1:
                ready = max(ready, now + (1 - self.tokens) / self.refill)
            if ready <= now:
                break
            await self.sleep(ready - now)
        self.tokens -= 1
        self.chat_free[chat_id] = now + (GROUP_SPACING if chat_id < 0 else PRIVATE_CHAT_SPACING)
        if len(self.chat_free) > 10_000:
            self.chat_free = {c: t for c, t in self.chat_free.items() if t > now}


Report = Callable[[Tally], Awaitable[None]]
RenderReminder = Callable[[Reminder], tuple[str, InlineKeyboardMarkup]]


@dataclasses.dataclass(frozen=True, slots=True)
class Sent:
    """A message Telegram took: its id, and the file id of its chart if it has one."""

    message_id: int
    photo: str | None = None


class DeliveryWorker:
    def __init__(
        self,
        bot: ConsultBot,
        db: Database,
        survey: Survey,
        config: Config,
        clock: Callable[[], dt.datetime],
        render_reminder: RenderReminder,
        report: Report | None = None,
        *,
        backoff: float = 2.0,
        pacer: Pacer | None = None,
        deliverable: Callable[[int], bool] | None = None,
    ) -> None:
        self.bot = bot
        self.db = db
        self.survey = survey
        self.render_reminder = render_reminder
        self.config = config
        self.clock = clock
        self.report = report
        self.backoff = backoff
        self.pacer = pacer or Pacer(config.rate)
        self.inflight: set[int] = set()
        self.slots = asyncio.Semaphore(max(4, int(config.rate // 2)))
        self._wake = asyncio.Event()
        self.stopping = asyncio.Event()  # set once run() ends: no new message leaves after it
        self._tasks: set[asyncio.Task[None]] = set()
        self._passes = 0  # passes over the outbox begun so far
        self._drained: list[tuple[int, asyncio.Future[None]]] = []
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self.deliverable = deliverable  # None: every chat (the sandbox: only simulated ones)
        self._withheld: set[int] = set()
        self._contents: dict[tuple[int, str], rounds.Contents] = {}
        # a chart being uploaded for the first time: (the message carrying it, done)
        self._uploads: dict[tuple[int, str], tuple[int, asyncio.Future[None]]] = {}

    def wake(self) -> None:
        """A round was just queued: look at the outbox now."""
        self._wake.set()

    async def drained(self) -> None:
        """Return once a pass over the outbox that began after this call found nothing due
        and nothing out (a round committed during an idle pass is not missed)."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._drained.append((self._passes, done))
        self.wake()
        await done

    async def run(self) -> None:
        """Send until cancelled; on cancellation, messages already out are seen through."""
        try:
            while True:
                self._wake.clear()
                self._passes += 1
                this_pass = self._passes
                rows = await self._next_batch()
                if not rows:
                    if not self.inflight:
                        await self._close_rounds()
                        self._resolve_drained(this_pass)
                    await self._sleep()
                    continue
                for row in rows:
                    await self._wait_for_upload(row)
                    await self.pacer.wait(row.chat_id)
                    await self.slots.acquire()
                    self.inflight.add(row.id)
                    task = asyncio.create_task(self._deliver(row))
                    self._tasks.add(task)
                    task.add_done_callback(self._done)
        finally:
            self.stopping.set()
            # a request already sent gets its answer recorded: a clean stop repeats nothing
            if self._tasks:
                await asyncio.wait(self._tasks, timeout=SHUTDOWN_SECONDS)

    def _resolve_drained(self, idle_pass: int) -> None:
        """Wake the callers of :meth:`drained` that called before ``idle_pass`` began."""
        waiting = []
        for called_after, waiter in self._drained:
            if called_after < idle_pass:
                if not waiter.done():
                    waiter.set_result(None)
            else:
                waiting.append((called_after, waiter))
        self._drained = waiting

    async def _next_batch(self) -> list[OutboxRow]:
        """Due messages, claimed for this worker (none already out, none someone else's);
        those to chats it may not reach (``deliverable``) are released and left alone."""
        while True:
            rows = await rounds.claim_due(self.db, self.clock(), BATCH, self.owner,
                                          exclude=self._withheld)
            if self.deliverable is None:
                return rows
            kept = [row for row in rows if self.deliverable(row.chat_id)]
            withheld = [row.id for row in rows if not self.deliverable(row.chat_id)]
            if withheld:
                self._withheld.update(withheld)
                async with transaction(self.db) as tx:
                    for row_id in withheld:
                        await rounds.release_claims(tx, row_id=row_id)
                logger.info("%d message(s) left unsent: their chats are not simulated here",
                            len(withheld))
            if kept or not rows:
                return kept

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self.slots.release()
        if not task.cancelled() and task.exception() is not None:
            logger.error("delivery task failed", exc_info=task.exception())
        if not self.inflight:
            self._wake.set()

    async def _sleep(self) -> None:
        timeout = POLL_SECONDS
        wakeup = await rounds.next_wakeup(self.db)
        if wakeup is not None:
            timeout = min(timeout, max(0.0, (wakeup - self.clock()).total_seconds()))
        await wait_event(self._wake, timeout)

    async def _close_rounds(self) -> None:
        async with transaction(self.db) as tx:
            finished = await rounds.finish_rounds(tx, self.clock())
        for round_id in finished:
            logger.info("round %d finished", round_id)
            for key in [k for k in self._contents if k[0] == round_id]:
                del self._contents[key]
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
            sent = await self._send(row)
            if sent is None:
                async with transaction(self.db) as tx:
                    await rounds.mark_done(tx, row.id, "skipped", "no longer eligible")
                return
            reminded = row.participant_id if row.kind == REMINDER else None
            await rounds.mark_sent(self.db, row.id, sent.message_id, self.clock(),
                                   reminded=reminded)
            if sent.photo is not None:
                await self._remember_photo(row, sent.photo)
        except RetryAfter as exc:
            # the message stays pending; the pacer holds every send until the time is up
            seconds = _seconds(exc.retry_after)
            self.pacer.pause(seconds)
            async with transaction(self.db) as tx:
                await rounds.release_claims(tx, row_id=row.id)
            logger.warning("429 from the Bot API: all sending paused for %s s", seconds)
            self._wake.set()  # it is taken again once the pause is over
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
            upload = self._uploads.get((row.round_id, row.language))
            if upload is not None and upload[0] == row.id:
                del self._uploads[(row.round_id, row.language)]
                upload[1].set_result(None)

    async def _send(self, row: OutboxRow) -> Sent | None:
        """Send the row's message; ``None`` if it is no longer to be sent."""
        if row.kind == REMINDER:
            assert row.participant_id is not None
            reminder = await reminder_for(self.db, self.survey, self.config,
                                          row.participant_id, self.clock())
            if reminder is None:
                return None
            text, keyboard = self.render_reminder(reminder)
            return Sent(await self.bot.send_text(row.chat_id, text, keyboard, preview=True))
        contents = await self._get_contents(row)
        if contents is None:
            return None
        if contents.image is None:
            return Sent(await self.bot.send_text(row.chat_id, contents.text, preview=True))
        return Sent(*await self.bot.send_picture(row.chat_id, contents.file_id or contents.image,
                                                 contents.text))

    async def _get_contents(self, row: OutboxRow) -> rounds.Contents | None:
        """A round's text and chart in one language (read once, then kept while it runs)."""
        key = (row.round_id, row.language)
        contents = self._contents.get(key)
        if contents is None:
            contents = await rounds.get_contents(self.db, row.round_id, row.language)
            if contents is not None:
                self._contents[key] = contents
        return contents

    async def _wait_for_upload(self, row: OutboxRow) -> None:
        """A chart goes up to Telegram once per round and language: the first message
        carrying it is sent alone, the others wait for its file id (and, if that
        message fails, the next one carries the chart)."""
        if row.kind == REMINDER:
            return
        key = (row.round_id, row.language)
        while True:
            contents = await self._get_contents(row)
            if contents is None or contents.image is None or contents.file_id is not None:
                return
            upload = self._uploads.get(key)
            if upload is None:
                future = asyncio.get_running_loop().create_future()
                self._uploads[key] = (row.id, future)
                return
            await upload[1]

    async def _remember_photo(self, row: OutboxRow, file_id: str) -> None:
        """After the first upload of a chart, send Telegram's file id instead of the bytes."""
        contents = await self._get_contents(row)
        if contents is not None and contents.file_id is None:
            self._contents[(row.round_id, row.language)] = dataclasses.replace(
                contents, file_id=file_id)
            async with transaction(self.db) as tx:
                await rounds.save_file_id(tx, row.round_id, row.language, file_id)

    async def _unreachable(self, row: OutboxRow, reason: str) -> None:
        now = self.clock()
        # keyed by the chat: on PostgreSQL in turn with the person's own updates (a /delete
        # locks the same rows in another order)
        async with transaction(self.db, row.chat_id) as tx:
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
        self._wake.set()  # the worker's sleep now ends when this message falls due


def _seconds(value: int | dt.timedelta) -> float:
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)
