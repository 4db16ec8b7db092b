"""The codebook: what every question asks, in every language, and where its answers are.

JSON carries it as a list of entries; XLSX as a sheet; CSV, SAV and DTA as a
CSV file beside the data (or with it in the zip), so that the data file alone
is decodable. Its rows: one per question, then one per choice of a select;
``column`` names the data column that holds the answer (for a multi-select's
choice, its 0/1 column), ``value`` the number that stands for a choice in SAV
and DTA.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bot.exports.tables import Table
from bot.survey.model import Survey

FILE_NAME = "codebook"


def codebook_entries(survey: Survey, earlier: Mapping[str, str]) -> list[dict[str, Any]]:
    """Every question: id, type, text in every language, choices with their labels."""
    entries: list[dict[str, Any]] = []
    for question in survey.questions:
        if not question.asks:
            continue
        entry: dict[str, Any] = {
            "question": question.id, "type": question.type.value,
            "text": dict(question.text.texts), "required": question.required,
            "relevant": question.relevant.source if question.relevant else None,
            "constraint": question.constraint.source if question.constraint else None,
            "in_current_version": True,
            "choices": [{"id": c.id, "label": dict(c.label.texts)} for c in question.choices],
        }
        if question.repeat is not None:
            stored = "/".join([*(f"{r.id}[n]" for r in survey.chain(question.repeat)),
                               question.id])
            entry.update({
                "in_main_table": False, "repeat": question.repeat, "stored_as": stored,
                "note": f"asked once per round of the repeat '{question.repeat}' (stored as "
                        f"{stored}): not in the responses table, which has one row per "
                        "response"})
        entries.append(entry)
    for question_id, version in earlier.items():
        entries.append({
            "question": question_id, "type": "unknown", "text": {}, "required": False,
            "relevant": None, "constraint": None, "in_current_version": False,
            "earlier_version": version, "choices": [],
        })
    return entries


def codebook_rows(survey: Survey, earlier: Mapping[str, str], tables: Sequence[Table],
                  names: Mapping[str, str] | None = None) -> list[list[str]]:
    """The codebook as rows of text, header first; ``names`` maps the tables' column names
    to the names they have in the file, where they differ (SAV, DTA)."""
    languages = list(survey.languages)
    answer: dict[str, str] = {}
    choice_column: dict[tuple[str, str], str] = {}
    codes: dict[str, dict[str, int]] = {}
    for table in tables:
        codes.update(table.codes)
    for column in (c for table in tables for c in table.columns):
        if column.question is None:
            continue
        shown = names.get(column.name, column.name) if names else column.name
        if column.role == "answer":
            answer.setdefault(column.question.id, shown)
        elif column.role == "choice" and column.choice is not None:
            choice_column[column.question.id, column.choice.id] = shown
    rows = [["question", "type", "choice", *(f"text:{lang}" for lang in languages),
             "required", "relevant", "constraint", "in_current_version", "column", "value",
             "note"]]
    for entry in codebook_entries(survey, earlier):
        question = entry["question"]
        rows.append([question, entry["type"], "",
                     *(entry["text"].get(lang, "") for lang in languages),
                     "yes" if entry["required"] else "no", entry["relevant"] or "",
                     entry["constraint"] or "", "yes" if entry["in_current_version"] else "no",
                     answer.get(question, ""), "", entry.get("note", "")])
        coded = codes.get(question, {})
        for choice in entry["choices"]:
            code = coded.get(choice["id"])
            rows.append([question, "", choice["id"],
                         *(choice["label"].get(lang, "") for lang in languages),
                         "", "", "", "", choice_column.get((question, choice["id"]), ""),
                         "" if code is None else str(code), ""])
    return rows
