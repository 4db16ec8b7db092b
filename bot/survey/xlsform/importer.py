"""The XLSForm importer: pyxform's JSON walked into the questions of a survey.

Each element of the form becomes a question, or is refused (an error) or
skipped (a warning) with its sheet, row and name (see :mod:`bot.survey.xlsform`
for what is which). Groups are flattened: their conditions join those of their
questions, and a name used again in another group becomes ``group.name``.
A repeat (``begin_repeat``) becomes a :class:`~bot.survey.model.Repeat` over
the questions built from it: its ``repeat_count`` (``jr:count``; a fixed
number is a calculation pyxform adds before it), its ``relevant`` with those
of the groups around it, the ``repeat_limit`` (rounds of an open repeat,
default 20) and ``repeat_figures`` (``rounds`` to count rounds in figures)
columns of its row.
Every expression is parsed as it is met; its references are checked once every
name is known (:mod:`~bot.survey.xlsform.references`).

The languages (:mod:`~bot.survey.xlsform.languages`) and the choices
(:mod:`~bot.survey.xlsform.choices`) are resolved by their own modules; this
one holds the walk and the questions it builds.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from bot.i18n import shipped_languages
from bot.survey.expressions import Expression, ExpressionError, limits, parse
from bot.survey.model import (
    CHOICE_TYPES,
    DEFAULT_ROUND_LIMIT,
    MAX_ROUND_LIMIT,
    SILENT_TYPES,
    Choice,
    Counting,
    Question,
    QuestionType,
    Repeat,
    Survey,
    Translated,
    naming_question,
)
from bot.survey.problems import Problem, no_constraint_message
from bot.survey.xlsform.attachments import Attachments
from bot.survey.xlsform.choices import ChoiceLists, choice_index
from bot.survey.xlsform.kinds import ENDS, Kind, canonical_default, kind_of
from bot.survey.xlsform.languages import FormLanguages
from bot.survey.xlsform.references import Checks, Group, Known, check_references
from bot.survey.xlsform.workbook import (
    CHOICES,
    EXTERNAL_CHOICES,
    NO,
    SETTINGS,
    SURVEY,
    YES,
    Element,
    Read,
    Report,
    Rows,
    cell,
    media_files,
    plain,
    read_form,
)

MAX_SCALE_POINTS = 11

_NAME = re.compile(r"^[^\W\d][\w.\-]*$")
_INSTANCE_NAME = "instanceName"  # pyxform's calculation for the settings' instance_name
_GENERATED_NOTE = re.compile(r"^generated_note_name_(\d+)$")
_TYPOGRAPHIC_QUOTES = frozenset("‘’“”")
_FROM_ROUNDS = re.compile(r"\$\{([^}]+)\}")
_RAW_COLUMNS = {
    "relevant": ("relevant", "relevance"),
    "calculation": ("calculation", "calculate"),
    "read_only": ("read_only", "readonly"),
}


@dataclass(slots=True)
class _Item:
    """An element of the form met on the walk, with its row and the groups it is in."""

    element: Element
    row: int
    raw_type: str
    groups: tuple[Group, ...]
    raw: Mapping[str, Any] | None  # its row as read, None for what pyxform made (or_other)
    or_other: bool = False  # the "specify other" question or_other makes
    repeat: str | None = None  # the innermost repeat it is in


@dataclass(slots=True)
class _RepeatItem:
    """A repeat met on the walk: built once its questions are."""

    name: str
    row: int
    element: Element
    parent: str | None
    groups: tuple[Group, ...]  # the groups around it
    raw: Mapping[str, Any]
    over: Sequence[Mapping[str, Any]] | None = None  # a loop: the choices it goes over


class _Importer:
    """Walks pyxform's JSON into questions, refusing and skipping what cannot run."""

    def __init__(self, path: Path, read: Read, report: Report) -> None:
        self.path = path
        self.read = read
        self.form = read.form
        self.report = report
        self.survey_rows = Rows(read.sheets[SURVEY], key=("name|value|tag",))
        self.languages = FormLanguages(read, report)
        self.attachments = Attachments(path)
        self.choice_lists = ChoiceLists(path, read, self.languages, report, self.attachments)
        self.known: dict[str, Known] = {}
        self.questions: list[Question] = []
        self.checks: list[Checks] = []
        self.repeat_checks: list[tuple[str, int, Expression, int, int]] = []
        self.groups: list[Group] = []
        self.repeat_items: list[_RepeatItem] = []
        self.entities_noted = False
        self.instance_name_element: Element | None = None

    # --- walking the form

    def items(self) -> list[_Item]:
        items: list[_Item] = []
        self.walk(self.form.get("children", ()), (), items, 0, None)

        def is_end(item: _Item) -> bool:
            return plain(item.element.get("type")) in ENDS

        return [i for i in items if not is_end(i)] + [i for i in items if is_end(i)]

    def walk(self, children: Iterable[Element], groups: tuple[Group, ...],
             items: list[_Item], last_row: int, repeat: str | None) -> int:
        for element in children:
            if not isinstance(element, Mapping):
                continue
            name = plain(element.get("name"))
            kind = plain(element.get("type"))
            row = self.survey_rows.take(name)
            generated = row is None
            if row is None:
                note = _GENERATED_NOTE.match(name)
                generated = note is None
                row = int(note.group(1)) if note else last_row
            raw = self.survey_rows.raw.get(row, {})
            raw_type = cell(raw, "type", "command")
            or_other = generated and "or_other" in raw_type and name.endswith("_other")
            last_row = row
            if kind == "group":
                if generated and name == "meta":
                    last_row = self.walk(element.get("children", ()), groups, items, last_row,
                                         repeat)
                    continue
                relevant = self.expression(element, "relevant", name, row, raw=raw)
                group = Group(name, row, relevant)
                self.groups.append(group)
                last_row = self.walk(element.get("children", ()), (*groups, group), items, row,
                                     repeat)
            elif kind in ("repeat", "loop"):
                if name in self.known:
                    self.report.error(f"the name '{name}' is also used in row "
                                      f"{self.known[name].row} (a repeat's name must be unique)",
                                      row, question=name, field="name")
                    self.refuse_repeat(element, name, row)
                    continue
                self.known[name] = Known(row, reason=f"is the repeat '{name}'", repeat=True)
                over = element.get("columns") if kind == "loop" else None
                self.repeat_items.append(_RepeatItem(name, row, element, repeat, groups, raw,
                                                     over if isinstance(over, list) else None))
                last_row = self.walk(element.get("children", ()), (), items, row, name)
            elif kind == "entity":  # from the entities sheet: ODK Central's datasets
                if not self.entities_noted:
                    self.report.warn("ignored: entities update ODK Central datasets, which the bot "
                                     "does not use", None, "entities")
                    self.entities_noted = True
            elif generated and name == _INSTANCE_NAME and kind == "calculate":
                self.instance_name_element = element  # settled once every name is known
            elif generated and (element.get("bind") or {}).get("jr:preload") == "uid":
                # instanceID: pyxform adds it; the bot has its own response ids
                self.known.setdefault(name, Known(
                    row, reason="is ODK's submission id (the bot has none)",
                    refused=True))
            else:
                items.append(_Item(element, row, raw_type, groups,
                                   None if generated else raw, or_other, repeat))
        return last_row

    def instance_name(self, element: Element) -> None:
        """The settings' instance_name (pyxform's ``meta/instanceName``): a calculation, last,
        when it can run; it only names each submission in ODK and KoboToolbox, so one that
        cannot is left out with a warning rather than refusing the form."""
        text = plain((element.get("bind") or {}).get("calculate"))
        if not text:
            return
        try:
            calculation = parse(text, data=self.attachments.table)
        except ExpressionError as exc:
            why: str | None = f"cannot be read: {exc}"
        else:
            why = self.cannot_follow(calculation)
        if why is None and _INSTANCE_NAME in self.known:
            why = f"is left out: the form has its own '{_INSTANCE_NAME}'"
        if why is not None:
            self.report.warn(f"ignored: instance_name {why}; it only names each submission in "
                             "ODK and KoboToolbox, which the bot does not need", None, SETTINGS,
                             field="instance_name")
            return
        if calculation.repaired_quotes:
            self.report.warn("typographic quotes read as straight quotes", None, SETTINGS,
                             field="instance_name")
        question = Question(
            id=_INSTANCE_NAME, type=QuestionType.CALCULATE,
            text=Translated({}, self.languages.default), index=len(self.questions),
            calculation=calculation, source=f"sheet {SETTINGS}, instance_name",
            path=_INSTANCE_NAME)
        self.questions.append(question)
        self.known[_INSTANCE_NAME] = Known(0, question=question)

    def cannot_follow(self, expression: Expression) -> str | None:
        """Why a reference of an expression cannot be followed, once every name is known."""
        for referred in sorted(expression.references):
            known = self.known.get(referred)
            if known is None:
                return f"refers to unknown question '{referred}'"
            if known.question is None and not known.repeat:
                return f"refers to '{referred}', which {known.reason}"
            if (known.question is not None and known.question.type is QuestionType.NOTE
                    and known.question.calculation is None):
                return f"refers to '{referred}', a note (notes have no answer)"
        return None

    def refuse_repeat(self, element: Element, name: str, row: int) -> None:
        """A repeat whose name is taken: refused with everything in it."""
        self.known.setdefault(name, Known(row, reason=f"is the repeat '{name}'", refused=True))

        def inner(children: Iterable[Element]) -> None:
            for child in children:
                if not isinstance(child, Mapping):
                    continue
                child_name = plain(child.get("name"))
                child_row = self.survey_rows.take(child_name) or row
                self.known.setdefault(child_name, Known(
                    child_row, reason=f"is inside the repeat '{name}'", refused=True,
                    inside_repeat=True))
                inner(child.get("children", ()))

        inner(element.get("children", ()))

    # --- expressions

    def expression(self, element: Element, column: str, question: str, row: int,
                   *, raw: Mapping[str, Any] | None, bare: bool = False,
                   source: Any = None) -> Expression | None:
        """A cell's expression, parsed; pyxform has already straightened its quotes."""
        if source is None:
            bind = element.get("bind") or {}
            if column == "choice_filter":
                source = element.get("choice_filter")
            else:
                key = {"calculation": "calculate", "read_only": "readonly"}.get(column, column)
                source = bind.get(key)
        text = plain(source)
        if not text:
            return None
        try:
            expression = parse(text, allow_bare_names=bare, data=self.attachments.table)
        except ExpressionError as exc:
            self.report.error(str(exc), row, question=question, field=column)
            return None
        written = cell(raw or {}, *_RAW_COLUMNS.get(column, (column,)))
        if expression.repaired_quotes or _TYPOGRAPHIC_QUOTES.intersection(written):
            self.report.warn("typographic quotes read as straight quotes", row, question=question,
                             field=column)
        return expression

    # --- items

    def add(self, item: _Item) -> None:
        element = item.element
        name = plain(element.get("name"))
        json_type = plain(element.get("type"))
        shown_type = item.raw_type.split()[0] if item.raw_type else json_type
        row = item.row
        if not _NAME.match(name):
            self.report.error(f"'{name}' is not a usable name (letters, digits, '_', '.', '-'; "
                              "a letter or '_' first)", row, question=name, field="name")
            return
        known = self.known.get(name)
        if known is not None and known.refused and known.row == row:
            return  # pyxform's companion of a refused item (a repeat's count): refused with it
        if known is not None and not known.inside_repeat:
            # pyxform allows a name again in another group (and refuses ${name} then):
            # flattened, this one is told apart by its group's (or repeat's) name
            outer = [g.name for g in item.groups] or ([item.repeat] if item.repeat else [])
            paths = [f"{outer[-1]}.{name}", ".".join([*outer, name])] if outer else []
            qualified = next((p for p in paths if p not in self.known), None)
            if qualified is None:
                self.report.error(f"the name '{name}' is also used in row {known.row} (names "
                                  "must be unique once groups are flattened)", row, question=name,
                                  field="name")
                return
            self.report.warn(f"the name '{name}' is also used in row {known.row}: this question is "
                             f"'{qualified}' in the bot and in exports", row, question=name,
                             field="name")
            name = qualified
        kind = kind_of(json_type)
        bind = element.get("bind") or {}
        required_raw = plain(bind.get("required"))
        required = required_raw.lower() not in NO

        if kind.what == "metadata":
            self.skip(name, row, f"'{shown_type}' is device metadata, which Telegram does not "
                      "give the bot", f"is device metadata ('{shown_type}') that Telegram does "
                      "not give the bot")
            return
        if kind.what == "external_data":
            self.skip(name, row, f"'{shown_type}' declares a data file for pulldata() or "
                      "instance(), which the bot does not use",
                      f"is a '{shown_type}' data file, which the bot does not use")
            return
        if kind.what == "unsupported":
            what = f"'{shown_type}' questions cannot be answered on Telegram"
            reason = f"is a '{shown_type}' question (it cannot be answered on Telegram)"
            if required:
                self.known[name] = Known(row, reason=reason, refused=True)
                self.report.error(f"{what}, and this one is required", row, question=name,
                                  field="required")
            else:
                self.skip(name, row, what, reason)
            return
        self.build(item, name, kind, required_raw)

    def skip(self, name: str, row: int, what: str, reason: str) -> None:
        problem = self.report.warn(f"skipped: {what}", row, question=name)
        self.known[name] = Known(row, reason=reason, problem=problem)

    def build(self, item: _Item, name: str, kind: Kind, required_raw: str) -> None:
        element = item.element
        row = item.row
        bind = element.get("bind") or {}
        index = len(self.questions)
        for group in item.groups:
            if group.start is None:
                group.start = index
            group.end = index + 1
        expressions: list[tuple[str, Expression]] = []

        qtype = kind.type or QuestionType.TEXT
        minimum = maximum = None
        if kind.what == "range":
            qtype, minimum, maximum = self.range(element, name, row)

        texts: list[tuple[str, str, str]] = []

        def text_field(column: str) -> Translated | None:
            found = self.languages.field_texts(element, column)
            self.languages.count_gaps(found, column, SURVEY, row)
            texts.extend((column, language, text) for language, text in found.items())
            return self.languages.translated(found)

        label = text_field("label")
        hint = text_field("hint")
        constraint_message = text_field("constraint_message")
        required_message = text_field("required_message")
        if label is None and qtype not in (QuestionType.CALCULATE,) and kind.what != "clock":
            self.report.warn("no label: the question's name is shown instead", row, question=name,
                             field="label")
        default_language = self.languages.default
        text = label or Translated(
            {} if qtype is QuestionType.CALCULATE else {default_language: name}, default_language)

        required = False
        required_if = None
        lowered = required_raw.lower()
        if lowered in YES:
            required = True
        elif lowered not in NO:
            required_if = self.expression(element, "required", name, row, raw=item.raw)
            if required_if is not None:
                expressions.append(("required", required_if))

        relevant = self.expression(element, "relevant", name, row, raw=item.raw)
        if relevant is not None:
            expressions.append(("relevant", relevant))
        constraint = self.expression(element, "constraint", name, row, raw=item.raw)
        expects = None
        if constraint is not None:
            expressions.append(("constraint", constraint))
            expects = limits(constraint, own=name, whole_numbers=qtype in (
                QuestionType.INTEGER, QuestionType.SCALE))
            if constraint_message is None:
                self.report.warn(no_constraint_message(expects), row, question=name,
                                 field="constraint_message")
        calculation = self.expression(element, "calculation", name, row, raw=item.raw)
        if kind.what == "clock":
            calculation = parse(kind.clock)
        if calculation is not None:
            expressions.append(("calculation", calculation))
        choice_filter = self.expression(element, "choice_filter", name, row, raw=item.raw,
                                        bare=True)
        if choice_filter is not None:
            expressions.append(("choice_filter", choice_filter))
        if "trigger" in element and kind.what != "clock":
            self.report.warn("the 'trigger' column is not supported: the value is computed when "
                             "the question is reached", row, question=name, field="trigger")

        read_only = False
        readonly_raw = plain(bind.get("readonly")).lower()
        if readonly_raw in YES:
            read_only = qtype is not QuestionType.NOTE
        elif readonly_raw not in NO:
            if self.expression(element, "read_only", name, row, raw=item.raw) is not None:
                self.report.warn("read_only given as a condition is not supported: the question is "
                                 "asked", row, question=name, field="read_only")

        choices: tuple[Choice, ...] = ()
        choices_from = None
        from_rounds = _FROM_ROUNDS.fullmatch(plain(element.get("itemset")))
        if qtype in CHOICE_TYPES and from_rounds:  # select_one ${name}: a repeat's answers
            choices_from = from_rounds.group(1).strip()
            expressions.append(("choices", parse(from_rounds.group(0))))
        elif qtype in CHOICE_TYPES:
            choices = self.choice_lists.choices(
                element, name, row, multiple=qtype is QuestionType.SELECT_MULTIPLE,
                external=kind.what == "external")

        default = None
        raw_default = plain(element.get("default"))
        if raw_default and (choices or qtype not in CHOICE_TYPES):
            default = self.default_value(item, name, qtype, raw_default, choices, expressions)

        self.media(element, name, row)
        if item.or_other:
            self.choice_lists.warn_or_other(name, row)

        gate = qtype is QuestionType.NOTE and (required or required_if is not None)
        relevants = [g.relevant for g in item.groups if g.relevant is not None]
        combined = _combine([*relevants, relevant])
        question = Question(
            id=name, type=qtype, text=text, index=index, hint=hint,
            required=required and qtype not in SILENT_TYPES,
            relevant=combined, constraint=constraint, constraint_message=constraint_message,
            expects=expects,
            choices=choices, minimum=minimum, maximum=maximum,
            required_if=required_if,
            required_message=required_message, choice_filter=choice_filter,
            calculation=calculation, default=default, read_only=read_only, gate=gate,
            source=f"sheet {SURVEY}, row {row}",
            path="/".join([*(g.name for g in item.groups), plain(element.get("name"))]),
            choice_index=choice_index(choices), repeat=item.repeat, choices_from=choices_from,
        )
        self.questions.append(question)
        self.known[name] = Known(row, question=question)
        self.checks.append(Checks(question, row, expressions, texts))

    def range(self, element: Element, name: str,
              row: int) -> tuple[QuestionType, Decimal | None, Decimal | None]:
        parameters = element.get("parameters") or {}
        values: dict[str, Decimal] = {}
        for key, fallback in (("start", "1"), ("end", "10"), ("step", "1")):
            try:
                values[key] = Decimal(plain(parameters.get(key)) or fallback)
            except InvalidOperation:
                self.report.error(f"'{key}' must be a number", row, question=name,
                                  field="parameters")
                return QuestionType.INTEGER, None, None
        start, end, step = values["start"], values["end"], values["step"]
        low, high = min(start, end), max(start, end)
        whole = all(v == v.to_integral_value() for v in (start, end, step))
        if not whole:
            return QuestionType.DECIMAL, low, high
        if abs(step) == 1 and 2 <= high - low + 1 <= MAX_SCALE_POINTS:
            return QuestionType.SCALE, low, high
        return QuestionType.INTEGER, low, high

    def default_value(self, item: _Item, name: str, qtype: QuestionType, raw: str,
                      choices: Sequence[Choice],
                      expressions: list[tuple[str, Expression]]) -> str | None:
        from pyxform.utils import default_is_dynamic  # type: ignore[import-untyped]

        element, row = item.element, item.row
        bind_type = (element.get("bind") or {}).get("type") or {
            QuestionType.DATE: "date", QuestionType.DATETIME: "dateTime",
            QuestionType.LOCATION: "geopoint",
        }.get(qtype)
        if default_is_dynamic(raw, bind_type):
            expression = self.expression(element, "default", name, row, raw=item.raw,
                                         source=raw)
            if expression is not None:
                expressions.append(("default", expression))
                self.report.warn("a default computed by an expression is not offered (only fixed "
                                 "defaults are)", row, question=name, field="default")
            return None
        value = canonical_default(qtype, raw, choices)
        if value is None:
            self.report.error(f"default '{raw}' is not a possible answer to a {qtype.value} "
                              "question", row, question=name, field="default")
        return value

    def media(self, element: Element, name: str, row: int) -> None:
        files = media_files(element)
        if not files:
            return
        missing = [f for f in files if self.attachments.find(f) is None]
        listed = ", ".join(f"'{f}'" for f in files)
        if missing:
            self.report.warn(f"skipped: the media on its label ({listed}) are not next to the form",
                             row, question=name, field="media")
        else:
            self.report.warn(f"skipped: the bot does not show media on labels yet ({listed})", row,
                             question=name, field="media")

    # --- the survey

    # --- repeats

    def repeats(self) -> list[Repeat]:
        """The repeats over the questions built (one with none of them is left out)."""
        built: list[Repeat] = []
        for item in self.repeat_items:
            inside = [q.index for q in self.questions
                      if q.repeat is not None and item.name in self.chain(q.repeat)]
            if not inside:
                self.report.warn("skipped: the repeat has no question the bot can ask", item.row,
                                 question=item.name)
                self.known[item.name] = Known(item.row, reason=f"is the repeat '{item.name}', "
                                              "which has no question the bot can ask",
                                              refused=True)
                continue
            start, end = min(inside), max(inside) + 1
            element, row = item.element, item.row
            texts = self.languages.field_texts(element, "label")
            self.languages.count_gaps(texts, "label", SURVEY, row)
            own = self.expression(element, "relevant", item.name, row, raw=item.raw)
            relevant = _combine([*(g.relevant for g in item.groups), own])
            group = Group(item.name, row, own, start, end)
            self.groups.append(group)  # its relevant is checked as a group's
            count = None
            over = self.loop_choices(item)
            counted = plain((element.get("control") or {}).get("jr:count"))
            if over:
                count = parse(str(len(over)))
            elif counted:
                count = self.expression(element, "repeat_count", item.name, row, raw=item.raw,
                                        source=counted)
                if count is not None:
                    self.repeat_checks.append((item.name, row, count, start, end))
            built.append(Repeat(
                id=item.name, text=self.languages.translated(texts) or Translated(
                    {}, self.languages.default),
                start=start, end=end, parent=item.parent, count=count,
                limit=max(self.limit(item), len(over)), relevant=relevant,
                title=naming_question(self.questions, item.name, start, end),
                counting=self.counting(item), source=f"sheet {SURVEY}, row {row}",
                over=over, path="/".join([*(g.name for g in item.groups), item.name])))
        return built

    def loop_choices(self, item: _RepeatItem) -> tuple[Choice, ...]:
        """A loop's rounds: one per choice of its list, named by the choice."""
        if item.over is None:
            return ()
        choices = []
        for column in item.over:
            name = plain(column.get("name"))
            texts = self.languages.field_texts(column, "label")
            choices.append(Choice(name, self.languages.translated(texts) or Translated(
                {self.languages.default: name}, self.languages.default)))
        if len(choices) > MAX_ROUND_LIMIT:
            self.report.error(f"a loop goes over at most {MAX_ROUND_LIMIT} choices; this list "
                              f"has {len(choices)}", item.row, question=item.name)
        return tuple(choices[:MAX_ROUND_LIMIT])

    def chain(self, repeat: str) -> list[str]:
        """The repeats from ``repeat`` out to the outermost."""
        parents = {item.name: item.parent for item in self.repeat_items}
        chain: list[str] = []
        current: str | None = repeat
        while current is not None:
            chain.append(current)
            current = parents.get(current)
        return chain

    def limit(self, item: _RepeatItem) -> int:
        """The ``repeat_limit`` column: the most rounds (default 20)."""
        written = cell(item.raw, "repeat_limit")
        if not written:
            return DEFAULT_ROUND_LIMIT
        if written.isdigit() and 1 <= int(written) <= MAX_ROUND_LIMIT:
            return int(written)
        self.report.error(f"repeat_limit must be a whole number from 1 to {MAX_ROUND_LIMIT}, "
                          f"not '{written}'", item.row, question=item.name, field="repeat_limit")
        return DEFAULT_ROUND_LIMIT

    def counting(self, item: _RepeatItem) -> Counting:
        """The ``repeat_figures`` column: ``people`` (the default) or ``rounds``."""
        written = cell(item.raw, "repeat_figures").lower()
        if not written:
            return Counting.PEOPLE
        try:
            return Counting(written)
        except ValueError:
            self.report.error(f"repeat_figures is 'people' (each participant once) or "
                              f"'rounds' (every round), not '{written}'", item.row,
                              question=item.name, field="repeat_figures")
            return Counting.PEOPLE

    # --- the survey

    def survey(self, raw: bytes) -> Survey | None:
        self.languages.resolve()
        for item in self.items():
            self.add(item)
        if self.instance_name_element is not None:
            self.instance_name(self.instance_name_element)
        repeats = self.repeats()
        check_references(self.known, self.groups, self.checks, len(self.questions),
                         self.report, self.repeat_checks)
        for each in self.checks:
            source = each.question.choices_from
            known = self.known.get(source) if source else None
            if known is not None and known.question is not None and known.question.repeat is None:
                self.report.error(f"its choices are the answers to '{source}', which is not "
                                  "asked in a repeat (select_one ${name} offers what was "
                                  "answered in each round)", each.row,
                                  question=each.question.id, field="type")
        self.languages.report_gaps()
        if not self.questions:
            self.report.error("the form has no question the bot can ask", None, None)
        elif not any(q.asks for q in self.questions):
            self.report.warn("the form has nothing to answer: the bot only shows its notes", None,
                             None)
        if any(p.severity == "error" for p in self.report.problems):
            return None
        settings_rows = self.read.sheets.get(SETTINGS) or []
        settings = settings_rows[0] if settings_rows else {}
        survey_id = plain(self.form.get("id_string")) or self.path.stem
        if not _NAME.match(survey_id):
            cleaned = re.sub(r"[^\w.\-]+", "_", survey_id).strip("_") or "form"
            if not _NAME.match(cleaned):
                cleaned = f"form_{cleaned}"
            self.report.warn(f"the form id '{survey_id}' is used as '{cleaned}'", None, SETTINGS,
                             field="form_id")
            survey_id = cleaned
        version = plain(self.form.get("version")) or cell(settings, "version") or "1"
        default = self.languages.default
        return Survey(
            id=survey_id, version=version, default_language=default,
            languages=self.languages.codes, title=self.title(settings),
            introduction=None, consent_notice=None, consent_details=None, closing=None,
            questions=tuple(self.questions),
            fingerprint=hashlib.sha256(raw + self.attachments.fingerprint()).hexdigest()[:8],
            by_id={q.id: q for q in self.questions}, repeats=tuple(repeats),
            language_names={code: name for code, name in self.languages.names.items()
                            if code in self.languages.codes},
            bot_language=self.bot_language(settings),
        )

    def bot_language(self, settings: Mapping[str, Any]) -> dict[str, str]:
        """The settings' ``bot_language`` ("ha=fr, sw=en"): for a form language the bot has
        no words in, the language its own words are shown in instead."""
        raw = cell(settings, "bot_language")
        chosen: dict[str, str] = {}
        shipped = shipped_languages()
        for part in re.split(r"[,;]", raw or ""):
            language, _, fallback = (text.strip() for text in part.partition("="))
            if not language:
                continue
            if language not in self.languages.codes:
                self.report.error(f"bot_language: '{language}' is not one of the form's "
                                  f"languages ({', '.join(self.languages.codes)})", None,
                                  SETTINGS, field="bot_language")
            elif fallback not in shipped:
                self.report.error(f"bot_language: the bot has no words in '{fallback}'; it "
                                  f"speaks {', '.join(shipped)}", None, SETTINGS,
                                  field="bot_language")
            else:
                chosen[language] = fallback
        return chosen

    def title(self, settings: Mapping[str, Any]) -> Translated:
        """The settings' form_title, else the form_id made readable, else none (never the file's
        name): the bot then shows its own neutral title."""
        default = self.languages.default
        title = cell(settings, "form_title", "set_form_title")
        if title:
            return Translated({default: title}, default)
        form_id = cell(settings, "form_id", "set_form_id")
        readable = " ".join(re.sub(r"[_.\-]+", " ", form_id).split())
        readable = readable[:1].upper() + readable[1:]
        if readable:
            self.report.warn(f"the form has no title (form_title in the settings sheet): "
                             f"participants see '{readable}', made from its form_id", None,
                             SETTINGS, field="form_title")
            return Translated({default: readable}, default)
        self.report.warn("the form has no title (form_title in the settings sheet): "
                         "participants see the bot's own neutral title", None, SETTINGS,
                         field="form_title")
        return Translated({}, default)


def _combine(expressions: Sequence[Expression | None]) -> Expression | None:
    """``(a) and (b) and …``: a question's own condition with those of its groups."""
    present = [e for e in expressions if e is not None]
    if len(present) <= 1:
        return present[0] if present else None
    return parse(" and ".join(f"({e.source})" for e in present))


def check_xlsform(path: Path) -> tuple[Survey | None, list[Problem]]:
    """The survey an XLSForm describes (``None`` when it has errors), and every problem."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return None, [Problem("error", f"cannot read the file: {exc.strerror}", str(path))]
    read = read_form(path, raw)
    if not isinstance(read, Read):
        return None, read
    report = Report(str(path))
    importer = _Importer(path, read, report)
    try:
        survey = importer.survey(raw)
    except Exception as exc:  # noqa: BLE001 - a bad form must never give a traceback
        report.error(f"cannot read the form: {type(exc).__name__}: {exc}", None, None)
        return None, report.problems
    return survey, sorted(report.problems, key=_reading_order)


_SHEET_ORDER = {SETTINGS: 0, SURVEY: 1, CHOICES: 2, EXTERNAL_CHOICES: 3}


def _reading_order(problem: Problem) -> tuple[int, int]:
    """Settings first, then the survey and choices sheets row by row, then the whole form."""
    if problem.sheet is None:
        return (9, 0)
    return (_SHEET_ORDER.get(problem.sheet, 4), problem.line or 0)
