"""Webhook delivery: what the stand-in posts, with which header, how many at once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from bot.sandbox.standin import SECRET_HEADER, StandIn
from bot.waiting import wait_event

from tests.sandbox.raw import Raw


class Receiver:
    """A webhook server that keeps every request open until the test lets them go."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, Any], str | None]] = []
        self.gate = asyncio.Event()
        self.arrived = asyncio.Event()
        self.url = ""

    async def receive(self, request: web.Request) -> web.Response:
        self.received.append((await request.json(), request.headers.get(SECRET_HEADER)))
        self.arrived.set()
        await self.gate.wait()
        return web.Response()

    async def wait_for(self, count: int, seconds: float = 10.0) -> None:
        """Return once ``count`` requests have arrived."""
        while len(self.received) < count:
            self.arrived.clear()
            if not await wait_event(self.arrived, seconds):
                raise TimeoutError(f"{len(self.received)} of {count} requests arrived")


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    found = Receiver()
    app = web.Application()
    app.router.add_post("/hook", found.receive)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    found.url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    try:
        yield found
    finally:
        found.gate.set()
        await runner.cleanup()


async def test_chats_are_posted_at_once_up_to_max_connections(
    api: StandIn, raw: Raw, receiver: Receiver
) -> None:
    api.local_mode = True
    await raw.ok("setWebhook", url=receiver.url, secret_token="s3cret", max_connections=2)
    for user_id in (71, 72, 73):
        api.user(user_id).send("first")
        api.user(user_id).send("second")
    assert api.webhook_in_flight == 2  # two chats at once, each its first update
    await receiver.wait_for(2)
    assert api.webhook_in_flight == 2
    receiver.gate.set()
    await api.wait_until(lambda: api.pending_updates == 0)
    assert all(secret == "s3cret" for _, secret in receiver.received)
    texts = {}
    for update, _ in receiver.received:
        texts.setdefault(update["message"]["chat"]["id"], []).append(update["message"]["text"])
    assert texts == {71: ["first", "second"], 72: ["first", "second"],
                     73: ["first", "second"]}
    assert all(delivery.accepted for delivery in api.webhook_deliveries)


async def test_deleting_the_webhook_hands_its_updates_to_get_updates(
    api: StandIn, raw: Raw, receiver: Receiver
) -> None:
    api.local_mode = True
    await raw.ok("setWebhook", url=receiver.url)
    api.user(74).send("kept")
    await receiver.wait_for(1)
    assert receiver.received[0][1] is None  # no secret_token, no header
    await raw.ok("deleteWebhook")
    api.user(74).send("polled")
    receiver.gate.set()  # the first post is accepted late: it is gone from the queue
    await api.wait_until(lambda: api.webhook_in_flight == 0)
    assert [u["message"]["text"] for u in await raw.ok("getUpdates")] == ["polled"]
