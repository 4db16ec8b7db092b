"""Walking through a survey: pure functions over (survey, progress, input) → next step.

No I/O, no clock (``now`` is passed in), no Telegram. State is a value,
:class:`Progress`; every transition returns a new :class:`Step` or raises a
:class:`SurveyFlowError` subclass that names what went wrong (the handler turns
it into a translated hint).

Answers are kept as canonical text, as XLSForm exports them: choice ids
(space-separated for select_multiple), numbers in plain decimal notation, dates
as ``YYYY-MM-DD``. ``None`` records a skipped question. Each is stored under
its key (:func:`bot.survey.model.answer_key`): the question's id, or inside a
repeat the round it belongs to (``member[2]/age``).

Order is the walk's (:mod:`bot.survey.walk`): survey order, a repeat's
questions once per round. ``current`` is the key of the question being asked,
or of the review of a repeat's rounds (``member[+]``), where the participant
adds a round (:func:`add_round`), corrects one (:func:`correct_round`) or goes
on (:func:`go_on`); it never points at a note: notes that become relevant on
the way are returned in :attr:`Step.notes` for the handler to show. Going back
and changing an answer re-evaluates relevance; answers to questions that are
no longer relevant are dropped (:func:`effective_answers`), but an answer that
would leave whole rounds out (a count lowered) is refused with
:class:`RoundsDiscarded` until it is given again with ``discard=True``.

Across rounds: ``/back`` goes to the previous answer, into the previous round
too, and from a round just added to an open repeat (nothing answered in it
yet) to the review that added it. Moving forward into a round that already has answers
(after going back out of it, or past a corrected round) passes over its
answered questions, its notes and its own reviews, and stops at the first
question without an answer, else at the repeat's review.

An XLSForm may refer to a question that comes later (or, through its group's
condition, to the question itself). ODK reads such a question's value as it
stands, empty until it is answered; here every expression of a question reads
the questions from it on as not answered yet (the walk sees only what was
passed; :func:`_seen` hides the rest when a question is looked at on its own),
which is what ODK gives on the way forward and keeps what an answer decides
independent of answers given after it. A constraint still reads the answer it
checks.

The transitions are here; the order they follow is :mod:`bot.survey.walk`; at
the end of this module, the reading of a typed answer that :func:`answer`
relies on (:func:`parse_answer` and its number, date and time readers), which
raises the engine's own :class:`InvalidAnswer`.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation

from bot.survey.expressions import Env, EvaluationError, Expression, to_string
from bot.survey.model import (
    MEDIA_TYPES,
    Choice,
    Question,
    QuestionType,
    Repeat,
    Survey,
    Translated,
    answer_key,
)
from bot.survey.walk import (
    Answers,
    Rounds,
    Slot,
    Visit,
    Walk,
    key_in,
    review_key,
    slot_of,
    typed_value,
    within,
)

__all__ = [
    "AnswerRequired", "Answers", "GateClosed", "InvalidAnswer", "NotCurrentQuestion",
    "NothingBefore", "Progress", "RelevanceMemo", "Review", "Round", "Rounds",
    "RoundsDiscarded", "Slot", "Step", "SurveyCompleted", "SurveyFlowError", "add_round",
    "answer", "answered_count", "available_choices", "back", "bounds", "can_go_back",
    "clean_text", "correct_round", "current_slot", "describe_rounds", "effective_answers",
    "go_on", "interpolate", "irrelevant_questions", "is_required", "keep", "normalize_digits",
    "parse_answer", "parse_date", "parse_datetime", "parse_time", "position", "resume",
    "review", "shown_value", "skip", "start", "typed_value", "with_choices",
]


@dataclass(frozen=True, slots=True)
class Progress:
    answers: Answers
    current: str | None  # the key being asked (a question's, or a review's), None: completed
    walks: dict[dt.datetime, Walk] = field(default_factory=dict, compare=False, repr=False)

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
    answered: str | None = None  # the key of the answer this step records
    note_keys: tuple[str, ...] = ()  # where each of ``notes`` is (its rounds)

    def changes(self, question: Question | None = None) -> dict[str, str | None]:
        """What this step stores: the answer it records and every calculation."""
        first = ((self.answered,) if self.answered is not None
                 else (question.id,) if question is not None else ())
        return {name: self.progress.answers.get(name) for name in first + self.computed}


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

    def __init__(self, note: Question, answers: Answers, key: str | None = None) -> None:
        super().__init__("gate")
        self.note = note
        self.answers = answers  # with the refused answer: the note may quote it
        self.key = key or note.id  # where the note is (its rounds, for its ${…})


class RoundsDiscarded(SurveyFlowError):
    """The answer would leave out rounds that have answers (a count lowered, a repeat no
    longer relevant): give it again with ``discard=True`` to erase them."""

    code = "discard"

    def __init__(self, rounds: tuple[Rounds, ...], answers: Answers) -> None:
        super().__init__("discard")
        self.rounds = rounds  # each round that would go, with the rounds it is inside
        self.answers = answers  # as they are now (to name the rounds)


@dataclass(frozen=True, slots=True)
class Round:
    """One round, as the participant is told which one it is."""

    repeat: Repeat
    number: int
    total: int | None  # the rounds of a counted repeat; None for an open repeat
    name: str | None  # its own name: the answer that names it (``${member_name}``), shown


@dataclass(frozen=True, slots=True)
class Review:
    """The rounds of a repeat, to add one, correct one or go on."""

    repeat: Repeat
    rounds: tuple[Round, ...]  # every round of the repeat, in order
    inside: tuple[Round, ...]  # the rounds the repeat is inside (outermost first)
    can_add: bool  # an open repeat below its limit


# --- the walk of a progress ------------------------------------------------------------


def _walked(survey: Survey, progress: Progress, now: dt.datetime) -> Walk:
    """The complete walk of ``progress`` (kept with it: the use cases ask several things)."""
    walk = progress.walks.get(now)
    if walk is None or walk.survey is not survey:
        walk = Walk(survey, progress.answers, now, _opened(survey, progress.current)).complete()
        progress.walks.clear()
        progress.walks[now] = walk
    return walk


def _opened(survey: Survey, key: str | None) -> Rounds:
    if key is None or "[" not in key:
        return ()
    slot = slot_of(survey, key)
    return slot.rounds if slot is not None else ()


def current_slot(survey: Survey, progress: Progress) -> Slot:
    """Where the participant is (a question in its rounds, or a review)."""
    if progress.current is None:
        raise SurveyCompleted()
    slot = slot_of(survey, progress.current)
    if slot is None:
        raise NotCurrentQuestion()
    return slot


def _asked(survey: Survey, progress: Progress) -> tuple[Slot, Question]:
    slot = current_slot(survey, progress)
    if slot.question is None:
        raise NotCurrentQuestion()
    return slot, slot.question


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


def _slot_env(survey: Survey, progress: Progress, now: dt.datetime, slot: Slot) -> Env:
    return _walked(survey, progress, now).full_env(slot)


# --- what counts -----------------------------------------------------------------------


class RelevanceMemo:
    """Which questions are not relevant, remembered across many responses (exports).

    Relevance only depends on the answers the conditions refer to (and on
    ``now``, fixed here), so the set of questions that are not relevant is kept
    per combination of those answers: for most surveys a handful of
    combinations serve every response. A survey with repeats is walked for
    every response (its conditions may read every round).
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
        if self.survey.repeats:
            return irrelevant_questions(self.survey, answers, self.now)
        key = tuple([answers.get(name) for name in self.inputs])
        result = self.results.get(key)
        if result is None:
            result = irrelevant_questions(self.survey, answers, self.now)
            if len(self.results) < self.LIMIT:
                self.results[key] = result
        return result


def irrelevant_questions(survey: Survey, answers: Answers, now: dt.datetime) -> frozenset[str]:
    """The keys whose question's condition is false given these answers (answered or not),
    and the stored keys of rounds the walk leaves out.

    Relevance only depends on earlier questions, so one pass in order is enough;
    an answer counts in later conditions only if its own question is relevant.
    """
    walk = Walk(survey, answers, now).complete()
    out = {visit.slot.key for visit in walk.visits if not visit.relevant}
    if survey.repeats:
        out.update(key for key in answers
                   if "[" in key and key not in walk.kept and slot_of(survey, key) is not None)
    return frozenset(out)


def effective_answers(
    survey: Survey, answers: Answers, now: dt.datetime, memo: RelevanceMemo | None = None
) -> dict[str, str | None]:
    """The answers that still count: those to questions that are relevant, in walk order.

    Answers to questions no longer in the survey, and to rounds it no longer
    has, are left out.
    """
    if memo is not None and not survey.repeats:
        skip = memo.irrelevant(answers)
        return {q.id: answers[q.id] for q in survey.questions
                if q.id in answers and q.id not in skip}
    return Walk(survey, answers, now).complete().kept


# --- navigation -----------------------------------------------------------------


def _advance(survey: Survey, answers: Answers, now: dt.datetime, *, after: str | None = None,
             enter: Rounds | None = None, gates: bool = False,
             known: Walk | None = None) -> Step:
    """The next place to stop: after the slot ``after``, or at the start of the round
    ``enter`` (or at the very start).

    On the way: notes (and read-only questions) are collected to be shown,
    calculations are evaluated and recorded, and with ``gates`` a required note
    that became relevant refuses the move (:class:`GateClosed`). Answered
    questions in other rounds that have answers are passed over (see the
    module's docstring). ``known``: a complete walk of the same answers, whose
    relevance serves up to the starting place.
    """
    start = slot_of(survey, after) if after is not None else None
    here: Rounds = start.rounds if start is not None else (enter or ())
    walk = Walk(survey, answers, now, here)
    passed = after is None and enter is None
    current = dict(answers)
    notes: list[Question] = []
    note_keys: list[str] = []
    computed: list[str] = []
    relevance = {visit.slot.key: visit.relevant for visit in known.visits} if known else {}
    for slot in walk.slots():
        question = slot.question
        if not passed:
            if enter is not None and slot.rounds[: len(enter)] == enter:
                passed = True
            else:
                if question is not None and slot.key in answers and (
                        relevance[slot.key] if slot.key in relevance else walk.holds(slot)):
                    walk.take(slot, answers[slot.key])
                passed = slot.key == after
                continue
        elsewhere = not within(slot.rounds, here)
        if question is None:
            if elsewhere and slot.rounds in walk.visited:
                continue  # the review of a repeat inside a round that has answers
            return Step(Progress(current, slot.key), tuple(notes), computed=tuple(computed),
                        note_keys=tuple(note_keys))
        if not walk.holds(slot):
            continue
        passing = elsewhere and slot.rounds in walk.visited
        if question.asks:
            if passing and slot.key in answers:
                walk.take(slot, answers[slot.key])
                continue
            if question.choices_from is not None and not _offered(
                    survey, walk, slot, question, now):
                continue  # nothing answered in the rounds to choose from: not asked
            return Step(Progress(current, slot.key), tuple(notes), computed=tuple(computed),
                        note_keys=tuple(note_keys))
        if question.type is QuestionType.CALCULATE:
            value = walk.calculate(slot)
            current[slot.key] = value
            walk.take(slot, value)
            computed.append(slot.key)
            continue
        if question.gate and gates:
            raise GateClosed(question, current, slot.key)
        if not passing:
            notes.append(question)
            note_keys.append(slot.key)
    if not passed:  # the place it started from is no longer walked: the first open question
        walked = Walk(survey, current, now).complete()
        return Step(Progress(current, _first_unanswered(walked)), computed=tuple(computed))
    return Step(Progress(current, None), tuple(notes), computed=tuple(computed),
                note_keys=tuple(note_keys))


def _first_unanswered(walk: Walk) -> str | None:
    for visit in walk.visits:
        question = visit.slot.question
        if (question is not None and question.asks and visit.relevant
                and visit.slot.key not in walk.kept):
            return visit.slot.key
    return None


def start(survey: Survey, now: dt.datetime) -> Step:
    """The first step of a new response."""
    return _advance(survey, {}, now)


def resume(survey: Survey, answers: Answers, current: str | None, now: dt.datetime) -> Step:
    """Progress for a stored response, possibly saved under another survey version.

    The stored current place is kept when it still exists and is relevant;
    otherwise the participant continues from the first relevant question that
    has no answer yet.
    """
    walk = Walk(survey, answers, now, _opened(survey, current)).complete()
    kept = walk.kept
    if current is None and answers:
        return Step(Progress(kept, None))
    found = current
    if current is not None:
        visit = next((v for v in walk.visits if v.slot.key == current), None)
        if visit is None or not visit.relevant or not (
                visit.slot.question is None or visit.slot.question.asks):
            found = _first_unanswered(walk)
    else:
        found = _first_unanswered(walk)
    progress = Progress(kept, found)
    if len(kept) == len(answers) and found == current:
        progress.walks[now] = walk
    return Step(progress)


def _record(survey: Survey, progress: Progress, slot: Slot, value: str | None,
            now: dt.datetime, discard: bool) -> Step:
    merged = dict(progress.answers)
    merged[slot.key] = value
    walk = Walk(survey, merged, now, slot.rounds).complete()
    if walk.discarded and not discard:
        raise RoundsDiscarded(tuple(walk.discarded), progress.answers)
    kept = walk.kept
    dropped = tuple(key for key in merged if key not in kept)
    step = _advance(survey, kept, now, after=slot.key, gates=True, known=walk)
    following = step.progress
    if len(following.answers) == len(kept) and all(
            following.answers[key] == kept.get(key) for key in step.computed):
        following.walks[now] = walk  # the same answers that count: the same walk
    return replace(step, dropped=dropped, answered=slot.key)


def answer(survey: Survey, progress: Progress, raw: str, now: dt.datetime, *,
           discard: bool = False) -> Step:
    """Validate ``raw`` as the answer to the current question, record it, move on.

    ``raw`` is what the participant typed, or the choice id(s) of a button
    (space-separated for select_multiple). ``discard``: the participant agreed
    to erase the rounds this answer leaves out (:class:`RoundsDiscarded`).
    """
    slot, question = _asked(survey, progress)
    allowed = None
    if question.choices_from is not None:
        question = with_choices(survey, progress, now)
    elif question.choice_filter is not None:
        allowed = {c.id for c in available_choices(survey, progress, now)}
    value = parse_answer(question, raw, allowed, now.year)
    _check_constraint(survey, progress, slot, question, value, now)
    return _record(survey, progress, slot, value, now, discard)


def with_choices(survey: Survey, progress: Progress, now: dt.datetime) -> Question:
    """The current question, with its choices when they are the answers given in a repeat's
    rounds (``choices_from``): one choice per distinct answer, in round order, named by it
    and shown as it was given, those its choice_filter keeps (read in the round the answer
    was given in, and in the question's own); a multi-select leaves out answers with a
    space, which its stored answer could not tell apart."""
    slot, question = _asked(survey, progress)
    if question.choices_from is None:
        return question
    choices = _offered(survey, _walked(survey, progress, now), slot, question, now)
    return replace(question, choices=choices,
                   choice_index={c.id: i for i, c in enumerate(choices)})


def _offered(survey: Survey, walk: Walk, slot: Slot, question: Question, now: dt.datetime
             ) -> tuple[Choice, ...]:
    """The answers a ``choices_from`` question offers, as the walk has them so far."""
    assert question.choices_from is not None
    context = walk.merged(slot.rounds)
    choices: list[Choice] = []
    seen: set[str] = set()
    for rounds, value in walk.answers_of(question.choices_from, slot.rounds):
        name = to_string(value)
        if name in seen or (question.type is QuestionType.SELECT_MULTIPLE and " " in name):
            continue
        if question.choice_filter is not None:
            values = dict(context)
            values.update(walk.merged(rounds))
            try:
                if not question.choice_filter.is_true(Env(values=values, now=now)):
                    continue
            except EvaluationError:
                continue
        seen.add(name)
        choices.append(Choice(name, Translated({survey.default_language: name},
                                               survey.default_language)))
    return tuple(choices)


def available_choices(survey: Survey, progress: Progress, now: dt.datetime
                      ) -> tuple[Choice, ...]:
    """The choices of the current question offered now: all, or those its choice_filter
    keeps (see :func:`with_choices` for choices from a repeat's answers)."""
    slot, question = _asked(survey, progress)
    if question.choices_from is not None:
        return with_choices(survey, progress, now).choices
    if question.choice_filter is None:
        return question.choices
    env = _seen(survey, question, question.choice_filter,
                _slot_env(survey, progress, now, slot))
    kept = []
    for choice in question.choices:
        each = replace(env, names=choice.columns)
        try:
            if question.choice_filter.is_true(each):
                kept.append(choice)
        except EvaluationError:
            continue
    return tuple(kept)


_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_.\-]*)\}")


def shown_value(question: Question, value: str, language: str) -> str:
    """An answer as text for a label: choice labels for a select, else as stored."""
    if question.type in (QuestionType.SELECT_ONE, QuestionType.SELECT_MULTIPLE):
        labels = []
        for choice_id in value.split():
            index = question.choice_index.get(choice_id)
            labels.append(question.choices[index].label.get(language)
                          if index is not None else choice_id)
        return ", ".join(labels)
    return value


def interpolate(survey: Survey, text: str, answers: Answers, language: str,
                rounds: Rounds = ()) -> str:
    """A label with ``${name}`` replaced by that answer, as the participant would read it;
    inside ``rounds``, a question of the round reads that round's answer."""
    if "%(" in text and rounds:
        text = _loop_fields(survey, text, language, rounds)
    if "${" not in text:
        return text

    def shown(match: re.Match[str]) -> str:
        question = survey.by_id.get(match.group(1))
        if question is None:
            return ""
        value = answers.get(key_in(survey, question.id, rounds) if rounds or question.repeat
                            else question.id)
        return "" if value is None else shown_value(question, value, language)

    return _REFERENCE.sub(shown, text)


_LOOP_FIELD = re.compile(r"%\((label|name)\)s")


def _loop_fields(survey: Survey, text: str, language: str, rounds: Rounds) -> str:
    """``%(label)s`` and ``%(name)s`` in a loop's label: the label and the name of the choice
    its round is about (the innermost loop's)."""
    loops = [(survey.repeat_by_id[r].over, n) for r, n in rounds if survey.repeat_by_id[r].over]
    if not loops or loops[-1][1] > len(loops[-1][0]):
        return text
    over, number = loops[-1]
    fields = {"name": over[number - 1].id, "label": over[number - 1].label.get(language)}
    return _LOOP_FIELD.sub(lambda match: fields[match.group(1)], text)


def keep(survey: Survey, progress: Progress, now: dt.datetime, *,
         discard: bool = False) -> Step:
    """Confirm the answer already given to the current question (after going back)."""
    slot, question = _asked(survey, progress)
    if slot.key not in progress.answers:
        if question.default is None:
            raise InvalidAnswer("no_answer_to_keep")
        return answer(survey, progress, question.default, now, discard=discard)
    value = progress.answers[slot.key]
    if value is None:
        return skip(survey, progress, now, discard=discard)
    return _record(survey, progress, slot, value, now, discard)


def skip(survey: Survey, progress: Progress, now: dt.datetime, *,
         discard: bool = False) -> Step:
    """Leave the current question unanswered, when it is not required."""
    slot, question = _asked(survey, progress)
    if is_required(survey, progress, now):
        raise AnswerRequired()
    return _record(survey, progress, slot, None, now, discard)


def is_required(survey: Survey, progress: Progress, now: dt.datetime) -> bool:
    """The current question is required outright, or by an expression on the answers so
    far (XLSForm)."""
    slot, question = _asked(survey, progress)
    if question.required:
        return True
    if question.required_if is None:
        return False
    try:
        return question.required_if.is_true(
            _seen(survey, question, question.required_if,
                  _slot_env(survey, progress, now, slot)))
    except EvaluationError:
        return True


def back(survey: Survey, progress: Progress, now: dt.datetime) -> Step:
    """Return to the closest earlier question that was answered (or skipped), or review."""
    earlier = _previous(survey, progress, now)
    if earlier is None:
        raise NothingBefore()
    return Step(Progress(progress.answers, earlier))


def can_go_back(survey: Survey, progress: Progress, now: dt.datetime) -> bool:
    """True when :func:`back` would find an earlier place."""
    return progress.current is not None and _previous(survey, progress, now) is not None


def _previous(survey: Survey, progress: Progress, now: dt.datetime) -> str | None:
    slot = current_slot(survey, progress)
    walk = _walked(survey, progress, now)
    visits = walk.visits
    index = next((i for i, v in enumerate(visits) if v.slot.key == slot.key), None)
    if index is None:
        return None
    earlier: Slot | None = None
    for visit in reversed(visits[:index]):
        question = visit.slot.question
        if question is None or (question.asks and visit.relevant
                                and visit.slot.key in progress.answers):
            earlier = visit.slot
            break
    if slot.question is not None:
        for depth, (repeat_id, number) in enumerate(slot.rounds):
            if earlier is not None and earlier.rounds[: depth + 1] == slot.rounds[: depth + 1]:
                continue
            repeat = survey.repeat_by_id[repeat_id]
            if repeat.open and number > 1 and slot.rounds[: depth + 1] not in walk.visited:
                return review_key(repeat.id, slot.rounds[:depth])  # a round just added, empty
            break
    return earlier.key if earlier is not None else None


def position(survey: Survey, progress: Progress, now: dt.datetime) -> tuple[int, int]:
    """(k, n): the current question is the k-th of the n questions that may still be asked.

    A question whose relevance depends on an earlier question not answered yet
    is counted (it may still be asked); the rounds of a repeat count once their
    number is known, so ``n`` shrinks as the participant answers, and grows when
    a count is answered or a round added.
    """
    walk = _walked(survey, progress, now)
    answers = progress.answers
    k = n = 0
    for visit in walk.visits:
        question = visit.slot.question
        if question is None or not question.asks:
            continue
        if not visit.relevant and not _undecided(survey, answers, visit):
            continue
        n += 1
        if visit.slot.key == progress.current:
            k = n
    return (k if progress.current is not None else n), n


def _undecided(survey: Survey, answers: Answers, visit: Visit) -> bool:
    question = visit.slot.question
    assert question is not None
    relevant = question.relevant
    return relevant is not None and any(
        (other := survey.by_id.get(name)) is not None and other.index < question.index
        and key_in(survey, name, visit.slot.rounds) not in answers
        for name in relevant.references)


def answered_count(survey: Survey, progress: Progress, now: dt.datetime) -> int:
    """How many relevant questions have an answer (or were skipped)."""
    walk = _walked(survey, progress, now)
    return sum(1 for visit in walk.visits
               if visit.slot.question is not None and visit.slot.question.asks
               and visit.slot.key in walk.kept)


# --- rounds ----------------------------------------------------------------------------


def describe_rounds(survey: Survey, progress: Progress, rounds: Rounds, now: dt.datetime,
                    language: str) -> tuple[Round, ...]:
    """Each of ``rounds`` (outermost first) as the participant is told about it."""
    walk = _walked(survey, progress, now)
    described = []
    for depth, (repeat_id, number) in enumerate(rounds):
        repeat = survey.repeat_by_id[repeat_id]
        total = None if repeat.open else walk.rounds_of.get((rounds[:depth], repeat_id))
        described.append(Round(repeat, number, total,
                               _round_name(survey, progress.answers, repeat,
                                           rounds[: depth + 1], language)))
    return tuple(described)


def _round_name(survey: Survey, answers: Answers, repeat: Repeat, rounds: Rounds,
                language: str) -> str | None:
    number = rounds[-1][1]
    if repeat.over and number <= len(repeat.over):
        return repeat.over[number - 1].label.get(language) or repeat.over[number - 1].id
    if repeat.title is None:
        return None
    value = answers.get(answer_key(repeat.title, rounds))
    if not value:
        return None
    return shown_value(survey.by_id[repeat.title], value, language)


def review(survey: Survey, progress: Progress, now: dt.datetime, language: str) -> Review:
    """The rounds of the repeat under review (the current place must be a review)."""
    slot = current_slot(survey, progress)
    repeat = slot.repeat
    if repeat is None:
        raise NotCurrentQuestion()
    walk = _walked(survey, progress, now)
    count = walk.rounds_of.get((slot.rounds, repeat.id), 0)
    total = None if repeat.open else count
    rounds = tuple(
        Round(repeat, number, total, _round_name(
            survey, progress.answers, repeat, (*slot.rounds, (repeat.id, number)), language))
        for number in range(1, count + 1))
    inside = describe_rounds(survey, progress, slot.rounds, now, language)
    return Review(repeat, rounds, inside, repeat.open and count < repeat.limit)


def _reviewed(survey: Survey, progress: Progress, now: dt.datetime) -> tuple[Slot, Repeat, int]:
    slot = current_slot(survey, progress)
    if slot.repeat is None:
        raise NotCurrentQuestion()
    count = _walked(survey, progress, now).rounds_of.get((slot.rounds, slot.repeat.id), 0)
    return slot, slot.repeat, count


def add_round(survey: Survey, progress: Progress, now: dt.datetime) -> Step:
    """"Add another": the first question of a new round of the open repeat under review."""
    slot, repeat, count = _reviewed(survey, progress, now)
    if not repeat.open or count >= repeat.limit:
        raise NotCurrentQuestion()
    return _advance(survey, progress.answers, now,
                    enter=(*slot.rounds, (repeat.id, count + 1)))


def correct_round(survey: Survey, progress: Progress, number: int, now: dt.datetime) -> Step:
    """The first question of round ``number`` of the repeat under review, to correct it;
    its end leads back to the review."""
    slot, repeat, count = _reviewed(survey, progress, now)
    if not 1 <= number <= count:
        raise NotCurrentQuestion()
    return _advance(survey, progress.answers, now, enter=(*slot.rounds, (repeat.id, number)))


def go_on(survey: Survey, progress: Progress, now: dt.datetime) -> Step:
    """Leave the review: what comes after the repeat."""
    slot, _, _ = _reviewed(survey, progress, now)
    return _advance(survey, progress.answers, now, after=slot.key)


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




def _check_constraint(survey: Survey, progress: Progress, slot: Slot, question: Question,
                      value: str, now: dt.datetime) -> None:
    if question.constraint is None:
        return
    current = typed_value(question, value)
    env = _walked(survey, progress, now).full_env(slot, {question.id: current}, current)
    try:
        accepted = question.constraint.is_true(
            _seen(survey, question, question.constraint, env, own=True))
    except EvaluationError:
        accepted = False
    if not accepted:
        raise InvalidAnswer("constraint")
