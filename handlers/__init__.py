"""Telegram-facing code: parse an update, call a use case, render the reply.

:func:`handler_list` holds the one ordered list of handlers, commands coming
from the table in :mod:`handlers.commands`. Group 0 is tried in order and the
first match wins, so specific handlers come before catch-alls.
"""

from __future__ import annotations

from typing import Any

from telegram.ext import (
    Application,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from handlers import errors, journey, misc, organizer, privacy, subscriptions
from handlers.callbacks import Kind, pattern
from handlers.commands import COMMANDS, Audience, Command, Handler, on_text

PRIVATE = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
GROUPS = filters.ChatType.GROUPS & filters.UpdateType.MESSAGE
MEDIA = (filters.PHOTO | filters.VOICE | filters.AUDIO | filters.VIDEO | filters.VIDEO_NOTE
         | filters.Document.ALL | filters.LOCATION | filters.VENUE)


def handler_list() -> list[BaseHandler[Any, Any, Any]]:
    return [
        # an organizer registers a diaspora organization's group for summaries
        CommandHandler("subscribe", subscriptions.on_group_subscribe, GROUPS),
        CommandHandler("unsubscribe", subscriptions.on_group_unsubscribe, GROUPS),
        # other commands sent in groups and supergroups: point to the private chat
        MessageHandler(filters.COMMAND & GROUPS, misc.on_group_command),
        # every command of the table, in private chats (organizer ones checked on each call)
        *(CommandHandler(c.name, _guarded(c), PRIVATE) for c in COMMANDS),
        # buttons
        CallbackQueryHandler(journey.on_language_chosen, pattern=pattern(Kind.LANGUAGE)),
        CallbackQueryHandler(journey.on_consent, pattern=pattern(Kind.CONSENT)),
        CallbackQueryHandler(privacy.on_delete_confirmed, pattern=pattern(Kind.DELETE)),
        CallbackQueryHandler(journey.on_survey_button, pattern=pattern(None)),
        CallbackQueryHandler(organizer.organizer_only(organizer.on_export_chosen),
                             pattern=pattern(Kind.EXPORT)),
        CallbackQueryHandler(organizer.organizer_only(organizer.on_schedule_button),
                             pattern=pattern(Kind.SCHEDULE)),
        CallbackQueryHandler(subscriptions.on_offer_answered, pattern=pattern(Kind.OFFER)),
        CallbackQueryHandler(journey.on_reminder_button, pattern=pattern(Kind.REMINDER)),
        CallbackQueryHandler(journey.on_stale_button),
        # everything else in a private chat
        MessageHandler(PRIVATE & filters.COMMAND, misc.on_unknown_command),
        MessageHandler(PRIVATE & filters.TEXT, on_text),
        MessageHandler(PRIVATE & MEDIA, journey.on_media),
        MessageHandler(PRIVATE, journey.on_unsupported_message),
    ]


def _guarded(command: Command) -> Handler:
    if command.audience is Audience.ORGANIZER:
        return organizer.organizer_only(command.handler)
    return command.handler


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    application.add_handlers(handler_list())
    application.add_error_handler(errors.on_error)
