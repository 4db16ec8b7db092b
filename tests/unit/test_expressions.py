"""The XLSForm expression language: parsing, coercions, operators, functions, errors."""

import datetime as dt
import math
import pickle
import random
from decimal import Decimal
from typing import Any

import pytest
from bot.survey.expressions import (
    MAX_DEPTH,
    MAX_LENGTH,
    Env,
    EvaluationError,
    Expression,
    ExpressionError,
    Limits,
    Value,
    limits,
    parse,
    to_bool,
    to_number,
    to_string,
)

NAN = math.nan
INF = math.inf

ANSWERS: dict[str, Value] = {
    "yes": "yes",
    "empty": "",
    "age": 20,
    "height": 1.75,
    "one": "1",
    "colors": "red green blue",
    "color": "green",
    "born": dt.date(2000, 2, 29),
    "seen": dt.datetime(2024, 3, 1, 14, 5, 9, 123000),
    "flag": True,
    "word": "hello",
}


def evaluate(source: str, values: dict[str, Value] | None = None, **env: Any) -> Value:
    return parse(source).evaluate(Env(values={**ANSWERS, **(values or {})}, **env))


def same(actual: Value, expected: Value) -> bool:
    """Equal in value and in type; NaN equals NaN."""
    if isinstance(expected, float) and math.isnan(expected):
        return isinstance(actual, float) and math.isnan(actual)
    return type(actual) is type(expected) and actual == expected


def check(source: str, expected: Value, **env: Any) -> None:
    actual = evaluate(source, **env)
    assert same(actual, expected), f"{source!r} gave {actual!r}, expected {expected!r}"


# ----------------------------------------------------------------------------- conversions


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", NAN),
        ("abc", NAN),
        ("12", 12.0),
        ("  -3.5\t", -3.5),
        (".5", 0.5),
        ("5.", 5.0),
        ("+5", NAN),
        ("1e3", NAN),
        ("inf", NAN),
        ("1,5", NAN),
        (True, 1.0),
        (False, 0.0),
        (7, 7.0),
        (2.5, 2.5),
        (dt.date(1970, 1, 11), 10.0),
        (dt.date(1969, 12, 31), -1.0),
        (dt.datetime(1970, 1, 2, 12, 0), 1.5),
        (dt.datetime(1970, 1, 2, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=5))), 1.5),
    ],
)
def test_to_number(value: Value, expected: float) -> None:
    assert same(to_number(value), expected)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("text", "text"),
        (3.0, "3"),
        (3, "3"),
        (-0.0, "0"),
        (1.5, "1.5"),
        (0.1, "0.1"),
        (1e-7, "0.0000001"),
        (1e22, "10000000000000000000000"),
        (NAN, "NaN"),
        (INF, "Infinity"),
        (-INF, "-Infinity"),
        (True, "true"),
        (False, "false"),
        (dt.date(2024, 1, 5), "2024-01-05"),
        (dt.datetime(2024, 1, 5, 9, 3, 1), "2024-01-05T09:03:01.000"),
        (
            dt.datetime(2024, 1, 5, 9, 3, 1, 250000, tzinfo=dt.timezone(dt.timedelta(hours=-3))),
            "2024-01-05T09:03:01.250-03:00",
        ),
    ],
)
def test_to_string(value: Value, expected: str) -> None:
    assert to_string(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", False),
        ("false", True),
        ("0", True),
        (" ", True),
        (0.0, False),
        (-0.0, False),
        (NAN, False),
        (0.1, True),
        (-1, True),
        (0, False),
        (INF, True),
        (True, True),
        (False, False),
        (dt.date(1970, 1, 1), True),
        (dt.datetime(1970, 1, 1), True),
    ],
)
def test_to_bool(value: Value, expected: bool) -> None:
    assert to_bool(value) is expected


# ----------------------------------------------------------------------------- operators


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # arithmetic
        ("1 + 2", 3.0),
        ("5 - 7", -2.0),
        ("3 * 4", 12.0),
        ("7 div 2", 3.5),
        ("7 mod 3", 1.0),
        ("-7 mod 3", -1.0),
        ("7 mod -3", 1.0),
        ("5.5 mod 2", 1.5),
        ("1 div 0", INF),
        ("-1 div 0", -INF),
        ("0 div 0", NAN),
        ("5 mod 0", NAN),
        ("'a' + 1", NAN),
        ("${empty} + 1", NAN),
        ("${one} + 1", 2.0),
        ("${age} + ${height}", 21.75),
        ("${flag} + 1", 2.0),
        ("-${age}", -20.0),
        ("- - 3", 3.0),
        ("--'4'", 4.0),
        ("2 - -3", 5.0),
        ("${age}-1", 19.0),
        # precedence
        ("1 + 2 * 3", 7.0),
        ("(1 + 2) * 3", 9.0),
        ("10 - 4 - 3", 3.0),
        ("100 div 10 div 5", 2.0),
        ("2 * 3 mod 4", 2.0),
        ("-2 * 3", -6.0),
        ("1 + 2 = 3", True),
        ("1 < 2 = 2 < 3", True),
        ("1 = 1 = 1", True),
        ("2 = 2 = 2", True),
        ("2 = 2 = 0", False),
        ("1 < 2 < 3", True),
        ("3 > 2 > 1", False),
        ("true() or false() and false()", True),
        ("(true() or false()) and false()", False),
        ("1 = 1 and 2 > 1", True),
        ("1 + 1 = 2 or 1 div 0", True),
        # boolean operators
        ("true() and true()", True),
        ("true() and false()", False),
        ("false() or false()", False),
        ("'' or 0", False),
        ("'x' and 1", True),
        ("1 and 2 and 3 and 0", False),
        ("0 or '' or 'x' or 0", True),
        # equality: strings as strings
        ("${yes} = 'yes'", True),
        ("${yes} != 'yes'", False),
        ("${yes} = 'Yes'", False),
        ("${empty} = ''", True),
        ("${empty} = 'yes'", False),
        ("${empty} != 'yes'", True),
        ("'abc' = 'abc'", True),
        ('"abc" = \'abc\'', True),
        # equality: a number on either side compares as numbers
        ("${one} = 1", True),
        ("1 = ${one}", True),
        ("'1.0' = 1", True),
        ("' 1 ' = 1", True),
        ("${one} = '1.0'", False),
        ("${age} = 20", True),
        ("${age} = '20'", True),
        ("${empty} = 0", False),
        ("${empty} != 0", True),
        ("0 div 0 = 0 div 0", False),
        ("0 div 0 != 0 div 0", True),
        # equality: booleans win
        ("true() = 'x'", True),
        ("true() = 'false'", True),
        ("false() = ''", True),
        ("true() = 1", True),
        ("false() = 0", True),
        ("${flag} = true()", True),
        ("selected(${colors}, 'red') = true()", True),
        # equality: dates
        ("${born} = '2000-02-29'", True),
        ("'2000-02-29' = ${born}", True),
        ("${born} != '2000-02-29'", False),
        ("${born} = '2000-03-01'", False),
        ("${born} = 'not a date'", False),
        ("${born} != 'not a date'", True),
        ("${born} = ''", False),
        ("${born} = date('2000-02-29')", True),
        ("${born} = 11016", True),
        ("${seen} = '2024-03-01T14:05:09.123'", True),
        ("${seen} = '2024-03-01'", False),
        ("date('2024-03-01') = date-time('2024-03-01T00:00')", True),
        # relational: numbers, and everything through numbers
        ("${age} > 18", True),
        ("${age} >= 20", True),
        ("${age} < 20", False),
        ("${age} <= 20", True),
        ("${one} < 2", True),
        ("'10' > '9'", True),
        ("'b' > 'a'", False),
        ("'b' < 'a'", False),
        ("${empty} > 18", False),
        ("${empty} < 18", False),
        ("${empty} >= 0", False),
        ("${empty} <= 0", False),
        ("${missing} > 18", False),
        ("true() > false()", True),
        ("1 div 0 > 1000000", True),
        # relational: dates
        ("${born} < '2000-03-01'", True),
        ("${born} > '2000-03-01'", False),
        ("'2000-03-01' > ${born}", True),
        ("${born} >= '2000-02-29'", True),
        ("${born} < 'soon'", False),
        ("${born} > ''", False),
        ("${born} < ${seen}", True),
        ("${seen} > '2024-03-01T14:00:00'", True),
        ("${seen} < '2024-03-01T14:05:10Z'", True),
        ("${born} > 11015", True),
    ],
)
def test_operators(source: str, expected: Value) -> None:
    check(source, expected)


def test_and_or_short_circuit() -> None:
    env = {"now": None}
    check("false() and today() = ''", False, **env)
    check("true() or today() = ''", True, **env)
    check("false() or true() or today()", True, **env)
    with pytest.raises(EvaluationError):
        evaluate("true() and today()", **env)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("div", 2.0),
        ("mod = 4", True),
        ("and and or", False),
        ("or or and", True),
        ("div div mod", 0.5),
        ("count-selected(and)", 1.0),
    ],
)
def test_operator_words_are_names_in_operand_position(source: str, expected: Value) -> None:
    names: dict[str, Value] = {"div": 2, "mod": 4, "and": "a", "or": ""}
    result = parse(source, allow_bare_names=True).evaluate(Env(names=names))
    assert same(result, expected)


# ----------------------------------------------------------------------------- references


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("${yes}", "yes"),
        ("${age}", 20.0),
        ("${missing}", ""),
        ("${flag}", True),
        ("${born}", dt.date(2000, 2, 29)),
        ("../yes", "yes"),
        ("../../yes", "yes"),
        ("./yes", "yes"),
        ("/data/yes", "yes"),
        ("/data/group/sub_group/yes", "yes"),
        ("/yes", "yes"),
        (".", "current"),
        (". = 'current'", True),
        ("${a.b-c_d}", "dotted"),
        ("${_x1}", "underscore"),
        ("${été}", "unicode"),
    ],
)
def test_references(source: str, expected: Value) -> None:
    check(
        source,
        expected,
        current="current",
        values={"a.b-c_d": "dotted", "_x1": "underscore", "été": "unicode"},
    )


def test_int_answers_become_numbers() -> None:
    assert same(parse(".").evaluate(Env(current=3)), 3.0)
    assert same(parse("${n}").evaluate(Env(values={"n": 3})), 3.0)
    assert same(parse("x", allow_bare_names=True).evaluate(Env(names={"x": 3})), 3.0)


def test_current_defaults_to_empty() -> None:
    assert parse(".").evaluate(Env()) == ""
    assert parse("string-length(.)").evaluate(Env()) == 0.0


@pytest.mark.parametrize(
    ("source", "references"),
    [
        ("1 + 2", set()),
        ("${a}", {"a"}),
        ("${a} = 'yes' and selected(${b}, 'x') or ${a} > 1", {"a", "b"}),
        ("../a + /data/group/b + ./c", {"a", "b", "c"}),
        (". > 3", set()),
        ("jr:choice-name(${a}, '${b}')", {"a", "b"}),
        ("jr:choice-name(., '/data/grp/q')", {"q"}),
        ("jr:choice-name(., '../q')", {"q"}),
        ("'${not_a_reference}'", set()),
        ("if(${c}, concat(${d}, ${e}), ${f})", {"c", "d", "e", "f"}),
    ],
)
def test_references_are_extracted(source: str, references: set[str]) -> None:
    assert parse(source).references == frozenset(references)


def test_bare_names_are_not_references() -> None:
    expression = parse("region = ${region} and mod = 1", allow_bare_names=True)
    assert expression.references == frozenset({"region"})


# ----------------------------------------------------------------------------- bare names


@pytest.mark.parametrize(
    ("source", "names", "expected"),
    [
        ("region = ${region}", {"region": "north"}, True),
        ("region = ${region}", {"region": "south"}, False),
        ("region = ${region}", {}, False),
        ("selected(${regions}, region)", {"region": "east"}, True),
        ("pop > 1000", {"pop": 5000}, True),
        ("cat-1 = 'x'", {"cat-1": "x"}, True),
        ("unknown", {}, ""),
    ],
)
def test_bare_names_in_choice_filters(
    source: str, names: dict[str, Value], expected: Value
) -> None:
    env = Env(values={"region": "north", "regions": "west east"}, names=names)
    assert same(parse(source, allow_bare_names=True).evaluate(env), expected)


@pytest.mark.parametrize(
    ("source", "message", "position"),
    [
        ("region = ${region}", "unexpected name 'region'; did you mean ${region}?", 0),
        ("${a} = 1 and  region", "unexpected name 'region'; did you mean ${region}?", 14),
        ("${a} = true", "function 'true' needs parentheses: true(…)", 7),
        ("not ${a}", "function 'not' needs parentheses: not(…)", 0),
        ("and ${a}", "expected a value before 'and'", 0),
    ],
)
def test_bare_names_without_permission(source: str, message: str, position: int) -> None:
    with pytest.raises(ExpressionError) as caught:
        parse(source)
    assert (caught.value.message, caught.value.position) == (message, position)


# ----------------------------------------------------------------------------- functions

NOW = dt.datetime(2024, 3, 1, 9, 5, 7, 42000)
NOW_AWARE = dt.datetime(2024, 3, 1, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=3)))


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # control flow and booleans
        ("if(${age} >= 18, 'adult', 'minor')", "adult"),
        ("if(${empty}, 'a', 'b')", "b"),
        ("if('false', 1, 2)", 1.0),
        ("if(true(), 1, today())", 1.0),
        ("not(true())", False),
        ("not(${empty})", True),
        ("not(0)", True),
        ("not('0')", False),
        ("true()", True),
        ("false()", False),
        ("boolean('')", False),
        ("boolean('x')", True),
        ("boolean(0 div 0)", False),
        ("boolean(-1)", True),
        ("boolean-from-string('true')", True),
        ("boolean-from-string('1')", True),
        ("boolean-from-string('yes')", False),
        ("boolean-from-string('')", False),
        ("coalesce(${empty}, 'fallback')", "fallback"),
        ("coalesce(${yes}, 'fallback')", "yes"),
        ("coalesce(${empty}, ${missing})", ""),
        ("coalesce(${age}, today())", 20.0),
        # conversions
        ("string(3)", "3"),
        ("string(2.50)", "2.5"),
        ("string(true())", "true"),
        ("string(${empty})", ""),
        ("string(${born})", "2000-02-29"),
        ("number('42')", 42.0),
        ("number(' 4.5 ')", 4.5),
        ("number('')", NAN),
        ("number('x')", NAN),
        ("number(true())", 1.0),
        ("number(false())", 0.0),
        ("number(${born})", 11016.0),
        # select questions
        ("selected(${colors}, 'green')", True),
        ("selected(${colors}, 'purple')", False),
        ("selected(${colors}, 'gre')", False),
        ("selected(${colors}, ' blue ')", True),
        ("selected(${colors}, '')", False),
        ("selected(${color}, 'green')", True),
        ("selected(${empty}, 'green')", False),
        ("selected('  a   b  ', 'b')", True),
        ("selected(${age}, '20')", True),
        ("count-selected(${colors})", 3.0),
        ("count-selected(${color})", 1.0),
        ("count-selected(${empty})", 0.0),
        ("count-selected(' a  b ')", 2.0),
        ("selected-at(${colors}, 0)", "red"),
        ("selected-at(${colors}, 2)", "blue"),
        ("selected-at(${colors}, 3)", ""),
        ("selected-at(${colors}, -1)", ""),
        ("selected-at(${colors}, '1')", "green"),
        ("selected-at(${colors}, ${empty})", ""),
        ("selected-at(${empty}, 0)", ""),
        # strings
        ("string-length(${word})", 5.0),
        ("string-length(${empty})", 0.0),
        ("string-length('héllo wörld')", 11.0),
        ("string-length(${age})", 2.0),
        ("string-length()", 7.0),
        ("normalize-space('  a \t b  ')", "a b"),
        ("normalize-space()", "current"),
        ("contains(${word}, 'ell')", True),
        ("contains(${word}, '')", True),
        ("contains(${empty}, 'x')", False),
        ("starts-with(${word}, 'he')", True),
        ("starts-with(${word}, 'lo')", False),
        ("ends-with(${word}, 'lo')", True),
        ("ends-with(${word}, 'he')", False),
        ("substr('hello', 1)", "ello"),
        ("substr('hello', 1, 3)", "el"),
        ("substr('hello', 0, 100)", "hello"),
        ("substr('hello', 3, 1)", ""),
        ("substr('hello', -2)", "lo"),
        ("substr('hello', 0, -1)", "hell"),
        ("substr(${empty}, 0, 2)", ""),
        ("substr('hello', ${empty})", "hello"),
        ("substring-before('2024-03-01', '-')", "2024"),
        ("substring-before('abc', 'x')", ""),
        ("substring-after('2024-03-01', '-')", "03-01"),
        ("substring-after('abc', 'x')", ""),
        ("translate('bar', 'abc', 'ABC')", "BAr"),
        ("translate('--aaa--', 'abc-', 'ABC')", "AAA"),
        ("concat('a', 'b')", "ab"),
        ("concat('a')", "a"),
        (
            "concat(${yes}, '-', ${age}, '-', ${flag}, '-', ${empty}, '-', ${born})",
            "yes-20-true--2000-02-29",
        ),
        ("concat(1 div 3, '')", "0.3333333333333333"),
        # numbers
        ("int(3.7)", 3.0),
        ("int(-3.7)", -3.0),
        ("int('12.9')", 12.0),
        ("int(${empty})", NAN),
        ("int(1 div 0)", INF),
        ("round(2.5)", 3.0),
        ("round(-2.5)", -3.0),
        ("round(2.4)", 2.0),
        ("round(-0.4)", 0.0),
        ("round(2.675, 2)", 2.68),
        ("round(1.005, 2)", 1.01),
        ("round(-1.005, 2)", -1.01),
        ("round(1234.5678, 1)", 1234.6),
        ("round(1250, -2)", 1300.0),
        ("round(${empty})", NAN),
        ("round(1.5, ${empty})", NAN),
        ("round(1 div 0, 2)", INF),
        ("round(0.1, 1000)", 0.1),
        ("round(123, -1000)", 0.0),
        ("floor(2.7)", 2.0),
        ("floor(-2.2)", -3.0),
        ("floor(${empty})", NAN),
        ("ceiling(2.2)", 3.0),
        ("ceiling(-2.7)", -2.0),
        ("ceiling(1 div 0)", INF),
        ("abs(-3)", 3.0),
        ("abs(${empty})", NAN),
        ("pow(2, 10)", 1024.0),
        ("pow(2, -1)", 0.5),
        ("pow(4, 0.5)", 2.0),
        ("pow(-8, 1 div 3)", NAN),
        ("pow(0, -1)", INF),
        ("pow(10, 400)", INF),
        ("pow(-10, 401)", -INF),
        ("pow(${empty}, 2)", NAN),
        ("pow(${empty}, 0)", 1.0),
        ("sqrt(16)", 4.0),
        ("sqrt(-1)", NAN),
        ("log(1)", 0.0),
        ("log(0)", -INF),
        ("log(-1)", NAN),
        ("log10(1000)", 3.0),
        ("exp(0)", 1.0),
        ("exp(1000)", INF),
        ("exp10(3)", 1000.0),
        ("cos(0)", 1.0),
        ("sin(0)", 0.0),
        ("round(tan(pi() div 4), 6)", 1.0),
        ("acos(1)", 0.0),
        ("asin(2)", NAN),
        ("round(atan(1) * 4, 6)", 3.141593),
        ("atan2(0, -1)", math.pi),
        ("cos(${empty})", NAN),
        ("round(pi(), 4)", 3.1416),
        ("min(3, 1, 2)", 1.0),
        ("max(3, 1, 2)", 3.0),
        ("max('4', ${age})", 20.0),
        ("min(5)", 5.0),
        ("min(1, ${empty})", NAN),
        ("max(${empty}, 1)", NAN),
        ("max(1, 'x')", NAN),
        ("sum(${age})", 20.0),
        ("sum(${empty})", NAN),
        # dates and times
        ("today()", dt.date(2024, 3, 1)),
        ("now()", NOW),
        ("today() - ${born}", 8767.0),
        ("int((today() - ${born}) div 365.25)", 24.0),
        ("date(0)", dt.date(1970, 1, 1)),
        ("date(19783)", dt.date(2024, 3, 1)),
        ("date(1.75)", dt.date(1970, 1, 2)),
        ("date(-0.5)", dt.date(1969, 12, 31)),
        ("date('2024-03-01')", dt.date(2024, 3, 1)),
        ("date('2024-03-01T22:00:00')", dt.date(2024, 3, 1)),
        ("date(${born})", dt.date(2000, 2, 29)),
        ("date(${seen})", dt.date(2024, 3, 1)),
        ("date(today() + 1)", dt.date(2024, 3, 2)),
        ("date('2024-02-30')", ""),
        ("date('soon')", ""),
        ("date(${empty})", ""),
        ("date(0 div 0)", ""),
        ("date(100000000)", ""),
        ("date(true())", ""),
        ("date-time('2024-03-01T10:20:30')", dt.datetime(2024, 3, 1, 10, 20, 30)),
        ("date-time(0.5)", dt.datetime(1970, 1, 1, 12)),
        ("date-time(${empty})", ""),
        ("decimal-date-time('1970-01-02T12:00:00')", 1.5),
        ("decimal-date-time(${born})", 11016.0),
        ("decimal-date-time(${empty})", NAN),
        ("decimal-date-time('x')", NAN),
        ("date(decimal-date-time('2021-06-15'))", dt.date(2021, 6, 15)),
        ("format-date(${born}, '%Y-%m-%d')", "2000-02-29"),
        ("format-date(${born}, '%y/%n/%e')", "00/2/29"),
        ("format-date('2024-03-05', '%d %e %m %n')", "05 5 03 3"),
        ("format-date('2024-03-05', '%a %b')", "Tue Mar"),
        ("format-date('2024-03-05', 'day %e of %b, %Y')", "day 5 of Mar, 2024"),
        ("format-date(${seen}, '%H:%M')", "00:00"),
        ("format-date(${empty}, '%Y')", ""),
        ("format-date('nonsense', '%Y')", ""),
        ("format-date(0, '%Y-%m-%d')", "1970-01-01"),
        ("format-date(${born}, concat('%', 'Q'))", "%Q"),
        ("format-date-time(${seen}, '%Y-%m-%d %H:%M:%S.%3')", "2024-03-01 14:05:09.123"),
        ("format-date-time(now(), '%h:%M')", "9:05"),
        ("format-date-time('2024-03-01T07:08:09', '%H %h %M %S %3')", "07 7 08 09 000"),
        ("format-date-time(${born}, '%e %H')", "29 00"),
        ("format-date-time(${empty}, '%H')", ""),
        ("${born} < today()", True),
        ("today() = '2024-03-01'", True),
        # uuid
        ("uuid()", "fixed-uuid"),
        # choice labels
        ("jr:choice-name(${color}, '${color}')", "label of color/green"),
        ("jr:choice-name('red', \"/data/g/colors\")", "label of colors/red"),
        ("jr:choice-name(selected-at(${colors}, 2), ' ${colors} ')", "label of colors/blue"),
        ("jr:choice-name(${empty}, '${color}')", ""),
    ],
)
def test_functions(source: str, expected: Value) -> None:
    check(
        source,
        expected,
        current="current",
        now=NOW,
        uuid=lambda: "fixed-uuid",
        choice_label=lambda question, choice: f"label of {question}/{choice}",
    )


def test_today_uses_the_date_of_the_given_clock() -> None:
    env = Env(now=NOW_AWARE)
    assert parse("today()").evaluate(env) == dt.date(2024, 3, 1)
    assert parse("format-date-time(now(), '%H:%M')").evaluate(env) == "23:30"
    assert parse("now() > today()").evaluate(env) is True


def test_choice_name_without_labels_gives_the_choice_name() -> None:
    assert parse("jr:choice-name('red', '${colors}')").evaluate(Env()) == "red"


def test_uuid_defaults_to_uuid4() -> None:
    first, second = (parse("uuid()").evaluate(Env()) for _ in range(2))
    assert isinstance(first, str) and len(first) == 36 and first[14] == "4"
    assert first != second


@pytest.mark.parametrize("source", ["today()", "now()", "format-date(today(), '%Y')"])
def test_clock_functions_need_a_clock(source: str) -> None:
    with pytest.raises(EvaluationError) as caught:
        parse(source).evaluate(Env())
    assert "needs the current time" in caught.value.message


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("regex('abc', '[a-c]+')", True),
        ("regex('abcd', '[a-c]+')", False),
        ("regex('xabc', 'abc')", False),
        ("regex('abcx', 'abc')", False),
        ("regex('abc', 'b')", False),
        ("regex('abc', '^abc$')", True),
        ("regex('', '.*')", True),
        ("regex('', '.+')", False),
        ("regex(${age}, '[0-9]{2}')", True),
        ("regex('Ana', '\\p{Lu}\\p{Ll}+')", True),
        ("regex('555-1234', \"[0-9]{3}-[0-9]{4}\")", True),
        ("regex('a|b', concat('a', '[|]', 'b'))", True),
        ("regex('ab', ${pattern})", True),
    ],
)
def test_regex_matches_the_whole_string(source: str, expected: bool) -> None:
    check(source, expected, values={"pattern": "a.?b"})


def test_regex_timeout_is_an_evaluation_error() -> None:
    expression = parse("regex(${x}, '^(a|aa)+$')")
    with pytest.raises(EvaluationError) as caught:
        expression.evaluate(Env(values={"x": "a" * 60 + "b"}))
    assert caught.value.message == "regular expression took longer than 50 ms"
    assert caught.value.position == 0


def test_invalid_dynamic_regex_is_an_evaluation_error() -> None:
    expression = parse("${a} and regex('x', ${pattern})")
    with pytest.raises(EvaluationError) as caught:
        expression.evaluate(Env(values={"a": "1", "pattern": "[x"}))
    assert caught.value.message.startswith("invalid regular expression")
    assert caught.value.position == 9


# ----------------------------------------------------------------------------- quotes


@pytest.mark.parametrize(
    ("source", "expected", "repaired"),
    [
        ("${yes} = 'yes'", True, False),
        ("${yes} = ‘yes’", True, True),
        ("${yes} = “yes”", True, True),
        ("${yes} = ’yes’", True, True),
        ("${yes} = ‘yes'", True, True),
        ("selected(${colors}, ‘red’) and ${word} = “hello”", True, True),
        ("'don’t' = concat('don', '’', 't')", True, False),
        ("\"say “hi”\" = concat('say ', '“hi”')", True, False),
        ("string-length('‘')", 1.0, False),
    ],
)
def test_typographic_quotes_are_repaired(source: str, expected: Value, repaired: bool) -> None:
    expression = parse(source)
    assert same(expression.evaluate(Env(values=ANSWERS)), expected)
    assert expression.repaired_quotes is repaired
    assert expression.source == source


# ----------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("source", "message", "position"),
    [
        ("", "empty expression", 0),
        ("   ", "empty expression", 0),
        ("'abc", "unterminated string", 0),
        ("${a} = \"abc", "unterminated string", 7),
        ("${a} = ‘abc", "unterminated string", 7),
        ("(1 + 2", "unclosed '('", 0),
        ("1 + (2 * (3)", "unclosed '('", 4),
        ("1 + 2)", "unexpected ')'", 5),
        ("()", "unexpected ')'", 1),
        ("selected(${a}, 'x'", "unclosed '('", 8),
        ("selected(${a} 'x')", "unexpected \"'x'\"", 14),
        ("concat('a',)", "unexpected ')'", 11),
        ("concat(,'a')", "unexpected ','", 7),
        ("selected(${a}, 'x') and foo(1)", "unknown function 'foo'", 24),
        ("jr:foo(1)", "unknown function 'jr:foo'", 0),
        ("position()", "position() takes '..': position(..) is the number of the round "
         "being asked", 0),
        ("position(${a})", "position() takes '..': position(..) is the number of the round "
         "being asked", 0),
        ("count(1)", "count() needs a question or a repeat here, like ${name}", 6),
        ("indexed-repeat(${a}, ${r})", "function 'indexed-repeat' takes 3 to 7 arguments, got 2",
         0),
        ("indexed-repeat(${a}, ${r}, 1, ${s})", "indexed-repeat() takes a question, then pairs "
         "of a repeat and a round number", 0),
        ("indexed-repeat('a', ${r}, 1)", "indexed-repeat() needs the question to read here, "
         "like ${name}", 15),
        ("current()/x", "after current()/ comes '..' (current()/../name)", 10),
        ("selected(${a})", "function 'selected' takes 2 arguments, got 1", 0),
        ("1 + not(1, 2)", "function 'not' takes 1 argument, got 2", 4),
        ("true(1)", "function 'true' takes 0 arguments, got 1", 0),
        ("round()", "function 'round' takes 1 to 2 arguments, got 0", 0),
        ("substr('a', 1, 2, 3)", "function 'substr' takes 2 to 3 arguments, got 4", 0),
        ("concat()", "function 'concat' takes at least 1 argument, got 0", 0),
        ("if(1, 2)", "function 'if' takes 3 arguments, got 2", 0),
        ("uuid(8)", "function 'uuid' takes 0 arguments, got 1", 0),
        ("1 2", "unexpected '2'", 2),
        ("${a} = 'x' 'y'", "unexpected \"'y'\"", 11),
        ("${a} ${b}", "unexpected '${b}'", 5),
        ("${a} = 1 foo", "unexpected 'foo'", 9),
        ("1 +", "unexpected end of expression", 3),
        ("${a} =", "unexpected end of expression", 6),
        ("- ", "unexpected end of expression", 2),
        ("* 2", "unexpected '*'", 0),
        ("1 = = 2", "unexpected '='", 4),
        ("${a", "unterminated reference: '}' is missing", 0),
        ("${}", "invalid question name in ${}", 0),
        ("1 + ${1a}", "invalid question name in ${1a}", 4),
        ("${a b}", "invalid question name in ${a b}", 0),
        ("$a", "'$' must start a reference like ${name}", 0),
        ("a | b", "the union operator '|' is not supported", 2),
        ("/data/a[1]", "predicates ('[...]') are not supported", 7),
        ("..", "'..' (the parent group) only goes in position(..)", 0),
        ("1 + ../..", "'..' (the parent group) only goes in position(..)", 4),
        ("../", "incomplete path: a question name is missing", 3),
        ("/data/", "incomplete path: a question name is missing", 6),
        ("/", "incomplete path: a question name is missing", 1),
        ("1 # 2", "unexpected character '#'", 2),
        ("1e5", "unexpected 'e5'", 1),
        ("regex(., '[a-')", "invalid regular expression: unterminated character set", 13),
        ("foo(1) and 'abc", "unknown function 'foo'", 0),
        ("1 + 2) and 'abc", "unexpected ')'", 5),
        ("'abc' = (1 # 2", "unexpected character '#'", 11),
        ("regex(., 'a)')", "invalid regular expression: unbalanced parenthesis", 11),
        ("format-date(., '%Y-%q')", "unknown date format code '%q' in format-date", 15),
        ("format-date-time(., '%H%')", "unknown date format code '%' in format-date-time", 20),
        (
            "jr:choice-name(., ${q})",
            "the second argument of jr:choice-name must be a question in quotes, like '${q}'",
            18,
        ),
        (
            "jr:choice-name(., 'a b')",
            "the second argument of jr:choice-name must be a question in quotes, like '${q}'",
            18,
        ),
    ],
)
def test_parse_errors(source: str, message: str, position: int) -> None:
    with pytest.raises(ExpressionError) as caught:
        parse(source)
    error = caught.value
    assert not isinstance(error, EvaluationError)
    assert (error.message, error.position, error.source) == (message, position, source)


def test_error_string_names_position_and_source() -> None:
    with pytest.raises(ExpressionError) as caught:
        parse("selected(${a}, 'x') and foo(1)")
    assert str(caught.value) == (
        "unknown function 'foo' at position 24 in: selected(${a}, 'x') and foo(1)"
    )
    assert isinstance(caught.value, ValueError)


def test_error_string_shows_an_excerpt_of_long_sources() -> None:
    source = "${a} and " * 100 + "foo(1)"
    with pytest.raises(ExpressionError) as caught:
        parse(source)
    text = str(caught.value)
    assert text.startswith(f"unknown function 'foo' at position {len(source) - 6} in: …")
    assert text.endswith("foo(1)")
    assert len(text) < 300


def test_errors_survive_pickling() -> None:
    error = ExpressionError("unexpected '2'", "1 2", 2)
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.message, copy.source, copy.position) == ("unexpected '2'", "1 2", 2)


# ----------------------------------------------------------------------------- guards


def test_too_long() -> None:
    source = "1" + " + 1" * (MAX_LENGTH // 4)
    assert len(source) > MAX_LENGTH
    with pytest.raises(ExpressionError) as caught:
        parse(source)
    assert caught.value.message.startswith("expression is too long")
    assert caught.value.position == MAX_LENGTH


def test_longest_allowed_expression_parses_and_evaluates() -> None:
    terms = (MAX_LENGTH - 1) // 4
    source = "1" + " + 1" * terms
    assert len(source) <= MAX_LENGTH
    assert parse(source).evaluate(Env()) == terms + 1
    chain = " or ".join(["false()"] * 900)
    assert parse(chain).evaluate(Env()) is False


@pytest.mark.parametrize(
    "source",
    [
        "(" * 150 + "1" + ")" * 150,
        "not(" * 150 + "1" + ")" * 150,
        "concat(" * 150 + "'a'" + ")" * 150,
        "1 or (" * 150 + "1" + ")" * 150,
    ],
)
def test_too_deep(source: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        parse(source)
    assert caught.value.message == f"expression is nested too deeply (over {MAX_DEPTH} levels)"


def test_deep_but_allowed_nesting_evaluates() -> None:
    source = "(" * 90 + "1" + ")" * 90
    assert parse(source).evaluate(Env()) == 1.0
    assert parse("-" * 5000 + "1").evaluate(Env()) == 1.0


# ----------------------------------------------------------------------------- the object


def test_expression_is_a_value() -> None:
    first, second = parse("${a} = 1"), parse("${a} = 1")
    assert isinstance(first, Expression)
    assert first == second
    assert hash(first) == hash(second)
    assert first.source == "${a} = 1"
    assert first.is_true(Env(values={"a": "1"})) is True
    assert first.is_true(Env()) is False


@pytest.mark.parametrize(
    ("source", "expected"),
    [("${a}", True), ("${empty}", False), ("0", False), ("'0'", True), ("1 div 0", True)],
)
def test_is_true(source: str, expected: bool) -> None:
    assert parse(source).is_true(Env(values={"a": "x", "empty": ""})) is expected


def test_env_defaults() -> None:
    env = Env()
    assert dict(env.values) == {} and dict(env.names) == {}
    assert env.current == "" and env.now is None


def test_garbage_raises_only_expression_errors() -> None:
    """Random fragments of the language never escape as other exceptions."""
    rng = random.Random(20180101)
    pieces = [
        "${a}", "${d}", ".", "../a", "/data/a", "1", "-", ".5", "'x'", "“y”", "'2020-01-01'",
        " div ", " mod ", " and ", " or ", "=", "!=", "<", ">=", "+", "*", "(", ")", ",", "'",
        "selected(", "round(", "substr(", "date(", "format-date(", "regex(", "if(", "concat(",
        "pow(", "min(", "today()", "0 div 0", "99999999999", "'[a'", "'%Y'", "$", "|", "[",
    ]  # fmt: skip
    env = Env(values={"a": "a b", "d": dt.date(2020, 1, 1)}, now=NOW, current="5")
    for _ in range(3000):
        source = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 12)))
        try:
            expression = parse(source)
        except EvaluationError:
            raise
        except ExpressionError:
            continue
        try:
            to_string(expression.evaluate(env))
        except EvaluationError as error:
            assert not error.message.startswith("cannot evaluate"), source


# --- what a constraint asks ---------------------------------------------------------

D = Decimal


@pytest.mark.parametrize(
    ("source", "whole", "expected"),
    [
        (". >= 1 and . <= 10", True, Limits(minimum=D(1), maximum=D(10), whole_numbers=True)),
        (".>0 and .<50", True, Limits(minimum=D(1), maximum=D(49), whole_numbers=True)),
        (".>0 and .<50", False, Limits(minimum=D(0), maximum=D(50), minimum_excluded=True,
                                       maximum_excluded=True)),
        ("(. >= -5) and (. <= 2.5)", False, Limits(minimum=D(-5), maximum=D("2.5"))),
        (". <= 2.5", True, Limits(maximum=D(2), whole_numbers=True)),
        ("10 >= .", True, Limits(maximum=D(10), whole_numbers=True)),
        ("${age} >= 18 and ${age} < 120", True,
         Limits(minimum=D(18), maximum=D(119), whole_numbers=True)),  # its own name is "."
        (". >= 1 and . >= 3 and . > 3", False, Limits(minimum=D(3), minimum_excluded=True)),
        ("string-length(.) <= 20", False, Limits(max_length=20)),
        ("string-length() < 21 and string-length(.) >= 3", False,
         Limits(min_length=3, max_length=20)),
        ("string-length(.) = 5", False, Limits(min_length=5, max_length=5)),
        ("regex(., '^[0-9]{5}$')", False, Limits(pattern="^[0-9]{5}$")),
        ("regex(.,'[a-z]+') and string-length(.) <= 8", False,
         Limits(max_length=8, pattern="[a-z]+")),
        ("count-selected(.) <= 3", False, Limits(max_selected=3)),
        ("count-selected(.)<=3 and not(selected(., 'none') and count-selected(.)>1)", False,
         Limits(max_selected=3, complete=False)),
        (". >= 1 and . <= ${most}", True,
         Limits(minimum=D(1), whole_numbers=True, complete=False)),
        # nothing it can say
        (". = 0 or . >= 999", True, None),
        (". <= ${most}", True, None),
        (". != 3", True, None),
        ("selected(., 'a')", False, None),
        ("string-length(.) <= 2.5", False, None),
        ("regex(${other}, 'x')", False, None),
    ],
)
def test_what_a_constraint_asks_is_read_from_its_simple_terms(
    source: str, whole: bool, expected: Limits | None
) -> None:
    assert limits(parse(source), own="age", whole_numbers=whole) == expected


def test_reading_what_a_constraint_asks_never_fails() -> None:
    rng = random.Random(4)
    pieces = [".", "${age}", "1", "-", "2.5", " and ", " or ", "<", "<=", ">", "=", "!=",
              "(", ")", ",", "'x'", "string-length(", "count-selected(", "regex(", "not("]
    for _ in range(3000):
        source = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 10)))
        try:
            expression = parse(source)
        except ExpressionError:
            continue
        limits(expression, own="age", whole_numbers=rng.random() < 0.5)
