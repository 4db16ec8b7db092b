"""The Bot API methods the stand-in answers: one function per method.

Each is ``async def name(world, request) -> result``: it reads its arguments
from the :class:`~bot.sandbox.wire.ApiRequest`, checks them as Telegram does
(raising :class:`~bot.sandbox.wire.ApiError` with Telegram's status and
wording), changes the :class:`~bot.sandbox.standin.world.World`, and returns
the ``result`` of the answer, or an :class:`~bot.sandbox.wire.Answer` when a
description goes with it. Faults and sending limits are applied by the server
before a method runs.

:mod:`.polling` gets updates, :mod:`.sending` sends, :mod:`.editing` changes
sent messages, :mod:`.account` holds the rest; :mod:`.arguments` reads the
arguments they share. Methods missing from :data:`METHODS` answer 404, as
unknown methods do on Telegram.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from ...wire import ApiRequest
from ..world import World
from . import account, editing, polling, sending

Method = Callable[[World, ApiRequest], Awaitable[Any]]

METHODS: dict[str, Method] = {
    "getMe": account.get_me,
    "logOut": account.log_out,
    "close": account.close,
    "getUpdates": polling.get_updates,
    "setWebhook": polling.set_webhook,
    "deleteWebhook": polling.delete_webhook,
    "getWebhookInfo": polling.get_webhook_info,
    "sendMessage": sending.send_message,
    "sendDocument": sending.send_document,
    "sendPhoto": sending.send_photo,
    "sendLocation": sending.send_location,
    "sendChatAction": sending.send_chat_action,
    "editMessageText": editing.edit_message_text,
    "editMessageCaption": editing.edit_message_caption,
    "editMessageReplyMarkup": editing.edit_message_reply_markup,
    "deleteMessage": editing.delete_message,
    "answerCallbackQuery": sending.answer_callback_query,
    "setMyCommands": account.set_my_commands,
    "getMyCommands": account.get_my_commands,
    "deleteMyCommands": account.delete_my_commands,
    "getFile": account.get_file,
    "getChat": account.get_chat,
    "getChatMember": account.get_chat_member,
    "setMyName": account.set_profile("name"),
    "getMyName": account.get_profile("name"),
    "setMyDescription": account.set_profile("description"),
    "getMyDescription": account.get_profile("description"),
    "setMyShortDescription": account.set_profile("short_description"),
    "getMyShortDescription": account.get_profile("short_description"),
    "setChatMenuButton": account.set_chat_menu_button,
    "getChatMenuButton": account.get_chat_menu_button,
}

_BY_LOWER_NAME = {name.lower(): (name, method) for name, method in METHODS.items()}


def find(name: str) -> tuple[str, Method | None]:
    """The method called ``name`` in any case, with its documented spelling.

    Method names are case-insensitive on Telegram; an unknown name comes back
    as given, with ``None``.
    """
    return _BY_LOWER_NAME.get(name.lower(), (name, None))
