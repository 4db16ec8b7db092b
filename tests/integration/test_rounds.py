"""Reminder rounds and summary broadcasts through the real bot and the stand-in."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter
from pathlib import Path

import pytest
from bot.delivery import Pacer
from bot.i18n import Catalogs
from bot.sandbox.standin import Call, StandIn
from bot.scheduling import start_round
from bot.survey.model import Survey
from bot.waiting import wait_event
from storage.db import Database, transaction
from storage.rounds import REMINDER, SUMMARY

from storage import participants, subscriptions
from tests import stored
from tests.data import NO_PARTNER, PARTNER, add_response
from tests.integration.harness import DEADLINE, ORGANIZER, Harness


def database(harness: Harness) -> Database:
    assert harness.application is not None and harness.application.bot_data.database
    return harness.application.bot_data.database


class InstantTime:
    """A pacer's clock whose sleeps move it at once, taking no real time."""

    def __init__(self) -> None:
        self.now = 1000.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


async def drained(harness: Harness) -> None:
    assert harness.application is not None
    worker = harness.application.bot_data.worker
    assert worker is not None
    await worker.drained()


def recipients(harness: Harness, round_id: int) -> set[int]:
    return {row[0] for row in stored.rows(
        harness.db, "SELECT chat_id FROM outbox WHERE round_id = ?", round_id)}


def sent_to(api: StandIn, method: str = "sendMessage") -> Counter[int]:
    """How many messages each chat got through ``method`` (confirmed by the stand-in)."""
    return Counter(call.params["chat_id"] for call in api.calls
                   if call.method == method and call.ok)


async def people(harness: Harness, survey: Survey) -> dict[str, int]:
    """Participants in every situation a reminder round must tell apart."""
    db = database(harness)
    now = harness.clock.now
    ids = {"in_progress": 201, "completed": 202, "blocked": 203, "no_reminders": 204,
           "reminded_yesterday": 205, "reminded_twice": 206, "active_now": 207,
           "never_consented": 208, "in_progress_fr": 209}
    for name, user in ids.items():
        harness.api.introduce(user)
        if name == "never_consented":
            async with transaction(db) as tx:
                await participants.create_participant(tx, user, None, now - dt.timedelta(days=5))
            continue
        inputs = NO_PARTNER if name == "completed" else PARTNER[:3]
        started = now - (dt.timedelta(hours=1) if name == "active_now" else dt.timedelta(days=5))
        await add_response(db, survey, user, inputs, started=started,
                           language="fr" if name == "in_progress_fr" else "en",
                           minutes_per_answer=0.1)
    async with transaction(db) as tx:
        await participants.mark_blocked(tx, ids["blocked"], now)
        await participants.set_reminders_off(tx, ids["no_reminders"], True)
        await participants.note_reminder(tx, ids["reminded_yesterday"], now - dt.timedelta(days=1))
        await participants.note_reminder(tx, ids["reminded_twice"], now - dt.timedelta(days=9))
        await participants.note_reminder(tx, ids["reminded_twice"], now - dt.timedelta(days=8))
    return ids


async def test_a_reminder_round_reaches_exactly_the_right_people(
    harness: Harness, consultation: Survey
) -> None:
    ids = await people(harness, consultation)
    harness.api.introduce(ORGANIZER)
    assert harness.application is not None
    started = await start_round(harness.application, REMINDER, "test")
    assert started.recipients == 2
    await drained(harness)
    assert set(sent_to(harness.api)) == {ids["in_progress"], ids["in_progress_fr"], ORGANIZER}
    [reminder] = harness.api.messages(ids["in_progress"])
    assert "You have answered 3 of 16 questions" in reminder.text
    assert [b.text for row in reminder.buttons for b in row] == ["Continue", "Stop reminders"]
    [french] = harness.api.messages(ids["in_progress_fr"])
    assert "Continuer" in [b.text for row in french.buttons for b in row] or french.text != \
        reminder.text
    [report] = harness.api.messages(ORGANIZER)
    assert report.text.startswith("Reminder round 1 finished") and "2 sent" in report.text
    # nobody is reminded twice within the interval
    again = await start_round(harness.application, REMINDER, "test")
    assert again.recipients == 0


async def test_people_who_never_consented_are_asked_once_when_configured(
    api: StandIn, tmp_path: Path, consultation: Survey
) -> None:
    harness = Harness(api, tmp_path / "bot.sqlite3", consultation, remind_unconsented=True)
    await harness.start()
    try:
        ids = await people(harness, consultation)
        assert harness.application is not None
        started = await start_round(harness.application, REMINDER, "test")
        assert started.recipients == 3
        await drained(harness)
        [invitation] = api.messages(ids["never_consented"])
        assert "have not started yet" in invitation.text
        assert [b.text for row in invitation.buttons for b in row][0] == "Take part"
        harness.clock.advance(days=10)
        again = await start_round(harness.application, REMINDER, "test")
        assert again.round_id is not None
        assert ids["never_consented"] not in recipients(harness, again.round_id)  # once only
        assert ids["in_progress"] in recipients(harness, again.round_id)  # a second reminder
    finally:
        await harness.stop()


async def test_continue_resumes_and_stop_reminders_stops_them(
    harness: Harness, consultation: Survey
) -> None:
    ids = await people(harness, consultation)
    assert harness.application is not None
    await start_round(harness.application, REMINDER, "test")
    await drained(harness)
    person = harness.person(ids["in_progress"])
    replies = await person.press("Continue")
    assert "What is your country of origin?" in replies[-1].text or "partnership" in \
        replies[-1].text
    other = harness.person(ids["in_progress_fr"])
    await other.press(other.labels(other.messages[0])[1])
    assert stored.value(harness.db, "SELECT reminders_off FROM participants WHERE id = ?",
                        ids["in_progress_fr"]) == 1


async def test_a_blocked_person_mid_round_is_marked_and_left_out(
    harness: Harness, consultation: Survey
) -> None:
    ids = await people(harness, consultation)
    harness.api.block(ids["in_progress"])
    assert harness.application is not None
    await start_round(harness.application, REMINDER, "test")
    await drained(harness)
    statuses = dict(stored.rows(harness.db, "SELECT chat_id, status FROM outbox"))
    blocked = stored.value(harness.db, "SELECT blocked_at FROM participants WHERE id = ?",
                           ids["in_progress"])
    assert statuses == {ids["in_progress"]: "unreachable", ids["in_progress_fr"]: "sent"}
    assert blocked is not None
    harness.clock.advance(days=10)
    again = await start_round(harness.application, REMINDER, "test")
    assert again.round_id is not None
    assert ids["in_progress"] not in recipients(harness, again.round_id)  # not tried again
    assert ids["in_progress_fr"] in recipients(harness, again.round_id)


async def subscribe_groups(
    harness: Harness, count: int, language: str = "en", kind: str = "supergroup"
) -> list[int]:
    db = database(harness)
    chats = []
    async with transaction(db) as tx:
        for n in range(count):
            chat = harness.api.group(-1001000000000 - n, f"Association {n}", type=kind)
            chats.append(chat.id)
            await subscriptions.subscribe(tx, chat.id, kind="group", language=language,
                                          name=chat.title, participant_id=None,
                                          now=harness.clock.now)
    return chats


async def test_a_429_stops_every_send_for_exactly_retry_after(
    harness: Harness, consultation: Survey
) -> None:
    chats = await subscribe_groups(harness, 4)
    retry_after = 1
    harness.api.fail_next("sendPhoto", status=429, retry_after=retry_after)
    assert harness.application is not None
    await start_round(harness.application, SUMMARY, "test")
    await drained(harness)
    photos = [call for call in harness.api.calls if call.method == "sendPhoto"]
    assert photos[0].status == 429
    later = [call for call in photos[1:]]
    assert all(call.started >= photos[0].finished + retry_after for call in later)
    assert sent_to(harness.api, "sendPhoto") == Counter({chat: 1 for chat in chats})


async def test_server_errors_are_retried_with_backoff(
    harness: Harness, consultation: Survey
) -> None:
    [chat] = await subscribe_groups(harness, 1)
    harness.api.fail_next("sendPhoto", status=502)
    assert harness.application is not None
    worker = harness.application.bot_data.worker
    assert worker is not None
    # the retry goes to the same group, which the pacer keeps 3 s apart: on a clock whose
    # sleeps take no time here (that spacing is tests/unit/test_pacer.py's business)
    pacing = InstantTime()
    worker.pacer = Pacer(harness.config.rate, clock=pacing.clock, sleep=pacing.sleep)
    await start_round(harness.application, SUMMARY, "test")
    await drained(harness)
    assert sent_to(harness.api, "sendPhoto") == Counter()
    harness.clock.advance(seconds=5)  # past the back-off
    await drained(harness)
    assert sent_to(harness.api, "sendPhoto") == Counter({chat: 1})


async def test_an_upgraded_group_is_followed_and_a_lost_chat_is_left_out(
    harness: Harness, consultation: Survey
) -> None:
    old, gone = await subscribe_groups(harness, 2, kind="group")
    new = harness.api.migrate_group(old, -1009999999999)
    harness.api.remove_bot(gone)
    assert harness.application is not None
    await start_round(harness.application, SUMMARY, "test")
    await drained(harness)
    assert sent_to(harness.api, "sendPhoto") == Counter({new.id: 1})
    unreachable = dict(stored.rows(harness.db, "SELECT chat_id, unreachable_at IS NOT NULL "
                                   "FROM subscriptions"))
    assert unreachable == {new.id: 0, gone: 1}


async def test_a_restart_in_the_middle_of_a_round_repeats_nothing(
    harness: Harness, api: StandIn, consultation: Survey
) -> None:
    chats = await subscribe_groups(harness, 30)

    def hold_after_three(call: Call) -> None:  # runs as each call is recorded
        if sum(sent_to(api, "sendPhoto").values()) >= 3:
            api.hold("sendPhoto")  # the next ones are out, unanswered, when the stop comes

    api.add_listener(hold_after_three)
    assert harness.application is not None
    worker = harness.application.bot_data.worker
    assert worker is not None
    await start_round(harness.application, SUMMARY, "test")
    await api.wait_until(lambda: api.held > 0)
    stop = asyncio.create_task(harness.stop())  # mid-round
    assert await wait_event(worker.stopping, DEADLINE), "the delivery worker did not stop"
    api.remove_listener(hold_after_three)
    api.release("sendPhoto")  # the answers reach the stopping worker, which records them
    await stop
    first_part = sum(sent_to(api, "sendPhoto").values())
    assert 3 <= first_part < 30
    await harness.start()
    await drained(harness)
    assert sent_to(api, "sendPhoto") == Counter({chat: 1 for chat in chats})
    photos = [call for call in api.calls if call.method == "sendPhoto" and call.ok]
    uploads = [call for call in photos if not isinstance(call.params.get("photo"), str)]
    assert len(uploads) <= 2  # the chart is uploaded once, then sent by its file id


async def test_a_chart_is_uploaded_once_per_language_even_when_the_first_send_fails(
    api: StandIn, tmp_path: Path, consultation: Survey
) -> None:
    harness = Harness(api, tmp_path / "bot.sqlite3", consultation, rate=200.0)
    await harness.start()
    try:
        db = database(harness)
        async with transaction(db) as tx:
            for n in range(40):
                chat = api.group(-1002000000000 - n, f"Association {n}", type="supergroup")
                await subscriptions.subscribe(tx, chat.id, kind="group",
                                              language=("en", "ar")[n % 2], name=chat.title,
                                              participant_id=None, now=harness.clock.now)
        api.fail_next("sendPhoto", status=403, description="Forbidden: bot was kicked from "
                      "the supergroup chat")  # the first carrier of the English chart
        assert harness.application is not None
        await start_round(harness.application, SUMMARY, "test")
        await drained(harness)
        photos = [call for call in api.calls if call.method == "sendPhoto"]
        uploads = [call for call in photos if not isinstance(call.params.get("photo"), str)]
        # English: the refused one, then the next message carries it; Arabic: once
        assert [call.ok for call in uploads] == [False, True, True]
        assert len(sent_to(api, "sendPhoto")) == 39
    finally:
        await harness.stop()


async def test_a_schedule_survives_a_restart_and_a_missed_one_runs_once(
    harness: Harness, consultation: Survey
) -> None:
    from bot.scheduling import job_name  # noqa: F401 (documents what the job is called)
    from storage.schedules import add_schedule, list_schedules

    ids = await people(harness, consultation)
    db = database(harness)
    now = harness.clock.now  # 09:00 UTC
    async with transaction(db) as tx:
        await add_schedule(tx, REMINDER, cron="30 8 * * *", run_at=None,
                           now=now - dt.timedelta(days=3))
        await add_schedule(tx, SUMMARY, cron="0 18 * * 1", run_at=None, now=now)
    await harness.restart()
    assert harness.application is not None and harness.application.job_queue is not None
    jobs = {job.name for job in harness.application.job_queue.jobs()}
    assert any(name and name.startswith("schedule 1 reminder") for name in jobs)
    assert any(name and name.startswith("schedule 2 summary") for name in jobs)
    await drained(harness)
    # 08:30 today fell due while the bot was down, 30 minutes ago: it ran once, at start
    assert set(sent_to(harness.api)) >= {ids["in_progress"]}
    [first, _] = await list_schedules(database(harness))
    assert first.last_run_at == now
    await harness.restart()
    await drained(harness)
    assert sent_to(harness.api)[ids["in_progress"]] == 1  # not again at the next start


@pytest.mark.parametrize("language", ["en", "fr", "es", "ar"])
async def test_the_summary_goes_out_in_each_language(
    harness: Harness, consultation: Survey, language: str
) -> None:
    db = database(harness)
    for n in range(12):
        await add_response(db, consultation, 400 + n, PARTNER if n % 3 else NO_PARTNER)
    [chat] = await subscribe_groups(harness, 1, language)
    assert harness.application is not None
    await start_round(harness.application, SUMMARY, "test")
    await drained(harness)
    [message] = harness.api.messages(chat)
    assert message.kind == "photo" and message.document is not None
    assert message.document.startswith(b"\x89PNG")
    assert len(message.text) <= 1024
    if language == "ar":
        assert any("\u0600" <= ch <= "\u06ff" for ch in message.text)


async def test_kill_9_in_the_middle_of_a_round_loses_and_repeats_nothing(
    api: StandIn, tmp_path: Path, consultation: Survey, catalogs: Catalogs
) -> None:
    """The real process, killed with SIGKILL while messages are out, then started again."""
    import os
    import signal
    import subprocess
    import sys

    from bot.config import Config
    from bot.rounds import start_summary_round
    from storage.db import connect

    from tests.integration.harness import TOKEN

    path = tmp_path / "bot.sqlite3"
    db = await connect(path)
    chats = []
    async with transaction(db) as tx:
        for n in range(30):
            chat = api.group(-1002000000000 - n, f"Association {n}")
            chats.append(chat.id)
            await subscriptions.subscribe(tx, chat.id, kind="group", language="fr",
                                          name=chat.title, participant_id=None,
                                          now=dt.datetime.now(dt.UTC))
    config = Config(token=TOKEN, api_url=api.url, db=path, rate=30.0)
    started = await start_summary_round(db, consultation, catalogs, config,
                                        dt.datetime.now(dt.UTC), "test")
    await db.close()
    assert started.recipients == 30

    def hold_after_eight(call: Call) -> None:  # runs as each call is recorded
        if sum(sent_to(api, "sendPhoto").values()) >= 8:
            api.hold("sendPhoto")  # the next requests stay out, unanswered, inside Telegram

    api.add_listener(hold_after_eight)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONSULTBOT_")}
    env.update(CONSULTBOT_TOKEN=TOKEN, CONSULTBOT_API_URL=api.url, CONSULTBOT_DB=str(path),
               CONSULTBOT_RATE="30", CONSULTBOT_WEB="127.0.0.1:0")
    log = (tmp_path / "bot.log").open("w")
    command = [sys.executable, "-m", "bot", "run"]
    first = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:  # killed while a message is out: received by "Telegram", never answered
        await api.wait_until(lambda: api.held > 0, timeout=30)
    finally:
        first.send_signal(signal.SIGKILL)
        await asyncio.to_thread(first.wait, 30)
    api.remove_listener(hold_after_eight)
    await api.wait_until(lambda: api.held == 0)  # the dead process's requests: never answered
    delivered_before = sum(sent_to(api, "sendPhoto").values())
    assert 8 <= delivered_before < 30
    api.release("sendPhoto")
    second = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        await api.wait_until(lambda: len(sent_to(api, "sendPhoto")) == 30, timeout=60)
    finally:
        second.send_signal(signal.SIGTERM)  # the stand-in must keep answering meanwhile
        try:
            await asyncio.to_thread(second.wait, 60)
        except subprocess.TimeoutExpired:
            second.kill()
            await asyncio.to_thread(second.wait)
            log.close()
            tail = (tmp_path / "bot.log").read_text()[-3000:]
            raise AssertionError(f"still running 60 s after SIGTERM; its log:\n{tail}") from None
        log.close()
    assert second.returncode == 0  # a clean stop, without a traceback
    assert "Traceback" not in (tmp_path / "bot.log").read_text()
    assert sent_to(api, "sendPhoto") == Counter({chat: 1 for chat in chats})
    assert stored.rows(path, "SELECT status, count(*) FROM outbox GROUP BY status") == [
        ("sent", 30)]
