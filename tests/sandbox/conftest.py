"""Fixtures: a started stand-in, a raw HTTP client for it, and a person who started the bot."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from bot.sandbox.standin import SimUser, StandIn

from tests.sandbox.raw import TOKEN, Raw


@pytest.fixture
async def api() -> AsyncIterator[StandIn]:
    async with StandIn(TOKEN) as standin:
        yield standin


@pytest.fixture
async def raw(api: StandIn) -> AsyncIterator[Raw]:
    async with httpx.AsyncClient(base_url=f"{api.url}/bot{TOKEN}/", timeout=20) as http:
        yield Raw(http)


@pytest.fixture
def amina(api: StandIn) -> SimUser:
    """A person who has started the bot, so their private chat is known."""
    person = api.user(42, first_name="Amina", last_name="K", username="amina", language_code="ar")
    person.send("/start")
    return person
