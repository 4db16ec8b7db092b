"""A cron expression in plain words ("every Monday at 18:00"), in the console's language.

The usual shapes are put in words: a fixed minute and hour on every day, on
some weekdays or on some days of the month, and every hour at a fixed minute.
Anything else is shown as the expression itself; the next run, computed by
APScheduler, is shown beside it either way.
"""

from __future__ import annotations

import datetime as dt

from babel.dates import format_time, get_day_names
from babel.lists import format_list

from bot.i18n import Translator

_WEEKDAYS = {"0": 6, "7": 6, "1": 0, "2": 1, "3": 2, "4": 3, "5": 4, "6": 5,
             "sun": 6, "mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5}


def _numbers(field: str, low: int, high: int) -> list[int] | None:
    """The values of a field made of numbers, ranges and lists ("1,15", "1-5"), or None."""
    values: list[int] = []
    for part in field.split(","):
        start, dash, end = part.partition("-")
        if not start.isdigit() or (dash and not end.isdigit()):
            return None
        first, last = int(start), int(end) if dash else int(start)
        if not low <= first <= last <= high:
            return None
        values.extend(range(first, last + 1))
    return values


def _weekdays(field: str) -> list[int] | None:
    """Weekdays as Python numbers them (Monday 0), from "1-5", "mon,wed" or "0"."""
    days: list[int] = []
    for part in field.lower().split(","):
        start, dash, end = part.partition("-")
        if start not in _WEEKDAYS or (dash and end not in _WEEKDAYS):
            return None
        first = _WEEKDAYS[start]
        last = _WEEKDAYS[end] if dash else first
        if last < first:
            return None
        days.extend(range(first, last + 1))
    return sorted(set(days))


def describe(expression: str, t: Translator) -> str:
    """The expression in words, or the expression itself when its shape is unusual."""
    fields = expression.split()
    if len(fields) != 5:
        return expression
    minute, hour, day, month, weekday = fields
    minutes = _numbers(minute, 0, 59)
    if minutes is None or len(minutes) != 1:
        return expression
    if hour == "*" and day == month == weekday == "*":
        return t.gettext("every hour at minute {minute}", minute=minutes[0])
    hours = _numbers(hour, 0, 23)
    if hours is None or month != "*":
        return expression
    times = format_list([format_time(dt.time(h, minutes[0]), "short", locale=t.locale)
                         for h in hours], locale=t.locale)
    if day == "*" and weekday == "*":
        return t.gettext("every day at {time}", time=times)
    if day == "*":
        days = _weekdays(weekday)
        if days is None:
            return expression
        if days == [0, 1, 2, 3, 4]:
            return t.gettext("every weekday (Monday to Friday) at {time}", time=times)
        names = get_day_names("wide", locale=t.locale)
        return t.gettext("every {days} at {time}", time=times,
                         days=format_list([names[d] for d in days], locale=t.locale))
    dates = _numbers(day, 1, 31)
    if dates is None or weekday != "*":
        return expression
    return t.gettext("on day {days} of every month at {time}", time=times,
                     days=format_list([str(d) for d in dates], locale=t.locale))

