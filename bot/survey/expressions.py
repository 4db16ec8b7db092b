"""The XLSForm expression language: the subset of XPath 1.0 that ODK forms use.

One module on purpose (about 1,250 lines): it is a grammar. The tokenizer, the
parser, the closures it builds, the coercions and the function table share
private types and are described together below, as one language.

One parser serves ``relevant``, ``constraint``, ``calculation`` and
``choice_filter`` cells, whether the survey came from YAML or an XLSForm.
``parse`` turns the text into an ``Expression`` once (a tree of closures);
``Expression.evaluate`` runs it many times against an ``Env``. Nothing here
does I/O or reads the clock: ``today()`` and ``now()`` read ``Env.now``.

Grammar (lowest precedence first; every binary level is left-associative)::

    expr     := and_expr ('or' and_expr)*
    and_expr := eq_expr ('and' eq_expr)*
    eq_expr  := rel_expr (('=' | '!=') rel_expr)*
    rel_expr := add_expr (('<' | '<=' | '>' | '>=') add_expr)*
    add_expr := mul_expr (('+' | '-') mul_expr)*
    mul_expr := unary (('*' | 'div' | 'mod') unary)*
    unary    := '-'* primary
    primary  := NUMBER | STRING | '${' NAME '}' | '.' | 'current()' | PATH
              | 'position' '(' UP ')'
              | FUNCTION '(' [expr (',' expr)*] ')' | '(' expr ')'
              | NAME                      (only with allow_bare_names)
    PATH     := ['current()/'] (('../')+ NAME ('/' NAME)* | './' NAME ('/' NAME)*)
              | ('/' NAME)+
    UP       := ['current()/'] '..' ('/..')*
    NUMBER   := DIGITS ['.' [DIGITS]] | '.' DIGITS
    STRING   := "'" any "'" | '"' any '"'          (no escapes, as XPath 1.0)
    NAME     := (letter | '_') (letter | digit | '_' | '.' | '-')*
    FUNCTION := NAME | 'jr:' NAME

``and or div mod`` are operators only where an operator may stand, so a
choice column called ``mod`` still works as a bare name. A ``-`` inside a name
belongs to the name (``count-selected``), as in XPath; write ``${a} - 1`` or
``${a}-1``. A path stands for the question named by its last step, and
``current()`` for ``.``: inside a repeat, ``../age``, ``current()/../age`` and
``${age}`` all read the answer of the round being asked (see *Repeats* below).
``..`` alone only goes in ``position(..)``. Typographic
quotes (‘ ’ “ ”), which spreadsheet programs put in by themselves, open and
close strings like their ASCII forms, and ``Expression.repaired_quotes`` tells
the caller to warn about it.

Functions, with ODK's meaning; the number of arguments is checked when parsing:

- logic: ``if(c, a, b)`` (evaluates only the branch it takes), ``not``,
  ``true()``, ``false()``, ``boolean``, ``boolean-from-string``,
  ``coalesce(a, b)`` (``b`` when ``a`` is ``""``)
- selects: ``selected(v, name)``, ``count-selected(v)``, ``selected-at(v, i)``
  (0-based, ``""`` past the end), ``jr:choice-name(v, '${q}')`` (the label
  from ``Env.choice_label``, the choice name itself without one)
- text: ``string``, ``concat(…)``, ``string-length([s])``,
  ``normalize-space([s])`` (both default to ``.``), ``contains``,
  ``starts-with``, ``ends-with``, ``substr(s, start[, end])`` (0-based, end
  excluded, negative counts from the end), ``substring-before``,
  ``substring-after``, ``translate``, ``regex(s, pattern)`` (the whole string
  must match; stopped after ``REGEX_TIMEOUT``)
- numbers: ``number``, ``int`` (toward zero), ``round(x[, digits])`` (half away
  from zero), ``floor``, ``ceiling``, ``abs``, ``pow``, ``sqrt``, ``log``,
  ``log10``, ``exp``, ``exp10``, ``sin``, ``cos``, ``tan``, ``asin``,
  ``acos``, ``atan``, ``atan2(y, x)`` (radians), ``pi()``, ``min(…)``,
  ``max(…)`` (NaN if any argument is not a number or out of the domain),
  ``sum(x)`` (one value, so ``number(x)``)
- time: ``today()``, ``now()`` (from ``Env.now``), ``date(x)``,
  ``date-time(x)`` (from an ISO string or a number of days since 1970; ``""``
  when ``x`` is no date), ``decimal-date-time(x)``, ``format-date(d, f)``
  (ignores the time) and ``format-date-time(d, f)`` with ``%Y %y %m %n %b %d
  %e %a %H %h %M %S %3`` (English names; an unknown code is a parse error in a
  literal format and is copied as written otherwise)
- ``uuid()`` (``Env.uuid``, else a random UUID4)
- ``pulldata('file', 'column', 'key column', key)``: the ``column`` of the
  first row of the CSV file whose ``key column`` is the text of ``key``, ``""``
  when none is. The file is given to ``parse`` (``data``: a function from the
  file's name to a :class:`DataTable`, raising ``LookupError`` when there is
  none), so the file's name must be a literal, and so must the columns to be
  checked against the file; without ``data`` (YAML surveys) it is a parse error.
- repeats: ``count(x)``, ``count-non-empty(x)``, ``sum(x)``, ``min(…)``,
  ``max(…)`` over every answer ``x`` stands for; ``position(..)``;
  ``indexed-repeat(x, repeat, i[, repeat2, i2[, repeat3, i3]])`` (below)

Repeats. Where a form asks questions once per round (a household roster),
a reference may stand for several answers: ``Env.repeats`` (a :class:`Repeats`
the engine gives) says which. ``count``, ``count-non-empty``, ``sum``,
``min`` and ``max`` take every answer a reference stands for, as ODK takes a
nodeset: ``sum(${age})`` after a roster adds every member's age, and a
reference to the repeat itself counts its rounds (``count(${member})``).
Everywhere else a reference is one answer: inside a round, that round's own
(and that of the rounds it is inside); from outside, the first round's.
As in XPath, the value of each answer is taken with ``number()``: an empty
answer makes ``sum``, ``min`` and ``max`` NaN; ``sum`` of no answer at all is
0, ``min``/``max`` of none NaN. ``position(..)`` is the number of the round
being asked (1 outside any repeat); ``indexed-repeat(${name}, ${member}, 2)``
the answer to ``name`` in round 2 of ``member`` (``""`` when there is no such
round), with a second and third pair for nested repeats. ``count()`` and
``count-non-empty()`` need a reference (``count(1)`` is a parse error), and
so do the first, second, fourth and sixth arguments of ``indexed-repeat``.
Without ``Env.repeats`` every reference is one answer, as before.

Types (``Value``): ``str`` (text; a select_one answer; a select_multiple answer
as space-separated choice names; an unanswered question is ``""``), ``float``
(``int`` is accepted on input and treated as a number), ``bool``,
``datetime.date`` and ``datetime.datetime``.

Coercions, as XPath 1.0 and ODK/JavaRosa do them:

- ``to_number``: ``""`` and other non-numeric strings are NaN; a numeric string
  (``-?digits[.digits]``, surrounding whitespace allowed) is its value; ``true``
  is 1 and ``false`` 0; a date is its number of days since 1970-01-01 and a
  datetime its fractional number of days (of its own wall-clock time).
- ``to_string``: integral numbers without ``.0``, never an exponent, ``NaN``,
  ``Infinity``; ``true``/``false``; dates ``YYYY-MM-DD``; datetimes ISO 8601
  with milliseconds.
- ``to_bool``: a non-empty string, a number other than 0 and NaN, any date.
- ``=``/``!=``: a boolean on either side compares as booleans; otherwise a
  number on either side compares as numbers (so ``${q} = 1`` holds for the
  answer ``"1"``, and NaN equals nothing); otherwise a date on either side
  compares as dates (a string read as an ISO date; one that is not a date is
  unequal); otherwise as strings.
- ``< <= > >=`` compare numbers (dates as days; a string facing a date is read
  as an ISO date first). An unanswered question is NaN, so every comparison
  with it is false: ``${age} > 18`` is false until age is answered.
- ``+ - * div mod`` work on numbers with IEEE rules: division by zero gives
  ±Infinity or NaN, never an exception; ``mod`` takes the sign of the dividend.
- ``and``/``or`` short-circuit and give booleans.

What a constraint asks (``limits``): a constraint made of ``and``-ed simple
terms is read as :class:`Limits` for a hint when an answer is refused:
``. >= 1``, ``. < 50`` (and ``${own}`` for ``.``) give a numeric range,
``string-length(.) <= 20`` a length, ``count-selected(.) <= 3`` a number of
choices, ``regex(., 'p')`` a pattern; any other term only clears
``Limits.complete``. A constraint with ``or`` at its top says nothing.

Errors::

    ValueError
    └── ExpressionError       bad syntax, unknown function, wrong number of
        │                     arguments, invalid literal regex or date format,
        │                     too long or too deeply nested (raised by parse)
        └── EvaluationError   raised by evaluate: a regex that takes too long
                              or is invalid, today()/now() without Env.now

Both carry ``message``, ``source`` and ``position`` (0-based offset into
``source``); ``str()`` reads
``unknown function 'foo' at position 9 in: ${a} and foo(1)``.
"""

from __future__ import annotations

import datetime
import functools
import math
import re
import uuid as uuid_module
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation
from types import MappingProxyType
from typing import Final, Protocol

import regex

__all__ = [
    "MAX_DEPTH",
    "MAX_LENGTH",
    "REGEX_TIMEOUT",
    "Env",
    "EvaluationError",
    "Expression",
    "ExpressionError",
    "DataTable",
    "Limits",
    "Repeats",
    "Value",
    "limits",
    "parse",
    "to_bool",
    "to_number",
    "to_string",
]

Value = str | float | bool | datetime.date | datetime.datetime


class Repeats(Protocol):
    """What an expression sees of the rounds of repeats (the engine gives it)."""

    def nodes(self, name: str) -> Sequence[Value] | None:
        """Every answer ``name`` stands for from here, in order (a repeat's name: one per
        round); ``None`` when it stands for one answer, read from ``Env.values``."""

    def position(self) -> int:
        """The number of the round being asked (of the innermost repeat; 1 outside)."""

    def indexed(self, name: str, steps: Sequence[tuple[str, int]]) -> Value:
        """The answer to ``name`` in the rounds ``steps`` names ((repeat, round), outermost
        first), ``""`` when there is none."""

MAX_LENGTH: Final = 10_000
MAX_DEPTH: Final = 100
REGEX_TIMEOUT: Final = 0.05  # seconds

_EXCERPT: Final = 200
_EMPTY: Final[Mapping[str, Value]] = MappingProxyType({})
_EPOCH_DATE: Final = datetime.date(1970, 1, 1)
_EPOCH: Final = datetime.datetime(1970, 1, 1)
_NAN: Final = math.nan


class ExpressionError(ValueError):
    """An expression that cannot be parsed, with where the problem is."""

    message: str
    source: str
    position: int

    def __init__(self, message: str, source: str, position: int) -> None:
        super().__init__(message, source, position)
        self.message = message
        self.source = source
        self.position = position

    def __str__(self) -> str:
        excerpt = _excerpt(self.source, self.position)
        return f"{self.message} at position {self.position} in: {excerpt}"


class EvaluationError(ExpressionError):
    """An expression that parsed but failed while being evaluated."""


def _excerpt(source: str, position: int) -> str:
    if len(source) <= _EXCERPT:
        return source
    start = max(0, position - _EXCERPT // 2)
    end = start + _EXCERPT
    return ("…" if start else "") + source[start:end] + ("…" if end < len(source) else "")


@dataclass(frozen=True, slots=True)
class Env:
    """What an expression can see: the answers, the current answer, the time."""

    values: Mapping[str, Value] = field(default_factory=lambda: _EMPTY)
    current: Value = ""
    names: Mapping[str, Value] = field(default_factory=lambda: _EMPTY)
    now: datetime.datetime | None = None
    choice_label: Callable[[str, str], str] | None = None
    uuid: Callable[[], str] | None = None
    repeats: Repeats | None = None


_Run = Callable[[Env], Value]


@dataclass(frozen=True, slots=True)
class Expression:
    """A parsed expression, ready to be evaluated any number of times."""

    source: str
    references: frozenset[str]
    repaired_quotes: bool
    _run: _Run = field(repr=False, compare=False)

    def evaluate(self, env: Env) -> Value:
        """The value of the expression for these answers."""
        try:
            return self._run(env)
        except ExpressionError:
            raise
        except (ArithmeticError, ValueError) as error:  # a safety net, not a code path
            raise EvaluationError(f"cannot evaluate: {error}", self.source, 0) from error

    def is_true(self, env: Env) -> bool:
        """The value as XPath's boolean(): what relevant and constraint use."""
        return to_bool(self.evaluate(env))


# --------------------------------------------------------------------------- conversions

_NUMBER_RE: Final = re.compile(r"\s*(-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))\s*")
_ISO_RE: Final = re.compile(
    r"\s*([0-9]{4}-[0-9]{2}-[0-9]{2})"
    r"(?:[T ]([0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?)(Z|[+-][0-9]{2}(?::?[0-9]{2})?)?)?\s*"
)


def to_number(v: Value) -> float:
    """XPath number(): NaN for what is not a number."""
    if isinstance(v, bool):
        return 1.0 if v else 0.0
    if isinstance(v, (float, int)):
        return float(v)
    if isinstance(v, str):
        match = _NUMBER_RE.fullmatch(v)
        return float(match.group(1)) if match else _NAN
    if isinstance(v, datetime.datetime):
        return (v.replace(tzinfo=None) - _EPOCH).total_seconds() / 86400.0
    return float((v - _EPOCH_DATE).days)


def to_string(v: Value) -> str:
    """XPath string(), with ODK's forms for dates and datetimes."""
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (float, int)):
        return _number_to_string(float(v))
    if isinstance(v, datetime.datetime):
        return v.isoformat(timespec="milliseconds")
    return v.isoformat()


def to_bool(v: Value) -> bool:
    """XPath boolean(): false for "", 0, NaN and false."""
    if isinstance(v, bool):
        return v
    if isinstance(v, str):
        return v != ""
    if isinstance(v, (float, int)):
        return v == v and v != 0
    return True


def _number_to_string(x: float) -> str:
    if x != x:
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if x.is_integer():
        return str(int(x))
    text = repr(x)
    if "e" in text:
        text = format(Decimal(text), "f")
    return text


def _parse_iso(text: str) -> datetime.date | None:
    """A date or datetime written in ISO 8601, or None."""
    match = _ISO_RE.fullmatch(text)
    if match is None:
        return None
    day, time, zone = match.groups()
    try:
        if time is None:
            return datetime.date.fromisoformat(day)
        return datetime.datetime.fromisoformat(f"{day}T{time}{zone or ''}")
    except ValueError:  # a day or an hour that does not exist
        return None


def _as_date(v: Value, keep_time: bool) -> datetime.datetime | None:
    """Any value as a datetime (midnight for a date), or None if it is not one."""
    point: datetime.datetime | None
    if isinstance(v, datetime.datetime):
        point = v
    elif isinstance(v, datetime.date):
        point = datetime.datetime(v.year, v.month, v.day)
    elif isinstance(v, str):
        parsed = _parse_iso(v)
        if parsed is None:
            return None
        point = _as_date(parsed, keep_time=True)
    elif isinstance(v, bool):
        return None
    else:
        days = float(v)
        if not math.isfinite(days):
            return None
        try:
            point = _EPOCH + datetime.timedelta(days=days)
        except OverflowError:
            return None
    if point is not None and not keep_time:
        point = point.replace(hour=0, minute=0, second=0, microsecond=0)
    return point


def _norm(v: Value | None) -> Value:
    if v is None:
        return ""
    if type(v) is int:
        return float(v)
    return v


# --------------------------------------------------------------------------- operators


def _equal(a: Value, b: Value) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return a == b
    if isinstance(a, bool) or isinstance(b, bool):
        return to_bool(a) == to_bool(b)
    if isinstance(a, (float, int)) or isinstance(b, (float, int)):
        return to_number(a) == to_number(b)
    if isinstance(a, datetime.date) or isinstance(b, datetime.date):
        left, right = _date_side(a), _date_side(b)
        if left is None or right is None:
            return False
        return to_number(left) == to_number(right)
    return to_string(a) == to_string(b)


def _date_side(v: Value) -> datetime.date | None:
    if isinstance(v, datetime.date):
        return v
    if isinstance(v, str):
        return _parse_iso(v)
    return None


def _relational_operands(a: Value, b: Value) -> tuple[float, float]:
    a_date, b_date = isinstance(a, datetime.date), isinstance(b, datetime.date)
    if a_date and isinstance(b, str):
        parsed = _parse_iso(b)
        return to_number(a), to_number(parsed) if parsed is not None else _NAN
    if b_date and isinstance(a, str):
        parsed = _parse_iso(a)
        return to_number(parsed) if parsed is not None else _NAN, to_number(b)
    return to_number(a), to_number(b)


def _lt(a: Value, b: Value) -> bool:
    x, y = _relational_operands(a, b)
    return x < y


def _le(a: Value, b: Value) -> bool:
    x, y = _relational_operands(a, b)
    return x <= y


def _gt(a: Value, b: Value) -> bool:
    x, y = _relational_operands(a, b)
    return x > y


def _ge(a: Value, b: Value) -> bool:
    x, y = _relational_operands(a, b)
    return x >= y


def _ne(a: Value, b: Value) -> bool:
    return not _equal(a, b)


def _add(a: Value, b: Value) -> float:
    return to_number(a) + to_number(b)


def _sub(a: Value, b: Value) -> float:
    return to_number(a) - to_number(b)


def _mul(a: Value, b: Value) -> float:
    return to_number(a) * to_number(b)


def _div(a: Value, b: Value) -> float:
    x, y = to_number(a), to_number(b)
    if y == 0:
        if x == 0 or x != x:
            return _NAN
        return math.copysign(math.inf, x) * math.copysign(1.0, y)
    return x / y


def _mod(a: Value, b: Value) -> float:
    x, y = to_number(a), to_number(b)
    if y == 0 or math.isinf(x) or x != x or y != y:
        return _NAN
    return math.fmod(x, y)


_Binary = Callable[[Value, Value], Value]

# precedence level of each binary operator: 0 binds loosest
_LEVELS: Final[dict[str, int]] = {
    "or": 0,
    "and": 1,
    "=": 2, "!=": 2,
    "<": 3, "<=": 3, ">": 3, ">=": 3,
    "+": 4, "-": 4,
    "*": 5, "div": 5, "mod": 5,
}  # fmt: skip
_BINARY: Final[dict[str, _Binary]] = {
    "=": _equal,
    "!=": _ne,
    "<": _lt,
    "<=": _le,
    ">": _gt,
    ">=": _ge,
    "+": _add,
    "-": _sub,
    "*": _mul,
    "div": _div,
    "mod": _mod,
}
_WORD_OPERATORS: Final = frozenset({"and", "or", "div", "mod"})


# --------------------------------------------------------------------------- tokens

_NUM, _STR, _REF, _DOT, _NAME, _OP, _LPAREN, _RPAREN, _COMMA, _END, _UP = range(11)

_DIGITS: Final = frozenset("0123456789")
_SINGLE_QUOTES: Final = "'‘’"
_DOUBLE_QUOTES: Final = '"“”'


@dataclass(frozen=True, slots=True)
class _Token:
    kind: int
    text: str
    position: int
    value: str | float = ""


def _is_name_start(c: str) -> bool:
    return c == "_" or c.isalpha()


def _is_name_char(c: str) -> bool:
    return c.isalnum() or c in "_.-"


class _Lexer:
    def __init__(self, source: str) -> None:
        self.source = source
        self.repaired_quotes = False

    def error(self, message: str, position: int) -> ExpressionError:
        return ExpressionError(message, self.source, position)

    def name_end(self, start: int) -> int:
        """Where the name starting at `start` ends (== start if there is none)."""
        s = self.source
        if start >= len(s) or not _is_name_start(s[start]):
            return start
        end = start + 1
        while end < len(s) and _is_name_char(s[end]):
            end += 1
        return end

    def tokens(self) -> Iterator[_Token]:
        """The tokens, read as the parser asks for them, so errors come in source order."""
        s = self.source
        out: list[_Token] = []
        i = 0
        while i < len(s):
            yield from out
            out.clear()
            c = s[i]
            if c.isspace():
                i += 1
            elif c == "$":
                i = self.reference(i, out)
            elif c in _SINGLE_QUOTES or c in _DOUBLE_QUOTES:
                i = self.string(i, out)
            elif c in _DIGITS or (c == "." and s[i + 1 : i + 2] in _DIGITS):
                match = _NUMBER_RE.match(s, i)
                assert match is not None
                text = match.group(1)
                out.append(_Token(_NUM, text, i, float(text)))
                i += len(text)
            elif c == "/" or s.startswith("../", i) or s.startswith("./", i):
                i = self.path(i, out)
            elif c == ".":
                if s.startswith("..", i):
                    out.append(_Token(_UP, "..", i))
                    i += 2
                else:
                    out.append(_Token(_DOT, ".", i))
                    i += 1
            elif s.startswith("current()", i) and self.name_end(i) == i + 7:
                i = self.current(i, out)
            elif _is_name_start(c):
                end = self.name_end(i)
                if end < len(s) and s[end] == ":" and self.name_end(end + 1) > end + 1:
                    end = self.name_end(end + 1)
                out.append(_Token(_NAME, s[i:end], i))
                i = end
            elif s.startswith(("!=", "<=", ">="), i):
                out.append(_Token(_OP, s[i : i + 2], i))
                i += 2
            elif c in "=<>+-*":
                out.append(_Token(_OP, c, i))
                i += 1
            elif c == "(":
                out.append(_Token(_LPAREN, c, i))
                i += 1
            elif c == ")":
                out.append(_Token(_RPAREN, c, i))
                i += 1
            elif c == ",":
                out.append(_Token(_COMMA, c, i))
                i += 1
            elif c == "|":
                raise self.error("the union operator '|' is not supported", i)
            elif c == "[":
                raise self.error("predicates ('[...]') are not supported", i)
            else:
                raise self.error(f"unexpected character {c!r}", i)
        yield from out
        yield _Token(_END, "", len(s))

    def reference(self, i: int, out: list[_Token]) -> int:
        s = self.source
        if not s.startswith("${", i):
            raise self.error("'$' must start a reference like ${name}", i)
        close = s.find("}", i + 2)
        if close < 0:
            raise self.error("unterminated reference: '}' is missing", i)
        name = s[i + 2 : close]
        if name.startswith("last-saved#"):
            raise self.error(f"${{{name}}}: answers saved in an earlier submission "
                             "(last-saved) are not supported", i)
        if not name or self.name_end(i + 2) != close:
            raise self.error(f"invalid question name in ${{{name}}}", i)
        out.append(_Token(_REF, s[i : close + 1], i, name))
        return close + 1

    def string(self, i: int, out: list[_Token]) -> int:
        s = self.source
        opener = s[i]
        closers = _SINGLE_QUOTES if opener in _SINGLE_QUOTES else _DOUBLE_QUOTES
        if opener in "'\"":
            closers = opener
        else:
            self.repaired_quotes = True
        end = i + 1
        while end < len(s) and s[end] not in closers:
            end += 1
        if end >= len(s):
            raise self.error("unterminated string", i)
        if s[end] not in "'\"":
            self.repaired_quotes = True
        out.append(_Token(_STR, s[i : end + 1], i, s[i + 1 : end]))
        return end + 1

    def current(self, i: int, out: list[_Token]) -> int:
        """``current()`` is ``.``; ``current()/`` starts a relative path (``current()/../a``)."""
        s = self.source
        after = i + len("current()")
        if not s.startswith("/", after):
            out.append(_Token(_DOT, "current()", i))
            return after
        start = after + 1
        if s.startswith("..", start) and not s.startswith("../", start):
            out.append(_Token(_UP, s[i : start + 2], i))
            return start + 2
        if not s.startswith(("../", "./"), start):
            raise self.error("after current()/ comes '..' (current()/../name)", start)
        end = self.path(start, out)
        token = out.pop()
        out.append(_Token(token.kind, s[i:end], i, token.value))
        return end

    def path(self, i: int, out: list[_Token]) -> int:
        s = self.source
        j = i
        if s[j] == "/":
            j += 1
        else:
            while s.startswith("../", j):
                j += 3
            if j > i and s.startswith("..", j) and self.name_end(j + 2) == j + 2:
                out.append(_Token(_UP, s[i : j + 2], i))
                return j + 2
            if j == i and s.startswith("./", j):
                j += 2
        while True:
            end = self.name_end(j)
            if end == j:
                raise self.error("incomplete path: a question name is missing", j)
            if end < len(s) and s[end] == "/":
                j = end + 1
                continue
            name = s[j:end]
            break
        out.append(_Token(_REF, s[i:end], i, name))
        return end


# --------------------------------------------------------------------------- parser


@dataclass(frozen=True, slots=True)
class _Node:
    run: _Run
    position: int
    literal: Value | None = None  # set for string and number literals
    name: str | None = None  # set for a reference: the question it names


class _Parser:
    def __init__(self, source: str, tokens: Iterator[_Token], allow_bare_names: bool,
                 data: DataFiles | None = None) -> None:
        self.source = source
        self.stream = tokens
        self.tokens: list[_Token] = []
        self.index = 0
        self.depth = 0
        self.allow_bare_names = allow_bare_names
        self.data = data
        self.references: set[str] = set()

    @property
    def token(self) -> _Token:
        return self.peek(0)

    def peek(self, ahead: int) -> _Token:
        while len(self.tokens) <= self.index + ahead:
            self.tokens.append(next(self.stream))
        return self.tokens[self.index + ahead]

    def error(self, message: str, position: int) -> ExpressionError:
        return ExpressionError(message, self.source, position)

    def unexpected(self, token: _Token) -> ExpressionError:
        if token.kind == _END:
            return self.error("unexpected end of expression", token.position)
        return self.error(f"unexpected {token.text!r}", token.position)

    def parse(self) -> _Node:
        if self.token.kind == _END:
            raise self.error("empty expression", 0)
        node = self.binary(0)
        if self.token.kind != _END:
            raise self.unexpected(self.token)
        return node

    def infix_level(self) -> int | None:
        token = self.token
        if token.kind == _OP or (token.kind == _NAME and token.text in _WORD_OPERATORS):
            return _LEVELS[token.text]
        return None

    def binary(self, min_level: int) -> _Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(
                f"expression is nested too deeply (over {MAX_DEPTH} levels)", self.token.position
            )
        left = self.unary()
        while (level := self.infix_level()) is not None and level >= min_level:
            rest: list[tuple[str, _Node]] = []
            while self.infix_level() == level:
                operator = self.token.text
                self.index += 1
                rest.append((operator, self.binary(level + 1)))
            left = _combine(level, left, rest)
        self.depth -= 1
        return left

    def unary(self) -> _Node:
        start = self.token.position
        minuses = 0
        while self.token.kind == _OP and self.token.text == "-":
            minuses += 1
            self.index += 1
        node = self.primary()
        if minuses == 0:
            return node
        run = node.run
        if minuses % 2:
            return _Node(lambda env: -to_number(run(env)), start)
        return _Node(lambda env: to_number(run(env)), start)

    def primary(self) -> _Node:
        token = self.token
        kind = token.kind
        if kind == _NUM:
            self.index += 1
            return _constant(token.value, token.position)
        if kind == _STR:
            self.index += 1
            return _constant(token.value, token.position)
        if kind == _REF:
            self.index += 1
            assert isinstance(token.value, str)
            self.references.add(token.value)
            return _Node(_reference(token.value), token.position, name=token.value)
        if kind == _UP:
            raise self.error("'..' (the parent group) only goes in position(..)",
                             token.position)
        if kind == _DOT:
            self.index += 1
            return _Node(_current, token.position)
        if kind == _LPAREN:
            self.index += 1
            node = self.binary(0)
            if self.token.kind != _RPAREN:
                if self.token.kind == _END:
                    raise self.error("unclosed '('", token.position)
                raise self.unexpected(self.token)
            self.index += 1
            return _Node(node.run, token.position)
        if kind == _NAME:
            if self.peek(1).kind == _LPAREN:
                return self.call()
            return self.bare_name()
        raise self.unexpected(token)

    def bare_name(self) -> _Node:
        token = self.token
        name = token.text
        if self.allow_bare_names and ":" not in name:
            self.index += 1
            return _Node(_bare_name(name), token.position)
        if name in _WORD_OPERATORS:
            raise self.error(f"expected a value before {name!r}", token.position)
        if name in _FUNCTIONS:
            raise self.error(f"function {name!r} needs parentheses: {name}(…)", token.position)
        raise self.error(f"unexpected name {name!r}; did you mean ${{{name}}}?", token.position)

    def call(self) -> _Node:
        name_token = self.token
        name = name_token.text
        spec = _FUNCTIONS.get(name)
        if spec is None:
            raise self.error(f"unknown function {name!r}", name_token.position)
        if name == "position":
            return self.position_call()
        open_paren = self.peek(1)
        self.index += 2
        args: list[_Node] = []
        if self.token.kind != _RPAREN:
            while True:
                args.append(self.binary(0))
                if self.token.kind == _COMMA:
                    self.index += 1
                    continue
                if self.token.kind == _RPAREN:
                    break
                if self.token.kind == _END:
                    raise self.error("unclosed '('", open_paren.position)
                raise self.unexpected(self.token)
        self.index += 1
        low, high, build = spec
        if len(args) < low or (high is not None and len(args) > high):
            raise self.error(
                f"function {name!r} takes {_arity_text(low, high)}, got {len(args)}",
                name_token.position,
            )
        return _Node(build(_Call(self, name, name_token.position, args)), name_token.position)


    def position_call(self) -> _Node:
        """``position(..)``: the number of the round being asked."""
        start = self.token.position
        if self.peek(2).kind != _UP or self.peek(3).kind != _RPAREN:
            raise self.error("position() takes '..': position(..) is the number of the "
                             "round being asked", start)
        self.index += 4
        return _Node(_position, start)


def _position(env: Env) -> Value:
    return float(env.repeats.position()) if env.repeats is not None else 1.0


def _arity_text(low: int, high: int | None) -> str:
    if high is None:
        return f"at least {low} argument{'s' if low != 1 else ''}"
    if low == high:
        return f"{low} argument{'s' if low != 1 else ''}"
    return f"{low} to {high} arguments"


def _constant(value: Value, position: int) -> _Node:
    return _Node(lambda env: value, position, value)


def _reference(name: str) -> _Run:
    def run(env: Env) -> Value:
        v = env.values.get(name, "")
        if type(v) is int or v is None:
            return _norm(v)
        return v

    return run


def _bare_name(name: str) -> _Run:
    def run(env: Env) -> Value:
        return _norm(env.names.get(name, ""))

    return run


def _current(env: Env) -> Value:
    return _norm(env.current)


def _combine(level: int, first: _Node, rest: list[tuple[str, _Node]]) -> _Node:
    """One node for `first op1 x1 op2 x2 …`, all at one level, folded left."""
    runs = (first.run, *(node.run for _, node in rest))
    if level == 0 or level == 1:
        if len(runs) == 2:
            a, b = runs
            if level == 0:
                return _Node(lambda env: to_bool(a(env)) or to_bool(b(env)), first.position)
            return _Node(lambda env: to_bool(a(env)) and to_bool(b(env)), first.position)
        want = level == 0

        def chain(env: Env) -> Value:
            for run in runs:
                if to_bool(run(env)) is want:
                    return want
            return not want

        return _Node(chain, first.position)
    pairs = [(_BINARY[operator], node.run) for operator, node in rest]
    if len(pairs) == 1:
        head = first.run
        ((f, tail),) = pairs
        return _Node(lambda env: f(head(env), tail(env)), first.position)
    start = first.run

    def fold(env: Env) -> Value:
        acc = start(env)
        for f, run in pairs:
            acc = f(acc, run(env))
        return acc

    return _Node(fold, first.position)


# --------------------------------------------------------------------------- functions


class _Call:
    """What a function builder needs: its arguments and where the call is."""

    __slots__ = ("parser", "name", "position", "args")

    def __init__(self, parser: _Parser, name: str, position: int, args: list[_Node]) -> None:
        self.parser = parser
        self.name = name
        self.position = position
        self.args = args

    @property
    def runs(self) -> list[_Run]:
        return [arg.run for arg in self.args]

    def error(self, message: str, position: int | None = None) -> ExpressionError:
        where = self.position if position is None else position
        return ExpressionError(message, self.parser.source, where)

    def evaluation_error(self, message: str) -> EvaluationError:
        return EvaluationError(message, self.parser.source, self.position)


_Builder = Callable[[_Call], _Run]


def _eager(impl: Callable[..., Value]) -> _Builder:
    """A builder for a function that evaluates all its arguments first."""

    def build(call: _Call) -> _Run:
        runs = call.runs
        if len(runs) == 0:
            return lambda env: impl()
        if len(runs) == 1:
            (a,) = runs
            return lambda env: impl(a(env))
        if len(runs) == 2:
            a, b = runs
            return lambda env: impl(a(env), b(env))
        if len(runs) == 3:
            a, b, c = runs
            return lambda env: impl(a(env), b(env), c(env))
        return lambda env: impl(*[run(env) for run in runs])

    return build


def _current_or(impl: Callable[[Value], Value]) -> _Builder:
    """A one-argument function whose argument defaults to `.` (string-length)."""

    def build(call: _Call) -> _Run:
        if not call.args:
            return lambda env: impl(_current(env))
        a = call.args[0].run
        return lambda env: impl(a(env))

    return build


def _to_int(x: float) -> int:
    if x != x:
        return 0
    if math.isinf(x):
        return 2**62 if x > 0 else -(2**62)
    return int(x)


def _selected(items: Value, choice: Value) -> bool:
    return to_string(choice).strip() in to_string(items).split()


def _count_selected(items: Value) -> float:
    return float(len(to_string(items).split()))


def _selected_at(items: Value, n: Value) -> str:
    index = to_number(n)
    names = to_string(items).split()
    if index != index or not 0 <= index < len(names):
        return ""
    return names[int(index)]


def _substr(s: Value, start: Value, end: Value | None = None) -> str:
    text = to_string(s)
    first = _to_int(to_number(start))
    last = len(text) if end is None else _to_int(to_number(end))
    return text[first:last]


def _substring_before(s: Value, target: Value) -> str:
    text, t = to_string(s), to_string(target)
    index = text.find(t)
    return text[:index] if index >= 0 else ""


def _substring_after(s: Value, target: Value) -> str:
    text, t = to_string(s), to_string(target)
    index = text.find(t)
    return text[index + len(t) :] if index >= 0 else ""


def _translate(s: Value, source_chars: Value, target_chars: Value) -> str:
    frm, to = to_string(source_chars), to_string(target_chars)
    table: dict[int, int | None] = {}
    for i, c in enumerate(frm):
        if ord(c) not in table:
            table[ord(c)] = ord(to[i]) if i < len(to) else None
    return to_string(s).translate(table)


def _round(x: Value, digits: Value = 0.0) -> float:
    number, places = to_number(x), to_number(digits)
    if not math.isfinite(number):
        return number
    if places != places:
        return _NAN
    quantum = Decimal(1).scaleb(-max(-400, min(400, _to_int(places))))
    try:
        rounded = Decimal(repr(number)).quantize(quantum, rounding=ROUND_HALF_UP)
    except InvalidOperation:  # more digits asked for than a float holds
        return number
    return float(rounded) + 0.0


def _int(x: Value) -> float:
    number = to_number(x)
    return float(math.trunc(number)) if math.isfinite(number) else number


def _floor(x: Value) -> float:
    number = to_number(x)
    return float(math.floor(number)) if math.isfinite(number) else number


def _ceiling(x: Value) -> float:
    number = to_number(x)
    return float(math.ceil(number)) if math.isfinite(number) else number


def _pow(a: Value, b: Value) -> float:
    x, y = to_number(a), to_number(b)
    try:
        return math.pow(x, y)
    except OverflowError:
        odd = y.is_integer() and y % 2 == 1
        return -math.inf if x < 0 and odd else math.inf
    except ValueError:
        if x == 0:
            odd = y.is_integer() and y % 2 == 1
            return math.copysign(math.inf, x) if odd else math.inf
        return _NAN


def _sqrt(x: Value) -> float:
    number = to_number(x)
    return math.sqrt(number) if number >= 0 else _NAN


def _log(log: Callable[[float], float]) -> Callable[[Value], float]:
    def run(x: Value) -> float:
        number = to_number(x)
        if number != number or number < 0:
            return _NAN
        if number == 0:
            return -math.inf
        return log(number)

    return run


def _real(function: Callable[..., float]) -> Callable[..., float]:
    """A function of numbers as XPath wants it: NaN, never an error, outside its domain."""
    def run(*values: Value) -> float:
        try:
            return function(*(to_number(v) for v in values))
        except ValueError:
            return _NAN
        except OverflowError:
            return math.inf
    return run


def _extreme(largest: bool) -> Callable[..., float]:
    def extreme(*values: Value) -> float:
        numbers = [to_number(v) for v in values]
        if not numbers or any(n != n for n in numbers):
            return _NAN
        return max(numbers) if largest else min(numbers)

    return extreme


def _nodes(node: _Node) -> Callable[[Env], list[Value]]:
    """Every answer an argument stands for: several for a reference into a repeat."""
    run, name = node.run, node.name
    if name is None:
        return lambda env: [run(env)]

    def nodes(env: Env) -> list[Value]:
        if env.repeats is not None:
            found = env.repeats.nodes(name)
            if found is not None:
                return [_norm(v) for v in found]
        return [run(env)]

    return nodes


def _referenced(call: _Call, index: int, what: str) -> str:
    """The name of the question an argument must be a reference to."""
    argument = call.args[index]
    if argument.name is None:
        raise call.error(f"{call.name}() needs {what} here, like ${{name}}", argument.position)
    return argument.name


def _count(non_empty: bool) -> _Builder:
    def build(call: _Call) -> _Run:
        _referenced(call, 0, "a question or a repeat")
        nodes = _nodes(call.args[0])
        if non_empty:
            return lambda env: float(sum(1 for v in nodes(env) if to_string(v) != ""))
        return lambda env: float(len(nodes(env)))

    return build


def _sum(call: _Call) -> _Run:
    nodes = _nodes(call.args[0])
    return lambda env: sum((to_number(v) for v in nodes(env)), 0.0)


def _extremes(largest: bool) -> _Builder:
    extreme = _extreme(largest)

    def build(call: _Call) -> _Run:
        each = [_nodes(arg) for arg in call.args]
        return lambda env: extreme(*(v for nodes in each for v in nodes(env)))

    return build


def _indexed_repeat(call: _Call) -> _Run:
    if len(call.args) % 2 == 0:
        raise call.error("indexed-repeat() takes a question, then pairs of a repeat and a "
                         "round number", call.position)
    name = _referenced(call, 0, "the question to read")
    groups = [_referenced(call, i, "a repeat") for i in range(1, len(call.args), 2)]
    indexes = [call.args[i].run for i in range(2, len(call.args), 2)]

    def run(env: Env) -> Value:
        if env.repeats is None:
            return ""
        steps = []
        for group, index in zip(groups, indexes, strict=True):
            number = to_number(index(env))
            if number != number or math.isinf(number):
                return ""
            steps.append((group, int(number)))
        return _norm(env.repeats.indexed(name, steps))

    return run


def _coalesce(call: _Call) -> _Run:
    a, b = call.runs

    def run(env: Env) -> Value:
        first = a(env)
        return first if first != "" else b(env)

    return run


def _if(call: _Call) -> _Run:
    condition, then, otherwise = call.runs
    return lambda env: then(env) if to_bool(condition(env)) else otherwise(env)


def _concat(*values: Value) -> str:
    return "".join(to_string(v) for v in values)


def _date(v: Value) -> Value:
    point = _as_date(v, keep_time=False)
    return "" if point is None else point.date()


def _date_time(v: Value) -> Value:
    point = _as_date(v, keep_time=True)
    return "" if point is None else point


def _decimal_date_time(v: Value) -> float:
    point = _as_date(v, keep_time=True)
    return _NAN if point is None else to_number(point)


_MONTHS: Final = (
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
)
_DAYS: Final = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_DATE_CODES: Final[dict[str, Callable[[datetime.datetime], str]]] = {
    "Y": lambda d: f"{d.year:04d}",
    "y": lambda d: f"{d.year % 100:02d}",
    "m": lambda d: f"{d.month:02d}",
    "n": lambda d: str(d.month),
    "b": lambda d: _MONTHS[d.month - 1],
    "d": lambda d: f"{d.day:02d}",
    "e": lambda d: str(d.day),
    "a": lambda d: _DAYS[d.weekday()],
    "H": lambda d: f"{d.hour:02d}",
    "h": lambda d: str(d.hour),
    "M": lambda d: f"{d.minute:02d}",
    "S": lambda d: f"{d.second:02d}",
    "3": lambda d: f"{d.microsecond // 1000:03d}",
}


def _bad_date_code(fmt: str) -> int | None:
    """The offset of the first '%' not followed by a known code, or None."""
    i = 0
    while i < len(fmt):
        if fmt[i] == "%":
            if fmt[i + 1 : i + 2] not in _DATE_CODES:
                return i
            i += 2
        else:
            i += 1
    return None


def _format_date(keep_time: bool) -> _Builder:
    def format_date(v: Value, fmt: Value) -> str:
        point = _as_date(v, keep_time)
        if point is None:
            return ""
        pattern = to_string(fmt)
        out: list[str] = []
        i = 0
        while i < len(pattern):
            code = pattern[i + 1 : i + 2] if pattern[i] == "%" else ""
            if code in _DATE_CODES:
                out.append(_DATE_CODES[code](point))
                i += 2
            else:
                out.append(pattern[i])
                i += 1
        return "".join(out)

    eager = _eager(format_date)

    def build(call: _Call) -> _Run:
        fmt = call.args[1]
        if isinstance(fmt.literal, str) and (bad := _bad_date_code(fmt.literal)) is not None:
            code = fmt.literal[bad : bad + 2]
            raise call.error(f"unknown date format code {code!r} in {call.name}", fmt.position)
        return eager(call)

    return build


@functools.lru_cache(maxsize=128)
def _compile_regex(pattern: str) -> regex.Pattern[str]:
    return regex.compile(pattern)


def _regex_problem(error: regex.error) -> tuple[str, int]:
    """What is wrong with a pattern, and where in the pattern."""
    message = getattr(error, "msg", None) or str(error)
    offset = getattr(error, "pos", None)
    return f"invalid regular expression: {message}", offset if isinstance(offset, int) else -1


def _regex(call: _Call) -> _Run:
    subject, pattern_node = call.args
    text = subject.run
    fixed: regex.Pattern[str] | None = None
    if isinstance(pattern_node.literal, str):
        try:
            fixed = _compile_regex(pattern_node.literal)
        except regex.error as error:
            message, offset = _regex_problem(error)
            raise call.error(message, pattern_node.position + 1 + offset) from error
    pattern_run = pattern_node.run

    def run(env: Env) -> Value:
        if fixed is not None:
            compiled = fixed
        else:
            try:
                compiled = _compile_regex(to_string(pattern_run(env)))
            except regex.error as error:
                raise call.evaluation_error(_regex_problem(error)[0]) from error
        try:
            return compiled.fullmatch(to_string(text(env)), timeout=REGEX_TIMEOUT) is not None
        except TimeoutError:
            raise call.evaluation_error(
                f"regular expression took longer than {REGEX_TIMEOUT * 1000:g} ms"
            ) from None

    return run


def _clock(call: _Call) -> _Run:
    date_only = call.name == "today"

    def run(env: Env) -> Value:
        if env.now is None:
            raise call.evaluation_error(f"{call.name}() needs the current time, and none was given")
        return env.now.date() if date_only else env.now

    return run


def _uuid(call: _Call) -> _Run:
    def run(env: Env) -> Value:
        return env.uuid() if env.uuid is not None else str(uuid_module.uuid4())

    return run


def _question_of(path: str) -> str | None:
    """The question a '${q}' or path string names, or None."""
    try:
        tokens = list(_Lexer(path.strip()).tokens())
    except ExpressionError:
        return None
    if len(tokens) == 2 and tokens[0].kind == _REF and isinstance(tokens[0].value, str):
        return tokens[0].value
    if len(tokens) == 2 and tokens[0].kind == _NAME and ":" not in tokens[0].text:
        return tokens[0].text
    return None


def _choice_name(call: _Call) -> _Run:
    value_node, path_node = call.args
    question = _question_of(path_node.literal) if isinstance(path_node.literal, str) else None
    if question is None:
        raise call.error(
            "the second argument of jr:choice-name must be a question in quotes, like '${q}'",
            path_node.position,
        )
    call.parser.references.add(question)
    value = value_node.run

    def run(env: Env) -> Value:
        choice = to_string(value(env))
        if choice == "" or env.choice_label is None:
            return choice
        return env.choice_label(question, choice)

    return run


class DataTable:
    """A CSV file attached to a form, as ``pulldata()`` reads it: rows looked up by the
    text of one column (the first row that has it)."""

    __slots__ = ("name", "columns", "rows", "_indexes")

    def __init__(self, name: str, columns: tuple[str, ...],
                 rows: tuple[tuple[str, ...], ...]) -> None:
        self.name = name
        self.columns = columns
        self.rows = rows
        self._indexes: dict[int, dict[str, int]] = {}

    def lookup(self, wanted: str, key_column: str, key: str) -> str:
        """``wanted`` of the first row whose ``key_column`` is ``key``; ``""`` if none is."""
        if wanted not in self.columns or key_column not in self.columns:
            return ""
        at = self.columns.index(key_column)
        index = self._indexes.get(at)
        if index is None:
            index = {}
            for number, row in enumerate(self.rows):
                index.setdefault(row[at], number)
            self._indexes[at] = index
        found = index.get(key)
        return "" if found is None else self.rows[found][self.columns.index(wanted)]


DataFiles = Callable[[str], DataTable]


def _pulldata(call: _Call) -> _Run:
    file_node, wanted_node, key_column_node, key_node = call.args
    name = file_node.literal
    if not isinstance(name, str) or not name.strip():
        raise call.error("the first argument of pulldata must be the file's name in quotes, "
                         "like 'fruits'", file_node.position)
    if call.parser.data is None:
        raise call.error("pulldata() reads a CSV file attached to an XLSForm; this survey "
                         "has none", call.position)
    try:
        table = call.parser.data(name.strip())
    except LookupError as exc:
        raise call.error(str(exc.args[0] if exc.args else exc), file_node.position) from None
    for node in (wanted_node, key_column_node):
        if isinstance(node.literal, str) and node.literal not in table.columns:
            raise call.error(f"pulldata(): '{table.name}' has no column '{node.literal}' (its "
                             f"columns: {', '.join(table.columns)})", node.position)
    wanted, key_column, key = wanted_node.run, key_column_node.run, key_node.run

    def run(env: Env) -> Value:
        return table.lookup(to_string(wanted(env)), to_string(key_column(env)),
                            to_string(key(env)))

    return run


def _position_builder(call: _Call) -> _Run:  # never called: the parser reads position(..)
    return _position


# name -> (fewest arguments, most arguments or None for any number, builder)
_FUNCTIONS: Final[dict[str, tuple[int, int | None, _Builder]]] = {
    "if": (3, 3, _if),
    "coalesce": (2, 2, _coalesce),
    "not": (1, 1, _eager(lambda x: not to_bool(x))),
    "true": (0, 0, _eager(lambda: True)),
    "false": (0, 0, _eager(lambda: False)),
    "boolean": (1, 1, _eager(to_bool)),
    "boolean-from-string": (1, 1, _eager(lambda x: to_string(x).strip() in ("true", "1"))),
    "string": (1, 1, _eager(to_string)),
    "number": (1, 1, _eager(to_number)),
    "selected": (2, 2, _eager(_selected)),
    "count-selected": (1, 1, _eager(_count_selected)),
    "selected-at": (2, 2, _eager(_selected_at)),
    "jr:choice-name": (2, 2, _choice_name),
    "string-length": (0, 1, _current_or(lambda x: float(len(to_string(x))))),
    "normalize-space": (0, 1, _current_or(lambda x: " ".join(to_string(x).split()))),
    "regex": (2, 2, _regex),
    "contains": (2, 2, _eager(lambda a, b: to_string(b) in to_string(a))),
    "starts-with": (2, 2, _eager(lambda a, b: to_string(a).startswith(to_string(b)))),
    "ends-with": (2, 2, _eager(lambda a, b: to_string(a).endswith(to_string(b)))),
    "substr": (2, 3, _eager(_substr)),
    "substring-before": (2, 2, _eager(_substring_before)),
    "substring-after": (2, 2, _eager(_substring_after)),
    "translate": (3, 3, _eager(_translate)),
    "concat": (1, None, _eager(_concat)),
    "int": (1, 1, _eager(_int)),
    "round": (1, 2, _eager(_round)),
    "floor": (1, 1, _eager(_floor)),
    "ceiling": (1, 1, _eager(_ceiling)),
    "abs": (1, 1, _eager(lambda x: abs(to_number(x)))),
    "pow": (2, 2, _eager(_pow)),
    "sqrt": (1, 1, _eager(_sqrt)),
    "log": (1, 1, _eager(_log(math.log))),
    "log10": (1, 1, _eager(_log(math.log10))),
    "exp": (1, 1, _eager(_real(math.exp))),
    "exp10": (1, 1, _eager(_real(lambda x: math.pow(10.0, x)))),
    "sin": (1, 1, _eager(_real(math.sin))),
    "cos": (1, 1, _eager(_real(math.cos))),
    "tan": (1, 1, _eager(_real(math.tan))),
    "asin": (1, 1, _eager(_real(math.asin))),
    "acos": (1, 1, _eager(_real(math.acos))),
    "atan": (1, 1, _eager(_real(math.atan))),
    "atan2": (2, 2, _eager(_real(math.atan2))),
    "pi": (0, 0, _eager(lambda: math.pi)),
    "min": (1, None, _extremes(largest=False)),
    "max": (1, None, _extremes(largest=True)),
    "sum": (1, 1, _sum),
    "today": (0, 0, _clock),
    "now": (0, 0, _clock),
    "date": (1, 1, _eager(_date)),
    "date-time": (1, 1, _eager(_date_time)),
    "decimal-date-time": (1, 1, _eager(_decimal_date_time)),
    "format-date": (2, 2, _format_date(keep_time=False)),
    "format-date-time": (2, 2, _format_date(keep_time=True)),
    "uuid": (0, 0, _uuid),
    "pulldata": (4, 4, _pulldata),
    # repeats (see the module's docstring)
    "count": (1, 1, _count(non_empty=False)),
    "count-non-empty": (1, 1, _count(non_empty=True)),
    "position": (1, 1, _position_builder),
    "indexed-repeat": (3, 7, _indexed_repeat),
}


# --------------------------------------------------------------------------- entry point


def parse(source: str, *, allow_bare_names: bool = False,
          data: DataFiles | None = None) -> Expression:
    """Parse an expression; bare names (choice columns) only for choice_filter; ``data``
    gives ``pulldata()`` its files."""
    if len(source) > MAX_LENGTH:
        raise ExpressionError(
            f"expression is too long ({len(source)} characters; at most {MAX_LENGTH})",
            source,
            MAX_LENGTH,
        )
    lexer = _Lexer(source)
    parser = _Parser(source, lexer.tokens(), allow_bare_names, data)
    node = parser.parse()
    return Expression(source, frozenset(parser.references), lexer.repaired_quotes, node.run)


# --------------------------------------------------------------------------- limits


@dataclass(frozen=True, slots=True)
class Limits:
    """What a constraint asks of an answer, as far as its simple terms tell (for a hint).

    Bounds are inclusive unless ``*_excluded``; with ``whole_numbers`` a strict
    bound is turned into the inclusive one (``. > 0`` → minimum 1). ``complete``
    is false when the constraint asks more than these fields say.
    """

    minimum: Decimal | None = None
    maximum: Decimal | None = None
    minimum_excluded: bool = False
    maximum_excluded: bool = False
    min_length: int | None = None
    max_length: int | None = None
    min_selected: int | None = None
    max_selected: int | None = None
    pattern: str | None = None
    whole_numbers: bool = False
    complete: bool = True


_FLIPPED: Final = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "="}
_COMPARISONS: Final = frozenset({*_FLIPPED, "!="})
_MEASURES: Final = {"string-length": "length", "count-selected": "selected"}


def limits(expression: Expression, *, own: str | None = None,
           whole_numbers: bool = False) -> Limits | None:
    """What the constraint ``expression`` asks, read from its simple terms (see the module doc).

    ``own`` is the question's name, which stands for ``.``; ``whole_numbers``
    for integer questions. ``None`` when the constraint has ``or`` at its top
    or not one term could be read.
    """
    try:
        tokens = [t for t in _Lexer(expression.source).tokens() if t.kind != _END]
    except ExpressionError:
        return None
    terms = _conjuncts(_unwrapped(tokens))
    if terms is None:
        return None
    found: dict[str, Decimal | str] = {}
    excluded: set[str] = set()
    complete = True
    for term in terms:
        if not _read_term(_unwrapped(term), own, whole_numbers, found, excluded):
            complete = False
    if not found:
        return None

    def number(key: str) -> Decimal | None:
        value = found.get(key)
        return value if isinstance(value, Decimal) else None

    def count(key: str) -> int | None:
        value = number(key)
        return None if value is None else int(value)

    pattern = found.get("pattern")
    return Limits(
        minimum=number("number_min"), maximum=number("number_max"),
        minimum_excluded="number_min" in excluded, maximum_excluded="number_max" in excluded,
        min_length=count("length_min"), max_length=count("length_max"),
        min_selected=count("selected_min"), max_selected=count("selected_max"),
        pattern=pattern if isinstance(pattern, str) else None,
        whole_numbers=whole_numbers, complete=complete,
    )


def _unwrapped(tokens: list[_Token]) -> list[_Token]:
    """The tokens without parentheses around all of them."""
    while (len(tokens) >= 2 and tokens[0].kind == _LPAREN and tokens[-1].kind == _RPAREN
           and _closing(tokens, 0) == len(tokens) - 1):
        tokens = tokens[1:-1]
    return tokens


def _closing(tokens: list[_Token], opening: int) -> int:
    depth = 0
    for index in range(opening, len(tokens)):
        if tokens[index].kind == _LPAREN:
            depth += 1
        elif tokens[index].kind == _RPAREN:
            depth -= 1
            if depth == 0:
                return index
    return -1


def _conjuncts(tokens: list[_Token]) -> list[list[_Token]] | None:
    """The terms ``and`` joins at the top, or ``None`` if ``or`` joins anything there."""
    terms: list[list[_Token]] = [[]]
    depth = 0
    for token in tokens:
        if token.kind == _LPAREN:
            depth += 1
        elif token.kind == _RPAREN:
            depth -= 1
        elif depth == 0 and token.kind == _NAME and token.text in ("and", "or") and terms[-1]:
            if token.text == "or":
                return None
            terms.append([])
            continue
        terms[-1].append(token)
    return terms


def _read_term(term: list[_Token], own: str | None, whole_numbers: bool,
               found: dict[str, Decimal | str], excluded: set[str]) -> bool:
    """Record what one term asks into ``found``; False if it is not a term this reads."""
    kinds = [t.kind for t in term]
    if (kinds[:2] == [_NAME, _LPAREN] and term[0].text == "regex"
            and kinds[-3:] == [_COMMA, _STR, _RPAREN] and _measure(term[2:-3], own) == "number"
            and "pattern" not in found):
        found["pattern"] = str(term[-2].value)
        return True
    depth = 0
    at = []
    for index, token in enumerate(term):
        depth += (token.kind == _LPAREN) - (token.kind == _RPAREN)
        if depth == 0 and token.kind == _OP and token.text in _COMPARISONS:
            at.append(index)
    if len(at) != 1 or term[at[0]].text == "!=":
        return False
    left, relation, right = term[: at[0]], term[at[0]].text, term[at[0] + 1 :]
    number = _written_number(right)
    if number is None:
        left, right, relation = right, left, _FLIPPED[relation]
        number = _written_number(right)
    measure = _measure(left, own)
    if number is None or measure is None:
        return False
    if measure != "number" and number != number.to_integral_value():
        return False
    _bound(measure, relation, number, whole_numbers or measure != "number", found, excluded)
    return True


def _written_number(tokens: list[_Token]) -> Decimal | None:
    """The number ``tokens`` write (``5``, ``-2.5``), or None."""
    if [t.kind for t in tokens] == [_NUM]:
        return Decimal(tokens[0].text)
    if [t.kind for t in tokens] == [_OP, _NUM] and tokens[0].text == "-":
        return -Decimal(tokens[1].text)
    return None


def _measure(tokens: list[_Token], own: str | None) -> str | None:
    """``number`` for ``.`` (or the question's own name), ``length`` or ``selected``."""
    if len(tokens) == 1 and (tokens[0].kind == _DOT
                             or (tokens[0].kind == _REF and own is not None
                                 and tokens[0].value == own)):
        return "number"
    kinds = [t.kind for t in tokens]
    if tokens and tokens[0].kind == _NAME and tokens[0].text in _MEASURES:
        inside = tokens[2:-1]
        if (kinds[1:2] == [_LPAREN] and kinds[-1:] == [_RPAREN]
                and (not inside and tokens[0].text == "string-length"
                     or _measure(inside, own) == "number")):
            return _MEASURES[tokens[0].text]
    return None


def _bound(measure: str, relation: str, number: Decimal, whole: bool,
           found: dict[str, Decimal | str], excluded: set[str]) -> None:
    """Narrow the bounds of ``measure`` with ``relation number`` (= sets both)."""
    if relation in (">", ">=", "="):
        value, strict = number, relation == ">"
        if whole:
            value = (number.to_integral_value(ROUND_FLOOR) + 1 if strict
                     else number.to_integral_value(ROUND_CEILING))
            strict = False
        _narrow(f"{measure}_min", value, strict, found, excluded, lower=True)
    if relation in ("<", "<=", "="):
        value, strict = number, relation == "<"
        if whole:
            value = (number.to_integral_value(ROUND_CEILING) - 1 if strict
                     else number.to_integral_value(ROUND_FLOOR))
            strict = False
        _narrow(f"{measure}_max", value, strict, found, excluded, lower=False)


def _narrow(key: str, value: Decimal, strict: bool, found: dict[str, Decimal | str],
            excluded: set[str], *, lower: bool) -> None:
    current = found.get(key)
    if isinstance(current, Decimal):
        tighter = value > current if lower else value < current
        if not tighter and not (value == current and strict):
            return
    found[key] = value
    if strict:
        excluded.add(key)
    else:
        excluded.discard(key)

