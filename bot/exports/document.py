"""JSON: the survey, the codebook and every response with its answers by question.

JSON is data: every answer is kept as it was given (no formula guard); numbers are
numbers, a multi-select a list, dates ISO text. With labels, a select's answer is its
label in that language rather than the choice's name. A repeat's rounds are nested as
KoboToolbox nests them: a list under the repeat's name among the response's answers
(with Kobo names, its path: ``household/member``), each round an object of its
answers, a repeat inside it as a list in its round.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import IO, Any

from storage.clock import timestamp
from storage.exports import ExportedResponse

from bot.exports.codebook import codebook_entries
from bot.exports.tables import (
    LABEL_SEPARATOR,
    META,
    Column,
    Export,
    Layout,
    RepeatTable,
    ResponsesTable,
)
from bot.survey.model import QuestionType

_Fields = list[tuple[int, str, bool]]


def _fields(columns: list[Column]) -> _Fields:
    """(index, name, is a multi-select) of each answer column."""
    return [(index, column.name, column.question is not None and not column.earlier
             and column.question.type is QuestionType.SELECT_MULTIPLE)
            for index, column in enumerate(columns) if column.role == "answer"]


def _answers(fields: _Fields, cells: list[Any], separator: str) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for index, name, multiple in fields:
        value: Any = cells[index]
        if multiple and value is not None:
            value = str(value).split(separator)
        elif isinstance(value, dt.datetime):
            value = value.isoformat(timespec="minutes")
        elif isinstance(value, dt.date):
            value = value.isoformat()
        answers[name] = value
    return answers


def write_json(export: Export, rows: Iterator[ExportedResponse], handle: IO[str]) -> int:
    """Write the whole document; the number of responses written."""
    reading, options = export.reading, export.options
    labelled = options.labels is not None
    table, *others = export.tables(Layout("typed", labelled_values=labelled))
    assert isinstance(table, ResponsesTable)
    repeats = [(other, _fields(other.columns), other.path if options.kobo_names
                else other.repeat.id)
               for other in others if isinstance(other, RepeatTable)]
    survey = reading.survey
    handle.write('{"survey": ')
    json.dump({"id": options.survey_id or survey.id, "version": survey.version}, handle)
    handle.write(', "exported_at": ')
    json.dump(timestamp(reading.now), handle)
    handle.write(', "codebook": ')
    json.dump(codebook_entries(survey, export.earlier), handle, ensure_ascii=False)
    handle.write(', "responses": [')
    answers_at = _fields(table.columns)
    separator = LABEL_SEPARATOR if labelled else " "
    dumps = json.dumps
    count = 0
    for position, response in enumerate(rows, start=1):
        meta: dict[str, Any] = dict(zip(META, reading.meta(response), strict=True))
        meta["completed_at"] = meta["completed_at"] or None
        meta["source"] = meta["source"] or None
        answers = _answers(answers_at, table.row(response, position), separator)
        if repeats:
            rounds: dict[tuple[tuple[str, int], ...], dict[str, Any]] = {(): answers}
            for repeat_table, fields, key in repeats:  # a repeat before those inside it
                for round_, cells in repeat_table.round_rows(response, position):
                    found = rounds[round_.rounds] = _answers(fields, cells, separator)
                    rounds[round_.rounds[:-1]].setdefault(key, []).append(found)
        handle.write(",\n" if count else "\n")
        handle.write(dumps({**meta, "answers": answers}, ensure_ascii=False))  # C encoder
        count += 1
    handle.write("\n]}\n")
    return count
