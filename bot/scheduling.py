"""Scheduled rounds: the schedules table, kept in step with APScheduler (PTB's JobQueue).

Schedules live in the database (the command line and the chat both write
there). At start-up, and every ``SYNC_SECONDS`` after, the jobs are made to match
the table: a job per active schedule, on a cron trigger in the configured time
zone or a date trigger. A schedule that fell due while the bot was down runs
once at start — not once per missed occurrence — if it fell due within the
grace period (``CONSULTBOT_SCHEDULE_GRACE``).
"""

from __future__ import annotations

import datetime as dt
import logging
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from storage.db import Database, transaction
from storage.rounds import REMINDER
from storage.schedules import Schedule, get_schedule, list_schedules, note_run

from bot.context import Context, HookApplication
from bot.rounds import RoundStarted, start_reminder_round, start_summary_round
from storage import schedules

logger = logging.getLogger(__name__)

SYNC_SECONDS = 30


class ScheduleError(ValueError):
    """A schedule that cannot be: a bad cron expression or date (the message says which)."""


def cron_trigger(expression: str, timezone: str) -> CronTrigger:
    """A standard five-field cron expression ("0 18 * * 1": Mondays at 18:00)."""
    try:
        return CronTrigger.from_crontab(expression, timezone=ZoneInfo(timezone))
    except ValueError as exc:
        raise ScheduleError(f"{expression!r} is not a cron expression (minute hour day month "
                            f"weekday, e.g. '0 18 * * 1'): {exc}") from None


def parse_moment(text: str, timezone: str) -> dt.datetime:
    """A date and time ("2026-12-01 18:00"), in the schedules' time zone unless it says."""
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise ScheduleError(f"{text!r} is not a date and time (use YYYY-MM-DD HH:MM)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(timezone))
    return moment.astimezone(dt.UTC)


def split_when(text: str) -> tuple[str | None, str | None]:
    """(cron, moment) from what an organizer typed: five fields are a cron expression."""
    text = text.strip()
    return (text, None) if len(text.split()) == 5 else (None, text)


def check_schedule(
    *, cron: str | None, at: str | None, timezone: str, now: dt.datetime
) -> dt.datetime | None:
    """Raise :class:`ScheduleError` unless this is a cron expression or a date and time
    still to come; returns that moment (in UTC) for a one-off."""
    if (cron is None) == (at is None):
        raise ScheduleError("give either a cron expression or a date and time")
    if cron is not None:
        cron_trigger(cron, timezone)
    run_at = parse_moment(at, timezone) if at is not None else None
    if run_at is not None and run_at <= now:
        raise ScheduleError(f"{at!r}: that time is already past (time zone {timezone})")
    return run_at


async def add_schedule(
    db: Database, kind: str, *, cron: str | None, at: str | None, timezone: str,
    now: dt.datetime,
) -> int:
    """Check a schedule and store it: a cron expression, or a date and time still to come.

    The one road for every channel (chat, command line, console); raises
    :class:`ScheduleError` with a message an organizer can act on.
    """
    run_at = check_schedule(cron=cron, at=at, timezone=timezone, now=now)
    async with transaction(db) as tx:
        return await schedules.add_schedule(tx, kind, cron=cron, run_at=run_at, now=now)


def trigger(schedule: Schedule, timezone: str) -> BaseTrigger:
    if schedule.cron is not None:
        return cron_trigger(schedule.cron, timezone)
    assert schedule.run_at is not None
    return DateTrigger(run_date=schedule.run_at, timezone=dt.UTC)


def job_name(schedule: Schedule) -> str:
    """Changes whenever the schedule does, so an edited schedule gets a new job."""
    when = schedule.cron or (schedule.run_at.isoformat() if schedule.run_at else "")
    return f"schedule {schedule.id} {schedule.kind} {when}"


def missed(schedule: Schedule, now: dt.datetime, grace: dt.timedelta,
           timezone: str) -> dt.datetime | None:
    """The occurrence that fell due while nobody ran it, if it is still within ``grace``."""
    if schedule.paused:
        return None
    since = max(schedule.last_run_at or schedule.created_at, now - grace)
    if schedule.run_at is not None:
        due = schedule.run_at
        return due if schedule.last_run_at is None and since < due <= now else None
    assert schedule.cron is not None
    due = cron_trigger(schedule.cron, timezone).get_next_fire_time(
        None, since + dt.timedelta(seconds=1))
    return due if due is not None and due <= now else None


def next_run(schedule: Schedule, now: dt.datetime, timezone: str) -> dt.datetime | None:
    if schedule.paused:
        return None
    if schedule.run_at is not None:
        return schedule.run_at if schedule.run_at > now and schedule.last_run_at is None else None
    assert schedule.cron is not None
    fire: dt.datetime | None = cron_trigger(schedule.cron, timezone).get_next_fire_time(
        None, now)
    return fire


# --- the bot's jobs ------------------------------------------------------------------


def _active(schedule: Schedule, now: dt.datetime) -> bool:
    if schedule.paused:
        return False
    if schedule.run_at is not None:
        return schedule.last_run_at is None and schedule.run_at > now
    return True


async def run_schedule(application: HookApplication, schedule_id: int) -> None:
    """Start the round a schedule asks for, now."""
    data = application.bot_data
    db, now = data.database, data.clock()
    assert db is not None
    if not await db.lead():  # PostgreSQL: another worker runs the schedules
        return
    schedule = await get_schedule(db, schedule_id)
    if schedule is None or schedule.paused:
        return
    origin = f"schedule {schedule.id}"
    started = await start_round(application, schedule.kind, origin)
    async with transaction(db) as tx:
        await note_run(tx, schedule.id, now)
    logger.info("schedule %d ran: %d recipient(s)", schedule.id, started.recipients)


async def start_round(application: HookApplication, kind: str, origin: str) -> RoundStarted:
    """A reminder round or summary broadcast, queued now; the worker is woken."""
    data = application.bot_data
    assert data.database is not None and data.survey is not None and data.catalogs is not None
    now = data.clock()
    if kind == REMINDER:
        started = await start_reminder_round(data.database, data.survey, data.config, now, origin)
    else:
        started = await start_summary_round(data.database, data.survey, data.catalogs,
                                            data.config, now, origin)
    if data.worker is not None:
        data.worker.wake()
    return started


async def _job(context: Context) -> None:
    assert context.job is not None and isinstance(context.job.data, int)
    await run_schedule(context.application, context.job.data)


async def sync_jobs(application: HookApplication) -> None:
    """Make the JobQueue's jobs match the schedules table (none unless this process leads:
    :mod:`bot.leadership`)."""
    data = application.bot_data
    queue = application.job_queue
    assert queue is not None and data.database is not None
    now = data.clock()
    wanted = ({job_name(s): s for s in await list_schedules(data.database) if _active(s, now)}
              if data.leading else {})
    present = {job.name: job for job in queue.jobs()
               if job.name and job.name.startswith("schedule ")}
    for name, job in present.items():
        if name not in wanted:
            job.schedule_removal()
    grace = data.config.schedule_grace * 60
    for name, schedule in wanted.items():
        if name not in present:
            queue.run_custom(_job, job_kwargs={
                "trigger": trigger(schedule, data.config.timezone),
                "misfire_grace_time": grace or None, "coalesce": True, "max_instances": 1,
            }, data=schedule.id, name=name)


async def _sync_job(context: Context) -> None:
    from bot.publishing import follow_published

    await follow_published(context.bot_data)  # a survey published from a console elsewhere
    await sync_jobs(context.application)
    if context.bot_data.worker is not None:
        context.bot_data.worker.wake()


async def catch_up(application: HookApplication, since: dt.datetime) -> int:
    """Run, once each, the schedules that fell due between ``since`` and now (the sandbox,
    after its clock was moved forward); returns how many ran."""
    data = application.bot_data
    assert data.database is not None
    now = data.clock()
    ran = 0
    for schedule in await list_schedules(data.database):
        if missed(schedule, now, now - since, data.config.timezone) is not None:
            await run_schedule(application, schedule.id)
            ran += 1
    await sync_jobs(application)
    return ran


async def start_schedules(application: HookApplication) -> None:
    """On becoming the leader (at start-up when alone): run what was missed within the grace
    period, then load every schedule."""
    data = application.bot_data
    assert data.database is not None
    now = data.clock()
    grace = dt.timedelta(minutes=data.config.schedule_grace)
    for schedule in await list_schedules(data.database):
        due = missed(schedule, now, grace, data.config.timezone)
        if due is not None:
            logger.info("schedule %d fell due at %s while the bot was down: running it now",
                        schedule.id, due.isoformat())
            await run_schedule(application, schedule.id)
    await sync_jobs(application)


def follow_schedules(application: HookApplication) -> None:
    """Every ``SYNC_SECONDS``: follow a survey published elsewhere, and (the leader) the
    schedules table."""
    queue = application.job_queue
    assert queue is not None
    queue.run_repeating(_sync_job, interval=SYNC_SECONDS, first=SYNC_SECONDS,
                        name="sync schedules")
