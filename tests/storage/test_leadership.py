"""The fleet's leader, chosen through a real PostgreSQL database: one worker takes the lead,
a leader whose session ends loses it (and finds out), another takes it over."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg
import pytest
from bot.leadership import Leadership
from storage.postgres import LEADING, PostgresDatabase, connect_postgres

DEADLINE = 20.0


@pytest.fixture
async def workers(pg_url: str) -> AsyncIterator[list[PostgresDatabase]]:
    opened = [await connect_postgres(pg_url, size=2) for _ in range(2)]
    try:
        for db in opened:
            await db.serve_alongside()
        yield opened
    finally:
        for db in opened:
            await db.close()


async def kill_leader_session(url: str) -> None:
    """What ``kill -9`` of the leader does to its session: the server ends it."""
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' "
            "AND classid = $1 AND objid = $2 AND granted", *LEADING)
    finally:
        await connection.close()


async def eventually(check: Callable[[], Awaitable[bool]]) -> None:
    async with asyncio.timeout(DEADLINE):
        while not await check():
            await asyncio.sleep(0.02)


async def test_one_takes_the_lead_loses_it_with_its_session_and_another_takes_over(
    workers: list[PostgresDatabase], pg_url: str
) -> None:
    first, second = workers
    assert await first.lead()
    assert not await second.lead()
    assert await first.lead() and not await second.lead()  # it stays where it is
    await kill_leader_session(pg_url)
    await eventually(second.lead)
    assert not await first.lead()  # it finds its session gone...
    assert not await first.lead()  # ...serves again on a new one, a follower now
    assert first._serving is not None and not first._serving.is_closed()  # noqa: SLF001
    await second.close()  # the leader stops: the other takes the lead
    await eventually(first.lead)


async def test_the_follower_starts_leading_when_the_leader_dies(
    workers: list[PostgresDatabase], pg_url: str
) -> None:
    events: dict[str, asyncio.Event] = {name: asyncio.Event() for name in (
        "first elected", "first deposed", "second elected", "second deposed")}

    def leadership(name: str, db: PostgresDatabase) -> Leadership:
        async def elected() -> None:
            events[f"{name} elected"].set()

        async def deposed() -> None:
            events[f"{name} deposed"].set()

        return Leadership(db.lead, elected, deposed, interval=0.02)

    first, second = leadership("first", workers[0]), leadership("second", workers[1])
    assert await first.check() and not await second.check()
    tasks = [asyncio.create_task(each.run()) for each in (first, second)]
    try:
        await kill_leader_session(pg_url)
        async with asyncio.timeout(DEADLINE):
            await events["first deposed"].wait()
            await events["second elected"].wait()
        assert second.leading and not first.leading
        assert not events["second deposed"].is_set()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def test_a_failed_start_is_stepped_back_from_and_tried_again(
    workers: list[PostgresDatabase],
) -> None:
    tries: list[str] = []

    async def elected() -> None:
        tries.append("elected")
        if len(tries) == 1:
            raise RuntimeError("the delivery worker could not start")

    async def deposed() -> None:
        tries.append("deposed")

    leader = Leadership(workers[0].lead, elected, deposed, interval=0.02)
    assert not await leader.check()
    assert await leader.check()
    assert tries == ["elected", "deposed", "elected"]
