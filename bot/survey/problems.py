"""What is wrong, or worth knowing, in a survey file, each said with where it is.

Both readers report in these terms: the YAML reader (:mod:`bot.survey.loader`)
and the XLSForm importer (:mod:`bot.survey.xlsform`). This module imports
neither, so the loader can hand XLSForms to the importer without a cycle.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal


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


class SurveyInvalid(Exception):
    """The survey file has errors; ``problems`` lists all of them (and the warnings)."""

    def __init__(self, path: Path, problems: list[Problem]) -> None:
        self.path = path
        self.problems = problems
        errors = sum(1 for p in problems if p.severity == "error")
        super().__init__(f"{path}: {errors} error(s) in the survey\n{self.report()}")

    def report(self) -> str:
        return "\n".join(str(p) for p in self.problems)
