"""Serving the console inside an event loop that is already running (the bot's, or its own)."""

from __future__ import annotations

import errno
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web

from bot.config import ConfigError, env_name

logger = logging.getLogger(__name__)


@asynccontextmanager
async def serve(app: web.Application, host: str, port: int, *,
                fallback: bool = False) -> AsyncIterator[tuple[str, int]]:
    """Listen on host:port while the block runs; yields the address really bound (port 0:
    a free one). An address already in use is a :class:`ConfigError`, or with
    ``fallback`` (the sandbox) a free port instead."""
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    try:
        try:
            site = web.TCPSite(runner, host, port)
            await site.start()
        except OSError as exc:
            if not fallback or exc.errno != errno.EADDRINUSE:
                raise ConfigError(f"{env_name('web')}: cannot listen on {host}:{port}: "
                                  f"{exc.strerror} (give another host:port, or off)") from None
            site = web.TCPSite(runner, host, 0)
            await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        bound = sockets[0].getsockname()[:2] if sockets else (host, port)
        logger.info("web console listening on %s:%s", bound[0], bound[1])
        yield str(bound[0]), int(bound[1])
    finally:
        await runner.cleanup()
