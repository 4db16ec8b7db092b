"""Reading a survey file into a :class:`~bot.survey.model.Survey`, checking everything.

YAML is read here; XLSForms (``.xlsx``, ``.xls``, ``.md``) are handed, by their
suffix, to :mod:`bot.survey.xlsform`. Imports flow one way: this module →
:mod:`bot.survey.xlsform` → :mod:`bot.survey.problems` (the :class:`Problem`
and :class:`SurveyInvalid` both readers use, re-exported here).

Every problem is collected, none stops the check early, and each names where
it is: file, line, question id, field and language. Errors make the survey
unusable (:class:`SurveyInvalid`); warnings (missing translations among them)
do not, and are returned for ``survey check`` and the start-up log.

YAML is read with YAML 1.2 booleans: only ``true``/``false`` are booleans, so
choice ids such as ``yes``, ``no`` or the country code ``NO`` stay text.

The YAML checker is kept in one piece: it is the survey format of
``docs/surveys.md`` rule by rule (top-level fields, languages, each question,
its choices, its texts, then references and reachability), all reporting
through one :class:`_Checker` with the file's line numbers.
"""

from __future__ import annotations

import datetime
import difflib
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml
from babel import Locale, UnknownLocaleError

from bot.i18n import shipped_languages
from bot.survey.countries import country_names
from bot.survey.expressions import Env, Expression, ExpressionError, limits, parse
from bot.survey.model import (
    CHOICE_TYPES,
    DEFAULT_ROUND_LIMIT,
    DEFAULT_TEXT_LENGTH,
    MAX_ROUND_LIMIT,
    Choice,
    Counting,
    Question,
    QuestionType,
    Repeat,
    Survey,
    Translated,
    naming_question,
)
from bot.survey.problems import (
    Problem,
    SurveyInvalid,
    kind_of_content,
    no_constraint_message,
    not_a_survey,
)
from bot.survey.xlsform import XLSFORM_SUFFIXES, check_xlsform

__all__ = [
    "BUILTIN_SURVEY",
    "XLSFORM_SUFFIXES",
    "Problem",
    "SurveyInvalid",
    "check_survey",
    "load_survey",
]

BUILTIN_SURVEY = Path(__file__).parent / "consultation.yaml"

QUESTION_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")
CHOICE_ID = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")
MAX_TEXT_LENGTH = 3500  # leaves room to echo the answer inside one 4096-character message
_TYPE_ALIASES = {"geopoint": "location", "year": "integer"}
FIRST_YEAR = Decimal(1900)  # the earliest year a year question accepts by default
MAX_SCALE_POINTS = 11
COUNTRIES = "countries"

_TOP_FIELDS = {
    "id", "version", "default_language", "languages", "title", "introduction",
    "consent", "closing", "choice_lists", "questions", "bot_language",
}
_QUESTION_FIELDS = {
    "id", "type", "text", "hint", "required", "relevant", "constraint",
    "constraint_message", "choices", "min", "max", "min_label", "max_label",
    "max_length", "key", "breakdown", "calculation", "choices_from", "choice_filter",
}
_CONSENT_FIELDS = {"notice", "details"}
_YAML_SUFFIXES = frozenset({".yaml", ".yml", ".json"})
_TABLES = {
    ".csv": "a CSV file",
    ".tsv": "a tab-separated file",
    ".ods": "an OpenDocument spreadsheet (save it as .xlsx)",
}


# --- YAML with line numbers ------------------------------------------------------------


class _Map(dict[Any, Any]):
    """A YAML mapping that remembers the line of itself and of each key."""

    line: int = 0
    lines: dict[Any, int]


# libyaml's parser when PyYAML was built with it (its wheels are): ~8× faster to read
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_SafeLoader):  # type: ignore[valid-type,misc]
    duplicate_keys: list[tuple[str, int]]


# YAML 1.2 booleans: drop the YAML 1.1 resolver (yes/no/on/off) and add true/false only.
_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> Any:
    data = _Map()
    data.line = node.start_mark.line + 1
    data.lines = {}
    yield data
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            loader.duplicate_keys.append((str(key), key_node.start_mark.line + 1))
        seen.add(key)
        data.lines[key] = key_node.start_mark.line + 1
    data.update(loader.construct_mapping(node))


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_map)


def _line(container: Any, key: Any = None) -> int | None:
    if isinstance(container, _Map):
        if key is not None and key in container.lines:
            return container.lines[key]
        return container.line or None
    return None


# --- the checker -----------------------------------------------------------------------


class _Checker:
    """Builds the survey while collecting every problem."""

    def __init__(self, path: Path) -> None:
        self.file = str(path)
        self.problems: list[Problem] = []
        self.languages: tuple[str, ...] = ()
        self.default = "en"

    def error(self, message: str, line: int | None = None, **where: str | None) -> None:
        self.problems.append(Problem("error", message, self.file, line, **where))

    def warn(self, message: str, line: int | None = None, **where: str | None) -> None:
        self.problems.append(Problem("warning", message, self.file, line, **where))

    def unknown_fields(
        self, data: Mapping[str, Any], allowed: set[str], question: str | None = None
    ) -> None:
        for key in data:
            if key not in allowed:
                close = difflib.get_close_matches(str(key), sorted(allowed), n=1)
                hint = f"; did you mean '{close[0]}'?" if close else ""
                self.error(f"unknown field{hint}", _line(data, key), question=question,
                           field=str(key))

    def text(
        self, container: Any, key: str, *, question: str | None = None, required: bool = True,
        field: str | None = None,
    ) -> Translated | None:
        """A translated text: a map language → text, or a plain string in the default language."""
        field = field or key
        value = container.get(key) if isinstance(container, Mapping) else None
        line = _line(container, key)
        if value is None:
            if required:
                self.error("missing", line or _line(container), question=question, field=field)
            return None
        if isinstance(value, str):
            value = {self.default: value}
        if not isinstance(value, Mapping):
            self.error("expected a text or a map of language → text", line, question=question,
                       field=field)
            return None
        texts: dict[str, str] = {}
        for language, text in value.items():
            language = str(language)
            if language not in self.languages:
                self.error("language not listed in 'languages'", _line(value, language),
                           question=question, field=field, language=language)
                continue
            if not isinstance(text, str) or not text.strip():
                self.error("empty or not a text", _line(value, language), question=question,
                           field=field, language=language)
                continue
            texts[language] = text.strip()
        if self.default not in texts and value:
            self.error("no text in the default language", line, question=question, field=field,
                       language=self.default)
        for language in self.languages:
            if language not in texts and language != self.default:
                self.warn("translation missing", line, question=question, field=field,
                          language=language)
        return Translated(texts, self.default) if texts else None

    def expression(
        self, data: Mapping[str, Any], key: str, question: str
    ) -> Expression | None:
        source = data.get(key)
        if source is None or (isinstance(source, str) and not source.strip()):
            return None
        if not isinstance(source, str):
            source = str(source).lower() if isinstance(source, bool) else str(source)
        try:
            expression = parse(source)
        except ExpressionError as exc:
            self.error(str(exc), _line(data, key), question=question, field=key)
            return None
        if expression.repaired_quotes:
            self.warn("typographic quotes read as straight quotes", _line(data, key),
                      question=question, field=key)
        return expression

    def number(self, data: Mapping[str, Any], key: str, question: str) -> Decimal | None:
        value = data.get(key)
        if value is None:
            return None
        if isinstance(value, bool):
            self.error("expected a number", _line(data, key), question=question, field=key)
            return None
        try:
            return Decimal(str(value))
        except InvalidOperation:
            self.error("expected a number", _line(data, key), question=question, field=key)
            return None

    def choices(
        self, raw: Any, line: int | None, question: str, lists: Mapping[str, Any]
    ) -> tuple[tuple[Choice, ...], bool]:
        """The choices of a select question, and whether they are sorted by label."""
        if raw == COUNTRIES:
            names = country_names(self.languages)
            return tuple(
                Choice(code, Translated(by_language, self.default))
                for code, by_language in names.items()
            ), True
        if isinstance(raw, str):
            if raw not in lists:
                self.error(f"no choice list named '{raw}' in 'choice_lists'", line,
                           question=question, field="choices")
                return (), False
            raw = lists[raw]
        if not isinstance(raw, list) or not raw:
            self.error("expected a non-empty list of choices, a list name or 'countries'", line,
                       question=question, field="choices")
            return (), False
        choices: list[Choice] = []
        seen: set[str] = set()
        for item in raw:
            item_line = _line(item)
            if not isinstance(item, Mapping):
                self.error("a choice is a map with 'id' and 'label'", line, question=question,
                           field="choices")
                continue
            self.unknown_fields(item, {"id", "label"}, question)
            choice_id = item.get("id")
            if isinstance(choice_id, bool) or choice_id is None:
                self.error("choice without an id", item_line, question=question, field="choices")
                continue
            choice_id = str(choice_id)
            if not CHOICE_ID.match(choice_id):
                self.error(f"choice id '{choice_id}' may only hold letters, digits, '_', '.', '-'",
                           item_line, question=question, field="choices")
                continue
            if choice_id in seen:
                self.error(f"duplicate choice id '{choice_id}'", item_line, question=question,
                           field="choices")
                continue
            seen.add(choice_id)
            label = self.text(item, "label", question=question, field=f"choices.{choice_id}")
            if label is not None:
                choices.append(Choice(choice_id, label))
        return tuple(choices), False


def _check_references(
    checker: _Checker, expression: Expression | None, field: str, question: Question | str,
    data: Mapping[str, Any], earlier: Mapping[str, Question | None], all_ids: set[str],
) -> None:
    """Every name ``expression`` reads is known, earlier, and has an answer (``earlier``
    maps a repeat's name to None: its rounds are what it stands for)."""
    if expression is None:
        return
    own = question if isinstance(question, str) else question.id
    for name in sorted(expression.references):
        if name == own and field == "constraint":
            continue
        if name not in all_ids:
            checker.error(f"refers to unknown question '{name}'", _line(data, field),
                          question=own, field=field)
        elif name not in earlier:
            checker.error(f"refers to '{name}', which comes later or is this question",
                          _line(data, field), question=own, field=field)
        elif (found := earlier[name]) is not None and not found.stores:
            checker.error(f"refers to '{name}', a note (notes have no answer)",
                          _line(data, field), question=own, field=field)


_REPEAT_FIELDS = {"id", "type", "text", "count", "limit", "relevant", "figures", "questions"}


class _Questions:
    """The questions in survey order, repeats flattened into ranges of them."""

    def __init__(self, checker: _Checker, lists: Mapping[str, Any]) -> None:
        self.checker = checker
        self.lists = lists
        self.questions: list[Question] = []
        self.by_id: dict[str, Question] = {}
        self.repeats: list[Repeat] = []
        self.repeat_rows: dict[str, Mapping[str, Any]] = {}
        self.raw: list[Any] = []  # the maps of the questions, in order
        self.named: set[str] = set()  # every id written, built or not

    def add(self, items: list[Any], repeat: str | None) -> None:
        for item in items:
            if isinstance(item, Mapping) and isinstance(item.get("id"), str):
                self.named.add(str(item["id"]))
            if isinstance(item, Mapping) and item.get("type") == "repeat":
                self.repeat(item, repeat)
                continue
            question = _question(self.checker, item, len(self.questions), self.lists)
            if question is None:
                continue
            if question.id in self.by_id or question.id in self.repeat_rows:
                self.checker.error("duplicate question id", _line(item), question=question.id,
                                   field="id")
                continue
            if repeat is not None:
                question = replace(question, repeat=repeat)
            self.questions.append(question)
            self.by_id[question.id] = question
            self.raw.append(item)

    def repeat(self, data: Mapping[str, Any], parent: str | None) -> None:
        """``type: repeat``: its questions, asked once per round (see docs/surveys.md)."""
        checker = self.checker
        rid = data.get("id")
        line = _line(data)
        if not isinstance(rid, str) or not QUESTION_ID.match(rid):
            checker.error("missing or invalid repeat id (letters, digits, '_', '.', '-'; "
                          "starting with a letter)", _line(data, "id") or line, field="id")
            return
        if rid in self.by_id or rid in self.repeat_rows:
            checker.error("duplicate question id", line, question=rid, field="id")
            return
        checker.unknown_fields(data, _REPEAT_FIELDS, rid)
        text = checker.text(data, "text", question=rid, required=False)
        relevant = checker.expression(data, "relevant", rid)
        count = None
        raw_count = data.get("count")
        if isinstance(raw_count, int) and not isinstance(raw_count, bool) and raw_count >= 0:
            count = parse(str(raw_count))
        elif isinstance(raw_count, str):
            count = checker.expression(data, "count", rid)
        elif raw_count is not None:
            checker.error("expected a number of rounds or an expression (leave it out for "
                          "\"Add another?\" after each round)", _line(data, "count"),
                          question=rid, field="count")
        limit = data.get("limit", DEFAULT_ROUND_LIMIT)
        if isinstance(limit, bool) or not isinstance(limit, int) or not (
                1 <= limit <= MAX_ROUND_LIMIT):
            checker.error(f"expected a whole number from 1 to {MAX_ROUND_LIMIT}",
                          _line(data, "limit"), question=rid, field="limit")
            limit = DEFAULT_ROUND_LIMIT
        figures = data.get("figures", Counting.PEOPLE.value)
        if figures not in {c.value for c in Counting}:
            checker.error("expected 'people' (each participant once) or 'rounds' (every "
                          "round)", _line(data, "figures"), question=rid, field="figures")
            figures = Counting.PEOPLE.value
        inner = data.get("questions")
        self.repeat_rows[rid] = data
        start = len(self.questions)
        if not isinstance(inner, list) or not inner:
            checker.error("a repeat needs its questions (a list under 'questions')",
                          _line(data, "questions") or line, question=rid, field="questions")
        else:
            self.add(inner, rid)
        end = len(self.questions)
        if end == start:
            return
        self.repeats.append(Repeat(
            id=rid, text=text or Translated({}, checker.default), start=start, end=end,
            parent=parent, count=count, limit=limit, relevant=relevant,
            title=naming_question(self.questions, rid, start, end),
            counting=Counting(figures), source=f"line {line}" if line else None))


def _question(
    checker: _Checker, data: Any, index: int, lists: Mapping[str, Any]
) -> Question | None:
    if not isinstance(data, Mapping):
        checker.error("a question is a map of fields", _line(data))
        return None
    qid = data.get("id")
    line = _line(data)
    if not isinstance(qid, str) or not QUESTION_ID.match(qid):
        checker.error("missing or invalid question id (letters, digits, '_', '.', '-'; "
                      "starting with a letter)", _line(data, "id") or line, field="id")
        return None
    checker.unknown_fields(data, _QUESTION_FIELDS, qid)
    try:
        raw_type = str(data.get("type"))
        year = raw_type == "year"  # an integer that is a year
        kind = QuestionType(_TYPE_ALIASES.get(raw_type, raw_type))
    except ValueError:
        known = ", ".join([*(t.value for t in QuestionType), *_TYPE_ALIASES])
        checker.error(f"unknown type '{data.get('type')}' (known: {known})",
                      _line(data, "type") or line, question=qid, field="type")
        return None

    text = checker.text(data, "text", question=qid,
                        required=kind is not QuestionType.CALCULATE)
    hint = checker.text(data, "hint", question=qid, required=False)
    required = data.get("required", False)
    if not isinstance(required, bool):
        checker.error("expected true or false", _line(data, "required"), question=qid,
                      field="required")
        required = False
    if kind is QuestionType.NOTE and required:
        checker.error("a note cannot be required", _line(data, "required"), question=qid,
                      field="required")

    choices: tuple[Choice, ...] = ()
    sort_choices = False
    choices_from = data.get("choices_from")
    if choices_from is not None and (kind not in CHOICE_TYPES or "choices" in data
                                     or not isinstance(choices_from, str)):
        checker.error("a select question takes either 'choices' or 'choices_from' (the id of "
                      "a question in a repeat)", _line(data, "choices_from"), question=qid,
                      field="choices_from")
        choices_from = None
    if kind in CHOICE_TYPES and choices_from is not None:
        pass
    elif kind in CHOICE_TYPES:
        if "choices" not in data:
            checker.error("select questions need choices", line, question=qid, field="choices")
        else:
            choices, sort_choices = checker.choices(
                data["choices"], _line(data, "choices"), qid, lists)
    elif "choices" in data:
        checker.error(f"a {kind.value} question has no choices", _line(data, "choices"),
                      question=qid, field="choices")

    minimum = checker.number(data, "min", qid)
    maximum = checker.number(data, "max", qid)
    if year and minimum is None:
        minimum = FIRST_YEAR
    if kind is QuestionType.SCALE:
        minimum = Decimal(1) if minimum is None else minimum
        maximum = Decimal(5) if maximum is None else maximum
        if minimum != minimum.to_integral_value() or maximum != maximum.to_integral_value():
            checker.error("scale bounds are whole numbers", _line(data, "min") or line,
                          question=qid, field="min")
        elif not 2 <= maximum - minimum + 1 <= MAX_SCALE_POINTS:
            checker.error(f"a scale has 2 to {MAX_SCALE_POINTS} points", _line(data, "max") or line,
                          question=qid, field="max")
    elif kind not in (QuestionType.INTEGER, QuestionType.DECIMAL):
        for bound in ("min", "max"):
            if bound in data:
                checker.error(f"'{bound}' applies to integer, decimal and scale questions",
                              _line(data, bound), question=qid, field=bound)
    if minimum is not None and maximum is not None and minimum > maximum:
        checker.error("min is greater than max", _line(data, "min"), question=qid, field="min")

    min_label = max_label = None
    if kind is QuestionType.SCALE:
        min_label = checker.text(data, "min_label", question=qid, required=False)
        max_label = checker.text(data, "max_label", question=qid, required=False)
    else:
        for field in ("min_label", "max_label"):
            if field in data:
                checker.error("applies to scale questions only", _line(data, field),
                              question=qid, field=field)

    max_length = DEFAULT_TEXT_LENGTH
    if "max_length" in data:
        value = data["max_length"]
        if kind is not QuestionType.TEXT:
            checker.error("applies to text questions only", _line(data, "max_length"),
                          question=qid, field="max_length")
        elif isinstance(value, bool) or not isinstance(value, int) or not (
            1 <= value <= MAX_TEXT_LENGTH
        ):
            checker.error(f"expected a whole number from 1 to {MAX_TEXT_LENGTH}",
                          _line(data, "max_length"), question=qid, field="max_length")
        else:
            max_length = value

    relevant = checker.expression(data, "relevant", qid)
    constraint = checker.expression(data, "constraint", qid)
    choice_filter = None
    if "choice_filter" in data:
        if choices_from is None:
            checker.error("applies to questions with 'choices_from' (filter the rounds' answers "
                          "offered)", _line(data, "choice_filter"), question=qid,
                          field="choice_filter")
        else:
            choice_filter = checker.expression(data, "choice_filter", qid)
    calculation = checker.expression(data, "calculation", qid)
    if kind is QuestionType.CALCULATE and calculation is None:
        checker.error("a calculate question needs a calculation", line, question=qid,
                      field="calculation")
    elif kind is not QuestionType.CALCULATE and "calculation" in data:
        checker.error("applies to calculate questions only", _line(data, "calculation"),
                      question=qid, field="calculation")
    constraint_message = checker.text(data, "constraint_message", question=qid, required=False)
    if constraint is not None and kind is QuestionType.NOTE:
        checker.error("a note takes no answer to constrain", _line(data, "constraint"),
                      question=qid, field="constraint")
    expects = None
    if constraint is not None:
        expects = limits(constraint, own=qid,
                         whole_numbers=kind in (QuestionType.INTEGER, QuestionType.SCALE))
    if constraint is not None and constraint_message is None:
        checker.warn(no_constraint_message(expects), _line(data, "constraint"), question=qid,
                     field="constraint_message")

    key = data.get("key", False)
    if not isinstance(key, bool):
        checker.error("expected true or false", _line(data, "key"), question=qid, field="key")
        key = False
    if key and kind not in (*CHOICE_TYPES, QuestionType.SCALE, QuestionType.INTEGER):
        checker.error("only select, scale and integer questions can be key results",
                      _line(data, "key"), question=qid, field="key")

    breakdown = data.get("breakdown", False)
    if not isinstance(breakdown, bool):
        checker.error("expected true or false", _line(data, "breakdown"), question=qid,
                      field="breakdown")
        breakdown = False
    if breakdown and kind is not QuestionType.SELECT_ONE:
        checker.error("only select_one questions can break the figures down",
                      _line(data, "breakdown"), question=qid, field="breakdown")
    if choices_from is not None and (key or breakdown):
        flag = "key" if key else "breakdown"
        checker.error("its choices are what participants typed (names, often): they are never "
                      "published in figures or summaries", _line(data, flag), question=qid,
                      field=flag)

    return Question(
        id=qid, type=kind, text=text or Translated({}, checker.default), index=index, hint=hint,
        required=bool(required), relevant=relevant, constraint=constraint,
        constraint_message=constraint_message, expects=expects, choices=choices, minimum=minimum,
        maximum=maximum, min_label=min_label, max_label=max_label, max_length=max_length,
        year=year,
        key=bool(key), breakdown=bool(breakdown), sort_choices=sort_choices,
        calculation=calculation, choices_from=choices_from, choice_filter=choice_filter,
        choice_index={c.id: i for i, c in enumerate(choices)},
    )


def _languages(checker: _Checker, data: Mapping[str, Any]) -> None:
    languages = data.get("languages")
    default = data.get("default_language")
    if not isinstance(default, str):
        checker.error("missing: the language code of the survey's main language",
                      _line(data, "default_language") or 1, field="default_language")
        default = "en"
    if not isinstance(languages, list) or not languages:
        checker.error("missing: the list of language codes", _line(data, "languages") or 1,
                      field="languages")
        languages = [default]
    codes: list[str] = []
    for code in languages:
        code = str(code)
        try:
            Locale.parse(code)
        except (ValueError, UnknownLocaleError):
            checker.error(f"'{code}' is not a language code babel knows (e.g. en, fr, ar)",
                          _line(data, "languages"), field="languages")
            continue
        if code in codes:
            checker.error(f"'{code}' is listed twice", _line(data, "languages"), field="languages")
            continue
        codes.append(code)
    if default not in codes:
        checker.error(f"default language '{default}' is not in 'languages'",
                      _line(data, "default_language"), field="default_language")
        codes.insert(0, default)
    checker.languages = tuple(codes)
    checker.default = default


def _build(path: Path, raw: bytes) -> tuple[Survey | None, list[Problem]]:
    checker = _Checker(path)
    loader = _Loader(raw)
    loader.duplicate_keys = []
    try:
        data = loader.get_single_data()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = " ".join(str(getattr(exc, "problem", None) or exc).split())
        if path.suffix.lower() not in _YAML_SUFFIXES:
            where = f", line {line}" if line else ""
            return None, [Problem("error", not_a_survey(
                f"it holds text that is not YAML ({problem}{where})"), str(path))]
        checker.error(f"not valid YAML: {problem}", line)
        return None, checker.problems
    finally:
        loader.dispose()
    for key, line in loader.duplicate_keys:
        checker.error(f"'{key}' is given twice (the last one would win)", line, field=key)
    if data is None or isinstance(data, str | int | float | bool):
        what = "it holds no YAML data" if data is None else "it holds plain text"
        return None, [Problem("error", not_a_survey(what), str(path))]
    if not isinstance(data, Mapping):
        checker.error("a survey file is a map with id, version, languages, questions, …", 1)
        return None, checker.problems
    if not _TOP_FIELDS & set(map(str, data)):
        return None, [Problem("error", not_a_survey(
            "it holds YAML without any survey field (id, version, languages, questions, …)"),
            str(path))]

    checker.unknown_fields(data, _TOP_FIELDS)
    _languages(checker, data)
    survey_id = data.get("id")
    if not isinstance(survey_id, str) or not QUESTION_ID.match(survey_id):
        checker.error("missing or invalid survey id", _line(data, "id") or 1, field="id")
        survey_id = "invalid"
    version = data.get("version")
    if version is None or isinstance(version, bool | dict | list):
        checker.error("missing: the survey version (bump it when questions change)",
                      _line(data, "version") or 1, field="version")
        version = "0"

    title = checker.text(data, "title")
    introduction = checker.text(data, "introduction")
    closing = checker.text(data, "closing", required=False)
    consent = data.get("consent")
    if not isinstance(consent, Mapping):
        checker.error("missing: consent with 'notice' and 'details'", _line(data, "consent") or 1,
                      field="consent")
        consent = {}
    else:
        checker.unknown_fields(consent, _CONSENT_FIELDS)
    notice = checker.text(consent, "notice", field="consent.notice")
    details = checker.text(consent, "details", field="consent.details")

    lists = data.get("choice_lists") or {}
    if not isinstance(lists, Mapping):
        checker.error("expected a map of list name → choices", _line(data, "choice_lists"),
                      field="choice_lists")
        lists = {}
    elif COUNTRIES in lists:
        checker.error("'countries' is the built-in country list; choose another name",
                      _line(lists, COUNTRIES), field="choice_lists")

    raw_questions = data.get("questions")
    if not isinstance(raw_questions, list) or not raw_questions:
        checker.error("missing: the list of questions", _line(data, "questions") or 1,
                      field="questions")
        raw_questions = []

    found = _Questions(checker, lists)
    found.add(raw_questions, None)
    questions, by_id, repeats = found.questions, found.by_id, found.repeats
    raw_questions = found.raw

    all_ids = set(by_id) | set(found.repeat_rows) | found.named
    for repeat in repeats:
        raw_repeat = found.repeat_rows[repeat.id]
        before: dict[str, Question | None] = {q.id: q for q in questions[: repeat.start]}
        before.update((r.id, None) for r in repeats if r.end <= repeat.start)
        for field, expression in (("relevant", repeat.relevant), ("count", repeat.count)):
            _check_references(checker, expression, field, repeat.id, raw_repeat, before, all_ids)
    for question, raw_question in zip(questions, _matching(raw_questions, by_id), strict=True):
        earlier: dict[str, Question | None] = {q.id: q for q in questions[: question.index]}
        earlier.update((r.id, None) for r in repeats if r.start <= question.index)
        _check_references(checker, question.relevant, "relevant", question, raw_question,
                          earlier, all_ids)
        _check_references(checker, question.calculation, "calculation", question, raw_question,
                          earlier, all_ids)
        _check_references(checker, question.choice_filter, "choice_filter", question,
                          raw_question, {**earlier, **by_id}, all_ids)
        if question.choices_from is not None:
            source = by_id.get(question.choices_from)
            if source is None or source.repeat is None or source.index >= question.index:
                checker.error(f"'{question.choices_from}' is not a question asked in a repeat "
                              "before this one", _line(raw_question, "choices_from"),
                              question=question.id, field="choices_from")
        constraint_scope: dict[str, Question | None] = {**earlier, question.id: question}
        _check_references(checker, question.constraint, "constraint", question, raw_question,
                          constraint_scope, all_ids)
    _check_reachability(checker, questions, raw_questions, by_id)
    if questions and not any(q.asks for q in questions):
        checker.error("the survey has only notes: nothing to answer", _line(data, "questions"),
                      field="questions")

    fallbacks = bot_languages(checker, data.get("bot_language"), checker.languages,
                              _line(data, "bot_language"))
    if any(p.severity == "error" for p in checker.problems):
        return None, checker.problems
    assert title and introduction and notice and details
    survey = Survey(
        id=survey_id, version=str(version), default_language=checker.default,
        languages=checker.languages, title=title, introduction=introduction,
        consent_notice=notice, consent_details=details, closing=closing,
        questions=tuple(questions), fingerprint=hashlib.sha256(raw).hexdigest()[:8],
        by_id=by_id, bot_language=fallbacks, repeats=tuple(repeats),
    )
    return survey, checker.problems


def bot_languages(checker: _Checker, raw: object, languages: Sequence[str],
                  line: int | None) -> dict[str, str]:
    """``bot_language``: for survey languages the bot has no words in, the language its
    own words (consent buttons, hints, errors) are shown in instead."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        checker.error("expected a map of survey language → a language the bot speaks "
                      "(e.g. {ha: fr, sw: en})", line, field="bot_language")
        return {}
    shipped = shipped_languages()
    chosen: dict[str, str] = {}
    for language, fallback in raw.items():
        if str(language) not in languages:
            checker.error(f"'{language}' is not one of the survey's languages", line,
                          field="bot_language")
        elif str(fallback) not in shipped:
            checker.error(f"the bot has no words in '{fallback}'; it speaks "
                          f"{', '.join(shipped)}", line, field="bot_language")
        else:
            chosen[str(language)] = str(fallback)
    return chosen


_COMPARED = re.compile(r"\$\{([A-Za-z_][\w.\-]*)\}\s*=\s*(['\"])(.*?)\2")
_SELECTED = re.compile(
    r"selected\(\s*\$\{([A-Za-z_][\w.\-]*)\}\s*,\s*(['\"])(.*?)\2\s*\)")
_SOME_DAY = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)


def _check_reachability(
    checker: _Checker, questions: list[Question], raw_questions: list[Any],
    by_id: Mapping[str, Question],
) -> None:
    """Warn about conditions that can never be true, and so questions never asked."""
    raw = dict(zip([q.id for q in questions], _matching(raw_questions, by_id), strict=True))
    for question in questions:
        expression = question.relevant
        if expression is None:
            continue
        line = _line(raw[question.id], "relevant")
        if not expression.references:
            try:
                constant = expression.is_true(Env(now=_SOME_DAY))
            except ExpressionError:
                constant = True
            if not constant:
                checker.warn("never asked: its condition is always false", line,
                             question=question.id, field="relevant")
            continue
        for pattern in (_COMPARED, _SELECTED):
            for match in pattern.finditer(expression.source):
                name, literal = match.group(1), match.group(3).strip()
                target = by_id.get(name)
                if target is None or target.type not in CHOICE_TYPES or target.sort_choices:
                    continue
                if literal not in target.choice_index:
                    checker.warn(f"compares '{name}' with '{literal}', which is not one of its "
                                 "choices (that part can never be true)", line,
                                 question=question.id, field="relevant")


def _matching(raw_questions: list[Any], by_id: Mapping[str, Question]) -> list[Mapping[str, Any]]:
    """The raw maps of the questions that were built, in order (first of each id)."""
    matched: list[Mapping[str, Any]] = []
    taken: set[str] = set()
    for item in raw_questions:
        if isinstance(item, Mapping):
            qid = item.get("id")
            if isinstance(qid, str) and qid in by_id and qid not in taken:
                taken.add(qid)
                matched.append(item)
    return matched


def check_survey(path: Path) -> tuple[Survey | None, list[Problem]]:
    """The survey (``None`` when it has errors) and every problem found in the file.

    ``.xlsx``, ``.xlsm``, ``.xls`` and ``.md`` files are XLSForms
    (:mod:`bot.survey.xlsform`); anything else is read as YAML, unless it is no
    survey at all (a CSV, a PDF, an empty or binary file, plain text), which is
    said in one problem.
    """
    if path.suffix.lower() in XLSFORM_SUFFIXES:
        return check_xlsform(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return None, [Problem("error", f"cannot read the file: {exc.strerror}", str(path))]
    what = kind_of_content(raw)
    if what is None and path.suffix.lower() in _TABLES:
        what = f"it is {_TABLES[path.suffix.lower()]}"
    if what is not None:
        return None, [Problem("error", not_a_survey(what), str(path))]
    return _build(path, raw)


def load_survey(path: Path = BUILTIN_SURVEY) -> tuple[Survey, list[Problem]]:
    """The survey and its warnings; raises :class:`SurveyInvalid` on any error."""
    survey, problems = check_survey(path)
    if survey is None:
        raise SurveyInvalid(path, problems)
    return survey, problems
