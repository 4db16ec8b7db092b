"""The update queue: what happened, waiting for the bot to fetch and confirm it.

Updates get strictly increasing ``update_id`` values. The first one is drawn
at random, as Telegram draws the next id after a week without updates, so a
bot that remembers the ids it handled (in a database that outlives the
stand-in) does not mistake a new stand-in's updates for ones it has seen. An
update stays queued until the bot confirms it by asking for a higher offset.

At most one ``getUpdates`` long poll waits here at a time; it ends when an
update arrives, when another poll or ``setWebhook`` takes over, or when the
stand-in stops (:meth:`UpdateQueue.wait`). While a webhook is set
(:attr:`UpdateQueue.webhook`), the queue is what :mod:`.webhook` posts from: an
update leaves it when the bot's server has answered it with a 2xx status.
"""

from __future__ import annotations

import asyncio
import collections
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

ALL_UPDATE_TYPES = (
    "message", "edited_message", "channel_post", "edited_channel_post",
    "business_connection", "business_message", "edited_business_message",
    "deleted_business_messages", "message_reaction", "message_reaction_count",
    "inline_query", "chosen_inline_result", "callback_query", "shipping_query",
    "pre_checkout_query", "purchased_paid_media", "poll", "poll_answer",
    "my_chat_member", "chat_member", "chat_join_request", "chat_boost", "removed_chat_boost",
)  # fmt: skip
# What getUpdates delivers unless allowed_updates says otherwise.
DEFAULT_ALLOWED_UPDATES = frozenset(ALL_UPDATE_TYPES) - {
    "chat_member",
    "message_reaction",
    "message_reaction_count",
}

# A random first update_id is at most this, so that at least 2**30 ids, the first
# included, stay below 2**31 (ids are positive 31-bit numbers).
FIRST_UPDATE_ID_MAX = 2**30


def random_first_update_id() -> int:
    """A first ``update_id`` in ``1 .. FIRST_UPDATE_ID_MAX``, different for every stand-in."""
    return 1 + secrets.randbelow(FIRST_UPDATE_ID_MAX)


@dataclass(frozen=True, slots=True)
class Webhook:
    """What setWebhook set."""

    url: str
    secret_token: str  # "" when none was given
    max_connections: int


class UpdateQueue:
    """Updates not confirmed yet, the allowed update types, the long poll and the webhook."""

    def __init__(self, first_update_id: int, on_change: Callable[[], None]) -> None:
        if first_update_id <= 0:
            raise ValueError("update ids are positive")
        self.next_update_id = first_update_id
        self.webhook: Webhook | None = None
        self.last_error_date = 0  # the webhook's last failed delivery (unix time), 0: none
        self.last_error_message = ""
        self.on_add: Callable[[], None] | None = None  # the webhook sender's wake-up
        self._queue: collections.deque[dict[str, Any]] = collections.deque()
        self._allowed = DEFAULT_ALLOWED_UPDATES
        self._poll_wake: asyncio.Future[str] | None = None
        self._on_change = on_change

    def __len__(self) -> int:
        return len(self._queue)

    @property
    def webhook_url(self) -> str:
        return self.webhook.url if self.webhook is not None else ""

    @property
    def allowed(self) -> frozenset[str]:
        return self._allowed

    def pending(self) -> list[dict[str, Any]]:
        """Every queued update, oldest first."""
        return list(self._queue)

    def remove(self, update_id: int) -> None:
        """Forget one update (the webhook's server accepted it)."""
        for index, update in enumerate(self._queue):
            if update["update_id"] == update_id:
                del self._queue[index]
                self._on_change()
                return

    @property
    def long_polling(self) -> bool:
        """Whether a getUpdates call is waiting for an update right now."""
        return self._poll_wake is not None

    def add(self, kind: str, payload: dict[str, Any]) -> None:
        """Queue an update of this kind, unless the bot's allowed_updates leave it out."""
        if kind not in self._allowed:
            return
        self._queue.append({"update_id": self.next_update_id, kind: payload})
        self.next_update_id += 1
        self.end_poll("update")
        self._on_change()
        if self.on_add is not None:
            self.on_add()

    def first(self, limit: int) -> list[dict[str, Any]]:
        """The oldest ``limit`` updates, still queued."""
        return [self._queue[i] for i in range(min(limit, len(self._queue)))]

    def confirm(self, offset: int) -> None:
        """Forget updates as getUpdates' ``offset`` says."""
        before = len(self._queue)
        if offset < 0:
            while len(self._queue) > -offset:
                self._queue.popleft()
        elif 0 < offset <= self.next_update_id + 10:  # further ahead is ignored, as by Telegram
            while self._queue and self._queue[0]["update_id"] < offset:
                self._queue.popleft()
        if len(self._queue) != before:
            self._on_change()

    def clear(self) -> None:
        """Drop every pending update (``drop_pending_updates``)."""
        if self._queue:
            self._queue.clear()
            self._on_change()

    def set_allowed(self, raw: str) -> None:
        """Apply getUpdates' ``allowed_updates`` (JSON text); absent or invalid keeps the last."""
        if not raw:
            return
        try:
            value = json.loads(raw)
        except ValueError:
            return
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return
        chosen = frozenset(v.lower() for v in value) & frozenset(ALL_UPDATE_TYPES)
        self._allowed = chosen or DEFAULT_ALLOWED_UPDATES

    async def wait(self, timeout: float) -> str:
        """Wait as a long poll: for an update, or until ``timeout`` seconds pass.

        Returns why the wait ended: ``"update"``, ``"timeout"``, or the reason
        given to :meth:`end_poll` by whoever ended it (``"conflict"``,
        ``"webhook"``, ``"closing"``).
        """
        wake: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._poll_wake = wake
        self._on_change()
        try:
            await asyncio.wait({wake}, timeout=timeout)
        finally:
            if self._poll_wake is wake:
                self._poll_wake = None
            if not wake.done():
                wake.cancel()
        return wake.result() if not wake.cancelled() else "timeout"

    def end_poll(self, reason: str) -> None:
        """Answer the waiting long poll, if any."""
        wake, self._poll_wake = self._poll_wake, None
        if wake is not None and not wake.done():
            wake.set_result(reason)
