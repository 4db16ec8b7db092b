"""Publishing a survey file from the web console, and the running bot following it.

A published file is stored in the database (``published_surveys``); the newest
one is the survey the bot runs, whatever ``CONSULTBOT_SURVEY`` says (publish
that file again to go back to it). A file is checked exactly as ``consultbot
survey check`` checks it, and nothing with an error is published. The running
bot notices a new one within :data:`bot.scheduling.SYNC_SECONDS` (at once when
it was published from the console it serves) and switches to it; participants
keep their answers under the rules of docs/surveys.md ("Changing a survey that
is running").
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from storage.db import Database, transaction
from storage.published import Published, add_published, latest_fingerprint, latest_published

from bot.context import BotData
from bot.survey.loader import Problem, check_survey
from bot.survey.model import Survey
from bot.survey.search import warm_up

logger = logging.getLogger(__name__)

MAX_BYTES = 5 * 1024 * 1024
_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")


class PublishRefused(Exception):
    """The file cannot be published; the message says why, for an organizer."""


@dataclass(frozen=True, slots=True)
class Checked:
    """A survey file as ``survey check`` finds it: the survey (None with errors), problems."""

    filename: str
    survey: Survey | None
    problems: tuple[Problem, ...]

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "warning")


def safe_name(filename: str) -> str:
    """The uploaded file's own name, kept to harmless characters (its suffix decides how it
    is read)."""
    name = _UNSAFE.sub("_", Path(filename.replace("\\", "/")).name).strip(" .")
    return name[:120] or "survey.yaml"


def check_file(filename: str, content: bytes) -> Checked:
    """Check an uploaded file (synchronous: run it in a thread); problems name the file as
    the organizer knows it."""
    name = safe_name(filename)
    if len(content) > MAX_BYTES:
        return Checked(name, None, (Problem("error", f"the file is larger than "
                                    f"{MAX_BYTES // (1024 * 1024)} MB", name),))
    with tempfile.TemporaryDirectory(prefix="consultbot-survey-") as folder:
        path = Path(folder) / name
        path.write_bytes(content)
        survey, problems = check_survey(path)
    shown = tuple(dataclasses.replace(p, file=name) if p.file.startswith(folder) else p
                  for p in problems)
    return Checked(name, survey, shown)


def refusal(checked: Checked, running: Survey) -> str | None:
    """Why this checked file may not replace the running survey, or None."""
    survey = checked.survey
    if survey is None:
        return f"{checked.filename}: {len(checked.errors)} error(s); nothing was published"
    if survey.fingerprint == running.fingerprint:
        return f"{checked.filename}: this is the survey already running"
    if survey.id == running.id and survey.version == running.version:
        return (f"{checked.filename}: the running survey is already version "
                f"{running.version}; give this file a new version")
    return None


async def publish(db: Database, filename: str, content: bytes, running: Survey, by: str,
                  now: dt.datetime) -> Survey:
    """Check the file again and store it as the survey to run; raises PublishRefused."""
    checked = await asyncio.to_thread(check_file, filename, content)
    why = refusal(checked, running)
    if why is not None:
        raise PublishRefused(why)
    survey = checked.survey
    assert survey is not None
    async with transaction(db) as tx:
        await add_published(tx, survey_id=survey.id, version=survey.version,
                            fingerprint=survey.fingerprint, filename=checked.filename,
                            content=content, now=now, by=by)
    logger.info("survey %s version %s published from the console by organizer %s",
                survey.id, survey.version, by)
    return survey


def load_published(published: Published) -> Survey:
    """The survey a published file holds (synchronous); it was checked when published."""
    checked = check_file(published.filename, published.content)
    if checked.survey is None:
        raise PublishRefused(f"the published survey {published.filename} no longer loads: "
                             f"{'; '.join(str(p) for p in checked.errors)}")
    return checked.survey


async def newer_survey(db: Database, running: Survey) -> Survey | None:
    """The newest published survey, if it is not the one running."""
    fingerprint = await latest_fingerprint(db)
    if fingerprint is None or fingerprint == running.fingerprint:
        return None
    published = await latest_published(db)
    if published is None:
        return None
    try:
        return await asyncio.to_thread(load_published, published)
    except PublishRefused as exc:
        logger.error("%s", exc)
        return None


def use_survey(data: BotData, survey: Survey) -> None:
    """Make every part of a running bot ask and count ``survey`` from now on."""
    previous = data.survey
    data.survey = survey
    if data.catalogs is not None:
        data.catalogs = data.catalogs.with_fallbacks(survey.bot_language)
    if data.participation is not None:
        data.participation.survey = survey
    if data.organizing is not None:
        data.organizing.use_survey(survey)
    if data.worker is not None:
        data.worker.survey = survey
    warm_up(survey.questions)  # a new country list: its index now, not at the first search
    logger.info("now running survey %s version %s (was %s version %s)", survey.id,
                survey.version, previous.id if previous else "?",
                previous.version if previous else "?")


async def follow_published(data: BotData) -> bool:
    """Switch a running bot to a survey published since it started; True if it did."""
    if data.database is None or data.survey is None:
        return False
    survey = await newer_survey(data.database, data.survey)
    if survey is None:
        return False
    use_survey(data, survey)
    return True
