"""Exports analysts can use at once: CSV, XLSX (with a codebook) and JSON.

One row per response. Participants and responses appear only under keyed codes
(``bot.pseudonyms``), the same in every export made with the same secret, never
their Telegram user id or row id. Answers to questions that are not relevant
(given the response's other answers) are left empty. Questions no longer in the survey
file keep their data, in columns after the current ones, marked in the codebook
(and in the label row) as from an earlier version.

Questions asked once per round of a repeat (a household roster) are not in
the table: one row per response cannot hold them without misleading. The
codebook lists them with ``in_main_table: false``, their repeat, and how their
answers are stored (``member[n]/age``; see :mod:`storage.responses`); a
sheet per repeat is still to come.

Everything here is synchronous and streams: rows are read in batches and written
as they come (XlsxWriter in ``constant_memory`` mode), so memory stays flat
whatever the size. The bot runs it in a worker thread.

Spreadsheets must not run what participants typed. In CSV, a text cell that a
spreadsheet would read as a formula (it starts with ``=``, ``+``, ``-``, ``@``,
a tab or a carriage return, and is not a number) gets a leading ``'``. In XLSX,
text is always written as a string cell (marked "quote prefix" when it starts
so, so editing the cell keeps it text) and a media answer is a file name, not
a link. JSON is data and keeps every answer as it was given.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

import xlsxwriter
from storage.clock import parse_timestamp, timestamp
from storage.exports import (
    ExportedResponse,
    iter_responses,
    open_reader,
    question_ids,
    survey_ids,
)
from storage.stats import STOPPED_AFTER

from bot.pseudonyms import ExportCodes
from bot.survey import engine
from bot.survey.model import Choice, Question, QuestionType, Survey
from bot.survey.walk import slot_of

Format = Literal["csv", "xlsx", "json"]
FORMATS: tuple[Format, ...] = ("csv", "xlsx", "json")
XLSX_MAX_ROWS = 1_048_576 - 2
Cell = str | int | float | dt.date | dt.datetime | None


class ExportError(Exception):
    """The export cannot be made; the message says why (for an organizer)."""


_FORMULA_START = frozenset("=+-@\t\r")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def neutralized(text: str) -> str:
    """``text`` as a CSV cell no spreadsheet runs as a formula (OWASP's rule).

    Text that starts with ``= + - @``, a tab or a carriage return gets a leading
    ``'``, unless it is a number (``-2``, ``-3.5``).
    """
    if text[:1] in _FORMULA_START and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


@dataclass(frozen=True, slots=True)
class ExportOptions:
    format: Format
    survey_id: str | None = None
    since: dt.datetime | None = None
    labels: str | None = None
    completed_only: bool = False


@dataclass(frozen=True, slots=True)
class ExportResult:
    path: Path
    rows: int
    bytes: int


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    label: str = ""
    question: Question | None = None
    choice: Choice | None = None
    earlier: bool = False  # a question that is no longer in the survey file


META = ("participant", "response_id", "survey_id", "survey_version", "language", "status",
        "started_at", "completed_at", "source")


CellMaker = Callable[[dict[str, str | None]], Cell]
TextCells = list[str | int]
TextPlan = tuple[str, dict[str, str], Callable[[str | None], TextCells] | None]


@dataclass
class _Plan:
    """What goes in the file: the columns and how to turn a response into a row."""

    survey: Survey
    columns: list[Column]
    options: ExportOptions
    secret: str
    now: dt.datetime
    earlier: dict[str, str] = field(default_factory=dict)  # removed question -> last version
    _memo: engine.RelevanceMemo | None = None
    _makers: list[CellMaker] | None = None
    _text: list[TextPlan] | None = None

    def __post_init__(self) -> None:
        self._stale = timestamp(self.now - STOPPED_AFTER)  # stored times sort as text
        self._codes = ExportCodes(self.secret)

    def status(self, response: ExportedResponse) -> str:
        if response.completed_at is not None:
            return "completed"
        if response.updated_at < self._stale:
            return "stopped"
        return "in_progress"

    def skipped(self, response: ExportedResponse) -> frozenset[str]:
        """The answered questions whose answers do not count (no longer relevant)."""
        if response.survey_id != self.survey.id:
            return frozenset()
        if self._memo is None:
            self._memo = engine.RelevanceMemo(self.survey, self.now)
        return self._memo.irrelevant(response.answers)

    def values(self, response: ExportedResponse) -> dict[str, str | None]:
        """The answers that count: current questions filtered by relevance, then earlier ones."""
        skip = self.skipped(response)
        if not skip:
            return response.answers
        return {k: v for k, v in response.answers.items() if k not in skip}

    def labels(self, question: Question) -> dict[str, str]:
        """Choice id -> what the file shows for it (its label with --labels, else the id)."""
        language = self.options.labels
        return {c.id: c.label.get(language) if language else c.id for c in question.choices}

    def meta(self, response: ExportedResponse) -> list[str | int]:
        codes = self._codes
        return [codes.participant_id(response.participant_id),
                codes.response_id(response.id), response.survey_id,
                response.survey_version, response.language, self.status(response),
                response.started_at, response.completed_at or "", response.source or ""]

    # --- text cells (CSV) ------------------------------------------------------------

    def text_row(self, response: ExportedResponse) -> TextCells:
        """The row as text, "" for no answer: the fast path of a large CSV export."""
        if self._text is None:
            self._text = [self._text_plan(c) for c in self.columns[len(META):]
                          if c.choice is None]
        answers = self.values(response)
        cells = self.meta(response)
        start = _FORMULA_START
        if (response.survey_id[:1] in start or response.survey_version[:1] in start
                or response.language[:1] in start or (response.source or "")[:1] in start):
            cells = [neutralized(c) if isinstance(c, str) else c for c in cells]
        for question_id, names, multi in self._text:
            raw = answers.get(question_id)
            if multi is not None:
                cells.extend(multi(raw))
            elif raw is None:
                cells.append("")
            else:
                text = names.get(raw, raw) if names else raw
                cells.append(neutralized(text) if text[:1] in start else text)
        return cells

    def _text_plan(self, column: Column) -> TextPlan:
        """How a question's stored answer becomes text cells: choice names for a
        select_one with --labels; for a multi-select its own cell and one 0/1 per
        choice, computed once per distinct answer."""
        question = column.question
        assert question is not None
        kind = question.type
        if column.earlier or kind is not QuestionType.SELECT_MULTIPLE:
            labelled = (kind is QuestionType.SELECT_ONE and not column.earlier
                        and self.options.labels is not None)
            return column.name, self.labels(question) if labelled else {}, None
        names = self.labels(question)
        choices = [c.id for c in question.choices]
        labelled = self.options.labels is not None
        cache: dict[str | None, TextCells] = {None: [""] * (len(choices) + 1)}

        def cells(raw: str | None) -> TextCells:
            found = cache.get(raw)
            if found is None:
                assert raw is not None
                chosen = raw.split()
                shown = "; ".join(names.get(c, c) for c in chosen) if labelled else raw
                found = [neutralized(shown), *(int(c in chosen) for c in choices)]
                if len(cache) < 10_000:
                    cache[raw] = found
            return found
        return column.name, {}, cells

    # --- typed cells (XLSX, JSON) ----------------------------------------------------

    def maker(self, column: Column) -> CellMaker:
        """A function giving this column's cell with numbers and dates typed."""
        question = column.question
        assert question is not None
        qid = question.id
        if column.choice is not None:
            padded = f" {column.choice.id} "

            def flag(values: dict[str, str | None]) -> Cell:
                raw = values.get(qid)
                return None if raw is None else int(padded in f" {raw} ")
            return flag
        if column.earlier or question.type is QuestionType.TEXT:
            return lambda values: values.get(qid)
        kind = question.type
        if kind is QuestionType.SELECT_ONE:
            names = self.labels(question)
            return lambda values: None if (raw := values.get(qid)) is None else names.get(raw, raw)
        if kind is QuestionType.SELECT_MULTIPLE:
            if self.options.labels is None:
                return lambda values: values.get(qid)
            names = self.labels(question)
            return lambda values: None if (raw := values.get(qid)) is None else "; ".join(
                names.get(c, c) for c in raw.split())
        converters: dict[QuestionType, Callable[[str], Cell]] = {
            QuestionType.INTEGER: int, QuestionType.SCALE: int, QuestionType.DECIMAL: float,
            QuestionType.DATE: dt.date.fromisoformat,
        }
        convert = converters.get(kind, str)

        def typed(values: dict[str, str | None]) -> Cell:
            raw = values.get(qid)
            if raw is None:
                return None
            try:
                return convert(raw)
            except ValueError:
                return raw
        return typed

    def row(self, response: ExportedResponse) -> list[Cell]:
        """The row with numbers, dates and times typed (times naive, in UTC)."""
        if self._makers is None:
            self._makers = [self.maker(c) for c in self.columns[len(META):]]
        values = self.values(response)
        meta: list[Cell] = [*self.meta(response)]
        meta[6] = _moment(response.started_at)
        meta[7] = _moment(response.completed_at)
        meta[8] = response.source or None
        return meta + [make(values) for make in self._makers]


def _moment(stored: str | None) -> dt.datetime | None:
    """A stored time as XLSX wants it: naive, in UTC."""
    moment = parse_timestamp(stored)
    return moment.astimezone(dt.UTC).replace(tzinfo=None) if moment else None


def _columns(survey: Survey, earlier: dict[str, str], language: str | None) -> list[Column]:
    columns = [Column(name) for name in META]
    for question in survey.questions:
        if not question.asks or question.repeat is not None:
            continue
        text = question.text.get(language) if language else ""
        columns.append(Column(question.id, text, question))
        if question.type is QuestionType.SELECT_MULTIPLE:
            for choice in question.choices:
                label = choice.label.get(language) if language else ""
                columns.append(Column(f"{question.id}/{choice.id}", label, question, choice))
    for question_id, version in earlier.items():
        placeholder = Question(question_id, QuestionType.TEXT, survey.title, -1)
        columns.append(Column(question_id, f"(earlier version {version})", placeholder,
                              earlier=True))
    return columns


def _plan(
    connection: sqlite3.Connection, survey: Survey, options: ExportOptions, secret: str,
    now: dt.datetime,
) -> _Plan:
    survey_id = options.survey_id or survey.id
    if survey_id == survey.id:
        current = {q.id for q in survey.questions}
        earlier = {key: version
                   for key, version in question_ids(connection, survey_id, besides=current)
                   if not _in_a_round(survey, key)}
        columns = _columns(survey, earlier, options.labels)
        return _Plan(survey, columns, options, secret, now, earlier)
    # a survey whose file is not loaded: its answers as stored, one column per question
    found = question_ids(connection, survey_id)
    known = survey_ids(connection) if not found else []
    if not found and survey_id not in known:
        held = (f"its surveys: {', '.join(known)}" if known
                else "it holds no responses yet")
        raise ExportError(f"no responses to a survey with id '{survey_id}' in the database "
                          f"({held})")
    earlier = dict(found)
    return _Plan(survey, _columns(_empty(survey), earlier, None), options, secret, now, earlier)


def _in_a_round(survey: Survey, key: str) -> bool:
    """True for the stored key of an answer in a round of one of the survey's repeats."""
    return "[" in key and slot_of(survey, key) is not None


def _empty(survey: Survey) -> Survey:
    return Survey(survey.id, survey.version, survey.default_language, survey.languages,
                  survey.title, survey.introduction, survey.consent_notice,
                  survey.consent_details, survey.closing, (), survey.fingerprint, {})


# --- writers ----------------------------------------------------------------------


def _write_csv(plan: _Plan, rows: Iterator[ExportedResponse], handle: IO[str]) -> int:
    writer = csv.writer(handle)
    writer.writerow([neutralized(c.name) for c in plan.columns])
    if plan.options.labels:
        writer.writerow([neutralized(c.label) for c in plan.columns])
    count = 0
    for response in rows:
        writer.writerow(plan.text_row(response))
        count += 1
    return count


def _write_json(plan: _Plan, rows: Iterator[ExportedResponse], handle: IO[str]) -> int:
    survey = plan.survey
    handle.write('{"survey": ')
    json.dump({"id": plan.options.survey_id or survey.id, "version": survey.version}, handle)
    handle.write(', "exported_at": ')
    json.dump(timestamp(plan.now), handle)
    handle.write(', "codebook": ')
    json.dump(codebook(plan), handle, ensure_ascii=False)
    handle.write(', "responses": [')
    count = 0
    question_columns = [(c, plan.maker(c)) for c in plan.columns[len(META):] if c.choice is None]
    for response in rows:
        meta: dict[str, Any] = dict(zip(META, plan.meta(response), strict=True))
        meta["completed_at"] = meta["completed_at"] or None
        meta["source"] = meta["source"] or None
        values = plan.values(response)
        answers: dict[str, Any] = {}
        for column, make in question_columns:
            assert column.question is not None
            value: Any = make(values)
            if (column.question.type is QuestionType.SELECT_MULTIPLE and not column.earlier
                    and value is not None):
                separator = "; " if plan.options.labels else " "
                value = str(value).split(separator)
            if isinstance(value, dt.date):
                value = value.isoformat()
            answers[column.name] = value
        handle.write(",\n" if count else "\n")
        json.dump({**meta, "answers": answers}, handle, ensure_ascii=False)
        count += 1
    handle.write("\n]}\n")
    return count


def _write_xlsx(plan: _Plan, rows: Iterator[ExportedResponse], path: Path) -> int:
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
        sheet = workbook.add_worksheet("responses")
        _write_texts(sheet, 0, [c.name for c in plan.columns], bold, bold_quoted)
        line = 1
        if plan.options.labels:
            _write_texts(sheet, 1, [c.label for c in plan.columns], bold, bold_quoted)
            line = 2
        sheet.freeze_panes(line, 1)
        start = _FORMULA_START
        count = 0
        for response in rows:
            if line > XLSX_MAX_ROWS:
                raise ExportError("too many responses for one XLSX sheet; export CSV instead")
            for index, value in enumerate(plan.row(response)):
                if value is None:
                    continue
                if isinstance(value, str):
                    sheet.write_string(line, index, value, quoted if value[:1] in start else None)
                elif isinstance(value, dt.datetime):
                    sheet.write_datetime(line, index, value, moment)
                elif isinstance(value, dt.date):
                    sheet.write_datetime(line, index, value, date)
                else:
                    sheet.write_number(line, index, value)
            line += 1
            count += 1
        book = workbook.add_worksheet("codebook")
        languages = list(plan.survey.languages)
        header = ["question", "type", "choice", *(f"text:{lang}" for lang in languages),
                  "required", "relevant", "constraint", "in_current_version", "note"]
        _write_texts(book, 0, header, bold, bold_quoted)
        row = 1
        for entry in codebook(plan):
            _write_texts(book, row, [entry["question"], entry["type"], "",
                                     *(entry["text"].get(lang, "") for lang in languages),
                                     "yes" if entry["required"] else "no",
                                     entry["relevant"] or "", entry["constraint"] or "",
                                     "yes" if entry["in_current_version"] else "no",
                                     entry.get("note", "")],
                         None, quoted)
            row += 1
            for choice in entry["choices"]:
                _write_texts(book, row, [entry["question"], "", choice["id"],
                                         *(choice["label"].get(lang, "") for lang in languages)],
                             None, quoted)
                row += 1
    finally:
        workbook.close()
    return count


def _write_texts(sheet: Any, row: int, texts: list[str], style: Any, quoted: Any) -> None:
    """One row of string cells, never formulas, numbers or links; ``quoted`` is ``style``
    with "quote prefix", for text that starts like a formula. Empty texts are skipped."""
    for column, text in enumerate(texts):
        if text:
            sheet.write_string(row, column, text, quoted if text[:1] in _FORMULA_START else style)


def codebook(plan: _Plan) -> list[dict[str, Any]]:
    """Every question: id, type, text in every language, choices with their labels."""
    entries: list[dict[str, Any]] = []
    survey = plan.survey
    for question in survey.questions:
        if not question.asks:
            continue
        entry: dict[str, Any] = {
            "question": question.id, "type": question.type.value,
            "text": dict(question.text.texts), "required": question.required,
            "relevant": question.relevant.source if question.relevant else None,
            "constraint": question.constraint.source if question.constraint else None,
            "in_current_version": True,
            "choices": [{"id": c.id, "label": dict(c.label.texts)} for c in question.choices],
        }
        if question.repeat is not None:
            chain = survey.chain(question.repeat)
            stored = "/".join([*(f"{r.id}[n]" for r in chain), question.id])
            entry.update({
                "in_main_table": False, "repeat": question.repeat, "stored_as": stored,
                "note": f"asked once per round of the repeat '{question.repeat}' (stored as "
                        f"{stored}): not in this table, which has one row per response",
            })
        entries.append(entry)
    for question_id, version in plan.earlier.items():
        entries.append({
            "question": question_id, "type": "unknown", "text": {}, "required": False,
            "relevant": None, "constraint": None, "in_current_version": False,
            "earlier_version": version, "choices": [],
        })
    return entries


def write_export(
    database: Path, out: Path, survey: Survey, options: ExportOptions, secret: str,
    now: dt.datetime,
) -> ExportResult:
    """Write every matching response to ``out`` in ``options.format``."""
    if options.labels is not None and options.labels not in survey.languages:
        raise ExportError(f"--labels {options.labels}: the survey's languages are "
                          f"{', '.join(survey.languages)}")
    if not database.exists():
        raise ExportError(f"no database at {database} (has the bot run yet?)")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("ab"):
            pass
    except OSError as exc:
        raise ExportError(f"cannot write {out}: {exc.strerror}") from None
    connection = open_reader(database)
    try:
        plan = _plan(connection, survey, options, secret, now)
        rows = iter_responses(connection, options.survey_id or survey.id, since=options.since,
                              completed_only=options.completed_only)
        writers: dict[Format, Callable[[], int]] = {
            "csv": lambda: _with_text(out, "utf-8-sig", lambda h: _write_csv(plan, rows, h)),
            "json": lambda: _with_text(out, "utf-8", lambda h: _write_json(plan, rows, h)),
            "xlsx": lambda: _write_xlsx(plan, rows, out),
        }
        count = writers[options.format]()
    except BaseException:
        out.unlink(missing_ok=True)
        raise
    finally:
        connection.close()
    return ExportResult(out, count, out.stat().st_size)


def _with_text(path: Path, encoding: str, write: Callable[[IO[str]], int]) -> int:
    with path.open("w", encoding=encoding, newline="") as handle:
        return write(handle)

