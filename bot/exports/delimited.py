"""CSV: one file per table and the codebook, UTF-8 with a byte-order mark (so Excel
reads every script right), one header row of column names.

The delimiter is ``,`` unless asked (``;`` for Excel where the decimal separator is a
comma, with decimal answers written ``3,5`` as those programs and R's ``read.csv2``
read them; a tab). Dates are ISO dates (``2026-11-28``), times ISO in UTC.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from typing import TextIO

from storage.exports import ExportedResponse

from bot.exports.codebook import FILE_NAME, codebook_rows
from bot.exports.files import Output
from bot.exports.tables import Cell, Export, Layout, neutralized

BOM = "\ufeff"  # written once, then plain UTF-8 (the "utf-8-sig" codec encodes in Python)


def write_csv(export: Export, rows: Iterator[ExportedResponse], output: Output) -> int:
    """Write every table, then the codebook; the number of responses written."""
    options = export.options
    layout = Layout("text", label_columns=options.labels is not None,
                    decimal_comma=options.delimiter == ";")
    tables = export.tables(layout)
    count = 0
    with ExitStack() as stack:
        writers = []
        for table in tables:
            handle = stack.enter_context(output.file(table.name, ".csv").open(
                "w", encoding="utf-8", newline=""))
            handle.write(BOM)
            write = row_writer(handle, options.delimiter)
            write([neutralized(c.name) for c in table.columns])
            writers.append((table, write))
        (main, write_main), others = writers[0], writers[1:]
        for position, response in enumerate(rows, start=1):
            for row in main.rows(response, position):
                write_main(row)
            for table, write in others:
                for row in table.rows(response, position):
                    write(row)
            count += 1
    with output.file(FILE_NAME, ".csv").open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, delimiter=options.delimiter)
        for line in codebook_rows(export.reading.survey, export.earlier, tables):
            writer.writerow([neutralized(text) for text in line])
    return count


def row_writer(handle: TextIO, delimiter: str) -> Callable[[Iterable[Cell]], None]:
    """A function writing one row as :func:`csv.writer` does (``"`` quoting where needed,
    ``\\r\\n`` line ends), byte for byte.

    Most rows need no quoting: they are joined and written as they are, 4x faster
    than the csv module's cell-by-cell scan (docs/performance.md, issue 11); a row
    with a quote, a line break or the delimiter inside a cell, or a cell that is not
    text, goes through the csv module.
    """
    careful = csv.writer(handle, delimiter=delimiter).writerow
    write = handle.write
    join = delimiter.join

    def row(cells: Iterable[Cell]) -> None:
        cells = cells if isinstance(cells, list) else list(cells)
        try:
            line = join(cells)  # type: ignore[arg-type]  # a non-text cell: TypeError
        except TypeError:
            careful(cells)
            return
        if (line and line.count(delimiter) == len(cells) - 1 and '"' not in line
                and "\n" not in line and "\r" not in line):
            write(line + "\r\n")
        else:
            careful(cells)
    return row
