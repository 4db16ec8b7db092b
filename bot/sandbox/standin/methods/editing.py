"""Methods that change a message after it was sent: edit its text, caption or keyboard, delete it.

An edit that changes nothing is refused with Telegram's "message is not
modified"; an edit without ``reply_markup`` removes an inline keyboard.
"""

from __future__ import annotations

import time
from typing import Any

from ...wire import ApiRequest, ReplyMarkup, bad_request, check_callback_data, parse_reply_markup
from ..world import StoredMessage, World
from .arguments import chat_for, finish, link_preview, parse_text

NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)


async def edit_message_text(world: World, request: ApiRequest) -> dict[str, Any]:
    source = request.arg("text")
    if not source:
        raise bad_request("message text is empty")
    preview = link_preview(request)
    text, entities = parse_text(world, source, request, "entities")
    markup = _inline_only(parse_reply_markup(request))
    message = _edit_target(world, request)
    if "text" not in message.content:
        raise bad_request("there is no text in the message to edit")
    text, entities = finish(text, entities, caption=False)
    check_callback_data(markup)
    unchanged = (
        text == message.content["text"]
        and entities == message.content.get("entities", [])
        and _same_keyboard(message.markup, markup)
    )
    if unchanged:
        raise bad_request(NOT_MODIFIED)
    content = {
        k: v
        for k, v in message.content.items()
        if k not in ("text", "entities", "link_preview_options")
    }
    content["text"] = text
    if entities:
        content["entities"] = entities
    if preview:
        content["link_preview_options"] = preview
    if message.sent is not None:
        message.sent.text = text
        message.sent.entities = entities
        message.sent.html = source if request.arg("parse_mode").lower() == "html" else None
    return _apply_edit(world, message, content, markup)


async def edit_message_caption(world: World, request: ApiRequest) -> dict[str, Any]:
    source = request.arg("caption")
    caption, entities = parse_text(world, source, request, "caption_entities")
    markup = _inline_only(parse_reply_markup(request))
    message = _edit_target(world, request)
    if not any(k in message.content for k in ("document", "photo", "voice")):
        raise bad_request("there is no caption in the message to edit")
    caption, entities = finish(caption, entities, caption=True)
    check_callback_data(markup)
    unchanged = (
        caption == message.content.get("caption", "")
        and entities == message.content.get("caption_entities", [])
        and _same_keyboard(message.markup, markup)
    )
    if unchanged:
        raise bad_request(NOT_MODIFIED)
    content = {
        k: v for k, v in message.content.items() if k not in ("caption", "caption_entities")
    }
    if caption:
        content["caption"] = caption
        if entities:
            content["caption_entities"] = entities
    if message.sent is not None:
        message.sent.text = caption
        message.sent.entities = entities
        message.sent.html = (
            source if request.arg("parse_mode").lower() == "html" and source else None
        )
    return _apply_edit(world, message, content, markup)


async def edit_message_reply_markup(world: World, request: ApiRequest) -> dict[str, Any]:
    markup = _inline_only(parse_reply_markup(request))
    message = _edit_target(world, request)
    check_callback_data(markup)
    if _same_keyboard(message.markup, markup):
        raise bad_request(NOT_MODIFIED)
    return _apply_edit(world, message, message.content, markup)


async def delete_message(world: World, request: ApiRequest) -> bool:
    if not request.arg("chat_id"):
        raise bad_request("chat identifier is not specified")
    message_id = max(0, request.integer("message_id"))
    if message_id == 0:
        raise bad_request("message identifier is not specified")
    chat = chat_for(world, request)
    message = chat._messages.get(message_id)
    if message is None or message.deleted:
        raise bad_request("message to delete not found")
    own = message.author_id == world.bot_id
    if not own and chat.type in ("group", "supergroup") and chat.bot_status != "administrator":
        raise bad_request("message can't be deleted")
    message.deleted = True
    if message.sent is not None:
        message.sent.deleted = True
    world.changed()
    return True


def _edit_target(world: World, request: ApiRequest) -> StoredMessage:
    """The bot's own message named by ``chat_id`` and ``message_id``."""
    chat_id = request.arg("chat_id")
    message_id = max(0, request.integer("message_id"))
    if not chat_id and message_id == 0:
        if not request.arg("inline_message_id"):
            raise bad_request("message identifier is not specified")
        raise bad_request("MESSAGE_ID_INVALID")
    chat = chat_for(world, request, access="edit")
    message = chat._messages.get(message_id)
    if message is None or message.deleted:
        raise bad_request("message to edit not found")
    if message.author_id != world.bot_id:
        raise bad_request("message can't be edited")
    return message


def _inline_only(markup: ReplyMarkup | None) -> ReplyMarkup | None:
    if markup is not None and markup.kind != "inline_keyboard":
        raise bad_request("inline keyboard expected")
    return markup


def _same_keyboard(old: ReplyMarkup | None, new: ReplyMarkup | None) -> bool:
    return (old.as_message_field() if old else None) == (new.as_message_field() if new else None)


def _apply_edit(
    world: World, message: StoredMessage, content: dict[str, Any], markup: ReplyMarkup | None
) -> dict[str, Any]:
    message.content = content
    if markup is not None or (
        message.markup is not None and message.markup.kind == "inline_keyboard"
    ):
        message.markup = markup
    message.edit_date = int(time.time())
    if message.sent is not None:
        message.sent.edits += 1
        message.sent.reply_markup = message.markup.sent if message.markup else None
    world.changed()
    return world.message_json(message)
