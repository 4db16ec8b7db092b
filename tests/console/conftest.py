"""A console over a database file filled the way the bot fills it, and a client for it.

``Site`` is the console served on 127.0.0.1:0 by aiohttp's test server, with
the use cases over a database in ``tmp_path``; ``site.sign_in()`` goes through
a real one-time link and keeps the session cookie and CSRF token.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient, TestServer
from bot.access import Access
from bot.app import reminder_text
from bot.config import Config
from bot.console import Resources, build_app
from bot.console.exports import Exports
from bot.i18n import CONSOLE_DOMAIN, Catalogs
from bot.organizing import Organizing
from bot.survey.model import Survey
from storage.db import Database, connect, is_url

from tests.data import NO_PARTNER, PARTNER, add_response

ORGANIZER = 9000
NOW = dt.datetime(2026, 11, 28, 9, 0, tzinfo=dt.UTC)


@dataclass
class Clock:
    now: dt.datetime = NOW

    def __call__(self) -> dt.datetime:
        return self.now


@dataclass
class Site:
    client: TestClient[Any, Any]
    db: Database
    access: Access
    organizing: Organizing
    clock: Clock
    path: Path
    csrf: str = ""
    published: list[Survey] = field(default_factory=list)

    async def sign_in(self, user_id: int = ORGANIZER) -> None:
        link, _ = await self.access.new_link(user_id)
        token = link.rsplit("/", 1)[1]
        answer = await self.client.post(f"/signin/{token}", allow_redirects=False)
        assert answer.status == 303, await answer.text()
        page = await self.client.get("/")
        found = re.search(r'name="csrf" value="([0-9a-f]+)"', await page.text())
        assert found, "no CSRF token on the overview"
        self.csrf = found.group(1)

    async def get(self, path: str) -> tuple[int, str]:
        answer = await self.client.get(path, allow_redirects=False)
        return answer.status, await answer.text()

    async def post(self, path: str, data: dict[str, str] | None = None, *,
                   csrf: bool = True) -> ClientResponse:
        form = dict(data or {})
        if csrf:
            form["csrf"] = self.csrf
        return await self.client.post(path, data=form, allow_redirects=False)


async def fill(db: Database, survey: Survey) -> None:
    """Seven responses: five partners (three in French), two without partnership."""
    for n in range(5):
        await add_response(db, survey, 100 + n, PARTNER, language="fr" if n < 3 else "en")
    for n in range(2):
        await add_response(db, survey, 200 + n, NO_PARTNER)


@asynccontextmanager
async def serving(where: Path | str, files: Path, survey: Survey) -> AsyncIterator[Site]:
    """The console over a filled database (a SQLite file, or a PostgreSQL URL)."""
    db = await connect(where)
    await fill(db, survey)
    clock = Clock()
    url = str(where) if is_url(where) else None
    config = Config(db=files / "bot.sqlite3" if url else Path(where), db_url=url,
                    admins=frozenset({ORGANIZER}), web_url="http://127.0.0.1/", small_cell=3)
    organizing = Organizing(db, survey, config, clock, secret="s" * 20)
    access = Access(db, config, clock, "s" * 20)
    published: list[Survey] = []
    resources = Resources(organizing, access, config, Catalogs.load(domain=CONSOLE_DOMAIN),
                          reminder_text, Exports(config.database, "s" * 20, clock),
                          published=lambda survey: (published.append(survey),
                                                    organizing.use_survey(survey))[0])
    client: TestClient[Any, Any] = TestClient(TestServer(build_app(resources)))
    await client.start_server()
    try:
        yield Site(client, db, access, organizing, clock, config.db, published=published)
    finally:
        await client.close()
        await db.close()


@pytest.fixture
async def site(tmp_path: Path, consultation: Survey) -> AsyncIterator[Site]:
    async with serving(tmp_path / "bot.sqlite3", tmp_path, consultation) as served:
        yield served


@pytest.fixture
async def any_site(database_url: str, tmp_path: Path, consultation: Survey
                   ) -> AsyncIterator[Site]:
    """The console on each engine (``site.path`` is a file only on SQLite)."""
    async with serving(database_url, tmp_path, consultation) as served:
        yield served
