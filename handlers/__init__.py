"""Telegram-facing code: parse an update, call the core and storage, render a reply.

:func:`register` holds the one ordered list of handlers. Group 0 is tried in
order and the first match wins, so specific handlers come before catch-alls.
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

from handlers import (
    answers_media,
    errors,
    misc,
    organizer,
    privacy,
    start,
    subscriptions,
    survey,
)

PRIVATE = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE


def handler_list() -> list[BaseHandler[Any, Any, Any]]:
    groups = filters.ChatType.GROUPS & filters.UpdateType.MESSAGE
    return [
        # an organizer registers a diaspora organization's group for summaries
        CommandHandler("subscribe", subscriptions.on_group_subscribe, groups),
        CommandHandler("unsubscribe", subscriptions.on_group_unsubscribe, groups),
        # other commands sent in groups and supergroups: point to the private chat
        MessageHandler(filters.COMMAND & filters.ChatType.GROUPS & filters.UpdateType.MESSAGE,
                       misc.on_group_command),
        # participant commands (private chats only)
        CommandHandler("start", start.on_start, PRIVATE),
        CommandHandler("language", start.on_language_command, PRIVATE),
        CommandHandler("back", survey.on_back, PRIVATE),
        CommandHandler("skip", survey.on_skip, PRIVATE),
        CommandHandler("mydata", privacy.on_mydata, PRIVATE),
        CommandHandler("delete", privacy.on_delete, PRIVATE),
        CommandHandler("help", misc.on_help, PRIVATE),
        CommandHandler("subscribe", subscriptions.on_subscribe, PRIVATE),
        CommandHandler("unsubscribe", subscriptions.on_unsubscribe, PRIVATE),
        CommandHandler("stop", subscriptions.on_stop, PRIVATE),
        # organizer commands (each checks CONSULTBOT_ADMINS on every call)
        *(CommandHandler(name, callback, PRIVATE)
          for name, callback in organizer.ORGANIZER_COMMANDS.items()),
        # buttons
        CallbackQueryHandler(start.on_language_chosen, pattern=r"^L:"),
        CallbackQueryHandler(start.on_consent, pattern=r"^C:"),
        CallbackQueryHandler(privacy.on_delete_confirmed, pattern=r"^X:"),
        CallbackQueryHandler(survey.on_survey_button, pattern=r"^[ATDPSBK]:"),
        CallbackQueryHandler(organizer.on_export_chosen, pattern=r"^E:"),
        CallbackQueryHandler(organizer.on_schedule_button, pattern=r"^H:"),
        CallbackQueryHandler(subscriptions.on_offer_answered, pattern=r"^U:[yn]$"),
        CallbackQueryHandler(subscriptions.on_reminder_button, pattern=r"^R:[cs]$"),
        CallbackQueryHandler(misc.on_stale_button),
        # everything else in a private chat
        MessageHandler(PRIVATE & filters.COMMAND, misc.on_unknown_command),
        MessageHandler(PRIVATE & filters.TEXT, survey.on_text),
        MessageHandler(PRIVATE & (filters.PHOTO | filters.VOICE | filters.AUDIO | filters.VIDEO
                                  | filters.VIDEO_NOTE | filters.Document.ALL
                                  | filters.LOCATION | filters.VENUE),
                       answers_media.on_media),
        MessageHandler(PRIVATE, misc.on_unsupported_message),
    ]


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    application.add_handlers(handler_list())
    application.add_error_handler(errors.on_error)
