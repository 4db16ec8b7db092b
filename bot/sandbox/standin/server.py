"""The HTTP server, and :class:`StandIn`, the one object a test holds.

:class:`StandIn` owns the aiohttp server (start, stop, the URL), dispatches
each request (token, faults, hold and delay, sending limits, then the method) and
records it as a :class:`~.records.Call`. Everything else it offers a test is
handed to the part that holds it: the people and chats (:mod:`.people`), the
world's records and waiting (:mod:`.world`), faults (:mod:`.faults`).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from ..wire import Answer, ApiError, decoded_params, read_request, too_many_requests
from . import faults, methods
from .faults import Faults
from .people import SimChat, SimUser, get_group, get_user
from .records import Call, SentMessage
from .updates import random_first_update_id
from .webhook import Delivery, WebhookSender
from .world import World

logger = logging.getLogger(__name__)

MAX_UPLOAD_SIZE = 50 * 1024 * 1024


class StandIn:
    """A local Telegram Bot API server with simulated people; see :mod:`bot.sandbox.standin`.

    ``first_update_id`` fixes the id of the first update (by default it is
    drawn at random, as Telegram does after a week without updates); ``clock``
    is the monotonic time the sending limits count with; ``local_mode`` lets
    setWebhook accept ``http://`` URLs on any port (as a self-hosted Bot API
    server's ``--local``), so a bot under test can listen on 127.0.0.1.
    """

    def __init__(
        self,
        token: str,
        *,
        bot_id: int = 7000000001,
        bot_username: str = "consultbot_sandbox_bot",
        bot_name: str = "Consultbot",
        privacy_mode: bool = True,
        first_update_id: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        local_mode: bool = False,
    ) -> None:
        self.token = token
        self._world = World(
            token,
            bot_id=bot_id,
            bot_username=bot_username,
            bot_name=bot_name,
            privacy_mode=privacy_mode,
            first_update_id=(
                first_update_id if first_update_id is not None else random_first_update_id()
            ),
        )
        self._world.local_mode = local_mode
        self._faults = Faults(self._world.changed, clock)
        self._webhook = WebhookSender(self._world)
        self._listeners: list[Callable[[Call], None]] = []
        self._runner: web.AppRunner | None = None
        self._url: str | None = None

    # ------------------------------------------------------------ lifecycle --

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Start serving; ``port=0`` picks a free port (see :attr:`url`)."""
        app = web.Application(client_max_size=MAX_UPLOAD_SIZE + 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_route("GET", "/file/bot{token}/{path:.+}", self._handle_file)
        app.router.add_route("*", "/{tail:.*}", self._handle_unknown)
        runner = web.AppRunner(
            app, access_log=None, handler_cancellation=True, shutdown_timeout=1.0
        )
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        await self._webhook.start()
        self._runner = runner
        bound_host, bound_port = runner.addresses[0][:2]
        self._url = f"http://{bound_host}:{bound_port}"
        logger.info("Bot API stand-in listening on %s", self._url)

    async def stop(self) -> None:
        """Answer a pending long poll and held requests, and stop serving."""
        self._world.updates.end_poll("closing")
        self._faults.release_all()
        await self._webhook.stop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> StandIn:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        """Root URL: calls go to ``{url}/bot{token}/{method}``."""
        if self._url is None:
            raise RuntimeError("the stand-in is not started")
        return self._url

    # ----------------------------------------------------------------- bot --

    @property
    def bot_id(self) -> int:
        return self._world.bot_id

    @property
    def bot_username(self) -> str:
        return self._world.bot_username

    @property
    def bot_name(self) -> str:
        return self._world.bot_name

    @property
    def privacy_mode(self) -> bool:
        """In groups, whether the bot sees only commands and replies to it."""
        return self._world.privacy_mode

    @privacy_mode.setter
    def privacy_mode(self, value: bool) -> None:
        self._world.privacy_mode = value

    # ------------------------------------------------------- people, chats --

    def user(
        self,
        user_id: int,
        *,
        first_name: str = "Test",
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
    ) -> SimUser:
        """The person with this id (the same object for the same id)."""
        return get_user(
            self._world,
            user_id,
            first_name=first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
        )

    def group(
        self, chat_id: int, title: str, *, type: str = "supergroup", username: str | None = None
    ) -> SimChat:
        """A group, supergroup or channel with the bot in it (the same object for the same id)."""
        return get_group(self._world, chat_id, title, type=type, username=username)

    def simulates(self, chat_id: int) -> bool:
        """Whether this chat is one of the stand-in's people or groups."""
        return chat_id in self._world.chats

    def introduce(self, user_id: int, **profile: Any) -> SimUser:
        """The person talked to the bot some time ago: the bot may write to them now,
        although no update about them is queued (people created straight in a database)."""
        person = self.user(user_id, **profile)
        person.chat._known_to_bot = True
        return person

    def send_raw_update(self, kind: str, payload: dict[str, Any]) -> None:
        """Queue an update whose payload the test writes whole: a shape Telegram may send
        one day and a library cannot read (the update id is added here)."""
        self._world.updates.add(kind, payload)

    # ------------------------------------------------------ what the bot did --

    @property
    def calls(self) -> list[Call]:
        """Every HTTP call the bot made, oldest first."""
        return self._world.calls

    @property
    def callback_answers(self) -> dict[str, dict[str, Any]]:
        """The parameters of answerCallbackQuery, by callback query id."""
        return self._world.callback_answers

    @property
    def commands(self) -> dict[tuple[str, str], list[dict[str, Any]]]:
        """Command menus set with setMyCommands, by (scope, language)."""
        return self._world.commands

    def messages(self, chat_id: int) -> list[SentMessage]:
        """The bot's messages in a chat as they are now (deleted ones left out)."""
        return [sent for sent in self._world.sent.get(chat_id, []) if not sent.deleted]

    async def next_message(self, chat_id: int, timeout: float = 10.0) -> SentMessage:
        """The next message the bot sends to ``chat_id`` after the one returned last time."""
        return await self._world.next_message(chat_id, timeout)

    async def wait_until(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        """Return once ``predicate()`` is true; raise ``TimeoutError`` after ``timeout`` s.

        The predicate is evaluated again whenever a call is recorded or the
        update queue changes.
        """
        await self._world.wait_until(predicate, timeout)

    def add_listener(self, listener: Callable[[Call], None]) -> None:
        """Call ``listener(call)`` after every recorded call."""
        self._listeners.append(listener)

    def remove_listener(self, listener: Callable[[Call], None]) -> None:
        self._listeners.remove(listener)

    @property
    def held(self) -> int:
        """Requests kept back by :meth:`hold` or :meth:`delay` right now (received, not
        answered); :meth:`wait_until` sees it change."""
        return self._faults.held

    @property
    def pending_updates(self) -> int:
        """Updates the bot has not confirmed yet."""
        return len(self._world.updates)

    @property
    def long_polling(self) -> bool:
        """Whether a getUpdates call is waiting for an update right now."""
        return self._world.updates.long_polling

    # ------------------------------------------------------------- webhook --

    @property
    def local_mode(self) -> bool:
        """Whether setWebhook accepts http:// URLs on any port (see the constructor)."""
        return self._world.local_mode

    @local_mode.setter
    def local_mode(self, value: bool) -> None:
        self._world.local_mode = value

    @property
    def webhook_deliveries(self) -> list[Delivery]:
        """Every POST of an update to the webhook, oldest first; :meth:`wait_until` sees
        each one as it ends."""
        return self._webhook.deliveries

    @property
    def webhook_in_flight(self) -> int:
        """Updates being posted to the webhook, or waiting to be posted again, right now."""
        return self._webhook.in_flight

    def webhook_retry(self, first: float, last: float) -> None:
        """Wait ``first`` seconds before posting a refused update again, doubling up to
        ``last`` (by default 0.05 s up to 1 s: Telegram waits longer)."""
        self._webhook.first_retry, self._webhook.last_retry = first, last

    # ---------------------------------------------------------------- faults --

    def block(self, user_id: int) -> None:
        """The person blocks the bot: sending to them fails with 403 from now on."""
        faults.block(self._world, user_id)

    def unblock(self, user_id: int) -> None:
        faults.unblock(self._world, user_id)

    def deactivate(self, user_id: int) -> None:
        """The person deleted their account: sending to them fails with 403."""
        faults.deactivate(self._world, user_id)

    def remove_bot(self, chat_id: int, *, kicked: bool = False) -> None:
        """The bot left (or was kicked from) a group or channel."""
        faults.remove_bot(self._world, chat_id, kicked=kicked)

    def migrate_group(self, old_chat_id: int, new_chat_id: int) -> SimChat:
        """Upgrade a group to a supergroup with a new id; returns the supergroup."""
        return faults.migrate_group(self._world, old_chat_id, new_chat_id)

    def fail_next(
        self,
        method: str | None,
        *,
        status: int,
        description: str | None = None,
        retry_after: int | None = None,
        count: int = 1,
    ) -> None:
        """Make the next ``count`` calls of ``method`` fail with ``status``.

        ``method=None`` means any method except getUpdates. Without a
        description, Telegram's wording for the status is used ("Too Many
        Requests: retry after N" with ``parameters.retry_after`` for 429).
        """
        self._faults.fail_next(
            method, status=status, description=description, retry_after=retry_after, count=count
        )

    def delay(self, method: str | None, seconds: float) -> None:
        """Answer ``method`` (``None``: all but getUpdates) ``seconds`` late; 0 removes."""
        self._faults.delay(method, seconds)

    def drop_next(self, method: str | None, count: int = 1) -> None:
        """Close the connection of the next ``count`` calls of ``method`` unanswered (a
        network that drops); the calls are not run."""
        self._faults.drop_next(method, count)

    def hold(self, method: str | None) -> None:
        """Keep every request of ``method`` (``None``: all but getUpdates) that arrives from
        now on unanswered, counted in :attr:`held`, until :meth:`release`: the bot sees a
        request that is out, neither confirmed nor refused, for as long as the test wants."""
        self._faults.hold(method)

    def release(self, method: str | None) -> None:
        """Stop holding ``method`` (as given to :meth:`hold`): the requests it held run and
        are answered normally, and new ones pass. A held request whose client gave up is
        not run (its connection is gone) and is not recorded."""
        self._faults.release(method)

    def limit_rate(
        self,
        *,
        overall_per_second: float | None = None,
        per_chat_per_second: float | None = None,
        per_group_per_minute: float | None = None,
    ) -> None:
        """Enforce Telegram's sending limits (all off when called without arguments).

        They apply to send*, edit*, copy* and forward* methods; a call over a
        limit gets 429 with the whole seconds until the limit allows it.
        """
        self._faults.limit_rate(
            overall_per_second=overall_per_second,
            per_chat_per_second=per_chat_per_second,
            per_group_per_minute=per_group_per_minute,
        )

    # ------------------------------------------------------------------ HTTP --

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        started = time.monotonic()
        canonical, method = methods.find(request.match_info["method"])
        params: dict[str, Any] = {}
        rejected = False
        if self._faults.take_drop(canonical) and request.transport is not None:
            request.transport.close()  # dropped: no answer, nothing recorded
            return web.Response(status=500)
        try:
            api_request = await read_request(request)
            params = decoded_params(api_request)
            if request.match_info["token"] != self.token:
                raise ApiError(401, "Unauthorized")
            if method is None:
                raise ApiError(404, "Not Found")
            fault = self._faults.take(canonical)
            if fault is not None:
                raise fault
            await self._faults.wait(canonical)
            limited = self._faults.rate_limited(canonical, api_request)
            if limited is not None:
                rejected = True
                raise too_many_requests(limited)
            result = await method(self._world, api_request)
            payload: dict[str, Any] = {"ok": True}
            if isinstance(result, Answer):
                payload["result"] = result.result
                if result.description:
                    payload["description"] = result.description
            else:
                payload["result"] = result
            status = 200
        except ApiError as error:
            status, payload = error.status, error.payload()
        except web.HTTPRequestEntityTooLarge:
            status, payload = 413, ApiError(413, "Request Entity Too Large").payload()
        except Exception:
            logger.exception("stand-in failed on %s", canonical)
            status, payload = 500, ApiError(500, "Internal Server Error").payload()
        self._record(Call(canonical, params, status, payload, started, time.monotonic(), rejected))
        headers = {}
        if status == 429:
            headers["Retry-After"] = str(payload.get("parameters", {}).get("retry_after", 1))
        return web.Response(
            text=json.dumps(payload, ensure_ascii=False),
            status=status,
            content_type="application/json",
            headers=headers,
        )

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        """A file download; recorded as a Call with method ``"file"``."""
        started = time.monotonic()
        path = request.match_info["path"]
        params = {"file_path": path}
        stored = self._world.files.by_path.get(path)
        if request.match_info["token"] != self.token:
            error = ApiError(401, "Unauthorized")
        elif stored is None:
            error = ApiError(404, "Not Found")
        else:
            answer = {"ok": True, "file_size": len(stored.data)}
            self._record(Call("file", params, 200, answer, started, time.monotonic()))
            content_type = stored.mime_type or "application/octet-stream"
            return web.Response(body=stored.data, content_type=content_type)
        self._record(Call("file", params, error.status, error.payload(), started, time.monotonic()))
        return web.json_response(error.payload(), status=error.status)

    async def _handle_unknown(self, request: web.Request) -> web.StreamResponse:
        started = time.monotonic()
        payload = ApiError(404, "Not Found").payload()
        self._record(Call(request.path, {}, 404, payload, started, time.monotonic()))
        return web.json_response(payload, status=404)

    def _record(self, call: Call) -> None:
        self._world.calls.append(call)
        for listener in self._listeners:
            try:
                listener(call)
            except Exception:
                logger.exception("stand-in listener failed on %s", call.method)
        self._world.changed()
