"""Sending: an outcome becomes Telegram calls, in the order the participant reads them.

:func:`reply` answers the button press (always: the app shows a spinner until
it is answered), changes the pressed message, takes the buttons off an earlier
question, then sends the notices and what comes next. A refused edit or an
unreachable chat changes nothing stored: the outcome was committed before.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from bot.api import ConsultBot
from bot.context import Context
from bot.i18n import Translator
from bot.participation.outcomes import (
    Asking,
    Closed,
    Completion,
    ConsentScreen,
    DeleteQuestion,
    DiscardQuestion,
    Echo,
    LanguagePicker,
    LanguageSet,
    MyData,
    Next,
    Outcome,
    Redraw,
    Replaced,
    Reviewing,
    Screen,
    SearchResults,
)
from bot.survey.model import QuestionType
from telegram import CallbackQuery, InlineKeyboardMarkup, ReplyKeyboardRemove, Update
from telegram.error import BadRequest, Forbidden, TelegramError

from handlers import render

logger = logging.getLogger(__name__)


def translator(context: Context, update: Update, language: str | None) -> Translator:
    """The participant's language; before they chose one, their Telegram app's."""
    user = update.effective_user
    return context.catalogs.for_person(language, user.language_code if user else None)


async def reply(update: Update, context: Context, outcome: Outcome) -> None:
    """Show ``outcome`` to the person who sent ``update``."""
    t = translator(context, update, outcome.language)
    query = update.callback_query
    chat = update.effective_chat
    if outcome.stale or chat is None:
        await acknowledge(query, render.stale_notice(t) if outcome.stale else None)
        return
    # Changes to earlier messages (the spinner stopped, the answer echoed, old buttons
    # removed) go out alongside the new messages, which keep their order: one round
    # trip to Telegram instead of three before the next question appears.
    alongside = [acknowledge(query)]
    pressed = outcome.pressed
    if query is not None and pressed is not None:
        alongside.append(_change_pressed(context, query, t, pressed))
    elif isinstance(pressed, Echo) and outcome.echo_in is not None:
        alongside.append(edit_message(context, chat.id, outcome.echo_in,
                                      render.View(render.answered_text(t, pressed))))
    if outcome.retire is not None:
        alongside.append(remove_keyboard(context, chat.id, outcome.retire))
    await _together(_new_messages(context, chat.id, t, outcome), *alongside)


async def _new_messages(context: Context, chat_id: int, t: Translator, outcome: Outcome
                        ) -> None:
    for say in outcome.says:
        keyboard = ReplyKeyboardRemove() if say.code == "location_received" else None
        await send(context, chat_id, render.View(render.notice(t, say), keyboard))
    if outcome.screen is not None:
        await show(context, chat_id, t, outcome.screen)


async def _together(*calls: Coroutine[Any, Any, None]) -> None:
    """Run the calls at once and wait for all of them; then raise the first failure."""
    results = await asyncio.gather(*calls, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result


async def _change_pressed(context: Context, query: CallbackQuery, t: Translator,
                          pressed: Echo | Closed | Redraw | LanguageSet | Replaced) -> None:
    match pressed:
        case Echo():
            await replace_message(query, render.View(render.answered_text(t, pressed)))
        case Closed():
            await replace_buttons(query, None)
        case Redraw(asking=asking):
            await replace_buttons(query, render.question_view(t, context.survey, asking).buttons)
        case LanguageSet(language=language):
            text = render.language_set_text(t, context.survey, language)
            await replace_message(query, render.View(text))
        case Replaced(say=say):
            await replace_message(query, render.View(render.notice(t, say)))


async def show(context: Context, chat_id: int, t: Translator, screen: Screen) -> None:
    """Send what the participant sees next."""
    survey = context.survey
    match screen:
        case Next():
            for note in screen.notes:
                await send(context, chat_id, render.View(render.note_text(t, note)))
            if isinstance(screen.then, Asking):
                await ask(context, chat_id, t, screen.then)
            elif isinstance(screen.then, Reviewing):
                await review(context, chat_id, t, screen.then)
            else:
                await _complete(context, chat_id, t, screen.then)
        case LanguagePicker(languages=languages):
            await send(context, chat_id, render.language_view(t, survey, languages))
        case ConsentScreen(details=details):
            await send(context, chat_id, render.consent_view(t, survey, context.config, details))
        case SearchResults():
            await send(context, chat_id, render.search_results_view(t, survey, screen))
        case DeleteQuestion():
            await send(context, chat_id, render.delete_view(t))
        case MyData():
            await send(context, chat_id, render.View(render.my_data_text(t, survey, screen)))
        case DiscardQuestion():
            await send(context, chat_id, render.discard_view(t, survey, screen))


async def ask(context: Context, chat_id: int, t: Translator, asking: Asking) -> None:
    """Send the question, and record which message shows it."""
    message_id = await send(context, chat_id, render.question_view(t, context.survey, asking))
    if asking.question.type is QuestionType.LOCATION:
        await send(context, chat_id, render.location_keyboard(t))
    if message_id is not None:
        await context.participation.shown(chat_id, message_id, asking.key)


async def review(context: Context, chat_id: int, t: Translator, reviewing: Reviewing) -> None:
    """Send the rounds of a repeat to review, and record which message shows them."""
    message_id = await send(context, chat_id, render.review_view(t, context.survey, reviewing))
    if message_id is not None:
        await context.participation.shown(chat_id, message_id, reviewing.key)


async def _complete(context: Context, chat_id: int, t: Translator, completion: Completion
                    ) -> None:
    await send(context, chat_id, render.View(render.completion_text(t, completion)))
    if completion.offer_subscription:
        await send(context, chat_id, render.subscription_offer(t))


# --- Telegram calls -------------------------------------------------------------------


async def send(context: Context, chat_id: int, view: render.View) -> int | None:
    """Send one message (split if long; buttons go on the last part); the id of its last
    part."""
    parts = render.split(view.text)
    message_id = None
    for index, part in enumerate(parts):
        keyboard = view.keyboard if index == len(parts) - 1 else None
        message_id = await context.bot.send_text(chat_id, part, keyboard)
    return message_id


async def acknowledge(query: CallbackQuery | None, text: str | None = None) -> None:
    """Answer a button press (the client shows a spinner until we do)."""
    if query is None:
        return
    try:
        await _bot(query).answer_press(query.id, text)
    except BadRequest as exc:
        # the query is too old (for instance redelivered after a restart): nothing to do
        logger.info("callback query not answered: %s", exc.message)


async def remove_keyboard(context: Context, chat_id: int, message_id: int) -> None:
    """Take the buttons off an earlier message so they cannot be pressed any more."""
    try:
        await context.bot.edit_buttons(chat_id, message_id, None)
    except BadRequest as exc:
        logger.debug("keyboard not removed from message %s: %s", message_id, exc.message)


async def replace_message(query: CallbackQuery, view: render.View) -> None:
    """Edit the message a button is on (text and buttons); a refused edit changes nothing."""
    pressed = query.message
    if pressed is None:  # a press on a message sent inline elsewhere: not this bot's chats
        return
    try:
        await _bot(query).edit_text(pressed.chat.id, pressed.message_id, view.text, view.buttons)
    except BadRequest as exc:
        logger.debug("message not edited: %s", exc.message)


async def edit_message(context: Context, chat_id: int, message_id: int, view: render.View
                       ) -> None:
    """Edit an earlier message by its id (text and buttons); a refused edit changes nothing."""
    try:
        await context.bot.edit_text(chat_id, message_id, view.text, view.buttons)
    except BadRequest as exc:
        logger.debug("message %s not edited: %s", message_id, exc.message)


async def replace_buttons(query: CallbackQuery, keyboard: InlineKeyboardMarkup | None) -> None:
    """Change (or with None, remove) the buttons of the message a button is on."""
    pressed = query.message
    if pressed is None:
        return
    try:
        await _bot(query).edit_buttons(pressed.chat.id, pressed.message_id, keyboard)
    except BadRequest as exc:
        logger.debug("buttons not changed: %s", exc.message)


async def safe_reply(context: Context, chat_id: int, text: str) -> None:
    """A short notice that must never crash the handler (the chat may be gone)."""
    try:
        await send(context, chat_id, render.View(text))
    except (Forbidden, BadRequest) as exc:
        logger.info("notice not delivered to a chat: %s", exc.message)
    except TelegramError as exc:
        logger.warning("notice not delivered: %s", exc)


def _bot(query: CallbackQuery) -> ConsultBot:
    bot = query.get_bot()
    assert isinstance(bot, ConsultBot)
    return bot
