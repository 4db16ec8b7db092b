"""Button payloads (``callback_data``): short ASCII codes, never labels, at most 64 bytes.

``L:<language>``, ``C:<y|n|i>`` (consent), ``X:<y|n>`` (delete), and survey actions
``<action>:<survey fingerprint>:<question index>[:<number>]``. The fingerprint
makes a button from another version of the survey file stale; the question index
must be the current question, otherwise the press is stale too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

MAX_BYTES = 64


class Action(StrEnum):
    ANSWER = "A"  # choose choice number n (select_one) or value n (scale)
    TOGGLE = "T"  # tick or untick choice number n (select_multiple)
    DONE = "D"  # confirm the ticked choices
    PAGE = "P"  # show page n of a long choice list
    SKIP = "S"
    BACK = "B"
    KEEP = "K"  # keep the answer given before


@dataclass(frozen=True, slots=True)
class SurveyButton:
    action: Action
    fingerprint: str
    question: int
    number: int | None = None


_SURVEY = re.compile(r"^([ATDPSBK]):([0-9a-f]{1,16}):(\d{1,5})(?::(-?\d{1,6}))?$")
_LANGUAGE = re.compile(r"^L:([A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*)$")
_CHOICE = re.compile(r"^([CX]):([yni])$")


OFFER_YES = "U:y"  # yes, send me summaries of the results
OFFER_NO = "U:n"


def survey_button(
    action: Action, fingerprint: str, question: int, number: int | None = None
) -> str:
    data = f"{action.value}:{fingerprint}:{question}"
    if number is not None:
        data += f":{number}"
    assert len(data.encode()) <= MAX_BYTES
    return data


def language_button(language: str) -> str:
    return f"L:{language}"


def consent_button(choice: str) -> str:
    return f"C:{choice}"


def delete_button(choice: str) -> str:
    return f"X:{choice}"


def parse_survey_button(data: str | None) -> SurveyButton | None:
    match = _SURVEY.match(data or "")
    if not match:
        return None
    action, fingerprint, question, number = match.groups()
    return SurveyButton(Action(action), fingerprint, int(question),
                        int(number) if number is not None else None)


def parse_language_button(data: str | None) -> str | None:
    match = _LANGUAGE.match(data or "")
    return match.group(1) if match else None


def parse_choice_button(data: str | None, kind: str) -> str | None:
    """``y``/``n``/``i`` from a consent (``C``) or delete (``X``) button."""
    match = _CHOICE.match(data or "")
    if not match or match.group(1) != kind:
        return None
    return match.group(2)
