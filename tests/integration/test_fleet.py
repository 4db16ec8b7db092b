"""Three ``consultbot run --webhook`` workers on one PostgreSQL database behind a random
load balancer: every answer stored once and in order, every reply sent, one worker
registers the webhook and leads; when the leader is killed (-9) the others carry on and
one of them takes over the schedules and the delivery."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import pytest
from bot.app import FORGET_JOB
from bot.config import Config
from bot.rounds import start_reminder_round
from bot.sandbox.standin import SentMessage, SimUser, StandIn
from bot.survey.model import Survey
from storage.postgres import connect_postgres

from tests.data import PARTNER, add_response
from tests.integration.balancer import Balancer
from tests.integration.harness import TOKEN, Harness
from tests.storage.test_leadership import kill_leader_session

DEADLINE = 60.0  # for anything (a worker starting on two busy cores included)
PEOPLE = range(9_100, 9_130)
REMINDED = range(9_200, 9_206)
LEADS = "leading the webhook workers"
# (press or send, what): each step's reply is a new message with buttons
BEFORE_THE_KILL = [("send", "/start"), ("press", "English"), ("press", 0), ("press", "Migrant")]
AFTER_THE_KILL = [("send", "Chile"), ("press", "Skip »"), ("press", "No")]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Worker:
    """One ``consultbot run --webhook`` process and its log."""

    number: int
    log_path: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/telegram"

    def start(self, env: dict[str, str], webhook_url: str) -> None:
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot", "run", "--webhook", webhook_url],
                env={**env, "CONSULTBOT_LISTEN": f"127.0.0.1:{self.port}"},
                stdout=log, stderr=subprocess.STDOUT)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


class Fleet:
    def __init__(self, api: StandIn, folder: Path, db_url: str) -> None:
        self.api = api
        self.workers = [Worker(n, folder / f"worker{n}.log") for n in range(3)]
        self.balancer = Balancer([w.url for w in self.workers], lose=0.08)
        env = {k: v for k, v in os.environ.items() if not k.startswith("CONSULTBOT_")}
        env.update(CONSULTBOT_TOKEN=TOKEN, CONSULTBOT_API_URL=api.url, CONSULTBOT_DB=db_url,
                   CONSULTBOT_WEB="off", CONSULTBOT_LEADER_CHECK="0.2")
        self.env = env
        self.folder = folder

    def logs(self) -> str:
        return "\n".join(f"--- worker {w.number}:\n{w.log()[-2500:]}" for w in self.workers)

    async def until(self, what: str, condition: Callable[[], bool]) -> None:
        """Poll ``condition`` until true; on the deadline, or a worker's death, fail with
        the logs."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + DEADLINE
        while not condition():
            dead = [w for w in self.workers if w.process is not None and not w.running
                    and w.process.returncode != -signal.SIGKILL]
            if dead or loop.time() > deadline:
                raise AssertionError(f"{what}: {'a worker died' if dead else 'timed out'}\n"
                                     f"{self.logs()}")
            await asyncio.sleep(0.05)

    async def within(self, what: str, waiting: Awaitable[None]) -> None:
        try:
            async with asyncio.timeout(DEADLINE):
                await waiting
        except TimeoutError:
            raise AssertionError(f"{what}: timed out\n{self.logs()}") from None

    def leaders(self) -> list[Worker]:
        return [w for w in self.workers if w.running and LEADS in w.log()]

    def stop(self) -> None:
        for worker in self.workers:
            if worker.running:
                assert worker.process is not None
                worker.process.send_signal(signal.SIGTERM)
        for worker in self.workers:
            if worker.process is None:
                continue
            try:
                worker.process.wait(30)
            except subprocess.TimeoutExpired:
                worker.process.kill()
                worker.process.wait()


@pytest.fixture
async def fleet(api: StandIn, tmp_path: Path, pg_url: str) -> AsyncIterator[Fleet]:
    api.local_mode = True  # the webhook is the balancer on 127.0.0.1
    fleet = Fleet(api, tmp_path, pg_url)
    url = await fleet.balancer.start()
    try:
        for worker in fleet.workers:
            worker.start(fleet.env, url)
        yield fleet
    finally:
        await asyncio.to_thread(fleet.stop)
        await fleet.balancer.stop()


async def walk(api: StandIn, user: SimUser, steps: list[tuple[str, str | int]]) -> None:
    """Take each step once its previous reply came (a new message with buttons)."""
    for how, what in steps:
        before = len(api.messages(user.id))
        if how == "send":
            user.send(str(what))
        else:
            user.press(with_button(api.messages(user.id), what), what)
        await api.wait_until(lambda seen=before: any(  # type: ignore[misc]
            m.buttons for m in api.messages(user.id)[seen:]), timeout=DEADLINE)


def with_button(messages: list[SentMessage], label: str | int) -> SentMessage:
    for message in reversed(messages):
        flat = [b.text for row in message.buttons for b in row]
        if (isinstance(label, int) and label < len(flat)) or label in flat:
            return message
    raise AssertionError(f"no message with a button {label!r}")


async def test_three_workers_share_the_load_and_survive_the_leaders_death(
    fleet: Fleet, consultation: Survey, pg_url: str
) -> None:
    api = fleet.api
    await fleet.until("all three workers serving", lambda: all(
        "receiving updates by webhook" in w.log() for w in fleet.workers))
    await fleet.until("one leader", lambda: len(fleet.leaders()) == 1)
    # a worker says it receives updates before it registers the webhook (or leaves it to
    # the leader): wait until all three have done one or the other
    await fleet.until("every worker decided about the webhook", lambda: all(
        "webhook registered" in w.log() or "left to another process" in w.log()
        for w in fleet.workers))
    [leader] = fleet.leaders()
    registered = [c for c in api.calls if c.method == "setWebhook" and c.ok]
    assert len(registered) == 1 and registered[0].params["url"] == fleet.balancer.url
    assert [w for w in fleet.workers if "webhook registered" in w.log()] == [leader]

    users = {uid: api.user(uid, language_code="en") for uid in PEOPLE}
    await fleet.within("the first half of the journeys", asyncio.gather(
        *(walk(api, user, BEFORE_THE_KILL) for user in users.values())))

    # at a quiet moment: killed between its reply and its 200, a worker leaves the update
    # to be posted again, and the next worker shows the question once more (by design)
    await fleet.within("quiet", api.wait_until(lambda: api.pending_updates == 0,
                                               timeout=DEADLINE))
    assert leader.process is not None
    leader.process.kill()  # kill -9: its session ends, and the lead is free
    await asyncio.to_thread(leader.process.wait)
    db = await connect_postgres(pg_url, migrate_schema=False, size=2)
    try:  # a reminder round queued after the leader's death is sent by the new leader
        started = dt.datetime.now(dt.UTC) - dt.timedelta(days=5)
        for uid in REMINDED:
            api.introduce(uid)
            await add_response(db, consultation, uid, PARTNER[:3], started=started,
                               minutes_per_answer=0.1)
        round_ = await start_reminder_round(db, consultation, Config(), dt.datetime.now(dt.UTC),
                                            "fleet test")
        assert round_.recipients == len(REMINDED)
    finally:
        await db.close()
    await fleet.within("the second half of the journeys", asyncio.gather(
        *(walk(api, user, AFTER_THE_KILL) for user in users.values())))
    await fleet.until("a new leader", lambda: len(fleet.leaders()) == 1)
    await fleet.within("the reminders", api.wait_until(lambda: all(
        api.messages(uid) for uid in REMINDED), timeout=DEADLINE))
    await fleet.within("every update answered", api.wait_until(
        lambda: api.pending_updates == 0, timeout=DEADLINE))

    connection = await asyncpg.connect(pg_url)
    try:
        answers = await connection.fetch(
            "SELECT r.participant_id, a.question_id FROM answers a JOIN responses r "
            "ON r.id = a.response_id WHERE r.participant_id = ANY($1::bigint[]) "
            # the writing transaction's id: one chat's transactions run one after the other
            "ORDER BY r.participant_id, a.xmin::text::bigint", list(PEOPLE))
        processed = await connection.fetchval("SELECT count(*) FROM processed_updates")
        outbox = await connection.fetch("SELECT chat_id, status FROM outbox")
    finally:
        await connection.close()
    by_person: dict[int, list[str]] = {}
    for row in answers:
        by_person.setdefault(row["participant_id"], []).append(row["question_id"])
    journey = by_person[PEOPLE[0]]
    assert len(journey) >= 3 and len(set(journey)) == len(journey)  # once each, in order
    assert by_person == {uid: journey for uid in PEOPLE}
    assert processed == len(PEOPLE) * (len(BEFORE_THE_KILL) + len(AFTER_THE_KILL))
    assert sorted((r["chat_id"], r["status"]) for r in outbox) == [
        (uid, "sent") for uid in REMINDED]
    sends = [c for c in api.calls if c.method == "sendMessage" and c.ok]
    for uid in REMINDED:
        assert sum(c.params["chat_id"] == uid for c in sends) == 1  # exactly once
    replies = {uid: [c.params["text"] for c in sends if c.params["chat_id"] == uid]
               for uid in PEOPLE}
    assert all(len(texts) == len(replies[PEOPLE[0]]) for texts in replies.values()), replies
    assert all(len(set(texts)) == len(texts) for texts in replies.values()), "a reply twice"
    deliveries = api.webhook_deliveries
    assert fleet.balancer.lost and any(d.attempt > 1 and d.accepted for d in deliveries)
    survivors = [w for w in fleet.workers if w is not leader]
    assert all(fleet.balancer.forwarded[w.url] for w in fleet.workers)
    await asyncio.to_thread(fleet.stop)
    for worker in survivors:
        assert worker.process is not None and worker.process.returncode == 0, fleet.logs()
        assert "Traceback" not in worker.log()
        assert TOKEN.split(":")[1] not in worker.log()


async def test_a_leader_cut_off_from_the_database_hands_over_its_jobs(
    api: StandIn, tmp_path: Path, consultation: Survey, pg_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """In one process, two workers: the leader's connection is cut (the server ends its
    session), so it stops its delivery and schedules; whichever then takes the lead (the
    other, or itself on a new connection) starts them, and the other has none."""
    caplog.set_level(logging.INFO)
    workers = [Harness(api, tmp_path / "files" / "bot.sqlite3", consultation, webhook=True,
                       db_url=pg_url, leader_check=0.05) for _ in range(2)]
    first, second = workers
    await first.start()
    try:
        await second.start()
        apps = [w.application for w in workers]
        assert apps[0] is not None and apps[1] is not None
        data = [app.bot_data for app in apps]
        assert data[0].leading and data[0].worker is not None
        assert not data[1].leading and data[1].worker is None

        def forgetting(index: int) -> bool:
            queue = apps[index].job_queue  # type: ignore[union-attr]
            assert queue is not None
            return any(j.name == FORGET_JOB and not j.removed for j in queue.jobs())

        assert forgetting(0) and not forgetting(1)
        await kill_leader_session(pg_url)

        def handed_over() -> bool:
            return ("no longer the leader" in caplog.text and data[0].leading != data[1].leading
                    and all((d.worker is not None) == d.leading for d in data))

        async with asyncio.timeout(20):  # the stand-in sees none of this: poll
            while not handed_over():
                await asyncio.sleep(0.02)
        leader = 0 if data[0].leading else 1
        assert [forgetting(0), forgetting(1)] == [leader == 0, leader == 1]
    finally:
        for worker in workers:
            await worker.stop()
