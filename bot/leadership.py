"""The leader of a fleet of webhook workers: the one process that runs the schedules and
sends the outbox.

Several ``consultbot run --webhook`` processes may serve one PostgreSQL
database; each handles the updates that reach it and sends its own replies. What
must happen once for the whole fleet (reminder rounds and broadcasts, their
schedules, the outbox's delivery at Telegram's limits, forgetting old update
ids, registering the webhook) is done by the leader alone: the process that
holds the database's leading lock (:meth:`storage.db.Database.lead`, a session
advisory lock on a connection kept open). A process alone on its database (SQLite,
or long polling) is always the leader.

:class:`Leadership` asks the database every ``interval`` seconds: a follower
tries to take the lock, the leader checks that its connection still holds it.
When a leader dies (``kill -9`` included) its session ends and frees the lock;
within one interval another worker takes it and starts the schedules and the
delivery (``elected``). A leader whose connection is lost stops them
(``deposed``) and becomes a follower.

Sending from the leader alone keeps Telegram's limits across the fleet by
construction: the global rate, 1 a second per chat, 20 a minute per group and a
429's ``retry_after`` are held by one :class:`bot.delivery.Pacer`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

logger = logging.getLogger(__name__)

Change = Callable[[], Awaitable[None]]


class Leadership:
    """Who leads, asked of the database every ``interval`` seconds (see the module)."""

    def __init__(self, lead: Callable[[], Awaitable[bool]], elected: Change, deposed: Change,
                 *, interval: float,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self._lead = lead
        self._elected = elected
        self._deposed = deposed
        self.interval = interval
        self.sleep = sleep
        self.leading = False

    async def check(self) -> bool:
        """Ask once; start or stop leading if that changed. True while leading."""
        leading = await self._lead()
        if leading and not self.leading:
            self.leading = True
            try:
                await self._elected()
            except Exception:
                logger.exception("could not start leading; trying again")
                await self._step_down()
        elif not leading and self.leading:
            await self._step_down()
        return self.leading

    async def _step_down(self) -> None:
        self.leading = False
        try:
            await self._deposed()
        except Exception:
            logger.exception("stepping down as the leader failed")

    async def run(self) -> None:
        """Ask every ``interval`` seconds until cancelled."""
        while True:
            await self.sleep(self.interval)
            try:
                await self.check()
            except Exception:
                logger.exception("could not ask the database who leads")
