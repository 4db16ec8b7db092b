"""XLSX: one sheet per table, then the codebook sheet; numbers, dates and times typed.

A sheet is named after its table (a repeat's: the repeat's name), made valid for
Excel: none of ``[ ] : * ? / \\``, no ``'`` at either end, at most 31 characters,
distinct whatever the case (a name cut short or met twice ends with ``~2``, ``~3``…).

Rows are written as they come (XlsxWriter's ``constant_memory`` mode: each sheet
streams to its own temporary file), so memory stays flat whatever the size. Text is
always a string cell, never a formula, number or link, and is marked "quote prefix"
when it starts like a formula, so that editing the cell keeps it text. A media
answer is a file name, not a link. Times are in UTC.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import xlsxwriter
from storage.exports import ExportedResponse

from bot.exports.codebook import FILE_NAME, codebook_rows
from bot.exports.options import ExportError
from bot.exports.tables import FORMULA_START, Export, Layout, RepeatTable

XLSX_MAX_ROWS = 1_048_576 - 1
_SHEET_NAME = re.compile(r"[\[\]:*?/\\]")
_SHEET_LENGTH = 31


def sheet_names(names: list[str]) -> list[str]:
    """Each table's name as a valid sheet name, all distinct (see the module)."""
    taken: set[str] = set()
    out: list[str] = []
    for name in names:
        base = _SHEET_NAME.sub("_", name).strip("'") or "sheet"
        if base.lower() == "history":  # Excel keeps this name for itself
            base += "_"
        shown, number = base[:_SHEET_LENGTH], 1
        while shown.lower() in taken:
            number += 1
            tail = f"~{number}"
            shown = base[:_SHEET_LENGTH - len(tail)].rstrip("'") + tail
        taken.add(shown.lower())
        out.append(shown)
    return out


def write_xlsx(export: Export, rows: Iterator[ExportedResponse], path: Path) -> int:
    """Write the workbook; the number of responses written."""
    layout = Layout("typed", label_columns=export.options.labels is not None)
    tables = export.tables(layout)
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True,
                                                "strings_to_numbers": False,
                                                "strings_to_formulas": False,
                                                "strings_to_urls": False})
    try:
        bold = workbook.add_format({"bold": True})
        bold_quoted = workbook.add_format({"bold": True, "quote_prefix": True})
        quoted = workbook.add_format({"quote_prefix": True})
        date = workbook.add_format({"num_format": "yyyy-mm-dd"})
        moment = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
        sheets: list[Any] = []
        lines: list[int] = []
        names = sheet_names([*(table.name for table in tables), FILE_NAME])
        sheet_of = dict(zip((table.name for table in tables), names, strict=False))
        for table in tables:
            if isinstance(table, RepeatTable):  # its rows name their parent's sheet
                table.parent_table = sheet_of[table.parent_table]
        for table, name in zip(tables, names, strict=False):
            sheet = workbook.add_worksheet(name)
            _write_texts(sheet, 0, [c.name for c in table.columns], bold, bold_quoted)
            sheet.freeze_panes(1, 1)
            sheets.append(sheet)
            lines.append(1)
        start = FORMULA_START
        count = 0
        for position, response in enumerate(rows, start=1):
            for number, table in enumerate(tables):
                sheet = sheets[number]
                line = lines[number]
                for cells in table.rows(response, position):
                    if line > XLSX_MAX_ROWS:
                        raise ExportError(f"too many rows for one XLSX sheet ({table.name}); "
                                          "export CSV instead")
                    for index, value in enumerate(cells):
                        if value is None:
                            continue
                        if isinstance(value, str):
                            if value:
                                sheet.write_string(line, index, value,
                                                   quoted if value[:1] in start else None)
                        elif isinstance(value, dt.datetime):
                            sheet.write_datetime(line, index, value, moment)
                        elif isinstance(value, dt.date):
                            sheet.write_datetime(line, index, value, date)
                        else:
                            sheet.write_number(line, index, value)
                    line += 1
                lines[number] = line
            count += 1
        book = workbook.add_worksheet(names[-1])
        entries = codebook_rows(export.reading.survey, export.earlier, tables)
        at = entries[0].index("table")
        for texts in entries[1:]:
            texts[at] = sheet_of.get(texts[at], texts[at])
        for row, texts in enumerate(entries):
            _write_texts(book, row, texts, bold if row == 0 else None,
                         bold_quoted if row == 0 else quoted)
    finally:
        workbook.close()
    return count


def _write_texts(sheet: Any, row: int, texts: list[str], style: Any, quoted: Any) -> None:
    """One row of string cells, never formulas, numbers or links; ``quoted`` is ``style``
    with "quote prefix", for text that starts like a formula. Empty texts are skipped."""
    for column, text in enumerate(texts):
        if text:
            sheet.write_string(row, column, text, quoted if text[:1] in FORMULA_START else style)
