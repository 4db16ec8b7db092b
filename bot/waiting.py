"""Waiting on an event with a deadline, without ever losing a cancellation.

``asyncio.wait_for(event.wait(), seconds)`` in Python 3.11 swallows a
cancellation that arrives while the event is being set: the cancelled task
carries on as if nothing happened, and whoever awaits it waits for ever (a
delivery worker that would not stop, seen one test run in ten under load).
``asyncio.timeout`` counts cancellations and lets an outside one through.
"""

from __future__ import annotations

import asyncio


async def wait_event(event: asyncio.Event, seconds: float) -> bool:
    """Wait until ``event`` is set, at most ``seconds``; True if it was set."""
    try:
        async with asyncio.timeout(seconds):
            await event.wait()
    except TimeoutError:
        return event.is_set()
    return True
