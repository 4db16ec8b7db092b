"""Commands that change the consultation: subscribers, rounds now, scheduled rounds.

``subscribers add`` and ``schedule add`` work before the bot's first run: they
create the database. The others need the bot's database and say so.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import TYPE_CHECKING

from bot.cli.common import (
    Refused,
    load_configured_survey,
    local_time,
    now,
    survey_language,
    with_database,
)
from bot.cli.data import why_no_figure
from bot.config import Config, ConfigError, env_name

if TYPE_CHECKING:
    from storage.db import Database
    from storage.rounds import ReminderOutlook

    from bot.organizing import FoundChat


def _chat_number(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


def cmd_subscribers(args: argparse.Namespace, config: Config) -> int:
    """Manage the groups and channels that receive summaries (people subscribe themselves
    in the bot; `list` counts them)."""
    if args.action == "add":
        return _add_subscriber(args, config)
    if args.action == "remove":
        return _remove_subscriber(args, config)
    from storage import subscriptions

    listed = with_database(config, subscriptions.list_subscriptions)
    groups = [s for s in listed if s.kind != "participant"]
    people = len(listed) - len(groups)
    for item in groups:
        state = " (unreachable)" if item.unreachable_at else ""
        print(f"{item.chat_id}\t{item.kind}\t{item.language}\t{item.name or ''}{state}")
    print(f"{len(groups)} group(s) and channel(s), {people} participant(s) subscribed")
    return 0


def _add_subscriber(args: argparse.Namespace, config: Config) -> int:
    from storage.db import transaction

    from bot.organizing import public_name
    from storage import subscriptions

    survey = load_configured_survey(config)
    language = survey_language(survey, args.language, "--language")
    chat_id = _chat_number(args.chat)
    found = None
    if chat_id is None:
        name = public_name(args.chat)
        if name is None and args.chat.startswith("@"):
            raise Refused(f"{args.chat}: not a public name (5 to 32 letters, digits or "
                          "underscores, starting with a letter)")
        if name is None:
            raise Refused(f"{args.chat}: neither a chat number (such as -1001234567890) nor a "
                          "public name (such as @mychannel)")
        found = _look_up(config, name)
        chat_id = found.chat_id
    elif chat_id >= 0:
        raise Refused(f"{chat_id}: a group or channel number is negative (such as "
                      "-1001234567890); people subscribe themselves in the bot")
    kind = args.kind or (found.kind if found else "group")
    name = args.name or (found.title if found else None)

    async def add(db: Database) -> None:
        async with transaction(db) as tx:
            await subscriptions.subscribe(tx, chat_id, kind=kind, language=language, name=name,
                                          participant_id=None, now=now())

    with_database(config, add, create=True)
    called = f" ({name})" if name else ""
    print(f"{chat_id}{called} will receive summaries in {language}")
    return 0


def _look_up(config: Config, name: str) -> FoundChat:
    """The chat called @name, asked of the Bot API with the bot's token."""
    from telegram import Bot
    from telegram.error import InvalidToken, NetworkError

    from bot.organizing import ChatNotUsable, find_chat

    if not config.token:
        raise ConfigError(f"{env_name('token')}: not set; it is needed to look up @{name} on "
                          "Telegram (set it, or give the chat's number instead: see "
                          "docs/organizers.md)")
    token = config.token

    async def look_up() -> FoundChat:
        bot = Bot(token, base_url=f"{config.api_url}/bot",
                  base_file_url=f"{config.api_url}/file/bot")
        async with bot:
            return await find_chat(bot, name)

    try:
        return asyncio.run(look_up())
    except ChatNotUsable as exc:
        raise Refused(str(exc)) from None
    except InvalidToken:
        raise ConfigError(f"{env_name('token')}: the Bot API at {config.api_url} refused the "
                          "token (revoked or mistyped?)") from None
    except NetworkError as exc:
        problem = str(exc).replace(token, "<token>")
        raise Refused(f"cannot look up @{name}: the Bot API at {config.api_url} did not "
                      f"answer ({problem}); try again, or give the chat's number") from None


def _remove_subscriber(args: argparse.Namespace, config: Config) -> int:
    from storage.db import transaction

    from storage import subscriptions

    chat_id = _chat_number(args.chat)
    if chat_id is None:
        raise Refused(f"{args.chat}: not a chat number (see `consultbot subscribers list`)")

    async def remove(db: Database) -> bool:
        async with transaction(db) as tx:
            return await subscriptions.unsubscribe(tx, chat_id)

    if not with_database(config, remove):
        raise Refused(f"{chat_id}: not a subscriber (see `consultbot subscribers list`)")
    print(f"{chat_id} removed: it receives no more summaries")
    return 0


def cmd_remind(args: argparse.Namespace, config: Config) -> int:
    """Queue a reminder now for every participant who is due one: started and not
    finished, quiet for CONSULTBOT_REMINDER_INTERVAL hours, reminded fewer than
    CONSULTBOT_REMINDER_MAX times. The running bot (`consultbot run`) sends them and
    reports to the organizers. If nobody is due, says why, and when the next person is."""
    from bot.rounds import RoundStarted, reminder_outlook, start_reminder_round

    survey = load_configured_survey(config)
    moment = now()

    async def remind(db: Database) -> tuple[RoundStarted, ReminderOutlook | None]:
        started = await start_reminder_round(db, survey, config, moment, "command line")
        if started.round_id is not None:
            return started, None
        return started, await reminder_outlook(db, survey, config, moment)

    started, outlook = with_database(config, remind)
    if outlook is None:
        print(f"round {started.round_id}: {started.recipients} reminder(s) queued; the "
              "running bot sends them")
        return 0
    for line in _nobody_due(outlook, config):
        print(line)
    return 0


def _nobody_due(outlook: ReminderOutlook, config: Config) -> list[str]:
    """Why a reminder round found nobody to remind, and when someone will be due."""
    if outlook.unfinished == 0:
        if outlook.completed:
            lines = [f"nobody is due a reminder: everyone who started has completed the "
                     f"survey ({outlook.completed})"]
        else:
            lines = ["nobody is due a reminder: nobody has started the survey yet"]
        if outlook.unconsented:
            lines.append(f"opened the bot but did not consent: {outlook.unconsented} "
                         f"({env_name('remind_unconsented')}=true reminds them once)")
        return lines
    reasons = [
        (f"reminded the most times allowed ({config.reminder_max}, "
         f"{env_name('reminder_max')})", outlook.most),
        (f"active or reminded in the last {config.reminder_interval:g} hours "
         f"({env_name('reminder_interval')})", outlook.quiet),
        ("a reminder already waiting to be sent (is `consultbot run` running?)",
         outlook.queued),
        ("asked for no reminders", outlook.stopped),
        ("blocked the bot", outlook.blocked),
    ]
    lines = ["nobody is due a reminder now", f"not finished: {outlook.unfinished}, of whom"]
    lines += [f"  {reason}: {count}" for reason, count in reasons if count]
    if outlook.completed:
        lines.append(f"completed: {outlook.completed}")
    if outlook.next_due is not None:
        lines.append(f"the next person is due a reminder at "
                     f"{local_time(outlook.next_due, config.timezone)}")
    else:
        lines.append("nobody else will be due a reminder later")
    return lines


def cmd_broadcast(args: argparse.Namespace, config: Config) -> int:
    """Queue the summary of the results so far for every subscribed group, channel and
    person, each in their language; the running bot (`consultbot run`) sends it. Refused
    while small-cell protection hides every figure, unless --force. Preview it first
    with `consultbot summary`."""
    from bot.i18n import Catalogs
    from bot.rounds import SummaryShowsNothing, start_summary_round

    survey = load_configured_survey(config)
    catalogs = Catalogs.load()
    try:
        started = with_database(config, lambda db: start_summary_round(
            db, survey, catalogs, config, now(), "command line", allow_empty=args.force))
    except SummaryShowsNothing as exc:
        raise Refused(f"not sent: the summary shows no figure yet: {why_no_figure(exc.summary)} "
                      "(see it with `consultbot summary`; --force sends it anyway)") from None
    if started.round_id is None:
        print("nobody to send a summary to now: no group, channel or person is subscribed "
              "(see `consultbot subscribers add`)")
    else:
        print(f"round {started.round_id}: the summary is queued for {started.recipients} "
              "chat(s); the running bot sends it")
    return 0


def cmd_schedule(args: argparse.Namespace, config: Config) -> int:
    """Manage scheduled reminder rounds and summary broadcasts (times in
    CONSULTBOT_TIMEZONE); a running bot picks up changes within half a minute."""
    from storage.db import transaction

    from bot.scheduling import (
        ScheduleError,
        add_schedule,
        check_schedule,
        cron_trigger,
        next_run,
    )
    from storage import schedules

    moment = now()
    if args.action == "add":
        try:
            run_at = check_schedule(cron=args.cron, at=args.at, timezone=config.timezone,
                                    now=moment)
            first = run_at or cron_trigger(args.cron, config.timezone).get_next_fire_time(
                None, moment)
        except ScheduleError as exc:
            raise Refused(str(exc)) from None

        async def add(db: Database) -> int:
            return await add_schedule(db, args.kind, cron=args.cron, at=args.at,
                                      timezone=config.timezone, now=moment)

        schedule_id = with_database(config, add, create=True)
        what = "reminder round" if args.kind == "reminder" else "summary broadcast"
        print(f"schedule {schedule_id} added: {what}, first at "
              f"{local_time(first, config.timezone)} (time zone {config.timezone})")
        return 0
    if args.action in ("remove", "pause", "resume"):
        async def change(db: Database) -> bool:
            async with transaction(db) as tx:
                if args.action == "remove":
                    return await schedules.remove_schedule(tx, args.id)
                return await schedules.set_paused(tx, args.id, args.action == "pause")

        if not with_database(config, change):
            raise Refused(f"schedule {args.id}: no such schedule (see `consultbot schedule "
                          "list`)")
        done = {"remove": "removed", "pause": "paused", "resume": "resumed"}[args.action]
        print(f"schedule {args.id} {done}")
        return 0
    listed = with_database(config, schedules.list_schedules)
    for item in listed:
        when = f"cron '{item.cron}'" if item.cron else f"at {item.run_at:%Y-%m-%d %H:%M} UTC"
        upcoming = next_run(item, moment, config.timezone)
        state = ("paused" if item.paused else
                 f"next {local_time(upcoming, config.timezone)}" if upcoming else "done")
        print(f"{item.id}\t{item.kind}\t{when}\t{state}")
    print(f"{len(listed)} schedule(s); time zone {config.timezone}")
    return 0
