"""The survey engine: navigation, validation, relevance, progress — plain values, no I/O."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pytest
from bot.survey import engine
from bot.survey.engine import (
    AnswerRequired,
    InvalidAnswer,
    NothingBefore,
    Progress,
    SurveyCompleted,
)
from bot.survey.loader import load_survey
from bot.survey.model import Survey

from tests.unit.surveys import BASIC, survey_from

NOW = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def survey(tmp_path_factory: pytest.TempPathFactory) -> Survey:
    return survey_from(BASIC, tmp_path_factory.mktemp("engine"))


def walk(survey: Survey, *answers: str) -> Progress:
    progress = engine.start(survey, NOW).progress
    for raw in answers:
        progress = engine.answer(survey, progress, raw, NOW).progress
    return progress


def test_start_asks_the_first_question(survey: Survey) -> None:
    step = engine.start(survey, NOW)
    assert step.progress == Progress({}, "work")
    assert step.notes == ()


def test_skip_logic_leaves_out_irrelevant_questions(survey: Survey) -> None:
    progress = walk(survey, "no")
    assert progress.current == "born"  # hours and sectors depend on work = yes


def test_note_that_becomes_relevant_is_returned_on_the_way(survey: Survey) -> None:
    progress = walk(survey, "yes")
    step = engine.answer(survey, progress, "45", NOW)
    assert [note.id for note in step.notes] == ["thanks_worker"]
    assert step.progress.current == "sectors"
    quiet = engine.answer(survey, progress, "20", NOW)
    assert quiet.notes == ()


@pytest.mark.parametrize(
    ("question", "prefix", "raw", "stored"),
    [
        ("hours", ["yes"], "40", "40"),
        ("hours", ["yes"], " ٤٠ ", "40"),  # Arabic-Indic digits
        ("hours", ["yes"], "۴۰", "40"),  # Persian digits
        ("hours", ["yes"], "40.0", "40"),
        ("sectors", ["yes", "10"], "care farm", "farm care"),  # survey order, not click order
        ("born", ["no"], "2000-02-29", "2000-02-29"),
        ("born", ["no"], "31/12/1999", "1999-12-31"),
        ("born", ["no"], "1.2.1990", "1990-02-01"),
        ("rating", ["no", "1990-01-01"], "5", "5"),
        ("income", ["no", "1990-01-01", "3"], "1 250,50", "1250.5"),
        ("income", ["no", "1990-01-01", "3"], "0", "0"),
        ("story", ["no", "1990-01-01", "3", "10"], "  fine  ", "fine"),
    ],
)
def test_answers_are_stored_canonically(
    survey: Survey, question: str, prefix: list[str], raw: str, stored: str
) -> None:
    progress = walk(survey, *prefix)
    assert progress.current == question
    after = engine.answer(survey, progress, raw, NOW).progress
    assert after.answers[question] == stored


@pytest.mark.parametrize(
    ("prefix", "raw", "code"),
    [
        ([], "maybe", "unknown_choice"),
        (["yes"], "many", "not_integer"),
        (["yes"], "2.5", "not_integer"),
        (["yes"], "0", "too_small"),
        (["yes"], "81", "too_large"),
        (["yes", "10"], "", "choose_at_least_one"),
        (["yes", "10"], "farm none", "constraint"),
        (["yes", "10"], "farm ghost", "unknown_choice"),
        (["no"], "31/02/2000", "not_date"),
        (["no"], "yesterday", "not_date"),
        (["no", "1990-01-01"], "6", "too_large"),
        (["no", "1990-01-01", "3"], "-1", "too_small"),
        (["no", "1990-01-01", "3"], "lots", "not_number"),
        (["no", "1990-01-01", "3", "1"], "x" * 21, "too_long"),
        (["no", "1990-01-01", "3", "1"], "   ", "empty"),
    ],
)
def test_invalid_answers_are_refused_with_a_reason(
    survey: Survey, prefix: list[str], raw: str, code: str
) -> None:
    progress = walk(survey, *prefix)
    with pytest.raises(InvalidAnswer) as refused:
        engine.answer(survey, progress, raw, NOW)
    assert refused.value.code == code


def test_constraint_accepts_none_alone(survey: Survey) -> None:
    progress = walk(survey, "yes", "10", "none")
    assert progress.answers["sectors"] == "none"


def test_skip_only_when_not_required(survey: Survey) -> None:
    with pytest.raises(AnswerRequired):
        engine.skip(survey, walk(survey), NOW)
    progress = engine.skip(survey, walk(survey, "no"), NOW).progress
    assert progress.answers["born"] is None
    assert progress.current == "rating"


def test_back_returns_to_the_previous_answered_question(survey: Survey) -> None:
    progress = walk(survey, "yes", "10")
    assert progress.current == "sectors"
    back = engine.back(survey, progress, NOW).progress
    assert back.current == "hours"
    assert back.answers == progress.answers  # nothing is lost by going back
    with pytest.raises(NothingBefore):
        engine.back(survey, engine.start(survey, NOW).progress, NOW)


def test_back_passes_over_notes_and_skipped_questions_are_revisited(survey: Survey) -> None:
    progress = walk(survey, "no")
    progress = engine.skip(survey, progress, NOW).progress  # born skipped
    assert engine.back(survey, progress, NOW).progress.current == "born"


def test_changing_an_earlier_answer_drops_answers_that_became_irrelevant(
    survey: Survey,
) -> None:
    progress = walk(survey, "yes", "50", "farm")
    assert progress.current == "born"
    progress = engine.back(survey, progress, NOW).progress
    progress = engine.back(survey, progress, NOW).progress
    progress = engine.back(survey, progress, NOW).progress
    assert progress.current == "work"
    step = engine.answer(survey, progress, "no", NOW)
    assert set(step.dropped) == {"hours", "sectors"}
    assert "hours" not in step.progress.answers
    assert step.progress.current == "born"


def test_going_forward_again_offers_to_keep_the_earlier_answer(survey: Survey) -> None:
    progress = walk(survey, "yes", "50")
    progress = engine.back(survey, progress, NOW).progress
    progress = engine.back(survey, progress, NOW).progress
    progress = engine.answer(survey, progress, "yes", NOW).progress
    assert progress.current == "hours"
    assert progress.answers["hours"] == "50"
    kept = engine.keep(survey, progress, NOW)
    assert kept.progress.current == "sectors"
    assert [n.id for n in kept.notes] == ["thanks_worker"]


def test_position_counts_the_questions_that_may_still_be_asked(survey: Survey) -> None:
    start = engine.start(survey, NOW).progress
    assert engine.position(survey, start, NOW) == (1, 7)  # hours, sectors: not decided yet
    working = walk(survey, "yes")
    assert engine.position(survey, working, NOW) == (2, 7)
    idle = walk(survey, "no")
    assert engine.position(survey, idle, NOW) == (2, 5)  # the total only ever shrinks


def test_completion(survey: Survey) -> None:
    progress = walk(survey, "no", "1990-01-01", "4", "10", "ok")
    assert progress.completed
    with pytest.raises(SurveyCompleted):
        engine.answer(survey, progress, "x", NOW)
    assert engine.answered_count(survey, progress, NOW) == 5


def test_effective_answers_ignore_stale_and_unknown_questions(survey: Survey) -> None:
    stored = {"work": "no", "hours": "30", "removed_question": "x", "born": "1990-01-01"}
    assert engine.effective_answers(survey, stored, NOW) == {"work": "no", "born": "1990-01-01"}


def test_resume_continues_at_the_stored_question(survey: Survey) -> None:
    answers = {"work": "no"}
    assert engine.resume(survey, answers, "born", NOW).progress.current == "born"


def test_resume_after_the_survey_changed_goes_to_first_unanswered(
    survey: Survey,
) -> None:
    # the stored current question no longer exists in this version of the file
    step = engine.resume(survey, {"work": "no", "born": "1990-01-01"}, "deleted_q", NOW)
    assert step.progress.current == "rating"


def test_engine_imports_neither_telegram_nor_sqlite() -> None:
    root = Path(engine.__file__).parent
    for source in root.glob("*.py"):
        text = source.read_text(encoding="utf-8")
        for forbidden in ("import telegram", "from telegram", "aiosqlite", "import sqlite3"):
            assert forbidden not in text, f"{source.name} uses {forbidden}"


def test_imports_flow_one_way() -> None:
    """storage knows nothing of Telegram or handlers; only the app factory imports handlers."""
    root = Path(engine.__file__).parents[2]
    for source in (root / "storage").glob("*.py"):
        text = source.read_text(encoding="utf-8")
        for forbidden in ("import telegram", "from telegram", "handlers"):
            assert forbidden not in text, f"storage/{source.name} uses {forbidden}"
    for source in (root / "bot").rglob("*.py"):
        if source.name == "app.py":
            continue
        text = source.read_text(encoding="utf-8")
        assert "from handlers" not in text and "import handlers" not in text, source


# --- expressions that read a question further on (XLSForm) ---------------------------

FORWARD = Path(__file__).resolve().parents[1] / "forms" / "forward.md"


@pytest.fixture(scope="module")
def forward() -> Survey:
    survey, _ = load_survey(FORWARD)
    return survey


def test_a_question_further_on_reads_empty_on_the_way(forward: Survey) -> None:
    step = engine.start(forward, NOW)
    assert step.progress.current == "first"  # ${later} = '': later is not answered
    step = engine.answer(forward, step.progress, "abc", NOW)
    assert step.progress.answers["echo"] == "[]"  # concat('[', ${later}, ']')
    assert step.progress.current == "has_kids"  # the group's condition reads it, empty
    choices = engine.available_choices(forward, Progress({}, "pick"), NOW)
    assert [c.id for c in choices] == ["a1"]  # kind = 'a' or ${later} = 'b'
    assert not engine.is_required(forward, Progress({"later": "x"}, "why"), NOW)


def test_a_group_read_by_its_first_question_goes_on_with_its_answer(forward: Survey) -> None:
    progress = walk(forward, "abc", "yes")
    assert progress.current == "how_many"
    progress = walk(forward, "abc", "no")
    assert progress.current == "pick"  # the rest of the group is skipped; 'locked' never shows
    assert progress.answers["has_kids"] == "no"  # and the answer that closed it counts
    assert engine.effective_answers(forward, progress.answers, NOW) == {
        "first": "abc", "echo": "[]", "has_kids": "no"}
    assert engine.position(forward, progress, NOW) == (3, 5)


def test_a_later_answer_never_changes_what_was_decided_before_it(forward: Survey) -> None:
    progress = walk(forward, "abc", "no", "a1")
    progress = engine.skip(forward, progress, NOW).progress  # why: not required, later empty
    step = engine.answer(forward, progress, "abc", NOW)
    assert step.progress.completed and step.dropped == ()
    answers = step.progress.answers
    assert answers["later"] == "abc" and answers["echo"] == "[]"
    kept = engine.effective_answers(forward, answers, NOW)
    assert kept["first"] == "abc"  # ${later} = '' still holds for 'first'
    assert kept == engine.effective_answers(forward, answers, NOW,
                                            engine.RelevanceMemo(forward, NOW))
    again = engine.answer(forward, Progress(answers, "first"), "abc", NOW)  # . != ${later}
    assert again.progress.answers["first"] == "abc"
    assert engine.resume(forward, answers, "first", NOW).progress.current == "first"


def test_walking_a_form_that_reads_ahead_never_fails(forward: Survey) -> None:
    rng = random.Random(7)
    for _ in range(60):
        progress = engine.start(forward, NOW).progress
        for _ in range(25):
            if progress.completed:
                break
            choices = engine.available_choices(forward, progress, NOW)
            raw = rng.choice([c.id for c in choices] or ["", "abc", "0", "3", "b"])
            move = rng.choice([engine.answer, engine.answer, engine.skip, engine.back])
            try:
                step = (move(forward, progress, NOW) if move is not engine.answer
                        else engine.answer(forward, progress, raw, NOW))
            except engine.SurveyFlowError:
                continue
            progress = step.progress
            engine.position(forward, progress, NOW)
            engine.effective_answers(forward, progress.answers, NOW)
