"""One pass over a survey in order, round by round: where each answer goes, what counts.

The engine (:mod:`bot.survey.engine`) moves a participant through a survey;
this module is the order it moves in. :class:`Walk` goes through the
questions in form order and through each repeat round by round (a repeat's
rounds are decided when the walk reaches it: not relevant, none; a count,
that many; an open repeat, the rounds stored so far, at least one), yielding
a :class:`Slot` for every place: a question in a round (its key is where its
answer is stored, :func:`bot.survey.model.answer_key`), and after the rounds
of a repeat that asks anything, the *review* of its rounds (key
``member[+]``, one level down ``member[2]/visit[+]``), where the participant
adds a round, corrects one or goes on.

The walk is progressive: an expression sees the answers that count so far in
walk order (those of questions passed and relevant), each question inside a
round reading its own round's answers and those of the rounds it is inside
(``${age}`` in round 2 is the second member's age), and, through
:class:`bot.survey.expressions.Repeats`, every round walked so far for
``count()``, ``sum()``, ``indexed-repeat()`` and the like. Whoever drives the
walk says what counts: :meth:`Walk.holds` decides a slot's relevance,
:meth:`Walk.take` adds an answer. :meth:`Walk.complete` drives it over
everything with the stored answers.

Rounds stored beyond what the walk gives a repeat (a count lowered, a repeat
no longer relevant) are listed in :attr:`Walk.discarded`: the engine asks
before their answers go.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace

from bot.survey.expressions import Env, EvaluationError, Expression, Value, to_number, to_string
from bot.survey.model import Question, QuestionType, Repeat, Survey, answer_key, parse_key

Answers = Mapping[str, str | None]
Rounds = tuple[tuple[str, int], ...]  # (repeat id, round number), outermost first

REVIEW = "[+]"
_MEMO_LIMIT = 50_000  # places and keys remembered per survey


@dataclass(frozen=True, slots=True)
class Slot:
    """A place in the walk: a question in its rounds, or the review of a repeat's rounds."""

    key: str
    question: Question | None  # None: the review of ``repeat``
    rounds: Rounds  # the rounds it is in (for a review: those the reviewed repeat is in)
    repeat: Repeat | None = None  # the repeat reviewed

    @property
    def is_review(self) -> bool:
        return self.question is None


@dataclass(frozen=True, slots=True)
class Visit:
    slot: Slot
    relevant: bool


_Steps = tuple[tuple[tuple[Rounds, str], int, Rounds], ...]


def _steps(key: str) -> _Steps:
    """For each round a stored key is in: (its repeat inside the rounds around it, its
    number, the round itself)."""
    parsed = parse_key(key)
    if parsed is None:
        return ()
    rounds = parsed[0]
    return tuple(((rounds[:depth], repeat), number, rounds[: depth + 1])
                 for depth, (repeat, number) in enumerate(rounds))


def review_key(repeat: str, rounds: Rounds) -> str:
    return answer_key(repeat + REVIEW, rounds)


def slot_of(survey: Survey, key: str) -> Slot | None:
    """The slot a stored key names in this survey, or None (a question or round no longer
    there, a key that is not well formed)."""
    parsed = parse_key(key)
    if parsed is None:
        return None
    rounds, last = parsed
    if last.endswith(REVIEW):
        repeat = survey.repeat_by_id.get(last[: -len(REVIEW)])
        if repeat is None or _ids(survey.chain(repeat.parent)) != _ids_of(rounds):
            return None
        return Slot(key, None, rounds, repeat)
    question = survey.by_id.get(last)
    if question is None or _ids(survey.chain(question.repeat)) != _ids_of(rounds):
        return None
    return Slot(key, question, rounds)


def _ids(chain: Sequence[Repeat]) -> tuple[str, ...]:
    return tuple(r.id for r in chain)


def _ids_of(rounds: Rounds) -> tuple[str, ...]:
    return tuple(repeat for repeat, _ in rounds)


def key_in(survey: Survey, name: str, rounds: Rounds) -> str:
    """Where the answer to ``name`` read from inside ``rounds`` is stored: in those rounds
    where its repeats are among them, else in their first round."""
    question = survey.by_id.get(name)
    if question is None or question.repeat is None:
        return name
    memo: dict[tuple[str, Rounds], str] = survey.memo.setdefault("key_in", {})
    key = memo.get((name, rounds))
    if key is None:
        by_repeat = dict(rounds)
        path = tuple((r.id, by_repeat.get(r.id, 1)) for r in survey.chain(question.repeat))
        key = answer_key(name, path)
        if len(memo) < _MEMO_LIMIT:
            memo[(name, rounds)] = key
    return key


def within(rounds: Rounds, here: Rounds) -> bool:
    """True when ``rounds`` are ``here`` or rounds that ``here`` is inside."""
    return here[: len(rounds)] == rounds


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


def asks_inside(survey: Survey, repeat: Repeat) -> bool:
    """True when a round of ``repeat`` has anything to ask (else it has no review)."""
    return any(q.asks for q in survey.questions[repeat.start : repeat.end])


def _number(expression: Expression, env: Env) -> float:
    try:
        return to_number(expression.evaluate(env))
    except EvaluationError:
        return float("nan")


class Walk:
    """A pass over ``survey`` for these answers (see the module's docstring).

    ``opened``: the rounds of the place the participant is at, which count even
    before anything is stored in them (a round just added to an open repeat).
    """

    def __init__(self, survey: Survey, answers: Answers, now: dt.datetime,
                 opened: Rounds = ()) -> None:
        self.survey = survey
        self.answers = answers
        self.now = now
        self.values: dict[Rounds, dict[str, Value]] = {(): {}}  # what counts, per round
        self.context: dict[Rounds, dict[str, Value]] = {(): self.values[()]}
        self.envs: dict[Rounds, Env] = {}
        self.rounds_of: dict[tuple[Rounds, str], int] = {}  # a repeat's rounds, in its round
        self.discarded: list[Rounds] = []
        self.visits: list[Visit] = []
        self.kept: dict[str, str | None] = {}
        self.stored: dict[tuple[Rounds, str], int] = {}  # the last round with an answer
        self.visited: set[Rounds] = set()  # rounds with an answer stored
        self.opened: dict[tuple[Rounds, str], int] = {}
        if survey.repeats:
            self._index(answers, opened)

    def _index(self, answers: Answers, opened: Rounds) -> None:
        """Which rounds have answers stored, and the last of each repeat's."""
        steps: dict[str, _Steps] = self.survey.memo.setdefault("keys", {})
        stored, visited = self.stored, self.visited
        for key in answers:
            if "[" not in key:
                continue
            found = steps.get(key)
            if found is None:
                found = _steps(key)
                if len(steps) < _MEMO_LIMIT:
                    steps[key] = found
            for where, number, inside in found:
                if number > stored.get(where, 0):
                    stored[where] = number
                visited.add(inside)
        for depth in range(len(opened)):
            repeat, number = opened[depth]
            self.opened[(opened[:depth], repeat)] = number

    # --- the order --------------------------------------------------------------------

    def slots(self) -> Iterator[Slot]:
        """Every slot in order; the rounds of a repeat are decided when it is reached."""
        return self._level(None, (), 0, len(self.survey.questions))

    def _level(self, level: str | None, rounds: Rounds, start: int, end: int
               ) -> Iterator[Slot]:
        repeat_at = self.survey.repeat_at
        i = start
        for slot in self._runs(level, rounds, start, end):
            if slot is None:  # a repeat starts here
                child = repeat_at[(level, i)]
                yield from self._repeat(child, rounds)
                i = child.end
                continue
            yield slot
            i += 1

    def _runs(self, level: str | None, rounds: Rounds, start: int, end: int
              ) -> list[Slot | None]:
        """The slots of one round's level in order, None where a repeat starts (made once per
        survey and rounds)."""
        memo: dict[tuple[Rounds, int], list[Slot | None]] = self.survey.memo.setdefault(
            "levels", {})
        found = memo.get((rounds, start))
        if found is not None:
            return found
        questions = self.survey.questions
        repeat_at = self.survey.repeat_at
        found = []
        i = start
        while i < end:
            child = repeat_at.get((level, i))
            if child is not None:
                found.append(None)
                i = child.end
                continue
            question = questions[i]
            found.append(Slot(answer_key(question.id, rounds), question, rounds))
            i += 1
        if len(memo) < _MEMO_LIMIT:
            memo[(rounds, start)] = found
        return found

    def _repeat(self, repeat: Repeat, rounds: Rounds) -> Iterator[Slot]:
        count = self._rounds(repeat, rounds)
        for number in range(1, count + 1):
            inner = self._enter(rounds, repeat.id, number)
            yield from self._level(repeat.id, inner, repeat.start, repeat.end)
        if count and asks_inside(self.survey, repeat):
            yield Slot(review_key(repeat.id, rounds), None, rounds, repeat)

    def _rounds(self, repeat: Repeat, rounds: Rounds) -> int:
        """Decide the rounds of ``repeat`` inside ``rounds``; note the stored ones beyond."""
        where = (rounds, repeat.id)
        count = self.count(repeat, rounds)
        self.rounds_of[where] = count
        for number in range(count + 1, self.stored.get(where, 0) + 1):
            if (*rounds, (repeat.id, number)) in self.visited:
                self.discarded.append((*rounds, (repeat.id, number)))
        return count

    def _enter(self, rounds: Rounds, repeat: str, number: int) -> Rounds:
        inner = (*rounds, (repeat, number))
        self.values[inner] = {}
        self.context[inner] = dict(self.context[rounds])
        return inner

    def count(self, repeat: Repeat, rounds: Rounds) -> int:
        """How many rounds ``repeat`` has inside ``rounds``, decided now."""
        env = self.env(rounds)
        if repeat.relevant is not None and not _true(repeat.relevant, env):
            return 0
        where = (rounds, repeat.id)
        if repeat.count is None:
            wanted = max(self.stored.get(where, 0), self.opened.get(where, 0), 1)
            return min(wanted, repeat.limit)
        number = _number(repeat.count, env)
        if number != number or number < 1:
            return 0
        return int(min(number, repeat.limit))

    # --- what counts ------------------------------------------------------------------

    def env(self, rounds: Rounds, current: Value = "") -> Env:
        """What an expression in ``rounds`` sees now (the answers that count so far)."""
        env = self.envs.get(rounds)
        if env is None:
            view = _View(self, rounds) if self.survey.repeats else None
            env = Env(values=self.context[rounds], now=self.now, repeats=view)
            self.envs[rounds] = env
        return env if current == "" else replace(env, current=current)

    def holds(self, slot: Slot) -> bool:
        """The slot's relevance now (a condition that cannot be evaluated is false)."""
        question = slot.question
        if question is None or question.relevant is None:
            return True
        env = self.envs.get(slot.rounds) or self.env(slot.rounds)
        try:
            return question.relevant.is_true(env)
        except EvaluationError:
            return False

    def take(self, slot: Slot, value: str | None) -> None:
        """``value`` counts from here on, as the answer at ``slot``."""
        question = slot.question
        assert question is not None
        typed = typed_value(question, value)
        self.values[slot.rounds][question.id] = typed
        if slot.rounds:
            self.context[slot.rounds][question.id] = typed

    def calculate(self, slot: Slot) -> str:
        """A calculation's value as stored text ("" when it cannot be evaluated)."""
        question = slot.question
        assert question is not None
        if question.calculation is None:
            return ""
        try:
            return to_string(question.calculation.evaluate(self.env(slot.rounds)))
        except EvaluationError:
            return ""

    def complete(self) -> Walk:
        """Walk everything with the stored answers: :attr:`visits`, :attr:`kept` (the
        answers that count, in order), :attr:`discarded`."""
        self._complete(None, (), 0, len(self.survey.questions))
        return self

    def _complete(self, level: str | None, rounds: Rounds, start: int, end: int) -> None:
        """:meth:`complete` for one level of one round (the same order as :meth:`slots`,
        without the generators: this runs several times for every message)."""
        answers, visits, kept = self.answers, self.visits, self.kept
        env = self.env(rounds)
        values = self.values[rounds]
        context = self.context[rounds] if rounds else None
        repeat_at = self.survey.repeat_at
        i = start
        for slot in self._runs(level, rounds, start, end):
            if slot is None:
                child = repeat_at[(level, i)]
                self._complete_repeat(child, rounds)
                i = child.end
                continue
            i += 1
            question = slot.question
            assert question is not None
            relevant = True
            if question.relevant is not None:
                try:
                    relevant = question.relevant.is_true(env)
                except EvaluationError:
                    relevant = False
            visits.append(Visit(slot, relevant))
            if relevant and slot.key in answers:
                value = answers[slot.key]
                kept[slot.key] = value
                typed = typed_value(question, value)
                values[question.id] = typed
                if context is not None:
                    context[question.id] = typed

    def _complete_repeat(self, repeat: Repeat, rounds: Rounds) -> None:
        count = self._rounds(repeat, rounds)
        for number in range(1, count + 1):
            inner = self._enter(rounds, repeat.id, number)
            self._complete(repeat.id, inner, repeat.start, repeat.end)
        if count and asks_inside(self.survey, repeat):
            self.visits.append(Visit(Slot(review_key(repeat.id, rounds), None, rounds, repeat),
                                     True))

    # --- after a complete walk ----------------------------------------------------------

    def merged(self, rounds: Rounds) -> dict[str, Value]:
        """Every answer that counts seen from ``rounds``: the top's and those of its rounds."""
        values = dict(self.values[()])
        for depth in range(1, len(rounds) + 1):
            values.update(self.values.get(rounds[:depth], {}))
        return values

    def answers_of(self, name: str, rounds: Rounds) -> list[tuple[Rounds, Value]]:
        """Every round (seen from ``rounds``) in which ``name`` has an answer that counts, with
        that answer, in order."""
        view = _View(self, rounds)
        found = view._chain(name)
        if found is None:
            return []
        chain = found[0]
        fixed = 0
        while (fixed < len(chain) and fixed < len(rounds)
               and rounds[fixed][0] == chain[fixed].id):
            fixed += 1
        out: list[tuple[Rounds, Value]] = []

        def each(prefix: Rounds, depth: int) -> None:
            if depth == len(chain):
                value = self.values.get(prefix, {}).get(name, "")
                if value != "":
                    out.append((prefix, value))
                return
            repeat = chain[depth]
            for number in range(1, self.rounds_of.get((prefix, repeat.id), 0) + 1):
                each((*prefix, (repeat.id, number)), depth + 1)

        each(rounds[:fixed], fixed)
        return out

    def full_env(self, slot: Slot, extra: Mapping[str, Value] | None = None,
                 current: Value = "") -> Env:
        """The environment of ``slot``'s expressions once the walk is complete (every answer
        that counts in its rounds; the engine hides what comes after the question)."""
        values = self.merged(slot.rounds)
        if extra:
            values.update(extra)
        view = _View(self, slot.rounds) if self.survey.repeats else None
        return Env(values=values, current=current, now=self.now, repeats=view)


def _true(expression: Expression, env: Env) -> bool:
    try:
        return expression.is_true(env)
    except EvaluationError:
        return False


@dataclass(slots=True)
class _View:
    """The rounds of repeats as an expression in ``rounds`` sees them (count(), sum()…)."""

    walk: Walk
    rounds: Rounds
    chains: dict[str, tuple[tuple[Repeat, ...], bool] | None] = field(default_factory=dict)

    def _chain(self, name: str) -> tuple[tuple[Repeat, ...], bool] | None:
        """The repeats ``name`` is in (a repeat: its own included), and whether it is one."""
        if name in self.chains:
            return self.chains[name]
        survey = self.walk.survey
        found: tuple[tuple[Repeat, ...], bool] | None = None
        repeat = survey.repeat_by_id.get(name)
        if repeat is not None:
            found = (survey.chain(repeat.id), True)
        else:
            question = survey.by_id.get(name)
            if question is not None and question.repeat is not None:
                found = (survey.chain(question.repeat), False)
        self.chains[name] = found
        return found

    def nodes(self, name: str) -> Sequence[Value] | None:
        found = self._chain(name)
        if found is None:
            return None
        chain, is_repeat = found
        fixed = 0
        shared = chain[:-1] if is_repeat else chain
        while (fixed < len(shared) and fixed < len(self.rounds)
               and self.rounds[fixed][0] == shared[fixed].id):
            fixed += 1
        if not is_repeat and fixed == len(chain):
            return None
        out: list[Value] = []
        walk = self.walk

        def each(prefix: Rounds, depth: int) -> None:
            if depth == len(chain):
                out.append("" if is_repeat else walk.values.get(prefix, {}).get(name, ""))
                return
            repeat = chain[depth]
            for number in range(1, walk.rounds_of.get((prefix, repeat.id), 0) + 1):
                each((*prefix, (repeat.id, number)), depth + 1)

        each(self.rounds[:fixed], fixed)
        return out

    def position(self) -> int:
        return self.rounds[-1][1] if self.rounds else 1

    def indexed(self, name: str, steps: Sequence[tuple[str, int]]) -> Value:
        found = self._chain(name)
        if found is None or found[1]:
            return ""
        asked = dict(steps)
        here = dict(self.rounds)
        path: list[tuple[str, int]] = []
        for repeat in found[0]:
            number = asked.get(repeat.id, here.get(repeat.id, 1))
            if not 1 <= number <= self.walk.rounds_of.get((tuple(path), repeat.id), 0):
                return ""
            path.append((repeat.id, number))
        return self.walk.values.get(tuple(path), {}).get(name, "")
