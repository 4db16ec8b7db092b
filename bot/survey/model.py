"""The survey as data: questions with stable ids, types, translations, choices, conditions.

Values here are immutable and carry no behaviour beyond picking a translation;
``loader`` builds them from a file, ``engine`` walks through them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from bot.survey.expressions import Expression


class QuestionType(StrEnum):
    SELECT_ONE = "select_one"
    SELECT_MULTIPLE = "select_multiple"
    TEXT = "text"
    INTEGER = "integer"
    DECIMAL = "decimal"
    DATE = "date"
    SCALE = "scale"
    NOTE = "note"


CHOICE_TYPES = frozenset({QuestionType.SELECT_ONE, QuestionType.SELECT_MULTIPLE})
NUMBER_TYPES = frozenset({QuestionType.INTEGER, QuestionType.DECIMAL, QuestionType.SCALE})

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
    choices: tuple[Choice, ...] = ()
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    min_label: Translated | None = None
    max_label: Translated | None = None
    max_length: int = DEFAULT_TEXT_LENGTH
    key: bool = False
    breakdown: bool = False
    sort_choices: bool = False
    choice_index: Mapping[str, int] = field(default_factory=dict, compare=False, repr=False)

    @property
    def asks(self) -> bool:
        """True for questions that take an answer (everything but notes)."""
        return self.type is not QuestionType.NOTE


@dataclass(frozen=True, slots=True)
class Survey:
    id: str
    version: str
    default_language: str
    languages: tuple[str, ...]
    title: Translated
    introduction: Translated
    consent_notice: Translated
    consent_details: Translated
    closing: Translated | None
    questions: tuple[Question, ...]
    fingerprint: str
    by_id: Mapping[str, Question] = field(default_factory=dict, compare=False, repr=False)

    def question(self, question_id: str) -> Question:
        return self.by_id[question_id]

    @property
    def key_questions(self) -> tuple[Question, ...]:
        return tuple(q for q in self.questions if q.key)

    @property
    def breakdown_questions(self) -> tuple[Question, ...]:
        return tuple(q for q in self.questions if q.breakdown)
