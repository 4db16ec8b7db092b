"""The tables of an export: their columns, and the cells each response gives.

An export is a list of tables and every format writes each of them (a sheet
of the workbook, a file of the CSV, SAV or DTA export). Today there is one,
the responses, one row each; a repeat adds its own table, whose rows come
from the same response and carry its ``position`` (its row in the responses
table) to link them.

Each question gives its cells through one function of its stored answer, made
once per export for the file's :class:`Layout`:

- ``text`` (CSV): every cell text, ``""`` for no answer; text a spreadsheet
  would run as a formula is neutralized;
- ``typed`` (XLSX, JSON): numbers as numbers, dates as dates;
- ``coded`` (SAV, DTA): as typed, and a select_one's answer as a number with
  a value label (its choice name when every choice name of the list is a whole
  number, else the choice's place in the list, 1, 2, …; an answer that is no
  longer in the list gets the next free number, labelled with its name).

A multi-select gives one 0/1 column per choice (empty when not answered),
after its own column of the chosen names (not in SAV and DTA, which have only
the 0/1 columns). With labels asked for, CSV and XLSX add a column of choice
labels after each select (``question:label``) rather than a second header row,
so that every program reads the first row as the names and the rest as data.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

from storage.clock import parse_timestamp, timestamp
from storage.exports import ExportedResponse
from storage.stats import STOPPED_AFTER

from bot.exports.options import ExportOptions
from bot.pseudonyms import ExportCodes
from bot.survey import engine
from bot.survey.model import Choice, Question, QuestionType, Survey

Cell = str | int | float | dt.date | dt.datetime | None
Row = list[Cell]
Mode = Literal["text", "typed", "coded"]
Kind = Literal["text", "number", "date", "datetime"]
Role = Literal["meta", "answer", "labels", "choice", "position"]

META = ("participant", "response_id", "survey_id", "survey_version", "language", "status",
        "started_at", "completed_at", "source")
META_LABELS = {
    "participant": "Participant (pseudonymous code)",
    "response_id": "Response (pseudonymous code)",
    "survey_id": "Survey id",
    "survey_version": "Survey version",
    "language": "Language of the response",
    "status": "completed, in_progress or stopped",
    "started_at": "Started (UTC)",
    "completed_at": "Completed (UTC)",
    "source": "Where the participant came from (start link)",
}
KOBO_META = {"response_id": "_uuid", "survey_version": "__version__",
             "completed_at": "_submission_time"}
POSITION = "_index"
LABEL_SUFFIX = ":label"
LABEL_SEPARATOR = "; "

FORMULA_START = frozenset("=+-@\t\r")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_WHOLE = re.compile(r"-?\d{1,9}")
_CACHE_LIMIT = 10_000
_NAN = float("nan")


def neutralized(text: str) -> str:
    """``text`` as a CSV cell no spreadsheet runs as a formula (OWASP's rule).

    Text that starts with ``= + - @``, a tab or a carriage return gets a leading
    ``'``, unless it is a number (``-2``, ``-3.5``).
    """
    if text[:1] in FORMULA_START and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


@dataclass(frozen=True, slots=True)
class Column:
    """A column of a table: its name in the file, and the variable label it has (the
    question's text in the labels language)."""

    name: str
    label: str = ""
    kind: Kind = "text"
    role: Role = "answer"
    question: Question | None = None
    choice: Choice | None = None
    earlier: bool = False  # a question that is no longer in the survey file


@dataclass(frozen=True, slots=True)
class Layout:
    """How a file shows the answers: see the module's docstring."""

    mode: Mode
    summaries: bool = True  # a multi-select's column of chosen names
    label_columns: bool = False  # a column of choice labels after each select
    labelled_values: bool = False  # choice labels in place of choice names (JSON)
    decimal_comma: bool = False


class Reading:
    """What every table of one export shares: the survey, the codes, status and relevance."""

    def __init__(self, survey: Survey, survey_id: str, secret: str, now: dt.datetime) -> None:
        self.survey = survey
        self.survey_id = survey_id
        self.now = now
        self.codes = ExportCodes(secret)
        self._stale = timestamp(now - STOPPED_AFTER)  # stored times sort as text
        self._memo: engine.RelevanceMemo | None = None

    def status(self, response: ExportedResponse) -> str:
        if response.completed_at is not None:
            return "completed"
        if response.updated_at < self._stale:
            return "stopped"
        return "in_progress"

    def values(self, response: ExportedResponse) -> dict[str, str | None]:
        """The answers that count: those of questions still relevant, and earlier ones."""
        if response.survey_id != self.survey.id:
            return response.answers
        if self._memo is None:
            self._memo = engine.RelevanceMemo(self.survey, self.now)
        skip = self._memo.irrelevant(response.answers)
        if not skip:
            return response.answers
        return {k: v for k, v in response.answers.items() if k not in skip}

    def meta(self, response: ExportedResponse) -> list[str | int]:
        """The response's own columns as text (``META``'s order)."""
        codes = self.codes
        return [codes.participant_id(response.participant_id),
                codes.response_id(response.id), response.survey_id,
                response.survey_version, response.language, self.status(response),
                response.started_at, response.completed_at or "", response.source or ""]


class Table:
    """One table of an export: its columns and the rows each response gives it.

    ``value_labels`` (column name → code → label) and ``codes`` (question → choice →
    code) are filled for coded layouts, and may grow while rows are made.
    """

    name: str
    columns: list[Column]
    value_labels: dict[str, dict[int, str]]
    codes: dict[str, dict[str, int]]

    def rows(self, response: ExportedResponse, position: int) -> Iterable[Row]:
        raise NotImplementedError


_Maker = Callable[[str | None], Row]


class ResponsesTable(Table):
    """The responses: one row each, its own columns first, then one or more per question."""

    def __init__(self, reading: Reading, earlier: dict[str, str], options: ExportOptions,
                 layout: Layout) -> None:
        self.name = "responses"
        self.reading = reading
        self.layout = layout
        self.kobo = options.kobo_names
        self.language = options.labels or reading.survey.default_language
        self.value_labels = {}
        self.codes = {}
        self.columns = [self._meta_column(name) for name in META]
        self._plan: list[tuple[str, _Maker | None]] = []
        for question in reading.survey.questions:
            if question.asks and question.repeat is None:  # a round's answers: not one row
                self._plan.append((question.id, self._question(question)))
        for question_id, version in earlier.items():
            placeholder = Question(question_id, QuestionType.TEXT, reading.survey.title, -1)
            self.columns.append(Column(question_id, f"(earlier version {version})",
                                       question=placeholder, earlier=True))
            self._plan.append((question_id, None))
        if self.kobo:
            self.columns.append(Column(POSITION, "Row of the response", "number", "position"))

    def _meta_column(self, name: str) -> Column:
        shown = KOBO_META.get(name, name) if self.kobo else name
        kind: Kind = "datetime" if name in ("started_at", "completed_at") else "text"
        return Column(shown, META_LABELS[name], kind, "meta")

    # --- building: each question's columns and the function that fills them

    def _question(self, question: Question) -> _Maker | None:
        """Add the question's columns; its maker (``None``: its answer as text, as is)."""
        name = question.path if self.kobo and question.path else question.id
        text = question.text.get(self.language)
        kind = question.type
        if kind is QuestionType.SELECT_ONE:
            return self._select_one(question, name, text)
        if kind is QuestionType.SELECT_MULTIPLE:
            return self._select_multiple(question, name, text)
        column_kind = _KINDS.get(kind, "text")
        mode = self.layout.mode
        self.columns.append(Column(name, text, column_kind if mode != "text" else "text",
                                   question=question))
        if mode == "text":
            if kind is QuestionType.DECIMAL and self.layout.decimal_comma:
                return lambda raw: [""] if raw is None else [raw.replace(".", ",")]
            return None
        convert = _CONVERTERS.get(kind)
        if convert is None:
            return lambda raw: [raw]
        coded = mode == "coded"

        def typed(raw: str | None) -> Row:
            if raw is None:
                return [None]
            try:
                return [convert(raw)]
            except ValueError:
                return [None if coded else raw]
        return typed

    def _labels(self, question: Question) -> dict[str, str]:
        return {c.id: c.label.get(self.language) for c in question.choices}

    def _select_one(self, question: Question, name: str, text: str) -> _Maker:
        layout = self.layout
        empty: Cell = "" if layout.mode == "text" else None
        labels = self._labels(question)
        if layout.mode == "coded":
            self.columns.append(Column(name, text, "number", question=question))
            codes = self.codes[question.id] = _choice_codes(question)
            value_labels = self.value_labels[name] = {
                codes[c.id]: labels[c.id] for c in question.choices}

            def code(raw: str | None) -> Row:
                if raw is None:
                    return [None]
                found = codes.get(raw)
                if found is None:
                    found = codes[raw] = max(codes.values(), default=0) + 1
                    value_labels[found] = raw
                return [float(found)]
            return code
        self.columns.append(Column(name, text, question=question))
        if layout.labelled_values:
            return lambda raw: [empty if raw is None else labels.get(raw, raw)]
        if not layout.label_columns:
            if layout.mode == "text":
                return lambda raw: [""] if raw is None else [neutralized(raw)]
            return lambda raw: [raw]
        self.columns.append(Column(name + LABEL_SUFFIX, text, role="labels", question=question))
        if layout.mode == "text":
            return lambda raw: ["", ""] if raw is None else [
                neutralized(raw), neutralized(labels.get(raw, raw))]
        return lambda raw: [None, None] if raw is None else [raw, labels.get(raw, raw)]

    def _select_multiple(self, question: Question, name: str, text: str) -> _Maker:
        layout = self.layout
        text_mode = layout.mode == "text"
        labels = self._labels(question)
        choices = [c.id for c in question.choices]
        parts: list[Callable[[list[str], str], list[Cell]]] = []
        if layout.summaries:
            self.columns.append(Column(name, text, question=question))
            if layout.labelled_values:
                parts.append(lambda chosen, raw: [
                    LABEL_SEPARATOR.join(labels.get(c, c) for c in chosen)])
            elif text_mode:
                parts.append(lambda chosen, raw: [neutralized(raw)])
            else:
                parts.append(lambda chosen, raw: [raw])
        if layout.label_columns:
            self.columns.append(Column(name + LABEL_SUFFIX, text, role="labels",
                                       question=question))
            shown = neutralized if text_mode else str
            parts.append(lambda chosen, raw: [
                shown(LABEL_SEPARATOR.join(labels.get(c, c) for c in chosen))])
        kind: Kind = "number"
        if text_mode:
            kind = "text"
        for choice in question.choices:
            self.columns.append(Column(f"{name}/{choice.id}", f"{text}: {labels[choice.id]}",
                                       kind, "choice", question, choice))
        if layout.mode == "coded":
            parts.append(lambda chosen, raw: [float(c in chosen) for c in choices])
        else:
            parts.append(lambda chosen, raw: [int(c in chosen) for c in choices])
        empty_cell: Cell = "" if text_mode else (None if layout.mode == "typed" else _NAN)
        unanswered: Row = [empty_cell] * sum(len(part([], "")) for part in parts)
        cache: dict[str, Row] = {}

        def cells(raw: str | None) -> Row:
            if raw is None:
                return unanswered
            found = cache.get(raw)
            if found is None:
                chosen = raw.split()
                found = [cell for part in parts for cell in part(chosen, raw)]
                if len(cache) < _CACHE_LIMIT:
                    cache[raw] = found
            return found
        return cells

    # --- rows

    def rows(self, response: ExportedResponse, position: int) -> Iterable[Row]:
        return (self.row(response, position),)

    def row(self, response: ExportedResponse, position: int) -> Row:
        reading = self.reading
        answers = reading.values(response)
        meta = reading.meta(response)
        cells: Row
        if self.layout.mode == "text":
            start = FORMULA_START
            if (response.survey_id[:1] in start or response.survey_version[:1] in start
                    or response.language[:1] in start or (response.source or "")[:1] in start):
                meta = [neutralized(c) if isinstance(c, str) else c for c in meta]
            cells = [*meta]
            for question_id, make in self._plan:
                raw = answers.get(question_id)
                if make is not None:
                    cells.extend(make(raw))
                elif raw is None:
                    cells.append("")
                else:
                    cells.append(neutralized(raw) if raw[:1] in start else raw)
        else:
            cells = [*meta]
            cells[6] = _moment(response.started_at)
            cells[7] = _moment(response.completed_at)
            cells[8] = response.source or None
            for question_id, make in self._plan:
                raw = answers.get(question_id)
                if make is not None:
                    cells.extend(make(raw))
                else:
                    cells.append(raw)
        if self.kobo:
            cells.append(position)
        return cells


def _moment(stored: str | None) -> dt.datetime | None:
    """A stored time as spreadsheets and statistics programs want it: naive, in UTC."""
    moment = parse_timestamp(stored)
    return moment.astimezone(dt.UTC).replace(tzinfo=None) if moment else None


def _datetime(raw: str) -> dt.datetime:
    return dt.datetime.fromisoformat(raw).replace(tzinfo=None)


_KINDS: dict[QuestionType, Kind] = {
    QuestionType.INTEGER: "number", QuestionType.SCALE: "number", QuestionType.DECIMAL: "number",
    QuestionType.DATE: "date", QuestionType.DATETIME: "datetime",
}
_CONVERTERS: dict[QuestionType, Callable[[str], Cell]] = {
    QuestionType.INTEGER: int, QuestionType.SCALE: int, QuestionType.DECIMAL: float,
    QuestionType.DATE: dt.date.fromisoformat, QuestionType.DATETIME: _datetime,
}


def _choice_codes(question: Question) -> dict[str, int]:
    """Choice name → the number that stands for it in SAV and DTA (see the module)."""
    names = [c.id for c in question.choices]
    if names and all(_WHOLE.fullmatch(n) for n in names) and len({int(n) for n in names}) == len(
            names):
        return {n: int(n) for n in names}
    codes: dict[str, int] = {}
    for name in names:
        codes.setdefault(name, len(codes) + 1)
    return codes


@dataclass(frozen=True, slots=True)
class Export:
    """What one export reads: the responses of a survey, and the questions answered in an
    earlier version of it (question id → the last version it was answered in)."""

    reading: Reading
    earlier: dict[str, str]
    options: ExportOptions

    def tables(self, layout: Layout) -> list[Table]:
        """The tables every format writes, the responses first."""
        return [ResponsesTable(self.reading, self.earlier, self.options, layout)]
