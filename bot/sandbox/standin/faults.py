"""Faults on demand: what Telegram and people do to a bot now and then, made to happen now.

:class:`Faults` acts on the HTTP answers: a call fails with a given status
(:meth:`Faults.fail_next`), is answered late (:meth:`Faults.delay`), is kept
unanswered until the test lets it go (:meth:`Faults.hold`, :meth:`Faults.release`),
or is refused with 429 because it goes over Telegram's sending limits
(:meth:`Faults.limit_rate`, sliding windows in :class:`RateWindow`). The
functions below act on the world: a person blocks the bot or deletes their
account, the bot is removed from a group, a group becomes a supergroup.
"""

from __future__ import annotations

import asyncio
import collections
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from ..wire import ApiError, ApiRequest, default_error, to_integer
from .people import SimChat, get_group, get_user
from .world import World

TELEGRAM_SERVICE_USER_ID = 777000  # the author of service messages such as a migration


@dataclass
class Fault:
    method: str | None  # lower case; None: any method but getUpdates
    error: ApiError
    remaining: int


class RateWindow:
    """At most ``count`` events per ``seconds`` for each key (a sliding window)."""

    def __init__(self, count: int, seconds: float) -> None:
        self.count = count
        self.seconds = seconds
        self.events: dict[int, collections.deque[float]] = {}

    @classmethod
    def for_rate(cls, per_window: float, seconds: float) -> RateWindow:
        count = max(1, int(per_window))
        return cls(count, seconds * count / per_window)

    def wait_needed(self, key: int, now: float) -> float:
        events = self.events.get(key)
        if not events:
            return 0.0
        while events and events[0] <= now - self.seconds:
            events.popleft()
        if len(events) < self.count:
            return 0.0
        return events[0] + self.seconds - now

    def record(self, key: int, now: float) -> None:
        self.events.setdefault(key, collections.deque()).append(now)


def _key(method: str | None) -> str | None:
    return method.lower() if method else None


class Faults:
    """Failures, delays, holds and sending limits the server applies before a method runs.

    ``clock`` is the monotonic time (in seconds) the sending limits count
    with; ``on_change`` is called when a request starts or stops being held back.
    """

    def __init__(
        self, on_change: Callable[[], None], clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.held = 0  # requests kept back by hold() or delay() right now
        self._on_change = on_change
        self._clock = clock
        self._faults: list[Fault] = []
        self._delays: dict[str | None, float] = {}
        self._gates: dict[str | None, asyncio.Event] = {}  # set by release()
        self._drops: dict[str | None, int] = {}  # connections to close unanswered
        self._overall_limit: RateWindow | None = None
        self._chat_limit: RateWindow | None = None
        self._group_limit: RateWindow | None = None

    def fail_next(
        self,
        method: str | None,
        *,
        status: int,
        description: str | None = None,
        retry_after: int | None = None,
        count: int = 1,
    ) -> None:
        """Make the next ``count`` calls of ``method`` fail with ``status``.

        ``method=None`` means any method except getUpdates. Without a
        description, Telegram's wording for the status is used ("Too Many
        Requests: retry after N" with ``parameters.retry_after`` for 429).
        """
        error = default_error(status, retry_after)
        if description is not None:
            error = ApiError(status, description, error.parameters)
        self._faults.append(Fault(method.lower() if method else None, error, count))

    def drop_next(self, method: str | None, count: int = 1) -> None:
        """Close the connection of the next ``count`` calls of ``method`` without an answer,
        as a network does when it drops (the call is not run)."""
        key = _key(method)
        self._drops[key] = self._drops.get(key, 0) + count

    def take_drop(self, method: str) -> bool:
        for key in (method.lower(), None):
            if self._drops.get(key, 0) > 0 and (key is not None or method != "getUpdates"):
                self._drops[key] -= 1
                return True
        return False

    def delay(self, method: str | None, seconds: float) -> None:
        """Answer ``method`` (``None``: all but getUpdates) ``seconds`` late; 0 removes."""
        key = _key(method)
        if seconds > 0:
            self._delays[key] = seconds
        else:
            self._delays.pop(key, None)

    def hold(self, method: str | None) -> None:
        """Keep every request of ``method`` (``None``: all but getUpdates) that arrives from
        now on unanswered, counted in :attr:`held`, until :meth:`release`."""
        self._gates.setdefault(_key(method), asyncio.Event())

    def release(self, method: str | None) -> None:
        """Stop holding ``method`` (as given to :meth:`hold`): the requests it held run and
        are answered normally, and new ones pass."""
        gate = self._gates.pop(_key(method), None)
        if gate is not None:
            gate.set()

    def release_all(self) -> None:
        for gate in self._gates.values():
            gate.set()
        self._gates.clear()

    def limit_rate(
        self,
        *,
        overall_per_second: float | None = None,
        per_chat_per_second: float | None = None,
        per_group_per_minute: float | None = None,
    ) -> None:
        """Enforce Telegram's sending limits (all off when called without arguments).

        They apply to send*, edit*, copy* and forward* methods; a call over a
        limit gets 429 with the whole seconds until the limit allows it.
        """
        self._overall_limit = (
            RateWindow.for_rate(overall_per_second, 1.0) if overall_per_second else None
        )
        self._chat_limit = (
            RateWindow.for_rate(per_chat_per_second, 1.0) if per_chat_per_second else None
        )
        self._group_limit = (
            RateWindow.for_rate(per_group_per_minute, 60.0) if per_group_per_minute else None
        )

    def take(self, method: str) -> ApiError | None:
        """The error this call of ``method`` must fail with, if a fault is set for it."""
        for fault in self._faults:
            matches = fault.method == method.lower() or (
                fault.method is None and method != "getUpdates"
            )
            if matches:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                return fault.error
        return None

    async def wait(self, method: str) -> None:
        """Keep a request of ``method`` back while :meth:`hold` and :meth:`delay` say so,
        counted in :attr:`held` (a request its client abandons leaves the count)."""
        anything = method != "getUpdates"
        gate = self._gates.get(method.lower()) or (self._gates.get(None) if anything else None)
        seconds = self._delays.get(method.lower(), 0.0)
        if not seconds and anything:
            seconds = self._delays.get(None, 0.0)
        if gate is None and not seconds:
            return
        self.held += 1
        self._on_change()
        try:
            if gate is not None:
                await gate.wait()
            if seconds:
                await asyncio.sleep(seconds)
        finally:
            self.held -= 1
            self._on_change()

    def rate_limited(self, method: str, request: ApiRequest) -> int | None:
        """Seconds to wait if this call goes over a sending limit, else ``None``.

        A call within the limits is counted at once, at the moment it was checked
        (before its method runs), so that calls arriving together cannot all
        pass the check before any of them is counted.
        """
        lowered = method.lower()
        if lowered == "sendchataction" or not lowered.startswith(
            ("send", "edit", "copy", "forward")
        ):
            return None
        now = self._clock()
        windows = self._windows(to_integer(request.arg("chat_id")))
        wait = max((w.wait_needed(key, now) for w, key in windows), default=0.0)
        if wait > 0:
            return max(1, math.ceil(wait))
        for window, key in windows:
            window.record(key, now)
        return None

    def _windows(self, chat_id: int) -> list[tuple[RateWindow, int]]:
        windows: list[tuple[RateWindow, int]] = []
        if self._overall_limit is not None:
            windows.append((self._overall_limit, 0))
        if self._chat_limit is not None and chat_id:
            windows.append((self._chat_limit, chat_id))
        if self._group_limit is not None and chat_id < 0:
            windows.append((self._group_limit, chat_id))
        return windows


# ---------------------------------------------------------- in the world ---


def block(world: World, user_id: int) -> None:
    """The person blocks the bot: sending to them fails with 403 from now on."""
    world.set_blocked(world.users[user_id], True)


def unblock(world: World, user_id: int) -> None:
    world.set_blocked(world.users[user_id], False)


def deactivate(world: World, user_id: int) -> None:
    """The person deleted their account: sending to them fails with 403."""
    world.users[user_id].deactivated = True


def remove_bot(world: World, chat_id: int, *, kicked: bool = False) -> None:
    """The bot left (or was kicked from) a group or channel."""
    world.chats[chat_id].bot_status = "kicked" if kicked else "left"


def migrate_group(world: World, old_chat_id: int, new_chat_id: int) -> SimChat:
    """Upgrade a group to a supergroup with a new id; returns the supergroup."""
    old = world.chats[old_chat_id]
    if old.type != "group":
        raise ValueError(f"chat {old_chat_id} is a {old.type}, not a group")
    new = get_group(world, new_chat_id, old.title, type="supergroup")
    old.migrated_to = new_chat_id
    admin = get_user(world, TELEGRAM_SERVICE_USER_ID, first_name="Telegram", language_code=None)
    world.deliver(admin, old, {"migrate_to_chat_id": new_chat_id})
    world.deliver(admin, new, {"migrate_from_chat_id": old_chat_id})
    return new
