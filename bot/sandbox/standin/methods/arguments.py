"""Arguments several methods share, read and checked the way the Bot API checks them.

``chat_id`` (with the access the bot has to the chat), texts and captions
with their ``parse_mode`` or entities and their length limits, link preview
options, the message replied to, and input files (an upload or a
``file_id``). Each raises :class:`~bot.sandbox.wire.ApiError` with Telegram's
status and wording.
"""

from __future__ import annotations

import json
from typing import Any

from ...telegram_text import (
    EmptyTextError,
    EntityParseError,
    finish_text,
    parse_html,
    read_entities,
    utf16_len,
)
from ...wire import ApiRequest, UploadedFile, bad_request, forbidden, to_integer
from ..files import StoredFile
from ..people import SimChat
from ..world import World

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_MARKUP_BYTES = 1 << 15  # longer texts are refused before their markup is parsed


def chat_for(world: World, request: ApiRequest, *, access: str = "write") -> SimChat:
    """The chat named by ``chat_id``, if the bot may ``read``, ``edit`` in or ``write`` to it."""
    raw = request.arg("chat_id")
    if raw == "":
        raise bad_request("chat_id is empty")
    chat: SimChat | None
    if raw.startswith("@"):
        name = raw[1:].lower()
        chat = next(
            (
                c
                for c in world.chats.values()
                if c.username and c.username.lower() == name and c.user is None
            ),
            None,
        )
    else:
        chat = world.chats.get(to_integer(raw))
    if chat is None or not chat._known_to_bot:
        raise bad_request("chat not found")
    if chat.user is not None:
        if chat.user.deactivated and access != "read":
            raise forbidden("user is deactivated")
        return chat
    if chat.type == "group":
        if chat.migrated_to is not None and access == "write":
            raise bad_request(
                "group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": chat.migrated_to},
            )
        if chat.bot_status == "kicked" and access != "read":
            raise forbidden("bot was kicked from the group chat")
        if chat.bot_status == "left" and access != "read":
            raise forbidden("bot is not a member of the group chat")
        return chat
    kind = "supergroup" if chat.type == "supergroup" else "channel"
    if chat.bot_status == "kicked":
        raise forbidden(f"bot was kicked from the {kind} chat")
    if chat.bot_status == "left":
        raise forbidden(f"bot is not a member of the {kind} chat")
    return chat


def check_can_send(chat: SimChat) -> None:
    """A person who blocked the bot gets nothing from it."""
    if chat.user is not None and chat.user.blocked_bot:
        raise forbidden("bot was blocked by the user")


def parse_text(
    world: World, text: str, request: ApiRequest, entities_param: str
) -> tuple[str, list[dict[str, Any]]]:
    """Parse markup (``parse_mode``) or read explicit entities."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_MARKUP_BYTES:
        raise bad_request("text is too long")
    mode = request.arg("parse_mode").lower()
    if text and mode and mode != "none":
        if mode == "html":

            def mentioned(user_id: int) -> dict[str, Any] | None:
                person = world.users.get(user_id)
                return person.as_user() if person is not None else None

            try:
                return parse_html(text, mentioned)
            except EntityParseError as error:
                raise bad_request(f"can't parse entities: {error}") from None
        if mode in ("markdown", "markdownv2"):
            return text, []
        raise bad_request("unsupported parse_mode")
    try:
        raw_entities = json.loads(request.arg(entities_param) or "[]")
    except ValueError:
        raw_entities = []
    try:
        return text, read_entities(raw_entities, text)
    except EntityParseError as error:
        raise bad_request(f"can't parse MessageEntity: {error}") from None


def finish(
    text: str, entities: list[dict[str, Any]], *, caption: bool
) -> tuple[str, list[dict[str, Any]]]:
    """Clean and trim a parsed text as Telegram does, then check its length."""
    try:
        text, entities = finish_text(text, entities, allow_empty=caption)
    except EmptyTextError:
        raise bad_request("message must be non-empty") from None
    if utf16_len(text) > (MAX_CAPTION_LENGTH if caption else MAX_TEXT_LENGTH):
        raise bad_request("message caption is too long" if caption else "message is too long")
    return text, entities


def link_preview(request: ApiRequest) -> dict[str, Any] | None:
    """The link preview options, from ``link_preview_options`` or the older flag."""
    value = request.json("link_preview_options", "can't parse link preview options JSON object")
    if value is None:
        return {"is_disabled": True} if request.boolean("disable_web_page_preview") else None
    if not isinstance(value, dict):
        raise bad_request("object expected as link preview options")
    return value or None


def reply_to(world: World, request: ApiRequest, chat: SimChat) -> dict[str, Any] | None:
    """The message being replied to (its JSON), from reply_parameters or reply_to_message_id."""
    value = request.json("reply_parameters", "can't parse reply parameters JSON object")
    if value is None:
        message_id = request.integer("reply_to_message_id")
        if message_id <= 0:
            return None
        value = {
            "message_id": message_id,
            "allow_sending_without_reply": request.boolean("allow_sending_without_reply"),
        }
    if not isinstance(value, dict):
        raise bad_request("object expected as reply parameters")
    target_id = value.get("message_id")
    if not isinstance(target_id, int) or isinstance(target_id, bool):
        raise bad_request("can't parse reply parameters: Can't find field \"message_id\"")
    target = chat._messages.get(target_id)
    if target is None or target.deleted:
        if value.get("allow_sending_without_reply") is True:
            return None
        raise bad_request("message to be replied not found")
    return world.replied_json(target)


def input_file(world: World, request: ApiRequest, name: str) -> UploadedFile | StoredFile | None:
    """An uploaded file, or a file sent before and named by its file_id."""
    if name in request.files:
        return request.files[name]
    raw = request.arg(name).strip()
    if not raw:
        return None
    if raw.startswith("attach://"):
        return request.files.get(raw[len("attach://") :])
    if raw.lower().startswith(("http://", "https://")):
        raise bad_request("failed to get HTTP URL content")
    stored = world.files.by_id.get(raw)
    if stored is None:
        raise bad_request("wrong file identifier/HTTP URL specified")
    if (stored.kind == "photo") != (name == "photo"):
        raise bad_request("type of file mismatch")
    return stored
