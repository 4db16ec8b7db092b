"""A tiny load balancer between the Bot API stand-in and several webhook workers (the
fleet's test and ``bench/fleet.py``): each POST goes to a random worker and its status
comes back, as a reverse proxy with several upstreams does.

A worker that refuses the connection is taken out and the request tried on another
(nginx's ``proxy_next_upstream error``). ``lose`` is the share of accepted updates
whose answer is lost on the way back (a 500 instead of the worker's 200): Telegram
then posts the update again, to whichever worker the balancer picks.
"""

from __future__ import annotations

import collections
import random

import aiohttp
from aiohttp import web
from bot.sandbox.standin import SECRET_HEADER


class Balancer:
    def __init__(self, workers: list[str], *, lose: float = 0.0, seed: int = 15,
                 keep_alive: bool = True) -> None:
        self.workers = list(workers)  # the workers' webhook URLs still taken to be alive
        self.lose = lose
        self.random = random.Random(seed)
        self.keep_alive = keep_alive
        self.forwarded: collections.Counter[str] = collections.Counter()
        self.lost = 0
        self.url = ""
        self._runner: web.AppRunner | None = None
        self._http: aiohttp.ClientSession | None = None

    async def start(self) -> str:
        """Listen on a free port of 127.0.0.1; returns the URL to register as the webhook."""
        connector = aiohttp.TCPConnector(limit=0, force_close=not self.keep_alive)
        self._http = aiohttp.ClientSession(connector=connector,
                                           timeout=aiohttp.ClientTimeout(total=60))
        app = web.Application(client_max_size=2 * 1024 * 1024)
        app.router.add_post("/telegram", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}/telegram"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._http is not None:
            await self._http.close()

    async def _forward(self, request: web.Request) -> web.Response:
        assert self._http is not None
        body = await request.read()
        headers = {SECRET_HEADER: request.headers.get(SECRET_HEADER, ""),
                   "Content-Type": "application/json"}
        while self.workers:
            target = self.random.choice(self.workers)
            try:
                async with self._http.post(target, data=body, headers=headers) as answer:
                    status = answer.status
            except aiohttp.ClientConnectorError:  # refused: that worker is gone
                if target in self.workers:
                    self.workers.remove(target)
                continue
            except aiohttp.ClientError:  # cut mid-way: the sender will post it again
                return web.Response(status=502)
            self.forwarded[target] += 1
            if status == 200 and self.random.random() < self.lose:
                self.lost += 1
                return web.Response(status=500)
            return web.Response(status=status)
        return web.Response(status=502)
