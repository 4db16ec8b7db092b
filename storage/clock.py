"""How times are written in the database: UTC, ISO 8601, to the second."""

from __future__ import annotations

import datetime as dt


def timestamp(moment: dt.datetime) -> str:
    """``2026-11-28T10:17:13Z`` for an aware datetime (naive ones are taken as UTC)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_timestamp(text: str | None) -> dt.datetime | None:
    if text is None:
        return None
    return dt.datetime.fromisoformat(text)
