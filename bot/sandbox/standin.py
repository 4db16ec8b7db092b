"""A local stand-in for the Telegram Bot API, served over real HTTP.

The model
---------
:class:`StandIn` plays Telegram: an aiohttp server on ``127.0.0.1`` that
answers ``{url}/bot{token}/{method}`` and ``{url}/file/bot{token}/{path}`` the
way ``api.telegram.org`` does. The bot under test talks to it with its normal
HTTP stack; the test (or the terminal sandbox, or a load generator) plays the
people:

* :meth:`StandIn.user` gives a :class:`SimUser`, a person with a Telegram
  client. Whatever they do (send text, media, a location; press an inline
  button; block the bot) becomes an *update* in a queue, with strictly
  increasing ``update_id``, that the bot fetches with ``getUpdates``. An update
  stays in the queue until the bot confirms it by asking for a higher offset,
  so a bot that crashes before confirming sees it again.
* :meth:`StandIn.group` gives a :class:`SimChat`: a group, supergroup or
  channel the bot is a member of. With ``privacy_mode`` (the default, as for
  a new bot) the bot gets only commands and replies to it from groups.
* Every chat has one ``message_id`` sequence shared by incoming and bot
  messages. The bot's messages are recorded as :class:`SentMessage` objects
  that follow edits and deletions; every HTTP call is recorded as a
  :class:`Call`.

What the stand-in checks is what Telegram checks, with Telegram's status codes
and descriptions: unknown chats, empty or too long texts, HTML markup errors,
keyboards, callback data over 64 bytes, edits that change nothing, stale
callback queries, blocked users, upgraded groups, concurrent ``getUpdates``.
Faults Telegram produces at random are produced on demand: :meth:`fail_next`,
:meth:`delay`, :meth:`limit_rate`, :meth:`block`, :meth:`migrate_group`.

Waiting never polls: :meth:`wait_until` and :meth:`next_message` wake up
whenever a call is recorded or the update queue changes.

Not simulated: webhook delivery (``setWebhook`` is recorded and blocks
``getUpdates``, as on Telegram, but nothing is posted), inline mode, payments,
and methods outside the list in ``StandIn._method_table``; MarkdownV2 and
Markdown texts are accepted as plain text.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import json
import logging
import math
import mimetypes
import random
import struct
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from .telegram_text import (
    EmptyTextError,
    EntityParseError,
    find_entities,
    finish_text,
    parse_html,
    read_entities,
    utf16_len,
)
from .wire import (
    ApiError,
    ApiRequest,
    ReplyMarkup,
    UploadedFile,
    bad_request,
    check_callback_data,
    decoded_params,
    default_error,
    forbidden,
    parse_reply_markup,
    read_request,
    to_integer,
    too_many_requests,
)

__all__ = ["Button", "Call", "SentMessage", "SimChat", "SimUser", "StandIn", "UploadedFile"]

logger = logging.getLogger(__name__)

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_ANSWER_LENGTH = 200
MAX_COMMANDS = 100
LONG_POLL_MAX_TIMEOUT = 50
MAX_DOWNLOAD_SIZE = 20 * 1024 * 1024
MAX_UPLOAD_SIZE = 50 * 1024 * 1024

ALL_UPDATE_TYPES = (
    "message", "edited_message", "channel_post", "edited_channel_post",
    "business_connection", "business_message", "edited_business_message",
    "deleted_business_messages", "message_reaction", "message_reaction_count",
    "inline_query", "chosen_inline_result", "callback_query", "shipping_query",
    "pre_checkout_query", "purchased_paid_media", "poll", "poll_answer",
    "my_chat_member", "chat_member", "chat_join_request", "chat_boost", "removed_chat_boost",
)  # fmt: skip
# What getUpdates delivers unless allowed_updates says otherwise.
DEFAULT_ALLOWED_UPDATES = frozenset(ALL_UPDATE_TYPES) - {
    "chat_member",
    "message_reaction",
    "message_reaction_count",
}

CHAT_ACTIONS = frozenset(
    {
        "cancel", "typing", "record_video", "upload_video", "record_audio", "record_voice",
        "upload_audio", "upload_voice", "upload_photo", "upload_document", "choose_sticker",
        "pick_up_location", "find_location", "record_video_note", "upload_video_note",
    }
)  # fmt: skip

CONFLICT_OTHER_POLL = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
CONFLICT_WEBHOOK = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
QUERY_INVALID = "query is too old and response timeout expired or query ID is invalid"

# The smallest valid PNG (1x1, transparent): the default picture of SimUser.send_photo.
TINY_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
# A few bytes shaped like an Ogg Opus voice note.
TINY_OGG = b"OggS\x00\x02" + bytes(20) + b"OpusHead\x01\x01"


@dataclass
class Call:
    """One HTTP call the bot made, with its answer.

    ``method`` is spelled as in the Bot API documentation even when the bot
    wrote it in another case; file downloads are recorded as ``"file"``.
    ``params`` are decoded: numbers, booleans and JSON objects as Python
    values, uploads as :class:`UploadedFile`. A call the client abandoned
    before its answer (such as a long poll cut short) is not recorded.
    """

    method: str
    params: dict[str, Any]
    status: int
    response: dict[str, Any]
    started: float
    finished: float
    rejected_by_limit: bool = False

    @property
    def ok(self) -> bool:
        return self.status == 200


@dataclass
class Button:
    """A keyboard button as a person sees it."""

    text: str
    callback_data: str | None = None
    url: str | None = None
    request_location: bool = False
    request_contact: bool = False


@dataclass
class SentMessage:
    """A message the bot sent, kept up to date with its edits and deletion.

    ``text`` is the plain text (the caption for media); ``html`` the raw text
    when it was sent with ``parse_mode=HTML``; ``reply_markup`` the markup as
    the bot sent it (inline or reply keyboard); ``document`` the bytes of an
    uploaded document or photo.
    """

    chat_id: int
    message_id: int
    text: str
    html: str | None
    reply_markup: dict[str, Any] | None
    kind: str
    edits: int = 0
    deleted: bool = False
    document: bytes | None = None
    filename: str | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    mime_type: str | None = None
    location: tuple[float, float] | None = None

    @property
    def buttons(self) -> list[list[Button]]:
        """Rows of the inline keyboard, or of the reply keyboard; ``[]`` if none."""
        markup = self.reply_markup or {}
        rows = markup.get("inline_keyboard") or markup.get("keyboard") or []
        return [[_button(raw) for raw in row] for row in rows if isinstance(row, list)]

    def button(self, label_or_index: str | int) -> Button:
        """A button by its exact text, or by its index counting row by row."""
        flat = [button for row in self.buttons for button in row]
        if isinstance(label_or_index, int):
            if 0 <= label_or_index < len(flat):
                return flat[label_or_index]
        else:
            for button in flat:
                if button.text == label_or_index:
                    return button
        labels = ", ".join(repr(b.text) for b in flat) or "none"
        raise ValueError(
            f"message {self.message_id} in chat {self.chat_id} has no button "
            f"{label_or_index!r}; its buttons: {labels}"
        )


def _button(raw: Any) -> Button:
    if isinstance(raw, str):
        return Button(text=raw)
    if not isinstance(raw, dict):
        return Button(text=str(raw))
    data = raw.get("callback_data")
    url = raw.get("url")
    return Button(
        text=str(raw.get("text", "")),
        callback_data=str(data) if data is not None else None,
        url=str(url) if url is not None else None,
        request_location=raw.get("request_location") is True,
        request_contact=raw.get("request_contact") is True,
    )


@dataclass
class _Message:
    """A message of any author in a chat, as the stand-in stores it."""

    chat: SimChat
    message_id: int
    author_id: int  # a user id, the bot id, or the chat id for channel posts
    date: int
    content: dict[str, Any]  # text/entities, caption, document, photo, ... fields
    markup: ReplyMarkup | None = None
    edit_date: int | None = None
    deleted: bool = False
    sent: SentMessage | None = None


@dataclass
class _StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    kind: str  # "document", "photo", "voice", "sticker"
    data: bytes
    file_name: str | None = None
    mime_type: str | None = None
    photo: list[dict[str, Any]] | None = None  # all sizes, for photos

    def as_file(self) -> dict[str, Any]:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
            "file_path": self.file_path,
        }

    def ids(self) -> dict[str, Any]:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
        }


@dataclass
class _Fault:
    method: str | None
    error: ApiError
    remaining: int


class _Window:
    """At most ``count`` events per ``seconds`` for each key (a sliding window)."""

    def __init__(self, count: int, seconds: float) -> None:
        self.count = count
        self.seconds = seconds
        self.events: dict[int, collections.deque[float]] = {}

    @classmethod
    def for_rate(cls, per_window: float, seconds: float) -> _Window:
        count = max(1, int(per_window))
        return cls(count, seconds * count / per_window)

    def wait_needed(self, key: int, now: float) -> float:
        events = self.events.get(key)
        if not events:
            return 0.0
        while events and events[0] <= now - self.seconds:
            events.popleft()
        if len(events) < self.count:
            return 0.0
        return events[0] + self.seconds - now

    def record(self, key: int, now: float) -> None:
        self.events.setdefault(key, collections.deque()).append(now)


class SimChat:
    """A chat: a person's private chat with the bot, a group, a supergroup or a channel."""

    def __init__(
        self,
        standin: StandIn,
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
        self._standin = standin
        self._messages: dict[int, _Message] = {}
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
        return self._standin._incoming(None, self, _text_content(text), kind="channel_post")


class SimUser:
    """A person using Telegram: what they do reaches the bot as updates."""

    def __init__(
        self,
        standin: StandIn,
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
        self._standin = standin
        self.chat = SimChat(standin, user_id, "private", user=self)

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
        content = _text_content(text)
        if reply_to is not None:
            target_chat = chat or self.chat
            target_id = reply_to.message_id if isinstance(reply_to, SentMessage) else reply_to
            target = target_chat._messages.get(target_id)
            if target is None or target.deleted:
                raise ValueError(f"there is no message {target_id} in chat {target_chat.id}")
            content["reply_to_message"] = self._standin._replied_json(target)
        return self._send(content, chat)

    def send_sticker(self, *, chat: SimChat | None = None) -> dict[str, Any]:
        stored = self._standin._store_file("sticker", b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp")
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
        photo = self._standin._store_photo(data, "photo.jpg")
        return self._send({"photo": photo, **_caption_content(caption)}, chat)

    def send_voice(
        self, data: bytes = TINY_OGG, duration: int = 3, *, chat: SimChat | None = None
    ) -> dict[str, Any]:
        stored = self._standin._store_file("voice", data, "audio/ogg")
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
        stored = self._standin._store_file("document", data, mime_type, file_name)
        document = {"file_name": file_name, "mime_type": mime_type, **stored.ids()}
        return self._send({"document": document, **_caption_content(caption)}, chat)

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
            chat = self._standin._chats[int(message["chat"]["id"])]
        return self._standin._edit_incoming(self, chat, message_id, text)

    def _send(self, content: dict[str, Any], chat: SimChat | None) -> dict[str, Any]:
        if chat is not None and chat.type == "channel":
            raise ValueError("people do not write in channels; use SimChat.post()")
        if chat is None:
            chat = self.chat
            if self.blocked_bot:  # a client must "Restart" a blocked bot before writing to it
                self._standin.unblock(self.id)
        return self._standin._incoming(self, chat, content)

    # -- buttons --------------------------------------------------------------

    def press(self, message: SentMessage | int, button: str | int) -> str:
        """Press an inline button of a bot message as the message is now.

        ``message`` is a :class:`SentMessage` or a message id in the private
        chat; ``button`` its text or index. Raises ``ValueError`` when no such
        callback button is there (a client could not press it). Returns the id
        of the callback query.
        """
        if isinstance(message, SentMessage):
            chat = self._standin._chats[message.chat_id]
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
        return self._standin._press(self, chat, message_id, str(chosen["callback_data"]))

    def press_data(self, message_id: int, data: str, *, chat: SimChat | None = None) -> str:
        """A callback query with any data on any message id: a stale or forged press."""
        return self._standin._press(self, chat or self.chat, message_id, data)


def _text_content(text: str) -> dict[str, Any]:
    content: dict[str, Any] = {"text": text}
    entities = find_entities(text)
    if entities:
        content["entities"] = entities
    return content


def _caption_content(caption: str | None) -> dict[str, Any]:
    if not caption:
        return {}
    content: dict[str, Any] = {"caption": caption}
    entities = find_entities(caption)
    if entities:
        content["caption_entities"] = entities
    return content


def _image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height of a PNG, GIF, JPEG or WebP image; ``None`` for anything else."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return int(width), int(height)
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return 512, 512
    if data.startswith(b"\xff\xd8"):
        pos = 2
        while pos + 9 < len(data):
            if data[pos] != 0xFF:
                return None
            marker = data[pos + 1]
            length = int.from_bytes(data[pos + 2 : pos + 4], "big")
            if marker in (0xC0, 0xC1, 0xC2):
                height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
                return int(width), int(height)
            pos += 2 + length
        return 800, 600
    return None


Handler = Callable[[ApiRequest], Awaitable[Any]]


class _Answer:
    """A successful result that also carries a description, as setWebhook's does."""

    def __init__(self, result: Any, description: str) -> None:
        self.result = result
        self.description = description


class StandIn:
    """A local Telegram Bot API server with simulated people; see the module docstring."""

    def __init__(
        self,
        token: str,
        *,
        bot_id: int = 7000000001,
        bot_username: str = "consultbot_sandbox_bot",
        bot_name: str = "Consultbot",
        privacy_mode: bool = True,
    ) -> None:
        self.token = token
        self.bot_id = bot_id
        self.bot_username = bot_username
        self.bot_name = bot_name
        self.privacy_mode = privacy_mode  # in groups, the bot sees only commands and replies

        self.calls: list[Call] = []
        self.callback_answers: dict[str, dict[str, Any]] = {}
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}

        self._rng = random.Random(token)
        self._users: dict[int, SimUser] = {}
        self._chats: dict[int, SimChat] = {}
        self._queue: collections.deque[dict[str, Any]] = collections.deque()
        self._next_update_id = self._rng.randrange(500_000_000, 900_000_000)
        self._allowed_updates = DEFAULT_ALLOWED_UPDATES
        self._poll_wake: asyncio.Future[str] | None = None
        self._webhook_url = ""
        self._open_queries: set[str] = set()
        self._sent: dict[int, list[SentMessage]] = {}
        self._cursors: dict[int, int] = {}
        self._waiters: set[asyncio.Event] = set()
        self._listeners: list[Callable[[Call], None]] = []
        self._faults: list[_Fault] = []
        self._delays: dict[str | None, float] = {}
        self._held = 0
        self._overall_limit: _Window | None = None
        self._chat_limit: _Window | None = None
        self._group_limit: _Window | None = None
        self._files: dict[str, _StoredFile] = {}
        self._files_by_path: dict[str, _StoredFile] = {}
        self._profile: dict[tuple[str, str], str] = {}
        self._menu_buttons: dict[int, dict[str, Any]] = {}
        self._runner: web.AppRunner | None = None
        self._url: str | None = None
        self._methods: dict[str, tuple[str, Handler]] = {
            name.lower(): (name, handler) for name, handler in self._method_table().items()
        }

    # ------------------------------------------------------------ lifecycle --

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Start serving; ``port=0`` picks a free port (see :attr:`url`)."""
        app = web.Application(client_max_size=MAX_UPLOAD_SIZE + 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_route("GET", "/file/bot{token}/{path:.+}", self._handle_file)
        app.router.add_route("*", "/{tail:.*}", self._handle_unknown)
        runner = web.AppRunner(
            app, access_log=None, handler_cancellation=True, shutdown_timeout=1.0
        )
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        self._runner = runner
        bound_host, bound_port = runner.addresses[0][:2]
        self._url = f"http://{bound_host}:{bound_port}"
        logger.info("Bot API stand-in listening on %s", self._url)

    async def stop(self) -> None:
        """Answer a pending long poll and stop serving."""
        self._end_poll("closing")
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> StandIn:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        """Root URL: calls go to ``{url}/bot{token}/{method}``."""
        if self._url is None:
            raise RuntimeError("the stand-in is not started")
        return self._url

    # ------------------------------------------------------- people, chats --

    def user(
        self,
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
        if user_id not in self._users:
            person = SimUser(self, user_id, first_name, last_name, username, language_code)
            self._users[user_id] = person
            self._chats[user_id] = person.chat
        return self._users[user_id]

    def group(
        self, chat_id: int, title: str, *, type: str = "supergroup", username: str | None = None
    ) -> SimChat:
        """A group, supergroup or channel with the bot in it (the same object for the same id)."""
        if type not in ("group", "supergroup", "channel"):
            raise ValueError(f"unknown chat type {type!r}")
        if chat_id >= 0:
            raise ValueError("group and channel ids are negative")
        if chat_id not in self._chats:
            self._chats[chat_id] = SimChat(self, chat_id, type, title, username=username)
        return self._chats[chat_id]

    def remove_bot(self, chat_id: int, *, kicked: bool = False) -> None:
        """The bot left (or was kicked from) a group or channel."""
        self._chats[chat_id].bot_status = "kicked" if kicked else "left"

    # ------------------------------------------------------ what the bot did --

    def messages(self, chat_id: int) -> list[SentMessage]:
        """The bot's messages in a chat as they are now (deleted ones left out)."""
        return [sent for sent in self._sent.get(chat_id, []) if not sent.deleted]

    async def next_message(self, chat_id: int, timeout: float = 10.0) -> SentMessage:
        """The next message the bot sends to ``chat_id`` after the one returned last time."""

        def arrived() -> bool:
            return len(self._sent.get(chat_id, [])) > self._cursors.get(chat_id, 0)

        try:
            await self.wait_until(arrived, timeout)
        except TimeoutError:
            raise TimeoutError(self._describe_chat(chat_id, timeout)) from None
        cursor = self._cursors.get(chat_id, 0)
        self._cursors[chat_id] = cursor + 1
        return self._sent[chat_id][cursor]

    async def wait_until(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        """Return once ``predicate()`` is true; raise ``TimeoutError`` after ``timeout`` s.

        The predicate is evaluated again whenever a call is recorded or the
        update queue changes.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"condition not met within {timeout} s; {self._recent_calls()}")
            event = asyncio.Event()
            self._waiters.add(event)
            try:
                await asyncio.wait_for(event.wait(), remaining)
            except TimeoutError:
                if predicate():
                    return
                raise TimeoutError(
                    f"condition not met within {timeout} s; {self._recent_calls()}"
                ) from None
            finally:
                self._waiters.discard(event)

    def add_listener(self, listener: Callable[[Call], None]) -> None:
        """Call ``listener(call)`` after every recorded call."""
        self._listeners.append(listener)

    def remove_listener(self, listener: Callable[[Call], None]) -> None:
        self._listeners.remove(listener)

    @property
    def held(self) -> int:
        """Requests being held back by :meth:`delay` right now (received, not answered)."""
        return self._held

    @property
    def pending_updates(self) -> int:
        """Updates the bot has not confirmed yet."""
        return len(self._queue)

    @property
    def long_polling(self) -> bool:
        """Whether a getUpdates call is waiting for an update right now."""
        return self._poll_wake is not None

    # ---------------------------------------------------------------- faults --

    def introduce(self, user_id: int, **profile: Any) -> SimUser:
        """The person talked to the bot some time ago: the bot may write to them now,
        although no update about them is queued (people created straight in a database)."""
        person = self.user(user_id, **profile)
        person.chat._known_to_bot = True
        return person

    def block(self, user_id: int) -> None:
        """The person blocks the bot: sending to them fails with 403 from now on."""
        person = self._users[user_id]
        if not person.blocked_bot:
            person.blocked_bot = True
            self._my_chat_member(person, "member", "kicked")

    def unblock(self, user_id: int) -> None:
        person = self._users[user_id]
        if person.blocked_bot:
            person.blocked_bot = False
            self._my_chat_member(person, "kicked", "member")

    def deactivate(self, user_id: int) -> None:
        """The person deleted their account: sending to them fails with 403."""
        self._users[user_id].deactivated = True

    def fail_next(
        self,
        method: str | None,
        *,
        status: int,
        description: str | None = None,
        retry_after: int | None = None,
        count: int = 1,
    ) -> None:
        """Make the next ``count`` calls of ``method`` fail with ``status``.

        ``method=None`` means any method except getUpdates. Without a
        description, Telegram's wording for the status is used ("Too Many
        Requests: retry after N" with ``parameters.retry_after`` for 429).
        """
        error = default_error(status, retry_after)
        if description is not None:
            error = ApiError(status, description, error.parameters)
        self._faults.append(_Fault(method.lower() if method else None, error, count))

    def delay(self, method: str | None, seconds: float) -> None:
        """Answer ``method`` (``None``: all but getUpdates) ``seconds`` late; 0 removes."""
        key = method.lower() if method else None
        if seconds > 0:
            self._delays[key] = seconds
        else:
            self._delays.pop(key, None)

    def limit_rate(
        self,
        *,
        overall_per_second: float | None = None,
        per_chat_per_second: float | None = None,
        per_group_per_minute: float | None = None,
    ) -> None:
        """Enforce Telegram's sending limits (all off when called without arguments).

        They apply to send*, edit*, copy* and forward* methods; a call over a
        limit gets 429 with the whole seconds until the limit allows it.
        """
        self._overall_limit = (
            _Window.for_rate(overall_per_second, 1.0) if overall_per_second else None
        )
        self._chat_limit = (
            _Window.for_rate(per_chat_per_second, 1.0) if per_chat_per_second else None
        )
        self._group_limit = (
            _Window.for_rate(per_group_per_minute, 60.0) if per_group_per_minute else None
        )

    def migrate_group(self, old_chat_id: int, new_chat_id: int) -> SimChat:
        """Upgrade a group to a supergroup with a new id; returns the supergroup."""
        old = self._chats[old_chat_id]
        if old.type != "group":
            raise ValueError(f"chat {old_chat_id} is a {old.type}, not a group")
        new = self.group(new_chat_id, old.title, type="supergroup")
        old.migrated_to = new_chat_id
        admin = self.user(777000, first_name="Telegram", language_code=None)
        self._incoming(admin, old, {"migrate_to_chat_id": new_chat_id})
        self._incoming(admin, new, {"migrate_from_chat_id": old_chat_id})
        return new

    # -------------------------------------------------------------- HTTP ---

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        started = time.monotonic()
        name = request.match_info["method"]
        canonical, handler = self._methods.get(name.lower(), (name, None))
        params: dict[str, Any] = {}
        rejected = False
        description: str | None = None
        try:
            api_request = await read_request(request)
            params = decoded_params(api_request)
            if request.match_info["token"] != self.token:
                raise ApiError(401, "Unauthorized")
            if handler is None:
                raise ApiError(404, "Not Found")
            fault = self._take_fault(canonical)
            if fault is not None:
                raise fault
            seconds = self._delays.get(canonical.lower(), 0.0)
            if not seconds and canonical != "getUpdates":
                seconds = self._delays.get(None, 0.0)
            if seconds:
                self._held += 1
                self._changed()
                try:
                    await asyncio.sleep(seconds)
                finally:
                    self._held -= 1
            limited = self._rate_limited(canonical, api_request)
            if limited is not None:
                rejected = True
                raise too_many_requests(limited)
            result = await handler(api_request)
            if isinstance(result, _Answer):
                result, description = result.result, result.description
            payload: dict[str, Any] = {"ok": True, "result": result}
            if description:
                payload["description"] = description
            status = 200
        except ApiError as error:
            status, payload = error.status, error.payload()
        except web.HTTPRequestEntityTooLarge:
            status, payload = 413, ApiError(413, "Request Entity Too Large").payload()
        except Exception:
            logger.exception("stand-in failed on %s", canonical)
            status, payload = 500, ApiError(500, "Internal Server Error").payload()
        self._record(Call(canonical, params, status, payload, started, time.monotonic(), rejected))
        headers = {}
        if status == 429:
            headers["Retry-After"] = str(payload.get("parameters", {}).get("retry_after", 1))
        return web.Response(
            text=json.dumps(payload, ensure_ascii=False),
            status=status,
            content_type="application/json",
            headers=headers,
        )

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        """A file download; recorded as a Call with method ``"file"``."""
        started = time.monotonic()
        path = request.match_info["path"]
        params = {"file_path": path}
        stored = self._files_by_path.get(path)
        if request.match_info["token"] != self.token:
            error = ApiError(401, "Unauthorized")
        elif stored is None:
            error = ApiError(404, "Not Found")
        else:
            answer = {"ok": True, "file_size": len(stored.data)}
            self._record(Call("file", params, 200, answer, started, time.monotonic()))
            content_type = stored.mime_type or "application/octet-stream"
            return web.Response(body=stored.data, content_type=content_type)
        self._record(Call("file", params, error.status, error.payload(), started, time.monotonic()))
        return web.json_response(error.payload(), status=error.status)

    async def _handle_unknown(self, request: web.Request) -> web.StreamResponse:
        started = time.monotonic()
        payload = ApiError(404, "Not Found").payload()
        self._record(Call(request.path, {}, 404, payload, started, time.monotonic()))
        return web.json_response(payload, status=404)

    def _record(self, call: Call) -> None:
        self.calls.append(call)
        for listener in self._listeners:
            try:
                listener(call)
            except Exception:
                logger.exception("stand-in listener failed on %s", call.method)
        self._changed()

    def _changed(self) -> None:
        """Wake everything waiting in wait_until()."""
        for event in self._waiters:
            event.set()
        self._waiters.clear()

    def _take_fault(self, method: str) -> ApiError | None:
        for fault in self._faults:
            matches = fault.method == method.lower() or (
                fault.method is None and method != "getUpdates"
            )
            if matches:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                return fault.error
        return None

    @staticmethod
    def _is_limited_method(method: str) -> bool:
        lowered = method.lower()
        return lowered != "sendchataction" and lowered.startswith(
            ("send", "edit", "copy", "forward")
        )

    def _limit_windows(self, request: ApiRequest) -> list[tuple[_Window, int]]:
        chat_id = to_integer(request.arg("chat_id"))
        windows: list[tuple[_Window, int]] = []
        if self._overall_limit is not None:
            windows.append((self._overall_limit, 0))
        if self._chat_limit is not None and chat_id:
            windows.append((self._chat_limit, chat_id))
        if self._group_limit is not None and chat_id < 0:
            windows.append((self._group_limit, chat_id))
        return windows

    def _rate_limited(self, method: str, request: ApiRequest) -> int | None:
        """Seconds to wait if this call goes over a sending limit, else ``None``.

        A call within the limits is counted at once, at the moment it was checked
        (before its handler runs), so that calls arriving together cannot all
        pass the check before any of them is counted.
        """
        if not self._is_limited_method(method):
            return None
        now = time.monotonic()
        windows = self._limit_windows(request)
        wait = max((w.wait_needed(key, now) for w, key in windows), default=0.0)
        if wait > 0:
            return max(1, math.ceil(wait))
        for window, key in windows:
            window.record(key, now)
        return None

    # --------------------------------------------------------------- updates --

    def _enqueue(self, kind: str, payload: dict[str, Any]) -> None:
        if kind not in self._allowed_updates:
            return
        self._queue.append({"update_id": self._next_update_id, kind: payload})
        self._next_update_id += 1
        self._end_poll("update")
        self._changed()

    def _end_poll(self, reason: str) -> None:
        wake, self._poll_wake = self._poll_wake, None
        if wake is not None and not wake.done():
            wake.set_result(reason)

    def _confirm(self, offset: int) -> None:
        """Forget updates as getUpdates' ``offset`` says."""
        before = len(self._queue)
        if offset < 0:
            while len(self._queue) > -offset:
                self._queue.popleft()
        elif 0 < offset <= self._next_update_id + 10:  # further ahead is ignored, as by Telegram
            while self._queue and self._queue[0]["update_id"] < offset:
                self._queue.popleft()
        if len(self._queue) != before:
            self._changed()

    def _set_allowed_updates(self, raw: str) -> None:
        if not raw:
            return
        try:
            value = json.loads(raw)
        except ValueError:
            return
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return
        chosen = frozenset(v.lower() for v in value) & frozenset(ALL_UPDATE_TYPES)
        self._allowed_updates = chosen or DEFAULT_ALLOWED_UPDATES

    def _incoming(
        self,
        person: SimUser | None,
        chat: SimChat,
        content: dict[str, Any],
        *,
        kind: str = "message",
    ) -> dict[str, Any]:
        """A message from a person (or a channel post) arrives in ``chat``."""
        chat._known_to_bot = True
        author = person.id if person is not None else chat.id
        message = self._store_message(chat, author, content)
        data = self._message_json(message)
        if self._bot_receives(chat, content):
            self._enqueue(kind, data)
        return data

    def _bot_receives(self, chat: SimChat, content: dict[str, Any]) -> bool:
        """Whether the bot gets a group message, given its privacy mode."""
        if chat.type not in ("group", "supergroup") or not self.privacy_mode:
            return chat.bot_status in ("member", "administrator")
        if chat.bot_status not in ("member", "administrator"):
            return False
        if "text" not in content:
            return "migrate_to_chat_id" in content or "migrate_from_chat_id" in content
        first = next(iter(content.get("entities", [])), None)
        if first is not None and first["type"] == "bot_command" and first["offset"] == 0:
            command = content["text"][: first["length"]]
            return "@" not in command or command.lower().endswith("@" + self.bot_username.lower())
        replied = content.get("reply_to_message")
        return isinstance(replied, dict) and replied.get("from", {}).get("id") == self.bot_id

    def _edit_incoming(
        self, person: SimUser, chat: SimChat, message_id: int, text: str
    ) -> dict[str, Any]:
        message = chat._messages.get(message_id)
        if message is None or message.deleted or message.author_id != person.id:
            raise ValueError(f"{person!r} has no message {message_id} in chat {chat.id}")
        if "text" not in message.content:
            raise ValueError(f"message {message_id} has no text to edit")
        kept = {k: v for k, v in message.content.items() if k not in ("text", "entities")}
        message.content = {**kept, **_text_content(text)}
        message.edit_date = int(time.time())
        data = self._message_json(message)
        if self._bot_receives(chat, message.content):
            self._enqueue("edited_message", data)
        return data

    def _press(self, person: SimUser, chat: SimChat, message_id: int, data: str) -> str:
        message = chat._messages.get(message_id)
        if message is not None and not message.deleted:
            shown = self._message_json(message)
        else:  # an InaccessibleMessage
            shown = {"message_id": message_id, "chat": chat.as_chat(), "date": 0}
        query_id = str(self._rng.randrange(10**17, 2**63))
        self._open_queries.add(query_id)
        chat_instance = str((chat.id * 2654435761 + self.bot_id * 40503) % (1 << 63))
        self._enqueue(
            "callback_query",
            {
                "id": query_id,
                "from": person.as_user(),
                "message": shown,
                "chat_instance": chat_instance,
                "data": data,
            },
        )
        return query_id

    def _my_chat_member(self, person: SimUser, old: str, new: str) -> None:
        member_new: dict[str, Any] = {"user": self._bot_user(), "status": new}
        if new == "kicked":
            member_new["until_date"] = 0
        member_old: dict[str, Any] = {"user": self._bot_user(), "status": old}
        if old == "kicked":
            member_old["until_date"] = 0
        self._enqueue(
            "my_chat_member",
            {
                "chat": person.chat.as_chat(),
                "from": person.as_user(),
                "date": int(time.time()),
                "old_chat_member": member_old,
                "new_chat_member": member_new,
            },
        )

    # -------------------------------------------------------------- storage --

    def _store_message(
        self,
        chat: SimChat,
        author_id: int,
        content: dict[str, Any],
        markup: ReplyMarkup | None = None,
    ) -> _Message:
        chat._last_message_id += 1
        message = _Message(
            chat=chat,
            message_id=chat._last_message_id,
            author_id=author_id,
            date=int(time.time()),
            content=content,
            markup=markup,
        )
        chat._messages[message.message_id] = message
        return message

    def _message_json(self, message: _Message) -> dict[str, Any]:
        """The Message object as Telegram shows it now."""
        data: dict[str, Any] = {"message_id": message.message_id}
        chat = message.chat
        if message.author_id == chat.id and chat.type == "channel":
            data["sender_chat"] = chat.as_chat()
        elif message.author_id == self.bot_id:
            if chat.type == "channel":
                data["sender_chat"] = chat.as_chat()
            else:
                data["from"] = self._bot_user()
        else:
            data["from"] = self._users[message.author_id].as_user()
        data["chat"] = chat.as_chat()
        data["date"] = message.date
        if message.edit_date is not None:
            data["edit_date"] = message.edit_date
        data.update(message.content)
        field_ = message.markup.as_message_field() if message.markup else None
        if field_ is not None:
            data["reply_markup"] = field_
        return data

    def _replied_json(self, message: _Message) -> dict[str, Any]:
        """A message shown inside a reply: without a reply_to_message of its own."""
        data = self._message_json(message)
        data.pop("reply_to_message", None)
        return data

    def _bot_user(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_name,
            "username": self.bot_username,
        }

    def _new_file_ids(self, kind: str) -> tuple[str, str]:
        prefix = {
            "document": "BQACAgIAAxkBAA",
            "photo": "AgACAgIAAxkBAA",
            "voice": "AwACAgIAAxkBAA",
        }
        raw = self._rng.getrandbits(8 * 45).to_bytes(45, "big")
        file_id = prefix.get(kind, "CAACAgIAAxkBAA") + base64.urlsafe_b64encode(raw).decode()
        unique = (
            "AQAD" + base64.urlsafe_b64encode(self._rng.getrandbits(72).to_bytes(9, "big")).decode()
        )
        return file_id, unique

    def _store_file(
        self, kind: str, data: bytes, mime_type: str | None, file_name: str | None = None
    ) -> _StoredFile:
        file_id, unique = self._new_file_ids(kind)
        number = len(self._files) + 1
        if kind == "document":
            suffix = (file_name or "").rpartition(".")[2] if "." in (file_name or "") else ""
            path = f"documents/file_{number}" + (f".{suffix}" if suffix else "")
        else:
            folder, ext = {"photo": ("photos", "jpg"), "voice": ("voice", "oga")}.get(
                kind, ("stickers", "webp")
            )
            path = f"{folder}/file_{number}.{ext}"
        stored = _StoredFile(file_id, unique, path, kind, data, file_name, mime_type)
        self._files[file_id] = stored
        self._files_by_path[path] = stored
        return stored

    def _store_photo(self, data: bytes, file_name: str) -> list[dict[str, Any]]:
        """Store an image as Telegram does: several sizes, each with its own file id."""
        width, height = _image_size(data) or (800, 600)
        scale = min(1.0, 1280 / max(width, height, 1))
        width, height = max(1, round(width * scale)), max(1, round(height * scale))
        sides = [side for side in (90, 320, 800) if side < max(width, height)] + [
            max(width, height)
        ]
        sizes: list[dict[str, Any]] = []
        records: list[_StoredFile] = []
        for side in sides:
            ratio = side / max(width, height)
            stored = self._store_file("photo", data, "image/jpeg", file_name)
            records.append(stored)
            sizes.append(
                {
                    **stored.ids(),
                    "width": max(1, round(width * ratio)),
                    "height": max(1, round(height * ratio)),
                }
            )
        for stored in records:
            stored.photo = sizes
        return sizes

    # -------------------------------------------------------- method helpers --

    def _chat_for(self, request: ApiRequest, *, access: str = "write") -> SimChat:
        """The chat named by ``chat_id``, checked the way the Bot API checks it."""
        raw = request.arg("chat_id")
        if raw == "":
            raise bad_request("chat_id is empty")
        chat: SimChat | None
        if raw.startswith("@"):
            name = raw[1:].lower()
            chat = next(
                (
                    c
                    for c in self._chats.values()
                    if c.username and c.username.lower() == name and c.user is None
                ),
                None,
            )
        else:
            chat = self._chats.get(to_integer(raw))
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

    @staticmethod
    def _check_can_send(chat: SimChat) -> None:
        if chat.user is not None and chat.user.blocked_bot:
            raise forbidden("bot was blocked by the user")

    def _user_for_mention(self, user_id: int) -> dict[str, Any] | None:
        person = self._users.get(user_id)
        return person.as_user() if person is not None else None

    def _parse_text(
        self, text: str, request: ApiRequest, entities_param: str
    ) -> tuple[str, list[dict[str, Any]]]:
        """Parse markup (``parse_mode``) or read explicit entities."""
        if len(text.encode("utf-8", "surrogatepass")) > 1 << 15:
            raise bad_request("text is too long")
        mode = request.arg("parse_mode").lower()
        if text and mode and mode != "none":
            if mode == "html":
                try:
                    return parse_html(text, self._user_for_mention)
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

    @staticmethod
    def _finish(
        text: str, entities: list[dict[str, Any]], *, caption: bool
    ) -> tuple[str, list[dict[str, Any]]]:
        try:
            text, entities = finish_text(text, entities, allow_empty=caption)
        except EmptyTextError:
            raise bad_request("message must be non-empty") from None
        if utf16_len(text) > (MAX_CAPTION_LENGTH if caption else MAX_TEXT_LENGTH):
            raise bad_request("message caption is too long" if caption else "message is too long")
        return text, entities

    @staticmethod
    def _link_preview(request: ApiRequest) -> dict[str, Any] | None:
        value = request.json("link_preview_options", "can't parse link preview options JSON object")
        if value is None:
            return {"is_disabled": True} if request.boolean("disable_web_page_preview") else None
        if not isinstance(value, dict):
            raise bad_request("object expected as link preview options")
        return value or None

    def _reply_to(self, request: ApiRequest, chat: SimChat) -> dict[str, Any] | None:
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
        return self._replied_json(target)

    def _input_file(self, request: ApiRequest, name: str) -> UploadedFile | _StoredFile | None:
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
        stored = self._files.get(raw)
        if stored is None:
            raise bad_request("wrong file identifier/HTTP URL specified")
        if (stored.kind == "photo") != (name == "photo"):
            raise bad_request("type of file mismatch")
        return stored

    def _send_bot_message(
        self,
        chat: SimChat,
        kind: str,
        content: dict[str, Any],
        markup: ReplyMarkup | None,
        reply_to: dict[str, Any] | None,
        *,
        text: str,
        html: str | None,
        entities: list[dict[str, Any]],
        upload: _StoredFile | None = None,
        location: tuple[float, float] | None = None,
    ) -> dict[str, Any]:
        if reply_to is not None:
            content["reply_to_message"] = reply_to
        message = self._store_message(chat, self.bot_id, content, markup)
        message.sent = SentMessage(
            chat_id=chat.id,
            message_id=message.message_id,
            text=text,
            html=html,
            reply_markup=markup.sent if markup else None,
            kind=kind,
            document=upload.data if upload else None,
            filename=upload.file_name if upload else None,
            entities=entities,
            mime_type=upload.mime_type if upload else None,
            location=location,
        )
        self._sent.setdefault(chat.id, []).append(message.sent)
        return self._message_json(message)

    def _edit_target(self, request: ApiRequest) -> _Message:
        chat_id = request.arg("chat_id")
        message_id = max(0, request.integer("message_id"))
        if not chat_id and message_id == 0:
            if not request.arg("inline_message_id"):
                raise bad_request("message identifier is not specified")
            raise bad_request("MESSAGE_ID_INVALID")
        chat = self._chat_for(request, access="edit")
        message = chat._messages.get(message_id)
        if message is None or message.deleted:
            raise bad_request("message to edit not found")
        if message.author_id != self.bot_id:
            raise bad_request("message can't be edited")
        return message

    @staticmethod
    def _inline_only(markup: ReplyMarkup | None) -> ReplyMarkup | None:
        if markup is not None and markup.kind != "inline_keyboard":
            raise bad_request("inline keyboard expected")
        return markup

    @staticmethod
    def _same_keyboard(old: ReplyMarkup | None, new: ReplyMarkup | None) -> bool:
        return (old.as_message_field() if old else None) == (
            new.as_message_field() if new else None
        )

    def _apply_edit(
        self, message: _Message, content: dict[str, Any], markup: ReplyMarkup | None
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
        self._changed()
        return self._message_json(message)

    @staticmethod
    def _command_scope(request: ApiRequest) -> dict[str, Any]:
        value = request.json("scope", "can't parse BotCommandScope JSON object")
        if value is None:
            return {"type": "default"}
        if not isinstance(value, dict):
            raise bad_request("can't parse BotCommandScope: BotCommandScope must be an Object")
        scope_type = value.get("type")
        if not isinstance(scope_type, str):
            raise bad_request("can't parse BotCommandScope: Can't find field \"type\"")
        if scope_type in (
            "default",
            "all_private_chats",
            "all_group_chats",
            "all_chat_administrators",
        ):
            return {"type": scope_type}
        if scope_type not in ("chat", "chat_administrators", "chat_member"):
            raise bad_request("can't parse BotCommandScope: Unsupported type specified")
        if "chat_id" not in value:
            raise bad_request("can't parse BotCommandScope: Can't find field \"chat_id\"")
        if value["chat_id"] in ("", None):
            raise bad_request("can't parse BotCommandScope: Empty chat_id specified")
        scope = {"type": scope_type, "chat_id": value["chat_id"]}
        if scope_type == "chat_member":
            user_id = value.get("user_id")
            if not isinstance(user_id, int) or user_id <= 0:
                raise bad_request("can't parse BotCommandScope: Invalid user_id specified")
            scope["user_id"] = user_id
        return scope

    def _commands_key(self, request: ApiRequest) -> tuple[str, str]:
        scope = self._command_scope(request)
        if "chat_id" in scope:
            chat = self._chat_for(
                ApiRequest(args={"chat_id": str(scope["chat_id"])}), access="read"
            )
            if scope["type"] == "chat_administrators" and chat.type == "private":
                raise bad_request("can't use specified scope in private chats")
        language = request.arg("language_code")
        if language and not (len(language) == 2 and language.isascii() and language.isalpha()):
            raise bad_request("invalid language code specified")
        kind = str(scope["type"])
        if "chat_id" in scope:
            kind += f":{scope['chat_id']}"
        if "user_id" in scope:
            kind += f":{scope['user_id']}"
        return kind, language.lower()

    def _describe_chat(self, chat_id: int, timeout: float) -> str:
        lines = [f"the bot sent no new message to chat {chat_id} within {timeout} s."]
        sent = self._sent.get(chat_id, [])
        returned = self._cursors.get(chat_id, 0)
        if sent:
            lines.append("Messages the bot sent there:")
            for index, message in enumerate(sent):
                marks = [
                    m
                    for m, on in (("returned", index < returned), ("deleted", message.deleted))
                    if on
                ]
                suffix = f" [{', '.join(marks)}]" if marks else ""
                lines.append(
                    f"  #{message.message_id} {message.kind}: {message.text[:80]!r}{suffix}"
                )
        else:
            lines.append("The bot never sent a message there.")
        failed = [
            c for c in self.calls
            if c.status != 200 and str(c.params.get("chat_id")) == str(chat_id)
        ][-5:]  # fmt: skip
        for call in failed:
            lines.append(
                f"  failed {call.method}: {call.status} {call.response.get('description')}"
            )
        return "\n".join(lines)

    def _recent_calls(self) -> str:
        recent = [f"{c.method} {c.status}" for c in self.calls[-8:] if c.method != "getUpdates"]
        return "recent calls: " + (", ".join(recent) if recent else "none")

    # -------------------------------------------------------------- methods --

    def _method_table(self) -> dict[str, Handler]:
        return {
            "getMe": self._get_me,
            "logOut": self._true,
            "close": self._true,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "sendMessage": self._send_message,
            "sendDocument": self._send_document,
            "sendPhoto": self._send_photo,
            "sendLocation": self._send_location,
            "sendChatAction": self._send_chat_action,
            "editMessageText": self._edit_message_text,
            "editMessageCaption": self._edit_message_caption,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "getFile": self._get_file,
            "getChat": self._get_chat,
            "setMyName": self._set_profile("name"),
            "getMyName": self._get_profile("name"),
            "setMyDescription": self._set_profile("description"),
            "getMyDescription": self._get_profile("description"),
            "setMyShortDescription": self._set_profile("short_description"),
            "getMyShortDescription": self._get_profile("short_description"),
            "setChatMenuButton": self._set_chat_menu_button,
            "getChatMenuButton": self._get_chat_menu_button,
        }

    async def _true(self, request: ApiRequest) -> bool:
        return True

    async def _get_me(self, request: ApiRequest) -> dict[str, Any]:
        return {
            **self._bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": not self.privacy_mode,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(self, request: ApiRequest) -> list[dict[str, Any]]:
        if self._webhook_url:
            raise ApiError(409, CONFLICT_WEBHOOK)
        offset = request.integer("offset")
        limit = request.integer("limit", 100, 1, 100)
        timeout = request.integer("timeout", 0, 0, LONG_POLL_MAX_TIMEOUT)
        self._set_allowed_updates(request.arg("allowed_updates"))
        self._end_poll("conflict")
        self._confirm(offset)
        if not self._queue and timeout > 0:
            wake: asyncio.Future[str] = asyncio.get_running_loop().create_future()
            self._poll_wake = wake
            self._changed()
            try:
                await asyncio.wait({wake}, timeout=timeout)
            finally:
                if self._poll_wake is wake:
                    self._poll_wake = None
                if not wake.done():
                    wake.cancel()
            reason = wake.result() if not wake.cancelled() else "timeout"
            if reason == "conflict":
                raise ApiError(409, CONFLICT_OTHER_POLL)
            if reason == "webhook":
                raise ApiError(409, "Conflict: terminated by setWebhook request")
        return [self._queue[i] for i in range(min(limit, len(self._queue)))]

    async def _set_webhook(self, request: ApiRequest) -> _Answer:
        url = request.arg("url")
        if not url:
            return await self._delete_webhook(request)
        if not url.lower().startswith("https://"):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        if request.boolean("drop_pending_updates"):
            self._queue.clear()
        if url == self._webhook_url:
            return _Answer(True, "Webhook is already set")
        self._webhook_url = url
        self._end_poll("webhook")
        return _Answer(True, "Webhook was set")

    async def _delete_webhook(self, request: ApiRequest) -> _Answer:
        if request.boolean("drop_pending_updates") and self._queue:
            self._queue.clear()
            self._changed()
        if not self._webhook_url:
            return _Answer(True, "Webhook is already deleted")
        self._webhook_url = ""
        return _Answer(True, "Webhook was deleted")

    async def _get_webhook_info(self, request: ApiRequest) -> dict[str, Any]:
        info: dict[str, Any] = {
            "url": self._webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._queue),
        }
        if self._webhook_url:
            info["max_connections"] = 40
        return info

    async def _send_message(self, request: ApiRequest) -> dict[str, Any]:
        source = request.arg("text")
        if not source:
            raise bad_request("message text is empty")
        link_preview = self._link_preview(request)
        text, entities = self._parse_text(source, request, "entities")
        markup = parse_reply_markup(request)
        chat = self._chat_for(request)
        reply_to = self._reply_to(request, chat)
        self._check_can_send(chat)
        text, entities = self._finish(text, entities, caption=False)
        check_callback_data(markup)
        content: dict[str, Any] = {"text": text}
        if entities:
            content["entities"] = entities
        if link_preview:
            content["link_preview_options"] = link_preview
        html = source if request.arg("parse_mode").lower() == "html" else None
        return self._send_bot_message(
            chat, "text", content, markup, reply_to, text=text, html=html, entities=entities
        )

    async def _send_document(self, request: ApiRequest) -> dict[str, Any]:
        return self._send_media(request, "document")

    async def _send_photo(self, request: ApiRequest) -> dict[str, Any]:
        return self._send_media(request, "photo")

    def _send_media(self, request: ApiRequest, kind: str) -> dict[str, Any]:
        given = self._input_file(request, kind)
        if given is None:
            raise bad_request(f"there is no {kind} in the request")
        source = request.arg("caption")
        caption, entities = self._parse_text(source, request, "caption_entities")
        markup = parse_reply_markup(request)
        chat = self._chat_for(request)
        reply_to = self._reply_to(request, chat)
        self._check_can_send(chat)
        caption, entities = self._finish(caption, entities, caption=True)
        check_callback_data(markup)
        if isinstance(given, UploadedFile):
            if not given.data:
                raise bad_request("file must be non-empty")
            if kind == "photo":
                if _image_size(given.data) is None:
                    raise bad_request("IMAGE_PROCESS_FAILED")
                sizes = self._store_photo(given.data, given.filename)
                stored = self._files[sizes[-1]["file_id"]]
            else:
                mime = given.content_type
                if not mime or mime == "application/octet-stream":
                    mime = mimetypes.guess_type(given.filename)[0] or "application/octet-stream"
                stored = self._store_file("document", given.data, mime, given.filename)
        else:
            stored = given
        content: dict[str, Any] = {}
        if kind == "photo":
            content["photo"] = stored.photo or []
        else:
            document: dict[str, Any] = {}
            if stored.file_name:
                document["file_name"] = stored.file_name
            if stored.mime_type:
                document["mime_type"] = stored.mime_type
            content["document"] = {**document, **stored.ids()}
        if caption:
            content["caption"] = caption
            if entities:
                content["caption_entities"] = entities
        html = source if request.arg("parse_mode").lower() == "html" and source else None
        return self._send_bot_message(
            chat, kind, content, markup, reply_to,
            text=caption, html=html, entities=entities, upload=stored,
        )  # fmt: skip

    async def _send_location(self, request: ApiRequest) -> dict[str, Any]:
        latitude, longitude = request.arg("latitude").strip(), request.arg("longitude").strip()
        if not latitude:
            raise bad_request("latitude is empty")
        if not longitude:
            raise bad_request("longitude is empty")
        try:
            point = (float(latitude), float(longitude))
        except ValueError:
            point = (0.0, 0.0)
        markup = parse_reply_markup(request)
        chat = self._chat_for(request)
        reply_to = self._reply_to(request, chat)
        self._check_can_send(chat)
        if not (-90 <= point[0] <= 90 and -180 <= point[1] <= 180):
            raise bad_request("wrong location")
        check_callback_data(markup)
        content = {"location": {"latitude": point[0], "longitude": point[1]}}
        return self._send_bot_message(
            chat, "location", content, markup, reply_to,
            text="", html=None, entities=[], location=point,
        )  # fmt: skip

    async def _send_chat_action(self, request: ApiRequest) -> bool:
        if request.arg("action") not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        chat = self._chat_for(request)
        self._check_can_send(chat)
        return True

    async def _edit_message_text(self, request: ApiRequest) -> dict[str, Any]:
        source = request.arg("text")
        if not source:
            raise bad_request("message text is empty")
        link_preview = self._link_preview(request)
        text, entities = self._parse_text(source, request, "entities")
        markup = self._inline_only(parse_reply_markup(request))
        message = self._edit_target(request)
        if "text" not in message.content:
            raise bad_request("there is no text in the message to edit")
        text, entities = self._finish(text, entities, caption=False)
        check_callback_data(markup)
        unchanged = (
            text == message.content["text"]
            and entities == message.content.get("entities", [])
            and self._same_keyboard(message.markup, markup)
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
        if link_preview:
            content["link_preview_options"] = link_preview
        if message.sent is not None:
            message.sent.text = text
            message.sent.entities = entities
            message.sent.html = source if request.arg("parse_mode").lower() == "html" else None
        return self._apply_edit(message, content, markup)

    async def _edit_message_caption(self, request: ApiRequest) -> dict[str, Any]:
        source = request.arg("caption")
        caption, entities = self._parse_text(source, request, "caption_entities")
        markup = self._inline_only(parse_reply_markup(request))
        message = self._edit_target(request)
        if not any(k in message.content for k in ("document", "photo", "voice")):
            raise bad_request("there is no caption in the message to edit")
        caption, entities = self._finish(caption, entities, caption=True)
        check_callback_data(markup)
        unchanged = (
            caption == message.content.get("caption", "")
            and entities == message.content.get("caption_entities", [])
            and self._same_keyboard(message.markup, markup)
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
        return self._apply_edit(message, content, markup)

    async def _edit_message_reply_markup(self, request: ApiRequest) -> dict[str, Any]:
        markup = self._inline_only(parse_reply_markup(request))
        message = self._edit_target(request)
        check_callback_data(markup)
        if self._same_keyboard(message.markup, markup):
            raise bad_request(NOT_MODIFIED)
        return self._apply_edit(message, message.content, markup)

    async def _delete_message(self, request: ApiRequest) -> bool:
        if not request.arg("chat_id"):
            raise bad_request("chat identifier is not specified")
        message_id = max(0, request.integer("message_id"))
        if message_id == 0:
            raise bad_request("message identifier is not specified")
        chat = self._chat_for(request)
        message = chat._messages.get(message_id)
        if message is None or message.deleted:
            raise bad_request("message to delete not found")
        own = message.author_id == self.bot_id
        if not own and chat.type in ("group", "supergroup") and chat.bot_status != "administrator":
            raise bad_request("message can't be deleted")
        message.deleted = True
        if message.sent is not None:
            message.sent.deleted = True
        self._changed()
        return True

    async def _answer_callback_query(self, request: ApiRequest) -> bool:
        query_id = str(to_integer(request.arg("callback_query_id")))
        if query_id not in self._open_queries:
            raise bad_request(QUERY_INVALID)
        if len(request.arg("text")) > MAX_CALLBACK_ANSWER_LENGTH:
            raise bad_request("MESSAGE_TOO_LONG")
        self._open_queries.discard(query_id)
        self.callback_answers[query_id] = decoded_params(request)
        return True

    async def _set_my_commands(self, request: ApiRequest) -> bool:
        value = request.json("commands", "can't parse commands JSON object")
        if value is None:
            value = []
        if not isinstance(value, list):
            raise bad_request("expected an Array of BotCommand")
        commands: list[dict[str, Any]] = []
        for item in value:
            if not isinstance(item, dict):
                raise bad_request("can't parse BotCommand: expected an Object")
            for name in ("command", "description"):
                if name not in item:
                    raise bad_request(f"can't parse BotCommand: Can't find field \"{name}\"")
                if not isinstance(item[name], (str, int, float)) or isinstance(item[name], bool):
                    raise bad_request(
                        f'can\'t parse BotCommand: Field "{name}" must be of type String'
                    )
            commands.append(
                {"command": str(item["command"]), "description": str(item["description"])}
            )
        key = self._commands_key(request)
        for command in commands:
            name = command["command"].strip().removeprefix("/")
            description = command["description"].strip()
            if not name:
                raise bad_request("command must be non-empty")
            if len(name) > 32:
                raise bad_request("command length must not exceed 32")
            if not description:
                raise bad_request("command description must be non-empty")
            if len(description) > 256:
                raise bad_request("command description length must not exceed 256")
            if not all(ch.isascii() and (ch.islower() or ch.isdigit() or ch == "_") for ch in name):
                raise bad_request("BOT_COMMAND_INVALID")
            command.update(command=name, description=description)
        if len(commands) > MAX_COMMANDS:
            raise bad_request("BOT_COMMANDS_TOO_MUCH")
        if commands:
            self.commands[key] = commands
        else:
            self.commands.pop(key, None)
        return True

    async def _get_my_commands(self, request: ApiRequest) -> list[dict[str, Any]]:
        return [dict(c) for c in self.commands.get(self._commands_key(request), [])]

    async def _delete_my_commands(self, request: ApiRequest) -> bool:
        self.commands.pop(self._commands_key(request), None)
        return True

    async def _get_file(self, request: ApiRequest) -> dict[str, Any]:
        file_id = request.arg("file_id")
        if not file_id:
            raise bad_request("file_id not specified")
        stored = self._files.get(file_id)
        if stored is None:
            raise bad_request("invalid file_id")
        if len(stored.data) > MAX_DOWNLOAD_SIZE:
            raise bad_request("file is too big")
        return stored.as_file()

    async def _get_chat(self, request: ApiRequest) -> dict[str, Any]:
        chat = self._chat_for(request, access="read")
        info = chat.as_chat()
        info.update(
            accent_color_id=0,
            max_reaction_count=11,
            accepted_gift_types={
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        )
        if chat.type in ("group", "supergroup"):
            info["permissions"] = {"can_send_messages": True}
        return info

    def _set_profile(self, name: str) -> Handler:
        async def handler(request: ApiRequest) -> bool:
            language = request.arg("language_code").lower()
            value = request.arg(name)
            if value:
                self._profile[(name, language)] = value
            else:
                self._profile.pop((name, language), None)
            return True

        return handler

    def _get_profile(self, name: str) -> Handler:
        async def handler(request: ApiRequest) -> dict[str, str]:
            language = request.arg("language_code").lower()
            default = self.bot_name if name == "name" else ""
            value = self._profile.get((name, language)) or self._profile.get((name, ""), default)
            return {name: value}

        return handler

    async def _set_chat_menu_button(self, request: ApiRequest) -> bool:
        value = request.json("menu_button", "can't parse menu button JSON object") or {
            "type": "default"
        }
        if not isinstance(value, dict) or value.get("type") not in (
            "default",
            "commands",
            "web_app",
        ):
            raise bad_request("can't parse menu button: MenuButton has unsupported type")
        self._menu_buttons[to_integer(request.arg("chat_id"))] = value
        return True

    async def _get_chat_menu_button(self, request: ApiRequest) -> dict[str, Any]:
        chat_id = to_integer(request.arg("chat_id"))
        return self._menu_buttons.get(chat_id) or self._menu_buttons.get(0) or {"type": "commands"}
