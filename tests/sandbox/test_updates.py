"""Updates: ids, offsets, long polling, webhooks, allowed types, privacy mode in groups."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from bot.sandbox.standin import SimUser, StandIn

from tests.sandbox.raw import KEYBOARD, TOKEN, Raw


async def update_ids(api: StandIn, count: int) -> list[int]:
    """The ids of ``count`` new updates (messages from one person)."""
    person = api.user(7)
    for n in range(count):
        person.send(f"m{n}")
    async with httpx.AsyncClient(base_url=f"{api.url}/bot{TOKEN}/") as http:
        updates = (await http.post("getUpdates")).json()["result"]
    return [update["update_id"] for update in updates]


async def test_every_stand_in_starts_from_its_own_random_update_id() -> None:
    starts = []
    for _ in range(2):
        async with StandIn(TOKEN) as api:
            ids = await update_ids(api, 3)
        assert ids == list(range(ids[0], ids[0] + 3))
        assert 0 < ids[0] <= 2**30  # positive, with room to grow within 31 bits
        starts.append(ids[0])
    # With the same token, as `consultbot sandbox` run twice: a bot that remembers the
    # update ids it handled must not take the second run's updates for the first's.
    assert starts[0] != starts[1]  # (a tie has a chance of 2**-30)


async def test_first_update_id_fixes_the_first_id() -> None:
    async with StandIn(TOKEN, first_update_id=1000) as api:
        assert await update_ids(api, 3) == [1000, 1001, 1002]
    with pytest.raises(ValueError, match="positive"):
        StandIn(TOKEN, first_update_id=0)


async def test_get_updates_offsets_and_limit(api: StandIn, raw: Raw) -> None:
    person = api.user(7)
    for n in range(5):
        person.send(f"m{n}")
    updates = await raw.ok("getUpdates")
    ids = [u["update_id"] for u in updates]
    assert ids == list(range(ids[0], ids[0] + 5)) and ids[0] > 0
    assert [u["message"]["text"] for u in updates] == ["m0", "m1", "m2", "m3", "m4"]
    assert len(await raw.ok("getUpdates")) == 5  # nothing confirmed yet
    assert [u["update_id"] for u in await raw.ok("getUpdates", offset=ids[1], limit=2)] == ids[1:3]
    assert api.pending_updates == 4
    assert (
        await raw.ok("getUpdates", offset=ids[4] + 1000) != []
    )  # far ahead: ignored, like Telegram
    assert [u["update_id"] for u in await raw.ok("getUpdates", offset=-2)] == ids[3:]
    assert api.pending_updates == 2
    assert await raw.ok("getUpdates", offset=ids[4] + 1) == []
    assert api.pending_updates == 0
    person.send("later")
    assert (await raw.ok("getUpdates"))[0]["update_id"] == ids[4] + 1


async def test_long_poll_wakes_up_on_an_update_and_times_out_empty(api: StandIn, raw: Raw) -> None:
    long, short = 20, 1  # seconds the two polls ask to wait at most
    poll = asyncio.create_task(raw.ok("getUpdates", timeout=long))
    await api.wait_until(lambda: api.long_polling)
    api.user(5).send("wake up")
    assert not api.long_polling  # the update ended the poll at once
    updates = await poll
    assert updates[0]["message"]["text"] == "wake up"
    woken = api.calls[-1]
    assert woken.finished - woken.started < long  # before its timeout

    assert await raw.ok("getUpdates", offset=updates[0]["update_id"] + 1, timeout=short) == []
    empty = api.calls[-1]
    assert empty.finished - empty.started >= short * 0.9  # it waited out its timeout


async def test_a_second_get_updates_ends_the_first_with_409(api: StandIn, raw: Raw) -> None:
    first = asyncio.create_task(raw.error("getUpdates", timeout=20))
    await api.wait_until(lambda: api.long_polling)
    assert await raw.ok("getUpdates") == []
    assert await first == (
        409,
        "Conflict: terminated by other getUpdates request; "
        "make sure that only one bot instance is running",
    )


async def test_webhook_blocks_get_updates(api: StandIn, raw: Raw) -> None:
    assert await raw.error("setWebhook", url="http://example.com/hook") == (
        400,
        "Bad Request: bad webhook: An HTTPS URL must be provided for webhook",
    )
    status, body = await raw("setWebhook", url="https://example.com/hook")
    assert body == {"ok": True, "result": True, "description": "Webhook was set"}
    assert (await raw.ok("getWebhookInfo"))["url"] == "https://example.com/hook"
    assert await raw.error("getUpdates") == (
        409,
        "Conflict: can't use getUpdates method while webhook is active; "
        "use deleteWebhook to delete the webhook first",
    )
    await raw.ok("deleteWebhook", drop_pending_updates=True)
    assert await raw.ok("getUpdates") == []


async def test_allowed_updates_filter_new_updates(api: StandIn, raw: Raw, amina: SimUser) -> None:
    await raw.ok("getUpdates", offset=-1, allowed_updates=["callback_query"])
    await raw.ok("getUpdates", offset=(await raw.ok("getUpdates"))[-1]["update_id"] + 1)
    amina.send("ignored")
    sent = await raw.ok("sendMessage", chat_id=42, text="Q", reply_markup=KEYBOARD)
    amina.press(sent["message_id"], "No")
    assert [list(u)[1] for u in await raw.ok("getUpdates")] == ["callback_query"]


async def test_wait_until_wakes_on_confirmation(api: StandIn, raw: Raw) -> None:
    api.user(9).send("hello")
    waiter = asyncio.create_task(api.wait_until(lambda: api.pending_updates == 0))
    update_id = (await raw.ok("getUpdates"))[0]["update_id"]
    await raw.ok("getUpdates", offset=update_id + 1)
    await waiter
    with pytest.raises(TimeoutError):
        await api.wait_until(lambda: False, timeout=0.05)


async def test_privacy_mode_in_groups(api: StandIn, raw: Raw) -> None:
    group = api.group(-1006, "Org")
    person = api.user(11)
    person.send("just chatting", chat=group)
    person.send("/stats@other_bot", chat=group)
    person.send("/stats", chat=group)
    person.send("/help@consultbot_sandbox_bot", chat=group)
    assert [u["message"]["text"] for u in await raw.ok("getUpdates")] == [
        "/stats",
        "/help@consultbot_sandbox_bot",
    ]
