"""What the commands share: logging, the survey, the database, languages, refusals."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import sqlite3
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import quote
from zoneinfo import ZoneInfo

from bot.config import Config, ConfigError, env_name
from bot.survey.loader import BUILTIN_SURVEY, load_survey
from bot.survey.model import Survey

if TYPE_CHECKING:
    from storage.db import Database

logger = logging.getLogger("consultbot")

T = TypeVar("T")


class Refused(Exception):
    """A request the program will not carry out; the message says why and what to do."""


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


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def local_time(moment: dt.datetime, timezone: str) -> str:
    """``2026-12-07 18:00 CET``: a moment as organizers read it, in the schedules' zone."""
    return f"{moment.astimezone(ZoneInfo(timezone)):%Y-%m-%d %H:%M %Z}"


def load_configured_survey(config: Config) -> Survey:
    """The survey last published from the web console, else the configured survey, else
    the built-in consultation; warnings go to the log."""
    from storage.published import read_latest_published

    published = read_latest_published(config.database)
    if published is not None:
        from bot.publishing import PublishRefused, load_published

        try:
            survey = load_published(published)
        except PublishRefused as exc:
            raise ConfigError(str(exc)) from None
        if config.survey is not None:
            logger.warning("using the survey published from the web console (%s, version %s, "
                           "%s) rather than %s=%s", published.filename, published.version,
                           f"{published.published_at:%Y-%m-%d %H:%M} UTC", env_name("survey"),
                           config.survey)
        return survey
    path = config.survey or BUILTIN_SURVEY
    survey, problems = load_survey(path)
    gaps = [p for p in problems if p.severity == "warning"]
    if gaps:
        logger.warning("survey %s has %d warning(s); run `consultbot survey check %s`",
                       path, len(gaps), path)
    return survey


def survey_language(survey: Survey, language: str | None, option: str) -> str:
    """``language`` if the survey has it (its default language for None); else refused
    with the survey's languages, as ``export --labels`` is."""
    if language is None:
        return survey.default_language
    if language not in survey.languages:
        raise Refused(f"{option} {language}: the survey's languages are "
                      f"{', '.join(survey.languages)}")
    return language


def check_database(path: Path | str) -> None:
    """Fail early, and precisely, when the database cannot be created, read or written
    (a new one is created owner-only; a PostgreSQL server must answer)."""
    from storage.db import DatabaseUnavailable, is_url
    from storage.sqlite import create_private

    if is_url(path):
        from storage.exports import open_reader

        try:
            open_reader(path).close()
        except DatabaseUnavailable as exc:
            raise ConfigError(f"{env_name('db')}: {exc}") from None
        return
    path = Path(path)
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


def existing_database(config: Config) -> Path | str:
    """The bot's database, which must exist: a command that reads never creates one."""
    if config.db_url is not None:
        check_database(config.db_url)
        return config.db_url
    if not config.db.exists():
        raise ConfigError(f"{env_name('db')}: no database at {config.db} (has the bot run "
                          "yet? set CONSULTBOT_DB to the bot's database file)")
    check_database(config.db)
    return config.db


def with_database(
    config: Config, work: Callable[[Database], Awaitable[T]], *, create: bool = False
) -> T:
    """Run ``work(db)`` on the bot's database. With ``create``, a missing database is
    created (owner-only, schema up to date) and a line says where."""
    from storage.db import connect

    if create and config.db_url is None and not config.db.exists():
        check_database(config.db)
        print(f"new database created at {config.db.resolve()} (the bot uses it when "
              f"{env_name('db')} names the same file)")
    database = existing_database(config)

    async def run() -> T:
        db = await connect(database)
        try:
            return await work(db)
        finally:
            await db.close()

    return asyncio.run(run())
