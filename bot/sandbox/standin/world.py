"""The simulated world: the state every part of the stand-in shares.

A :class:`World` holds the bot's identity, the people and chats
(:mod:`.people`), every message of every chat as a :class:`StoredMessage`,
the stored files, the update queue, and what was recorded for the test
(calls, the bot's messages, callback answers, commands). The Bot API methods
read and change it; the people act in it; the server records calls into it.

It also renders messages as Telegram shows them (:meth:`World.message_json`),
decides which messages reach the bot (:meth:`World.deliver`), and wakes
whoever waits for a change (:meth:`World.changed`, :meth:`World.wait_until`).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.waiting import wait_event

from ..wire import ReplyMarkup
from .files import FileStore
from .records import Call, SentMessage
from .updates import UpdateQueue

if TYPE_CHECKING:
    from .people import SimChat, SimUser


@dataclass
class StoredMessage:
    """A message of any author in a chat, as the stand-in stores it."""

    chat: SimChat
    message_id: int
    author_id: int  # a user id, the bot id, or the chat id for channel posts
    date: int
    content: dict[str, Any]  # text/entities, caption, document, photo, ... fields
    markup: ReplyMarkup | None = None
    edit_date: int | None = None
    deleted: bool = False
    sent: SentMessage | None = None  # the test's view, for the bot's own messages


class World:
    """Everything the stand-in knows; see the module docstring."""

    def __init__(
        self,
        token: str,
        *,
        bot_id: int,
        bot_username: str,
        bot_name: str,
        privacy_mode: bool,
        first_update_id: int,
    ) -> None:
        self.bot_id = bot_id
        self.bot_username = bot_username
        self.bot_name = bot_name
        self.privacy_mode = privacy_mode  # in groups, the bot sees only commands and replies
        self.local_mode = False  # setWebhook accepts http:// and any port (a test switch)

        self.rng = random.Random(token)  # callback query ids and file ids
        self.users: dict[int, SimUser] = {}
        self.chats: dict[int, SimChat] = {}
        self.files = FileStore(self.rng)
        self.updates = UpdateQueue(first_update_id, self.changed)
        self.open_queries: set[str] = set()
        self.profile: dict[tuple[str, str], str] = {}  # (field, language) -> text
        self.menu_buttons: dict[int, dict[str, Any]] = {}  # chat id (0: default) -> button

        self.calls: list[Call] = []
        self.sent: dict[int, list[SentMessage]] = {}
        self.callback_answers: dict[str, dict[str, Any]] = {}
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._cursors: dict[int, int] = {}  # chat id -> messages next_message() returned
        self._waiters: set[asyncio.Event] = set()

    # ------------------------------------------------------------ waiting --

    def changed(self) -> None:
        """Wake everything waiting in :meth:`wait_until`."""
        for event in self._waiters:
            event.set()
        self._waiters.clear()

    async def wait_until(self, predicate: Callable[[], bool], timeout: float) -> None:
        """Return once ``predicate()`` is true; raise ``TimeoutError`` after ``timeout`` s."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"condition not met within {timeout} s; {self._recent_calls()}")
            event = asyncio.Event()
            self._waiters.add(event)
            try:
                woken = await wait_event(event, remaining)
            finally:
                self._waiters.discard(event)
            if not woken and not predicate():
                raise TimeoutError(
                    f"condition not met within {timeout} s; {self._recent_calls()}")

    async def next_message(self, chat_id: int, timeout: float) -> SentMessage:
        """The next message the bot sends to ``chat_id`` after the one returned last time."""

        def arrived() -> bool:
            return len(self.sent.get(chat_id, [])) > self._cursors.get(chat_id, 0)

        try:
            await self.wait_until(arrived, timeout)
        except TimeoutError:
            raise TimeoutError(self._describe_chat(chat_id, timeout)) from None
        cursor = self._cursors.get(chat_id, 0)
        self._cursors[chat_id] = cursor + 1
        return self.sent[chat_id][cursor]

    def _describe_chat(self, chat_id: int, timeout: float) -> str:
        lines = [f"the bot sent no new message to chat {chat_id} within {timeout} s."]
        sent = self.sent.get(chat_id, [])
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

    # ----------------------------------------------------------- messages --

    def store_message(
        self,
        chat: SimChat,
        author_id: int,
        content: dict[str, Any],
        markup: ReplyMarkup | None = None,
    ) -> StoredMessage:
        """A new message in ``chat``, with the chat's next message id."""
        chat._last_message_id += 1
        message = StoredMessage(
            chat=chat,
            message_id=chat._last_message_id,
            author_id=author_id,
            date=int(time.time()),
            content=content,
            markup=markup,
        )
        chat._messages[message.message_id] = message
        return message

    def message_json(self, message: StoredMessage) -> dict[str, Any]:
        """The Message object as Telegram shows it now."""
        data: dict[str, Any] = {"message_id": message.message_id}
        chat = message.chat
        if message.author_id == chat.id and chat.type == "channel":
            data["sender_chat"] = chat.as_chat()
        elif message.author_id == self.bot_id:
            if chat.type == "channel":
                data["sender_chat"] = chat.as_chat()
            else:
                data["from"] = self.bot_user()
        else:
            data["from"] = self.users[message.author_id].as_user()
        data["chat"] = chat.as_chat()
        data["date"] = message.date
        if message.edit_date is not None:
            data["edit_date"] = message.edit_date
        data.update(message.content)
        field_ = message.markup.as_message_field() if message.markup else None
        if field_ is not None:
            data["reply_markup"] = field_
        return data

    def replied_json(self, message: StoredMessage) -> dict[str, Any]:
        """A message shown inside a reply: without a reply_to_message of its own."""
        data = self.message_json(message)
        data.pop("reply_to_message", None)
        return data

    def bot_user(self) -> dict[str, Any]:
        """The User object of the bot."""
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_name,
            "username": self.bot_username,
        }

    # ------------------------------------------------------------ updates --

    def deliver(
        self,
        person: SimUser | None,
        chat: SimChat,
        content: dict[str, Any],
        *,
        kind: str = "message",
    ) -> dict[str, Any]:
        """A message from a person (or a channel post) arrives in ``chat``; returns it."""
        chat._known_to_bot = True
        author = person.id if person is not None else chat.id
        message = self.store_message(chat, author, content)
        data = self.message_json(message)
        if self.bot_receives(chat, content):
            self.updates.add(kind, data)
        return data

    def bot_receives(self, chat: SimChat, content: dict[str, Any]) -> bool:
        """Whether the bot gets a message in ``chat``, given its membership and privacy mode."""
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

    def set_blocked(self, person: SimUser, blocked: bool) -> None:
        """The person blocks (or unblocks) the bot; the bot gets a ``my_chat_member`` update."""
        if person.blocked_bot == blocked:
            return
        person.blocked_bot = blocked
        old, new = ("member", "kicked") if blocked else ("kicked", "member")
        member_new: dict[str, Any] = {"user": self.bot_user(), "status": new}
        if new == "kicked":
            member_new["until_date"] = 0
        member_old: dict[str, Any] = {"user": self.bot_user(), "status": old}
        if old == "kicked":
            member_old["until_date"] = 0
        self.updates.add(
            "my_chat_member",
            {
                "chat": person.chat.as_chat(),
                "from": person.as_user(),
                "date": int(time.time()),
                "old_chat_member": member_old,
                "new_chat_member": member_new,
            },
        )
