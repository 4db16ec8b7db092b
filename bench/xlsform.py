"""XLSForm import on a large form, and the engine's cost per answer with many conditions.

1. Import: writes an XLSForm (XLSX) with ``--questions`` questions in groups,
   two languages, relevance and constraints on most questions, and
   ``--choices`` choices in all, then loads it with ``consultbot survey check``
   in a fresh process: wall time and peak memory (see bench/measure.py).
2. Evaluation: a survey of ``--relevant`` questions that all carry a relevance
   expression (selected(), comparisons, and/or); one answer's cost = the
   engine's ``answer()`` (validation, constraint, every relevance re-evaluated,
   the next question found), averaged over a full walk.

    python bench/xlsform.py [--questions 500] [--choices 5000] [--relevant 100]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import xlsxwriter

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.measure import measure  # noqa: E402
from bot.survey import engine  # noqa: E402
from bot.survey.loader import load_survey  # noqa: E402


def write_form(path: Path, questions: int, choices: int) -> None:
    lists = max(1, questions // 5)
    per_list = max(2, choices // lists)
    book = xlsxwriter.Workbook(str(path))
    survey = book.add_worksheet("survey")
    survey.write_row(0, 0, ["type", "name", "label::English (en)", "label::Français (fr)",
                            "relevant", "constraint", "constraint_message::English (en)",
                            "constraint_message::Français (fr)", "required"])
    row = 1
    for n in range(questions):
        if n % 25 == 0:
            if n:
                survey.write_row(row, 0, ["end group", ""])
                row += 1
            survey.write_row(row, 0, ["begin group", f"g{n}", f"Part {n}", f"Partie {n}",
                                      "${q0} != 'c0_0'" if n else ""])
            row += 1
        if n % 5 == 0:
            kind = f"select_one l{n // 5 % lists}"
            relevant = f"${{q{n - 5}}} != 'c{(n - 5) // 5 % lists}_1'" if n >= 5 else ""
            constraint = ""
        elif n % 5 in (1, 2):
            kind = "integer"
            relevant = f"${{q{n - 1}}} != '' and ${{q{n - 1}}} != 'x'"
            constraint = ". >= 0 and . <= 120"
        elif n % 5 == 3:
            kind = f"select_multiple l{n // 5 % lists}"
            relevant = f"${{q{n - 2}}} > 3 or ${{q{n - 1}}} < 100"
            constraint = "count-selected(.) <= 3"
        else:
            kind = "text"
            relevant = f"selected(${{q{n - 1}}}, 'c{n // 5 % lists}_0') or ${{q{n - 3}}} = ''"
            constraint = "string-length(.) < 200"
        survey.write_row(row, 0, [kind, f"q{n}", f"Question {n}?", f"Question {n} ?", relevant,
                                  constraint, "Not accepted" if constraint else "",
                                  "Refusé" if constraint else "", "yes" if n % 2 else ""])
        row += 1
    survey.write_row(row, 0, ["end group", ""])
    sheet = book.add_worksheet("choices")
    sheet.write_row(0, 0, ["list_name", "name", "label::English (en)", "label::Français (fr)"])
    line = 1
    for number in range(lists):
        for choice in range(per_list):
            sheet.write_row(line, 0, [f"l{number}", f"c{number}_{choice}",
                                      f"Choice {number}.{choice}", f"Choix {number}.{choice}"])
            line += 1
    settings = book.add_worksheet("settings")
    settings.write_row(0, 0, ["form_title", "form_id", "version", "default_language"])
    settings.write_row(1, 0, ["Big form", "big_form", "1", "English (en)"])
    book.close()


def import_cost(path: Path) -> dict[str, Any]:
    run = measure([sys.executable, "-m", "bot", "survey", "check", str(path)])
    baseline = measure([sys.executable, "-c", "import bot.cli, bot.survey.loader"])
    output = run.pop("output").strip()
    return {**run, "python_and_imports_rss_mb": baseline["peak_rss_mb"],
            "last_line": output.splitlines()[-1] if output else ""}


def evaluation_cost(folder: Path, relevant: int) -> dict[str, float]:
    lines = ["id: many", "version: 1", "default_language: en", "languages: [en]",
             "title: Many", "introduction: x", "consent: {notice: n, details: d}",
             "choice_lists:", "  abc:", "    - {id: a, label: A}", "    - {id: b, label: B}",
             "    - {id: c, label: C}", "questions:",
             "  - {id: q0, type: select_multiple, text: Q, choices: abc}"]
    for n in range(1, relevant + 1):
        condition = (f"selected(${{q0}}, 'a') and (${{q{n - 1}}} != 'c' or "
                     f"count-selected(${{q0}}) > 1)")
        lines.append(f"  - {{id: q{n}, type: select_one, text: Q, choices: abc, "
                     f"relevant: \"{condition}\", constraint: \". != 'z'\"}}")
    path = folder / "many.yaml"
    path.write_text("\n".join(lines) + "\n")
    survey, _ = load_survey(path)
    now = dt.datetime(2026, 11, 28, tzinfo=dt.UTC)
    best = float("inf")
    for _ in range(5):
        progress = engine.start(survey, now).progress
        progress = engine.answer(survey, progress, "a b", now).progress
        began = time.perf_counter()
        count = 0
        while progress.current is not None:
            progress = engine.answer(survey, progress, "a", now).progress
            count += 1
        best = min(best, (time.perf_counter() - began) / count)
    return {"questions_with_relevance": relevant, "answers_per_walk": count,
            "ms_per_answer": round(best * 1000, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", type=int, default=500)
    parser.add_argument("--choices", type=int, default=5000)
    parser.add_argument("--relevant", type=int, default=100)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="consultbot-xlsform-") as folder:
        form = Path(folder) / "big.xlsx"
        write_form(form, args.questions, args.choices)
        results = {"form": {"questions": args.questions, "choices": args.choices},
                   "import": import_cost(form),
                   "evaluation": evaluation_cost(Path(folder), args.relevant)}
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
