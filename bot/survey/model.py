"""The survey as data: questions with stable ids, types, translations, choices, conditions.

Values here are immutable and carry no behaviour beyond picking a translation;
``loader`` builds them from a file, ``engine`` walks through them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

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
    choice_index: Mapping[str, int] = field(default_factory=dict, compare=False, repr=False)

    @property
    def asks(self) -> bool:
        """True for questions that take an answer from the participant."""
        return self.type not in SILENT_TYPES and not self.read_only

    @property
    def stores(self) -> bool:
        """True for questions whose value is kept (asked ones, and calculations)."""
        return self.type is not QuestionType.NOTE


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

    def question(self, question_id: str) -> Question:
        return self.by_id[question_id]

    @property
    def key_questions(self) -> tuple[Question, ...]:
        return tuple(q for q in self.questions if q.key)

    @property
    def breakdown_questions(self) -> tuple[Question, ...]:
        return tuple(q for q in self.questions if q.breakdown)
