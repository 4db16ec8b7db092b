"""Walking through a survey: pure functions over (survey, progress, input) → next step.

No I/O, no clock (``now`` is passed in), no Telegram. State is a value,
:class:`Progress`; every transition returns a new :class:`Step` or raises a
:class:`SurveyFlowError` subclass that names what went wrong (the handler turns
it into a translated hint).

Answers are kept as canonical text, as XLSForm exports them: choice ids
(space-separated for select_multiple), numbers in plain decimal notation, dates
as ``YYYY-MM-DD``. ``None`` records a skipped question.

Order is survey order. ``current`` never points at a note: notes that become
relevant on the way are returned in :attr:`Step.notes` for the handler to show.
Going back and changing an answer re-evaluates relevance; answers to questions
that are no longer relevant are dropped (:func:`effective_answers`).

An XLSForm may refer to a question that comes later (or, through its group's
condition, to the question itself). ODK reads such a question's value as it
stands, empty until it is answered; here every expression of a question reads
the questions from it on as not answered yet (:func:`_seen`), which is what
ODK gives on the way forward and keeps what an answer decides independent of
answers given after it. A constraint still reads the answer it checks.

One module on purpose (about 570 lines): the transitions, and at its end the
reading of a typed answer that :func:`answer` relies on (:func:`parse_answer`
and its number, date and time readers), which raises the engine's own
:class:`InvalidAnswer`. That reading is the seam to split on if it grows.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation

from bot.survey.expressions import Env, EvaluationError, Expression, Value, to_string
from bot.survey.model import MEDIA_TYPES, Choice, Question, QuestionType, Survey

Answers = Mapping[str, str | None]


@dataclass(frozen=True, slots=True)
class Progress:
    answers: Answers
    current: str | None

    @property
    def completed(self) -> bool:
        return self.current is None


@dataclass(frozen=True, slots=True)
class Step:
    """Where a transition leads: the new progress and the notes passed on the way."""

    progress: Progress
    notes: tuple[Question, ...] = ()
    dropped: tuple[str, ...] = ()
    computed: tuple[str, ...] = ()  # calculations recorded on the way (to be stored too)

    def changes(self, question: Question | None) -> dict[str, str | None]:
        """What this step stores: the answer to ``question`` and every calculation."""
        names = ((question.id,) if question is not None else ()) + self.computed
        return {name: self.progress.answers.get(name) for name in names}


class SurveyFlowError(Exception):
    """Base of everything the engine refuses; ``code`` names the reason."""

    code = "flow"


class InvalidAnswer(SurveyFlowError):
    """The input is not an acceptable answer to the current question."""

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


class AnswerRequired(SurveyFlowError):
    code = "required"


class NothingBefore(SurveyFlowError):
    code = "nothing_before"


class SurveyCompleted(SurveyFlowError):
    code = "completed"


class NotCurrentQuestion(SurveyFlowError):
    code = "not_current"


class GateClosed(InvalidAnswer):
    """A required note became relevant: the answer that led to it is refused."""

    def __init__(self, note: Question, answers: Answers) -> None:
        super().__init__("gate")
        self.note = note
        self.answers = answers  # with the refused answer: the note may quote it


# --- typed values for expressions -------------------------------------------------


def typed_value(question: Question, value: str | None) -> Value:
    """An answer as the expression language sees it (unanswered → "")."""
    if value is None or value == "":
        return ""
    try:
        if question.type in (QuestionType.INTEGER, QuestionType.SCALE):
            return int(value)
        if question.type is QuestionType.DECIMAL:
            return float(value)
        if question.type is QuestionType.DATE:
            return dt.date.fromisoformat(value)
        if question.type is QuestionType.DATETIME:
            return dt.datetime.fromisoformat(value)
    except ValueError:
        pass  # stored under an earlier version where the question had another type
    return value


def environment(
    survey: Survey, answers: Answers, now: dt.datetime, current: Value = ""
) -> Env:
    values = {
        qid: typed_value(survey.by_id[qid], value)
        for qid, value in answers.items()
        if qid in survey.by_id
    }
    return Env(values=values, current=current, now=now)


def is_relevant(survey: Survey, question: Question, answers: Answers, now: dt.datetime) -> bool:
    if question.relevant is None:
        return True
    return _holds(survey, question, environment(survey, answers, now))


def _seen(survey: Survey, question: Question, expression: Expression, env: Env,
          own: bool = False) -> Env:
    """``env`` as an expression of ``question`` sees it: from the question on, nothing is
    answered yet (with ``own``, a constraint, the question's own answer stays)."""
    later = [
        name for name in expression.references
        if name in env.values and (other := survey.by_id.get(name)) is not None
        and other.index >= question.index and not (own and name == question.id)
    ]
    if not later:
        return env
    return replace(env, values={k: v for k, v in env.values.items() if k not in later})


def _holds(survey: Survey, question: Question, env: Env) -> bool:
    """The question's relevance in ``env`` (a condition that cannot be evaluated is false)."""
    if question.relevant is None:
        return True
    try:
        return question.relevant.is_true(_seen(survey, question, question.relevant, env))
    except EvaluationError:
        return False


class RelevanceMemo:
    """Which questions are not relevant, remembered across many responses (exports).

    Relevance only depends on the answers the conditions refer to (and on
    ``now``, fixed here), so the set of questions that are not relevant is kept
    per combination of those answers: for most surveys a handful of
    combinations serve every response.
    """

    LIMIT = 100_000

    def __init__(self, survey: Survey, now: dt.datetime) -> None:
        self.survey = survey
        self.now = now
        self.inputs = tuple(sorted({
            name for q in survey.questions if q.relevant
            for name in q.relevant.references if name in survey.by_id
        }))
        self.results: dict[tuple[str | None, ...], frozenset[str]] = {}

    def irrelevant(self, answers: Answers) -> frozenset[str]:
        key = tuple([answers.get(name) for name in self.inputs])
        result = self.results.get(key)
        if result is None:
            result = irrelevant_questions(self.survey, answers, self.now)
            if len(self.results) < self.LIMIT:
                self.results[key] = result
        return result


def irrelevant_questions(survey: Survey, answers: Answers, now: dt.datetime) -> frozenset[str]:
    """The questions whose condition is false given these answers (answered or not).

    Relevance only depends on earlier questions, so one pass in order is enough;
    an answer counts in later conditions only if its own question is relevant.
    """
    out: set[str] = set()
    typed: dict[str, Value] = {}  # the answers that count so far
    env = Env(values=typed, now=now)
    for question in survey.questions:
        if question.relevant is not None and not _holds(survey, question, env):
            out.add(question.id)
        elif question.id in answers:
            typed[question.id] = typed_value(question, answers[question.id])
    return frozenset(out)


def effective_answers(
    survey: Survey, answers: Answers, now: dt.datetime, memo: RelevanceMemo | None = None
) -> dict[str, str | None]:
    """The answers that still count: those to questions that are relevant, in survey order.

    Answers to questions no longer in the survey are left out.
    """
    skip = memo.irrelevant(answers) if memo else irrelevant_questions(survey, answers, now)
    return {q.id: answers[q.id] for q in survey.questions
            if q.id in answers and q.id not in skip}


# --- navigation -----------------------------------------------------------------


def _advance(
    survey: Survey, answers: Answers, after: int, now: dt.datetime, *, gates: bool = False
) -> Step:
    """The first relevant question after index ``after``.

    On the way: notes (and read-only questions) are collected to be shown,
    calculations are evaluated and recorded, and with ``gates`` a required note
    that became relevant refuses the move (:class:`GateClosed`).
    """
    notes: list[Question] = []
    computed: list[str] = []
    current = dict(answers)
    env = environment(survey, current, now)
    typed = env.values
    for question in survey.questions[after + 1 :]:
        if not _holds(survey, question, env):
            continue
        if question.asks:
            return Step(Progress(current, question.id), tuple(notes), computed=tuple(computed))
        if question.type is QuestionType.CALCULATE:
            value = calculate(survey, question, env)
            current[question.id] = value
            if isinstance(typed, dict):
                typed[question.id] = typed_value(question, value)
            computed.append(question.id)
            continue
        if question.gate and gates:
            raise GateClosed(question, current)
        notes.append(question)
    return Step(Progress(current, None), tuple(notes), computed=tuple(computed))


def calculate(survey: Survey, question: Question, env: Env) -> str:
    """A calculation's value as stored text ("" when it cannot be evaluated)."""
    if question.calculation is None:
        return ""
    try:
        return to_string(question.calculation.evaluate(
            _seen(survey, question, question.calculation, env)))
    except EvaluationError:
        return ""


def start(survey: Survey, now: dt.datetime) -> Step:
    """The first step of a new response."""
    return _advance(survey, {}, -1, now)


def resume(survey: Survey, answers: Answers, current: str | None, now: dt.datetime) -> Step:
    """Progress for a stored response, possibly saved under another survey version.

    The stored current question is kept when it still exists and is relevant;
    otherwise the participant continues from the first relevant question that
    has no answer yet.
    """
    kept = effective_answers(survey, answers, now)
    if current is None and answers:
        return Step(Progress(kept, None))
    env = environment(survey, kept, now)
    if current is not None and current in survey.by_id:
        question = survey.by_id[current]
        if question.asks and _holds(survey, question, env):
            return Step(Progress(kept, current))
    for question in survey.questions:
        if question.asks and question.id not in kept and _holds(survey, question, env):
            return Step(Progress(kept, question.id))
    return Step(Progress(kept, None))


def _current(survey: Survey, progress: Progress) -> Question:
    if progress.current is None:
        raise SurveyCompleted()
    return survey.by_id[progress.current]


def _record(
    survey: Survey, progress: Progress, question: Question, value: str | None, now: dt.datetime
) -> Step:
    merged = dict(progress.answers)
    merged[question.id] = value
    kept = effective_answers(survey, merged, now)
    dropped = tuple(qid for qid in merged if qid not in kept)
    step = _advance(survey, kept, question.index, now, gates=True)
    return Step(step.progress, step.notes, dropped, step.computed)


def answer(survey: Survey, progress: Progress, raw: str, now: dt.datetime) -> Step:
    """Validate ``raw`` as the answer to the current question, record it, move on.

    ``raw`` is what the participant typed, or the choice id(s) of a button
    (space-separated for select_multiple).
    """
    question = _current(survey, progress)
    allowed = None
    if question.choice_filter is not None:
        allowed = {c.id for c in available_choices(survey, question, progress.answers, now)}
    value = parse_answer(question, raw, allowed, now.year)
    check_constraint(survey, progress.answers, question, value, now)
    return _record(survey, progress, question, value, now)


def available_choices(
    survey: Survey, question: Question, answers: Answers, now: dt.datetime
) -> tuple[Choice, ...]:
    """The choices offered now: all of them, or those the choice_filter keeps."""
    if question.choice_filter is None:
        return question.choices
    values = _seen(survey, question, question.choice_filter,
                   environment(survey, answers, now)).values
    kept = []
    for choice in question.choices:
        env = Env(values=values, names=choice.columns, now=now)
        try:
            if question.choice_filter.is_true(env):
                kept.append(choice)
        except EvaluationError:
            continue
    return tuple(kept)


_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_.\-]*)\}")


def interpolate(survey: Survey, text: str, answers: Answers, language: str) -> str:
    """A label with ``${name}`` replaced by that answer, as the participant would read it."""
    if "${" not in text:
        return text

    def shown(match: re.Match[str]) -> str:
        question = survey.by_id.get(match.group(1))
        value = answers.get(match.group(1))
        if question is None or value is None:
            return ""
        if question.type in (QuestionType.SELECT_ONE, QuestionType.SELECT_MULTIPLE):
            labels = []
            for choice_id in value.split():
                index = question.choice_index.get(choice_id)
                labels.append(question.choices[index].label.get(language)
                              if index is not None else choice_id)
            return ", ".join(labels)
        return value

    return _REFERENCE.sub(shown, text)


def keep(survey: Survey, progress: Progress, now: dt.datetime) -> Step:
    """Confirm the answer already given to the current question (after going back)."""
    question = _current(survey, progress)
    if question.id not in progress.answers:
        if question.default is None:
            raise InvalidAnswer("no_answer_to_keep")
        return answer(survey, progress, question.default, now)
    value = progress.answers[question.id]
    if value is None:
        return skip(survey, progress, now)
    return _record(survey, progress, question, value, now)


def skip(survey: Survey, progress: Progress, now: dt.datetime) -> Step:
    """Leave the current question unanswered, when it is not required."""
    question = _current(survey, progress)
    if is_required(survey, question, progress.answers, now):
        raise AnswerRequired()
    return _record(survey, progress, question, None, now)


def is_required(survey: Survey, question: Question, answers: Answers, now: dt.datetime) -> bool:
    """Required outright, or by an expression on the answers so far (XLSForm)."""
    if question.required:
        return True
    if question.required_if is None:
        return False
    try:
        return question.required_if.is_true(
            _seen(survey, question, question.required_if, environment(survey, answers, now)))
    except EvaluationError:
        return True


def back(survey: Survey, progress: Progress, now: dt.datetime) -> Step:
    """Return to the closest earlier question that was answered (or skipped)."""
    earlier = _previous(survey, progress, now)
    if earlier is None:
        raise NothingBefore()
    return Step(Progress(progress.answers, earlier.id))


def can_go_back(survey: Survey, progress: Progress, now: dt.datetime) -> bool:
    """True when :func:`back` would find an earlier question."""
    return progress.current is not None and _previous(survey, progress, now) is not None


def _previous(survey: Survey, progress: Progress, now: dt.datetime) -> Question | None:
    question = _current(survey, progress)
    for earlier in reversed(survey.questions[: question.index]):
        if earlier.asks and earlier.id in progress.answers:
            if is_relevant(survey, earlier, progress.answers, now):
                return earlier
    return None


def position(survey: Survey, progress: Progress, now: dt.datetime) -> tuple[int, int]:
    """(k, n): the current question is the k-th of the n questions that may still be asked.

    A question whose relevance depends on an earlier question not answered yet is
    counted (it may still be asked), so ``n`` only shrinks as the participant answers.
    """
    k = n = 0
    env = environment(survey, progress.answers, now)
    for question in survey.questions:
        if not question.asks:
            continue
        undecided = question.relevant is not None and any(
            name not in progress.answers and name in survey.by_id
            and survey.by_id[name].index < question.index
            for name in question.relevant.references)
        if not undecided and not _holds(survey, question, env):
            continue
        n += 1
        if question.id == progress.current:
            k = n
    return (k if progress.current is not None else n), n


def answered_count(survey: Survey, progress: Progress, now: dt.datetime) -> int:
    """How many relevant questions have an answer (or were skipped)."""
    kept = effective_answers(survey, progress.answers, now)
    return sum(1 for qid in kept if survey.by_id[qid].asks)


# --- parsing and validating one answer -----------------------------------------------

_SPACES = re.compile(r"[\s\u00a0\u202f\u2009_']+")
_DATE_DMY = re.compile(r"^(\d{1,2})[./\- ](\d{1,2})[./\- ](\d{4})$")


# C0 controls but tab and newline, DEL, C1 controls; the bidirectional embeddings,
# overrides and isolates (U+202A–U+202E, U+2066–U+2069), which can make a stored
# text read differently from what was typed. Marks (U+200E, U+200F) are kept.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def clean_text(text: str) -> str:
    """A typed answer without control characters or bidirectional overrides (CR → LF)."""
    return _UNSAFE.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def normalize_digits(text: str) -> str:
    """Map every Unicode decimal digit (Arabic-Indic, Persian, …) to ASCII."""
    return "".join(
        str(unicodedata.decimal(ch)) if ch.isdecimal() and not ch.isascii() else ch
        for ch in text
    )


def _parse_decimal(text: str) -> Decimal:
    cleaned = normalize_digits(text.strip()).replace("\u066b", ".").replace("\u2212", "-")
    cleaned = _SPACES.sub("", cleaned)
    if cleaned.count(",") == 1 and "." not in cleaned:
        cleaned = cleaned.replace(",", ".")
    if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", cleaned):
        raise InvalidOperation(text)
    return Decimal(cleaned)


def _canonical_number(number: Decimal) -> str:
    text = format(number.normalize(), "f")
    return "0" if text in ("-0", "") else text


def bounds(question: Question, this_year: int) -> tuple[Decimal | None, Decimal | None]:
    """The smallest and largest answers accepted (a year: no later than ``this_year``
    unless the survey sets a maximum)."""
    maximum = question.maximum
    if question.year and maximum is None:
        maximum = Decimal(this_year)
    return question.minimum, maximum


def _check_range(question: Question, number: Decimal, this_year: int) -> None:
    minimum, maximum = bounds(question, this_year)
    if question.year and not ((minimum is None or number >= minimum)
                              and (maximum is None or number <= maximum)):
        raise InvalidAnswer("year_range", minimum=minimum, maximum=maximum)
    if minimum is not None and number < minimum:
        raise InvalidAnswer("too_small", minimum=minimum)
    if maximum is not None and number > maximum:
        raise InvalidAnswer("too_large", maximum=maximum)


def parse_date(text: str) -> dt.date:
    """ISO ``YYYY-MM-DD`` or day-first ``D/M/YYYY`` (also with ``.`` or ``-``)."""
    cleaned = normalize_digits(text.strip())
    try:
        return dt.date.fromisoformat(cleaned)
    except ValueError:
        pass
    match = _DATE_DMY.match(cleaned)
    if match:
        day, month, year = (int(g) for g in match.groups())
        try:
            return dt.date(year, month, day)
        except ValueError:
            pass
    raise InvalidAnswer("not_date")


def parse_answer(question: Question, raw: str, allowed: set[str] | None = None,
                 this_year: int = dt.MAXYEAR) -> str:
    """The canonical value for ``raw``, or :class:`InvalidAnswer`.

    ``allowed``: the choice ids a choice filter leaves (default: every choice);
    ``this_year``: the latest year a year question accepts by default.
    """
    kind = question.type
    choices = question.choice_index.keys() if allowed is None else allowed
    if kind is QuestionType.SELECT_ONE:
        if raw not in choices:
            raise InvalidAnswer("unknown_choice")
        return raw
    if kind is QuestionType.SELECT_MULTIPLE:
        chosen = set(raw.split())
        unknown = chosen - choices
        if unknown:
            raise InvalidAnswer("unknown_choice")
        if not chosen:
            raise InvalidAnswer("choose_at_least_one")
        return " ".join(c.id for c in question.choices if c.id in chosen)
    if kind is QuestionType.TEXT:
        text = clean_text(raw).strip()
        if not text:
            raise InvalidAnswer("empty")
        if len(text) > question.max_length:
            raise InvalidAnswer("too_long", limit=question.max_length, length=len(text))
        return text
    if kind in (QuestionType.INTEGER, QuestionType.SCALE):
        try:
            number = _parse_decimal(raw)
        except InvalidOperation:
            raise InvalidAnswer("not_integer") from None
        if number != number.to_integral_value():
            raise InvalidAnswer("not_integer")
        _check_range(question, number, this_year)
        return str(int(number))
    if kind is QuestionType.DECIMAL:
        try:
            number = _parse_decimal(raw)
        except InvalidOperation:
            raise InvalidAnswer("not_number") from None
        _check_range(question, number, this_year)
        return _canonical_number(number)
    if kind is QuestionType.DATE:
        return parse_date(raw).isoformat()
    if kind is QuestionType.TIME:
        return parse_time(raw).strftime("%H:%M")
    if kind is QuestionType.DATETIME:
        return parse_datetime(raw).strftime("%Y-%m-%dT%H:%M")
    if kind is QuestionType.ACKNOWLEDGE:
        return "OK"
    if kind in MEDIA_TYPES or kind is QuestionType.LOCATION:
        if not raw.strip():
            raise InvalidAnswer("wrong_kind")
        return raw.strip()  # the handler has checked and stored what the participant sent
    raise InvalidAnswer("no_answer_expected")


_TIME = re.compile(r"^(\d{1,2})\s*[:hH.]\s*(\d{2})$")


def parse_time(text: str) -> dt.time:
    """``14:30``, ``9:05``, ``14h30``."""
    match = _TIME.match(normalize_digits(text.strip()))
    if match:
        hour, minute = int(match.group(1)), int(match.group(2))
        if hour < 24 and minute < 60:
            return dt.time(hour, minute)
    raise InvalidAnswer("not_time")


def parse_datetime(text: str) -> dt.datetime:
    """A date as :func:`parse_date` reads it, a space (or ``T``), and a time."""
    cleaned = normalize_digits(text.strip()).replace("T", " ")
    date_part, _, time_part = cleaned.rpartition(" ")
    try:
        return dt.datetime.combine(parse_date(date_part), parse_time(time_part))
    except InvalidAnswer:
        raise InvalidAnswer("not_datetime") from None


def check_constraint(
    survey: Survey, answers: Answers, question: Question, value: str, now: dt.datetime
) -> None:
    if question.constraint is None:
        return
    current = typed_value(question, value)
    env = environment(survey, {**answers, question.id: value}, now, current=current)
    try:
        accepted = question.constraint.is_true(
            _seen(survey, question, question.constraint, env, own=True))
    except EvaluationError:
        accepted = False
    if not accepted:
        raise InvalidAnswer("constraint")
