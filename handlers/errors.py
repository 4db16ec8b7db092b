"""The one error handler: log what failed (ids, never contents) and apologise gently."""

from __future__ import annotations

import logging

from bot.context import Context
from telegram import Update
from telegram.error import Forbidden

from handlers import render
from handlers.journey import private_user_id
from handlers.reply import safe_reply, translator

logger = logging.getLogger(__name__)


async def on_error(update: object, context: Context) -> None:
    """Log the failure with its traceback; tell the participant to try again."""
    error = context.error
    if isinstance(error, Forbidden):
        logger.info("chat unreachable (%s)", error.message)
        return
    update_id = update.update_id if isinstance(update, Update) else None
    logger.error("error while handling update %s", update_id, exc_info=error)
    if isinstance(update, Update):
        user_id = private_user_id(update)
        if user_id is not None:
            t = translator(context, update, None)
            await safe_reply(context, user_id, render.escape(t.gettext(
                "Sorry, something went wrong on my side. Please try again in a moment.")))
