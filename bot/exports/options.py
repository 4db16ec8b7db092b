"""What an organizer asks of an export, and what they get back.

Every channel (command line, chat, web console) fills the same
:class:`ExportOptions` and calls :func:`bot.exports.write_export`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Format = Literal["csv", "xlsx", "json", "sav", "dta"]
FORMATS: tuple[Format, ...] = ("csv", "xlsx", "json", "sav", "dta")
DELIMITERS = (",", ";", "\t")
BUNDLED: frozenset[Format] = frozenset({"csv", "sav", "dta"})  # with a codebook file beside


class ExportError(Exception):
    """The export cannot be made; the message says why (for an organizer)."""


@dataclass(frozen=True, slots=True)
class ExportOptions:
    """``labels``: a survey language: CSV and XLSX add a column of choice labels after each
    select, JSON gives labels for ids, SAV and DTA label their variables and values in it
    (default: the survey's default language). ``delimiter``: CSV only; with ``;`` decimal
    answers get a decimal comma, as the programs that expect ``;`` read them.
    ``kobo_names``: columns named as KoboToolbox names them (``group/question``,
    ``question/choice``, ``_uuid``, ``_submission_time``, ``__version__``, ``_index``)."""

    format: Format
    survey_id: str | None = None
    since: dt.datetime | None = None
    labels: str | None = None
    completed_only: bool = False
    delimiter: str = ","
    kobo_names: bool = False

    def check(self, languages: tuple[str, ...]) -> None:
        """Raise :class:`ExportError` for an option that cannot be honoured."""
        if self.format not in FORMATS:
            raise ExportError(f"--format {self.format}: choose one of {', '.join(FORMATS)}")
        if self.labels is not None and self.labels not in languages:
            raise ExportError(f"--labels {self.labels}: the survey's languages are "
                              f"{', '.join(languages)}")
        if self.delimiter not in DELIMITERS:
            shown = ", ".join(repr(d) for d in DELIMITERS)
            raise ExportError(f"--delimiter {self.delimiter!r}: choose one of {shown}")
        if self.delimiter != "," and self.format != "csv":
            raise ExportError(f"--delimiter is for CSV only, not {self.format.upper()}")


@dataclass(frozen=True, slots=True)
class ExportResult:
    """``path`` is the file asked for (a zip when it ends in ``.zip``); ``files`` every file
    written, ``path`` first (a CSV, SAV or DTA has its codebook beside it, unless zipped)."""

    path: Path
    rows: int
    bytes: int
    files: tuple[Path, ...] = ()


def single_file_name(stem: str, fmt: Format) -> str:
    """A name for an export that must be one file (a chat document, a download): formats
    that come with a codebook file are zipped with it."""
    return f"{stem}-{fmt}.zip" if fmt in BUNDLED else f"{stem}.{fmt}"
