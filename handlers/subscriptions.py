"""Opting in and out: result summaries (/subscribe, /unsubscribe), reminders (/stop).

Participants subscribe in their private chat, or with one tap at the end of the
consultation. A diaspora organization's group is registered by an organizer
sending /subscribe [language] inside it; anyone else there is pointed to the
private chat, as for any other command in a group.
"""

from __future__ import annotations

import logging

from bot.context import Context
from bot.i18n import best_language, language_name
from telegram import Update
from telegram.constants import ChatType

from handlers import render
from handlers.callbacks import Kind, parse
from handlers.journey import app_language, private_user_id
from handlers.misc import on_group_command
from handlers.reply import reply, safe_reply

logger = logging.getLogger(__name__)


async def on_subscribe(update: Update, context: Context) -> None:
    """Receive summaries of the results, in one's language."""
    if (user_id := private_user_id(update)) is not None:
        await reply(update, context, await context.participation.subscribe(
            user_id, update.update_id, app_language(update)))


async def on_unsubscribe(update: Update, context: Context) -> None:
    """Stop receiving summaries: one step, effective at once."""
    if (user_id := private_user_id(update)) is not None:
        await reply(update, context, await context.participation.unsubscribe(
            user_id, update.update_id))


async def on_offer_answered(update: Update, context: Context) -> None:
    """The answer to the end-of-consultation offer."""
    query = update.callback_query
    if (user_id := private_user_id(update)) is None or query is None:
        return
    if parse(Kind.OFFER, query.data) == ("y",):
        outcome = await context.participation.subscribe(
            user_id, update.update_id, app_language(update), pressed=True)
    else:
        outcome = await context.participation.decline_offer(user_id)
    await reply(update, context, outcome)


async def on_stop(update: Update, context: Context) -> None:
    """No more reminders."""
    if (user_id := private_user_id(update)) is not None:
        await reply(update, context, await context.participation.stop_reminders(
            user_id, update.update_id))


# --- groups and channels ------------------------------------------------------------


async def on_group_subscribe(update: Update, context: Context) -> None:
    """An organizer registers this group for summaries: /subscribe [language]."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None or user.id not in context.config.admins:
        await on_group_command(update, context)
        return
    languages = context.survey.languages
    asked = context.args[0].lower() if context.args else None
    language = asked if asked in languages else best_language(user.language_code, languages)
    language = language or context.survey.default_language
    t = context.catalogs.get(language)
    if asked is not None and asked not in languages:
        await safe_reply(context, chat.id, render.escape(t.gettext(
            "Unknown language. Choose one of: {languages}", languages=", ".join(languages))))
        return
    kind = "channel" if chat.type == ChatType.CHANNEL else "group"
    await context.organizing.subscribe(chat.id, kind=kind, language=language, name=chat.title)
    logger.info("a %s subscribed to summaries (%s)", kind, language)
    await safe_reply(context, chat.id, render.escape(t.gettext(
        "This group will receive summaries of the consultation's results in {language}.",
        language=language_name(language))))


async def on_group_unsubscribe(update: Update, context: Context) -> None:
    """An organizer stops summaries to this group."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None or user.id not in context.config.admins:
        await on_group_command(update, context)
        return
    subscription = await context.organizing.subscription(chat.id)
    t = context.catalogs.get(subscription.language if subscription else user.language_code)
    await context.organizing.unsubscribe(chat.id)
    await safe_reply(context, chat.id, render.escape(t.gettext(
        "This group will not receive summaries any more.")))
