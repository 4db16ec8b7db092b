"""XLSForms (KoboToolbox, ODK) read into a :class:`~bot.survey.model.Survey`.

pyxform reads the form (``.xlsx``, ``.xls``, or the markdown tables of its own
examples, ``.md``) and turns it into its JSON representation; this module maps
that onto the model and says up front, with sheet, row and question, what
cannot run on Telegram:

- refused (errors): repeats and loops; selects whose choices live in a file
  that is not next to the form; required questions of a type the bot cannot
  collect (barcode, geotrace, geoshape, rank, …); anything such an item is
  referred to by;
- skipped (warnings): optional items the bot cannot collect that nothing
  refers to, device metadata (deviceid, username, audit, …), media on labels;
- turned into calculations the bot fills: ``start``, ``end`` (moved last, so
  that it is the time the survey ends) and ``today``.

pyxform's JSON has no row numbers: each element is matched with its row in
the sheets as pyxform read them (by name, in order), so that every problem
names its row (the header is row 1, as in a spreadsheet; in a markdown form
the rows of the sheet's table, empty ones not counted, as pyxform counts them).

Languages: a column such as ``label::English (en)`` gives its language as the
code in parentheses; without one, the name itself may be a code (``label::en``,
``label::eng``) or a language name in English or in the language itself
(``label::French``, ``label::العربية``), as babel (CLDR) knows them. Columns
that mean the same language are merged. The unsuffixed columns (``label``)
hold the default language's texts: ``default_language`` from the settings
sheet, else the only other language of the form, else English.

An error from pyxform itself is reported as pyxform words it, and nothing more
is checked in that file.
"""

from __future__ import annotations

import csv
import datetime
import functools
import hashlib
import re
import warnings
from collections import Counter, defaultdict, deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError, localedata
from babel.core import get_global

from bot.survey.expressions import Expression, ExpressionError, parse
from bot.survey.loader import XLSFORM_SUFFIXES, Problem
from bot.survey.model import (
    CHOICE_TYPES,
    MEDIA_TYPES,
    SILENT_TYPES,
    Choice,
    Question,
    QuestionType,
    Survey,
    Translated,
)

__all__ = ["XLSFORM_SUFFIXES", "check_xlsform", "language_code"]

SURVEY = "survey"
CHOICES = "choices"
SETTINGS = "settings"
EXTERNAL_CHOICES = "external_choices"
DEFAULT = "default"  # pyxform's language key for the unsuffixed columns
MAX_SCALE_POINTS = 11

Element = Mapping[str, Any]

_NAME = re.compile(r"^[^\W\d][\w.\-]*$")
_REFERENCE = re.compile(r"\$\{([^}]*)\}")
_GENERATED_NOTE = re.compile(r"^generated_note_name_(\d+)$")
_END_CONTROL = re.compile(r"^end[ _]?(group|repeat|loop)$", re.IGNORECASE)
_SEARCH = re.compile(r"search\s*\((.*)\)", re.IGNORECASE | re.DOTALL)
_QUOTED = re.compile(r"""^\s*(['"])(.*)\1\s*$""", re.DOTALL)
_TYPOGRAPHIC_QUOTES = frozenset("‘’“”")
_RAW_COLUMNS = {
    "relevant": ("relevant", "relevance"),
    "calculation": ("calculation", "calculate"),
    "read_only": ("read_only", "readonly"),
}

_YES = frozenset({"yes", "true", "true()", "1"})
_NO = frozenset({"no", "false", "false()", "0", ""})

# --- question types ---------------------------------------------------------------------

_CLOCKS = {
    "start": "now()", "start time": "now()", "get start time": "now()",
    "end": "now()", "end time": "now()", "get end time": "now()",
    "today": "today()", "get today": "today()",
}  # fmt: skip
_ENDS = frozenset({"end", "end time", "get end time"})
_METADATA = frozenset({
    "deviceid", "device id", "get device id", "imei", "uri:deviceid",
    "subscriberid", "subscriber id", "get subscriber id", "uri:subscriberid",
    "simserial", "sim id", "get sim id", "uri:simserial",
    "phonenumber", "get phone number", "uri:phonenumber",
    "username", "uri:username", "email", "uri:email",
    "audit", "start-geopoint", "background-geopoint", "background-audio",
})  # fmt: skip
_EXTERNAL_DATA = frozenset({"xml-external", "csv-external"})
_NOTES = frozenset({"note", "q note", "add note prompt"})
_CALCULATES = frozenset({"calculate", "q calculate", "add calculate prompt"})
_BY_BIND_TYPE = {
    "string": QuestionType.TEXT,
    "int": QuestionType.INTEGER,
    "decimal": QuestionType.DECIMAL,
    "date": QuestionType.DATE,
    "time": QuestionType.TIME,
    "dateTime": QuestionType.DATETIME,
    "geopoint": QuestionType.LOCATION,
}
_BY_MEDIA_TYPE = {
    "image": QuestionType.PHOTO,
    "audio": QuestionType.AUDIO,
    "video": QuestionType.VIDEO,
    "application": QuestionType.FILE,
}


@dataclass(frozen=True, slots=True)
class _Kind:
    """What an element of the form becomes."""

    what: str  # "ask", "clock", "metadata", "external_data", "unsupported", "range", "external"
    type: QuestionType | None = None
    clock: str = ""


def _kind(json_type: str) -> _Kind:
    from pyxform.question_type_dictionary import (  # type: ignore[import-untyped]
        QUESTION_TYPE_DICT,
    )

    if json_type in _CLOCKS:
        return _Kind("clock", QuestionType.CALCULATE, _CLOCKS[json_type])
    if json_type in _METADATA:
        return _Kind("metadata")
    if json_type in _EXTERNAL_DATA:
        return _Kind("external_data")
    if json_type in _NOTES:
        return _Kind("ask", QuestionType.NOTE)
    if json_type in _CALCULATES:
        return _Kind("ask", QuestionType.CALCULATE)
    if json_type == "select one external":
        return _Kind("external", QuestionType.SELECT_ONE)
    spec = QUESTION_TYPE_DICT.get(json_type)
    if not isinstance(spec, Mapping):
        return _Kind("unsupported")
    control = spec.get("control") or {}
    bind = spec.get("bind") or {}
    tag = control.get("tag")
    if tag == "select1":
        return _Kind("ask", QuestionType.SELECT_ONE)
    if tag == "select":
        return _Kind("ask", QuestionType.SELECT_MULTIPLE)
    if tag == "trigger":
        return _Kind("ask", QuestionType.ACKNOWLEDGE)
    if tag == "range":
        return _Kind("range")
    if tag == "upload":
        media = str(control.get("mediatype", "")).split("/")[0]
        if media in _BY_MEDIA_TYPE:
            return _Kind("ask", _BY_MEDIA_TYPE[media])
        return _Kind("unsupported")
    if tag == "input" and bind.get("type") in _BY_BIND_TYPE:
        return _Kind("ask", _BY_BIND_TYPE[bind["type"]])
    return _Kind("unsupported")


# --- languages --------------------------------------------------------------------------

_PARENTHESES = re.compile(r"^(.*?)\s*\(\s*([^()]*?)\s*\)$")
_CODE = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*$")


@functools.cache
def _aliases() -> Mapping[str, str]:
    aliases: Mapping[str, str] = get_global("language_aliases")
    return aliases


def _as_code(text: str) -> str | None:
    """The babel code a code stands for: ``en`` and ``eng`` → ``en``, ``pt-BR`` → ``pt_BR``."""
    if not _CODE.fullmatch(text):
        return None
    language, *rest = re.split(r"[-_]", text)
    subtags = [
        part.title() if len(part) == 4 else part.upper() if len(part) <= 3 else part
        for part in rest
    ]
    for candidate in (language.lower(), _aliases().get(language.lower())):
        if candidate is None:
            continue
        identifier = "_".join([candidate, *subtags])
        if localedata.exists(identifier):
            return identifier
    return None


@functools.cache
def _english_names() -> Mapping[str, str]:
    table: dict[str, str] = {}
    for code, name in Locale("en").languages.items():
        key = name.casefold()
        if localedata.exists(code) and (key not in table or len(code) < len(table[key])):
            table[key] = code
    return table


@functools.cache
def _own_names() -> Mapping[str, str]:
    """Each language's own name (``العربية`` → ``ar``), read once from every locale."""
    table: dict[str, str] = {}
    for code in localedata.locale_identifiers():
        if "_" in code:
            continue
        try:
            name = Locale.parse(code).languages.get(code)
        except (ValueError, UnknownLocaleError):
            continue
        if name:
            table.setdefault(name.casefold(), code)
    return table


@functools.cache
def language_code(name: str) -> str | None:
    """The language code an XLSForm language name stands for, or ``None``.

    The code in parentheses first (``English (en)``), then the name as a code
    (``en``, ``eng``, ``pt-BR``), then the name in English (``English``) or in
    the language itself (``العربية``, ``Français``).
    """
    text = " ".join(name.split())
    match = _PARENTHESES.match(text)
    if match:
        inside = match.group(2)
        code = _as_code(inside)
        if code:
            return code
        if _CODE.fullmatch(inside) and len(inside.split("-")[0].split("_")[0]) == 3:
            # a language babel does not know (Acoli (ach), Dinka (din)): the code is kept
            return inside.lower().replace("-", "_")
        text = match.group(1)
    if not text:
        return None
    key = text.casefold()
    return _as_code(text) or _english_names().get(key) or _own_names().get(key)


def _language_label(code: str) -> str:
    try:
        name = Locale.parse(code).get_display_name("en")
    except (ValueError, UnknownLocaleError):
        name = None
    return f"{name} ({code})" if name else code


# --- reading with pyxform ---------------------------------------------------------------


@dataclass(slots=True)
class _Read:
    """What pyxform gives: the sheets as read, and the form as JSON."""

    sheets: Mapping[str, Sequence[Mapping[str, Any]]]
    headers: Mapping[str, Sequence[str]]
    form: Element


def _read(path: Path) -> _Read | str:
    """pyxform's reading of the form, or its error message."""
    try:
        from pyxform.builder import create_survey_element_from_dict  # type: ignore[import-untyped]
        from pyxform.errors import PyXFormError  # type: ignore[import-untyped]
        from pyxform.xls2json import workbook_to_json  # type: ignore[import-untyped]
        from pyxform.xls2json_backends import get_xlsform  # type: ignore[import-untyped]
    except ImportError as exc:  # pragma: no cover - pyxform is a dependency
        return f"pyxform is not installed: {exc}"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl's remarks on styles and the like
            definition = get_xlsform(xlsform=str(path))
            sheets: dict[str, Sequence[Mapping[str, Any]]] = {}
            headers: dict[str, Sequence[str]] = {}
            for sheet in (SURVEY, CHOICES, SETTINGS, EXTERNAL_CHOICES):
                rows = getattr(definition, sheet, None) or []
                header = getattr(definition, f"{sheet}_header", None) or [{}]
                sheets[sheet] = [dict(row) for row in rows]
                headers[sheet] = [str(h) for h in header[0]] if header else []
            form = workbook_to_json(
                workbook_dict=definition,
                form_name="data",
                fallback_form_name=definition.fallback_form_name,
                default_language=DEFAULT,
                warnings=[],
            )
            create_survey_element_from_dict(form)  # pyxform's own further checks
    except PyXFormError as exc:
        return str(exc).strip() or type(exc).__name__
    except Exception as exc:  # noqa: BLE001 - a bad form must never give a traceback
        return f"pyxform cannot read the form: {type(exc).__name__}: {exc}"
    return _Read(sheets, headers, form)


@functools.lru_cache(maxsize=4096)  # a form has few distinct headers, met on every row
def _snake(header: str) -> str:
    return re.sub(r"[\s\-]+", "_", header.strip().lower())


def _column(row: Mapping[str, Any], *names: str) -> str:
    for key, value in row.items():
        if _snake(str(key)) in names and value is not None:
            return str(value).strip()
    return ""


class _Rows:
    """Rows of a sheet by name, handed out in order as the JSON elements are met."""

    def __init__(self, rows: Sequence[Mapping[str, Any]], *, key: tuple[str, ...]) -> None:
        self.free: dict[tuple[str, ...], deque[int]] = defaultdict(deque)
        self.raw: dict[int, Mapping[str, Any]] = {}
        for index, row in enumerate(rows):
            number = index + 2
            self.raw[number] = row
            kind = _column(row, "type", "command")
            if _END_CONTROL.match(kind) or _column(row, "disabled").lower() in _YES:
                continue
            values = tuple(_column(row, *names.split("|")) for names in key)
            if all(values):
                self.free[values].append(number)

    def take(self, *values: str) -> int | None:
        rows = self.free.get(values)
        return rows.popleft() if rows else None


# --- the pieces of a form ---------------------------------------------------------------


@dataclass(slots=True)
class _Group:
    name: str
    row: int
    relevant: Expression | None
    start: int | None = None  # index of its first question


@dataclass(slots=True)
class _Item:
    element: Element
    row: int
    raw_type: str
    groups: tuple[_Group, ...]
    raw: Mapping[str, Any] | None  # its row as read, None for what pyxform made (or_other)
    or_other: bool = False  # the "specify other" question or_other makes


@dataclass(slots=True)
class _Known:
    """A name of the form: a question, or an item left out (and why)."""

    row: int
    question: Question | None = None
    reason: str = ""  # for items left out: what they are
    refused: bool = False
    inside_repeat: bool = False  # a question elsewhere may use the same name
    referrers: list[tuple[str, int]] = field(default_factory=list)
    problem: Problem | None = None  # the warning that says it is skipped


@dataclass(slots=True)
class _Checks:
    """Expressions and texts of one question, checked once every name is known."""

    question: Question
    row: int
    expressions: list[tuple[str, Expression]]
    texts: list[tuple[str, str, str]]  # (field, language, text)


_GAP_KINDS = ("label", "hint", "constraint_message", "required_message", "choice label")
_GAP_WORDS = {
    "label": ("label", "labels"),
    "hint": ("hint", "hints"),
    "constraint_message": ("constraint message", "constraint messages"),
    "required_message": ("required message", "required messages"),
    "choice label": ("choice label", "choice labels"),
}
_LEGACY = {
    "label": ("label", "caption"),
    "hint": ("hint",),
    "constraint_message": ("constraint_message", "constraining_message", "jr:constraintMsg"),
    "required_message": ("required_message", "requiredmsg", "jr:requiredMsg"),
}
_BIND_TEXTS = {"constraint_message": "jr:constraintMsg", "required_message": "jr:requiredMsg"}
_MEDIA_KINDS = ("image", "big-image", "audio", "video")
_TRANSLATABLE_COLUMNS = frozenset({
    "label", "caption", "hint", "guidance_hint", "constraint_message", "constraining_message",
    "required_message", "requiredmsg", "jr:constraintmsg", "jr:requiredmsg", "media",
    "image", "big_image", "audio", "video",
})  # fmt: skip


def _header_language(header: str, double_colon: bool) -> str | None:
    """The language part of a translatable column's header (``label::English (en)`` → …)."""
    header = " ".join(header.split())
    if double_colon or "::" in header:
        tokens = [t.strip() for t in header.split("::")]
        if len(tokens) == 1 and ":" in header:
            tokens = [t.strip() for t in header.split(":")]
    else:
        tokens = [t.strip() for t in header.split(":")]
        if "jr" in tokens:
            at = tokens.index("jr")
            tokens[at : at + 2] = [f"jr:{tokens[at + 1]}" if at + 1 < len(tokens) else "jr"]
    if _snake(tokens[0]) == "media":
        tokens = tokens[1:]
    if len(tokens) >= 2 and _snake(tokens[0]) in _TRANSLATABLE_COLUMNS and tokens[-1]:
        return tokens[-1]
    return None


def _walk_texts(element: Element) -> Iterator[Mapping[str, Any] | str]:
    """Every translatable value of a JSON element and of its choices and children."""
    for key in ("label", "hint"):
        if key in element:
            yield element[key]
    bind = element.get("bind")
    if isinstance(bind, Mapping):
        for key in _BIND_TEXTS.values():
            if key in bind:
                yield bind[key]
    media = element.get("media")
    if isinstance(media, Mapping):
        yield from media.values()
    for key, value in element.items():
        language = _legacy_language(key)
        if language is not None and isinstance(value, str):
            yield {language: value}
    for child in (*element.get("choices", ()), *element.get("children", ())):
        if isinstance(child, Mapping):
            yield from _walk_texts(child)
    choices = element.get("choices")
    if isinstance(choices, Mapping):  # the survey's own list of lists
        for options in choices.values():
            for option in options:
                if isinstance(option, Mapping):
                    yield from _walk_texts(option)


@functools.lru_cache(maxsize=4096)
def _legacy_language(key: str) -> str | None:
    """The language of a single-colon column pyxform left as it was (``label:English``)."""
    for names in (*_LEGACY.values(), _MEDIA_KINDS):
        for name in names:
            if key.startswith(name + ":") and len(key) > len(name) + 1:
                return key[len(name) + 1 :].strip()
    return None


def _choice_name_problem(choice_id: str, multiple: bool) -> str | None:
    """Why a choice name cannot be used, if it cannot."""
    if not choice_id:
        return "a choice needs a name"
    if multiple and any(c.isspace() for c in choice_id):
        return ("a choice of a select_multiple cannot have a space in its name (the answers "
                "are stored separated by spaces)")
    return None


def _lower_kind(key: object) -> str:
    """``NAME`` → ``name``, ``Label::English (en)`` → ``label::English (en)``."""
    kind, sep, rest = str(key).partition("::")
    return _snake(kind) + sep + rest


def _plain(value: Any) -> str:
    return "" if value is None else str(value).strip()


# --- the importer -----------------------------------------------------------------------


class _Importer:
    def __init__(self, path: Path, read: _Read) -> None:
        self.path = path
        self.file = str(path)
        self.read = read
        self.form = read.form
        self.problems: list[Problem] = []
        self.default = "en"
        self.languages: tuple[str, ...] = ()
        self.codes: dict[str, str | None] = {}  # language key in pyxform's JSON → code
        self.survey_rows = _Rows(read.sheets[SURVEY], key=("name|value|tag",))
        self.choice_rows = _Rows(read.sheets[CHOICES], key=("list_name|list name", "name|value"))
        self.list_rows: dict[str, list[int | None]] = {}
        self.known: dict[str, _Known] = {}
        self.questions: list[Question] = []
        self.checks: list[_Checks] = []
        self.groups: list[_Group] = []
        self.gaps: dict[str, Counter[str]] = defaultdict(Counter)
        self.first_gap: dict[str, tuple[str, int]] = {}
        self.counted_lists: set[str] = set()
        self.reported_choices: set[tuple[str, int]] = set()
        self.reported_names: set[tuple[str, int, bool]] = set()
        self.entities_noted = False
        self.reported_lists: set[str] = set()
        self.reported_media: set[str] = set()

    # --- reporting

    def error(self, message: str, row: int | None = None, sheet: str | None = SURVEY,
              **where: str | None) -> Problem:
        problem = Problem("error", message, self.file, row, sheet=sheet, **where)
        self.problems.append(problem)
        return problem

    def warn(self, message: str, row: int | None = None, sheet: str | None = SURVEY,
             **where: str | None) -> Problem:
        problem = Problem("warning", message, self.file, row, sheet=sheet, **where)
        self.problems.append(problem)
        return problem

    # --- languages

    def resolve_languages(self) -> None:
        keys: list[str] = []
        for value in _walk_texts(self.form):
            for key in map(str, value) if isinstance(value, Mapping) else [DEFAULT]:
                if key not in keys:
                    keys.append(key)
        columns = self.language_columns()
        order = {name: i for i, name in enumerate(columns)}
        keys.sort(key=lambda k: order.get(" ".join(k.split()), len(order)))

        stated = _plain(self.form.get("default_language"))
        stated = "" if stated == DEFAULT else stated
        for key in keys:
            if key == DEFAULT or key == stated:
                continue
            code = language_code(key)
            self.codes[key] = code
            if code is not None and not localedata.exists(code):
                self.warn(f"language '{key}': the code '{code}' has no name in the bot's "
                          "language data: participants see the code itself in the language "
                          "menu", 1, SURVEY)
            if code is None:
                found = columns.get(" ".join(key.split())) or [(SURVEY, key)]
                for sheet, header in found:
                    self.error(f"'{key}' is not a language I can identify: write the column as "
                               f"'{header.split(':')[0]}::{key} (code)' with its language code, "
                               "e.g. 'label::English (en)'", 1, sheet, field=header)
        others: list[str] = []
        for key in keys:
            code = self.codes.get(key)
            if code and code not in others:
                others.append(code)
        unsuffixed = any(  # generated texts (or_other's) do not count
            ":" not in header and _snake(header) in _TRANSLATABLE_COLUMNS
            for sheet in (SURVEY, CHOICES) for header in self.read.headers.get(sheet, []))
        has_default_texts = (DEFAULT in keys and unsuffixed) or (stated != "" and stated in keys)

        default = language_code(stated) if stated else None
        if default is None:
            why = (f"default_language '{stated}' is not a language I can identify" if stated
                   else "no default_language")
            if has_default_texts and not others:
                default = "en"
                self.warn(f"{why}: the form's texts are taken to be in "
                          f"{_language_label(default)}; say which language they are in with "
                          "default_language in the settings sheet", None, SETTINGS,
                          field="default_language")
            elif has_default_texts:
                default = others[0] if len(others) == 1 else "en"
                self.warn(f"{why}: the columns without a language (label, hint, …) are taken "
                          f"to be {_language_label(default)}"
                          + (", the form's only other language" if len(others) == 1 else "")
                          + "; say so with default_language in the settings sheet",
                          None, SETTINGS, field="default_language")
            else:
                default = "en" if "en" in others or not others else others[0]
                self.warn(f"{why}: {_language_label(default)} is taken as the default language "
                          "(its texts fill the gaps of the others)", None, SETTINGS,
                          field="default_language")
        self.default = default
        self.codes[DEFAULT] = default
        if stated:
            self.codes[stated] = default

        merged: dict[str, list[str]] = defaultdict(list)
        for key in keys:
            code = self.codes.get(key)
            if code:
                merged[code].append(key)
        for code, names in merged.items():
            named = [n for n in names if n != DEFAULT]
            if len(named) > 1:
                listed = ", ".join(f"'{n}'" for n in named[:-1]) + f" and '{named[-1]}'"
                self.warn(f"the columns for {listed} are the same language, "
                          f"{_language_label(code)}: their texts are merged (where both have "
                          "one, the first column's is used)", None, None, language=code)
        self.languages = tuple(dict.fromkeys([default, *others]))

    def language_columns(self) -> dict[str, list[tuple[str, str]]]:
        """Language name → the (sheet, column) where it appears, in column order."""
        found: dict[str, list[tuple[str, str]]] = {}
        for sheet in (SURVEY, CHOICES):
            headers = self.read.headers.get(sheet, [])
            double = any("::" in h for h in headers)
            for header in headers:
                language = _header_language(header, double)
                if language is not None:
                    found.setdefault(language, []).append((sheet, header))
        return found

    def texts(self, value: Any, legacy: Mapping[str, str] | None = None) -> dict[str, str]:
        """A translatable JSON value as code → text (named columns before unsuffixed ones)."""
        pairs: list[tuple[str, Any]] = []
        if isinstance(value, Mapping):
            pairs.extend((str(k), v) for k, v in value.items())
        elif value is not None:
            pairs.append((DEFAULT, value))
        pairs.extend((legacy or {}).items())
        pairs.sort(key=lambda pair: pair[0] == DEFAULT)
        texts: dict[str, str] = {}
        for key, text in pairs:
            code = self.codes.get(key)
            if code and code not in texts and _plain(text):
                texts[code] = _plain(text)
        return texts

    def translated(self, texts: Mapping[str, str]) -> Translated | None:
        if not texts:
            return None
        default = self.default if self.default in texts else next(iter(texts))
        return Translated(dict(texts), default)

    def field_texts(self, element: Element, name: str) -> dict[str, str]:
        legacy = {
            language: _plain(v)
            for key, v in element.items()
            if isinstance(v, str)
            for prefix in _LEGACY[name]
            if key.startswith(prefix + ":")
            and (language := key[len(prefix) + 1 :].strip())
        }
        if name in _BIND_TEXTS:
            bind = element.get("bind") or {}
            return self.texts(bind.get(_BIND_TEXTS[name]), legacy)
        return self.texts(element.get(name), legacy)

    def count_gaps(self, texts: Mapping[str, str], kind: str, sheet: str, row: int) -> None:
        if not texts:
            return
        for language in self.languages:
            if language not in texts:
                self.gaps[language][kind] += 1
                self.first_gap.setdefault(language, (sheet, row))

    def report_gaps(self) -> None:
        for language in self.languages:
            counts = self.gaps.get(language)
            if not counts:
                continue
            parts = []
            for kind in _GAP_KINDS:
                if counts[kind]:
                    one, many = _GAP_WORDS[kind]
                    parts.append(f"{counts[kind]} {one if counts[kind] == 1 else many}")
            sheet, row = self.first_gap[language]
            fallback = (f"; the {_language_label(self.default)} text is shown instead"
                        if language != self.default else "; another language's text is shown")
            self.warn(f"translations missing: {', '.join(parts)} (the first in sheet {sheet}, "
                      f"row {row}){fallback}", None, None, language=language)

    # --- walking the form

    def items(self) -> list[_Item]:
        items: list[_Item] = []
        self.walk(self.form.get("children", ()), (), items, 0)

        def is_end(item: _Item) -> bool:
            return _plain(item.element.get("type")) in _ENDS

        return [i for i in items if not is_end(i)] + [i for i in items if is_end(i)]

    def walk(self, children: Iterable[Element], groups: tuple[_Group, ...],
             items: list[_Item], last_row: int) -> int:
        for element in children:
            if not isinstance(element, Mapping):
                continue
            name = _plain(element.get("name"))
            kind = _plain(element.get("type"))
            row = self.survey_rows.take(name)
            generated = row is None
            if row is None:
                note = _GENERATED_NOTE.match(name)
                generated = note is None
                row = int(note.group(1)) if note else last_row
            raw = self.survey_rows.raw.get(row, {})
            raw_type = _column(raw, "type", "command")
            or_other = generated and "or_other" in raw_type and name.endswith("_other")
            last_row = row
            if kind == "group":
                if generated and name == "meta":
                    last_row = self.walk(element.get("children", ()), groups, items, last_row)
                    continue
                relevant = self.expression(element, "relevant", name, row, raw=raw)
                group = _Group(name, row, relevant)
                self.groups.append(group)
                last_row = self.walk(element.get("children", ()), (*groups, group), items, row)
            elif kind in ("repeat", "loop"):
                self.refuse_repeat(element, name, row)
            elif kind == "entity":  # from the entities sheet: ODK Central's datasets
                if not self.entities_noted:
                    self.warn("ignored: entities update ODK Central datasets, which the bot "
                              "does not use", None, "entities")
                    self.entities_noted = True
            elif generated and (element.get("bind") or {}).get("jr:preload") == "uid":
                # instanceID: pyxform adds it; the bot has its own response ids
                self.known.setdefault(name, _Known(
                    row, reason="is ODK's submission id (the bot has none)",
                    refused=True))
            else:
                items.append(_Item(element, row, raw_type, groups,
                                   None if generated else raw, or_other))
        return last_row

    def refuse_repeat(self, element: Element, name: str, row: int) -> None:
        self.error("repeats are not supported yet", row, question=name)
        self.known[name] = _Known(row, reason=f"is the repeat '{name}'", refused=True)

        def inner(children: Iterable[Element]) -> None:
            for child in children:
                if not isinstance(child, Mapping):
                    continue
                child_name = _plain(child.get("name"))
                child_row = self.survey_rows.take(child_name) or row
                self.known.setdefault(child_name, _Known(
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
        text = _plain(source)
        if not text:
            return None
        try:
            expression = parse(text, allow_bare_names=bare)
        except ExpressionError as exc:
            self.error(str(exc), row, question=question, field=column)
            return None
        cell = _column(raw or {}, *_RAW_COLUMNS.get(column, (column,)))
        if expression.repaired_quotes or _TYPOGRAPHIC_QUOTES.intersection(cell):
            self.warn("typographic quotes read as straight quotes", row, question=question,
                      field=column)
        return expression

    # --- items

    def add(self, item: _Item) -> None:
        element = item.element
        name = _plain(element.get("name"))
        json_type = _plain(element.get("type"))
        shown_type = item.raw_type.split()[0] if item.raw_type else json_type
        row = item.row
        if not _NAME.match(name):
            self.error(f"'{name}' is not a usable name (letters, digits, '_', '.', '-'; "
                       "a letter or '_' first)", row, question=name, field="name")
            return
        known = self.known.get(name)
        if known is not None and known.refused and known.row == row:
            return  # pyxform's companion of a refused item (a repeat's count): refused with it
        if known is not None and not known.inside_repeat:
            # pyxform allows a name again in another group (and refuses ${name} then):
            # flattened, this one is told apart by its group's name
            paths = [f"{item.groups[-1].name}.{name}",
                     ".".join([*(g.name for g in item.groups), name])] if item.groups else []
            qualified = next((p for p in paths if p not in self.known), None)
            if qualified is None:
                self.error(f"the name '{name}' is also used in row {known.row} (names "
                           "must be unique once groups are flattened)", row, question=name,
                           field="name")
                return
            self.warn(f"the name '{name}' is also used in row {known.row}: this question is "
                      f"'{qualified}' in the bot and in exports", row, question=name,
                      field="name")
            name = qualified
        kind = _kind(json_type)
        bind = element.get("bind") or {}
        required_raw = _plain(bind.get("required"))
        required = required_raw.lower() not in _NO

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
                self.known[name] = _Known(row, reason=reason, refused=True)
                self.error(f"{what}, and this one is required", row, question=name,
                           field="required")
            else:
                self.skip(name, row, what, reason)
            return
        self.build(item, name, kind, required_raw)

    def skip(self, name: str, row: int, what: str, reason: str) -> None:
        problem = self.warn(f"skipped: {what}", row, question=name)
        self.known[name] = _Known(row, reason=reason, problem=problem)

    def build(self, item: _Item, name: str, kind: _Kind, required_raw: str) -> None:
        element = item.element
        row = item.row
        bind = element.get("bind") or {}
        index = len(self.questions)
        for group in item.groups:
            if group.start is None:
                group.start = index
        expressions: list[tuple[str, Expression]] = []

        qtype = kind.type or QuestionType.TEXT
        minimum = maximum = None
        if kind.what == "range":
            qtype, minimum, maximum = self.range(element, name, row)

        texts: list[tuple[str, str, str]] = []

        def text_field(column: str) -> Translated | None:
            found = self.field_texts(element, column)
            self.count_gaps(found, column, SURVEY, row)
            texts.extend((column, language, text) for language, text in found.items())
            return self.translated(found)

        label = text_field("label")
        hint = text_field("hint")
        constraint_message = text_field("constraint_message")
        required_message = text_field("required_message")
        if label is None and qtype not in (QuestionType.CALCULATE,) and kind.what != "clock":
            self.warn("no label: the question's name is shown instead", row, question=name,
                      field="label")
        text = label or Translated(
            {} if qtype is QuestionType.CALCULATE else {self.default: name}, self.default)

        required = False
        required_if = None
        lowered = required_raw.lower()
        if lowered in _YES:
            required = True
        elif lowered not in _NO:
            required_if = self.expression(element, "required", name, row, raw=item.raw)
            if required_if is not None:
                expressions.append(("required", required_if))

        relevant = self.expression(element, "relevant", name, row, raw=item.raw)
        if relevant is not None:
            expressions.append(("relevant", relevant))
        constraint = self.expression(element, "constraint", name, row, raw=item.raw)
        if constraint is not None:
            expressions.append(("constraint", constraint))
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
            self.warn("the 'trigger' column is not supported: the value is computed when the "
                      "question is reached", row, question=name, field="trigger")

        read_only = False
        readonly_raw = _plain(bind.get("readonly")).lower()
        if readonly_raw in _YES:
            read_only = qtype is not QuestionType.NOTE
        elif readonly_raw not in _NO:
            if self.expression(element, "read_only", name, row, raw=item.raw) is not None:
                self.warn("read_only given as a condition is not supported: the question is "
                          "asked", row, question=name, field="read_only")

        choices: tuple[Choice, ...] = ()
        if qtype in CHOICE_TYPES:
            choices = self.choices(item, name, kind)

        default = None
        raw_default = _plain(element.get("default"))
        if raw_default and (choices or qtype not in CHOICE_TYPES):
            default = self.default_value(item, name, qtype, raw_default, choices, expressions)

        self.media(element, name, row)
        if item.or_other and len(self.languages) > 1:
            parent = name.removesuffix("_other")
            self.warn(f"or_other adds the choice 'Other' to '{parent}' and this question "
                      "('Specify other.') in English only, whatever the language",
                      row, question=name)

        gate = qtype is QuestionType.NOTE and (required or required_if is not None)
        relevants = [g.relevant for g in item.groups if g.relevant is not None]
        combined = _combine([*relevants, relevant])
        question = Question(
            id=name, type=qtype, text=text, index=index, hint=hint,
            required=required and qtype not in SILENT_TYPES,
            relevant=combined, constraint=constraint, constraint_message=constraint_message,
            choices=choices, minimum=minimum, maximum=maximum,
            required_if=required_if,
            required_message=required_message, choice_filter=choice_filter,
            calculation=calculation, default=default, read_only=read_only, gate=gate,
            source=f"sheet {SURVEY}, row {row}",
            choice_index=_choice_index(choices),
        )
        self.questions.append(question)
        self.known[name] = _Known(row, question=question)
        self.checks.append(_Checks(question, row, expressions, texts))

    def range(self, element: Element, name: str,
              row: int) -> tuple[QuestionType, Decimal | None, Decimal | None]:
        parameters = element.get("parameters") or {}
        values: dict[str, Decimal] = {}
        for key, fallback in (("start", "1"), ("end", "10"), ("step", "1")):
            try:
                values[key] = Decimal(_plain(parameters.get(key)) or fallback)
            except InvalidOperation:
                self.error(f"'{key}' must be a number", row, question=name, field="parameters")
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
                self.warn("a default computed by an expression is not offered (only fixed "
                          "defaults are)", row, question=name, field="default")
            return None
        value = _canonical_default(qtype, raw, choices)
        if value is None:
            self.error(f"default '{raw}' is not a possible answer to a {qtype.value} question",
                       row, question=name, field="default")
        return value

    def media(self, element: Element, name: str, row: int) -> None:
        files = _media_files(element)
        if not files:
            return
        missing = [f for f in files if not (self.path.parent / f).is_file()]
        listed = ", ".join(f"'{f}'" for f in files)
        if missing:
            self.warn(f"skipped: the media on its label ({listed}) are not next to the form",
                      row, question=name, field="media")
        else:
            self.warn(f"skipped: the bot does not show media on labels yet ({listed})", row,
                      question=name, field="media")

    # --- choices

    def choices(self, item: _Item, name: str, kind: _Kind) -> tuple[Choice, ...]:
        element = item.element
        row = item.row
        list_name = _plain(element.get("list_name") or element.get("itemset"))
        appearance = _plain((element.get("control") or {}).get("appearance"))
        search = _SEARCH.search(appearance)
        if search:
            return self.search_choices(element, name, row, search.group(1))
        multiple = kind.type is QuestionType.SELECT_MULTIPLE
        if kind.what == "external":
            return self.external_choices(name, row, list_name, multiple)
        options = element.get("choices")
        if options is None:  # with randomize=true pyxform gives only the list's name
            options = (self.form.get("choices") or {}).get(list_name)
        if options is None:
            itemset = _plain(element.get("itemset"))
            if "." in itemset:
                return self.file_choices(element, name, row, itemset, multiple)
            self.error(f"no choices for the list '{list_name}'", row, question=name)
            return ()
        rows = self.rows_of_list(list_name)
        choices: list[Choice] = []
        for position, option in enumerate(options):
            if not isinstance(option, Mapping):
                continue
            choice_row = rows[position] if position < len(rows) else None
            choice = self.choice(option, list_name, choice_row, name, row, multiple)
            if choice is not None:
                choices.append(choice)
        self.counted_lists.add(list_name)
        self.check_duplicates(choices, list_name, rows, name, row)
        self.choice_media(options, list_name, rows, row)
        return tuple(choices)

    def choice_media(self, options: Sequence[Any], list_name: str,
                     rows: Sequence[int | None], question_row: int) -> None:
        if list_name in self.reported_media:
            return
        self.reported_media.add(list_name)
        files: list[str] = []
        first: int | None = None
        for position, option in enumerate(options):
            found = _media_files(option) if isinstance(option, Mapping) else []
            if found and first is None:
                first = rows[position] if position < len(rows) else None
            files.extend(f for f in found if f not in files)
        if not files:
            return
        missing = [f for f in files if not (self.path.parent / f).is_file()]
        shown = ", ".join(f"'{f}'" for f in files[:3]) + (", …" if len(files) > 3 else "")
        why = (f"{len(missing)} of them are not next to the form" if missing
               else "the bot does not show media on labels yet")
        self.warn(f"skipped: the media of the choices of the list '{list_name}' ({shown}): "
                  f"{why}", first or question_row, CHOICES if first else SURVEY, field="media")

    def rows_of_list(self, list_name: str) -> list[int | None]:
        if list_name not in self.list_rows:
            options = (self.form.get("choices") or {}).get(list_name) or ()
            self.list_rows[list_name] = [
                self.choice_rows.take(list_name, _plain(o.get("name")))
                for o in options if isinstance(o, Mapping)
            ]
        return self.list_rows[list_name]

    def choice(self, option: Mapping[str, Any], list_name: str, choice_row: int | None,
               question: str, question_row: int, multiple: bool) -> Choice | None:
        choice_id = _plain(option.get("name"))
        sheet, row = (CHOICES, choice_row) if choice_row else (SURVEY, question_row)
        first_time = (list_name, row) not in self.reported_choices
        self.reported_choices.add((list_name, row))
        problem = _choice_name_problem(choice_id, multiple)
        if problem:
            if (list_name, row, multiple) not in self.reported_names:
                self.reported_names.add((list_name, row, multiple))
                self.error(f"choice '{choice_id}' of the list '{list_name}': {problem}",
                           row, sheet, question=question)
            return None
        texts = self.field_texts(option, "label")
        if list_name not in self.counted_lists:
            self.count_gaps(texts, "choice label", sheet, row)
        if not texts and first_time:
            self.warn(f"choice '{choice_id}' of the list '{list_name}' has no label: its name "
                      "is shown instead", row, sheet)
        label = self.translated(texts) or Translated({self.default: choice_id}, self.default)
        columns = {
            str(key): _plain(value)
            for key, value in option.items()
            if key not in ("name", "label", "media", "__row")
            and _legacy_language(str(key)) is None
            and isinstance(value, str | int | float)
        }
        return Choice(choice_id, label, columns)

    def check_duplicates(self, choices: Sequence[Choice], list_name: str,
                         rows: Sequence[int | None], question: str, question_row: int) -> None:
        if list_name in self.reported_lists:
            return
        self.reported_lists.add(list_name)
        seen: dict[str, int] = {}
        for position, choice in enumerate(choices):
            if choice.id in seen:
                row = rows[position] if position < len(rows) else None
                first = rows[seen[choice.id]] if seen[choice.id] < len(rows) else None
                self.warn(f"the list '{list_name}' has the choice '{choice.id}' twice (rows "
                          f"{first} and {row}): both store the answer '{choice.id}'",
                          row or question_row, CHOICES if row else SURVEY, question=question)
            else:
                seen[choice.id] = position

    def rows_choices(self, rows: Sequence[Mapping[str, Any]], name_column: str,
                     label_column: str | None, where: str, sheet: str | None, question: str,
                     first_row: int, multiple: bool) -> tuple[Choice, ...]:
        """Choices from plain rows (external_choices sheet, a CSV file)."""
        choices: list[Choice] = []
        double = any("::" in str(k) for r in rows[:1] for k in r)
        for offset, raw in enumerate(rows):
            row = first_row + offset
            choice_id = _plain(raw.get(name_column))
            if not choice_id:
                continue
            problem = _choice_name_problem(choice_id, multiple)
            if problem:
                self.error(f"choice '{choice_id}' in {where}: {problem}", row, sheet,
                           question=question)
                continue
            texts: dict[str, str] = {}
            columns: dict[str, str] = {}
            for key, value in raw.items():
                key = str(key)
                if key == name_column:
                    continue
                if label_column is not None:
                    if key == label_column and _plain(value):
                        texts[self.default] = _plain(value)
                        continue
                else:
                    language = _header_language(key, double)
                    if _snake(key) in ("label", "caption"):
                        language = DEFAULT
                    if language is not None:
                        code = self.codes.get(language) or language_code(language)
                        if code and code not in texts and _plain(value):
                            texts[code] = _plain(value)
                        continue
                columns[key] = _plain(value)
            label = self.translated(texts) or Translated({self.default: choice_id},
                                                         self.default)
            choices.append(Choice(choice_id, label, columns))
        if not choices:
            self.error(f"no choices in {where}", None if sheet is None else first_row - 1,
                       sheet, question=question)
        return tuple(choices)

    def external_choices(self, name: str, row: int, list_name: str,
                         multiple: bool) -> tuple[Choice, ...]:
        rows = self.read.sheets.get(EXTERNAL_CHOICES) or []
        picked = [(i + 2, r) for i, r in enumerate(rows)
                  if _column(r, "list_name", "list name") == list_name]
        if picked:
            # pyxform leaves this sheet's headers as written (NAME, Label::English (en))
            mine = [{_lower_kind(k): v for k, v in r.items() if _snake(str(k)) != "list_name"}
                    for _, r in picked]
            return self.rows_choices(mine, "name", None, f"the list '{list_name}' of the "
                                     "external_choices sheet", EXTERNAL_CHOICES, name,
                                     picked[0][0], multiple)
        itemsets = self.path.parent / "itemsets.csv"
        if itemsets.is_file():
            loaded = self.csv_rows(itemsets, name, row)
            if loaded is None:
                return ()
            mine = [r for r in loaded if _plain(r.get("list_name")) == list_name]
            return self.rows_choices(mine, "name", None, f"the list '{list_name}' of "
                                     "itemsets.csv", None, name, 2, multiple)
        self.error(f"the choices of the list '{list_name}' are external: neither an "
                   "external_choices sheet nor itemsets.csv next to the form has them", row,
                   question=name)
        return ()

    def file_choices(self, element: Element, name: str, row: int,
                     itemset: str, multiple: bool) -> tuple[Choice, ...]:
        source = self.path.parent / itemset
        if not source.is_file():
            self.error(f"the choices come from '{itemset}', which is not next to the form",
                       row, question=name, field="type")
            return ()
        if source.suffix.lower() != ".csv":
            self.error(f"choices from '{itemset}': only CSV files are supported", row,
                       question=name, field="type")
            return ()
        rows = self.csv_rows(source, name, row)
        if rows is None:
            return ()
        parameters = element.get("parameters") or {}
        name_column = _plain(parameters.get("value")) or "name"
        label_column = _plain(parameters.get("label")) or None
        return self.rows_choices(rows, name_column, label_column, f"'{itemset}'", None, name, 2,
                                 multiple)

    def search_choices(self, element: Element, name: str, row: int,
                       arguments: str) -> tuple[Choice, ...]:
        first = arguments.split(",")[0]
        quoted = _QUOTED.match(first)
        filename = (quoted.group(2) if quoted else first).strip()
        if not filename:
            self.error("search() names no file", row, question=name, field="appearance")
            return ()
        if not filename.lower().endswith(".csv"):
            filename += ".csv"
        if not (self.path.parent / filename).is_file():
            self.error(f"the choices come from '{filename}' (search() appearance), which is "
                       "not next to the form", row, question=name, field="appearance")
        else:
            self.error(f"search() appearances are not supported yet: choices from "
                       f"'{filename}' can be given with select_one_from_file", row,
                       question=name, field="appearance")
        return ()

    def csv_rows(self, source: Path, name: str, row: int) -> list[dict[str, str]] | None:
        try:
            with source.open(encoding="utf-8-sig", newline="") as handle:
                return [dict(r) for r in csv.DictReader(handle)]
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            self.error(f"cannot read '{source.name}': {exc}", row, question=name)
            return None

    # --- after every question is known

    def check_references(self) -> None:
        for group in self.groups:
            if group.relevant is None:
                continue
            start = len(self.questions) if group.start is None else group.start
            self.check_expression(group.name, group.row, "relevant", group.relevant, start,
                                  own=None)
        for checks in self.checks:
            question = checks.question
            for column, expression in checks.expressions:
                self.check_expression(question.id, checks.row, column, expression,
                                      question.index,
                                      own=question.id if column == "constraint" else None)
            for column, language, text in checks.texts:
                for match in _REFERENCE.finditer(text):
                    referred = match.group(1).strip()
                    known = self.known.get(referred)
                    if referred.startswith("last-saved#"):
                        self.error(f"${{{referred}}}: answers saved in an earlier submission "
                                   "(last-saved) are not supported", checks.row,
                                   question=question.id, field=column, language=language)
                    elif known is None:
                        self.error(f"refers to unknown question '{referred}'", checks.row,
                                   question=question.id, field=column, language=language)
                    elif known.question is None:
                        self.left_out(known, referred, question.id, checks.row, column,
                                      language)
        for name, known in self.known.items():
            if known.referrers and known.question is None and not known.refused:
                assert known.problem is not None
                self.problems.remove(known.problem)
                referrers = ", ".join(f"'{q}' (row {r})" for q, r in known.referrers[:3])
                self.error(f"{known.problem.message.removeprefix('skipped: ')}, and "
                           f"{referrers} refer{'s' if len(known.referrers) == 1 else ''} to it",
                           known.row, question=name)

    def check_expression(self, name: str, row: int, column: str, expression: Expression,
                         index: int, own: str | None) -> None:
        for referred in sorted(expression.references):
            if referred == own:
                continue
            known = self.known.get(referred)
            if known is None:
                self.error(f"refers to unknown question '{referred}'", row, question=name,
                           field=column)
            elif known.question is None:
                self.left_out(known, referred, name, row, column)
            elif known.question.index >= index:
                self.error(f"refers to '{referred}', which comes later or is this question",
                           row, question=name, field=column)
            elif (known.question.type is QuestionType.NOTE
                  and known.question.calculation is None):
                self.error(f"refers to '{referred}', a note (notes have no answer)", row,
                           question=name, field=column)

    def left_out(self, known: _Known, referred: str, name: str, row: int, column: str,
                 language: str | None = None) -> None:
        self.error(f"refers to '{referred}', which {known.reason}", row, question=name,
                   field=column, language=language)
        if (name, row) not in known.referrers:
            known.referrers.append((name, row))

    # --- the survey

    def survey(self, raw: bytes) -> Survey | None:
        self.resolve_languages()
        for item in self.items():
            self.add(item)
        self.check_references()
        self.report_gaps()
        if not self.questions:
            self.error("the form has no question the bot can ask", None, None)
        elif not any(q.asks for q in self.questions):
            self.warn("the form has nothing to answer: the bot only shows its notes", None,
                      None)
        if any(p.severity == "error" for p in self.problems):
            return None
        settings_rows = self.read.sheets.get(SETTINGS) or []
        settings = settings_rows[0] if settings_rows else {}
        survey_id = _plain(self.form.get("id_string")) or self.path.stem
        if not _NAME.match(survey_id):
            cleaned = re.sub(r"[^\w.\-]+", "_", survey_id).strip("_") or "form"
            if not _NAME.match(cleaned):
                cleaned = f"form_{cleaned}"
            self.warn(f"the form id '{survey_id}' is used as '{cleaned}'", None, SETTINGS,
                      field="form_id")
            survey_id = cleaned
        version = _plain(self.form.get("version")) or _column(settings, "version") or "1"
        title = _column(settings, "form_title", "set_form_title") or self.path.stem
        return Survey(
            id=survey_id, version=version, default_language=self.default,
            languages=self.languages, title=Translated({self.default: title}, self.default),
            introduction=None, consent_notice=None, consent_details=None, closing=None,
            questions=tuple(self.questions), fingerprint=hashlib.sha256(raw).hexdigest()[:8],
            by_id={q.id: q for q in self.questions},
        )


def _combine(expressions: Sequence[Expression | None]) -> Expression | None:
    """``(a) and (b) and …``: a question's own condition with those of its groups."""
    present = [e for e in expressions if e is not None]
    if len(present) <= 1:
        return present[0] if present else None
    return parse(" and ".join(f"({e.source})" for e in present))


def _choice_index(choices: Sequence[Choice]) -> dict[str, int]:
    index: dict[str, int] = {}
    for position, choice in enumerate(choices):
        index.setdefault(choice.id, position)
    return index


def _media_files(element: Mapping[str, Any]) -> list[str]:
    files: list[str] = []
    media = element.get("media")
    values: list[Any] = []
    if isinstance(media, Mapping):
        values.extend(media.values())
    for key, value in element.items():
        if any(str(key).startswith(kind + ":") for kind in _MEDIA_KINDS):
            values.append(value)
    for value in values:
        for text in (value.values() if isinstance(value, Mapping) else [value]):
            if _plain(text) and _plain(text) not in files:
                files.append(_plain(text))
    return files


def _canonical_default(qtype: QuestionType, raw: str, choices: Sequence[Choice]) -> str | None:
    """A fixed default as the engine stores answers, or ``None`` if it cannot be one."""
    ids = {c.id for c in choices}
    try:
        if qtype is QuestionType.SELECT_ONE:
            return raw if raw in ids else None
        if qtype is QuestionType.SELECT_MULTIPLE:
            return raw if raw.split() and set(raw.split()) <= ids else None
        if qtype in (QuestionType.INTEGER, QuestionType.SCALE):
            number = Decimal(raw)
            return str(int(number)) if number == number.to_integral_value() else None
        if qtype is QuestionType.DECIMAL:
            return format(Decimal(raw).normalize(), "f")
        if qtype is QuestionType.DATE:
            day = raw.removesuffix(" 00:00:00").removesuffix("T00:00:00")
            return datetime.date.fromisoformat(day).isoformat()
        if qtype is QuestionType.TIME:
            return datetime.time.fromisoformat(raw).strftime("%H:%M")
        if qtype is QuestionType.DATETIME:
            return datetime.datetime.fromisoformat(raw).strftime("%Y-%m-%dT%H:%M")
    except (InvalidOperation, ValueError):
        return None
    if qtype in MEDIA_TYPES:
        return None
    return raw


def check_xlsform(path: Path) -> tuple[Survey | None, list[Problem]]:
    """The survey an XLSForm describes (``None`` when it has errors), and every problem."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return None, [Problem("error", f"cannot read the file: {exc.strerror}", str(path))]
    read = _read(path)
    if isinstance(read, str):  # pyxform's words; one problem per line it wrote
        lines = [line.strip() for line in read.splitlines() if line.strip()]
        return None, [Problem("error", line, str(path)) for line in lines or [read]]
    importer = _Importer(path, read)
    try:
        survey = importer.survey(raw)
    except Exception as exc:  # noqa: BLE001 - a bad form must never give a traceback
        importer.error(f"cannot read the form: {type(exc).__name__}: {exc}", None, None)
        return None, importer.problems
    return survey, sorted(importer.problems, key=_reading_order)


_SHEET_ORDER = {SETTINGS: 0, SURVEY: 1, CHOICES: 2, EXTERNAL_CHOICES: 3}


def _reading_order(problem: Problem) -> tuple[int, int]:
    """Settings first, then the survey and choices sheets row by row, then the whole form."""
    if problem.sheet is None:
        return (9, 0)
    return (_SHEET_ORDER.get(problem.sheet, 4), problem.line or 0)
