"""Updates by webhook: the stand-in posts them to the bot's server over real HTTP."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import pytest
from aiohttp import web
from bot.config import ConfigError
from bot.sandbox.standin import SECRET_HEADER, StandIn
from bot.survey.model import Survey
from bot.webhook import MAX_BODY, SECRET_SETTING, register_webhook
from telegram import Bot

from tests import stored
from tests.integration.harness import TOKEN, Harness, complete_quickly, stored_answers

DEADLINE = 30.0


@pytest.fixture
async def hooked(api: StandIn, tmp_path: Path, consultation: Survey) -> AsyncIterator[Harness]:
    bot = Harness(api, tmp_path / "bot.sqlite3", consultation, webhook=True)
    await bot.start()
    try:
        yield bot
    finally:
        await bot.stop()


def hook_url(harness: Harness) -> str:
    assert harness.webhook_address is not None
    return f"http://127.0.0.1:{harness.webhook_address[1]}/telegram"


def secret_of(harness: Harness) -> str:
    return str(stored.value(harness.db, "SELECT value FROM settings WHERE key = ?",
                            SECRET_SETTING))


def start_update(update_id: int, user_id: int) -> dict[str, Any]:
    person = {"id": user_id, "is_bot": False, "first_name": "Forger", "language_code": "en"}
    return {"update_id": update_id, "message": {
        "message_id": 1, "date": 1764320400, "from": person,
        "chat": {"id": user_id, "type": "private", "first_name": "Forger"},
        "text": "/start", "entities": [{"type": "bot_command", "offset": 0, "length": 6}]}}


async def test_a_participant_takes_the_consultation_over_the_webhook(hooked: Harness) -> None:
    api = hooked.api
    await complete_quickly(hooked.person(501))
    assert stored_answers(hooked)["role"] == "migrant"
    assert not any(call.method == "getUpdates" for call in api.calls)
    [registered] = [call for call in api.calls if call.method == "setWebhook"]
    secret = secret_of(hooked)
    assert registered.ok and registered.params["secret_token"] == secret and len(secret) >= 32
    assert registered.params["url"] == hook_url(hooked)
    assert api.webhook_deliveries and all(d.accepted for d in api.webhook_deliveries)
    assert api.pending_updates == 0


async def test_a_forged_or_missing_secret_is_refused_and_nothing_stored(
    hooked: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    update = start_update(10, 777)
    async with aiohttp.ClientSession() as http:
        for headers in ({}, {SECRET_HEADER: "forged"}, {SECRET_HEADER: secret_of(hooked)[:-1]},
                        {SECRET_HEADER: secret_of(hooked) + "x"}, {SECRET_HEADER: "é"}):
            async with http.post(hook_url(hooked), json=update, headers=headers) as answer:
                assert answer.status == 403
    assert stored.count(hooked.db, "participants") == 0
    assert stored.count(hooked.db, "processed_updates") == 0
    assert hooked.api.messages(777) == []
    assert secret_of(hooked) not in caplog.text


async def test_too_large_or_not_an_update_is_refused(hooked: Harness) -> None:
    headers = {SECRET_HEADER: secret_of(hooked)}
    url = hook_url(hooked)
    async with aiohttp.ClientSession() as http:
        async def status(body: bytes, at: str = url, method: str = "POST") -> int:
            async with http.request(method, at, data=io.BytesIO(body),
                                    headers=headers) as answer:
                return answer.status

        assert await status(b"{" + b" " * MAX_BODY + b"}") == 413
        assert await status(b"not json") == 400
        assert await status(b"[1, 2]") == 400
        assert await status(b'{"message": {}}') == 400
        assert await status(b'{"update_id": "12"}') == 400
        assert await status(json.dumps(start_update(11, 778)).encode(), url + "/other") == 404
        assert await status(b"", method="GET") == 405
    assert stored.count(hooked.db, "processed_updates") == 0
    # an update the library cannot read is passed over, not refused (it would come back)
    async with aiohttp.ClientSession() as http:
        async with http.post(url, data=b'{"update_id": 12, "message": {"chat": 5}}',
                             headers=headers) as answer:
            assert answer.status == 200


class FlakyProxy:
    """Between the stand-in and the bot: each request reaches the bot, but the first
    answers are lost on the way back (a 500, or a connection closed without answer)."""

    def __init__(self) -> None:
        self.target = ""
        self.losses: list[str] = []
        self.forwarded = 0
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> None:
        app = web.Application(client_max_size=2 * MAX_BODY)
        app.router.add_post("/telegram", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}/telegram"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def route(self, bound: tuple[str, int]) -> str:
        self.target = f"http://127.0.0.1:{bound[1]}/telegram"
        return self.url

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        async with aiohttp.ClientSession() as http, http.post(
                self.target, data=body, headers={
                    SECRET_HEADER: request.headers.get(SECRET_HEADER, ""),
                    "Content-Type": "application/json"}) as answer:
            status = answer.status
        self.forwarded += 1
        loss = self.losses.pop(0) if self.losses else None
        if loss == "drop" and request.transport is not None:
            request.transport.close()
        if loss is not None:
            return web.Response(status=500)
        return web.Response(status=status)


async def test_a_redelivered_update_is_applied_once(
    api: StandIn, tmp_path: Path, consultation: Survey
) -> None:
    proxy = FlakyProxy()
    await proxy.start()
    harness = Harness(api, tmp_path / "bot.sqlite3", consultation, webhook=True)
    harness.webhook_url = proxy.route  # type: ignore[method-assign]
    await harness.start()
    try:
        alice = harness.person(502)
        proxy.losses = ["500"]
        assert len(await alice.send("/start")) == 1  # the language offer, once
        proxy.losses = ["drop"]
        await alice.press("English")
        proxy.losses = ["500", "drop"]
        await alice.press(alice.consent_label())
        proxy.losses = ["drop"]
        await alice.press("Migrant")
        assert proxy.forwarded == 4 + 5
    finally:
        await harness.stop()
        await proxy.stop()
    deliveries = api.webhook_deliveries
    assert sorted(d.attempt for d in deliveries if not d.accepted) == [1, 1, 1, 1, 2]
    assert [d.attempt for d in deliveries if d.accepted] == [2, 2, 3, 2]
    assert {d.error for d in api.webhook_deliveries if not d.accepted} == {
        "Wrong response from the webhook: 500 Internal Server Error", "Connection reset by peer"}
    assert stored.rows(harness.db, "SELECT question_id, value FROM answers") == [
        ("role", "migrant")]
    sends = [c for c in api.calls if c.method == "sendMessage" and c.ok]
    texts = [c.params["text"] for c in sends]
    assert len(texts) == len(set(texts)), "a reply was sent twice"
    assert stored.count(harness.db, "processed_updates") == 4


async def test_each_chat_gets_its_updates_in_order_one_at_a_time(hooked: Harness) -> None:
    api = hooked.api
    people = [api.user(600 + n) for n in range(4)]
    for n in range(5):
        for person in people:
            person.send("/start" if n == 0 else f"hello {n}")
    await hooked.settle()
    for person in people:
        mine = [d for d in api.webhook_deliveries if d.chat_id == person.id]
        assert len(mine) == 5 and all(d.accepted for d in mine)
        assert [d.update_id for d in mine] == sorted(d.update_id for d in mine)
        for before, after in zip(mine, mine[1:], strict=False):
            assert after.started >= before.finished
    assert stored.count(hooked.db, "processed_updates") == 20


async def test_polling_deletes_a_webhook_left_set(
    api: StandIn, tmp_path: Path, consultation: Survey, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with Bot(TOKEN, base_url=f"{api.url}/bot") as bot:
        assert await bot.set_webhook("https://example.org/telegram")
    harness = Harness(api, tmp_path / "bot.sqlite3", consultation)
    await harness.start()
    try:
        assert len(await harness.person(503).send("/start")) == 1
        assert api.calls[-1].method != "setWebhook"
        methods = [c.method for c in api.calls]
        assert methods.index("deleteWebhook") < methods.index("getUpdates")
    finally:
        await harness.stop()
    assert sum("deleted it to receive updates by long polling" in r.getMessage()
               for r in caplog.records) == 1


async def test_set_webhook_is_checked_as_telegram_checks_it(api: StandIn) -> None:
    async with httpx.AsyncClient(base_url=f"{api.url}/bot{TOKEN}/", timeout=20) as http:
        async def call(method: str, **params: Any) -> dict[str, Any]:
            data = {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}
            return dict((await http.post(method, data=data)).json())

        async def refused(**params: Any) -> str:
            answer = await call("setWebhook", **params)
            assert answer["ok"] is False and answer["error_code"] == 400
            return str(answer["description"])

        https = "https://example.org/telegram"
        assert await refused(url="http://example.org/telegram") == (
            "Bad Request: bad webhook: An HTTPS URL must be provided for webhook")
        assert await refused(url="https://example.org:8080/telegram") == (
            "Bad Request: bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443")
        assert await refused(url="https://127.0.0.1/telegram") == (
            "Bad Request: bad webhook: IP address 127.0.0.1 is reserved")
        assert await refused(url="https://") == "Bad Request: invalid webhook URL specified"
        assert await refused(url=https, secret_token="a b") == (
            "Bad Request: secret token contains unallowed characters")
        assert await refused(url=https, secret_token="a" * 257) == (
            "Bad Request: secret token is too long")
        assert (await call("getWebhookInfo"))["result"]["url"] == ""

        answer = await call("setWebhook", url="https://example.org:8443/telegram",
                            secret_token="Az09_-" * 40, max_connections=500,
                            allowed_updates=["message", "callback_query"])
        assert answer == {"ok": True, "result": True, "description": "Webhook was set"}
        info = (await call("getWebhookInfo"))["result"]
        assert info["max_connections"] == 100
        assert info["allowed_updates"] == ["callback_query", "message"]
        assert (await call("getUpdates"))["description"] == (
            "Conflict: can't use getUpdates method while webhook is active; "
            "use deleteWebhook to delete the webhook first")

        # local mode: a bot on this machine; nothing listens on the port, so it is retried
        api.local_mode = True
        with socket.socket() as closed:
            closed.bind(("127.0.0.1", 0))
            port = closed.getsockname()[1]
        assert (await call("setWebhook", url=f"http://127.0.0.1:{port}/telegram"))["ok"]
        api.user(504).send("hello")
        await api.wait_until(lambda: len(api.webhook_deliveries) >= 2, timeout=DEADLINE)
        info = (await call("getWebhookInfo"))["result"]
        assert info["pending_update_count"] == 1
        assert info["last_error_message"] == "Connection refused" and info["last_error_date"]
        assert (await call("deleteWebhook"))["description"] == "Webhook was deleted"
        [update] = (await call("getUpdates"))["result"]
        assert update["message"]["text"] == "hello"


async def test_a_refused_webhook_is_one_line_for_the_operator(api: StandIn) -> None:
    async with Bot(TOKEN, base_url=f"{api.url}/bot") as bot:
        with pytest.raises(ConfigError) as refused:
            await register_webhook(bot, "http://example.org/telegram", "s3cret",  # type: ignore[arg-type]
                                   elected=True)
        assert str(refused.value).lower() == (  # python-telegram-bot rewords it a little
            "consultbot_webhook_url: the bot api refused the webhook: bad webhook: an https url "
            "must be provided for webhook")
        assert not await register_webhook(bot, "https://example.org/telegram", "s3cret",  # type: ignore[arg-type]
                                          elected=False)
    assert not any(call.method == "setWebhook" and call.ok for call in api.calls)


async def test_consultbot_run_webhook_serves_and_stops_cleanly_on_sigterm(
    api: StandIn, tmp_path: Path
) -> None:
    api.local_mode = True
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    path = tmp_path / "bot.sqlite3"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONSULTBOT_")}
    env.update(CONSULTBOT_TOKEN=TOKEN, CONSULTBOT_API_URL=api.url, CONSULTBOT_DB=str(path),
               CONSULTBOT_WEB="off", CONSULTBOT_LISTEN=f"127.0.0.1:{port}")
    log_path = tmp_path / "bot.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run", "--webhook",
             f"http://127.0.0.1:{port}/telegram"], env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            await api.wait_until(lambda: any(c.method == "setWebhook" and c.ok
                                             for c in api.calls), timeout=60)
            api.user(505).send("/start")
            await api.next_message(505, timeout=DEADLINE)
            await api.wait_until(lambda: api.pending_updates == 0, timeout=DEADLINE)
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.to_thread(process.wait, 60)
            except subprocess.TimeoutExpired:
                process.kill()
                await asyncio.to_thread(process.wait)
                raise AssertionError("still running 60 s after SIGTERM; its log:\n"
                                     + log_path.read_text()[-3000:]) from None
    text = log_path.read_text()
    assert process.returncode == 0, text
    assert "Traceback" not in text and "receiving updates by webhook" in text
    secret = str(stored.value(path, "SELECT value FROM settings WHERE key = ?", SECRET_SETTING))
    assert secret not in text and TOKEN.split(":")[1] not in text
    assert stored.count(path, "processed_updates") == 1
