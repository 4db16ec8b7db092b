"""Repeats: rounds walked by the engine, expressions over them, and the forms that declare them."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from pathlib import Path

import pytest
from bot.survey import engine
from bot.survey.engine import NothingBefore, Progress, RoundsDiscarded, Step
from bot.survey.expressions import Env, Value, parse
from bot.survey.loader import check_survey, load_survey
from bot.survey.model import Counting, Survey, answer_key, parse_key
from bot.survey.walk import Walk

from tests.unit.surveys import survey_from

NOW = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)
FORMS = Path(__file__).resolve().parents[1] / "forms"


@pytest.fixture(scope="module")
def roster() -> Survey:
    survey, problems = load_survey(FORMS / "roster.yaml")
    assert not problems
    return survey


@pytest.fixture(scope="module")
def household() -> Survey:
    survey, _ = load_survey(FORMS / "roster.md")
    return survey


def go(survey: Survey, *inputs: str | None, step: Step | None = None) -> Step:
    """Answer (None: skip) from the start, or on from ``step``."""
    step = step or engine.start(survey, NOW)
    for raw in inputs:
        progress = step.progress
        step = (engine.skip(survey, progress, NOW) if raw is None
                else engine.answer(survey, progress, raw, NOW))
    return step


FAMILY = ("3", "Amina", "34", "f", "yes", "Omar", "12", "m", "Lina", "70", "f", "no")


# --- keys ------------------------------------------------------------------------------


@pytest.mark.parametrize(("rounds", "key"), [
    ((), "age"),
    ((("member", 2),), "member[2]/age"),
    ((("member", 2), ("visit", 11)), "member[2]/visit[11]/age"),
])
def test_keys_name_the_round(rounds: tuple[tuple[str, int], ...], key: str) -> None:
    assert answer_key("age", rounds) == key
    assert parse_key(key) == (rounds, "age")


@pytest.mark.parametrize("key", ["member[x]/age", "member/age", "[2]/age", "member[2]x/age"])
def test_malformed_keys_are_not_read(key: str) -> None:
    assert parse_key(key) is None


# --- walking rounds ----------------------------------------------------------------------


def test_each_question_of_a_round_is_asked_once_per_round(roster: Survey) -> None:
    step = go(roster, "2", "Amina", "34")
    assert step.progress.current == "member[1]/sex"
    step = go(roster, "f", "yes", "Omar", "12", "m", step=step)
    assert step.progress.current == "member[+]"  # Omar is 12: 'works' is not asked
    assert dict(step.progress.answers) == {
        "household_size": "2", "member[1]/member_name": "Amina", "member[1]/age": "34",
        "member[1]/sex": "f", "member[1]/works": "yes", "member[2]/member_name": "Omar",
        "member[2]/age": "12", "member[2]/sex": "m"}


def test_a_question_names_its_round(roster: Survey) -> None:
    progress = go(roster, "2", "Amina", "34", "f", "yes", "Omar").progress
    assert progress.current == "member[2]/age"
    text = roster.question("age").text.get("fr")
    assert engine.interpolate(roster, text, progress.answers, "fr", (("member", 2),)) == (
        "Quel âge a Omar ?")
    (first,) = engine.describe_rounds(roster, progress, (("member", 1),), NOW, "en")
    assert (first.number, first.total, first.name) == (1, 2, "Amina")
    (second,) = engine.describe_rounds(roster, progress, (("member", 2),), NOW, "en")
    assert (second.number, second.total, second.name) == (2, 2, "Omar")


def test_the_position_counts_every_round(roster: Survey) -> None:
    progress = engine.start(roster, NOW).progress
    assert engine.position(roster, progress, NOW) == (1, 5)  # size, head, the open repeat…
    progress = go(roster, "3").progress
    assert engine.position(roster, progress, NOW) == (2, 17)  # 1 + 3 people x 4 + 1 + 2 + 1
    progress = go(roster, "3", "Amina", "34", "f", "yes", "Omar", "12").progress
    assert engine.position(roster, progress, NOW) == (8, 16)  # Omar does not work


def test_back_goes_across_rounds_and_forward_passes_answered_rounds(roster: Survey) -> None:
    step = go(roster, *FAMILY)
    assert step.progress.current == "member[+]"
    progress = step.progress
    visited = []
    for _ in range(6):
        progress = engine.back(roster, progress, NOW).progress
        visited.append(progress.current)
    assert visited == ["member[3]/works", "member[3]/sex", "member[3]/age",
                       "member[3]/member_name", "member[2]/sex", "member[2]/age"]
    step = engine.keep(roster, progress, NOW)  # Omar's age as it was
    assert step.progress.current == "member[2]/sex"
    step = engine.keep(roster, step.progress, NOW)
    assert step.progress.current == "member[+]"  # Lina's round is answered: passed over


def test_a_round_is_corrected_from_the_review(roster: Survey) -> None:
    progress = go(roster, *FAMILY).progress
    review = engine.review(roster, progress, NOW, "en")
    assert [(r.number, r.name) for r in review.rounds] == [(1, "Amina"), (2, "Omar"), (3, "Lina")]
    assert not review.can_add  # a counted repeat
    step = engine.correct_round(roster, progress, 2, NOW)
    assert step.progress.current == "member[2]/member_name"
    step = go(roster, "Omar B.", "16", step=step)
    assert step.progress.current == "member[2]/sex"  # in the round: one question after another
    step = engine.keep(roster, step.progress, NOW)
    assert step.progress.current == "member[2]/works"  # 16: now asked
    step = go(roster, "no", step=step)
    assert step.progress.current == "member[+]"
    assert step.progress.answers["member[2]/member_name"] == "Omar B."
    with pytest.raises(engine.NotCurrentQuestion):
        engine.correct_round(roster, step.progress, 4, NOW)


def test_a_lowered_count_asks_before_discarding_rounds(roster: Survey) -> None:
    progress = go(roster, *FAMILY).progress
    while progress.current != "household_size":
        progress = engine.back(roster, progress, NOW).progress
    with pytest.raises(RoundsDiscarded) as refused:
        engine.answer(roster, progress, "2", NOW)
    assert refused.value.rounds == ((("member", 3),),)
    assert engine.answer(roster, progress, "4", NOW).dropped == ()  # more: nothing goes
    step = engine.answer(roster, progress, "2", NOW, discard=True)
    assert set(step.dropped) == {"member[3]/member_name", "member[3]/age", "member[3]/sex",
                                 "member[3]/works"}
    assert step.progress.current == "member[+]"  # rounds 1 and 2 are answered: the review
    assert [r.number for r in engine.review(roster, step.progress, NOW, "en").rounds] == [1, 2]
    step = engine.go_on(roster, step.progress, NOW)
    assert step.progress.answers["total_age"] == "46"  # 34 + 12, without Lina
    assert step.progress.answers["people_counted"] == "2"


def test_skipping_into_fewer_rounds_asks_too(tmp_path: Path) -> None:
    survey = survey_from(ROUNDS_BY_CHOICE, tmp_path)
    progress = go(survey, "a", "x").progress
    assert progress.current == "kid[+]"
    progress = engine.back(survey, engine.back(survey, progress, NOW).progress, NOW).progress
    assert progress.current == "has_kids"
    with pytest.raises(RoundsDiscarded):
        engine.skip(survey, progress, NOW)
    assert engine.skip(survey, progress, NOW, discard=True).progress.current is None


ROUNDS_BY_CHOICE = """
id: kids
version: 1
default_language: en
languages: [en]
title: Kids
introduction: Intro
consent: {notice: N, details: D}
questions:
  - id: has_kids
    type: select_one
    choices: [{id: a, label: "Yes"}, {id: b, label: "No"}]
    text: Kids?
  - id: kid
    type: repeat
    relevant: ${has_kids} = 'a'
    count: 1
    questions:
      - {id: kid_name, type: text, text: Name?}
"""


def test_an_open_repeat_adds_rounds_up_to_its_limit(roster: Survey) -> None:
    step = go(roster, "1", "Amina", "34", "f", "no")
    step = engine.go_on(roster, step.progress, NOW)
    assert step.progress.current == "head"
    step = go(roster, "Amina", step=step)
    assert step.progress.current == "helper[1]/helper_name"
    step = go(roster, "Caritas", "ngo", step=step)
    assert step.progress.current == "helper[+]"
    assert engine.review(roster, step.progress, NOW, "en").can_add
    for name in ("Mairie", "Croix-Rouge"):
        step = engine.add_round(roster, step.progress, NOW)
        step = go(roster, name, None, step=step)
    review = engine.review(roster, step.progress, NOW, "en")
    assert [r.name for r in review.rounds] == ["Caritas", "Mairie", "Croix-Rouge"]
    assert not review.can_add  # its limit is 3
    with pytest.raises(engine.NotCurrentQuestion):
        engine.add_round(roster, step.progress, NOW)
    assert engine.go_on(roster, step.progress, NOW).progress.current == "comment"


def test_back_from_a_round_just_added_returns_to_the_review(roster: Survey) -> None:
    step = go(roster, "1", "Amina", "34", "f", "no")
    step = go(roster, "Amina", "Caritas", "ngo", step=engine.go_on(roster, step.progress, NOW))
    added = engine.add_round(roster, step.progress, NOW).progress
    assert added.current == "helper[2]/helper_name"
    assert engine.position(roster, added, NOW)[1] == 11  # the new round counts while asked
    back = engine.back(roster, added, NOW).progress
    assert back.current == "helper[+]"
    assert [r.number for r in engine.review(roster, back, NOW, "en").rounds] == [1]
    assert engine.back(roster, back, NOW).progress.current == "helper[1]/helper_kind"


def test_nested_rounds_and_calculations_in_a_form(household: Survey) -> None:
    step = go(household, "2", "Awa", "40", "yes", "Bamako")
    progress = step.progress
    assert progress.answers["person[1]/person_pos"] == "1"
    assert progress.current == "person[1]/visit[+]"  # an open repeat inside a round
    step = engine.add_round(household, progress, NOW)
    assert step.progress.current == "person[1]/visit[2]/where"
    step = go(household, "Kati", step=step)
    assert not engine.review(household, step.progress, NOW, "en").can_add  # repeat_limit 2
    step = go(household, "Ali", "7", "no", step=engine.go_on(household, step.progress, NOW))
    assert step.progress.current == "person[+]"
    step = engine.go_on(household, step.progress, NOW)
    answers = step.progress.answers
    assert (answers["total_age"], answers["oldest"], answers["second_name"]) == (
        "47", "40", "Ali")
    assert step.progress.current == "check[1]/ok"  # count(${person}) rounds
    assert answers["check[1]/cname"] == "Awa"
    step = go(household, "yes", step=step)
    assert step.progress.answers["check[2]/cname"] == "Ali"
    check = household.repeat_by_id["check"]
    assert check.title == "cname" and household.repeat_by_id["visit"].counting is Counting.ROUNDS


def test_a_note_inside_a_round_is_shown_with_its_round(tmp_path: Path) -> None:
    survey = survey_from(NOTE_IN_ROUND, tmp_path)
    step = go(survey, "2", "Ana")
    assert step.notes and step.note_keys == ("p[1]/hello",)
    assert step.progress.current == "p[2]/who"


NOTE_IN_ROUND = """
id: notes
version: 1
default_language: en
languages: [en]
title: Notes
introduction: Intro
consent: {notice: N, details: D}
questions:
  - {id: n, type: integer, text: How many?}
  - id: p
    type: repeat
    count: ${n}
    questions:
      - {id: who, type: text, text: Who?}
      - {id: hello, type: note, text: "Hello ${who}"}
"""


def test_nothing_before_the_first_question_of_the_first_round(tmp_path: Path) -> None:
    survey = survey_from(FIRST_IS_REPEAT, tmp_path)
    progress = engine.start(survey, NOW).progress
    assert progress.current == "r[1]/q"
    with pytest.raises(NothingBefore):
        engine.back(survey, progress, NOW)


FIRST_IS_REPEAT = """
id: first
version: 1
default_language: en
languages: [en]
title: First
introduction: Intro
consent: {notice: N, details: D}
questions:
  - id: r
    type: repeat
    count: 2
    questions:
      - {id: q, type: text, text: Q?}
"""


def test_resume_keeps_a_round_being_asked_and_a_review(roster: Survey) -> None:
    progress = go(roster, *FAMILY).progress
    assert engine.resume(roster, progress.answers, "member[+]", NOW).progress.current == (
        "member[+]")
    step = engine.resume(roster, progress.answers, "member[9]/age", NOW)  # no such round
    assert step.progress.current == "head"  # the first question without an answer
    walked = engine.resume(roster, {"household_size": "2"}, "member[2]/age", NOW)
    assert walked.progress.current == "member[2]/age"


def test_answers_of_rounds_beyond_the_count_do_not_count(roster: Survey) -> None:
    answers = dict(go(roster, *FAMILY).progress.answers)
    answers["household_size"] = "2"
    kept = engine.effective_answers(roster, answers, NOW)
    assert "member[3]/age" not in kept and "member[2]/age" in kept
    assert "member[3]/age" in engine.irrelevant_questions(roster, answers, NOW)


def test_walking_a_roster_at_random_never_fails(household: Survey) -> None:
    import random

    rng = random.Random(12)
    moves = [engine.answer, engine.answer, engine.answer, engine.skip, engine.back]
    for _ in range(40):
        progress = engine.start(household, NOW).progress
        for _ in range(40):
            if progress.completed:
                break
            slot = engine.current_slot(household, progress)
            try:
                if slot.question is None:
                    review = rng.choice([engine.go_on, engine.add_round, engine.back])
                    step = review(household, progress, NOW)
                else:
                    move = rng.choice(moves)
                    raw = rng.choice(["1", "2", "3", "yes", "no", "Ana", "0"])
                    step = (engine.answer(household, progress, raw, NOW, discard=True)
                            if move is engine.answer else move(household, progress, NOW))
            except engine.SurveyFlowError:
                continue
            progress = step.progress
            engine.position(household, progress, NOW)
            assert engine.current_slot(household, progress) if progress.current else True


# --- expressions over repeats ------------------------------------------------------------


class Rounds:
    """A household as ODK holds it: ``member`` rounds with age and name, and in each, visits."""

    def __init__(self, members: Sequence[dict[str, Value]],
                 visits: Sequence[Sequence[Value]] = (), here: int = 0) -> None:
        self.members = members
        self.visits = visits
        self.here = here  # the round being asked (0: outside the repeat)

    def nodes(self, name: str) -> Sequence[Value] | None:
        if name == "member":
            return [""] * len(self.members)
        if name == "visit_day":
            if self.here:
                return list(self.visits[self.here - 1])
            return [day for days in self.visits for day in days]
        if name in ("age", "name"):
            return None if self.here else [m.get(name, "") for m in self.members]
        return None

    def position(self) -> int:
        return self.here or 1

    def indexed(self, name: str, steps: Sequence[tuple[str, int]]) -> Value:
        where = dict(steps)
        number = where.get("member", 1)
        if not 1 <= number <= len(self.members):
            return ""
        if name == "visit_day":
            days = self.visits[number - 1]
            day = where.get("visit", 1)
            return days[day - 1] if 1 <= day <= len(days) else ""
        return self.members[number - 1].get(name, "")


HOUSE = Rounds([{"age": 34, "name": "Amina"}, {"age": 12, "name": "Omar"},
                {"age": 70, "name": "Lina"}], visits=[["2026-01-02", "2026-02-03"], [], ["x"]])


@pytest.mark.parametrize(("source", "expected"), [
    ("count(${member})", 3.0),
    ("sum(${age})", 116.0),
    ("max(${age})", 70.0),
    ("min(${age})", 12.0),
    ("max(${age}, 80)", 80.0),
    ("sum(${age}) div count(${member})", 116 / 3),
    ("count(${age})", 3.0),
    ("count-non-empty(${name})", 3.0),
    ("count(${visit_day})", 3.0),
    ("indexed-repeat(${name}, ${member}, 2)", "Omar"),
    ("indexed-repeat(${name}, ${member}, 4)", ""),
    ("indexed-repeat(${name}, ${member}, 0)", ""),
    ("indexed-repeat(${visit_day}, ${member}, 1, ${visit}, 2)", "2026-02-03"),
    ("indexed-repeat(${age}, ${member}, 1 + 2) > 65", True),
    ("position(..)", 1.0),
    ("${age} > 18", False),  # outside the repeat, with no answer of its own: empty
])
def test_expressions_over_a_roster_from_outside(source: str, expected: Value) -> None:
    check(source, expected, Env(values={"age": ""}, repeats=HOUSE))


@pytest.mark.parametrize(("source", "expected"), [
    ("position(..)", 2.0),
    ("position(current()/..)", 2.0),
    ("${age} + 1", 13.0),  # inside round 2: its own age
    ("../age * 2", 24.0),
    ("current()/../age < 18", True),
    ("count(${member})", 3.0),  # the repeat's rounds, from inside it too
    ("indexed-repeat(${name}, ${member}, position(..) - 1)", "Amina"),
    ("count(${visit_day})", 0.0),  # the visits of this round
    ("concat(${name}, ' (', position(..), ' of ', count(${member}), ')')", "Omar (2 of 3)"),
])
def test_expressions_inside_a_round(source: str, expected: Value) -> None:
    round_two = Rounds(HOUSE.members, HOUSE.visits, here=2)
    check(source, expected, Env(values={"age": 12, "name": "Omar"}, repeats=round_two))


@pytest.mark.parametrize(("source", "expected"), [
    ("sum(${age})", math.nan),  # an empty answer is NaN, as in XPath's sum()
    ("max(${age})", math.nan),
    ("count(${age})", 2.0),
    ("count-non-empty(${age})", 1.0),
])
def test_an_unanswered_round_in_an_aggregate(source: str, expected: Value) -> None:
    check(source, expected, Env(repeats=Rounds([{"age": 3}, {}])))


@pytest.mark.parametrize(("source", "expected"), [
    ("sum(${age})", 0.0),
    ("count(${member})", 0.0),
    ("max(${age})", math.nan),
])
def test_no_round_at_all(source: str, expected: Value) -> None:
    check(source, expected, Env(repeats=Rounds([])))


def test_without_repeats_a_reference_is_one_answer() -> None:
    check("sum(${a})", 4.0, Env(values={"a": 4}))
    check("count(${a})", 1.0, Env(values={"a": 4}))
    check("position(..)", 1.0, Env())
    check("indexed-repeat(${a}, ${r}, 1)", "", Env(values={"a": 4}))


def check(source: str, expected: Value, env: Env) -> None:
    value = parse(source).evaluate(env)
    if isinstance(expected, float) and math.isnan(expected):
        assert isinstance(value, float) and math.isnan(value), (source, value)
    elif isinstance(expected, float):
        assert isinstance(value, float) and math.isclose(value, expected), (source, value)
    else:
        assert value == expected, (source, value)


def test_the_walk_gives_expressions_what_odk_gives(household: Survey) -> None:
    answers = {"hh_size": "3", "person[1]/pname": "Awa", "person[1]/page": "40",
               "person[1]/sick": "yes", "person[1]/visit[1]/where": "Bamako",
               "person[1]/visit[2]/where": "Kati", "person[2]/pname": "Ali",
               "person[2]/page": "7", "person[2]/sick": "no", "person[3]/pname": "Sira",
               "person[3]/page": "15", "person[3]/sick": "no"}
    walk = Walk(household, answers, NOW).complete()
    outside = walk.full_env(engine.current_slot(household, Progress(answers, "rooms")))
    inside = walk.full_env(engine.current_slot(household, Progress(answers, "person[3]/sick")))
    for source, env, expected in [
        ("sum(${page})", outside, 62.0),
        ("count(${person})", outside, 3.0),
        ("count(${visit})", outside, 2.0),
        ("count(${where})", outside, 2.0),
        ("indexed-repeat(${where}, ${person}, 1, ${visit}, 2)", outside, "Kati"),
        ("indexed-repeat(${pname}, ${person}, 3)", outside, "Sira"),
        ("${page}", inside, 15),
        ("position(..)", inside, 3.0),
        ("count(${visit})", inside, 0.0),  # Sira was not ill: no visit
        ("sum(${page})", inside, 15.0),  # inside a round, its own answer (ODK's ../page)
    ]:
        value = parse(source).evaluate(env)
        assert value == expected, (source, value)


# --- the survey files --------------------------------------------------------------------


def problems_of(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "survey.yaml"
    path.write_text(text, encoding="utf-8")
    return [str(p).split(": ", 1)[1] for p in check_survey(path)[1]]


HEAD = """
id: s
version: 1
default_language: en
languages: [en]
title: T
introduction: I
consent: {notice: N, details: D}
questions:
  - {id: n, type: integer, text: N?}
"""


@pytest.mark.parametrize(("repeat", "problem"), [
    ("{id: r, type: repeat, count: -1, questions: [{id: q, type: text, text: Q}]}",
     "error: question 'r', field 'count': expected a number of rounds or an expression"),
    ("{id: r, type: repeat, limit: 500, questions: [{id: q, type: text, text: Q}]}",
     "error: question 'r', field 'limit': expected a whole number from 1 to 100"),
    ("{id: r, type: repeat, figures: households, questions: [{id: q, type: text, text: Q}]}",
     "error: question 'r', field 'figures': expected 'people' (each participant once) or "
     "'rounds' (every round)"),
    ("{id: r, type: repeat, questions: []}",
     "error: question 'r', field 'questions': a repeat needs its questions"),
    ("{id: r, type: repeat, count: '${q}', questions: [{id: q, type: integer, text: Q}]}",
     "error: question 'r', field 'count': refers to 'q', which comes later or is this question"),
    ("{id: r, type: repeat, rounds: 2, questions: [{id: q, type: text, text: Q}]}",
     "error: question 'r', field 'rounds': unknown field"),
    ("{id: n, type: repeat, questions: [{id: q, type: text, text: Q}]}",
     "error: question 'n', field 'id': duplicate question id"),
])
def test_a_repeat_in_yaml_is_checked(tmp_path: Path, repeat: str, problem: str) -> None:
    found = problems_of(tmp_path, HEAD + "  - " + repeat + "\n")
    assert any(p.startswith(problem) for p in found), found


def test_a_repeat_in_yaml_reads_its_fields(roster: Survey) -> None:
    member, helper = roster.repeats
    assert (member.id, member.start, member.end, member.parent) == ("member", 1, 5, None)
    assert member.count is not None and member.count.source == "${household_size}"
    assert (member.title, member.limit, member.open) == ("member_name", 20, False)
    assert (helper.title, helper.limit, helper.open) == ("helper_name", 3, True)
    assert [q.repeat for q in roster.questions] == [
        None, "member", "member", "member", "member", None, None, None, "helper", "helper", None]


def test_a_question_after_a_repeat_may_count_it(tmp_path: Path) -> None:
    text = HEAD + """
  - id: r
    type: repeat
    count: ${n}
    questions: [{id: q, type: integer, text: Q}]
  - {id: total, type: calculate, calculation: "sum(${q}) + count(${r})"}
"""
    assert problems_of(tmp_path, text) == []


# --- XLSForms ----------------------------------------------------------------------------


def form(tmp_path: Path, text: str) -> tuple[Survey | None, list[str]]:
    path = tmp_path / "form.md"
    path.write_text(text, encoding="utf-8")
    survey, problems = check_survey(path)
    return survey, [str(p) for p in problems if ": error:" in str(p)]


def test_a_fixed_repeat_count_becomes_a_calculation_before_it(tmp_path: Path) -> None:
    survey, errors = form(tmp_path, """\
| survey |
|        | type         | name | label | jr:count |
|        | begin_repeat | r    | R     | 2        |
|        | text         | q    | Q     |          |
|        | end_repeat   |      |       |          |
""")
    assert not errors and survey is not None
    assert survey.repeats[0].count is not None
    step = go(survey, "a")
    assert step.progress.answers["r_count"] == "2"
    assert go(survey, "a", "b").progress.current == "r[+]"


def test_relative_references_inside_a_repeat(tmp_path: Path) -> None:
    survey, errors = form(tmp_path, """\
| survey |
|        | type         | name  | label      | relevant             | calculation          |
|        | begin_repeat | crop  | Crop       |                      |                      |
|        | text         | kind  | Kind?      |                      |                      |
|        | integer      | bags  | Bags?      | current()/../kind != 'none' |               |
|        | calculate    | twice |            |                      | ../bags * 2          |
|        | end_repeat   |       |            |                      |                      |
""")
    assert not errors and survey is not None
    step = go(survey, "maize", "3")
    assert step.progress.answers["crop[1]/twice"] == "6"
    step = engine.add_round(survey, step.progress, NOW)
    step = go(survey, "none", step=step)
    assert step.progress.current == "crop[+]"  # no bags asked for 'none'
    assert step.progress.answers["crop[2]/twice"] == "NaN"


def test_a_repeat_count_that_reads_inside_the_repeat_is_warned(tmp_path: Path) -> None:
    path = tmp_path / "form.md"
    path.write_text("""\
| survey |
|        | type         | name | label | repeat_count |
|        | begin_repeat | r    | R     | ${q}         |
|        | integer      | q    | Q     |              |
|        | end_repeat   |      |       |              |
""", encoding="utf-8")
    _, problems = check_survey(path)
    assert any("field 'repeat_count': refers to 'q'" in str(p) for p in problems)


def test_a_bad_repeat_limit_names_the_row(tmp_path: Path) -> None:
    _, errors = form(tmp_path, """\
| survey |
|        | type         | name | label | repeat_limit | repeat_figures |
|        | begin_repeat | r    | R     | many         | households     |
|        | text         | q    | Q     |              |                |
|        | end_repeat   |      |       |              |                |
""")
    assert errors == [
        f"{tmp_path / 'form.md'} (sheet survey, row 2): error: question 'r', field "
        "'repeat_limit': repeat_limit must be a whole number from 1 to 100, not 'many'",
        f"{tmp_path / 'form.md'} (sheet survey, row 2): error: question 'r', field "
        "'repeat_figures': repeat_figures is 'people' (each participant once) or 'rounds' "
        "(every round), not 'households'",
    ]


def test_a_loop_asks_its_questions_once_per_choice(tmp_path: Path) -> None:
    survey, errors = form(tmp_path, """\
| survey |
|        | type                 | name  | label::English (en)   | label::French (fr) |
|        | begin loop over crop | grown | Crops                 | Cultures           |
|        | integer              | bags  | Bags of %(label)s?    | Sacs de %(label)s ? |
|        | end loop             |       |                       |                    |
| choices |
|         | list_name | name  | label::English (en) | label::French (fr) |
|         | crop      | maize | maize               | maïs               |
|         | crop      | beans | beans               | haricots           |
""")
    assert not errors and survey is not None
    progress = engine.start(survey, NOW).progress
    assert progress.current == "grown[1]/bags"
    (first,) = engine.describe_rounds(survey, progress, (("grown", 1),), NOW, "fr")
    assert (first.name, first.total) == ("maïs", 2)
    text = survey.question("bags").text.get("fr")
    assert engine.interpolate(survey, text, {}, "fr", (("grown", 2),)) == "Sacs de haricots ?"
    assert go(survey, "3", "1").progress.current == "grown[+]"


ROUNDS_AS_CHOICES = HEAD + """
  - id: p
    type: repeat
    count: ${n}
    questions:
      - {id: who, type: text, text: Who?}
      - {id: age, type: integer, text: Age?}
  - id: head
    type: select_one
    choices_from: who
    choice_filter: ${age} >= 18
    text: Head?
  - {id: end, type: text, text: End?}
"""


def test_a_select_offers_the_answers_of_a_repeat(tmp_path: Path) -> None:
    survey = survey_from(ROUNDS_AS_CHOICES, tmp_path)
    step = go(survey, "3", "Ana", "40", "Bo", "9", "Cy", "18")
    step = engine.go_on(survey, step.progress, NOW)
    assert step.progress.current == "head"
    assert [c.id for c in engine.available_choices(survey, step.progress, NOW)] == ["Ana", "Cy"]
    with pytest.raises(engine.InvalidAnswer):
        engine.answer(survey, step.progress, "Bo", NOW)  # 9: not offered
    assert go(survey, "Cy", step=step).progress.answers["head"] == "Cy"
    children = engine.go_on(survey, go(survey, "1", "Dee", "7").progress, NOW)
    assert children.progress.current == "end"  # nobody to choose: not asked


@pytest.mark.parametrize(("question", "problem"), [
    ("{id: h, type: select_one, choices_from: n, text: H}",
     "error: question 'h', field 'choices_from': 'n' is not a question asked in a repeat"),
    ("{id: h, type: select_one, choices_from: who, choices: [{id: a, label: A}], text: H}",
     "error: question 'h', field 'choices_from': a select question takes either"),
    ("{id: h, type: text, choice_filter: '1', text: H}",
     "error: question 'h', field 'choice_filter': applies to questions with 'choices_from'"),
])
def test_choices_from_a_repeat_in_yaml_are_checked(tmp_path: Path, question: str,
                                                   problem: str) -> None:
    text = HEAD + """
  - id: p
    type: repeat
    questions: [{id: who, type: text, text: Who?}]
  - """ + question + "\n"
    found = problems_of(tmp_path, text)
    assert any(p.startswith(problem) for p in found), found


def test_a_select_from_a_repeat_in_an_xlsform(tmp_path: Path) -> None:
    survey, errors = form(tmp_path, """\
| survey |
|        | type               | name   | label  | choice_filter |
|        | begin repeat       | member | Member |               |
|        | text               | mname  | Name?  |               |
|        | end repeat         |        |        |               |
|        | select_one ${mname} | head  | Head?  |               |
|        | select_one ${head} | wrong  | Wrong? |               |
""")
    assert errors == [f"{tmp_path / 'form.md'} (sheet survey, row 6): error: question 'wrong', "
                      "field 'type': its choices are the answers to 'head', which is not asked "
                      "in a repeat (select_one ${name} offers what was answered in each round)"]


def test_typed_answers_offered_as_choices_are_never_published(tmp_path: Path) -> None:
    text = HEAD + """
  - id: p
    type: repeat
    questions: [{id: who, type: text, text: Who?}]
  - {id: h, type: select_one, choices_from: who, key: true, text: H}
"""
    assert any(p.startswith("error: question 'h', field 'key': its choices are what "
                            "participants typed") for p in problems_of(tmp_path, text))
