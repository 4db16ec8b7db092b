"""The participant's own data: /mydata shows it, /delete erases it."""

from __future__ import annotations

import datetime as dt
import logging

from babel.dates import format_datetime
from bot import media
from bot.context import Context
from bot.i18n import language_name
from storage.db import transaction
from storage.events import record_event
from storage.responses import get_answers
from telegram import Update

from handlers import render
from handlers.callbacks import parse_choice_button
from handlers.common import (
    Session,
    acknowledge,
    load_session,
    private_user_id,
    replace_message,
    send,
    send_text,
)
from storage import participants

logger = logging.getLogger(__name__)


async def on_mydata(update: Update, context: Context) -> None:
    """Show, in the participant's language, everything stored about them."""
    user_id = private_user_id(update)
    if user_id is None:
        return
    session = await load_session(context, user_id)
    await send_text(context, user_id, await describe(context, session))


async def describe(context: Context, session: Session) -> str:
    """Everything stored about the participant, as readable text (Telegram HTML)."""
    t = session.t
    participant = session.participant
    if participant is None:
        return render.escape(t.gettext("Nothing is stored about you."))

    def when(moment: dt.datetime | None) -> str:
        return format_datetime(moment, "medium", tzinfo=None, locale=t.locale) + " UTC"

    heading = render.escape(t.gettext("What is stored about you"))
    lines = [f"<b>{heading}</b>"]
    if participant.language:
        lines.append(render.escape(t.gettext(
            "Language: {language}", language=language_name(participant.language))))
    lines.append(render.escape(t.gettext("First contact: {time}", time=when(
        participant.created_at))))
    if participant.source:
        lines.append(render.escape(t.gettext("Link you came from: {source}",
                                             source=participant.source)))
    if participant.consented_at:
        lines.append(render.escape(t.gettext("Consent given: {time}",
                                             time=when(participant.consented_at))))
    paragraphs = ["\n".join(lines)]

    response = session.response
    if response is not None:
        status = (t.gettext("Completed: {time}", time=when(response.completed_at))
                  if response.completed_at else t.gettext("In progress"))
        paragraphs.append(render.escape(status))
        survey = context.survey
        kept = session.progress.answers if session.progress else {}
        heading = render.escape(t.gettext("Your answers"))
        paragraphs.append(f"<b>{heading}</b>")
        shown = [
            f"{render.escape(question.text.get(t.language))}\n→ "
            f"{render.escape(render.answer_label(t, question, kept[question.id]))}"
            for question in survey.questions if question.id in kept
        ]
        paragraphs.extend(shown or [render.escape(t.gettext("No answers yet."))])
    paragraphs.append(render.escape(t.gettext(
        "Your Telegram user number is kept only so that you can continue later and delete "
        "your answers; it never appears in results or exports. Send /delete to erase "
        "everything.")))
    return "\n\n".join(paragraphs)


async def on_delete(update: Update, context: Context) -> None:
    """Ask for confirmation before erasing everything about the participant."""
    user_id = private_user_id(update)
    if user_id is None:
        return
    session = await load_session(context, user_id)
    if session.participant is None:
        await send_text(context, user_id, render.escape(session.t.gettext(
            "Nothing is stored about you.")))
        return
    await send(context, user_id, render.delete_view(session.t))


async def on_delete_confirmed(update: Update, context: Context) -> None:
    """Erase every row about the participant (after "Yes"), or leave everything (after "No")."""
    query = update.callback_query
    user_id = private_user_id(update)
    if query is None or user_id is None:
        return
    choice = parse_choice_button(query.data, "X")
    session = await load_session(context, user_id)
    t = session.t
    if choice is None:
        await acknowledge(query, t.gettext("This button is no longer active."))
        return
    await acknowledge(query)
    if choice == "y" and session.participant is not None:
        stored = await get_answers(context.db, session.response.id) if session.response else {}
        async with transaction(context.db) as tx:
            await participants.delete_participant(tx, user_id)
            await record_event(tx, "deleted", session.participant.language, context.now())
        files = media.forget(context.config.db, stored.values())
        logger.info("participant erased their data (%d file(s))", files)
        text = t.gettext("Everything about you has been deleted. If you want to take part "
                         "again, send /start.")
    elif choice == "y":
        text = t.gettext("Nothing is stored about you.")
    else:
        text = t.gettext("Nothing was deleted.")
    await replace_message(query, render.View(render.escape(text)))
