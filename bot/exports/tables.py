"""The tables of an export: their columns, and the cells each response gives.

An export is a list of tables and every format writes each of them (a sheet
of the workbook, a file of the CSV, SAV or DTA export): the responses, one row
each, then one table per repeat (nested ones too), one row per round, as
KoboToolbox exports them. A round's row starts with its keys: ``_index`` (its
row in its table, from 1), ``_parent_index`` (the ``_index`` of the row it
belongs to: the response's in the responses table, which then ends with an
``_index`` column, or the enclosing round's), ``_parent_table_name``, and the
participant's and the response's codes as in the responses table (with Kobo
names, the response's is ``_submission__uuid``). Rows are numbered in response
order, then round order, whichever table asks first (:meth:`Reading.rounds`).

Each question gives its cells through one function of its stored answer, made
once per export for the file's :class:`Layout`:

- ``text`` (CSV): every cell a string, ``""`` for no answer; text a spreadsheet
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
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Literal

from storage.clock import parse_timestamp, timestamp
from storage.exports import ExportedResponse
from storage.stats import STOPPED_AFTER

from bot.exports.options import ExportOptions
from bot.pseudonyms import ExportCodes
from bot.survey import engine
from bot.survey.model import Choice, Question, QuestionType, Repeat, Survey, answer_key
from bot.survey.walk import Rounds, Walk

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
PARENT_POSITION = "_parent_index"
PARENT_TABLE = "_parent_table_name"
MAIN_TABLE = "responses"
LABEL_SUFFIX = ":label"
LABEL_SEPARATOR = "; "

FORMULA_START = frozenset("=+-@\t\r")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_WHOLE = re.compile(r"-?\d{1,9}")
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9_.\-]")
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
    """What every table of one export shares: the survey, the codes, status and relevance,
    and each response's rounds (numbered as the tables write them)."""

    def __init__(self, survey: Survey, survey_id: str, secret: str, now: dt.datetime) -> None:
        self.survey = survey
        self.survey_id = survey_id
        self.now = now
        self.codes = ExportCodes(secret)
        self._stale = timestamp(now - STOPPED_AFTER)  # stored times sort as text
        self._memo: engine.RelevanceMemo | None = None
        self._walked: tuple[int, Walk] | None = None  # the last response's walk
        self._children: dict[str | None, list[Repeat]] = {}
        for repeat in survey.repeats:
            self._children.setdefault(repeat.parent, []).append(repeat)
        self._counted: dict[str, int] = {r.id: 0 for r in survey.repeats}
        self._rounds: tuple[int, dict[str, list[RoundRow]]] | None = None

    def status(self, response: ExportedResponse) -> str:
        if response.completed_at is not None:
            return "completed"
        if response.updated_at < self._stale:
            return "stopped"
        return "in_progress"

    def _walk(self, response: ExportedResponse) -> Walk:
        """The walk of a response's answers (kept for the tables that read the same one)."""
        if self._walked is None or self._walked[0] != response.id:
            self._walked = (response.id, Walk(self.survey, response.answers, self.now).complete())
        return self._walked[1]

    def values(self, response: ExportedResponse) -> dict[str, str | None]:
        """The answers that count: those of questions still relevant, and earlier ones
        (outside repeats: a round's answers are read with :meth:`rounds`)."""
        if response.survey_id != self.survey.id:
            return response.answers
        if self.survey.repeats:
            walk = self._walk(response)
            skip: frozenset[str] | set[str] = {
                visit.slot.key for visit in walk.visits
                if not visit.relevant and not visit.slot.rounds}
        else:
            if self._memo is None:
                self._memo = engine.RelevanceMemo(self.survey, self.now)
            skip = self._memo.irrelevant(response.answers)
        if not skip or skip.isdisjoint(response.answers):  # usual: they were never asked
            return response.answers
        return {k: v for k, v in response.answers.items() if k not in skip}

    def rounds(self, response: ExportedResponse, position: int) -> dict[str, list[RoundRow]]:
        """Repeat id → the response's rounds of it, in order, each with its row number in
        the repeat's table and its parent's (in the table of the repeat it is inside, or
        ``position`` in the responses table). A completed response has every round the
        survey gives it; one in progress, the rounds up to the last with an answer. Each
        response is numbered once, whichever table asks first."""
        if self._rounds is not None and self._rounds[0] == position:
            return self._rounds[1]
        found: dict[str, list[RoundRow]] = {r.id: [] for r in self.survey.repeats}
        if response.survey_id == self.survey.id and self.survey.repeats:
            walk = self._walk(response)
            kept = walk.kept
            completed = response.completed_at is not None
            counted = self._counted

            def each(parent: str | None, rounds: Rounds, parent_index: int) -> None:
                for repeat in self._children.get(parent, ()):
                    where = (rounds, repeat.id)
                    count = walk.rounds_of.get(where, 0)
                    if not completed:
                        count = min(count, walk.stored.get(where, 0))
                    rows = found[repeat.id]
                    for number in range(1, count + 1):
                        inner = (*rounds, (repeat.id, number))
                        counted[repeat.id] += 1
                        index = counted[repeat.id]
                        rows.append(RoundRow(index, parent_index, inner,
                                             answer_key("", inner), kept))
                        each(repeat.id, inner, index)

            each(None, (), position)
        self._rounds = (position, found)
        return found

    def meta(self, response: ExportedResponse) -> list[str | int]:
        """The response's own columns as text (``META``'s order)."""
        codes = self.codes
        return [codes.participant_id(response.participant_id),
                codes.response_id(response.id), response.survey_id,
                response.survey_version, response.language, self.status(response),
                response.started_at, response.completed_at or "", response.source or ""]


@dataclass(frozen=True, slots=True)
class RoundRow:
    """One round of a repeat in one response: a row of the repeat's table."""

    index: int  # its row in the repeat's table, from 1
    parent_index: int  # its parent's row (the responses table's, or the enclosing repeat's)
    rounds: Rounds  # ((member, 2), (visit, 1)): the round and the rounds it is inside
    prefix: str  # what its answers' keys start with: "member[2]/visit[1]/"
    answers: Mapping[str, str | None]  # the response's answers that count, by key


class Table(ABC):
    """One table of an export: its columns and the rows each response gives it.

    ``value_labels`` (column name → code → label) and ``codes`` (question → choice →
    code) are filled for coded layouts, and may grow while rows are made.
    """

    name: str
    columns: list[Column]
    value_labels: dict[str, dict[int, str]]
    codes: dict[str, dict[str, int]]

    @abstractmethod
    def rows(self, response: ExportedResponse, position: int) -> Iterable[Row]:
        """The rows ``response`` (the ``position``-th of the export) gives this table."""


_Maker = Callable[[str | None], Row]


class _AnswerTable(Table):
    """A table with a column (or several) per question: how each question's cells are made."""

    def __init__(self, name: str, reading: Reading, options: ExportOptions,
                 layout: Layout) -> None:
        self.name = name
        self.reading = reading
        self.layout = layout
        self.kobo = options.kobo_names
        self.language = options.labels or reading.survey.default_language
        self.value_labels = {}
        self.codes = {}
        self.columns = []
        self._plan: list[tuple[str, _Maker | None]] = []

    # --- building: each question's columns and the function that fills them

    def _question(self, question: Question, name: str) -> _Maker | None:
        """Add the question's columns; its maker (``None``: its answer as text, as is)."""
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
        elif text_mode:
            parts.append(lambda chosen, raw: ["1" if c in chosen else "0" for c in choices])
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

    def _answers(self, cells: Row, answers: Mapping[str, str | None], prefix: str = "") -> None:
        """Add the cells of every question's answer (stored under ``prefix`` + its id)."""
        if self.layout.mode == "text":
            start = FORMULA_START
            for question_id, make in self._plan:
                raw = answers.get(prefix + question_id)
                if make is not None:
                    cells.extend(make(raw))
                elif raw is None:
                    cells.append("")
                else:
                    cells.append(neutralized(raw) if raw[:1] in start else raw)
        else:
            for question_id, make in self._plan:
                raw = answers.get(prefix + question_id)
                if make is not None:
                    cells.extend(make(raw))
                else:
                    cells.append(raw)


class ResponsesTable(_AnswerTable):
    """The responses: one row each, its own columns first, then one or more per question
    (and ``_index``, its row number, when the export has repeat tables or Kobo names)."""

    def __init__(self, reading: Reading, earlier: dict[str, str], options: ExportOptions,
                 layout: Layout) -> None:
        super().__init__(MAIN_TABLE, reading, options, layout)
        self.columns.extend(self._meta_column(name) for name in META)
        for question in reading.survey.questions:
            if question.stores and question.repeat is None:  # a round's: in its repeat's table
                name = question.path if self.kobo and question.path else question.id
                self._plan.append((question.id, self._question(question, name)))
        for question_id, version in earlier.items():
            placeholder = Question(question_id, QuestionType.TEXT, reading.survey.title, -1)
            self.columns.append(Column(question_id, f"(earlier version {version})",
                                       question=placeholder, earlier=True))
            self._plan.append((question_id, None))
        self.positions = self.kobo or bool(reading.survey.repeats)
        if self.positions:
            self.columns.append(Column(POSITION, "Row of the response", "number", "position"))

    def _meta_column(self, name: str) -> Column:
        shown = KOBO_META.get(name, name) if self.kobo else name
        kind: Kind = "datetime" if name in ("started_at", "completed_at") else "text"
        return Column(shown, META_LABELS[name], kind, "meta")

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
        else:
            cells = [*meta]
            cells[6] = _moment(response.started_at)
            cells[7] = _moment(response.completed_at)
            cells[8] = response.source or None
        self._answers(cells, answers)
        if self.positions:
            cells.append(str(position) if self.layout.mode == "text" else position)
        return cells


class RepeatTable(_AnswerTable):
    """A repeat's rounds: one row each, as KoboToolbox exports them. ``_index`` numbers the
    rows of this table, ``_parent_index`` is the parent row's ``_index`` in the table named
    by ``_parent_table_name`` (the responses, or the repeat this one is inside); then the
    participant's and the response's codes, as in the responses table, and the round's
    questions."""

    def __init__(self, repeat: Repeat, names: Mapping[str, str], reading: Reading,
                 options: ExportOptions, layout: Layout) -> None:
        super().__init__(names[repeat.id], reading, options, layout)
        self.repeat = repeat
        self.parent_table = names[repeat.parent] if repeat.parent else MAIN_TABLE
        survey = reading.survey
        self.path = "/".join(r.path or r.id for r in survey.chain(repeat.id))
        response = "_submission__uuid" if self.kobo else "response_id"
        self.columns.extend([
            Column(POSITION, f"Row of the round in {self.name}", "number", "position"),
            Column(PARENT_POSITION, f"Row of the round's parent in {self.parent_table}",
                   "number", "position"),
            Column(PARENT_TABLE, "The table of the round's parent", role="meta"),
            Column("participant", META_LABELS["participant"], role="meta"),
            Column(response, META_LABELS["response_id"], role="meta"),
        ])
        for question in survey.questions[repeat.start:repeat.end]:
            if question.stores and question.repeat == repeat.id:
                name = (f"{self.path}/{question.path or question.id}" if self.kobo
                        else question.id)
                self._plan.append((question.id, self._question(question, name)))

    def rows(self, response: ExportedResponse, position: int) -> Iterable[Row]:
        return (row for _, row in self.round_rows(response, position))

    def round_rows(self, response: ExportedResponse, position: int
                   ) -> Iterator[tuple[RoundRow, Row]]:
        """The response's rounds of this repeat, each with its row."""
        found = self.reading.rounds(response, position).get(self.repeat.id)
        if not found:
            return
        codes = self.reading.codes
        participant = codes.participant_id(response.participant_id)
        response_code = codes.response_id(response.id)
        text = self.layout.mode == "text"
        for round_ in found:
            cells: Row = [str(round_.index) if text else round_.index,
                          str(round_.parent_index) if text else round_.parent_index,
                          self.parent_table, participant, response_code]
            self._answers(cells, round_.answers, round_.prefix)
            yield round_, cells


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
        """The tables every format writes: the responses, then one per repeat in form order
        (a repeat before those inside it)."""
        survey = self.reading.survey
        names = table_names(survey)
        tables: list[Table] = [ResponsesTable(self.reading, self.earlier, self.options, layout)]
        tables.extend(RepeatTable(repeat, names, self.reading, self.options, layout)
                      for repeat in repeats_in_order(survey))
        return tables


def repeats_in_order(survey: Survey) -> list[Repeat]:
    """The survey's repeats in form order, a repeat before those inside it."""
    return sorted(survey.repeats, key=lambda r: (r.start, len(survey.chain(r.id))))


def table_names(survey: Survey) -> dict[str, str]:
    """Repeat id → the name of its table: its id, made safe as a file name and distinct
    (whatever the case) from the other tables' and the codebook's."""
    taken = {MAIN_TABLE, "codebook"}
    names: dict[str, str] = {}
    for repeat in repeats_in_order(survey):
        base = _UNSAFE_NAME.sub("_", repeat.id).strip(".") or "repeat"
        name, number = base, 1
        while name.lower() in taken:
            number += 1
            name = f"{base}_{number}"
        taken.add(name.lower())
        names[repeat.id] = name
    return names
