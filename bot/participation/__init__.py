"""The participant's use cases: start, language, consent, answer, back, skip, media…

Every channel calls these: the Telegram handlers today, a web page or a webhook
worker tomorrow. Nothing here knows Telegram. Each use case that changes state
is one call that

1. claims the update first, inside one transaction: an update delivered a
   second time changes nothing (:meth:`Participation._replay` shows the
   current question again only if the reply to the first delivery never went
   out);
2. loads the participant, their response and its answers once
   (:func:`storage.sessions.get_session`);
3. asks the engine, writes once, and commits before anything is sent;
4. returns an :class:`~bot.participation.outcomes.Outcome` that says everything
   the reply needs.

After the reply shows a question, :meth:`Participation.shown` records which
message shows it (so its buttons can be taken away later).

Modules: :mod:`~bot.participation.opening` (start, language, consent, coming back),
:mod:`~bot.participation.answering` (buttons, typed answers, /back, /skip, files),
:mod:`~bot.participation.privacy` (/mydata, /delete, summaries, reminders),
:mod:`~bot.participation.base` (reading a participant, building what they see),
:mod:`~bot.participation.inputs` and :mod:`~bot.participation.outcomes` (the values
that go in and come out).
"""

from __future__ import annotations

from bot.participation.answering import Answering
from bot.participation.base import PAGE_SIZE, SEARCHABLE_ABOVE, TYPED
from bot.participation.inputs import (
    Action,
    Attachment,
    AttachmentKind,
    AttachmentUnavailable,
    Place,
    Press,
)
from bot.participation.opening import Opening
from bot.participation.privacy import Privacy

__all__ = ["PAGE_SIZE", "SEARCHABLE_ABOVE", "TYPED", "Action", "Attachment", "AttachmentKind",
           "AttachmentUnavailable", "Participation", "Place", "Press"]


class Participation(Opening, Answering, Privacy):
    """The participant's use cases over one database and one survey."""
