"""The parser, with every command's help as an organizer reads it, and :func:`main`."""

from __future__ import annotations

import argparse
import inspect
import os
import sys
import textwrap
import typing
from collections.abc import Callable, Sequence
from pathlib import Path

from storage.db import StorageError

from bot import __version__
from bot.cli.common import Refused
from bot.cli.data import (
    cmd_export,
    cmd_stats,
    cmd_summary,
    cmd_survey_check,
    cmd_translations,
)
from bot.cli.managing import cmd_broadcast, cmd_remind, cmd_schedule, cmd_subscribers
from bot.cli.moving import cmd_db
from bot.cli.serving import cmd_console_link, cmd_run, cmd_sandbox, cmd_web
from bot.config import Config, ConfigError
from bot.exports.options import DELIMITERS, FORMATS
from bot.survey.loader import SurveyInvalid

EXIT_USAGE = 2
EXIT_CLOSED_PIPE = 141  # 128 + SIGPIPE: what a shell reports for `cat big | head -1`

_DESCRIPTION = """\
consultbot runs a Telegram bot that holds a multilingual consultation, and lets
organizers follow and manage it from the server.

Settings come from CONSULTBOT_* environment variables (or a --config file): the
token (CONSULTBOT_TOKEN), the database (CONSULTBOT_DB, default
consultbot.sqlite3 in the current folder), the survey (CONSULTBOT_SURVEY,
default the built-in consultation) and more; the README lists them all. Every
command below works on that database and survey."""

_EPILOG = """\
first steps:
  consultbot sandbox               try the bot in this terminal (no token needed)
  consultbot survey check FILE     check a survey file before using it
  consultbot run                   serve the bot on Telegram, and the web console
  consultbot stats                 the figures so far

Each command explains itself: consultbot COMMAND --help. The organizer guide,
docs/organizers.md, covers them all. A mistake ends with one line saying what
to fix, and exit status 2."""


_ADD_SUBSCRIBER = """\
Register a group or channel to receive summaries in one language; for one
already registered, change its language or name. Creates the database if the
bot has not run yet.

A public group or channel can be given by its name (@name): it is looked up on
Telegram with CONSULTBOT_TOKEN, and the bot must already be in the group, or an
administrator of the channel. A private group has no name: give its number
(docs/organizers.md, section 8, says how to find it)."""

_ADD_SUBSCRIBER_EXAMPLES = """\
examples:
  consultbot subscribers add -1001234567890 --language fr --name "Association"
  consultbot subscribers add @mychannel --language ar"""

_ADD_SCHEDULE = """\
Add a reminder round or a summary broadcast that runs once (--at) or repeatedly
(--cron), at times in the time zone CONSULTBOT_TIMEZONE. Creates the database if
the bot has not run yet; the running bot picks the schedule up within half a
minute."""

_ADD_SCHEDULE_EXAMPLES = """\
examples:
  consultbot schedule add reminder --cron "0 18 * * 1"     Mondays at 18:00
  consultbot schedule add summary --at "2026-12-15 10:00"  once"""


class _Parser(argparse.ArgumentParser):
    """Usage mistakes end in one line naming the problem, and exit status 2."""

    def error(self, message: str) -> typing.NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _text(text: str | None) -> str | None:
    """Help text in paragraphs filled to the terminal's usual width; a paragraph with
    indented lines (examples) is kept as it is."""
    if text is None:
        return None
    paragraphs = text.split("\n\n")
    return "\n\n".join(
        p if "\n  " in p else textwrap.fill(" ".join(p.split()), 79) for p in paragraphs)


def _command(
    commands: argparse._SubParsersAction[_Parser], name: str, summary: str,
    func: Callable[[argparse.Namespace, Config], int] | None, *, description: str | None = None,
    epilog: str | None = None,
) -> _Parser:
    """A subcommand: ``summary`` in the list of commands; as its description the
    handler's docstring unless one is given."""
    if description is None:
        doc = func.__doc__ if func is not None else None
        description = inspect.cleandoc(doc) if doc else f"{summary[0].upper()}{summary[1:]}."
    parser = commands.add_parser(
        name, help=summary, description=_text(description), epilog=_text(epilog),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    if func is not None:
        parser.set_defaults(func=func)
    return parser


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="consultbot", description=_text(_DESCRIPTION), epilog=_EPILOG,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"consultbot {__version__}")
    parser.add_argument("--config", type=Path, metavar="FILE",
                        help="TOML file with settings (an environment variable wins over it)")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="log more (-vv: everything, for debugging)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                     title="commands", parser_class=_Parser)

    run = _command(commands, "run", "serve the bot on Telegram and the web console (needs "
                   "CONSULTBOT_TOKEN)", cmd_run)
    run.add_argument("--webhook", metavar="URL",
                     help="receive updates by webhook at this public https:// address, "
                          "served on CONSULTBOT_LISTEN (default: CONSULTBOT_WEBHOOK_URL, "
                          "else long polling)")
    _command(commands, "web", "serve the web console alone, against the bot's database",
             cmd_web)
    link = _command(commands, "console-link", "print a one-time sign-in link to the web "
                    "console", cmd_console_link,
                    epilog="example: consultbot console-link 123456789")
    link.add_argument("user", type=int, metavar="USER_ID",
                      help="the organizer's Telegram user id (one of CONSULTBOT_ADMINS)")

    sandbox = _command(commands, "sandbox",
                       "try the bot in this terminal, without Telegram or a token", cmd_sandbox)
    sandbox.add_argument("--db", metavar="FILE",
                         help="the sandbox's database file (default: sandbox.sqlite3)")
    sandbox.add_argument("--language", metavar="LANG", default=None,
                         help="language of the simulated Telegram app, such as fr "
                              "(default: from $LANG)")
    sandbox.add_argument("--user", type=int, default=100001, metavar="ID",
                         help="Telegram user id of the simulated person (default: 100001)")
    sandbox.add_argument("--allow-real-data", action="store_true",
                         help="open a database that holds a real consultation (a copy, "
                              "please); nothing is ever sent to its real people or groups")

    _command(commands, "translations", "how complete each language of the bot is",
             cmd_translations)

    stats = _command(commands, "stats", "print the consultation's figures", cmd_stats)
    stats.add_argument("--json", action="store_true",
                       help="print JSON for programs instead of text")
    stats.add_argument("--language", metavar="LANG",
                       help="language of the text, one of the survey's languages (default: "
                            "the survey's default language)")

    export = _command(commands, "export", "write all responses to a file", cmd_export,
                      epilog="examples: consultbot export --format xlsx --out answers.xlsx "
                             "--labels fr; consultbot export --format sav --out answers.sav; "
                             "consultbot export --format csv --delimiter ';' --out "
                             "answers.zip")
    export.add_argument("--format", required=True, choices=list(FORMATS),
                        help="csv (spreadsheets, R, pandas), xlsx (Excel, with a codebook "
                             "sheet), json (for programs), sav (SPSS) or dta (Stata), the last "
                             "two with variable and value labels")
    export.add_argument("--out", required=True, metavar="PATH",
                        help="file to write (its folder is created if needed); CSV, SAV and "
                             "DTA write each repeat's rounds (NAME.REPEAT.csv) and their "
                             "codebook (NAME.codebook.csv) beside it, or everything in one "
                             "zip when PATH ends in .zip; XLSX has a sheet per repeat, JSON "
                             "nests the rounds in their response")
    export.add_argument("--survey", metavar="ID",
                        help="another survey id held in the database (default: the "
                             "configured survey)")
    export.add_argument("--since", metavar="DATE",
                        help="only responses with activity on or after this date (YYYY-MM-DD)")
    export.add_argument("--labels", metavar="LANG",
                        help="labels in this language: a column of choice labels after each "
                             "select (CSV, XLSX), labels for choice ids (JSON), the variable "
                             "and value labels (SAV, DTA; default: the survey's default "
                             "language)")
    export.add_argument("--delimiter", default=",", choices=list(DELIMITERS),
                        help="CSV only: ',' (default), ';' for Excel where the decimal "
                             "separator is a comma (decimal answers then get a comma too), or "
                             "a tab")
    export.add_argument("--kobo-names", action="store_true",
                        help="name the columns as KoboToolbox does (group/question, "
                             "question/choice, _uuid, _submission_time, __version__, _index; "
                             "in a repeat's table group/repeat/question, _submission__uuid), "
                             "so scripts written for Kobo exports run unchanged")
    export.add_argument("--completed-only", action="store_true",
                        help="leave out responses that are not completed")

    summary = _command(commands, "summary", "preview the summary a broadcast would send",
                       cmd_summary,
                       epilog="example: consultbot summary --language fr --out summary.png")
    summary.add_argument("--language", metavar="LANG",
                         help="the recipients' language, one of the survey's languages "
                              "(default: the survey's default language)")
    summary.add_argument("--out", metavar="FILE",
                         help="write the chart to this PNG file")

    survey = _command(commands, "survey", "work with survey files", None)
    survey_commands = survey.add_subparsers(dest="survey_command", required=True,
                                            metavar="SUBCOMMAND", title="subcommands",
                                            parser_class=_Parser)
    check = _command(survey_commands, "check", "check a survey file and list every problem",
                     cmd_survey_check)
    check.add_argument("file", metavar="FILE",
                       help="survey file: YAML, or an XLSForm (.xlsx, .xlsm, .xls, .md)")

    subscribers = _command(commands, "subscribers",
                           "groups and channels that receive summaries", cmd_subscribers)
    actions = subscribers.add_subparsers(dest="action", required=True, metavar="ACTION",
                                         title="actions", parser_class=_Parser)
    add = _command(actions, "add", "register a group or channel for summaries", None,
                   description=_ADD_SUBSCRIBER, epilog=_ADD_SUBSCRIBER_EXAMPLES)
    add.add_argument("chat", metavar="CHAT",
                     help="the chat's number (negative, such as -1001234567890) or its public "
                          "name (@name)")
    add.add_argument("--language", required=True, metavar="LANG",
                     help="language of its summaries, one of the survey's languages")
    add.add_argument("--name", metavar="NAME",
                     help="the organization's name, shown by `subscribers list` (default: "
                          "the chat's title, for a @name)")
    add.add_argument("--kind", choices=["group", "channel"], default=None,
                     help="what the chat is (default: as Telegram says for a @name, else "
                          "group)")
    _command(actions, "list", "list the groups and channels, and count subscribed people",
             None)
    remove = _command(actions, "remove", "stop sending summaries to a group or channel", None)
    remove.add_argument("chat", metavar="CHAT",
                        help="the chat's number, as `subscribers list` shows it")

    _command(commands, "remind", "queue a reminder round now", cmd_remind)
    broadcast = _command(commands, "broadcast", "queue a summary broadcast now", cmd_broadcast)
    broadcast.add_argument("--force", action="store_true",
                           help="send it even if it shows no figure yet")

    schedule = _command(commands, "schedule", "reminder rounds and broadcasts at set times",
                        cmd_schedule)
    schedule_actions = schedule.add_subparsers(dest="action", required=True, metavar="ACTION",
                                               title="actions", parser_class=_Parser)
    _command(schedule_actions, "list", "list the schedules and when each runs next", None)
    plan = _command(schedule_actions, "add", "add a schedule", None,
                    description=_ADD_SCHEDULE, epilog=_ADD_SCHEDULE_EXAMPLES)
    plan.add_argument("kind", choices=["reminder", "summary"],
                      help="reminder: a reminder round; summary: a summary broadcast")
    when = plan.add_mutually_exclusive_group(required=True)
    when.add_argument("--cron", metavar="EXPR",
                      help="repeat: 'minute hour day month weekday', such as '0 18 * * 1'")
    when.add_argument("--at", metavar="TIME", help="once: 'YYYY-MM-DD HH:MM'")
    for action in ("remove", "pause", "resume"):
        sub = _command(schedule_actions, action, f"{action} a schedule", None)
        sub.add_argument("id", type=int, metavar="ID",
                         help="the schedule's number, as `schedule list` shows it")

    database = _command(commands, "db", "move the consultation to another database", None)
    database_actions = database.add_subparsers(dest="action", required=True, metavar="ACTION",
                                               title="actions", parser_class=_Parser)
    copy = _command(database_actions, "copy", "copy every row to another, empty database "
                    "(SQLite or PostgreSQL, either way)", cmd_db,
                    epilog="examples: consultbot db copy --to "
                           "postgresql://consultbot@localhost/consultbot; "
                           "consultbot db copy --to backup.sqlite3")
    copy.add_argument("--to", required=True, metavar="URL_OR_FILE",
                      help="the target: a postgresql:// URL (the database must exist and be "
                           "empty) or a SQLite file (created if new)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; its exit status (0 done, 1 a survey file with errors, 2 refused,
    141 output cut short)."""
    try:
        try:
            status = _main(argv)
        except SystemExit:
            sys.stdout.flush()
            raise
        sys.stdout.flush()
        return status
    except BrokenPipeError:
        _discard_output()
        return EXIT_CLOSED_PIPE


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace, Config], int] = args.func
    try:
        config = Config.from_env(config_file=args.config)
        return func(args, config)
    except (ConfigError, StorageError, Refused) as exc:
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


def _discard_output() -> None:
    """After the reader of our output went away: what is still buffered goes nowhere,
    instead of failing again when Python flushes it on exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass
