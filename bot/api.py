"""The bot's side of the Bot API: python-telegram-bot's bot, made safe for what it receives.

* **An update it cannot read** (a shape the library does not know, a field of
  the wrong type) makes python-telegram-bot log the whole batch of updates at
  CRITICAL level (names, usernames, other participants' answers) and fetch the
  same batch again, for ever: the bot serves nobody. :class:`ConsultBot` reads
  such a batch update by update, logs the unreadable one's id once (never its
  contents), and hands on an empty update in its place so the offset moves on.
* **Only the updates the bot handles** are asked for (:data:`ALLOWED_UPDATES`).
* **Reaching the API at start** (:func:`reach_api`): an unreachable server is
  retried with back-off, one line a try; a refused token is one line without
  the token, as a :class:`~bot.config.ConfigError`.
* **The calls of a participant's chat and of rounds** (:meth:`ConsultBot.send_text`,
  :meth:`~ConsultBot.send_picture`, :meth:`~ConsultBot.edit_text`,
  :meth:`~ConsultBot.edit_buttons`, :meth:`~ConsultBot.answer_press`) go through PTB's
  request path (rate limiter, error mapping, timeouts) but skip building a
  :class:`~telegram.Message` of what Telegram sends back: the chat needs only a sent
  message's id, and building the object (its chat, sender, entities, keyboard) was a
  sixth of the event loop's time per update (docs/performance.md, issue 11). Survey
  keyboards are written as JSON directly (:func:`markup`), and of the message a pressed
  button is on only its chat and id are read (:func:`unread`).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.error import InvalidToken, NetworkError
from telegram.ext import ExtBot

from bot.config import ConfigError, env_name
from bot.waiting import wait_event

logger = logging.getLogger(__name__)

ALLOWED_UPDATES = ("message", "callback_query")
FIRST_RETRY_SECONDS = 1.0
LAST_RETRY_SECONDS = 60.0

Keyboard = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove


class _NoPayloads(logging.Filter):
    """Drops python-telegram-bot's log line that quotes a batch of updates it could not read."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Error while parsing updates")


class ConsultBot(ExtBot[Any]):
    """PTB's bot; a batch of updates with one it cannot read is read update by update, and
    a chat's own calls return only what the bot uses (see the module)."""

    _received: list[Any] | None = None

    async def _post(self, endpoint: str, data: Any = None, **kwargs: Any) -> Any:
        result = await super()._post(endpoint, data, **kwargs)
        if endpoint == "getUpdates":
            if isinstance(result, list):
                for item in result:
                    unread(item)
            self._received = result
        return result

    async def get_updates(self, *args: Any, **kwargs: Any) -> tuple[Update, ...]:
        self._received = None
        try:
            return await super().get_updates(*args, **kwargs)
        except Exception:
            received = self._received
            if not isinstance(received, list):
                raise  # the request failed, not the reading
            return tuple(self.read_update(item) for item in received)

    async def send_text(self, chat_id: int, text: str,
                        keyboard: Keyboard | None = None, *, preview: bool = False) -> int:
        """Send ``text`` (HTML; a link shown as a card only with ``preview``) with its
        buttons; the message's id."""
        sent = await self._post("sendMessage", {
            "chat_id": chat_id, "text": text, "parse_mode": "HTML",
            "reply_markup": markup(keyboard),
            "link_preview_options": None if preview else {"is_disabled": True}})
        return int(sent["message_id"])

    async def send_picture(self, chat_id: int, picture: str | bytes, caption: str
                           ) -> tuple[int, str | None]:
        """Send a picture (its bytes, or the file id Telegram gave for it) with an HTML
        caption; the message's id, and the file id of the picture's largest size."""
        photo = InputFile(picture) if isinstance(picture, bytes) else picture
        sent = await self._post("sendPhoto", {
            "chat_id": chat_id, "photo": photo, "caption": caption, "parse_mode": "HTML"})
        sizes = sent.get("photo") or [{}]
        file_id = sizes[-1].get("file_id")
        return int(sent["message_id"]), file_id if isinstance(file_id, str) else None

    async def edit_text(self, chat_id: int, message_id: int, text: str,
                        keyboard: InlineKeyboardMarkup | None = None) -> None:
        """Replace a message's text (HTML) and buttons (none without ``keyboard``)."""
        await self._post("editMessageText", {
            "chat_id": chat_id, "message_id": message_id, "text": text, "parse_mode": "HTML",
            "reply_markup": markup(keyboard), "link_preview_options": {"is_disabled": True}})

    async def edit_buttons(self, chat_id: int, message_id: int,
                           keyboard: InlineKeyboardMarkup | None) -> None:
        """Replace (or, with ``None``, take off) a message's buttons."""
        await self._post("editMessageReplyMarkup", {
            "chat_id": chat_id, "message_id": message_id, "reply_markup": markup(keyboard)})

    async def answer_press(self, query_id: str, text: str | None = None) -> None:
        """Answer a button press: the app stops its spinner (and shows ``text``)."""
        await self._post("answerCallbackQuery", {"callback_query_id": query_id, "text": text})

    def read_update(self, item: Any) -> Update:
        """The update in ``item`` (decoded JSON); one it cannot read is logged by id and
        comes back empty, so that it is passed over rather than fetched for ever."""
        update_id = item.get("update_id") if isinstance(item, dict) else None
        try:
            update = Update.de_json(unread(item), self)
        except Exception as exc:
            logger.warning("update %s could not be read (%s); skipped", update_id,
                           type(exc).__name__)
            return Update(update_id=int(update_id or 0))
        self.insert_callback_data(update)
        return update


ConsultBot._LOGGER.addFilter(_NoPayloads())  # the logger python-telegram-bot logs it with

# What the bot reads of the message a pressed button is on: which chat, which message.
_PRESSED_READ = frozenset({"message_id", "date", "chat", "message_thread_id"})
_OTHER_BUTTON_FIELDS = tuple(
    name for name in InlineKeyboardButton.__slots__ if name not in ("text", "callback_data"))


def unread(item: Any) -> Any:
    """``item`` (a decoded update) without what the bot never reads and PTB would build
    objects of: the pressed message's text, entities, sender and keyboard (a callback
    query carries the whole message its button is on)."""
    query = item.get("callback_query") if isinstance(item, dict) else None
    if isinstance(query, dict):
        message = query.get("message")
        if isinstance(message, dict) and not message.keys() <= _PRESSED_READ:
            query["message"] = {k: v for k, v in message.items() if k in _PRESSED_READ}
    return item


def markup(keyboard: Keyboard | None) -> Any:
    """``keyboard`` as the JSON the Bot API takes. Buttons with a text and callback data
    (every button of a survey) are written directly; anything else by PTB's ``to_dict``,
    which reads every field of every button by reflection."""
    if keyboard is None:
        return None
    if (isinstance(keyboard, InlineKeyboardMarkup) and keyboard.inline_keyboard
            and not keyboard.api_kwargs):
        rows = []
        for row in keyboard.inline_keyboard:
            buttons = []
            for button in row:
                if (button.api_kwargs or not isinstance(button.callback_data, str)
                        or any(getattr(button, name) is not None
                               for name in _OTHER_BUTTON_FIELDS)):
                    return keyboard.to_dict()
                buttons.append({"text": button.text, "callback_data": button.callback_data})
            rows.append(buttons)
        return {"inline_keyboard": rows}
    return keyboard.to_dict()


async def close_requests(bot: ExtBot[Any]) -> None:
    """Close the bot's HTTP sessions (PTB's ``shutdown`` skips a bot that never started)."""
    for request in bot._request:  # noqa: SLF001 (PTB offers no public handle on both)
        await request.shutdown()


async def reach_api(bot: ExtBot[Any], api_url: str, stop: asyncio.Event | None = None) -> bool:
    """Check the token with the Bot API (``getMe``), retrying while the server cannot be
    reached; False if ``stop`` was set meanwhile."""
    delay = FIRST_RETRY_SECONDS
    while True:
        try:
            await bot.initialize()
            return True
        except InvalidToken:
            await close_requests(bot)
            raise ConfigError(
                f"{env_name('token')}: the Bot API at {api_url} refused the token (revoked, "
                f"mistyped, or {env_name('api_url')} points to another server)") from None
        except NetworkError as exc:
            logger.warning("the Bot API at %s cannot be reached (%s); trying again in %d s",
                           api_url, exc, delay)
        if stop is None:
            await asyncio.sleep(delay)
        elif await wait_event(stop, delay):
            await close_requests(bot)
            return False
        delay = min(delay * 2, LAST_RETRY_SECONDS)
