"""What is wrong, or worth knowing, in a survey file, each said with where it is.

Both readers report in these terms: the YAML reader (:mod:`bot.survey.loader`)
and the XLSForm importer (:mod:`bot.survey.xlsform`). This module imports
neither, so the loader can hand XLSForms to the importer without a cycle.
Both also use :func:`not_a_survey` to say in one line that a file (a README,
a CSV, a PDF, an empty or binary file) is no survey at all, and
:func:`no_constraint_message` to warn about a constraint without a message.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Literal

from bot.survey.expressions import Limits


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong (or worth knowing) in a survey file, with where it is.

    ``line`` is the line of a YAML file, or the row of an XLSForm's ``sheet``.
    """

    severity: Literal["error", "warning"]
    message: str
    file: str
    line: int | None = None
    question: str | None = None
    field: str | None = None
    language: str | None = None
    sheet: str | None = None

    def __str__(self) -> str:
        if self.sheet:
            row = f", row {self.line}" if self.line else ""
            where = f"{self.file} (sheet {self.sheet}{row})"
        else:
            where = self.file + (f":{self.line}" if self.line else "")
        parts = []
        if self.question:
            parts.append(f"question '{self.question}'")
        if self.field:
            parts.append(f"field '{self.field}'")
        if self.language:
            parts.append(f"language '{self.language}'")
        context = (", ".join(parts) + ": ") if parts else ""
        return f"{where}: {self.severity}: {context}{self.message}"


SURVEY_FORMATS = ("a survey is a YAML file or an XLSForm (.xlsx, .xlsm, .xls, or its sheets as "
                  "markdown tables in .md)")

_WORKBOOKS = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")  # .xlsx/.xlsm, .xls
_SIGNATURES = (
    (b"%PDF", "a PDF document"),
    (_WORKBOOKS[0], "a ZIP archive (a workbook needs the suffix .xlsx)"),
    (_WORKBOOKS[1], "an old Office document (a workbook needs the suffix .xls)"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"{\\rtf", "an RTF document"),
)


def not_a_survey(what: str) -> str:
    """The one line that says a file is no survey at all, and what a survey is."""
    return f"not a survey file: {what}; {SURVEY_FORMATS}"


def looks_like_workbook(raw: bytes) -> bool:
    """True for a ZIP (``.xlsx``) or an old Office file (``.xls``): pyxform may read it."""
    return raw.startswith(_WORKBOOKS)


def kind_of_content(raw: bytes) -> str | None:
    """What a file that cannot be a survey is (``it is empty``, ``it is a PDF document``, …).

    ``None`` for text, which only a reader can judge.
    """
    if not raw.removeprefix(b"\xef\xbb\xbf").strip():
        return "it is empty"
    for signature, what in _SIGNATURES:
        if raw.startswith(signature):
            return f"it is {what}"
    head = raw[:8192]
    if b"\x00" in head:
        return "it holds binary data"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:  # not a character cut at the end of the sample
            return "it holds binary data (or text that is not UTF-8)"
    return None


def no_constraint_message(expects: Limits | None) -> str:
    """The warning for a constraint without a message, with what the bot can tell from it."""
    told = f" and what the bot makes of the constraint ({describe(expects)})" if expects else ""
    return ("constraint without constraint_message: participants will only read that the "
            f"answer is not accepted{told}")


def describe(expects: Limits) -> str:
    """What a constraint asks, in English for organizers (``a whole number from 1 to 49``)."""
    parts: list[str] = []
    low, high = expects.minimum, expects.maximum
    if low is not None or high is not None:
        noun = "a whole number" if expects.whole_numbers else "a number"
        if low is not None and high is not None and not (
                expects.minimum_excluded or expects.maximum_excluded):
            parts.append(f"{noun} from {_plain(low)} to {_plain(high)}")
        else:
            bounds = []
            if low is not None:
                bounds.append(f"{'above' if expects.minimum_excluded else 'no less than'} "
                              f"{_plain(low)}")
            if high is not None:
                bounds.append(f"{'below' if expects.maximum_excluded else 'no more than'} "
                              f"{_plain(high)}")
            parts.append(f"{noun} {' and '.join(bounds)}")
    for low_count, high_count, unit in (
            (expects.min_length, expects.max_length, "characters"),
            (expects.min_selected, expects.max_selected, "choices")):
        if low_count is not None and low_count == high_count:
            parts.append(f"exactly {low_count} {unit}")
        elif low_count is not None and high_count is not None:
            parts.append(f"{low_count} to {high_count} {unit}")
        elif low_count is not None:
            parts.append(f"at least {low_count} {unit}")
        elif high_count is not None:
            parts.append(f"at most {high_count} {unit}")
    if expects.pattern is not None:
        parts.append(f"text matching the pattern {expects.pattern}")
    return "; ".join(parts) + ("" if expects.complete else "; and more it cannot put in words")


def _plain(number: Decimal) -> str:
    return format(number.normalize(), "f")


class SurveyInvalid(Exception):
    """The survey file has errors; ``problems`` lists all of them (and the warnings)."""

    def __init__(self, path: Path, problems: list[Problem]) -> None:
        self.path = path
        self.problems = problems
        errors = sum(1 for p in problems if p.severity == "error")
        super().__init__(f"{path}: {errors} error(s) in the survey\n{self.report()}")

    def report(self) -> str:
        return "\n".join(str(p) for p in self.problems)
