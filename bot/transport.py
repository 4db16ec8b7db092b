"""The HTTP road to the Bot API under python-telegram-bot: aiohttp, a kept-alive pool, orjson.

python-telegram-bot lets an application give its own :class:`BaseRequest`; its
own one uses httpx, which costs about 2.5 ms of CPU per call on this kind of
machine (docs/performance.md). :class:`AiohttpRequest` keeps PTB's request
contract and error mapping (PTB's :meth:`BaseRequest._request_wrapper` turns
the status codes into ``RetryAfter``, ``Forbidden``, ``BadRequest``…; this
class turns transport failures into ``TimedOut`` and ``NetworkError``) and
does less work per call:

* one :class:`aiohttp.ClientSession` with a kept-alive connection pool; a
  connection that failed is dropped by aiohttp and the next call opens another;
* parameters sent as one JSON body encoded with orjson (PTB encodes each value
  with ``json.dumps`` into a form); uploads as ``multipart/form-data``;
* answers parsed with orjson, and never logged (an answer can hold a
  participant's words).

Timeouts map onto aiohttp's: ``connect`` (and ``pool``) bound getting a
connection, ``read`` (and ``write``) the wait between two reads of the socket.
A proxy (``http://`` or ``https://``) is used for every call when given.
"""

from __future__ import annotations

import functools
from typing import Any

import aiohttp
import orjson
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TelegramError, TimedOut
from telegram.request import BaseRequest, RequestData

USER_AGENT = "consultbot (python-telegram-bot; aiohttp)"


class AiohttpRequest(BaseRequest):
    """PTB's requests over one aiohttp session (see the module)."""

    def __init__(self, *, connection_pool_size: int = 64, connect_timeout: float | None = 5.0,
                 read_timeout: float | None = 5.0, write_timeout: float | None = 5.0,
                 media_write_timeout: float | None = 20.0, proxy: str | None = None) -> None:
        self._pool_size = connection_pool_size
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._media_write_timeout = media_write_timeout
        self._proxy = proxy
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._pool_size, keepalive_timeout=60)
            self._session = aiohttp.ClientSession(
                connector=connector, headers={"User-Agent": USER_AGENT},
                json_serialize=lambda value: orjson.dumps(value).decode())

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    @staticmethod
    def parse_json_payload(payload: bytes) -> dict[str, Any]:
        try:
            parsed = orjson.loads(payload)
        except orjson.JSONDecodeError as exc:
            raise TelegramError("Invalid server response (not JSON)") from exc
        if not isinstance(parsed, dict):
            raise TelegramError("Invalid server response (not a JSON object)")
        return parsed

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        session = self._session
        if session is None or session.closed:
            raise RuntimeError("this AiohttpRequest is not initialized")
        files = request_data.multipart_data if request_data else None
        read = _given(read_timeout, self._read_timeout)
        write = _given(write_timeout, self._media_write_timeout if files else self._write_timeout)
        connect = _given(connect_timeout, self._connect_timeout)
        pool = _given(pool_timeout, None)
        waits = [value for value in (read, write) if value is not None]
        getting = None if connect is None and pool is None else (connect or 0) + (pool or 0)
        timeout = _timeout(max(waits) if waits else None, getting)
        body: Any = None
        if files:
            form = aiohttp.FormData()
            for name, value in request_data.json_parameters.items():  # type: ignore[union-attr]
                form.add_field(name, value)
            for name, part in files.items():
                filename, content, mime = (part if isinstance(part, tuple) and len(part) == 3
                                           else (name, part, "application/octet-stream"))
                form.add_field(name, content, filename=filename, content_type=mime)
            body = form
        elif request_data is not None and request_data.parameters:
            # a payload made here: aiohttp neither looks up a payload class nor merges headers
            body = aiohttp.BytesPayload(orjson.dumps(request_data.parameters),
                                        content_type="application/json")
        try:
            async with session.request(method, url, data=body, timeout=timeout,
                                       proxy=self._proxy) as response:
                return response.status, await response.read()
        except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
            raise TimedOut() from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{type(exc).__name__}: {exc}") from exc


@functools.lru_cache(maxsize=64)
def _timeout(read: float | None, connect: float | None) -> aiohttp.ClientTimeout:
    """aiohttp's timeout for these waits, made once (a call uses one of a handful)."""
    return aiohttp.ClientTimeout(total=None, sock_read=read, connect=connect)


def _given(value: ODVInput[float], default: float | None) -> float | None:
    return default if isinstance(value, DefaultValue) else value
