"""The delivery worker on its own, against the stand-in: what tests wait on must not race."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from bot.api import ConsultBot
from bot.config import Config
from bot.delivery import DeliveryWorker
from bot.rounds import Reminder
from bot.sandbox.standin import StandIn
from bot.survey.model import Survey
from storage.db import Database, connect, transaction
from storage.rounds import SUMMARY, Recipient
from telegram import InlineKeyboardMarkup

from storage import rounds
from tests.integration.harness import TOKEN

NOW = dt.datetime(2026, 11, 28, 9, 0, tzinfo=dt.UTC)


def no_reminders(reminder: Reminder) -> tuple[str, InlineKeyboardMarkup]:
    raise AssertionError("no reminder in these tests")


async def queue_text_round(db: Database, chat_id: int) -> int:
    async with transaction(db) as tx:
        round_id = await rounds.create_round(tx, SUMMARY, "test", [Recipient(chat_id, "en")],
                                             NOW)
        await rounds.save_contents(tx, round_id, "en", "Results so far", None)
    return round_id


class Racing(DeliveryWorker):
    """Queues a round, and asks to be told when it is drained, in the middle of an idle pass."""

    chat_id = 0
    late: asyncio.Task[None] | None = None

    async def _close_rounds(self) -> None:
        await super()._close_rounds()
        if self.late is None:
            await queue_text_round(self.db, self.chat_id)
            self.late = asyncio.ensure_future(self.drained())
            await asyncio.sleep(0)  # the call registers before this pass ends


@pytest.fixture
async def bot(api: StandIn) -> AsyncIterator[ConsultBot]:
    telegram = ConsultBot(TOKEN, base_url=f"{api.url}/bot")
    await telegram.initialize()
    yield telegram
    await telegram.shutdown()


async def test_drained_waits_for_a_round_committed_during_an_idle_pass(
    api: StandIn, bot: ConsultBot, tmp_path: Path, consultation: Survey
) -> None:
    db = await connect(tmp_path / "bot.sqlite3")
    group = api.group(-1002000000001, "Association")
    worker = Racing(bot, db, consultation, Config(token=TOKEN, rate=100.0), lambda: NOW,
                    no_reminders)
    worker.chat_id = group.id
    running = asyncio.create_task(worker.run())
    try:
        await asyncio.wait_for(worker.drained(), 10)  # the first idle pass
        assert worker.late is not None
        await asyncio.wait_for(worker.late, 10)
        sent = [c for c in api.calls if c.method == "sendMessage" and c.ok]
        assert [c.params["chat_id"] for c in sent] == [group.id]
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
        await db.close()
