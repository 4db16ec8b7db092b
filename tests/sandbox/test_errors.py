"""Error answers: Telegram's status codes and descriptions for what it refuses."""

from __future__ import annotations

from typing import Any

import pytest
from bot.sandbox.standin import SimUser, StandIn

from tests.sandbox.raw import KEYBOARD, Raw

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
LONG = "x" * 4097


@pytest.mark.parametrize(
    ("method", "params", "status", "description"),
    [
        ("sendMessage", {"chat_id": 999, "text": "hi"}, 400, "Bad Request: chat not found"),
        ("sendMessage", {"text": "hi"}, 400, "Bad Request: chat_id is empty"),
        ("sendMessage", {"chat_id": 42}, 400, "Bad Request: message text is empty"),
        (
            "sendMessage",
            {"chat_id": 42, "text": " \n "},
            400,
            "Bad Request: message must be non-empty",
        ),
        ("sendMessage", {"chat_id": 42, "text": LONG}, 400, "Bad Request: message is too long"),
        (
            "sendMessage",
            {"chat_id": 42, "text": "\U0001f600" * 2049},
            400,
            "Bad Request: message is too long",
        ),
        (
            "sendMessage",
            {"chat_id": 42, "text": "<b>x", "parse_mode": "HTML"},
            400,
            "Bad Request: can't parse entities: Can't find end tag corresponding to start tag b",
        ),
        (
            "sendMessage",
            {"chat_id": 42, "text": "hi", "parse_mode": "Klingon"},
            400,
            "Bad Request: unsupported parse_mode",
        ),
        (
            "sendMessage",
            {"chat_id": 42, "text": "hi", "reply_markup": "{bad"},
            400,
            "Bad Request: can't parse reply keyboard markup JSON object",
        ),
        (
            "sendMessage",
            {
                "chat_id": 42,
                "text": "hi",
                "reply_markup": {"inline_keyboard": [[{"text": "A", "callback_data": "x" * 65}]]},
            },
            400,
            "Bad Request: BUTTON_DATA_INVALID",
        ),
        (
            "sendMessage",
            {
                "chat_id": 42,
                "text": "hi",
                "reply_markup": {"inline_keyboard": [[{"text": "A", "callback_data": ""}]]},
            },
            400,
            "Bad Request: can't parse inline keyboard button: "
            "Text buttons are unallowed in the inline keyboard",
        ),
        (
            "sendMessage",
            {"chat_id": 42, "text": "hi", "reply_markup": {"inline_keyboard": [{"text": "A"}]}},
            400,
            'Bad Request: field "inline_keyboard" of the InlineKeyboardMarkup '
            "must be an Array of Arrays",
        ),
        (
            "sendMessage",
            {"chat_id": 42, "text": "hi", "reply_parameters": {"message_id": 77}},
            400,
            "Bad Request: message to be replied not found",
        ),
        (
            "editMessageText",
            {"chat_id": 42, "message_id": 77, "text": "x"},
            400,
            "Bad Request: message to edit not found",
        ),
        (
            "editMessageText",
            {"chat_id": 42, "message_id": 1, "text": "x"},
            400,
            "Bad Request: message can't be edited",
        ),
        (
            "editMessageText",
            {"chat_id": 42, "message_id": 2, "text": "Question", "reply_markup": KEYBOARD},
            400,
            NOT_MODIFIED,
        ),
        (
            "editMessageText",
            {"chat_id": 42, "message_id": 2, "text": "x", "reply_markup": {"keyboard": [["a"]]}},
            400,
            "Bad Request: inline keyboard expected",
        ),
        (
            "editMessageReplyMarkup",
            {"chat_id": 42, "message_id": 2, "reply_markup": KEYBOARD},
            400,
            NOT_MODIFIED,
        ),
        (
            "deleteMessage",
            {"chat_id": 42, "message_id": 77},
            400,
            "Bad Request: message to delete not found",
        ),
        (
            "sendDocument",
            {"chat_id": 42, "document": "nonsense"},
            400,
            "Bad Request: wrong file identifier/HTTP URL specified",
        ),
        ("sendDocument", {"chat_id": 42}, 400, "Bad Request: there is no document in the request"),
        (
            "sendChatAction",
            {"chat_id": 42, "action": "dancing"},
            400,
            "Bad Request: wrong parameter action in request",
        ),
        ("getFile", {"file_id": "nonsense"}, 400, "Bad Request: invalid file_id"),
        (
            "answerCallbackQuery",
            {"callback_query_id": "12345"},
            400,
            "Bad Request: query is too old and response timeout expired or query ID is invalid",
        ),
        (
            "setMyCommands",
            {"commands": [{"command": "Start", "description": "Begin"}]},
            400,
            "Bad Request: BOT_COMMAND_INVALID",
        ),
        (
            "setMyCommands",
            {"commands": [{"command": "start", "description": " "}]},
            400,
            "Bad Request: command description must be non-empty",
        ),
        (
            "setMyCommands",
            {"commands": [{"command": "a" * 33, "description": "x"}]},
            400,
            "Bad Request: command length must not exceed 32",
        ),
        (
            "setMyCommands",
            {"commands": [{"command": "start", "description": "x" * 257}]},
            400,
            "Bad Request: command description length must not exceed 256",
        ),
        (
            "setMyCommands",
            {"commands": [{"command": "start", "description": "x"}], "language_code": "english"},
            400,
            "Bad Request: invalid language code specified",
        ),
    ],
)
async def test_error_answers(
    api: StandIn,
    raw: Raw,
    amina: SimUser,
    method: str,
    params: dict[str, Any],
    status: int,
    description: str,
) -> None:
    await raw.ok("sendMessage", chat_id=42, text="Question", reply_markup=KEYBOARD)  # message 2
    assert await raw.error(method, **params) == (status, description)


async def test_caption_and_text_limits_count_after_parsing(
    api: StandIn, raw: Raw, amina: SimUser
) -> None:
    await raw.ok("sendMessage", chat_id=42, text="<b>" + "x" * 4096 + "</b>", parse_mode="HTML")
    await raw.ok("sendMessage", chat_id=42, text="\U0001f600" * 2048)
    status, body = await raw("sendDocument", chat_id=42, document="x", caption="y" * 1025)
    assert body["description"] == "Bad Request: wrong file identifier/HTTP URL specified"
    stored = api.user(42).send_document(b"data", "d.txt", "text/plain")["document"]["file_id"]
    assert await raw.error("sendDocument", chat_id=42, document=stored, caption="y" * 1025) == (
        400,
        "Bad Request: message caption is too long",
    )
