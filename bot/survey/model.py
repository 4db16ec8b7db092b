"""The survey as data: questions with stable ids, types, translations, choices, conditions.

Values here are immutable and carry no behaviour beyond picking a translation;
``loader`` builds them from a file, ``engine`` walks through them.

Repeats: the questions of a :class:`Repeat` (a household roster: once per
person) are asked once per *round*. They stay in ``Survey.questions``, in form
order, one after the other (``Repeat.start`` to ``Repeat.end``), each naming
the innermost repeat it is in (``Question.repeat``); a repeat inside another
lies within its parent's range. A question's answer in a round is stored under
a *key* that names the round (:func:`answer_key`): ``member[2]/age`` is the
answer to ``age`` for the second member, ``member[2]/visit[1]/date`` one level
deeper. A question outside any repeat keeps its id as its key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from bot.survey.expressions import Expression, Limits


class QuestionType(StrEnum):
    SELECT_ONE = "select_one"
    SELECT_MULTIPLE = "select_multiple"
    TEXT = "text"
    INTEGER = "integer"
    DECIMAL = "decimal"
    DATE = "date"
    TIME = "time"  # HH:MM
    DATETIME = "datetime"  # YYYY-MM-DDTHH:MM
    SCALE = "scale"
    NOTE = "note"
    ACKNOWLEDGE = "acknowledge"  # one "OK" button; stored as "OK"
    CALCULATE = "calculate"  # never asked: computed from earlier answers when reached
    PHOTO = "photo"
    AUDIO = "audio"  # a voice note or an audio file
    VIDEO = "video"
    FILE = "file"
    LOCATION = "location"  # stored as XLSForm geopoints are: "lat lon altitude accuracy"


CHOICE_TYPES = frozenset({QuestionType.SELECT_ONE, QuestionType.SELECT_MULTIPLE})
NUMBER_TYPES = frozenset({QuestionType.INTEGER, QuestionType.DECIMAL, QuestionType.SCALE})
MEDIA_TYPES = frozenset({QuestionType.PHOTO, QuestionType.AUDIO, QuestionType.VIDEO,
                         QuestionType.FILE})
SILENT_TYPES = frozenset({QuestionType.NOTE, QuestionType.CALCULATE})

DEFAULT_TEXT_LENGTH = 2000
DEFAULT_ROUND_LIMIT = 20  # the most rounds of a repeat, unless the survey says otherwise
MAX_ROUND_LIMIT = 100


@dataclass(frozen=True, slots=True)
class Translated:
    """A human-readable text in several languages, falling back to the default one."""

    texts: Mapping[str, str]
    default: str

    def get(self, language: str) -> str:
        return self.texts.get(language) or self.texts.get(self.default, "")

    def has(self, language: str) -> bool:
        return bool(self.texts.get(language))


@dataclass(frozen=True, slots=True)
class Choice:
    id: str
    label: Translated
    columns: Mapping[str, str] = field(default_factory=dict)  # extra columns (choice_filter)


@dataclass(frozen=True, slots=True)
class Question:
    id: str
    type: QuestionType
    text: Translated
    index: int
    hint: Translated | None = None
    required: bool = False
    relevant: Expression | None = None
    constraint: Expression | None = None
    constraint_message: Translated | None = None
    expects: Limits | None = None  # what the constraint asks, read from it (for a hint)
    choices: tuple[Choice, ...] = ()
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    min_label: Translated | None = None
    max_label: Translated | None = None
    max_length: int = DEFAULT_TEXT_LENGTH
    year: bool = False  # an integer that is a year: no later than this year unless max says
    key: bool = False
    breakdown: bool = False
    sort_choices: bool = False
    required_if: Expression | None = None  # XLSForm: required given as an expression
    required_message: Translated | None = None
    choice_filter: Expression | None = None  # bare names are the choice row's columns
    calculation: Expression | None = None  # for calculate
    default: str | None = None  # offered as the answer to keep
    read_only: bool = False  # shown with its value, never asked
    gate: bool = False  # a required note: when it becomes relevant, the answer is refused
    source: str | None = None  # where it was defined, for messages ("sheet survey, row 12")
    path: str = ""  # XLSForm: its groups and name as ODK and Kobo write them ("group/name")
    repeat: str | None = None  # the innermost repeat it is in: asked once per round
    # a select whose choices are the answers given to this question in a repeat's rounds
    # (XLSForm ``select_one ${name}``: "Who is the head of the household?")
    choices_from: str | None = None
    choice_index: Mapping[str, int] = field(default_factory=dict, compare=False, repr=False)

    @property
    def asks(self) -> bool:
        """True for questions that take an answer from the participant."""
        return self.type not in SILENT_TYPES and not self.read_only

    @property
    def stores(self) -> bool:
        """True for questions whose value is kept (asked ones, and calculations)."""
        return self.type is not QuestionType.NOTE


class Counting(StrEnum):
    """What the figures and summaries of a repeat's questions count."""

    PEOPLE = "people"  # each participant once, whatever their rounds hold
    ROUNDS = "rounds"  # every round (every household member, every visit)


@dataclass(frozen=True, slots=True)
class Repeat:
    """Questions asked once per round: ``count`` rounds, or until the participant says no
    more (an open repeat: "Add another?" after each round, at most ``limit`` rounds)."""

    id: str
    text: Translated  # what one round is about ("Household member"); may be empty
    start: int  # index of its first question in Survey.questions
    end: int  # index after its last question
    parent: str | None = None  # the repeat it is inside
    count: Expression | None = None  # how many rounds; None: an open repeat
    limit: int = DEFAULT_ROUND_LIMIT
    relevant: Expression | None = None  # read in the round it is inside (or at the top)
    title: str | None = None  # the question whose answer names a round (``${member_name}``)
    counting: Counting = Counting.PEOPLE
    source: str | None = None
    # an XLSForm loop ("begin loop over list"): one round per choice, named by it
    over: tuple[Choice, ...] = ()
    # XLSForm: the groups around it inside its parent (or the form) and its name, as ODK and
    # Kobo write them ("household/member"); a question's path inside it follows
    path: str = ""

    @property
    def open(self) -> bool:
        return self.count is None


_KEY_STEP = re.compile(r"([^\[\]/]+)\[(\d+)\]")


def answer_key(question_id: str, rounds: tuple[tuple[str, int], ...] = ()) -> str:
    """The key an answer is stored under: ``member[2]/visit[1]/date`` (``date`` at the top)."""
    if not rounds:
        return question_id
    return "/".join([*(f"{repeat}[{number}]" for repeat, number in rounds), question_id])


def parse_key(key: str) -> tuple[tuple[tuple[str, int], ...], str] | None:
    """(rounds, last part) of a stored key: ``member[2]/age`` → ((("member", 2),), "age");
    ``None`` for a key that is not well formed."""
    parts = key.split("/")
    rounds = []
    for part in parts[:-1]:
        match = _KEY_STEP.fullmatch(part)
        if match is None:
            return None
        rounds.append((match.group(1), int(match.group(2))))
    return tuple(rounds), parts[-1]


_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_.\-]*)\}")
_NAMING_TYPES = (frozenset({QuestionType.TEXT, QuestionType.SELECT_ONE}),
                 frozenset({QuestionType.CALCULATE}))


def naming_question(questions: Sequence[Question], repeat: str, start: int, end: int
                    ) -> str | None:
    """The question whose answer names a round of the repeat ``repeat`` (its questions are
    ``questions[start:end]``): the first text or choice question of the round that a later
    label or hint in the round shows with ``${name}`` ("How old is ${member_name}?"), else
    such a calculation (ODK's ``indexed-repeat(${name}, ${person}, position(..))``, but not
    a bare ``position(..)``); None when there is none."""
    shown = {name for later in questions[start:end] for texts in (later.text, later.hint)
             if texts is not None for text in texts.texts.values()
             for name in _REFERENCE.findall(text) if name != later.id}
    for kinds in _NAMING_TYPES:
        for candidate in questions[start:end]:
            if (candidate.repeat == repeat and candidate.type in kinds and candidate.id in shown
                    and not (candidate.calculation is not None and "".join(
                        candidate.calculation.source.split()) == "position(..)")):
                return candidate.id
    return None


@dataclass(frozen=True, slots=True)
class Survey:
    id: str
    version: str
    default_language: str
    languages: tuple[str, ...]
    title: Translated
    introduction: Translated | None  # None (XLSForms): the bot's own generic texts are used
    consent_notice: Translated | None
    consent_details: Translated | None
    closing: Translated | None
    questions: tuple[Question, ...]
    fingerprint: str
    by_id: Mapping[str, Question] = field(default_factory=dict, compare=False, repr=False)
    # code → the form's own name, for languages the bot's language data cannot name
    # (XLSForm: ``label::Krio`` → kri, ``label::Sudanese Arabic`` → qaa_sudanese_arabic)
    language_names: Mapping[str, str] = field(default_factory=dict)
    # the bot's own words for a survey language it has no catalog for: in this language
    bot_language: Mapping[str, str] = field(default_factory=dict)
    repeats: tuple[Repeat, ...] = ()
    repeat_by_id: Mapping[str, Repeat] = field(default_factory=dict, compare=False, repr=False,
                                               init=False)
    # (the repeat a question is in, or None; the index it starts at) → the repeat starting there
    repeat_at: Mapping[tuple[str | None, int], Repeat] = field(
        default_factory=dict, compare=False, repr=False, init=False)
    # what the engine works out once per survey (the places of the walk, parsed keys)
    memo: dict[str, Any] = field(default_factory=dict, compare=False, repr=False, init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "repeat_by_id", {r.id: r for r in self.repeats})
        object.__setattr__(self, "repeat_at", {(r.parent, r.start): r for r in self.repeats})

    def question(self, question_id: str) -> Question:
        return self.by_id[question_id]

    def chain(self, repeat: str | None) -> tuple[Repeat, ...]:
        """The repeats from the outermost to ``repeat`` (empty for None)."""
        chain: list[Repeat] = []
        while repeat is not None:
            found = self.repeat_by_id[repeat]
            chain.append(found)
            repeat = found.parent
        return tuple(reversed(chain))

    @property
    def key_questions(self) -> tuple[Question, ...]:
        return tuple(q for q in self.questions if q.key)

    @property
    def breakdown_questions(self) -> tuple[Question, ...]:
        return tuple(q for q in self.questions if q.breakdown)
