"""Every button payload (``callback_data``) the bot makes, and its parser: one place.

Payloads are short ASCII codes, never labels, at most 64 bytes. The first field
names the kind of button (:class:`Kind`); :func:`pattern` gives the handler
registry the regular expression of each kind.

======================  ===============================================================
``L:<language>``        the language picker
``C:<y|n|i>``           consent: I agree, No thanks, More information
``X:<y|n>``             /delete's confirmation
``U:<y|n>``             the offer of summaries at the end
``R:<c|s>``             a reminder: Continue, Stop reminders
``E:<format>[:<lang>][:<k|s>]`` an organizer's export format (with labels in a language;
                        Kobo column names, or ``;`` between CSV fields)
``H:<a|p|r|x>:<id>``    an organizer's schedule: add preset, pause, resume, remove
``<action>:<fp>:<q>[.<r>…][:<n>]``  a question's button (:class:`bot.participation.Action`)
======================  ===============================================================

A question's button carries the survey's fingerprint (a button from another
version of the survey file is stale) and the question's index (it must be the
current question, otherwise the press is stale too). Inside a repeat, the
index is followed by the number of each round the question is in (``12.2``:
question 12 for the second member; ``12.2.1`` one level deeper), so that a
button left on an earlier round's message is stale too. The buttons of a
review of rounds (add one, correct round ``n``, go on) carry the index of the
repeat's first question and the rounds the repeat is in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from bot.participation import Action

MAX_BYTES = 64


class Kind(StrEnum):
    LANGUAGE = "L"
    CONSENT = "C"
    DELETE = "X"
    OFFER = "U"
    REMINDER = "R"
    EXPORT = "E"
    SCHEDULE = "H"


_ACTIONS = "".join(action.value for action in Action)
_PATTERNS = {
    Kind.LANGUAGE: r"^L:([A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*)$",
    Kind.CONSENT: r"^C:([yni])$",
    Kind.DELETE: r"^X:([yn])$",
    Kind.OFFER: r"^U:([yn])$",
    Kind.REMINDER: r"^R:([cs])$",
    Kind.EXPORT: r"^E:([a-z]{2,8})(?::([A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*)?)?(?::([ks]))?$",
    Kind.SCHEDULE: r"^H:([aprx]):([0-9]{1,9}|[rs])$",
}
_COMPILED = {kind: re.compile(regex) for kind, regex in _PATTERNS.items()}
_SURVEY = re.compile(
    rf"^([{_ACTIONS}]):([0-9a-f]{{1,16}}):(\d{{1,5}})((?:\.\d{{1,3}}){{0,6}})(?::(-?\d{{1,6}}))?$")


def pattern(kind: Kind | None) -> str:
    """The regular expression a handler of this kind of button listens to (None: questions)."""
    if kind is None:
        return f"^[{_ACTIONS}]:"
    return _PATTERNS[kind]


def make(kind: Kind, *fields: str) -> str:
    data = ":".join((kind.value, *fields))
    assert len(data.encode()) <= MAX_BYTES and _COMPILED[kind].match(data), data
    return data


def parse(kind: Kind, data: str | None) -> tuple[str, ...] | None:
    """The fields after the kind (missing optional fields as ""), or None if malformed."""
    match = _COMPILED[kind].match(data or "")
    if match is None:
        return None
    return tuple(group or "" for group in match.groups())


@dataclass(frozen=True, slots=True)
class SurveyButton:
    action: Action
    fingerprint: str
    question: int
    number: int | None = None
    rounds: tuple[int, ...] = ()


def survey_button(action: Action, fingerprint: str, question: int,
                  number: int | None = None, rounds: tuple[int, ...] = ()) -> str:
    data = f"{action.value}:{fingerprint}:{question}" + "".join(f".{r}" for r in rounds)
    if number is not None:
        data += f":{number}"
    assert len(data.encode()) <= MAX_BYTES
    return data


def parse_survey_button(data: str | None) -> SurveyButton | None:
    match = _SURVEY.match(data or "")
    if not match:
        return None
    action, fingerprint, question, rounds, number = match.groups()
    return SurveyButton(Action(action), fingerprint, int(question),
                        int(number) if number is not None else None,
                        tuple(int(r) for r in rounds.split(".")[1:]))
