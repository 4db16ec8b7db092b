"""What one participant's update costs in trips to the database thread (SQLite).

Each trip is a hand-over between the event loop and aiosqlite's thread; fewer
trips is less CPU and less waiting under load (docs/performance.md). A use
case reads the participant and claims the update in one trip, and its writes
travel with the commit; the message id of the question shown is one more
write after the reply is sent.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import aiosqlite
import pytest
from bot.survey.model import Survey

from tests.integration.harness import Harness, Person
from tests.integration.test_journeys import label


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts every call aiosqlite hands to its thread."""
    counted = [0]
    original = aiosqlite.Connection._execute

    async def counting(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        counted[0] += 1
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counting)
    return counted


async def cost(trips: list[int], action: Callable[[], Awaitable[object]]) -> int:
    trips[0] = 0
    await action()
    return trips[0]


async def test_an_answer_costs_three_trips_and_a_tick_two(  # were 7 and 5
    harness: Harness, consultation: Survey, trips: list[int]
) -> None:
    alice: Person = harness.person(11)
    await alice.send("/start")
    await alice.press("English")
    # read and claim, the new response (its id is needed), the commit, the message id
    assert await cost(trips, lambda: alice.press("I agree")) == 4
    # read and claim, then the writes with the commit, then the question's message id
    assert await cost(trips, lambda: alice.press(
        label(consultation, "role", "migrant", "en"))) == 3
    assert await cost(trips, lambda: alice.send("Germany")) == 3  # a typed answer too
    await alice.press("Skip »")
    await alice.press(label(consultation, "partnership", "yes", "en"))
    # a tick: read and claim, then the draft with the commit
    assert await cost(trips, lambda: alice.press(
        label(consultation, "levels", "local", "en"))) == 2
