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
from bot.rounds import REMINDER_STOP
from bot.survey import engine
from storage.db import transaction
from telegram import Update
from telegram.constants import ChatType

from handlers import render
from handlers.callbacks import OFFER_YES
from handlers.common import (
    Session,
    acknowledge,
    ask,
    load_session,
    private_user_id,
    replace_buttons,
    replace_message,
    safe_reply,
    send,
    send_text,
)
from handlers.misc import on_group_command
from storage import participants, subscriptions

logger = logging.getLogger(__name__)

async def _subscribe_person(
    context: Context, session: Session, app_language: str | None = None
) -> None:
    """Subscribe in the language chosen in the bot, else the Telegram app's."""
    survey = context.survey
    language = (session.participant.language if session.participant else None) or \
        best_language(app_language, survey.languages) or survey.default_language
    async with transaction(context.db) as tx:
        await subscriptions.subscribe(
            tx, session.user_id, kind="participant", language=language, name=None,
            participant_id=session.user_id if session.participant else None, now=context.now())


async def on_subscribe(update: Update, context: Context) -> None:
    """Receive summaries of the results, in one's language."""
    user_id = private_user_id(update)
    if user_id is None:
        return
    session = await load_session(context, user_id)
    user = update.effective_user
    await _subscribe_person(context, session, user.language_code if user else None)
    await send_text(context, user_id, render.escape(session.t.gettext(
        "You will receive summaries of the results. Send /unsubscribe to stop.")))


async def on_unsubscribe(update: Update, context: Context) -> None:
    """Stop receiving summaries: one step, effective at once."""
    user_id = private_user_id(update)
    if user_id is None:
        return
    session = await load_session(context, user_id)
    async with transaction(context.db) as tx:
        await subscriptions.unsubscribe(tx, user_id)
    await send_text(context, user_id, render.escape(session.t.gettext(
        "You will not receive summaries any more.")))


async def on_offer_answered(update: Update, context: Context) -> None:
    """The answer to the end-of-consultation offer."""
    query = update.callback_query
    user_id = private_user_id(update)
    if query is None or user_id is None:
        return
    session = await load_session(context, user_id)
    t = session.t
    await acknowledge(query)
    if query.data == OFFER_YES:
        await _subscribe_person(context, session)
        text = t.gettext("You will receive summaries of the results. Send /unsubscribe to stop.")
    else:
        text = t.gettext("All right. Send /subscribe if you change your mind.")
    await replace_message(query, render.View(render.escape(text)))


async def on_stop(update: Update, context: Context) -> None:
    """No more reminders."""
    user_id = private_user_id(update)
    if user_id is None:
        return
    session = await load_session(context, user_id)
    await _stop_reminders(context, session)
    await send_text(context, user_id, render.escape(session.t.gettext(
        "You will not get any more reminders.")))


async def _stop_reminders(context: Context, session: Session) -> None:
    if session.participant is not None:
        async with transaction(context.db) as tx:
            await participants.set_reminders_off(tx, session.user_id, True)


async def on_reminder_button(update: Update, context: Context) -> None:
    """"Continue" resumes the consultation where it stopped; "Stop reminders" stops them."""
    query = update.callback_query
    user_id = private_user_id(update)
    if query is None or user_id is None:
        return
    session = await load_session(context, user_id)
    t = session.t
    await acknowledge(query)
    await replace_buttons(query, None)
    if query.data == REMINDER_STOP:
        await _stop_reminders(context, session)
        await send_text(context, user_id, render.escape(t.gettext(
            "You will not get any more reminders.")))
        return
    if session.participant is None:
        await send_text(context, user_id, render.escape(t.gettext("Send /start to begin.")))
    elif not session.participant.consented:
        await send(context, user_id, render.consent_view(t, context.survey))
    elif session.progress is None or session.progress.completed:
        await send_text(context, user_id, render.escape(t.gettext(
            "You have already completed the consultation.")))
    else:
        draft = set(session.response.draft.split()) if session.response and \
            session.response.draft is not None else None
        await ask(context, user_id, session, engine.Step(session.progress), draft=draft)


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
    async with transaction(context.db) as tx:
        await subscriptions.subscribe(tx, chat.id, kind=kind, language=language,
                                      name=chat.title, participant_id=None, now=context.now())
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
    subscription = await subscriptions.get_subscription(context.db, chat.id)
    t = context.catalogs.get(subscription.language if subscription else user.language_code)
    async with transaction(context.db) as tx:
        await subscriptions.unsubscribe(tx, chat.id)
    await safe_reply(context, chat.id, render.escape(t.gettext(
        "This group will not receive summaries any more.")))
