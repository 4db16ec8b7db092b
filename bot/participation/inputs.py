"""What a participant can send the use cases: button presses, files, places."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum

from bot.survey.model import Question, QuestionType


class Action(StrEnum):
    """What a press on one of a question's buttons asks for."""

    ANSWER = "A"  # choose choice number n (select_one) or value n (scale)
    TOGGLE = "T"  # tick or untick choice number n (select_multiple)
    DONE = "D"  # confirm the ticked choices
    PAGE = "P"  # show page n of a long choice list
    SKIP = "S"
    BACK = "B"
    KEEP = "K"  # keep the answer given before
    ADD = "M"  # a review: add another round (an open repeat)
    CORRECT = "O"  # a review: correct round n
    CONTINUE = "N"  # a review: go on after the repeat
    DISCARD = "Z"  # yes, erase the rounds the answer leaves out (n: see DiscardQuestion)
    KEEP_ROUNDS = "W"  # no, keep them: the question again


@dataclass(frozen=True, slots=True)
class Press:
    """A press on a question's button: which survey, question and message it was on."""

    action: Action
    fingerprint: str
    question: int  # the question's index in the survey (a review: its repeat's first)
    number: int | None
    message_id: int | None  # the message the button is on
    rounds: tuple[int, ...] = ()  # the numbers of the rounds it is in, outermost first


class AttachmentKind(StrEnum):
    PHOTO = "photo"
    VOICE = "voice"
    AUDIO = "audio"
    VIDEO = "video"
    VIDEO_NOTE = "video_note"
    DOCUMENT = "document"


class AttachmentUnavailable(Exception):
    """The file could not be fetched from where the participant sent it."""


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file a participant sent; ``fetch`` is called only if the question takes it."""

    kind: AttachmentKind
    size: int | None
    mime_type: str | None
    fetch: Callable[[], Awaitable[bytes]]


@dataclass(frozen=True, slots=True)
class Place:
    latitude: float
    longitude: float
    accuracy: float | None = None


_TAKES: dict[QuestionType, frozenset[AttachmentKind]] = {
    QuestionType.PHOTO: frozenset({AttachmentKind.PHOTO}),
    QuestionType.AUDIO: frozenset({AttachmentKind.VOICE, AttachmentKind.AUDIO}),
    QuestionType.VIDEO: frozenset({AttachmentKind.VIDEO, AttachmentKind.VIDEO_NOTE}),
    QuestionType.FILE: frozenset(AttachmentKind),
}
_DOCUMENT_MIME = {QuestionType.PHOTO: "image/", QuestionType.AUDIO: "audio/",
                  QuestionType.VIDEO: "video/"}


def _takes(question: Question, attachment: Attachment) -> bool:
    if attachment.kind in _TAKES.get(question.type, frozenset()):
        return True
    prefix = _DOCUMENT_MIME.get(question.type)
    return (attachment.kind is AttachmentKind.DOCUMENT and prefix is not None
            and (attachment.mime_type or "").startswith(prefix))

