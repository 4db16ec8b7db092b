"""Updates from one chat are handled one after another; different chats concurrently.

A double tap on a button sends two updates within milliseconds: handled in
order, the second sees the state the first left (and is refused as stale)
instead of racing it. The per-chat lock is taken before the global concurrency
limit, so one busy chat cannot hold every slot.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """At most ``max_concurrent_updates`` handled at once, one at a time per chat."""

    # PTB's own semaphore is taken before do_process_update; it is sized to admit
    # every waiting update, and the real limit is applied after the chat lock.
    _ADMIT_ALL = 1_000_000

    def __init__(self, max_concurrent_updates: int = 256) -> None:
        super().__init__(self._ADMIT_ALL)
        self.limit = max_concurrent_updates
        self._slots = asyncio.BoundedSemaphore(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._holders: dict[int, int] = {}
        self.active = 0
        self.idle = asyncio.Event()  # set whenever no update is being handled
        self.idle.set()

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        self.active += 1
        self.idle.clear()
        try:
            await self._in_order(update, coroutine)
        finally:
            self.active -= 1
            if not self.active:
                self.idle.set()

    async def _in_order(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = _chat_key(update)
        if key is None:
            async with self._slots:
                await coroutine
            return
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._holders[key] = self._holders.get(key, 0) + 1
        try:
            async with lock, self._slots:
                await coroutine
        finally:
            self._holders[key] -= 1
            if not self._holders[key]:
                del self._holders[key]
                del self._locks[key]

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""


def _chat_key(update: object) -> int | None:
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return update.effective_chat.id
    if update.effective_user is not None:
        return update.effective_user.id
    return None
