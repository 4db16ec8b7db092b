"""Opening the bot: /start, choosing a language, giving (or refusing) consent."""

from __future__ import annotations

import logging
import re

from bot.context import Context
from bot.i18n import best_language, language_name
from bot.survey import engine
from storage.db import transaction
from storage.events import record_event
from storage.updates import claim_update
from telegram import Update

from handlers import render
from handlers.callbacks import parse_choice_button, parse_language_button
from handlers.common import (
    acknowledge,
    ask,
    ask_language,
    load_session,
    private_user_id,
    replace_buttons,
    replace_message,
    send,
    send_text,
)
from storage import participants, responses

logger = logging.getLogger(__name__)

_SOURCE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def _source(args: list[str] | None) -> str | None:
    """The deep-link parameter (t.me/bot?start=<source>), when it is a valid one."""
    if args and _SOURCE.match(args[0]):
        return args[0]
    return None


async def on_start(update: Update, context: Context) -> None:
    """Begin the consultation, or pick up where the participant left off."""
    user_id = private_user_id(update)
    if user_id is None or update.effective_user is None:
        return
    session = await load_session(context, user_id)
    now = context.now()
    if session.participant is None:
        async with transaction(context.db) as tx:
            await participants.create_participant(tx, user_id, _source(context.args), now)
        hint = best_language(update.effective_user.language_code, context.survey.languages)
        logger.info("participant started (source %s)", "set" if _source(context.args) else "none")
        await ask_language(context, user_id, context.catalogs.get(hint), first=hint)
        return
    t = session.t
    if not session.participant.consented:
        if session.participant.language is None:
            await ask_language(context, user_id, t)
        else:
            await send(context, user_id, render.consent_view(t, context.survey))
        return
    if session.progress is None:
        await begin_survey(update, context)
        return
    if session.progress.completed:
        await send_text(context, user_id, render.escape(t.gettext(
            "You have already completed the consultation. Thank you! You can see your answers "
            "with /mydata and delete them with /delete.")))
        return
    await send_text(context, user_id, render.escape(t.gettext(
        "Welcome back! Let's continue where you stopped.")))
    await ask(context, user_id, session, engine.Step(session.progress),
              draft=_draft(session.response))


def _draft(response: responses.Response | None) -> set[str] | None:
    if response is None or response.draft is None:
        return None
    return set(response.draft.split())


async def on_language_command(update: Update, context: Context) -> None:
    """Offer the language picker again; the current question follows in the new language."""
    user_id = private_user_id(update)
    if user_id is None:
        return
    session = await load_session(context, user_id)
    await ask_language(context, user_id, session.t)


async def on_language_chosen(update: Update, context: Context) -> None:
    """Switch to the chosen language and show what comes next in it."""
    query = update.callback_query
    user_id = private_user_id(update)
    if query is None or user_id is None:
        return
    language = parse_language_button(query.data)
    session = await load_session(context, user_id)
    if language not in context.survey.languages:
        await acknowledge(query, session.t.gettext("This button is no longer active."))
        return
    now = context.now()
    async with transaction(context.db) as tx:
        if session.participant is None:
            await participants.create_participant(tx, user_id, None, now)
        await participants.set_language(tx, user_id, language, now)
        if session.response is not None:
            await responses.set_response_language(tx, session.response.id, language)
    session = await load_session(context, user_id)
    t = session.t
    await acknowledge(query)
    await replace_message(query, render.View(render.escape(t.gettext(
        "Language: {language}", language=language_name(language)))))
    assert session.participant is not None
    if not session.participant.consented:
        await send(context, user_id, render.consent_view(t, context.survey))
    elif session.progress is None:
        await begin_survey(update, context)
    else:
        await ask(context, user_id, session, engine.Step(session.progress),
                  draft=_draft(session.response))


async def on_consent(update: Update, context: Context) -> None:
    """Act on "I agree", "No thanks" or "More information"."""
    query = update.callback_query
    user_id = private_user_id(update)
    if query is None or user_id is None:
        return
    choice = parse_choice_button(query.data, "C")
    session = await load_session(context, user_id)
    t = session.t
    if choice is None or session.participant is None or session.participant.consented:
        await acknowledge(query, t.gettext("This button is no longer active."))
        return
    await acknowledge(query)
    if choice == "i":
        await send(context, user_id, render.consent_details_view(t, context.survey))
        return
    await replace_buttons(query, None)
    if choice == "n":
        async with transaction(context.db) as tx:
            await participants.delete_participant(tx, user_id)
            await record_event(tx, "declined", session.language, context.now())
        logger.info("consent declined; participant row erased")
        await send_text(context, user_id, render.escape(t.gettext(
            "No problem. Nothing about you has been kept. If you change your mind, "
            "send /start.")))
        return
    await begin_survey(update, context)


async def begin_survey(update: Update, context: Context) -> None:
    """Record consent (if not yet given), open a response and ask the first question."""
    user_id = private_user_id(update)
    assert user_id is not None
    survey, now = context.survey, context.now()
    session = await load_session(context, user_id)
    assert session.participant is not None
    step = engine.start(survey, now)
    async with transaction(context.db) as tx:
        if not await claim_update(tx, update.update_id, now):
            return
        if not session.participant.consented:
            await participants.save_consent(tx, user_id, now)
        if session.response is None:
            response_id = await responses.start_response(
                tx, participant_id=user_id, survey_id=survey.id, survey_version=survey.version,
                language=session.language, source=session.participant.source,
                current=step.progress.current, now=now,
            )
            if step.computed:  # calculations at the very start (e.g. the start time)
                await responses.save_answers(tx, response_id, step.changes(None),
                                             survey.version, now)
    logger.info("response started (survey %s v%s)", survey.id, survey.version)
    session = await load_session(context, user_id)
    await ask(context, user_id, session, step)
