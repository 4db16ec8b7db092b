"""Help, and gentle answers to everything the bot does not expect."""

from __future__ import annotations

import logging

from bot.context import Context
from bot.i18n import LRM, RLM, Translator
from bot.survey.model import MEDIA_TYPES, QuestionType
from telegram import Update

from handlers import render
from handlers.common import acknowledge, load_session, private_user_id, safe_reply, send_text

logger = logging.getLogger(__name__)


def participant_commands(t: Translator) -> list[tuple[str, str]]:
    """The commands a participant can use, with their description (also the command menu)."""
    return [
        ("start", t.gettext("Start or continue the consultation")),
        ("back", t.gettext("Go back to the previous question")),
        ("skip", t.gettext("Skip the current question (if optional)")),
        ("language", t.gettext("Change the language")),
        ("mydata", t.gettext("See what is stored about you")),
        ("delete", t.gettext("Delete everything stored about you")),
        ("subscribe", t.gettext("Receive summaries of the results")),
        ("unsubscribe", t.gettext("Stop receiving summaries")),
        ("stop", t.gettext("Stop reminders")),
        ("help", t.gettext("Show this help")),
    ]


def organizer_commands(t: Translator) -> list[tuple[str, str]]:
    """The organizer commands, added to /help for the ids in CONSULTBOT_ADMINS."""
    return [
        ("stats", t.gettext("Figures of the consultation so far")),
        ("export", t.gettext("Export every response (CSV, XLSX, JSON)")),
        ("summary", t.gettext("Preview the summary as recipients get it: /summary [language]")),
        ("remind", t.gettext("Start a reminder round now: /remind now")),
        ("broadcast", t.gettext("Send the summary to subscribers now: /broadcast now")),
        ("schedule", t.gettext("Scheduled rounds: list, add, pause, remove")),
    ]


async def on_help(update: Update, context: Context) -> None:
    """List what the participant can do."""
    user_id = private_user_id(update)
    if user_id is None:
        return
    session = await load_session(context, user_id)
    t = session.t
    lines = [render.escape(t.gettext(
        "I ask the consultation's questions one at a time. Answer with the buttons, or type "
        "when I ask you to. You can stop at any time and come back later."))]
    # In right-to-left text, the mark keeps each line right-aligned and "/name" whole.
    start = f"{RLM}{LRM}" if t.rtl else ""
    commands = participant_commands(t)
    if update.effective_user is not None and update.effective_user.id in context.config.admins:
        commands += organizer_commands(t)
    lines.append("\n".join(f"{start}/{name} — {render.escape(text)}"
                           for name, text in commands))
    await send_text(context, user_id, "\n\n".join(lines))


async def on_unknown_command(update: Update, context: Context) -> None:
    """A command the bot does not have."""
    user_id = private_user_id(update)
    if user_id is None:
        return
    session = await load_session(context, user_id)
    await send_text(context, user_id, render.escape(session.t.gettext(
        "I don't know that command. Send /help to see what I can do.")))


async def on_unsupported_message(update: Update, context: Context) -> None:
    """A sticker, photo, voice note, file, location…: nothing is stored, a hint is sent."""
    user_id = private_user_id(update)
    if user_id is None:
        return
    session = await load_session(context, user_id)
    logger.info("unsupported message type ignored")
    current = session.progress.current if session.progress else None
    question = context.survey.by_id.get(current) if current else None
    if question is not None and (question.type in MEDIA_TYPES
                                 or question.type is QuestionType.LOCATION):
        hint = render.expected_hint(session.t, question)
    else:
        hint = session.t.gettext(
            "Sorry, I can only read text messages and button presses. Nothing was saved.")
    await send_text(context, user_id, render.escape(hint))


async def on_stale_button(update: Update, context: Context) -> None:
    """A press on a button that does nothing any more (or was never ours)."""
    query = update.callback_query
    if query is None:
        return
    user = update.effective_user
    session = await load_session(context, user.id) if user else None
    t = session.t if session else context.catalogs.get(None)
    await acknowledge(query, t.gettext("This button is no longer active."))


async def on_group_command(update: Update, context: Context) -> None:
    """In a group, the consultation cannot run: point to the private chat."""
    chat = update.effective_chat
    user = update.effective_user
    if chat is None:
        return
    t = context.catalogs.get(user.language_code if user else None)
    link = f"https://t.me/{context.bot_data.bot_username}?start=group"
    await safe_reply(context, chat.id, render.escape(t.gettext(
        "The consultation is private: please talk to me in a private chat: {link}", link=link)))
