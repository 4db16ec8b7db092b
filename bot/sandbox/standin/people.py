"""People and chats a test drives: what a :class:`SimUser` does reaches the bot as updates.

A person sends texts, media, locations and contacts, edits their messages and
presses inline buttons, the way a Telegram client does it (and refuses what
no client could do, such as pressing a button that is not there). A
:class:`SimChat` is a private chat, a group, a supergroup or a channel.
"""

from __future__ import annotations

import base64
import time
from typing import Any

from ..telegram_text import find_entities
from .records import SentMessage
from .world import StoredMessage, World

# The smallest valid PNG (1x1, transparent): the default picture of SimUser.send_photo.
TINY_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
# A few bytes shaped like an Ogg Opus voice note.
TINY_OGG = b"OggS\x00\x02" + bytes(20) + b"OpusHead\x01\x01"
TINY_WEBP = b"RIFF\x00\x00\x00\x00WEBPVP8 "


def get_user(
    world: World,
    user_id: int,
    *,
    first_name: str = "Test",
    last_name: str | None = None,
    username: str | None = None,
    language_code: str | None = "en",
) -> SimUser:
    """The person with this id (the same object for the same id)."""
    if user_id <= 0:
        raise ValueError("user ids are positive")
    if user_id not in world.users:
        person = SimUser(world, user_id, first_name, last_name, username, language_code)
        world.users[user_id] = person
        world.chats[user_id] = person.chat
    return world.users[user_id]


def get_group(
    world: World, chat_id: int, title: str, *, type: str, username: str | None = None
) -> SimChat:
    """A group, supergroup or channel with the bot in it (the same object for the same id)."""
    if type not in ("group", "supergroup", "channel"):
        raise ValueError(f"unknown chat type {type!r}")
    if chat_id >= 0:
        raise ValueError("group and channel ids are negative")
    if chat_id not in world.chats:
        world.chats[chat_id] = SimChat(world, chat_id, type, title, username=username)
    return world.chats[chat_id]


class SimChat:
    """A chat: a person's private chat with the bot, a group, a supergroup or a channel."""

    def __init__(
        self,
        world: World,
        chat_id: int,
        type: str,
        title: str = "",
        *,
        username: str | None = None,
        user: SimUser | None = None,
    ) -> None:
        self.id = chat_id
        self.type = type
        self.title = title
        self.username = username
        self.user = user  # the person, for a private chat
        self.migrated_to: int | None = None
        self.bot_status = "administrator" if type == "channel" else "member"
        self._world = world
        # The stand-in's own bookkeeping, read and written by the whole package:
        self._messages: dict[int, StoredMessage] = {}
        self._last_message_id = 0
        self._known_to_bot = type != "private"

    def __repr__(self) -> str:
        return f"SimChat({self.id}, {self.type!r}, {self.title!r})"

    def as_chat(self) -> dict[str, Any]:
        """The Chat object of this chat."""
        if self.user is not None:
            user = self.user
            chat: dict[str, Any] = {"id": self.id, "first_name": user.first_name}
            if user.last_name:
                chat["last_name"] = user.last_name
            if user.username:
                chat["username"] = user.username
            chat["type"] = "private"
            return chat
        chat = {"id": self.id, "title": self.title}
        if self.username and self.type != "group":
            chat["username"] = self.username
        chat["type"] = self.type
        return chat

    def post(self, text: str) -> dict[str, Any]:
        """Post ``text`` in this channel (a ``channel_post`` update); returns the Message."""
        if self.type != "channel":
            raise ValueError(f"chat {self.id} is a {self.type}; only channels have posts")
        return self._world.deliver(None, self, text_content(text), kind="channel_post")


class SimUser:
    """A person using Telegram: what they do reaches the bot as updates."""

    def __init__(
        self,
        world: World,
        user_id: int,
        first_name: str,
        last_name: str | None,
        username: str | None,
        language_code: str | None,
    ) -> None:
        self.id = user_id
        self.first_name = first_name
        self.last_name = last_name
        self.username = username
        self.language_code = language_code
        self.blocked_bot = False
        self.deactivated = False
        self._world = world
        self.chat = SimChat(world, user_id, "private", user=self)

    def __repr__(self) -> str:
        return f"SimUser({self.id}, {self.first_name!r})"

    def as_user(self) -> dict[str, Any]:
        """The User object of this person."""
        user: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            user["last_name"] = self.last_name
        if self.username:
            user["username"] = self.username
        if self.language_code:
            user["language_code"] = self.language_code
        return user

    # -- messages -------------------------------------------------------------

    def send(
        self,
        text: str,
        *,
        chat: SimChat | None = None,
        reply_to: SentMessage | int | None = None,
    ) -> dict[str, Any]:
        """Send a text message (to the bot, or in ``chat``); returns the Message.

        Commands such as ``/start`` or ``/start@bot`` carry a ``bot_command``
        entity, as real clients send them. ``reply_to`` makes it a reply to a
        message of that chat (a SentMessage or a message id).
        """
        if not text.strip():
            raise ValueError("Telegram clients do not send empty messages")
        content = text_content(text)
        if reply_to is not None:
            target_chat = chat or self.chat
            target_id = reply_to.message_id if isinstance(reply_to, SentMessage) else reply_to
            target = target_chat._messages.get(target_id)
            if target is None or target.deleted:
                raise ValueError(f"there is no message {target_id} in chat {target_chat.id}")
            content["reply_to_message"] = self._world.replied_json(target)
        return self._send(content, chat)

    def send_sticker(self, *, chat: SimChat | None = None) -> dict[str, Any]:
        stored = self._world.files.store("sticker", TINY_WEBP, "image/webp")
        sticker = {
            **stored.ids(),
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": "\U0001f44d",
        }
        return self._send({"sticker": sticker}, chat)

    def send_photo(
        self, data: bytes = TINY_PNG, caption: str | None = None, *, chat: SimChat | None = None
    ) -> dict[str, Any]:
        photo = self._world.files.store_photo(data, "photo.jpg")
        return self._send({"photo": photo, **caption_content(caption)}, chat)

    def send_voice(
        self, data: bytes = TINY_OGG, duration: int = 3, *, chat: SimChat | None = None
    ) -> dict[str, Any]:
        stored = self._world.files.store("voice", data, "audio/ogg")
        voice = {"duration": duration, "mime_type": "audio/ogg", **stored.ids()}
        return self._send({"voice": voice}, chat)

    def send_document(
        self,
        data: bytes,
        file_name: str,
        mime_type: str,
        caption: str | None = None,
        *,
        chat: SimChat | None = None,
    ) -> dict[str, Any]:
        stored = self._world.files.store("document", data, mime_type, file_name)
        document = {"file_name": file_name, "mime_type": mime_type, **stored.ids()}
        return self._send({"document": document, **caption_content(caption)}, chat)

    def send_video(
        self, data: bytes, duration: int = 3, *, chat: SimChat | None = None
    ) -> dict[str, Any]:
        stored = self._world.files.store("video", data, "video/mp4")
        video = {"duration": duration, "width": 320, "height": 240, "mime_type": "video/mp4",
                 **stored.ids()}
        return self._send({"video": video}, chat)

    def send_location(
        self, latitude: float, longitude: float, *, chat: SimChat | None = None
    ) -> dict[str, Any]:
        return self._send({"location": {"latitude": latitude, "longitude": longitude}}, chat)

    def send_contact(
        self,
        phone_number: str = "+15550100",
        first_name: str | None = None,
        last_name: str | None = None,
        *,
        own: bool = True,
        chat: SimChat | None = None,
    ) -> dict[str, Any]:
        """Share a contact; by default one's own, as a ``request_contact`` button does."""
        contact: dict[str, Any] = {
            "phone_number": phone_number,
            "first_name": first_name or self.first_name,
        }
        if last_name or (own and self.last_name):
            contact["last_name"] = last_name or self.last_name
        if own:
            contact["user_id"] = self.id
        return self._send({"contact": contact}, chat)

    def edit(self, message: dict[str, Any] | int, text: str) -> dict[str, Any]:
        """Edit one's own text message; the bot gets an ``edited_message`` update."""
        message_id = message if isinstance(message, int) else int(message["message_id"])
        chat = self.chat
        if isinstance(message, dict):
            chat = self._world.chats[int(message["chat"]["id"])]
        stored = chat._messages.get(message_id)
        if stored is None or stored.deleted or stored.author_id != self.id:
            raise ValueError(f"{self!r} has no message {message_id} in chat {chat.id}")
        if "text" not in stored.content:
            raise ValueError(f"message {message_id} has no text to edit")
        kept = {k: v for k, v in stored.content.items() if k not in ("text", "entities")}
        stored.content = {**kept, **text_content(text)}
        stored.edit_date = int(time.time())
        data = self._world.message_json(stored)
        if self._world.bot_receives(chat, stored.content):
            self._world.updates.add("edited_message", data)
        return data

    def _send(self, content: dict[str, Any], chat: SimChat | None) -> dict[str, Any]:
        if chat is not None and chat.type == "channel":
            raise ValueError("people do not write in channels; use SimChat.post()")
        if chat is None:
            chat = self.chat
            # a client must "Restart" a blocked bot before writing to it
            self._world.set_blocked(self, False)
        return self._world.deliver(self, chat, content)

    # -- buttons --------------------------------------------------------------

    def press(self, message: SentMessage | int, button: str | int) -> str:
        """Press an inline button of a bot message as the message is now.

        ``message`` is a :class:`SentMessage` or a message id in the private
        chat; ``button`` its text or index. Raises ``ValueError`` when no such
        callback button is there (a client could not press it). Returns the id
        of the callback query.
        """
        if isinstance(message, SentMessage):
            chat = self._world.chats[message.chat_id]
            message_id = message.message_id
        else:
            chat, message_id = self.chat, message
        stored = chat._messages.get(message_id)
        if stored is None or stored.deleted:
            raise ValueError(f"there is no message {message_id} in chat {chat.id}")
        if stored.markup is None or stored.markup.kind != "inline_keyboard":
            raise ValueError(f"message {message_id} in chat {chat.id} has no inline keyboard")
        flat = [raw for row in stored.markup.rows for raw in row]
        chosen: dict[str, Any] | None = None
        if isinstance(button, int):
            chosen = flat[button] if 0 <= button < len(flat) else None
        else:
            chosen = next((raw for raw in flat if raw["text"] == button), None)
        if chosen is None:
            labels = ", ".join(repr(raw["text"]) for raw in flat)
            raise ValueError(
                f"message {message_id} in chat {chat.id} has no button {button!r}; "
                f"its buttons: {labels}"
            )
        if "callback_data" not in chosen:
            raise ValueError(f"button {chosen['text']!r} sends no callback query: {chosen}")
        return self.press_data(message_id, str(chosen["callback_data"]), chat=chat)

    def press_data(self, message_id: int, data: str, *, chat: SimChat | None = None) -> str:
        """A callback query with any data on any message id: a stale or forged press."""
        chat = chat or self.chat
        world = self._world
        message = chat._messages.get(message_id)
        if message is not None and not message.deleted:
            shown = world.message_json(message)
        else:  # an InaccessibleMessage
            shown = {"message_id": message_id, "chat": chat.as_chat(), "date": 0}
        query_id = str(world.rng.randrange(10**17, 2**63))
        world.open_queries.add(query_id)
        chat_instance = str((chat.id * 2654435761 + world.bot_id * 40503) % (1 << 63))
        world.updates.add(
            "callback_query",
            {
                "id": query_id,
                "from": self.as_user(),
                "message": shown,
                "chat_instance": chat_instance,
                "data": data,
            },
        )
        return query_id


def text_content(text: str) -> dict[str, Any]:
    """The fields of a text message as a client sends it, with the entities it detects."""
    content: dict[str, Any] = {"text": text}
    entities = find_entities(text)
    if entities:
        content["entities"] = entities
    return content


def caption_content(caption: str | None) -> dict[str, Any]:
    content: dict[str, Any] = {}
    if caption:
        content["caption"] = caption
        entities = find_entities(caption)
        if entities:
            content["caption_entities"] = entities
    return content
