"""Fixtures: the stand-in Bot API and a running bot (the consultation is in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from bot.sandbox.standin import StandIn
from bot.survey.model import Survey

from tests.integration.harness import TOKEN, Harness


@pytest.fixture
async def api() -> AsyncIterator[StandIn]:
    async with StandIn(TOKEN) as standin:
        yield standin


@pytest.fixture
async def harness(api: StandIn, tmp_path: Path, consultation: Survey) -> AsyncIterator[Harness]:
    bot = Harness(api, tmp_path / "bot.sqlite3", consultation)
    await bot.start()
    try:
        yield bot
    finally:
        await bot.stop()
