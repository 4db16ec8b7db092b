"""JSON: the survey, the codebook and every response with its answers by question.

JSON is data: every answer is kept as it was given (no formula guard); numbers are
numbers, a multi-select a list, dates ISO text. With labels, a select's answer is its
label in that language rather than the choice's name.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import IO, Any

from storage.clock import timestamp
from storage.exports import ExportedResponse

from bot.exports.codebook import codebook_entries
from bot.exports.tables import LABEL_SEPARATOR, META, Export, Layout, ResponsesTable
from bot.survey.model import QuestionType


def write_json(export: Export, rows: Iterator[ExportedResponse], handle: IO[str]) -> int:
    """Write the whole document; the number of responses written."""
    reading, options = export.reading, export.options
    labelled = options.labels is not None
    table = export.tables(Layout("typed", labelled_values=labelled))[0]
    assert isinstance(table, ResponsesTable)
    survey = reading.survey
    handle.write('{"survey": ')
    json.dump({"id": options.survey_id or survey.id, "version": survey.version}, handle)
    handle.write(', "exported_at": ')
    json.dump(timestamp(reading.now), handle)
    handle.write(', "codebook": ')
    json.dump(codebook_entries(survey, export.earlier), handle, ensure_ascii=False)
    handle.write(', "responses": [')
    answers_at = [(index, column.name, column.question is not None and not column.earlier
                   and column.question.type is QuestionType.SELECT_MULTIPLE)
                  for index, column in enumerate(table.columns) if column.role == "answer"]
    separator = LABEL_SEPARATOR if labelled else " "
    dumps = json.dumps
    count = 0
    for position, response in enumerate(rows, start=1):
        meta: dict[str, Any] = dict(zip(META, reading.meta(response), strict=True))
        meta["completed_at"] = meta["completed_at"] or None
        meta["source"] = meta["source"] or None
        cells = table.row(response, position)
        answers: dict[str, Any] = {}
        for index, name, multiple in answers_at:
            value: Any = cells[index]
            if multiple and value is not None:
                value = str(value).split(separator)
            elif isinstance(value, dt.datetime):
                value = value.isoformat(timespec="minutes")
            elif isinstance(value, dt.date):
                value = value.isoformat()
            answers[name] = value
        handle.write(",\n" if count else "\n")
        handle.write(dumps({**meta, "answers": answers}, ensure_ascii=False))  # C encoder
        count += 1
    handle.write("\n]}\n")
    return count
