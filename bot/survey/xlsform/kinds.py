"""What each XLSForm question type becomes on Telegram.

Types the bot can ask map onto :class:`~bot.survey.model.QuestionType`
(pyxform's own table of types says which control and bind each one has);
``start``, ``end`` and ``today`` become calculations the bot fills; device
metadata and data files for ``pulldata()`` are skipped; anything else cannot
be answered on Telegram. A fixed default becomes an answer as the engine
stores it, when it can be one.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from bot.survey.model import MEDIA_TYPES, Choice, QuestionType

_CLOCKS = {
    "start": "now()", "start time": "now()", "get start time": "now()",
    "end": "now()", "end time": "now()", "get end time": "now()",
    "today": "today()", "get today": "today()",
}  # fmt: skip
ENDS = frozenset({"end", "end time", "get end time"})  # moved last: when the survey ends
_METADATA = frozenset({
    "deviceid", "device id", "get device id", "imei", "uri:deviceid",
    "subscriberid", "subscriber id", "get subscriber id", "uri:subscriberid",
    "simserial", "sim id", "get sim id", "uri:simserial",
    "phonenumber", "get phone number", "uri:phonenumber",
    "username", "uri:username", "email", "uri:email",
    "audit", "start-geopoint", "background-geopoint", "background-audio",
})  # fmt: skip
_EXTERNAL_DATA = frozenset({"xml-external", "csv-external"})
_NOTES = frozenset({"note", "q note", "add note prompt"})
_CALCULATES = frozenset({"calculate", "q calculate", "add calculate prompt"})
_BY_BIND_TYPE = {
    "string": QuestionType.TEXT,
    "int": QuestionType.INTEGER,
    "decimal": QuestionType.DECIMAL,
    "date": QuestionType.DATE,
    "time": QuestionType.TIME,
    "dateTime": QuestionType.DATETIME,
    "geopoint": QuestionType.LOCATION,
}
_BY_MEDIA_TYPE = {
    "image": QuestionType.PHOTO,
    "audio": QuestionType.AUDIO,
    "video": QuestionType.VIDEO,
    "application": QuestionType.FILE,
}


@dataclass(frozen=True, slots=True)
class Kind:
    """What an element of the form becomes."""

    what: str  # "ask", "clock", "metadata", "external_data", "unsupported", "range", "external"
    type: QuestionType | None = None
    clock: str = ""


def kind_of(json_type: str) -> Kind:
    """What an element of this pyxform JSON type becomes."""
    from pyxform.question_type_dictionary import (  # type: ignore[import-untyped]
        QUESTION_TYPE_DICT,
    )

    if json_type in _CLOCKS:
        return Kind("clock", QuestionType.CALCULATE, _CLOCKS[json_type])
    if json_type in _METADATA:
        return Kind("metadata")
    if json_type in _EXTERNAL_DATA:
        return Kind("external_data")
    if json_type in _NOTES:
        return Kind("ask", QuestionType.NOTE)
    if json_type in _CALCULATES:
        return Kind("ask", QuestionType.CALCULATE)
    if json_type == "select one external":
        return Kind("external", QuestionType.SELECT_ONE)
    spec = QUESTION_TYPE_DICT.get(json_type)
    if not isinstance(spec, Mapping):
        return Kind("unsupported")
    control = spec.get("control") or {}
    bind = spec.get("bind") or {}
    tag = control.get("tag")
    if tag == "select1":
        return Kind("ask", QuestionType.SELECT_ONE)
    if tag == "select":
        return Kind("ask", QuestionType.SELECT_MULTIPLE)
    if tag == "trigger":
        return Kind("ask", QuestionType.ACKNOWLEDGE)
    if tag == "range":
        return Kind("range")
    if tag == "upload":
        media = str(control.get("mediatype", "")).split("/")[0]
        if media in _BY_MEDIA_TYPE:
            return Kind("ask", _BY_MEDIA_TYPE[media])
        return Kind("unsupported")
    if tag == "input" and bind.get("type") in _BY_BIND_TYPE:
        return Kind("ask", _BY_BIND_TYPE[bind["type"]])
    return Kind("unsupported")


def canonical_default(qtype: QuestionType, raw: str, choices: Sequence[Choice]) -> str | None:
    """A fixed default as the engine stores answers, or ``None`` if it cannot be one."""
    ids = {c.id for c in choices}
    try:
        if qtype is QuestionType.SELECT_ONE:
            return raw if raw in ids else None
        if qtype is QuestionType.SELECT_MULTIPLE:
            return raw if raw.split() and set(raw.split()) <= ids else None
        if qtype in (QuestionType.INTEGER, QuestionType.SCALE):
            number = Decimal(raw)
            return str(int(number)) if number == number.to_integral_value() else None
        if qtype is QuestionType.DECIMAL:
            return format(Decimal(raw).normalize(), "f")
        if qtype is QuestionType.DATE:
            day = raw.removesuffix(" 00:00:00").removesuffix("T00:00:00")
            return datetime.date.fromisoformat(day).isoformat()
        if qtype is QuestionType.TIME:
            return datetime.time.fromisoformat(raw).strftime("%H:%M")
        if qtype is QuestionType.DATETIME:
            return datetime.datetime.fromisoformat(raw).strftime("%Y-%m-%dT%H:%M")
    except (InvalidOperation, ValueError):
        return None
    if qtype in MEDIA_TYPES:
        return None
    return raw
