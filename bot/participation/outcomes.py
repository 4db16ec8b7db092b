"""What a participant's action led to: values a renderer turns into a reply.

:mod:`bot.participation` returns an :class:`Outcome` for every action. It says
everything the reply needs and nothing about how it is shown: the Telegram
handlers render it as messages and buttons, a web page or a test reads it
as it is. Texts that come from the survey are already picked for the
participant's language and have their ``${name}`` references filled in; the
bot's own words are named by a :class:`Say` code and worded by the renderer.

The parts of an outcome, in the order a reply shows them:

1. ``stale``: the pressed button does nothing any more (a short notice);
2. ``pressed``: what becomes of the message whose button was pressed
   (:class:`Echo` of the answer, :class:`Closed`, :class:`Redraw`,
   :class:`LanguageSet`, :class:`Replaced`);
3. ``retire``: an earlier question message whose buttons must go;
4. ``says``: short messages (hints, notices), in order;
5. ``screen``: what the participant sees next (:class:`Next` step of the
   survey, the language picker, the consent notice, search results…).

Inside a repeat, a question says which round it is about: ``Asking.rounds``
(and ``Echo.rounds``, ``Note.rounds``) hold each round it is inside, outermost
first, as :class:`bot.survey.engine.Round` values (the repeat, the round's
number, the number of rounds of a counted repeat, the round's own name when
an answer gives it one). After the rounds of a repeat, :class:`Reviewing`
lists them to add one, correct one or go on; :class:`DiscardQuestion` asks
before an answer erases whole rounds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from bot.survey.engine import Answers
from bot.survey.engine import Round as Round  # what a renderer reads of a round
from bot.survey.model import Choice, Question, Repeat


@dataclass(frozen=True, slots=True)
class Say:
    """One of the bot's own short messages, by code (``custom``: a text from the survey)."""

    code: str
    params: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Asking:
    """The current question, as the participant is to see it."""

    question: Question
    text: str
    hint: str | None
    choices: tuple[Choice, ...]  # those offered now, in display order
    position: tuple[int, int]  # (k, n): question k of n
    previous: str | None = None  # the answer given before, or the default
    has_previous: bool = False
    draft: frozenset[str] | None = None  # ticks of a multi-select question before "Done"
    page: int | None = None
    can_go_back: bool = False
    can_skip: bool = False
    bounds: tuple[Decimal | None, Decimal | None] = (None, None)  # the answers accepted
    key: str = ""  # where its answer is stored (the question's id outside repeats)
    rounds: tuple[Round, ...] = ()  # the rounds it is asked in, outermost first

    @property
    def round_numbers(self) -> tuple[int, ...]:
        """What its buttons carry to say which round they answer."""
        return tuple(r.number for r in self.rounds)


@dataclass(frozen=True, slots=True)
class Note:
    """Information shown on the way (with its value when it is a read-only question)."""

    question: Question
    text: str
    hint: str | None
    value: str | None
    rounds: tuple[Round, ...] = ()


@dataclass(frozen=True, slots=True)
class Reviewing:
    """The rounds of a repeat once they are done: add one (an open repeat below its limit),
    correct one (each round is a button), or go on."""

    key: str
    repeat: Repeat
    rounds: tuple[Round, ...]  # every round, in order
    inside: tuple[Round, ...]  # the rounds the repeat is inside
    can_add: bool
    can_go_back: bool

    @property
    def round_numbers(self) -> tuple[int, ...]:
        """What its buttons carry to say which review they are on."""
        return tuple(r.number for r in self.inside)


@dataclass(frozen=True, slots=True)
class DiscardQuestion:
    """An answer would erase whole rounds (a count lowered): confirm first.

    ``pending`` says what is confirmed: the answer kept in the response's draft
    (0), skipping the question (1), keeping its earlier answer (2).
    """

    question: Question
    key: str
    rounds: tuple[tuple[Round, ...], ...]  # each round that would go (with those it is in)
    pending: int
    asked_in: tuple[Round, ...] = ()  # the rounds of the question answered

    @property
    def round_numbers(self) -> tuple[int, ...]:
        return tuple(r.number for r in self.asked_in)


@dataclass(frozen=True, slots=True)
class Completion:
    closing: str | None  # the survey's own closing words, if it has them
    offer_subscription: bool


@dataclass(frozen=True, slots=True)
class Next:
    """A step of the survey: notes passed on the way, then a question or the end."""

    notes: tuple[Note, ...]
    then: Asking | Reviewing | Completion


@dataclass(frozen=True, slots=True)
class LanguagePicker:
    languages: tuple[str, ...]  # in the order to offer them


@dataclass(frozen=True, slots=True)
class ConsentScreen:
    details: bool = False  # the longer explanation ("More information")


@dataclass(frozen=True, slots=True)
class SearchResults:
    question: Question
    found: tuple[Choice, ...]
    round_numbers: tuple[int, ...] = ()  # the rounds the question is asked in


@dataclass(frozen=True, slots=True)
class DeleteQuestion:
    """Ask for confirmation before erasing everything."""


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    question: Question
    text: str  # the question in the participant's language
    value: str | None
    rounds: tuple[Round, ...] = ()  # the round it answers, inside a repeat


@dataclass(frozen=True, slots=True)
class MyData:
    """Everything stored about the participant (``created_at`` None: nothing)."""

    created_at: dt.datetime | None = None
    language: str | None = None
    source: str | None = None
    consented_at: dt.datetime | None = None
    started: bool = False
    completed_at: dt.datetime | None = None
    answers: tuple[StoredAnswer, ...] = ()
    subscribed_language: str | None = None
    reminders_off: bool = False


Screen = (Next | LanguagePicker | ConsentScreen | SearchResults | DeleteQuestion | MyData
          | DiscardQuestion)


@dataclass(frozen=True, slots=True)
class Echo:
    """The question message keeps the question and shows the answer; its buttons go."""

    question: Question
    text: str
    value: str | None
    answers: Answers
    rounds: tuple[Round, ...] = ()


@dataclass(frozen=True, slots=True)
class Closed:
    """The pressed message stays as it is, without its buttons."""


@dataclass(frozen=True, slots=True)
class Redraw:
    """The pressed question message gets new buttons (ticks, another page)."""

    asking: Asking


@dataclass(frozen=True, slots=True)
class LanguageSet:
    language: str


@dataclass(frozen=True, slots=True)
class Replaced:
    """The pressed message's text becomes this notice, without buttons."""

    say: Say


Pressed = Echo | Closed | Redraw | LanguageSet | Replaced


@dataclass(frozen=True, slots=True)
class Outcome:
    language: str | None  # the participant's language; None: not chosen (the app's is used)
    stale: bool = False
    pressed: Pressed | None = None
    retire: int | None = None
    says: tuple[Say, ...] = ()
    screen: Screen | None = None
    command: str | None = None  # a command typed as a word: run that command instead
    echo_in: int | None = None  # the message ``pressed`` applies to when no button was pressed
