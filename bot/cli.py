"""The ``consultbot`` command line: parse arguments, configure logging, call the core.

Organizer mistakes (bad configuration, bad survey file) end with one precise
message on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sqlite3
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from bot import __version__
from bot.config import Config, ConfigError, env_name
from bot.survey.loader import BUILTIN_SURVEY, SurveyInvalid, load_survey
from bot.survey.model import Survey

logger = logging.getLogger("consultbot")

EXIT_USAGE = 2


class _Redact(logging.Filter):
    """Removes a secret (the bot token) from every log line, whatever logged it."""

    def __init__(self, secret: str) -> None:
        super().__init__()
        self.secret = secret

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self.secret in message:
            record.msg = message.replace(self.secret, "<token>")
            record.args = None
        return True


def configure_logging(verbose: int, secrets: Sequence[str | None] = ()) -> None:
    level = logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    for secret in secrets:
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


def _check_database(path: Path) -> None:
    """Fail early, and precisely, when the database file cannot be opened."""
    try:
        connection = sqlite3.connect(path)
        try:
            connection.execute("PRAGMA user_version").fetchone()
        finally:
            connection.close()
    except sqlite3.Error as exc:
        raise ConfigError(f"{env_name('db')}: cannot open database {path}: {exc}") from None


# --- commands -------------------------------------------------------------------------


def cmd_run(args: argparse.Namespace, config: Config) -> int:
    """Serve the bot on the Bot API with long polling until SIGINT or SIGTERM."""
    from telegram import Update

    from bot.app import build_application

    config.require_token()
    configure_logging(args.verbose + 1, [config.token])
    survey = _load_survey(config)
    _check_database(config.db)
    application = build_application(config, survey)
    logger.info("serving on %s", config.api_url)
    application.run_polling(
        allowed_updates=Update.ALL_TYPES,
        stop_signals=(signal.SIGINT, signal.SIGTERM),
        close_loop=False,
    )
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


# --- parser ---------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
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
                    "against it and chat with it here. Type a number to press a button, "
                    "anything else is sent as a message; /quit ends. Reads standard input "
                    "when it is not a terminal, so it can be scripted.")
    sandbox.add_argument("--db", metavar="FILE",
                         help="database file (default: sandbox.sqlite3)")
    sandbox.add_argument("--language", metavar="CODE", default=None,
                         help="language of the simulated Telegram app (default: from $LANG)")
    sandbox.add_argument("--user", type=int, default=100001, metavar="ID",
                         help="Telegram user id of the simulated person (default: 100001)")
    sandbox.set_defaults(func=cmd_sandbox)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace, Config], int] = args.func
    try:
        config = Config.from_env(config_file=args.config)
        return func(args, config)
    except ConfigError as exc:
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

