"""Faults on demand: failures, delays, sending limits, blocked users, removed bots, migrations."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from bot.sandbox.standin import SimUser, StandIn

from tests.sandbox.raw import TOKEN, Raw


@dataclass
class Clock:
    """The monotonic time the sending limits count with, moved by the test."""

    now: float = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def api(clock: Clock) -> AsyncIterator[StandIn]:
    async with StandIn(TOKEN, clock=clock) as standin:
        yield standin


async def test_fail_next_and_delay(api: StandIn, raw: Raw, amina: SimUser) -> None:
    api.fail_next("sendMessage", status=429, retry_after=3)
    api.fail_next(None, status=502, count=2)
    async with httpx.AsyncClient() as http:
        response = await http.post(
            f"{api.url}/bot{TOKEN}/sendMessage", data={"chat_id": "42", "text": "a"}
        )
    assert response.status_code == 429 and response.headers["Retry-After"] == "3"
    assert response.json() == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 3",
        "parameters": {"retry_after": 3},
    }
    assert await raw.ok("getUpdates") != []  # None spares getUpdates
    assert await raw.error("getMe") == (502, "Bad Gateway")
    assert await raw.error("sendMessage", chat_id=42, text="b") == (502, "Bad Gateway")
    await raw.ok("sendMessage", chat_id=42, text="c")
    api.fail_next("getMe", status=500)
    assert await raw.error("getMe") == (500, "Internal Server Error")

    delay = 0.2
    api.delay("getMe", delay)
    late = asyncio.create_task(raw.ok("getMe"))
    await api.wait_until(lambda: api.held == 1)
    await late
    assert api.held == 0 and api.calls[-1].finished - api.calls[-1].started >= delay
    api.delay("getMe", 0)


async def test_hold_keeps_requests_out_until_release(
    api: StandIn, raw: Raw, amina: SimUser
) -> None:
    api.hold("sendMessage")
    first = asyncio.create_task(raw.ok("sendMessage", chat_id=42, text="one"))
    second = asyncio.create_task(raw.ok("sendMessage", chat_id=42, text="two"))
    await api.wait_until(lambda: api.held == 2)
    assert (await raw.ok("getMe"))["is_bot"] is True  # other methods pass
    assert not first.done() and not second.done()
    assert api.messages(42) == [] and "sendMessage" not in [c.method for c in api.calls]
    api.release("sendMessage")
    assert {(await first)["text"], (await second)["text"]} == {"one", "two"}
    assert api.held == 0 and sorted(m.text for m in api.messages(42)) == ["one", "two"]
    await raw.ok("sendMessage", chat_id=42, text="three")  # released: no longer held

    api.hold(None)  # every method but getUpdates
    assert await raw.ok("getUpdates") != []
    abandoned = asyncio.create_task(raw.ok("getMe"))
    await api.wait_until(lambda: api.held == 1)
    abandoned.cancel()  # the client gives up: the request leaves the count, unanswered
    await api.wait_until(lambda: api.held == 0)
    api.release(None)
    assert [c.method for c in api.calls].count("getMe") == 1
    assert (await raw.ok("getMe"))["is_bot"] is True


async def test_sending_limits(clock: Clock, api: StandIn, raw: Raw, amina: SimUser) -> None:
    api.limit_rate(per_chat_per_second=1, per_group_per_minute=2, overall_per_second=30)
    await raw.ok("sendMessage", chat_id=42, text="1")
    status, body = await raw("sendMessage", chat_id=42, text="2")
    assert (status, body["parameters"]) == (429, {"retry_after": 1})
    assert api.calls[-1].rejected_by_limit and not api.calls[-2].rejected_by_limit
    api.user(43).send("hi")
    await raw.ok("sendMessage", chat_id=43, text="another chat is fine")
    clock.advance(1)
    await raw.ok("sendMessage", chat_id=42, text="2 after a second")

    group = api.group(-1005, "Org")
    api.limit_rate(per_group_per_minute=2)
    await raw.ok("sendMessage", chat_id=group.id, text="a")
    clock.advance(10)
    await raw.ok("sendMessage", chat_id=group.id, text="b")
    status, body = await raw("sendMessage", chat_id=group.id, text="c")
    assert (status, body["parameters"]) == (429, {"retry_after": 50})
    await raw.ok("getChat", chat_id=group.id)  # not a sending method
    clock.advance(50)
    await raw.ok("sendMessage", chat_id=group.id, text="c after a minute")
    api.limit_rate()
    await raw.ok("sendMessage", chat_id=group.id, text="limits off")


async def test_blocked_deactivated_and_removed_from_groups(
    api: StandIn, raw: Raw, amina: SimUser
) -> None:
    api.block(42)
    assert await raw.error("sendMessage", chat_id=42, text="hi") == (
        403,
        "Forbidden: bot was blocked by the user",
    )
    assert await raw.error("sendChatAction", chat_id=42, action="typing") == (
        403,
        "Forbidden: bot was blocked by the user",
    )
    api.unblock(42)
    await raw.ok("sendMessage", chat_id=42, text="hi")
    kinds = [
        u["my_chat_member"]["new_chat_member"]["status"]
        for u in await raw.ok("getUpdates")
        if "my_chat_member" in u
    ]
    assert kinds == ["kicked", "member"]

    api.user(43).send("hello")
    api.deactivate(43)
    assert await raw.error("sendMessage", chat_id=43, text="hi") == (
        403,
        "Forbidden: user is deactivated",
    )

    group = api.group(-4001, "Local group", type="group")
    api.remove_bot(group.id)
    assert await raw.error("sendMessage", chat_id=group.id, text="hi") == (
        403,
        "Forbidden: bot is not a member of the group chat",
    )
    channel = api.group(-1009, "News", type="channel")
    api.remove_bot(channel.id, kicked=True)
    assert await raw.error("sendMessage", chat_id=channel.id, text="hi") == (
        403,
        "Forbidden: bot was kicked from the channel chat",
    )


async def test_migrated_group(api: StandIn, raw: Raw) -> None:
    api.group(-4002, "Diaspora", type="group")
    await raw.ok("sendMessage", chat_id=-4002, text="before")
    api.migrate_group(-4002, -1004002)
    status, body = await raw("sendMessage", chat_id=-4002, text="after")
    assert (status, body) == (
        400,
        {
            "ok": False,
            "error_code": 400,
            "description": "Bad Request: group chat was upgraded to a supergroup chat",
            "parameters": {"migrate_to_chat_id": -1004002},
        },
    )
    await raw.ok("sendMessage", chat_id=-1004002, text="after")
    service = [u["message"] for u in await raw.ok("getUpdates")]
    assert (
        service[0]["migrate_to_chat_id"] == -1004002 and service[1]["migrate_from_chat_id"] == -4002
    )
