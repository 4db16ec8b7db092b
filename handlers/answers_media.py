"""Answers Telegram collects natively: photos, voice notes and audio, videos, files, locations."""

from __future__ import annotations

import asyncio
import logging

from bot import media
from bot.context import Context
from bot.i18n import Translator
from bot.survey import engine
from bot.survey.engine import SurveyFlowError
from bot.survey.model import MEDIA_TYPES, Question, QuestionType
from telegram import Message, ReplyKeyboardRemove, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError

from handlers import render
from handlers.common import ask, load_session, private_user_id, remove_keyboard, send_text
from handlers.survey import commit, explain

logger = logging.getLogger(__name__)


def _attachment(message: Message, question: Question) -> tuple[str, int | None, str | None] | None:
    """(file id, size, MIME type) of what the question asks for, if the message carries it."""
    kind = question.type
    document = message.document
    mime = document.mime_type or "" if document else ""
    candidates: list[tuple[str, int | None, str | None]] = []
    if kind in (QuestionType.PHOTO, QuestionType.FILE) and message.photo:
        largest = message.photo[-1]
        candidates.append((largest.file_id, largest.file_size, "image/jpeg"))
    if kind in (QuestionType.AUDIO, QuestionType.FILE):
        for sound in (message.voice, message.audio):
            if sound is not None:
                candidates.append((sound.file_id, sound.file_size, sound.mime_type))
    if kind in (QuestionType.VIDEO, QuestionType.FILE):
        for clip in (message.video, message.video_note):
            if clip is not None:
                candidates.append((clip.file_id, clip.file_size,
                                   getattr(clip, "mime_type", None) or "video/mp4"))
    if document is not None and (
        kind is QuestionType.FILE
        or (kind is QuestionType.PHOTO and mime.startswith("image/"))
        or (kind is QuestionType.AUDIO and mime.startswith("audio/"))
        or (kind is QuestionType.VIDEO and mime.startswith("video/"))
    ):
        candidates.append((document.file_id, document.file_size, document.mime_type))
    return candidates[0] if candidates else None


async def on_media(update: Update, context: Context) -> None:
    """A photo, voice note, audio, video, file or location: the answer, or a hint."""
    user_id = private_user_id(update)
    message = update.effective_message
    if user_id is None or message is None:
        return
    session = await load_session(context, user_id)
    t = session.t
    progress = session.progress
    question = (context.survey.question(progress.current)
                if progress is not None and progress.current is not None else None)
    if question is None or (question.type not in MEDIA_TYPES
                            and question.type is not QuestionType.LOCATION):
        logger.info("unsupported message type ignored")
        await send_text(context, user_id, render.escape(t.gettext(
            "Sorry, I can only read text messages and button presses. Nothing was saved.")))
        return
    assert progress is not None and session.response is not None
    raw = await _receive(context, message, question, t, user_id)
    if raw is None:
        return
    try:
        step = engine.answer(context.survey, progress, raw, context.now())
    except SurveyFlowError as error:
        media.forget(context.config.db, [raw])
        hint = explain(t, context.survey, question, error)
        await send_text(context, user_id, render.escape(hint))
        return
    if not await commit(update, context, session, step.changes(question), step):
        media.forget(context.config.db, [raw])
        return
    if question.type is QuestionType.LOCATION:
        await context.bot.send_message(user_id, render.escape(t.gettext("Location received.")),
                                       parse_mode=ParseMode.HTML,
                                       reply_markup=ReplyKeyboardRemove())
    await remove_keyboard(context, user_id, session.response.question_message_id)
    await ask(context, user_id, session, step)


async def _receive(
    context: Context, message: Message, question: Question, t: Translator, user_id: int
) -> str | None:
    """The answer value for what was sent (a stored file's path, a geopoint), or None."""
    if question.type is QuestionType.LOCATION:
        place = message.location or (message.venue.location if message.venue else None)
        if place is None:
            await send_text(context, user_id, render.escape(render.expected_hint(t, question)))
            return None
        accuracy = place.horizontal_accuracy or 0
        return f"{place.latitude} {place.longitude} 0 {accuracy}"
    attachment = _attachment(message, question)
    if attachment is None:
        await send_text(context, user_id, render.escape(render.expected_hint(t, question)))
        return None
    file_id, size, mime = attachment
    limit = media.MAX_BYTES // (1024 * 1024)
    if size is not None and size > media.MAX_BYTES:
        await send_text(context, user_id, render.escape(t.gettext(
            "This file is too large: please send one under {size} MB.", size=limit)))
        return None
    try:
        telegram_file = await context.bot.get_file(file_id)
        data = bytes(await telegram_file.download_as_bytearray())
    except TelegramError as exc:
        logger.warning("a file could not be downloaded: %s", exc)
        await send_text(context, user_id, render.escape(t.gettext(
            "The file could not be received. Please send it again.")))
        return None
    if len(data) > media.MAX_BYTES:
        await send_text(context, user_id, render.escape(t.gettext(
            "This file is too large: please send one under {size} MB.", size=limit)))
        return None
    suffix = media.extension(telegram_file.file_path, mime)
    return await asyncio.to_thread(media.store, context.config.db, data, suffix)
