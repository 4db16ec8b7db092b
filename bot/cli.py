"""The ``consultbot`` command line: parse arguments, configure logging, call the core.

Organizer mistakes (bad configuration, bad survey file) end with one precise
message on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import gc
import json
import logging
import secrets
import signal
import sqlite3
import sys
import typing
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from storage.db import StorageError

from bot import __version__
from bot.config import Config, ConfigError, env_name
from bot.survey.loader import BUILTIN_SURVEY, SurveyInvalid, load_survey
from bot.survey.model import Survey

logger = logging.getLogger("consultbot")

EXIT_USAGE = 2


class _Redact(logging.Filter):
    """Removes a secret (the bot token) from every log line, whatever logged it: the
    message, and the text of an exception logged with it (a URL in a traceback)."""

    def __init__(self, secret: str) -> None:
        super().__init__()
        self.forms = (secret, quote(secret, safe=""))

    def _clean(self, text: str) -> str:
        for form in self.forms:
            text = text.replace(form, "<token>")
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = self._clean(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._clean(record.exc_text)
        if record.stack_info:
            record.stack_info = self._clean(record.stack_info)
        return True


def configure_logging(verbose: int, hidden: Sequence[str | None] = ()) -> None:
    level = logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    for secret in hidden:
        if secret:
            for handler in logging.getLogger().handlers:
                handler.addFilter(_Redact(secret))


def _load_survey(config: Config) -> Survey:
    """The configured survey, or the built-in consultation; warnings go to the log."""
    path = config.survey or BUILTIN_SURVEY
    survey, problems = load_survey(path)
    gaps = [p for p in problems if p.severity == "warning"]
    if gaps:
        logger.warning("survey %s has %d warning(s); run `consultbot survey check %s`",
                       path, len(gaps), path)
    return survey


def _warn_about_missing_facts(config: Config, survey: Survey) -> None:
    """The consent notice names who runs the consultation, how to reach them and when it
    ends: say which of those settings are missing (general words stand in for them)."""
    texts = [t for part in (survey.consent_notice, survey.consent_details) if part
             for t in part.texts.values()]
    for name in ("organizer", "contact", "ends"):
        if getattr(config, name) is None and any(f"{{{name}}}" in text for text in texts):
            logger.warning("%s is not set: the consent notice cannot say %s", env_name(name),
                           {"organizer": "who runs the consultation",
                            "contact": "how to reach the organizers",
                            "ends": "when the consultation ends"}[name])


def _check_database(path: Path) -> None:
    """Fail early, and precisely, when the database cannot be created, read or written
    (a new one is created owner-only)."""
    from storage.db import DatabaseUnavailable, create_private

    try:
        create_private(path)
    except DatabaseUnavailable as exc:
        raise ConfigError(f"{env_name('db')}: {exc}") from None
    try:
        connection = sqlite3.connect(path)
        try:
            connection.execute("PRAGMA user_version").fetchone()
            connection.execute("BEGIN IMMEDIATE")
            connection.execute("ROLLBACK")
        finally:
            connection.close()
    except sqlite3.Error as exc:
        hint = (" (check that this user may write the file and its folder)"
                if "readonly" in str(exc) or "unable to open" in str(exc) else "")
        raise ConfigError(f"{env_name('db')}: cannot open database {path}: {exc}{hint}"
                          ) from None


# --- commands -------------------------------------------------------------------------


def cmd_run(args: argparse.Namespace, config: Config) -> int:
    """Serve the bot on the Bot API with long polling until SIGINT or SIGTERM."""
    from bot.api import reach_api
    from bot.app import build_application, running

    config.require_token()
    configure_logging(args.verbose + 1, [config.token])
    survey = _load_survey(config)
    _check_database(config.db)
    from storage.lock import RunLock

    application = build_application(config, survey)
    # before anything reaches Telegram: a second process on this database stops here
    application.bot_data.run_lock = RunLock(config.db).acquire()

    async def serve() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signal_number in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signal_number, stop.set)
        if not await reach_api(application.bot, config.api_url, stop):
            return
        async with running(application):
            logger.info("serving on %s", config.api_url)
            _warn_about_missing_facts(config, survey)
            # What is loaded by now (modules, survey, catalogs) lives as long as the
            # process: out of the collector's full passes, which otherwise take ~60 ms
            # each and show in participants' reply times (docs/performance.md).
            gc.collect()
            gc.freeze()
            await stop.wait()
        logger.info("stopped")

    try:
        asyncio.run(serve())
    finally:
        application.bot_data.run_lock.release()
    return 0


def cmd_sandbox(args: argparse.Namespace, config: Config) -> int:
    """Chat with the bot in this terminal, through a local stand-in of the Bot API."""
    from bot.sandbox.terminal import run_sandbox

    configure_logging(args.verbose)
    db = Path(args.db) if args.db else Path("sandbox.sqlite3")
    config = config.with_overrides(db=db)
    survey = _load_survey(config)
    _check_database(config.db)
    return asyncio.run(run_sandbox(config, survey, language=args.language, user_id=args.user))


def _existing_database(config: Config) -> Path:
    if not config.db.exists():
        raise ConfigError(f"{env_name('db')}: no database at {config.db} (has the bot run "
                          "yet? set CONSULTBOT_DB to the bot's database file)")
    _check_database(config.db)
    return config.db


def cmd_stats(args: argparse.Namespace, config: Config) -> int:
    """Print the consultation's figures (plain text, or JSON with --json)."""
    from storage.db import connect
    from storage.stats import get_figures

    from bot.figures import as_json, as_text
    from bot.i18n import Catalogs

    survey = _load_survey(config)
    database = _existing_database(config)
    now = datetime.datetime.now(datetime.UTC)

    async def figures() -> Any:
        db = await connect(database)
        try:
            return await get_figures(db, survey.id, [q.id for q in survey.breakdown_questions],
                                     now)
        finally:
            await db.close()

    result = asyncio.run(figures())
    if args.json:
        print(json.dumps(as_json(survey, result, now), ensure_ascii=False, indent=2))
    else:
        print(as_text(Catalogs.load().get(args.language), survey, result, now))
    return 0


def _parse_since(text: str) -> datetime.datetime:
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"--since: {text!r} is not a date (use YYYY-MM-DD)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)


def cmd_export(args: argparse.Namespace, config: Config) -> int:
    """Write every response to a file (CSV, XLSX or JSON) with pseudonymous ids."""
    from bot.exports import ExportError, ExportOptions, write_export

    survey = _load_survey(config)
    database = _existing_database(config)
    since = _parse_since(args.since) if args.since else None
    secret = config.secret or asyncio.run(_stored_secret(database))
    options = ExportOptions(format=args.format, survey_id=args.survey, since=since,
                            labels=args.labels, completed_only=args.completed_only)
    try:
        result = write_export(database, Path(args.out), survey, options, secret,
                              datetime.datetime.now(datetime.UTC))
    except ExportError as exc:
        raise ConfigError(str(exc)) from None
    print(f"{result.rows} responses written to {result.path} ({result.bytes} bytes)")
    return 0


async def _stored_secret(database: Path) -> str:
    """The export secret kept in the database (created there the first time)."""
    from storage.db import connect
    from storage.settings import PSEUDONYM_SECRET, get_or_create_setting

    db = await connect(database)
    try:
        return await get_or_create_setting(db, PSEUDONYM_SECRET, secrets.token_hex(32))
    finally:
        await db.close()


def cmd_survey_check(args: argparse.Namespace, config: Config) -> int:
    """Check a survey file and report every problem; exit status 1 if it has errors."""
    from bot.survey.loader import check_survey

    path = Path(args.file)
    survey, problems = check_survey(path)
    for problem in problems:
        print(problem)
    errors = [p for p in problems if p.severity == "error"]
    gaps: dict[str, int] = {}
    for problem in problems:
        if problem.message == "translation missing" and problem.language:
            gaps[problem.language] = gaps.get(problem.language, 0) + 1
    for language, count in sorted(gaps.items()):
        print(f"{path}: {count} missing translation(s) in '{language}'")
    warnings = len(problems) - len(errors)
    if survey is not None:
        asked = sum(1 for q in survey.questions if q.asks)
        print(f"{path}: survey '{survey.id}' version {survey.version}: {asked} questions in "
              f"{', '.join(survey.languages)}; {warnings} warning(s)")
        return 0
    print(f"{path}: {len(errors)} error(s), {warnings} warning(s)")
    return 1


def _with_database(config: Config, work: Callable[[Any], Any]) -> Any:
    """Run ``work(db)`` on the bot's database (which must exist)."""
    from storage.db import connect

    database = _existing_database(config)

    async def run() -> Any:
        db = await connect(database)
        try:
            return await work(db)
        finally:
            await db.close()

    return asyncio.run(run())


def cmd_subscribers(args: argparse.Namespace, config: Config) -> int:
    """Manage the groups and channels (and people) that receive summaries."""
    from storage.db import transaction

    from storage import subscriptions

    survey = _load_survey(config)
    now = datetime.datetime.now(datetime.UTC)
    if args.action == "add":
        if args.language not in survey.languages:
            raise ConfigError(f"--language {args.language}: the survey's languages are "
                              f"{', '.join(survey.languages)}")
        if args.chat_id >= 0:
            raise ConfigError(f"{args.chat_id}: a group or channel id is negative "
                              "(e.g. -1001234567890); people subscribe themselves in the bot")

        async def add(db: Any) -> None:
            async with transaction(db) as tx:
                await subscriptions.subscribe(tx, args.chat_id, kind=args.kind,
                                              language=args.language, name=args.name,
                                              participant_id=None, now=now)

        _with_database(config, add)
        print(f"{args.chat_id} will receive summaries in {args.language}")
        return 0
    if args.action == "remove":
        async def remove(db: Any) -> bool:
            async with transaction(db) as tx:
                return bool(await subscriptions.unsubscribe(tx, args.chat_id))

        if not _with_database(config, remove):
            raise ConfigError(f"{args.chat_id}: not a subscriber")
        print(f"{args.chat_id} removed")
        return 0
    listed = _with_database(config, lambda db: subscriptions.list_subscriptions(db))
    groups = [s for s in listed if s.kind != "participant"]
    people = len(listed) - len(groups)
    for item in groups:
        state = " (unreachable)" if item.unreachable_at else ""
        print(f"{item.chat_id}\t{item.kind}\t{item.language}\t{item.name or ''}{state}")
    print(f"{len(groups)} group(s) and channel(s), {people} participant(s) subscribed")
    return 0


def cmd_round(args: argparse.Namespace, config: Config) -> int:
    """Queue a round now; a running bot sends it (and reports to the organizers)."""
    from bot.i18n import Catalogs
    from bot.rounds import start_reminder_round, start_summary_round

    survey = _load_survey(config)
    now = datetime.datetime.now(datetime.UTC)
    if args.command == "remind":
        started = _with_database(config, lambda db: start_reminder_round(
            db, survey, config, now, "command line"))
        what = "reminder"
    else:
        catalogs = Catalogs.load()
        started = _with_database(config, lambda db: start_summary_round(
            db, survey, catalogs, config, now, "command line"))
        what = "summary"
    if started.round_id is None:
        print(f"nobody to send a {what} to now")
    else:
        print(f"round {started.round_id}: {started.recipients} {what} message(s) queued; "
              "the running bot sends them")
    return 0


def cmd_schedule(args: argparse.Namespace, config: Config) -> int:
    """Manage scheduled reminder rounds and summary broadcasts."""
    from storage.db import transaction

    from bot.scheduling import ScheduleError, add_schedule, next_run
    from storage import schedules

    now = datetime.datetime.now(datetime.UTC)
    if args.action == "add":
        if (args.cron is None) == (args.at is None):
            raise ConfigError("schedule add: give either --cron or --at")

        async def add(db: Any) -> int:
            try:
                return await add_schedule(db, args.kind, cron=args.cron, at=args.at,
                                          timezone=config.timezone, now=now)
            except ScheduleError as exc:
                raise ConfigError(str(exc)) from None

        schedule_id = _with_database(config, add)
        print(f"schedule {schedule_id} added (time zone {config.timezone})")
        return 0
    if args.action in ("remove", "pause", "resume"):
        async def change(db: Any) -> bool:
            async with transaction(db) as tx:
                if args.action == "remove":
                    return await schedules.remove_schedule(tx, args.id)
                return await schedules.set_paused(tx, args.id, args.action == "pause")

        if not _with_database(config, change):
            raise ConfigError(f"schedule {args.id}: no such schedule")
        done = {"remove": "removed", "pause": "paused", "resume": "resumed"}[args.action]
        print(f"schedule {args.id} {done}")
        return 0
    listed = _with_database(config, lambda db: schedules.list_schedules(db))
    for item in listed:
        when = f"cron '{item.cron}'" if item.cron else f"at {item.run_at:%Y-%m-%d %H:%M} UTC"
        upcoming = next_run(item, now, config.timezone)
        local = upcoming.astimezone(ZoneInfo(config.timezone)) if upcoming else None
        state = ("paused" if item.paused else
                 f"next {local:%Y-%m-%d %H:%M %Z}" if local else "done")
        print(f"{item.id}\t{item.kind}\t{when}\t{state}")
    print(f"{len(listed)} schedule(s); time zone {config.timezone}")
    return 0


# --- parser ---------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    """Usage mistakes end in one line naming the problem, and exit status 2."""

    def error(self, message: str) -> typing.NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="consultbot",
        description="A Telegram bot for guided, multilingual consultations.",
    )
    parser.add_argument("--version", action="version", version=f"consultbot {__version__}")
    parser.add_argument("--config", type=Path, metavar="FILE",
                        help="TOML file with settings (the environment wins)")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="log more (twice for debug)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="serve the bot on the Telegram Bot API",
                              description=cmd_run.__doc__)
    run.set_defaults(func=cmd_run)

    sandbox = commands.add_parser(
        "sandbox", help="try the bot in this terminal, without Telegram or a token",
        description="Start a local stand-in of the Telegram Bot API on 127.0.0.1, run the bot "
                    "against it and chat with it here. Type a button's number to press it; "
                    "anything else (other numbers too) is sent as a message; /quit ends. "
                    "Reads standard input when it is not a terminal, so it can be scripted.")
    sandbox.add_argument("--db", metavar="FILE",
                         help="database file (default: sandbox.sqlite3)")
    sandbox.add_argument("--language", metavar="CODE", default=None,
                         help="language of the simulated Telegram app (default: from $LANG)")
    sandbox.add_argument("--user", type=int, default=100001, metavar="ID",
                         help="Telegram user id of the simulated person (default: 100001)")
    sandbox.set_defaults(func=cmd_sandbox)

    stats = commands.add_parser("stats", help="print the consultation's figures",
                                description=cmd_stats.__doc__)
    stats.add_argument("--json", action="store_true", help="machine-readable output")
    stats.add_argument("--language", default="en", metavar="CODE",
                       help="language of the text output (default: en)")
    stats.set_defaults(func=cmd_stats)

    export = commands.add_parser("export", help="write all responses to a file",
                                 description=cmd_export.__doc__)
    export.add_argument("--format", required=True, choices=["csv", "xlsx", "json"])
    export.add_argument("--out", required=True, metavar="PATH", help="file to write")
    export.add_argument("--survey", metavar="ID",
                        help="survey id (default: the configured survey)")
    export.add_argument("--since", metavar="DATE",
                        help="only responses with activity on or after this date (YYYY-MM-DD)")
    export.add_argument("--labels", metavar="LANG",
                        help="choice labels and a row of question texts in this language")
    export.add_argument("--completed-only", action="store_true",
                        help="leave out responses that are not completed")
    export.set_defaults(func=cmd_export)

    survey = commands.add_parser("survey", help="work with survey files")
    survey_commands = survey.add_subparsers(dest="survey_command", required=True,
                                            metavar="SUBCOMMAND")
    check = survey_commands.add_parser("check", help="validate a survey file",
                                       description=cmd_survey_check.__doc__)
    check.add_argument("file", metavar="FILE")
    check.set_defaults(func=cmd_survey_check)

    subscribers = commands.add_parser("subscribers", help="groups and channels that receive "
                                      "summaries", description=cmd_subscribers.__doc__)
    subscriber_actions = subscribers.add_subparsers(dest="action", required=True,
                                                    metavar="ACTION")
    add = subscriber_actions.add_parser("add", help="register a group or channel")
    add.add_argument("chat_id", type=int, metavar="CHAT_ID")
    add.add_argument("--language", required=True, metavar="LANG")
    add.add_argument("--name", metavar="NAME", help="the organization's name")
    add.add_argument("--kind", choices=["group", "channel"], default="group")
    subscriber_actions.add_parser("list", help="list the groups and channels")
    remove = subscriber_actions.add_parser("remove", help="stop sending to a chat")
    remove.add_argument("chat_id", type=int, metavar="CHAT_ID")
    subscribers.set_defaults(func=cmd_subscribers)

    remind = commands.add_parser("remind", help="start a reminder round now",
                                 description=cmd_round.__doc__)
    remind.set_defaults(func=cmd_round)
    broadcast = commands.add_parser("broadcast", help="start a summary broadcast now",
                                    description=cmd_round.__doc__)
    broadcast.set_defaults(func=cmd_round)

    schedule = commands.add_parser("schedule", help="scheduled rounds and broadcasts",
                                   description=cmd_schedule.__doc__)
    schedule_actions = schedule.add_subparsers(dest="action", required=True, metavar="ACTION")
    schedule_actions.add_parser("list", help="list the schedules")
    plan = schedule_actions.add_parser("add", help="add a schedule")
    plan.add_argument("kind", choices=["reminder", "summary"])
    plan.add_argument("--cron", metavar="EXPR", help="repeat: 'minute hour day month weekday'")
    plan.add_argument("--at", metavar="TIME", help="once: 'YYYY-MM-DD HH:MM'")
    for action in ("remove", "pause", "resume"):
        sub = schedule_actions.add_parser(action, help=f"{action} a schedule")
        sub.add_argument("id", type=int, metavar="ID")
    schedule.set_defaults(func=cmd_schedule)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace, Config], int] = args.func
    try:
        config = Config.from_env(config_file=args.config)
        return func(args, config)
    except (ConfigError, StorageError) as exc:
        print(f"consultbot: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except SurveyInvalid as exc:
        print(exc.report(), file=sys.stderr)
        errors = sum(1 for p in exc.problems if p.severity == "error")
        print(f"consultbot: error: {exc.path}: {errors} error(s); the bot was not started",
              file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130

