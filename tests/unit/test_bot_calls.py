"""The bot's own road for a chat's calls: keyboards as JSON, and what it reads of a press."""

from __future__ import annotations

import copy

from bot.api import markup, unread
from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
    WebAppInfo,
)


def test_keyboards_are_the_json_ptb_would_send() -> None:
    survey = InlineKeyboardMarkup([
        [InlineKeyboardButton("Oui", callback_data="s:abc:q:yes"),
         InlineKeyboardButton("نعم ✓", callback_data="s:abc:q:no")],
        [InlineKeyboardButton("Passer", callback_data="s:abc:q:skip")]])
    others = [
        InlineKeyboardMarkup([[InlineKeyboardButton("Site", url="https://example.org")]]),
        InlineKeyboardMarkup([[InlineKeyboardButton("A", callback_data="a"),
                               InlineKeyboardButton("App", web_app=WebAppInfo("https://x.org"))]]),
        InlineKeyboardMarkup([[InlineKeyboardButton("A", callback_data="a", style="primary")]]),
        ReplyKeyboardMarkup([[KeyboardButton("Here", request_location=True)]],
                            one_time_keyboard=True),
        ReplyKeyboardRemove(),
        InlineKeyboardMarkup([]),
    ]
    for keyboard in (survey, *others):
        assert markup(keyboard) == keyboard.to_dict()
    assert markup(None) is None


def _press(message: dict[str, object]) -> dict[str, object]:
    return {"update_id": 7, "callback_query": {
        "id": "99", "chat_instance": "1", "data": "s:abc:q:yes",
        "from": {"id": 5, "is_bot": False, "first_name": "A"}, "message": message}}


def test_of_a_pressed_message_only_its_chat_and_id_are_read() -> None:
    message = {"message_id": 12, "date": 1764750000,
               "chat": {"id": 5, "type": "private", "first_name": "A"},
               "from": {"id": 1, "is_bot": True, "first_name": "Bot"},
               "text": "Question", "entities": [{"type": "bold", "offset": 0, "length": 3}],
               "reply_markup": {"inline_keyboard": [[{"text": "Oui", "callback_data": "x"}]]}}
    item = unread(_press(copy.deepcopy(message)))
    update = Update.de_json(item, None)
    assert update.callback_query is not None and update.callback_query.message is not None
    pressed = update.callback_query.message
    assert (pressed.message_id, pressed.chat.id, pressed.chat.type) == (12, 5, "private")
    assert update.callback_query.data == "s:abc:q:yes" and update.effective_user is not None
    assert set(item["callback_query"]["message"]) == {"message_id", "date", "chat"}
    # a message older than 48 hours arrives as an inaccessible one (date 0): it stays one
    old = unread(_press({"message_id": 3, "date": 0, "chat": {"id": 5, "type": "private"}}))
    assert not Update.de_json(old, None).callback_query.message.is_accessible  # type: ignore[union-attr]
    for other in ({"update_id": 1, "message": message}, {"update_id": 2}, [], "x"):
        assert unread(copy.deepcopy(other)) == other
