"""Webhook delivery: while a webhook is set, every queued update is POSTed to it.

As Telegram does: the update as a JSON body, with the header
``X-Telegram-Bot-Api-Secret-Token`` when ``setWebhook`` was given a
``secret_token``; an update leaves the queue only when the server answers with
a 2xx status. Anything else (another status, a refused or dropped connection,
no answer within :attr:`WebhookSender.timeout`) is recorded as the webhook's
``last_error_date``/``last_error_message`` (what ``getWebhookInfo`` shows) and
the same update is posted again after a back-off that doubles from
:attr:`WebhookSender.first_retry` up to :attr:`WebhookSender.last_retry`.

Order: one request at a time per chat, oldest update first, so a chat's
updates arrive in order and the next one only after the previous was accepted
(an update that keeps failing holds its chat's later ones back, as on
Telegram). Different chats are posted concurrently, up to ``max_connections``.

Every attempt is recorded as a :class:`Delivery` (:attr:`WebhookSender.deliveries`),
and the world's waiters are woken, so a test waits on them with
``StandIn.wait_until``. The stand-in posts only to its own machine (127.0.0.1,
``localhost``, ``::1``): a delivery anywhere else fails as an unresolvable host,
so no test ever reaches the network.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from .updates import Webhook
from .world import World

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


@dataclass(frozen=True, slots=True)
class Delivery:
    """One POST of one update to the webhook, and how it ended."""

    update_id: int
    chat_id: int | None
    attempt: int  # 1 for the first try of this update, 2 for its first retry...
    status: int | None  # the HTTP status; None when no answer came
    error: str  # "" when the update was accepted
    started: float  # time.monotonic()
    finished: float

    @property
    def accepted(self) -> bool:
        return not self.error


def chat_of(update: dict[str, Any]) -> int | None:
    """The chat an update belongs to (its order is kept per chat), if it has one."""
    for kind, payload in update.items():
        if kind == "update_id" or not isinstance(payload, dict):
            continue
        for holder in (payload, payload.get("message")):
            if isinstance(holder, dict) and isinstance(holder.get("chat"), dict):
                return int(holder["chat"]["id"])
        sender = payload.get("from")
        if isinstance(sender, dict):
            return int(sender["id"])
    return None


class WebhookSender:
    """Posts the queue's updates to the webhook; see the module."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.first_retry = 0.05  # seconds; Telegram waits longer, tests would not
        self.last_retry = 1.0
        self.timeout = 30.0
        self.deliveries: list[Delivery] = []
        self._busy: dict[object, int] = {}  # chat key -> the update id out for it
        self._tasks: set[asyncio.Task[None]] = set()
        self._session: aiohttp.ClientSession | None = None
        world.updates.on_add = self.wake

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=None), auto_decompress=False)

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._session is not None:
            await self._session.close()
            self._session = None

    @property
    def in_flight(self) -> int:
        """Updates being posted or waiting for a retry right now."""
        return len(self._busy)

    def wake(self) -> None:
        """Start posting every update that may go now."""
        webhook = self.world.updates.webhook
        if webhook is None or self._session is None:
            return
        for update in self.world.updates.pending():
            if len(self._busy) >= webhook.max_connections:
                return
            key = _key(update)
            if key in self._busy:
                continue
            self._busy[key] = update["update_id"]
            task = asyncio.get_running_loop().create_task(self._deliver(key, update))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _deliver(self, key: object, update: dict[str, Any]) -> None:
        queue = self.world.updates
        delay = self.first_retry
        attempt = 0
        try:
            while True:
                webhook = queue.webhook
                if webhook is None or update not in queue.pending():
                    return  # deleted meanwhile: getUpdates will fetch it
                attempt += 1
                started = time.monotonic()
                status, error = await self._post(webhook, update)
                self.deliveries.append(Delivery(update["update_id"], chat_of(update), attempt,
                                                status, error, started, time.monotonic()))
                if not error:
                    queue.remove(update["update_id"])
                    return
                queue.last_error_date = int(time.time())
                queue.last_error_message = error
                self.world.changed()
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.last_retry)
        finally:
            del self._busy[key]
            self.world.changed()
            self.wake()

    async def _post(self, webhook: Webhook, update: dict[str, Any]) -> tuple[int | None, str]:
        """POST one update; the status and, unless it was accepted, Telegram's words why."""
        assert self._session is not None
        if (urlsplit(webhook.url).hostname or "").lower() not in LOOPBACK:
            return None, "Failed to resolve host: Name or service not known"
        headers = {"Content-Type": "application/json"}
        if webhook.secret_token:
            headers[SECRET_HEADER] = webhook.secret_token
        body = json.dumps(update, ensure_ascii=False).encode()
        try:
            async with asyncio.timeout(self.timeout):
                async with self._session.post(webhook.url, data=body, headers=headers,
                                              allow_redirects=False) as response:
                    await response.read()
                    status, reason = response.status, response.reason or ""
        except TimeoutError:
            return None, "Read timeout expired"
        except aiohttp.ClientConnectorError:
            return None, "Connection refused"
        except (aiohttp.ClientError, OSError):
            return None, "Connection reset by peer"
        if 200 <= status < 300:
            return status, ""
        return status, f"Wrong response from the webhook: {status} {reason}".rstrip()


def _key(update: dict[str, Any]) -> object:
    chat = chat_of(update)
    return chat if chat is not None else ("update", update["update_id"])
