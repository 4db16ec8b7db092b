"""The codebook: what every question asks, in every language, and where its answers are.

JSON carries it as a list of entries; XLSX as a sheet; CSV, SAV and DTA as a
CSV file beside the data (or with it in the zip), so that the data file alone
is decodable. Its rows: one per question, then one per choice of a select,
and before the questions of a repeat one row for the repeat itself (type
``repeat``: its table has one row per round, linked to the table of the row it
belongs to). ``table`` names the table (sheet, file) that holds the answers,
``column`` the column there (for a multi-select's choice, its 0/1 column),
``value`` the number that stands for a choice in SAV and DTA.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bot.exports.tables import (
    MAIN_TABLE,
    PARENT_POSITION,
    PARENT_TABLE,
    POSITION,
    Table,
    repeats_in_order,
    table_names,
)
from bot.survey.model import Repeat, Survey

FILE_NAME = "codebook"


def codebook_entries(survey: Survey, earlier: Mapping[str, str]) -> list[dict[str, Any]]:
    """Every repeat and question: id, type, text in every language, the table that holds
    its answers, choices with their labels."""
    names = table_names(survey)
    starting: dict[int, list[Repeat]] = {}
    for repeat in repeats_in_order(survey):
        starting.setdefault(repeat.start, []).append(repeat)
    entries: list[dict[str, Any]] = []
    for index, question in enumerate(survey.questions):
        for repeat in starting.pop(index, ()):
            entries.append(_repeat_entry(survey, repeat, names))
        if not question.stores:
            continue
        entry: dict[str, Any] = {
            "question": question.id, "type": question.type.value,
            "text": dict(question.text.texts), "required": question.required,
            "relevant": question.relevant.source if question.relevant else None,
            "constraint": question.constraint.source if question.constraint else None,
            "in_current_version": True,
            "table": MAIN_TABLE if question.repeat is None else names[question.repeat],
            "choices": [{"id": c.id, "label": dict(c.label.texts)} for c in question.choices],
        }
        if question.calculation is not None:
            entry["note"] = f"computed, never asked: {question.calculation.source}"
        if question.repeat is not None:
            stored = "/".join([*(f"{r.id}[n]" for r in survey.chain(question.repeat)),
                               question.id])
            entry.update({
                "repeat": question.repeat, "stored_as": stored,
                "note": f"asked once per round of the repeat '{question.repeat}': one row "
                        f"per round in the table '{names[question.repeat]}'"})
        entries.append(entry)
    for question_id, version in earlier.items():
        entries.append({
            "question": question_id, "type": "unknown", "text": {}, "required": False,
            "relevant": None, "constraint": None, "in_current_version": False,
            "table": MAIN_TABLE, "earlier_version": version, "choices": [],
        })
    return entries


def _repeat_entry(survey: Survey, repeat: Repeat, names: Mapping[str, str]) -> dict[str, Any]:
    parent = names[repeat.parent] if repeat.parent else MAIN_TABLE
    rounds = (f"{repeat.count.source} rounds" if repeat.count is not None
              else f"rounds until the participant adds no more (at most {repeat.limit})")
    return {
        "question": repeat.id, "type": "repeat", "text": dict(repeat.text.texts),
        "required": False, "relevant": repeat.relevant.source if repeat.relevant else None,
        "constraint": None, "in_current_version": True, "table": names[repeat.id],
        "parent_table": parent, "choices": [],
        "note": f"one row per round ({rounds}); {PARENT_POSITION} is the {POSITION} of the "
                f"row it belongs to in the table '{parent}' ({PARENT_TABLE})",
    }


def codebook_rows(survey: Survey, earlier: Mapping[str, str], tables: Sequence[Table],
                  names: Mapping[str, Mapping[str, str]] | None = None) -> list[list[str]]:
    """The codebook as rows of text, header first; ``names`` maps each table's name to its
    column names and the names they have in the file, where they differ (SAV, DTA)."""
    languages = list(survey.languages)
    answer: dict[str, str] = {}
    choice_column: dict[tuple[str, str], str] = {}
    codes: dict[str, dict[str, int]] = {}
    for table in tables:
        codes.update(table.codes)
        renamed = names.get(table.name, {}) if names else {}
        for column in table.columns:
            if column.question is None:
                continue
            shown = renamed.get(column.name, column.name)
            if column.role == "answer":
                answer.setdefault(column.question.id, shown)
            elif column.role == "choice" and column.choice is not None:
                choice_column[column.question.id, column.choice.id] = shown
    rows = [["question", "type", "choice", *(f"text:{lang}" for lang in languages),
             "required", "relevant", "constraint", "in_current_version", "table", "column",
             "value", "note"]]
    for entry in codebook_entries(survey, earlier):
        question = entry["question"]
        repeat = entry["type"] == "repeat"
        rows.append([question, entry["type"], "",
                     *(entry["text"].get(lang, "") for lang in languages),
                     "yes" if entry["required"] else "no", entry["relevant"] or "",
                     entry["constraint"] or "", "yes" if entry["in_current_version"] else "no",
                     entry["table"], "" if repeat else answer.get(question, ""), "",
                     entry.get("note", "")])
        coded = codes.get(question, {})
        for choice in entry["choices"]:
            code = coded.get(choice["id"])
            rows.append([question, "", choice["id"],
                         *(choice["label"].get(lang, "") for lang in languages),
                         "", "", "", "", entry["table"],
                         choice_column.get((question, choice["id"]), ""),
                         "" if code is None else str(code), ""])
    return rows
