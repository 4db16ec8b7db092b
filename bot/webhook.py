"""Receiving updates by webhook: Telegram POSTs each update to a public URL.

``consultbot run --webhook URL`` (or ``CONSULTBOT_WEBHOOK_URL``) serves an
aiohttp server on ``CONSULTBOT_LISTEN`` (behind a reverse proxy that holds the
TLS certificate) instead of long polling. What a request gets:

* **403** without the secret: the header ``X-Telegram-Bot-Api-Secret-Token``
  must equal the webhook's secret (compared in constant time). The secret is
  ``CONSULTBOT_WEBHOOK_SECRET``, or one generated once and kept in the
  database's settings (``webhook_secret``), so that processes sharing a
  database share it.
* **413** for a body over :data:`MAX_BODY`; **400** for one that is not a
  JSON object with an ``update_id``; **404** for another path than the URL's.
* **200** once the update went through the application's handlers, as a
  polled one does (one at a time per chat, in :class:`~bot.ordering.PerChatUpdateProcessor`),
  and its answer is committed. A process that dies before answering leaves the
  update with Telegram, which posts it again; the processed-update record makes
  the repeat change nothing. An update the library cannot read is answered 200
  and passed over (its id logged), as in polling: refused, Telegram would post
  it for ever.

Registering (``setWebhook``) is :func:`register_webhook`'s ``elected``
decision: the process that leads when its server starts (:mod:`bot.leadership`;
on SQLite the only one) registers, unless ``CONSULTBOT_WEBHOOK_REGISTER=false``;
the others only serve.
Long polling first deletes a webhook left set (:func:`leave_webhook`), with one
line in the log. Neither the secret, nor the URL, nor an update is ever logged.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import orjson
from aiohttp import web
from storage.settings import get_or_create_setting
from telegram.error import BadRequest, TelegramError

from bot.api import ALLOWED_UPDATES, ConsultBot
from bot.config import Config, ConfigError, env_name
from bot.context import ConsultApplication

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
SECRET_SETTING = "webhook_secret"  # the generated secret, in the settings table
MAX_BODY = 1024 * 1024  # an update is a few kilobytes; Telegram sends none near this
MAX_CONNECTIONS = 40  # Telegram's default: requests it keeps open to the webhook at once
SHUTDOWN_SECONDS = 10.0  # how long a stop waits for updates being handled


@dataclass(frozen=True, slots=True)
class Webhook:
    """How this process receives updates by webhook.

    ``url`` is the public address, or a function of the address the server is
    bound to (a test listening on port 0); ``elected``: whether this process
    registers it with Telegram.
    """

    url: str | Callable[[tuple[str, int]], str]
    listen: tuple[str, int]
    elected: bool = True


def configured_webhook(config: Config) -> Webhook | None:
    """The webhook the settings ask for; None for long polling."""
    if config.webhook_url is None:
        return None
    return Webhook(config.webhook_url, config.listen, elected=config.webhook_register)


async def webhook_secret(application: ConsultApplication) -> str:
    """``CONSULTBOT_WEBHOOK_SECRET``, else the one kept in the database (made on first use)."""
    data = application.bot_data
    if data.config.webhook_secret:
        return data.config.webhook_secret
    assert data.database is not None
    return await get_or_create_setting(data.database, SECRET_SETTING, secrets.token_urlsafe(32))


async def register_webhook(bot: ConsultBot, url: str, secret: str, *, elected: bool) -> bool:
    """Ask Telegram to post updates to ``url`` with ``secret``, if this process is the one
    ``elected`` to; True if it did. A URL Telegram refuses is a :class:`ConfigError`."""
    if not elected:
        logger.info("the webhook is left to another process to register (this one is not "
                    "the workers' leader, or %s is false)", env_name("webhook_register"))
        return False
    try:
        await bot.set_webhook(url, secret_token=secret, allowed_updates=list(ALLOWED_UPDATES),
                              max_connections=MAX_CONNECTIONS)
    except BadRequest as exc:
        raise ConfigError(f"{env_name('webhook_url')}: the Bot API refused the webhook: "
                          f"{exc.message}") from None
    logger.info("webhook registered with the Bot API")
    return True


async def leave_webhook(bot: ConsultBot) -> bool:
    """Before long polling: delete a webhook left set (Telegram refuses getUpdates while one
    is); True if there was one. Should Telegram not answer, python-telegram-bot's start of
    polling deletes it all the same, without saying so."""
    try:
        info = await bot.get_webhook_info()
        if not info.url:
            return False
        await bot.delete_webhook()
    except TelegramError as exc:
        logger.warning("could not check for a webhook left set (%s)", type(exc).__name__)
        return False
    logger.info("a webhook was set for this bot; deleted it to receive updates by long polling")
    return True


class WebhookReceiver:
    """The aiohttp handler of the webhook's path; see the module."""

    def __init__(self, application: ConsultApplication, secret: str) -> None:
        self.application = application
        self._secret = secret.encode()

    async def receive(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode("utf-8", "surrogateescape")
        if not hmac.compare_digest(given, self._secret):
            return web.Response(status=403, text="Forbidden")
        if request.content_length is not None and request.content_length > MAX_BODY:
            return web.Response(status=413, text="Request Entity Too Large")
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return web.Response(status=413, text="Request Entity Too Large")
        try:
            item: Any = orjson.loads(body)
        except orjson.JSONDecodeError:
            return web.Response(status=400, text="Bad Request: not JSON")
        update_id = item.get("update_id") if isinstance(item, dict) else None
        if not isinstance(update_id, int) or isinstance(update_id, bool):
            return web.Response(status=400, text="Bad Request: not an update")
        application = self.application
        update = application.bot.read_update(item)
        await application.update_processor.process_update(
            update, application.process_update(update))
        return web.Response(status=200)


@asynccontextmanager
async def webhook_serving(
    application: ConsultApplication, webhook: Webhook
) -> AsyncIterator[tuple[str, int]]:
    """Serve the webhook of a started application and register it (if elected); yields the
    address the server is bound to. On leaving, stops taking requests and lets the ones
    being handled finish (at most :data:`SHUTDOWN_SECONDS`)."""
    secret = await webhook_secret(application)
    app = web.Application(client_max_size=MAX_BODY)
    receiver = WebhookReceiver(application, secret)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=SHUTDOWN_SECONDS)
    paths: list[str] = []

    async def route(request: web.Request) -> web.StreamResponse:
        if request.path not in paths:
            raise web.HTTPNotFound()
        if request.method != "POST":
            raise web.HTTPMethodNotAllowed(request.method, ["POST"])
        return await receiver.receive(request)

    app.router.add_route("*", "/{tail:.*}", route)
    if not callable(webhook.url):  # known before the first request can come in
        paths.append(urlsplit(webhook.url).path or "/")
    await runner.setup()
    try:
        site = web.TCPSite(runner, *webhook.listen)
        try:
            await site.start()
        except OSError as exc:
            raise ConfigError(f"{env_name('listen')}: cannot listen on "
                              f"{webhook.listen[0]}:{webhook.listen[1]}: {exc.strerror}") from None
        bound = runner.addresses[0][:2]
        url = webhook.url
        if callable(url):
            url = url(bound)
            paths.append(urlsplit(url).path or "/")
        logger.info("receiving updates by webhook on %s:%d", bound[0], bound[1])
        await register_webhook(application.bot, url, secret, elected=webhook.elected)
        yield bound
    finally:
        await runner.cleanup()
