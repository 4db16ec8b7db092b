"""Pieces every participant handler shares: who is this, where are they, ask the next thing."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from bot.context import Context
from bot.i18n import Translator
from bot.survey import engine
from bot.survey.engine import Progress, Step
from bot.survey.model import Question, QuestionType, Survey
from storage.participants import Participant, get_participant
from storage.responses import Response, get_answers, get_response
from storage.subscriptions import get_subscription
from telegram import CallbackQuery, InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, TelegramError

from handlers import render
from storage import responses

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Session:
    """A participant as stored, with their response and progress when they have one."""

    user_id: int
    participant: Participant | None
    response: Response | None
    progress: Progress | None
    t: Translator

    @property
    def language(self) -> str:
        return self.t.language


async def load_session(context: Context, user_id: int, hint: str | None = None) -> Session:
    """Read the participant's state from the database (never from memory)."""
    participant = await get_participant(context.db, user_id)
    language = participant.language if participant else None
    response = progress = None
    if participant is not None and participant.consented:
        response = await get_response(context.db, user_id, context.survey.id)
        if response is not None:
            answers = await get_answers(context.db, response.id)
            step = engine.resume(context.survey, answers, response.current, context.now())
            progress = step.progress
    return Session(user_id, participant, response, progress, context.catalogs.get(language))


async def send(context: Context, chat_id: int, view: render.View) -> Message | None:
    """Send one message (split if long; buttons go on the last part)."""
    parts = render.split_message(view.text)
    message = None
    for index, part in enumerate(parts):
        keyboard = view.keyboard if index == len(parts) - 1 else None
        message = await context.bot.send_message(
            chat_id, part, parse_mode=ParseMode.HTML, reply_markup=keyboard,
            disable_web_page_preview=True,
        )
    return message


async def send_text(context: Context, chat_id: int, text: str) -> Message | None:
    return await send(context, chat_id, render.View(text))


async def acknowledge(query: CallbackQuery | None, text: str | None = None) -> None:
    """Answer a button press (always: the client shows a spinner until we do)."""
    if query is None:
        return
    try:
        await query.answer(text)
    except BadRequest as exc:
        # the query is too old (for instance redelivered after a restart): nothing to do
        logger.info("callback query not answered: %s", exc.message)


async def remove_keyboard(context: Context, chat_id: int, message_id: int | None) -> None:
    """Take the buttons off an earlier question so they cannot be pressed any more."""
    if message_id is None:
        return
    try:
        await context.bot.edit_message_reply_markup(chat_id, message_id, reply_markup=None)
    except BadRequest as exc:
        logger.debug("keyboard not removed from message %s: %s", message_id, exc.message)


async def replace_message(query: CallbackQuery, view: render.View) -> None:
    """Edit the message a button is on (text and buttons); a refused edit changes nothing."""
    try:
        await query.edit_message_text(view.text, parse_mode=ParseMode.HTML,
                                      reply_markup=view.buttons)
    except BadRequest as exc:
        logger.debug("message not edited: %s", exc.message)


async def replace_buttons(query: CallbackQuery, keyboard: InlineKeyboardMarkup | None) -> None:
    """Change (or with None, remove) the buttons of the message a button is on."""
    try:
        await query.edit_message_reply_markup(reply_markup=keyboard)
    except BadRequest as exc:
        logger.debug("buttons not changed: %s", exc.message)


async def edit_to_answer(
    context: Context, query: CallbackQuery, t: Translator, question: Question,
    value: str | None, answers: engine.Answers,
) -> None:
    """Show the chosen answer in the question message and remove its buttons."""
    await replace_message(query, render.View(
        render.answered_text(t, context.survey, question, value, answers)))


async def ask(
    context: Context,
    chat_id: int,
    session: Session,
    step: Step,
    *,
    page: int | None = None,
    draft: set[str] | None = None,
) -> None:
    """Send what comes next: the notes on the way, then the current question or the end."""
    survey, t = context.survey, session.t
    progress = step.progress
    for note in step.notes:
        await send_text(context, chat_id, render.note_text(t, survey, note, progress.answers))
    if progress.current is None:
        await send_completion(context, chat_id, t)
        return
    question = survey.question(progress.current)
    now = context.now()
    view = render.question_view(
        t, survey, question,
        answers=progress.answers,
        now=now,
        position=engine.position(survey, progress, now),
        draft=draft,
        page=page,
        can_go_back=_can_go_back(survey, progress, now),
    )
    message = await send(context, chat_id, view)
    if question.type is QuestionType.LOCATION:
        await send(context, chat_id, render.location_keyboard(t))
    if message is not None and session.response is not None:
        await responses.set_question_message(context.db, session.response.id,
                                             message.message_id)


def _can_go_back(survey: Survey, progress: Progress, now: dt.datetime) -> bool:
    try:
        engine.back(survey, progress, now)
    except engine.SurveyFlowError:
        return False
    return True


async def send_completion(context: Context, chat_id: int, t: Translator) -> None:
    survey = context.survey
    closing = survey.closing.get(t.language) if survey.closing else None
    text = render.escape(closing) if closing else t.gettext("Thank you for taking part!")
    text += "\n\n" + render.escape(t.gettext(
        "You can see your answers with /mydata and delete them with /delete."))
    await send_text(context, chat_id, text)
    if await get_subscription(context.db, chat_id) is None:
        await send(context, chat_id, render.subscription_offer(t))


async def ask_language(
    context: Context, chat_id: int, t: Translator, first: str | None = None
) -> None:
    """The language picker; ``first`` (from the Telegram app's language) comes first."""
    languages = list(context.survey.languages)
    if first in languages:
        languages.remove(first)
        languages.insert(0, first)
    await send(context, chat_id, render.View(
        render.language_prompt(t, context.survey), render.language_keyboard(languages)))


def private_user_id(update: Update) -> int | None:
    """The user id when the update comes from a private chat with a person."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None or chat.type != chat.PRIVATE or user.is_bot:
        return None
    return user.id


async def safe_reply(context: Context, chat_id: int, text: str) -> None:
    """A short notice that must never crash the handler (the chat may be gone)."""
    try:
        await send_text(context, chat_id, text)
    except (Forbidden, BadRequest) as exc:
        logger.info("notice not delivered to a chat: %s", exc.message)
    except TelegramError as exc:
        logger.warning("notice not delivered: %s", exc)

