"""Nothing leaks, nothing lingers, nothing runs twice: tried as an attacker and a careless
operator would (see docs/reliability.md)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import signal
import socket
import stat
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from bot.api import ConsultBot
from bot.config import Config
from bot.delivery import DeliveryWorker
from bot.rounds import start_reminder_round
from bot.sandbox.standin import StandIn
from bot.survey.model import Survey
from storage.db import connect, transaction
from storage.lock import DatabaseInUse, RunLock
from storage.rounds import SUMMARY, Recipient
from storage.updates import KEEP, claim_update, prune_updates

from storage import participants, rounds
from tests.data import PARTNER, add_response
from tests.integration.harness import TOKEN, Harness, stored_answers
from tests.integration.test_delivery import no_reminders

SECRET_TEXT = "Fatima Zahra, the shop on Rue Hassan II"
USER = 7_123_456_789  # large enough that its bytes are distinctive in the files


def files_of(db: Path) -> list[Path]:
    found = [p for p in db.parent.iterdir() if p.name.startswith(db.name)]
    media = db.parent / "media"
    return found + (list(media.iterdir()) if media.is_dir() else [])


def traces(db: Path, *needles: bytes) -> dict[str, int]:
    """How many times each needle appears in the raw bytes of the database's files."""
    counts: Counter[str] = Counter()
    for path in files_of(db):
        data = path.read_bytes()
        for needle in needles:
            counts[repr(needle)] += data.count(needle)
    return {k: v for k, v in counts.items() if v}


async def test_delete_leaves_no_byte_of_the_person_in_the_files(harness: Harness) -> None:
    alice = harness.person(USER)
    await alice.start()
    await alice.press("Other")
    await alice.send(SECRET_TEXT)
    await alice.send("/subscribe")
    needles = (SECRET_TEXT.encode(), str(USER).encode(), USER.to_bytes(6, "big"))
    assert traces(harness.db, *needles)  # the test looks where the data is
    await alice.send("/delete")
    await alice.press("Yes, delete everything")
    assert "delete this chat in Telegram" in alice.last.text  # its own messages stay there
    assert traces(harness.db, *needles) == {}
    assert stored_answers(harness) == {}


async def test_mydata_shows_a_subscription_made_before_start_and_delete_removes_it(
    harness: Harness,
) -> None:
    bob = harness.person(USER + 1)
    await bob.send("/subscribe")
    shown = (await bob.send("/mydata"))[-1].text
    assert "You receive summaries of the results in English" in shown
    await bob.send("/delete")
    await bob.press("Yes, delete everything")
    assert (await bob.send("/mydata"))[-1].text == "Nothing is stored about you."


async def test_control_characters_and_direction_overrides_are_not_stored(
    harness: Harness,
) -> None:
    carla = harness.person(62)
    await carla.start()
    await carla.press("Other")
    await carla.send("Tea\x00cher \u202eredaeT\u202c ok")
    assert stored_answers(harness)["role_other"] == "Teacher redaeT ok"


def test_the_database_and_media_are_created_owner_only(tmp_path: Path) -> None:
    async def make() -> None:
        db = await connect(tmp_path / "bot.sqlite3")
        async with transaction(db) as tx:
            await participants.create_participant(tx, 1, None, dt.datetime.now(dt.UTC))
        modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in files_of(db_path)}
        await db.close()
        assert modes and set(modes.values()) == {0o600}, modes

    db_path = tmp_path / "bot.sqlite3"
    old = os.umask(0o022)
    try:
        asyncio.run(make())
    finally:
        os.umask(old)


def test_a_second_process_on_the_same_database_is_refused(tmp_path: Path) -> None:
    first = RunLock(tmp_path / "bot.sqlite3").acquire()
    try:
        with pytest.raises(DatabaseInUse, match=f"process {os.getpid()}"):
            RunLock(tmp_path / "bot.sqlite3").acquire()
    finally:
        first.release()
    RunLock(tmp_path / "bot.sqlite3").acquire().release()  # free again


def _env(api: StandIn, db: Path, token: str = TOKEN) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONSULTBOT_")}
    env.update(CONSULTBOT_TOKEN=token, CONSULTBOT_API_URL=api.url, CONSULTBOT_DB=str(db),
               CONSULTBOT_WEB="127.0.0.1:0")  # the console on any free port
    return env


async def test_consultbot_run_beside_a_running_bot_says_so_in_one_line(
    harness: Harness, api: StandIn,
) -> None:
    done = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "bot", "run"], env=_env(api, harness.db),
        capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "already served by process" in done.stderr


async def test_a_refused_token_is_one_line_without_the_token(
    api: StandIn, tmp_path: Path
) -> None:
    token = "4242:a-token-telegram-refuses"
    done = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "bot", "run"],
        env=_env(api, tmp_path / "bot.sqlite3", token),
        capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2
    assert "refused the token" in done.stderr and done.stderr.count("\n") == 1
    assert "a-token-telegram-refuses" not in done.stderr + done.stdout


async def test_an_unreachable_api_is_retried_and_a_stop_ends_it_cleanly(tmp_path: Path) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]  # nothing listens there once the socket is closed
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONSULTBOT_")}
    env.update(CONSULTBOT_TOKEN="4242:unreachable-token",
               CONSULTBOT_API_URL=f"http://127.0.0.1:{port}",
               CONSULTBOT_DB=str(tmp_path / "bot.sqlite3"))
    process = subprocess.Popen([sys.executable, "-m", "bot", "run"], env=env,
                               stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    lines: list[str] = []
    try:
        while len([line for line in lines if "cannot be reached" in line]) < 2:
            line = await asyncio.wait_for(asyncio.to_thread(process.stderr.readline), 30)
            assert line, "the bot exited instead of trying again"
            lines.append(line)
    finally:
        process.send_signal(signal.SIGTERM)
        rest = await asyncio.to_thread(process.communicate, timeout=30)
    assert process.returncode == 0
    everything = "".join(lines) + rest[1]
    assert "Traceback" not in everything and "unreachable-token" not in everything


async def test_two_senders_never_send_one_message_twice(
    api: StandIn, tmp_path: Path, consultation: Survey
) -> None:
    path = tmp_path / "bot.sqlite3"
    first, second = await connect(path), await connect(path)
    now = dt.datetime(2026, 11, 28, 9, 0, tzinfo=dt.UTC)
    chats = [api.group(-1003000000000 - n, f"Association {n}").id for n in range(40)]
    async with transaction(first) as tx:
        round_id = await rounds.create_round(
            tx, SUMMARY, "test", [Recipient(chat, "en") for chat in chats], now)
        await rounds.save_contents(tx, round_id, "en", "Results so far", None)
    bots = [ConsultBot(TOKEN, base_url=f"{api.url}/bot") for _ in range(2)]
    workers = []
    for bot, db in zip(bots, (first, second), strict=True):
        await bot.initialize()
        workers.append(DeliveryWorker(bot, db, consultation, Config(token=TOKEN, rate=500.0),
                                      lambda: now, no_reminders))
    tasks = [asyncio.create_task(worker.run()) for worker in workers]
    try:
        await api.wait_until(lambda: sum(1 for c in api.calls
                                         if c.method == "sendMessage" and c.ok) >= 40, 30)
        await asyncio.gather(*(asyncio.wait_for(w.drained(), 10) for w in workers))
    finally:
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for bot in bots:
            await bot.shutdown()
        await first.close()
        await second.close()
    sent = Counter(c.params["chat_id"] for c in api.calls if c.method == "sendMessage" and c.ok)
    assert sent == Counter({chat: 1 for chat in chats})


async def test_a_second_reminder_round_leaves_out_people_already_waiting_for_one(
    harness: Harness, consultation: Survey,
) -> None:
    assert harness.application is not None
    db = harness.application.bot_data.database
    assert db is not None
    harness.api.introduce(301)
    await add_response(db, consultation, 301, PARTNER[:3],
                       started=harness.clock.now - dt.timedelta(days=5))
    first = await start_reminder_round(db, consultation, harness.config, harness.clock.now, "a")
    second = await start_reminder_round(db, consultation, harness.config, harness.clock.now, "b")
    assert (first.recipients, second.recipients) == (1, 0)


async def test_a_reminder_already_given_by_another_round_is_not_sent_again(
    harness: Harness, consultation: Survey,
) -> None:
    assert harness.application is not None and harness.application.bot_data.worker
    db = harness.application.bot_data.database
    assert db is not None
    harness.api.introduce(302)
    await add_response(db, consultation, 302, PARTNER[:3],
                       started=harness.clock.now - dt.timedelta(days=5))
    async with transaction(db) as tx:  # two rounds queued at once, bypassing the check
        for origin in ("chat", "command line"):
            await rounds.create_round(tx, "reminder", origin, [Recipient(302, "en", 302)],
                                      harness.clock.now)
    worker = harness.application.bot_data.worker
    worker.wake()
    await worker.drained()
    reminders = [c for c in harness.api.calls if c.method == "sendMessage" and c.ok
                 and c.params["chat_id"] == 302]
    assert len(reminders) == 1


async def test_only_the_updates_the_bot_handles_are_asked_for(harness: Harness) -> None:
    await harness.person(63).send("/help")
    polls = [c for c in harness.api.calls if c.method == "getUpdates"]
    assert polls and all(c.params.get("allowed_updates") == ["message", "callback_query"]
                         for c in polls)


async def test_an_update_the_library_cannot_read_is_skipped_and_never_logged(
    harness: Harness, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    harness.api.send_raw_update("message", {
        "message_id": 1, "date": "yesterday", "chat": {"id": 64, "type": "private"},
        "from": {"id": 64, "is_bot": False, "first_name": "Leila"}, "text": "my secret answer"})
    dana = harness.person(65)
    replies = await dana.send("/start")  # the bot still serves the next person
    assert "choose your language" in replies[-1].text
    skipped = [r for r in caplog.records if "could not be read" in r.getMessage()]
    assert len(skipped) == 1
    logged = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    assert "my secret answer" not in logged and "Leila" not in logged
    assert not [r for r in caplog.records if r.levelno >= logging.CRITICAL]


async def test_update_ids_are_forgotten_once_telegram_cannot_send_them_again(
    harness: Harness,
) -> None:
    assert harness.application is not None and harness.application.job_queue is not None
    db = harness.application.bot_data.database
    assert db is not None
    now = harness.clock.now
    async with transaction(db) as tx:
        assert await claim_update(tx, 11, now - KEEP - dt.timedelta(minutes=1))
        assert await claim_update(tx, 12, now - KEEP + dt.timedelta(minutes=1))
    assert await prune_updates(db, now - KEEP) == 1
    async with transaction(db) as tx:
        assert await claim_update(tx, 11, now)  # a new update may reuse a forgotten id
        assert not await claim_update(tx, 12, now)  # one Telegram may resend is remembered
    jobs = [job.name for job in harness.application.job_queue.jobs()]
    assert "forget old update ids" in jobs  # every hour while the bot runs, not only at start
