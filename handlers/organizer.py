"""Organizer commands: live figures and exports, for the ids in CONSULTBOT_ADMINS only.

Every organizer handler is wrapped in :func:`organizer_only`, which checks the
sender on every call (commands and buttons alike). Anyone else gets exactly the
reply an unknown command or a dead button gets, so nothing about the
consultation leaks, and the refusal is logged with the sender's pseudonym.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import tempfile
import zipfile
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest

from bot.context import Context
from bot.exports import FORMATS, ExportError, ExportOptions, pseudonym, write_export
from bot.figures import as_text
from bot.i18n import Translator, best_language
from handlers import render
from handlers.common import acknowledge, send, send_text
from handlers.misc import on_stale_button, on_unknown_command
from storage.participants import get_participant
from storage.stats import get_figures

logger = logging.getLogger(__name__)

Handler = Callable[[Update, Context], Coroutine[Any, Any, None]]

ZIP_ABOVE = 5 * 1024 * 1024  # bytes: larger exports are sent zipped
TELEGRAM_FILE_LIMIT = 50 * 1000 * 1000  # what a bot may upload


def is_organizer(update: Update, context: Context) -> bool:
    user, chat = update.effective_user, update.effective_chat
    return (user is not None and chat is not None and chat.type == chat.PRIVATE
            and user.id in context.config.admins)


def organizer_only(handler: Handler) -> Handler:
    """Run ``handler`` for organizers in a private chat; answer anyone else as a stranger."""

    @functools.wraps(handler)
    async def guarded(update: Update, context: Context) -> None:
        if is_organizer(update, context):
            await handler(update, context)
            return
        user = update.effective_user
        if user is not None and context.bot_data.secret:
            logger.warning("organizer action refused for participant %s",
                           pseudonym(context.bot_data.secret, user.id))
        if update.callback_query is not None:
            await on_stale_button(update, context)
        else:
            await on_unknown_command(update, context)

    return guarded


async def organizer_translator(update: Update, context: Context) -> Translator:
    """The organizer's language: the one they chose in the bot, else their app's."""
    user = update.effective_user
    assert user is not None
    participant = await get_participant(context.db, user.id)
    if participant is not None and participant.language:
        return context.catalogs.get(participant.language)
    return context.catalogs.get(best_language(user.language_code, context.catalogs.languages))


@organizer_only
async def on_stats(update: Update, context: Context) -> None:
    """Show the consultation's figures as of now."""
    t = await organizer_translator(update, context)
    survey, now = context.survey, context.now()
    figures = await get_figures(context.db, survey.id,
                                [q.id for q in survey.breakdown_questions], now)
    chat = update.effective_chat
    assert chat is not None
    await send_text(context, chat.id, render.escape(as_text(t, survey, figures, now)))


@organizer_only
async def on_export(update: Update, context: Context) -> None:
    """Offer the export formats as buttons."""
    t = await organizer_translator(update, context)
    chat = update.effective_chat
    assert chat is not None
    buttons = [[InlineKeyboardButton(name.upper(), callback_data=f"E:{name}")
                for name in FORMATS]]
    buttons.append([InlineKeyboardButton(t.gettext("XLSX with labels in my language"),
                                         callback_data=f"E:xlsx:{t.language}")])
    await send(context, chat.id, render.View(render.escape(t.gettext(
        "Which format? Participants appear only under a pseudonymous code.")),
        InlineKeyboardMarkup(buttons)))


@organizer_only
async def on_export_chosen(update: Update, context: Context) -> None:
    """Write the export off the event loop and send it as a document."""
    query = update.callback_query
    chat = update.effective_chat
    assert query is not None and chat is not None
    parts = (query.data or "").split(":")
    t = await organizer_translator(update, context)
    if len(parts) not in (2, 3) or parts[1] not in FORMATS or (
            len(parts) == 3 and parts[2] not in context.survey.languages):
        await acknowledge(query, t.gettext("This button is no longer active."))
        return
    await acknowledge(query, t.gettext("Preparing the file…"))
    labels = parts[2] if len(parts) == 3 else None
    chosen = next(f for f in FORMATS if f == parts[1])
    options = ExportOptions(format=chosen, labels=labels)
    now = context.now()
    name = f"{context.survey.id}-{now:%Y%m%d-%H%M}.{parts[1]}"
    with tempfile.TemporaryDirectory(prefix="consultbot-export-") as folder:
        path = Path(folder) / name
        secret = context.bot_data.secret
        assert secret is not None
        try:
            result = await asyncio.to_thread(write_export, context.config.db, path,
                                             context.survey, options, secret, now)
        except ExportError as exc:
            logger.warning("export failed: %s", exc)
            await send_text(context, chat.id, render.escape(t.gettext(
                "The export failed. The command line tells why: consultbot export.")))
            return
        if result.bytes > ZIP_ABOVE:
            path = await asyncio.to_thread(_zip, path)
        if path.stat().st_size > TELEGRAM_FILE_LIMIT:
            await send_text(context, chat.id, render.escape(t.gettext(
                "The file is too large for Telegram. Use the command line on the server: "
                "consultbot export.")))
            return
        logger.info("export sent (%s, %d responses)", parts[1], result.rows)
        with path.open("rb") as handle:
            try:
                await context.bot.send_document(
                    chat.id, handle, filename=path.name,
                    caption=t.ngettext("{count} response", "{count} responses", result.rows,
                                       count=result.rows))
            except BadRequest as exc:
                logger.warning("export not delivered: %s", exc.message)


def _zip(path: Path) -> Path:
    archive = path.with_name(path.name + ".zip")
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        bundle.write(path, arcname=path.name)
    return archive


ORGANIZER_COMMANDS: dict[str, Handler] = {"stats": on_stats, "export": on_export}

