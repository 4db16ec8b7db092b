"""The form as pyxform reads it: its sheets, their rows, and the problems found in them.

pyxform reads the form (``.xlsx``, ``.xls``, or the markdown tables of its own
examples, ``.md``) and turns it into its JSON representation. An error from
pyxform itself is reported as pyxform words it, and nothing more is checked in
that file; before it, a file that is no form at all (empty, a PDF, a README)
and a markdown sheet pyxform would trip over (an empty table) are reported in
one line each.

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

from bot.survey.problems import Problem, kind_of_content, looks_like_workbook, not_a_survey

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


def read_form(path: Path, raw: bytes) -> Read | list[Problem]:
    """pyxform's reading of the form (``raw`` is the file's content), or what stops it."""
    try:
        from pyxform.builder import create_survey_element_from_dict  # type: ignore[import-untyped]
        from pyxform.errors import PyXFormError  # type: ignore[import-untyped]
        from pyxform.xls2json import workbook_to_json  # type: ignore[import-untyped]
        from pyxform.xls2json_backends import get_xlsform  # type: ignore[import-untyped]
    except ImportError as exc:  # pragma: no cover - pyxform is a dependency
        return [Problem("error", f"pyxform is not installed: {exc}", str(path))]
    stop = _unreadable(path, raw)
    if stop:
        return stop
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
        message = str(exc).strip() or type(exc).__name__
        if message.startswith("Argument 'definition' was not recognized"):
            what = ("it is no workbook pyxform can read (a damaged file, or another document)"
                    if looks_like_workbook(raw) else kind_of_content(raw) or
                    "it holds text, not a workbook")
            return [Problem("error", not_a_survey(what), str(path))]
        lines = [line.strip() for line in message.splitlines() if line.strip()]
        return [Problem("error", line, str(path)) for line in lines]
    except Exception as exc:  # noqa: BLE001 - a bad form must never give a traceback
        return [Problem("error", f"pyxform cannot read the form: {type(exc).__name__}: {exc}",
                        str(path))]
    return Read(sheets, headers, form)


_MD_ROW = re.compile(r"\s*\|(.*)\|\s*")
_MD_SEPARATOR = re.compile(r"^[|\-]+$")
_MD_PIPE = re.compile(r"(?<!\\)\|")
_SHEETS = frozenset({SURVEY, CHOICES, SETTINGS, EXTERNAL_CHOICES, "entities", "osm"})


def _unreadable(path: Path, raw: bytes) -> list[Problem]:
    """What stops pyxform before it starts: no form at all, or an empty markdown sheet."""
    what = kind_of_content(raw)
    if what is not None and not looks_like_workbook(raw):
        return [Problem("error", not_a_survey(what), str(path))]
    if path.suffix.lower() != ".md":
        return []
    tables = _markdown_tables(raw.decode("utf-8", errors="replace"))
    if SURVEY not in {name.lower() for name, _, _ in tables}:
        return [Problem("error", not_a_survey(
            "it is markdown without a '| survey |' table (a form in markdown has one table "
            "per sheet, the sheet's name in its first cell)"), str(path))]
    return [
        Problem("error", f"the sheet is empty (line {line}): pyxform cannot read an empty "
                "table; give it a header row and rows, or remove it", str(path),
                sheet=name.lower())
        for name, line, rows in tables if not rows and name.lower() in _SHEETS
    ]


def _markdown_tables(text: str) -> list[tuple[str, int, int]]:
    """Each sheet of a markdown form: its name, the line that names it, its rows (as pyxform)."""
    tables: list[tuple[str, int, int]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.lstrip().startswith("#"):
            continue
        match = _MD_ROW.match(line)
        if match is None or _MD_SEPARATOR.match(match.group(1)):
            continue
        cells = [c.strip() for c in _MD_PIPE.split(match.group(1))]
        if cells[0]:
            tables.append((cells[0], number, 0))
        if tables and any(cells[1:]):
            name, start, rows = tables[-1]
            tables[-1] = (name, start, rows + 1)
    return tables


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
