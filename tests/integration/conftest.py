"""Fixtures: the stand-in Bot API, the built-in consultation, a running bot."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from bot.sandbox.standin import StandIn
from bot.survey.loader import BUILTIN_SURVEY, load_survey
from bot.survey.model import Survey

from tests.integration.harness import TOKEN, Harness


@pytest.fixture(scope="session")
def consultation() -> Survey:
    survey, _ = load_survey(BUILTIN_SURVEY)
    return survey


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
