"""The aiohttp transport under python-telegram-bot keeps PTB's request contract, against the
stand-in and its faults: answers, uploads, downloads, timeouts, errors, dropped
connections, and the connection pool still usable after each."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import pytest
from bot.sandbox.standin import StandIn
from bot.transport import AiohttpRequest
from telegram import Bot
from telegram.error import (
    BadRequest,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)

from tests.integration.harness import TOKEN

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")


@pytest.fixture
async def bot(api: StandIn) -> AsyncIterator[Bot]:
    telegram = Bot(TOKEN, base_url=f"{api.url}/bot", base_file_url=f"{api.url}/file/bot",
                   request=AiohttpRequest(read_timeout=2, connect_timeout=2),
                   get_updates_request=AiohttpRequest(connection_pool_size=1))
    await telegram.initialize()
    yield telegram
    await telegram.shutdown()


async def test_messages_uploads_and_downloads(api: StandIn, bot: Bot) -> None:
    person = api.user(501)
    person.send("hello")
    updates = await bot.get_updates(timeout=0)
    assert updates and updates[-1].message is not None
    assert updates[-1].message.text == "hello"
    sent = await bot.send_message(501, "<b>Ça & là</b> — مرحبا", parse_mode="HTML",
                                  reply_markup={"inline_keyboard": [[{
                                      "text": "OK", "callback_data": "A:1"}]]})
    assert api.messages(501)[-1].text == "Ça & là — مرحبا"
    assert api.messages(501)[-1].buttons[0][0].callback_data == "A:1"
    photo = await bot.send_photo(501, PNG, caption="a chart")
    assert api.messages(501)[-1].document == PNG
    document = await bot.send_document(501, b"a,b\n1,2\n", filename="export.csv")
    assert api.messages(501)[-1].filename == "export.csv"
    again = await bot.send_photo(501, photo.photo[-1].file_id)  # by Telegram's file id
    assert again.photo and document.document is not None
    person.send_photo(PNG)
    [update] = (await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0))[-1:]
    assert update.message is not None and update.message.photo
    received = await (await bot.get_file(update.message.photo[-1].file_id)).download_as_bytearray()
    assert bytes(received) == PNG
    await bot.edit_message_text("edited", chat_id=501, message_id=sent.message_id)
    assert api.messages(501)[0].text == "edited"


async def test_errors_are_mapped_as_ptb_maps_them(api: StandIn, bot: Bot) -> None:
    api.user(502).send("hi")
    api.fail_next("sendMessage", status=429, retry_after=7)
    with pytest.raises(RetryAfter) as limited:
        await bot.send_message(502, "x")
    assert limited.value.retry_after == dt.timedelta(seconds=7)
    api.fail_next("sendMessage", status=403, description="Forbidden: bot was blocked by the user")
    with pytest.raises(Forbidden, match="blocked"):
        await bot.send_message(502, "x")
    with pytest.raises(BadRequest, match="(?i)message text is empty"):
        await bot.send_message(502, "")
    api.fail_next("sendMessage", status=502, description="Bad Gateway")
    with pytest.raises(NetworkError):
        await bot.send_message(502, "x")
    await bot.send_message(502, "still fine")  # the pool is usable after every error
    assert api.messages(502)[-1].text == "still fine"
    wrong = Bot("4242:not-the-token", base_url=f"{api.url}/bot", request=AiohttpRequest())
    with pytest.raises(InvalidToken):
        await wrong.initialize()
    await AiohttpRequest.shutdown(wrong.request)  # type: ignore[arg-type]


async def test_a_slow_answer_times_out_and_a_dropped_connection_is_a_network_error(
    api: StandIn, bot: Bot,
) -> None:
    api.user(503).send("hi")
    api.hold("sendMessage")
    with pytest.raises(TimedOut):
        # aiohttp has one socket-read timeout for both: the larger of the two is waited
        await bot.send_message(503, "slow", read_timeout=0.3, write_timeout=0.3)
    api.release("sendMessage")
    api.drop_next("sendMessage")
    with pytest.raises(NetworkError):
        await bot.send_message(503, "dropped")
    await bot.send_message(503, "after")  # a new connection replaces the broken one
    texts = [m.text for m in api.messages(503)]
    assert texts[-1] == "after" and "dropped" not in texts  # the slow one may have landed


async def test_an_unreachable_server_is_a_network_error() -> None:
    request = AiohttpRequest(connect_timeout=2)
    await request.initialize()
    try:
        with pytest.raises(NetworkError):
            await request.post("http://127.0.0.1:9/botx/getMe")
    finally:
        await request.shutdown()


class Proxy:
    """A forward HTTP proxy on 127.0.0.1 that relays each connection and counts them."""

    def __init__(self) -> None:
        self.connections = 0
        self.server: asyncio.Server | None = None

    async def __aenter__(self) -> str:
        self.server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        line = await reader.readline()
        method, target, version = line.decode().split(" ", 2)
        url = urlsplit(target)
        upstream_reader, upstream_writer = await asyncio.open_connection(url.hostname, url.port)
        path = url.path + (f"?{url.query}" if url.query else "")
        upstream_writer.write(f"{method} {path} {version}".encode())

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            sink.close()

        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))


async def test_calls_go_through_the_proxy_when_one_is_set(api: StandIn) -> None:
    proxy = Proxy()
    async with proxy as address:
        telegram = Bot(TOKEN, base_url=f"{api.url}/bot",
                       request=AiohttpRequest(proxy=address), get_updates_request=AiohttpRequest())
        await telegram.initialize()
        try:
            api.user(504).send("hi")
            await telegram.send_message(504, "through the proxy")
        finally:
            await telegram.shutdown()
    assert proxy.connections >= 1
    assert api.messages(504)[-1].text == "through the proxy"
