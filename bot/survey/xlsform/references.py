"""References between the items of an XLSForm, checked once every name is known.

An expression (relevant, constraint, calculation, required, choice_filter, a
group's relevant) may refer only to a question that comes earlier, and that
has an answer; a constraint also to its own question's answer. A text may
refer to any question. A reference to an item left out says why it was left
out, and an optional item that was only skipped is refused once something
refers to it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from bot.survey.expressions import Expression
from bot.survey.model import Question, QuestionType
from bot.survey.problems import Problem
from bot.survey.xlsform.workbook import Report

_REFERENCE = re.compile(r"\$\{([^}]*)\}")


@dataclass(slots=True)
class Group:
    name: str
    row: int
    relevant: Expression | None
    start: int | None = None  # index of its first question


@dataclass(slots=True)
class Known:
    """A name of the form: a question, or an item left out (and why)."""

    row: int
    question: Question | None = None
    reason: str = ""  # for items left out: what they are
    refused: bool = False
    inside_repeat: bool = False  # a question elsewhere may use the same name
    referrers: list[tuple[str, int]] = field(default_factory=list)
    problem: Problem | None = None  # the warning that says it is skipped


@dataclass(slots=True)
class Checks:
    """Expressions and texts of one question, checked once every name is known."""

    question: Question
    row: int
    expressions: list[tuple[str, Expression]]
    texts: list[tuple[str, str, str]]  # (field, language, text)


def check_references(known: Mapping[str, Known], groups: Sequence[Group],
                     checks: Sequence[Checks], question_count: int, report: Report) -> None:
    """Report every reference that cannot be followed, and refuse skipped items referred to."""
    for group in groups:
        if group.relevant is None:
            continue
        start = question_count if group.start is None else group.start
        _check_expression(known, report, group.name, group.row, "relevant", group.relevant,
                          start, own=None)
    for each in checks:
        question = each.question
        for column, expression in each.expressions:
            _check_expression(known, report, question.id, each.row, column, expression,
                              question.index,
                              own=question.id if column == "constraint" else None)
        for column, language, text in each.texts:
            for match in _REFERENCE.finditer(text):
                referred = match.group(1).strip()
                item = known.get(referred)
                if referred.startswith("last-saved#"):
                    report.error(f"${{{referred}}}: answers saved in an earlier submission "
                                 "(last-saved) are not supported", each.row,
                                 question=question.id, field=column, language=language)
                elif item is None:
                    report.error(f"refers to unknown question '{referred}'", each.row,
                                 question=question.id, field=column, language=language)
                elif item.question is None:
                    _left_out(item, report, referred, question.id, each.row, column, language)
    for name, item in known.items():
        if item.referrers and item.question is None and not item.refused:
            assert item.problem is not None
            report.problems.remove(item.problem)
            referrers = ", ".join(f"'{q}' (row {r})" for q, r in item.referrers[:3])
            report.error(f"{item.problem.message.removeprefix('skipped: ')}, and "
                         f"{referrers} refer{'s' if len(item.referrers) == 1 else ''} to it",
                         item.row, question=name)


def _check_expression(known: Mapping[str, Known], report: Report, name: str, row: int,
                      column: str, expression: Expression, index: int, own: str | None) -> None:
    for referred in sorted(expression.references):
        if referred == own:
            continue
        item = known.get(referred)
        if item is None:
            report.error(f"refers to unknown question '{referred}'", row, question=name,
                         field=column)
        elif item.question is None:
            _left_out(item, report, referred, name, row, column)
        elif item.question.index >= index:
            report.error(f"refers to '{referred}', which comes later or is this question",
                         row, question=name, field=column)
        elif (item.question.type is QuestionType.NOTE
              and item.question.calculation is None):
            report.error(f"refers to '{referred}', a note (notes have no answer)", row,
                         question=name, field=column)


def _left_out(item: Known, report: Report, referred: str, name: str, row: int, column: str,
              language: str | None = None) -> None:
    report.error(f"refers to '{referred}', which {item.reason}", row, question=name,
                 field=column, language=language)
    if (name, row) not in item.referrers:
        item.referrers.append((name, row))
