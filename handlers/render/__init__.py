"""What the participant sees: message texts and keyboards, made from outcomes. No I/O.

Texts are Telegram HTML; everything that comes from the survey file or from a
participant is escaped. Messages carry a right-to-left mark in RTL languages so
that a message starting with a number still aligns right.

:mod:`~handlers.render.html` (Telegram HTML: escaping, measuring, splitting),
:mod:`~handlers.render.words` (the bot's short messages by code),
:mod:`~handlers.render.question` (the question message and its answer),
:mod:`~handlers.render.screens` (everything around the survey).
"""

from handlers.render.html import View, escape, split
from handlers.render.question import (
    answer_label,
    answered_text,
    discard_view,
    location_keyboard,
    note_text,
    question_view,
    review_view,
    round_label,
    search_results_view,
)
from handlers.render.screens import (
    completion_text,
    consent_view,
    delete_view,
    help_text,
    language_keyboard,
    language_set_text,
    language_view,
    my_data_text,
    reminder_view,
    subscription_offer,
)
from handlers.render.words import expected_hint, notice, rtl, stale_notice, words

__all__ = ["View", "answer_label", "answered_text", "completion_text", "consent_view",
           "delete_view", "discard_view", "escape", "expected_hint", "help_text",
           "language_keyboard", "language_set_text", "language_view", "location_keyboard",
           "my_data_text", "note_text", "notice", "question_view", "reminder_view",
           "review_view", "round_label", "rtl", "search_results_view", "split",
           "stale_notice", "subscription_offer", "words"]
