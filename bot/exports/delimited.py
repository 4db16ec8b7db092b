"""CSV: one file per table and the codebook, UTF-8 with a byte-order mark (so Excel
reads every script right), one header row of column names.

The delimiter is ``,`` unless asked (``;`` for Excel where the decimal separator is a
comma, with decimal answers written ``3,5`` as those programs and R's ``read.csv2``
read them; a tab). Dates are ISO dates (``2026-11-28``), times ISO in UTC.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from contextlib import ExitStack

from storage.exports import ExportedResponse

from bot.exports.codebook import FILE_NAME, codebook_rows
from bot.exports.files import Output
from bot.exports.tables import Export, Layout, neutralized


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
                "w", encoding="utf-8-sig", newline=""))
            writer = csv.writer(handle, delimiter=options.delimiter)
            writer.writerow([neutralized(c.name) for c in table.columns])
            writers.append((table, writer))
        (main, main_writer), others = writers[0], writers[1:]
        write_row = main_writer.writerow
        for position, response in enumerate(rows, start=1):
            for row in main.rows(response, position):
                write_row(row)
            for table, writer in others:
                writer.writerows(table.rows(response, position))
            count += 1
    with output.file(FILE_NAME, ".csv").open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, delimiter=options.delimiter)
        for line in codebook_rows(export.reading.survey, export.earlier, tables):
            writer.writerow([neutralized(text) for text in line])
    return count
