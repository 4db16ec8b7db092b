"""References between the items of an XLSForm, checked once every name is known.

An expression (relevant, constraint, calculation, required, choice_filter, a
group's relevant) refers to questions that have an answer; a constraint also
to its own question's answer. A question that comes later is accepted with a
warning: as in ODK, its value is empty until it is answered, so the expression
reads it as empty (the engine does so, :mod:`bot.survey.engine`). A group's
condition may read a question inside the group: the group's questions up to
it are decided with it empty, those after it with its answer, and a condition
that is false with all of them empty hides the group for good (said too). A
question's own expressions, but its constraint and its default (which may
read the question's other rounds), may not read itself. The name of a repeat
is a reference too (``count(${member})``). A text
may refer to any question. A reference to an item left out says why it was
left out, and an optional item that was only skipped is refused once
something refers to it.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from bot.survey.expressions import Env, Expression, ExpressionError
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
    end: int | None = None  # index after its last question


@dataclass(slots=True)
class Known:
    """A name of the form: a question, or an item left out (and why)."""

    row: int
    question: Question | None = None
    reason: str = ""  # for items left out: what they are
    refused: bool = False
    inside_repeat: bool = False  # a question elsewhere may use the same name
    repeat: bool = False  # a repeat: ``count(${name})`` counts its rounds
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
                     checks: Sequence[Checks], question_count: int, report: Report,
                     counts: Sequence[tuple[str, int, Expression, int, int]] = ()) -> None:
    """Report every reference that cannot be followed, and refuse skipped items referred to.

    ``counts``: each repeat's count (name, row, expression, first and last question + 1),
    checked as a group's condition is."""
    for name, row, count, start, end in counts:
        _check_expression(known, report, name, row, "repeat_count", count, start, own=None,
                          group_end=end)
    for group in groups:
        if group.relevant is None:
            continue
        start = question_count if group.start is None else group.start
        end = start if group.end is None else group.end
        _check_expression(known, report, group.name, group.row, "relevant", group.relevant,
                          start, own=None, group_end=end)
        _check_never_shown(known, report, group.name, group.row, group.relevant, start,
                           "group")
    for each in checks:
        question = each.question
        for column, expression in each.expressions:
            _check_expression(known, report, question.id, each.row, column, expression,
                              question.index,
                              own=question.id if column in ("constraint", "default") else None)
            if column == "relevant":
                _check_never_shown(known, report, question.id, each.row, expression,
                                   question.index, "question")
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
                elif item.question is None and not item.repeat:
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
                      column: str, expression: Expression, index: int, own: str | None,
                      group_end: int | None = None) -> None:
    """Check what one expression refers to; ``group_end`` is set for a group's condition."""
    for referred in sorted(expression.references):
        if referred == own:
            continue
        item = known.get(referred)
        if item is None:
            report.error(f"refers to unknown question '{referred}'", row, question=name,
                         field=column)
        elif item.repeat:
            continue
        elif item.question is None:
            _left_out(item, report, referred, name, row, column)
        elif (item.question.type is QuestionType.NOTE
              and item.question.calculation is None):
            report.error(f"refers to '{referred}', a note (notes have no answer)", row,
                         question=name, field=column)
        elif item.question.index < index:
            continue
        elif group_end is None and referred == name:
            report.error(f"refers to '{referred}', which is this question itself (only its "
                         "constraint may read its answer, as '.')", row, question=name,
                         field=column)
        elif group_end is not None and item.question.index < group_end:
            report.warn(f"refers to '{referred}' (row {item.row}), which is inside this group: "
                        f"{_EMPTY_UNTIL}, so the group's questions up to '{referred}' are shown "
                        "or skipped with it empty, those after it with its answer (ODK Collect "
                        "refuses such a form: a cycle)", row, question=name, field=column)
        else:
            later = "after this group" if group_end is not None else "later in the form"
            report.warn(f"refers to '{referred}' (row {item.row}), which comes {later}: "
                        f"{_EMPTY_UNTIL}, so here it reads as empty", row, question=name,
                        field=column)


_EMPTY_UNTIL = "its value is empty until that question is answered"
_SOME_DAY = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)


def _check_never_shown(known: Mapping[str, Known], report: Report, name: str, row: int,
                       relevant: Expression, start: int, what: str) -> None:
    """Say so when a condition reads only questions from its own on (its group's, or its
    question's) and is false with all of them empty: they are unanswered whenever it is
    decided, so the group or question is never shown."""
    read = [known.get(referred) for referred in relevant.references]
    if not read or name in relevant.references or any(
            item is None or item.question is None or item.question.index < start
            or item.question.repeat is not None
            for item in read):
        return
    try:
        shown = relevant.is_true(Env(now=_SOME_DAY))
    except ExpressionError:
        return
    if not shown:
        names = ", ".join(f"'{referred}'" for referred in sorted(relevant.references))
        one = len(read) == 1
        never = "never shown" if what == "group" else "never asked"
        report.warn(f"the {what} is {never}: its condition is false while {names} "
                    f"{'is' if one else 'are'} unanswered, which {'it is' if one else 'they are'}"
                    f" whenever the {what} is reached", row, question=name, field="relevant")


def _left_out(item: Known, report: Report, referred: str, name: str, row: int, column: str,
              language: str | None = None) -> None:
    report.error(f"refers to '{referred}', which {item.reason}", row, question=name,
                 field=column, language=language)
    if (name, row) not in item.referrers:
        item.referrers.append((name, row))
