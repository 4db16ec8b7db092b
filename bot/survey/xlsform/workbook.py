"""The form as pyxform reads it: its sheets, their rows, and the problems found in them.

pyxform reads the form (``.xlsx``, ``.xls``, or the markdown tables of its own
examples, ``.md``) and turns it into its JSON representation. An error from
pyxform itself is reported as pyxform words it, and nothing more is checked in
that file.

pyxform's JSON has no row numbers: each element is matched with its row in
the sheets as pyxform read them (by name, in order, :class:`Rows`), so that
every problem names its row (the header is row 1, as in a spreadsheet; in a
markdown form the rows of the sheet's table, empty ones not counted, as
pyxform counts them).
"""

from __future__ import annotations

import functools
import re
import warnings
from collections import defaultdict, deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.survey.problems import Problem

XLSFORM_SUFFIXES = frozenset({".xlsx", ".xlsm", ".xls", ".md"})

SURVEY = "survey"
CHOICES = "choices"
SETTINGS = "settings"
EXTERNAL_CHOICES = "external_choices"
DEFAULT = "default"  # pyxform's language key for the unsuffixed columns

YES = frozenset({"yes", "true", "true()", "1"})
NO = frozenset({"no", "false", "false()", "0", ""})
MEDIA_KINDS = ("image", "big-image", "audio", "video")

Element = Mapping[str, Any]

_END_CONTROL = re.compile(r"^end[ _]?(group|repeat|loop)$", re.IGNORECASE)


@dataclass(slots=True)
class Read:
    """What pyxform gives: the sheets as read, and the form as JSON."""

    sheets: Mapping[str, Sequence[Mapping[str, Any]]]
    headers: Mapping[str, Sequence[str]]
    form: Element


def read_form(path: Path) -> Read | str:
    """pyxform's reading of the form, or its error message."""
    try:
        from pyxform.builder import create_survey_element_from_dict  # type: ignore[import-untyped]
        from pyxform.errors import PyXFormError  # type: ignore[import-untyped]
        from pyxform.xls2json import workbook_to_json  # type: ignore[import-untyped]
        from pyxform.xls2json_backends import get_xlsform  # type: ignore[import-untyped]
    except ImportError as exc:  # pragma: no cover - pyxform is a dependency
        return f"pyxform is not installed: {exc}"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl's remarks on styles and the like
            definition = get_xlsform(xlsform=str(path))
            sheets: dict[str, Sequence[Mapping[str, Any]]] = {}
            headers: dict[str, Sequence[str]] = {}
            for sheet in (SURVEY, CHOICES, SETTINGS, EXTERNAL_CHOICES):
                rows = getattr(definition, sheet, None) or []
                header = getattr(definition, f"{sheet}_header", None) or [{}]
                sheets[sheet] = [dict(row) for row in rows]
                headers[sheet] = [str(h) for h in header[0]] if header else []
            form = workbook_to_json(
                workbook_dict=definition,
                form_name="data",
                fallback_form_name=definition.fallback_form_name,
                default_language=DEFAULT,
                warnings=[],
            )
            create_survey_element_from_dict(form)  # pyxform's own further checks
    except PyXFormError as exc:
        return str(exc).strip() or type(exc).__name__
    except Exception as exc:  # noqa: BLE001 - a bad form must never give a traceback
        return f"pyxform cannot read the form: {type(exc).__name__}: {exc}"
    return Read(sheets, headers, form)


@functools.lru_cache(maxsize=4096)  # a form has few distinct headers, met on every row
def snake(header: str) -> str:
    """A header as pyxform compares them: ``List Name`` → ``list_name``."""
    return re.sub(r"[\s\-]+", "_", header.strip().lower())


def cell(row: Mapping[str, Any], *names: str) -> str:
    """The trimmed text of the first of these columns the row has (by :func:`snake` name)."""
    for key, value in row.items():
        if snake(str(key)) in names and value is not None:
            return str(value).strip()
    return ""


def plain(value: Any) -> str:
    return "" if value is None else str(value).strip()


class Rows:
    """Rows of a sheet by name, handed out in order as the JSON elements are met."""

    def __init__(self, rows: Sequence[Mapping[str, Any]], *, key: tuple[str, ...]) -> None:
        self.free: dict[tuple[str, ...], deque[int]] = defaultdict(deque)
        self.raw: dict[int, Mapping[str, Any]] = {}
        for index, row in enumerate(rows):
            number = index + 2
            self.raw[number] = row
            kind = cell(row, "type", "command")
            if _END_CONTROL.match(kind) or cell(row, "disabled").lower() in YES:
                continue
            values = tuple(cell(row, *names.split("|")) for names in key)
            if all(values):
                self.free[values].append(number)

    def take(self, *values: str) -> int | None:
        rows = self.free.get(values)
        return rows.popleft() if rows else None


def media_files(element: Mapping[str, Any]) -> list[str]:
    """The media files a question or choice names on its label, each once."""
    files: list[str] = []
    media = element.get("media")
    values: list[Any] = []
    if isinstance(media, Mapping):
        values.extend(media.values())
    for key, value in element.items():
        if any(str(key).startswith(kind + ":") for kind in MEDIA_KINDS):
            values.append(value)
    for value in values:
        for text in (value.values() if isinstance(value, Mapping) else [value]):
            if plain(text) and plain(text) not in files:
                files.append(plain(text))
    return files


class Report:
    """The problems found in one form, each with its sheet (the survey sheet unless told)."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []

    def error(self, message: str, row: int | None = None, sheet: str | None = SURVEY,
              **where: str | None) -> Problem:
        problem = Problem("error", message, self.file, row, sheet=sheet, **where)
        self.problems.append(problem)
        return problem

    def warn(self, message: str, row: int | None = None, sheet: str | None = SURVEY,
             **where: str | None) -> Problem:
        problem = Problem("warning", message, self.file, row, sheet=sheet, **where)
        self.problems.append(problem)
        return problem
