"""The participant's way through the consultation: /start, language, consent, answers.

Each handler parses the update, calls one use case of
:class:`bot.participation.Participation`, and renders the outcome with
:func:`handlers.reply.reply`.
"""

from __future__ import annotations

import re

from bot.context import Context
from bot.participation import (
    Action,
    Attachment,
    AttachmentKind,
    AttachmentUnavailable,
    Place,
    Press,
)
from telegram import Message, Update
from telegram.error import TelegramError

from handlers.callbacks import Kind, parse, parse_survey_button
from handlers.reply import reply

_SOURCE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def private_user_id(update: Update) -> int | None:
    """The user id when the update comes from a private chat with a person."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None or chat.type != chat.PRIVATE or user.is_bot:
        return None
    return user.id


def app_language(update: Update) -> str | None:
    user = update.effective_user
    return user.language_code if user else None


def _source(args: list[str] | None) -> str | None:
    """The deep-link parameter (t.me/bot?start=<source>), when it is a valid one."""
    if args and _SOURCE.match(args[0]):
        return args[0]
    return None


async def on_start(update: Update, context: Context) -> None:
    """Begin the consultation, or pick up where the participant left off."""
    if (user_id := private_user_id(update)) is None:
        return
    await reply(update, context, await context.participation.start(
        user_id, update.update_id, _source(context.args), app_language(update)))


async def on_language_command(update: Update, context: Context) -> None:
    """Offer the language picker again; the current question follows in the new language."""
    if (user_id := private_user_id(update)) is None:
        return
    await reply(update, context, await context.participation.pick_language(user_id))


async def on_language_chosen(update: Update, context: Context) -> None:
    """Switch to the chosen language and show what comes next in it."""
    if (user_id := private_user_id(update)) is None or update.callback_query is None:
        return
    fields = parse(Kind.LANGUAGE, update.callback_query.data)
    await reply(update, context, await context.participation.choose_language(
        user_id, update.update_id, fields[0] if fields else None))


async def on_consent(update: Update, context: Context) -> None:
    """Act on "I agree", "No thanks" or "More information"."""
    if (user_id := private_user_id(update)) is None or update.callback_query is None:
        return
    fields = parse(Kind.CONSENT, update.callback_query.data)
    await reply(update, context, await context.participation.consent(
        user_id, update.update_id, fields[0] if fields else None))


async def on_survey_button(update: Update, context: Context) -> None:
    """A press on a question's button: answer, tick, page, skip, keep or go back."""
    query = update.callback_query
    if (user_id := private_user_id(update)) is None or query is None:
        return
    button = parse_survey_button(query.data)
    if button is None:
        await reply(update, context, await context.participation.stale(user_id))
        return
    message = query.message
    press = Press(button.action, button.fingerprint, button.question, button.number,
                  message.message_id if message is not None else None, button.rounds)
    await reply(update, context, await context.participation.press(
        user_id, update.update_id, press))


async def on_back(update: Update, context: Context) -> None:
    """Go back to the previous question to change its answer."""
    if (user_id := private_user_id(update)) is not None:
        await reply(update, context, await context.participation.navigate(
            user_id, update.update_id, Action.BACK))


async def on_skip(update: Update, context: Context) -> None:
    """Leave the current question unanswered, if it is optional."""
    if (user_id := private_user_id(update)) is not None:
        await reply(update, context, await context.participation.navigate(
            user_id, update.update_id, Action.SKIP))


async def on_media(update: Update, context: Context) -> None:
    """A photo, voice note, audio, video, file or location: the answer, or a hint."""
    message = update.effective_message
    if (user_id := private_user_id(update)) is None or message is None:
        return
    place = message.location or (message.venue.location if message.venue else None)
    await reply(update, context, await context.participation.send_media(
        user_id, update.update_id, _attachments(context, message),
        Place(place.latitude, place.longitude, place.horizontal_accuracy) if place else None))


def _attachments(context: Context, message: Message) -> list[Attachment]:
    """What the message carries, each fetched from Telegram only if asked for."""
    found: list[Attachment] = []

    def add(kind: AttachmentKind, file_id: str, size: int | None, mime: str | None) -> None:
        async def fetch() -> bytes:
            try:
                telegram_file = await context.bot.get_file(file_id)
                return bytes(await telegram_file.download_as_bytearray())
            except TelegramError as exc:
                raise AttachmentUnavailable(str(exc)) from None
        found.append(Attachment(kind, size, mime, fetch))

    if message.photo:
        largest = message.photo[-1]
        add(AttachmentKind.PHOTO, largest.file_id, largest.file_size, "image/jpeg")
    for kind, sound in ((AttachmentKind.VOICE, message.voice),
                        (AttachmentKind.AUDIO, message.audio)):
        if sound is not None:
            add(kind, sound.file_id, sound.file_size, sound.mime_type)
    if message.video is not None:
        video = message.video
        add(AttachmentKind.VIDEO, video.file_id, video.file_size, video.mime_type)
    if message.video_note is not None:
        note = message.video_note
        add(AttachmentKind.VIDEO_NOTE, note.file_id, note.file_size, "video/mp4")
    if message.document is not None:
        document = message.document
        add(AttachmentKind.DOCUMENT, document.file_id, document.file_size, document.mime_type)
    return found


async def on_unsupported_message(update: Update, context: Context) -> None:
    """A sticker, contact, poll…: nothing is stored, a hint is sent."""
    if (user_id := private_user_id(update)) is not None:
        await reply(update, context, await context.participation.unsupported(user_id))


async def on_reminder_button(update: Update, context: Context) -> None:
    """"Continue" resumes the consultation where it stopped; "Stop reminders" stops them."""
    query = update.callback_query
    if (user_id := private_user_id(update)) is None or query is None:
        return
    fields = parse(Kind.REMINDER, query.data)
    if fields == ("s",):
        outcome = await context.participation.stop_reminders(user_id, update.update_id,
                                                              pressed=True)
    else:
        outcome = await context.participation.continue_after_reminder(user_id)
    await reply(update, context, outcome)


async def on_stale_button(update: Update, context: Context) -> None:
    """A press on a button that does nothing any more (or was never ours)."""
    user = update.effective_user
    if update.callback_query is None or user is None:
        return
    await reply(update, context, await context.participation.stale(user.id))
