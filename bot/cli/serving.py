"""Commands that serve: ``run`` (the bot and its console), ``web`` (the console alone),
``sandbox`` (the bot in this terminal), and ``console-link`` (a sign-in link)."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gc
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bot.cli.common import check_database, configure_logging, load_configured_survey, logger
from bot.config import Config, env_name
from bot.survey.model import Survey

if TYPE_CHECKING:
    from storage.db import Database


def cmd_run(args: argparse.Namespace, config: Config) -> int:
    """Serve the bot on Telegram, and the web console, until SIGINT (Ctrl-C) or SIGTERM.

    Needs CONSULTBOT_TOKEN. Receives participants' messages (long polling, or a
    webhook with --webhook URL: Telegram then posts them to that public https://
    address, which a reverse proxy passes to CONSULTBOT_LISTEN, default
    127.0.0.1:8443), sends the rounds that `remind`, `broadcast` and the
    schedules queue, and runs the schedules. Every answer is saved as it comes: a
    restart loses nothing. One `consultbot run` per database, except webhook
    workers on PostgreSQL: any number share it, and one of them (the leader)
    runs the schedules and sends the rounds. The web console listens on
    CONSULTBOT_WEB (default 127.0.0.1:8080; off to turn it off)."""
    from bot.config import parse_setting

    if args.webhook is not None:
        config = config.with_overrides(
            webhook_url=parse_setting("webhook_url", args.webhook, "--webhook"))
    config.require_token()
    configure_logging(args.verbose + 1, [config.token])
    survey = load_configured_survey(config)
    check_database(config.database)
    # the application's modules (a second of imports) once the settings are known good, so a
    # mistake in them is reported at once
    from storage.lock import RunLock

    from bot.api import reach_api
    from bot.app import build_application, console_serving, running
    from bot.webhook import configured_webhook

    application = build_application(config, survey)
    # before anything reaches Telegram: a second process on this database stops here
    lock = application.bot_data.run_lock = RunLock(config.database).acquire()

    async def serve() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signal_number in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signal_number, stop.set)
        if not await reach_api(application.bot, config.api_url, stop):
            return
        async with running(application, webhook=configured_webhook(config)), \
                console_serving(application) as console:
            logger.info("serving on %s", config.api_url)
            if console is not None:
                logger.info("web console at %s (organizers: send /console to the bot)", console)
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
        lock.release()  # released at shut-down already when the bot ran: a no-op then
    return 0


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


def cmd_sandbox(args: argparse.Namespace, config: Config) -> int:
    """Chat with the bot in this terminal, through a local stand-in of the Bot API.

    The stand-in runs on 127.0.0.1; nothing reaches Telegram and no token is
    needed. Type a button's number to press it; anything else (other numbers
    too) is sent as a message. /photo, /voice, /video and /file FILE send a file,
    /location LAT LON a place, /as NAME talks as another person, /wait 72h moves
    time forward (reminders, schedules), /quit ends. You are an organizer, the
    others participants. Reads standard input when it is not a terminal, so it
    can be scripted. Uses its own database (--db), never CONSULTBOT_DB, and
    refuses one that holds a real consultation unless --allow-real-data."""
    from bot.sandbox.terminal import run_sandbox

    configure_logging(args.verbose)
    db = Path(args.db) if args.db else Path("sandbox.sqlite3")
    config = config.with_overrides(db=db, db_url=None)
    survey = load_configured_survey(config)
    check_database(config.db)
    return asyncio.run(run_sandbox(config, survey, language=args.language, user_id=args.user,
                                   allow_real_data=args.allow_real_data))


def cmd_web(args: argparse.Namespace, config: Config) -> int:
    """Serve the web console alone, against the bot's database, until SIGINT or SIGTERM.

    For a server where `consultbot run` runs in another process (or on a machine that
    shares the database file). Listens on CONSULTBOT_WEB; sign-in links use
    CONSULTBOT_WEB_URL. Rounds started here are sent by the running bot."""
    from bot.app import console_alone
    from bot.cli.common import existing_database
    from bot.config import ConfigError

    configure_logging(args.verbose + 1)
    if config.web is None:
        raise ConfigError(f"{env_name('web')}: off; give the address to listen on, such as "
                          "127.0.0.1:8080")
    survey = load_configured_survey(config)
    existing_database(config)

    async def serve() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signal_number in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signal_number, stop.set)
        async with console_alone(config, survey) as address:
            print(f"web console at {address} (organizers: send /console to the bot, or "
                  "run consultbot console-link USER_ID)", flush=True)
            await stop.wait()

    asyncio.run(serve())
    return 0


def cmd_console_link(args: argparse.Namespace, config: Config) -> int:
    """Print a one-time sign-in link to the web console for an organizer (a user id in
    CONSULTBOT_ADMINS), valid 10 minutes. The address comes from CONSULTBOT_WEB_URL (or
    CONSULTBOT_WEB)."""
    import secrets

    from storage.settings import PSEUDONYM_SECRET, get_or_create_setting

    from bot.access import Access, NotAnOrganizer
    from bot.cli.common import Refused, local_time, with_database
    from bot.context import utcnow

    if args.user not in config.admins:
        raise Refused(f"{args.user}: not an organizer (add it to {env_name('admins')})")

    async def make(db: Database) -> tuple[str, dt.datetime]:
        secret = config.secret or await get_or_create_setting(db, PSEUDONYM_SECRET,
                                                              secrets.token_hex(32))
        return await Access(db, config, utcnow, secret).new_link(args.user)

    try:
        link, expires = with_database(config, make, create=True)
    except NotAnOrganizer:
        raise Refused(f"{args.user}: not an organizer") from None
    print(link)
    print(f"valid once, until {local_time(expires, config.timezone)}", file=sys.stderr)
    return 0
