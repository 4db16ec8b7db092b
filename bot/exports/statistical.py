"""SPSS ``.sav`` and Stata ``.dta``, written by pyreadstat, with the codebook beside them.

Each variable has a label (its question's text in the labels language; a
multi-select's 0/1 variable "question: choice") and each select_one its value
labels (see :mod:`bot.exports.tables` for how choices become numbers). Numbers are
numeric, dates dates, times datetimes (UTC for the response's own times), the rest
text. Labels longer than the format holds are cut (Stata: 80 characters for a
variable; SPSS: 256 bytes for a variable, 120 for a value) and end with "…"; the
codebook has them whole.

Variable names: the column names made valid for both programs (ASCII letters,
digits and ``_``, a letter first, at most 64 characters for SPSS and 32 for Stata,
no reserved word, each name once whatever its case): ``levels/local`` becomes
``levels_local``. The codebook's ``column`` says which is which.

pyreadstat writes from a data frame held in memory (pandas): numeric columns take 8
bytes a cell, text the size of its strings; docs/performance.md has the figures.
"""

from __future__ import annotations

import array
import csv
import re
from collections.abc import Iterator
from typing import Any, Literal

from storage.exports import ExportedResponse

from bot.exports.codebook import FILE_NAME, codebook_rows
from bot.exports.files import Output
from bot.exports.options import ExportError
from bot.exports.tables import Column, Export, Layout, Table, neutralized

Statistical = Literal["sav", "dta"]

_LIMITS = {  # name length, variable label, value label (bytes; Stata's variable label: chars)
    "sav": (64, 256, 120),
    "dta": (32, 80, 32_000),
}
_RESERVED = {
    "sav": {"all", "and", "by", "eq", "ge", "gt", "le", "lt", "ne", "not", "or", "to", "with"},
    "dta": {"_all", "_b", "byte", "_coef", "_cons", "double", "float", "if", "in", "int", "long",
            "_n", "_pi", "_pred", "_rc", "_se", "_skip", "str", "strl", "using", "with"},
}
_INVALID = re.compile(r"[^A-Za-z0-9_]")
_NAN = float("nan")
_DISTINCT = 1_000


def variable_names(columns: list[Column], fmt: Statistical) -> dict[str, str]:
    """Column name → a valid, unique variable name in this format."""
    longest = _LIMITS[fmt][0]
    reserved = _RESERVED[fmt]
    names: dict[str, str] = {}
    taken: set[str] = set()
    for number, column in enumerate(columns, start=1):
        name = _INVALID.sub("_", column.name).lstrip("_")
        if not name or not name[0].isalpha():
            name = f"v{name}" if name else f"v{number}"
        name = name[:longest]
        if name.lower() in reserved or re.fullmatch(r"str\d+", name.lower()):
            name = f"{name[:longest - 1]}_"
        base, suffix = name, 1
        while name.lower() in taken:
            suffix += 1
            tail = f"_{suffix}"
            name = base[:longest - len(tail)] + tail
        taken.add(name.lower())
        names[column.name] = name
    return names


def _cut(text: str, limit: int, in_bytes: bool) -> str:
    """``text`` cut to ``limit`` bytes (or characters), ending with "…" when cut."""
    if (len(text.encode()) if in_bytes else len(text)) <= limit:
        return text
    room = limit - (3 if in_bytes else 1)
    if in_bytes:
        text = text.encode()[:room].decode(errors="ignore")
    else:
        text = text[:room]
    return text + "…"


class _Columns:
    """The cells of one table, gathered column by column: numbers packed 8 bytes each."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self.numbers = {i: array.array("d") for i, c in enumerate(table.columns)
                        if c.kind == "number"}
        self.others: dict[int, list[Any]] = {i: [] for i, c in enumerate(table.columns)
                                             if c.kind != "number"}
        self.texts = {i: dict[str, str]() for i, c in enumerate(table.columns)
                      if c.kind == "text"}  # one object for a text met again (few distinct)

    def add(self, cells: list[Any]) -> None:
        for index, values in self.numbers.items():
            value = cells[index]
            values.append(_NAN if value is None else value)
        texts = self.texts
        for index, found in self.others.items():
            value = cells[index]
            seen = texts.get(index)
            if seen is not None and value is not None:
                value = seen.setdefault(value, value)
                if len(seen) > _DISTINCT:
                    del texts[index]
            found.append(value)

    def frame(self, names: dict[str, str]) -> Any:
        import numpy as np
        import pandas as pd

        data: dict[str, Any] = {}
        for index, column in enumerate(self.table.columns):
            name = names[column.name]
            if index in self.numbers:
                data[name] = np.frombuffer(self.numbers.pop(index), dtype=np.float64)
            elif column.kind == "date":
                data[name] = pd.Series(self.others.pop(index), dtype="object")
            elif column.kind == "datetime":
                data[name] = pd.to_datetime(pd.Series(self.others.pop(index), dtype="object"))
            else:
                data[name] = pd.Series(self.others.pop(index), dtype="object")
        return pd.DataFrame(data, copy=False)


def write_statistical(export: Export, rows: Iterator[ExportedResponse], output: Output,
                      fmt: Statistical) -> int:
    """Write each table (the responses, each repeat's rounds) as a ``.sav`` or ``.dta``
    file, then the codebook; the number of responses written."""
    import pyreadstat

    tables = export.tables(Layout("coded", summaries=False))
    gathered = [_Columns(table) for table in tables]
    count = 0
    for position, response in enumerate(rows, start=1):
        for table, columns in zip(tables, gathered, strict=True):
            for cells in table.rows(response, position):
                columns.add(cells)
        count += 1
    _, variable_limit, value_limit = _LIMITS[fmt]
    all_names: dict[str, dict[str, str]] = {}
    survey = export.reading.survey
    title = _cut(survey.title.get(export.options.labels or survey.default_language),
                 64 if fmt == "sav" else 80, fmt == "sav")
    for table, columns in zip(tables, gathered, strict=True):
        names = all_names[table.name] = variable_names(table.columns, fmt)
        labels = [_cut(c.label, variable_limit, fmt == "sav") or None for c in table.columns]
        value_labels: dict[str, dict[int | float, str]] = {
            names[column]: {code: _cut(text, value_limit, True) for code, text in coded.items()}
            for column, coded in table.value_labels.items()
        }
        frame = columns.frame(names)
        path = output.file(table.name, f".{fmt}")
        try:
            if fmt == "sav":
                measures = {names[c.name]: "nominal" for c in table.columns
                            if c.name in table.value_labels or c.role == "choice"}
                pyreadstat.write_sav(frame, str(path), file_label=title, column_labels=labels,
                                     variable_value_labels=value_labels,
                                     variable_measure=measures)
            else:
                pyreadstat.write_dta(frame, str(path), file_label=title, column_labels=labels,
                                     variable_value_labels=value_labels)
        except pyreadstat.ReadstatError as exc:
            raise ExportError(f"cannot write the {fmt.upper()} file: {exc}") from None
        del frame
    with output.file(FILE_NAME, ".csv").open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        for line in codebook_rows(survey, export.earlier, tables, all_names):
            writer.writerow([neutralized(text) for text in line])
    return count
