"""The engine's cost per step on a household roster: 8 people × 15 questions.

Writes a household XLSForm (a few questions about the household, a roster
repeated ``household_size`` times with 15 questions per person, most of them
with a condition, labels that name the person with ``${member_name}``,
calculations over the rounds after it), loads it, and walks through it as a
participant would, answering every question. Two figures per step:

* ``answer``: the engine's ``answer()`` alone (validation, constraint, the
  walk that decides what still counts, the next place found);
* ``step``: everything the bot asks the engine for one message: reading the
  stored progress (``resume``), ``answer()``, and what the next question's
  message needs (its choices, whether it may be skipped, "Question k of n",
  whether Back is offered, which round it is).

Times are the CPU time of each step (``time.process_time``: what the engine costs,
whatever else the machine runs). The walk is the same every time, so each
step's cost is taken as its fastest over ``--walks`` walks (what a loaded
machine, a garbage collection or a cold cache add is left out), then
summarized over the steps: median, 95th percentile, worst; ``all_steps`` gives
the same over every step of every walk, noise included.

    python bench/repeats.py [--people 8] [--walks 20] [--json bench/results/repeats.json]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.survey import engine  # noqa: E402
from bot.survey.loader import load_survey  # noqa: E402
from bot.survey.model import QuestionType, Survey  # noqa: E402

NOW = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)

ROWS = [  # type, name, label, relevant, constraint, calculation, repeat_count
    ("integer", "household_size", "How many people live here?", "", ". >= 1 and . <= 20", "", ""),
    ("select_one yn", "owner", "Do you own your home?", "", "", "", ""),
    ("begin_repeat", "member", "Person", "", "", "", "${household_size}"),
    ("calculate", "member_pos", "", "", "", "position(..)", ""),
    ("text", "member_name", "Name of person ${member_pos}?", "", "", "", ""),
    ("integer", "age", "How old is ${member_name}?", "", ". >= 0 and . <= 120", "", ""),
    ("select_one sex", "sex", "${member_name} is:", "", "", "", ""),
    ("select_one relation", "relation", "${member_name} is your:", "${member_pos} > 1", "", "",
     ""),
    ("select_one marital", "marital", "Is ${member_name} married?", "${age} >= 15", "", "", ""),
    ("select_one yn", "school", "Does ${member_name} go to school?",
     "${age} >= 5 and ${age} <= 24", "", "", ""),
    ("integer", "grade", "Which grade?", "${school} = 'yes'", ". >= 1 and . <= 13", "", ""),
    ("select_one yn", "works", "Does ${member_name} work?", "${age} >= 15", "", "", ""),
    ("text", "occupation", "What work?", "${works} = 'yes'", "", "", ""),
    ("decimal", "income", "Monthly income?", "${works} = 'yes'", ". >= 0", "", ""),
    ("select_multiple needs", "needs", "What does ${member_name} need?", "", "", "", ""),
    ("select_one yn", "ill", "Was ${member_name} ill this month?", "", "", "", ""),
    ("select_one yn", "treated", "Was ${member_name} treated?", "${ill} = 'yes'", "", "", ""),
    ("select_one country", "born", "Where was ${member_name} born?", "", "", "", ""),
    ("date", "arrived", "When did ${member_name} arrive?", "${born} != 'here'",
     ". <= today()", "", ""),
    ("end_repeat", "", "", "", "", "", ""),
    ("calculate", "adults", "", "", "", "count(${member}) - count-non-empty(${grade})", ""),
    ("calculate", "total_income", "", "", "", "sum(${income})", ""),
    ("integer", "rooms", "How many rooms for ${household_size} people?", "",
     ". >= 1", "", ""),
    ("select_one yn", "water", "Do you have running water?", "", "", "", ""),
]

CHOICES = {
    "yn": ["yes", "no"],
    "sex": ["f", "m"],
    "relation": ["spouse", "child", "parent", "sibling", "other"],
    "marital": ["single", "married", "widowed", "divorced"],
    "needs": ["food", "health", "school", "papers", "work", "none"],
    "country": ["here", "sd", "er", "so", "sy", "af", "other"],
}


def write_form(path: Path) -> None:
    lines = ["| survey |",
             "| | type | name | label | relevant | constraint | calculation | repeat_count |"]
    lines += ["| | " + " | ".join(row) + " |" for row in ROWS]
    lines += ["| choices |", "| | list_name | name | label |"]
    lines += [f"| | {name} | {choice} | {choice.title()} |"
              for name, choices in CHOICES.items() for choice in choices]
    lines += ["| settings |", "| | form_title | form_id |", "| | Household | household |"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def raw_answer(survey: Survey, key: str, person: int) -> str:
    question = survey.by_id[key.rpartition("/")[2]]
    name = question.id
    if name == "household_size":
        return str(PEOPLE)
    if name == "age":
        return str([38, 35, 16, 12, 9, 67, 22, 4][(person - 1) % 8])
    if name == "member_name":
        return f"Person{person}"
    if question.type is QuestionType.SELECT_MULTIPLE:
        return "food health"
    if question.type is QuestionType.SELECT_ONE:
        ids = [c.id for c in question.choices]
        return "yes" if "yes" in ids and name != "ill" else ids[person % len(ids)]
    if question.type is QuestionType.INTEGER:
        return "3"
    if question.type is QuestionType.DECIMAL:
        return "120.5"
    if question.type is QuestionType.DATE:
        return "2020-03-01"
    return "a few words"


PEOPLE = 8


def walk(survey: Survey, language: str = "en") -> tuple[list[float], list[float], int]:
    """One participant's way through: the time of each step (answer alone, all of a step)."""
    answers_only: list[float] = []
    steps: list[float] = []
    stored: dict[str, str | None] = {}
    current = engine.start(survey, NOW).progress.current
    while current is not None:
        started = time.process_time()
        progress = engine.resume(survey, stored, current, NOW).progress
        slot = engine.current_slot(survey, progress)
        if slot.question is None:
            step = engine.go_on(survey, progress, NOW)
            answer_took = 0.0
        else:
            person = slot.rounds[0][1] if slot.rounds else 0
            raw = raw_answer(survey, slot.key, person)
            before = time.process_time()
            step = engine.answer(survey, progress, raw, NOW)
            answer_took = time.process_time() - before
        nxt = step.progress
        if nxt.current is not None:
            nxt_slot = engine.current_slot(survey, nxt)
            if nxt_slot.question is not None:
                engine.available_choices(survey, nxt, NOW)
                engine.is_required(survey, nxt, NOW)
                engine.describe_rounds(survey, nxt, nxt_slot.rounds, NOW, language)
            else:
                engine.review(survey, nxt, NOW, language)
            engine.position(survey, nxt, NOW)
            engine.can_go_back(survey, nxt, NOW)
        steps.append(time.process_time() - started)
        if slot.question is not None:
            answers_only.append(answer_took)
        stored = dict(nxt.answers)
        current = nxt.current
    return answers_only, steps, len(stored)


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "median_ms": round(statistics.median(ordered) * 1000, 3),
        "p95_ms": round(ordered[int(len(ordered) * 0.95)] * 1000, 3),
        "max_ms": round(ordered[-1] * 1000, 3),
    }


def main() -> None:
    global PEOPLE
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=8)
    parser.add_argument("--walks", type=int, default=20)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    PEOPLE = args.people
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "household.md"
        write_form(path)
        survey, _ = load_survey(path)
    asked = sum(1 for q in survey.questions if q.repeat == "member" and q.asks)
    walk(survey)  # warm up
    answers: list[list[float]] = []
    steps: list[list[float]] = []
    stored = 0
    for _ in range(args.walks):
        one, every, stored = walk(survey)
        answers.append(one)
        steps.append(every)
    result: dict[str, Any] = {
        "people": PEOPLE, "questions_per_person": asked, "walks": args.walks,
        "steps_per_walk": len(steps[0]), "answers_stored": stored,
        "answer": summary([min(each) for each in zip(*answers, strict=True)]),
        "step": summary([min(each) for each in zip(*steps, strict=True)]),
        "all_steps": summary([t for every in steps for t in every]),
        "python": sys.version.split()[0],
    }
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
