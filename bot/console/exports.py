"""The export page: a form made from a table of fields, and exports written in the background.

Each :class:`Field` is one option of :class:`bot.exports.ExportOptions`: its
name there, its label, the kind of control, and how the submitted text becomes
the option's value. Offering a new export option is adding a row to
:data:`FIELDS` (a test fails while an option has neither a row nor a reason in
:data:`NOT_OFFERED`). The file is written by :func:`bot.exports.write_export`,
exactly as ``consultbot export`` writes it, in a worker thread; the page shows
its progress (the bytes written so far) and offers it for download once done.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from bot.exports import (
    DELIMITERS,
    FORMATS,
    ExportError,
    ExportOptions,
    ExportResult,
    single_file_name,
    write_export,
)
from bot.i18n import N_
from bot.survey.model import Survey

logger = logging.getLogger(__name__)

Kind = Literal["choice", "language", "date", "flag"]
KEEP_SECONDS = 3600  # a finished export waits this long for its download


class FieldError(ValueError):
    """A submitted value the option cannot take; the message is a console msgid."""


def _format(value: str, survey: Survey) -> str:
    if value not in FORMATS:
        raise FieldError(N_("Choose one of the formats offered."))
    return value


def _language(value: str, survey: Survey) -> str | None:
    if not value:
        return None
    if value not in survey.languages:
        raise FieldError(N_("Choose one of the survey's languages."))
    return value


def _date(value: str, survey: Survey) -> dt.datetime | None:
    if not value:
        return None
    try:
        return dt.datetime.combine(dt.date.fromisoformat(value), dt.time(), tzinfo=dt.UTC)
    except ValueError:
        raise FieldError(N_("Write the date as YYYY-MM-DD.")) from None


def _delimiter(value: str, survey: Survey) -> str:
    if not value:
        return ","
    value = "\t" if value == "tab" else value  # a tab would not survive the form's trimming
    if value not in DELIMITERS:
        raise FieldError(N_("Choose one of the separators offered."))
    return value


def _flag(value: str, survey: Survey) -> bool:
    return value in ("on", "1", "true")


@dataclass(frozen=True, slots=True)
class Field:
    """One export option as a form control."""

    name: str  # the ExportOptions field it sets
    label: str  # console msgid
    kind: Kind
    parse: Callable[[str, Survey], Any]
    help: str | None = None  # console msgid
    choices: Callable[[Survey], list[tuple[str, str]]] | None = None  # value, shown text
    default: str = ""


FORMAT_NAMES = {"csv": "CSV", "xlsx": "XLSX (Excel)", "json": "JSON", "sav": "SPSS (.sav)",
                "dta": "Stata (.dta)"}
assert set(FORMAT_NAMES) == set(FORMATS), "name every export format for the form"
SEPARATOR_NAMES = {",": N_("Comma ( , )"), ";": N_("Semicolon ( ; ), with decimal commas"),
                   "tab": N_("Tab")}
assert {_delimiter(v, None) for v in SEPARATOR_NAMES} == set(DELIMITERS), (  # type: ignore[arg-type]
    "name every CSV separator for the form")

FIELDS: tuple[Field, ...] = (
    Field("format", N_("Format"), "choice", _format,
          N_("CSV for spreadsheets, XLSX for Excel (with a codebook sheet), SPSS and Stata "
             "with variable and value labels, JSON for programs. CSV, SPSS and Stata come "
             "in a zip with their codebook."),
          choices=lambda survey: list(FORMAT_NAMES.items()), default="csv"),
    Field("delimiter", N_("CSV separator"), "choice", _delimiter,
          N_("Semicolons suit Excel in countries that write decimals with a comma."),
          choices=lambda survey: list(SEPARATOR_NAMES.items()), default=","),
    Field("labels", N_("Labels"), "language", _language,
          N_("Choice labels and question texts in this language instead of ids.")),
    Field("since", N_("Active since"), "date", _date,
          N_("Only responses with activity on or after this day.")),
    Field("completed_only", N_("Completed responses only"), "flag", _flag),
    Field("kobo_names", N_("Column names as KoboToolbox writes them"), "flag", _flag,
          N_("For analysis scripts written for KoboToolbox exports.")),
)

NOT_OFFERED: Mapping[str, str] = {
    "survey_id": "the console exports the survey it runs; the command line reaches others",
}


def options_from(form: Mapping[str, str], survey: Survey) -> tuple[ExportOptions | None,
                                                                     dict[str, str]]:
    """The options a submitted form asks for, or the problems (field name -> msgid)."""
    values: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for item in FIELDS:
        raw = form.get(item.name, "").strip()
        try:
            values[item.name] = item.parse(raw, survey)
        except FieldError as exc:
            problems[item.name] = str(exc)
    if problems:
        return None, problems
    return ExportOptions(**values), {}


@dataclass(eq=False)
class Job:
    """One export being written, or written and waiting for its download."""

    id: str
    owner: int  # the organizer who asked for it
    path: Path
    options: ExportOptions
    started: float = field(default_factory=time.monotonic)
    result: ExportResult | None = None
    error: str | None = None
    task: asyncio.Task[None] | None = None

    @property
    def done(self) -> bool:
        return self.result is not None or self.error is not None

    @property
    def written(self) -> int:
        """Bytes in the file so far."""
        if self.result is not None:
            return self.result.bytes
        try:
            return self.path.stat().st_size
        except OSError:
            return 0


class Exports:
    """The exports of one console process: started, watched, downloaded, then removed."""

    def __init__(self, database: Path | str, secret: str,
                 clock: Callable[[], dt.datetime]) -> None:
        self.database = database
        self.secret = secret
        self.clock = clock
        self.jobs: dict[str, Job] = {}
        self.folder = Path(tempfile.mkdtemp(prefix="consultbot-console-exports-"))

    def start(self, owner: int, survey: Survey, options: ExportOptions) -> Job:
        self._forget_old()
        job_id = secrets.token_urlsafe(12)
        now = self.clock()
        # one download: a CSV, SPSS or Stata file comes zipped with its codebook
        name = single_file_name(f"{survey.id}-{now:%Y%m%d-%H%M}", options.format)
        folder = self.folder / job_id
        folder.mkdir()
        job = Job(job_id, owner, folder / name, options)
        self.jobs[job_id] = job
        job.task = asyncio.create_task(self._write(job, survey, now), name=f"export {job_id}")
        return job

    async def _write(self, job: Job, survey: Survey, now: dt.datetime) -> None:
        try:
            job.result = await asyncio.to_thread(write_export, self.database, job.path, survey,
                                                 job.options, self.secret, now)
            logger.info("console export written (%s, %d responses)", job.options.format,
                        job.result.rows)
        except ExportError as exc:
            job.error = str(exc)
            logger.warning("console export failed: %s", exc)

    def get(self, job_id: str, owner: int) -> Job | None:
        job = self.jobs.get(job_id)
        return job if job is not None and job.owner == owner else None

    def _forget_old(self) -> None:
        now = time.monotonic()
        for job_id, job in list(self.jobs.items()):
            if job.done and now - job.started > KEEP_SECONDS:
                del self.jobs[job_id]
                shutil.rmtree(job.path.parent, ignore_errors=True)

    async def close(self) -> None:
        for job in self.jobs.values():
            if job.task is not None and not job.task.done():
                job.task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await job.task
        shutil.rmtree(self.folder, ignore_errors=True)
