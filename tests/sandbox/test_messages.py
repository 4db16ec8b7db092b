"""The bot's messages: buttons and presses, edits, deletion, HTML, commands; what a test reads."""

from __future__ import annotations

import asyncio

import pytest
from bot.sandbox.standin import SimUser, StandIn

from tests.sandbox.raw import KEYBOARD, Raw


async def test_edit_without_markup_removes_the_keyboard(
    api: StandIn, raw: Raw, amina: SimUser
) -> None:
    sent = await raw.ok("sendMessage", chat_id=42, text="Question?", reply_markup=KEYBOARD)
    assert sent["reply_markup"] == KEYBOARD
    message = await api.next_message(42)
    assert [[b.text for b in row] for row in message.buttons] == [["Yes", "No"]]
    query_id = amina.press(message, "No")
    update = (await raw.ok("getUpdates"))[-1]["callback_query"]
    assert update["id"] == query_id and update["data"] == "q1:1"
    assert update["message"]["reply_markup"] == KEYBOARD and update["chat_instance"]
    await raw.ok("answerCallbackQuery", callback_query_id=query_id, text="Saved")
    assert api.callback_answers[query_id]["text"] == "Saved"
    assert await raw.error("answerCallbackQuery", callback_query_id=query_id) == (
        400,
        "Bad Request: query is too old and response timeout expired or query ID is invalid",
    )

    edited = await raw.ok(
        "editMessageText", chat_id=42, message_id=sent["message_id"], text="Question? No"
    )
    assert "reply_markup" not in edited and edited["edit_date"] >= edited["date"]
    assert (message.text, message.edits, message.buttons) == ("Question? No", 1, [])
    with pytest.raises(ValueError):
        amina.press(message, "No")
    forged = amina.press_data(9999, "q1:0")
    inaccessible = (await raw.ok("getUpdates"))[-1]["callback_query"]
    assert inaccessible["id"] == forged and inaccessible["message"]["date"] == 0

    await raw.ok("deleteMessage", chat_id=42, message_id=sent["message_id"])
    assert message.deleted and api.messages(42) == []


async def test_answer_text_is_limited(api: StandIn, raw: Raw, amina: SimUser) -> None:
    sent = await raw.ok("sendMessage", chat_id=42, text="Q", reply_markup=KEYBOARD)
    query_id = amina.press(sent["message_id"], 0)
    assert await raw.error("answerCallbackQuery", callback_query_id=query_id, text="x" * 201) == (
        400,
        "Bad Request: MESSAGE_TOO_LONG",
    )


async def test_reply_keyboard_buttons(api: StandIn, raw: Raw, amina: SimUser) -> None:
    keyboard = {
        "keyboard": [[{"text": "Share location", "request_location": True}], ["Skip"]],
        "resize_keyboard": True,
    }
    sent = await raw.ok("sendMessage", chat_id=42, text="Where?", reply_markup=keyboard)
    assert "reply_markup" not in sent  # only inline keyboards appear in a Message
    message = api.messages(42)[0]
    assert message.button("Share location").request_location and message.button(1).text == "Skip"
    await raw.ok("sendMessage", chat_id=42, text="Thanks", reply_markup={"remove_keyboard": True})


async def test_next_message_cursor_and_readable_timeout(
    api: StandIn, raw: Raw, amina: SimUser
) -> None:
    await raw.ok("sendMessage", chat_id=42, text="one")
    await raw.ok("sendMessage", chat_id=42, text="two")
    assert (await api.next_message(42)).text == "one"
    assert (await api.next_message(42)).text == "two"
    with pytest.raises(TimeoutError, match=r"(?s)no new message.*'one'.*'two'"):
        await api.next_message(42, timeout=0.05)
    later = asyncio.create_task(api.next_message(42))
    await raw.ok("sendMessage", chat_id=42, text="three")
    assert (await later).text == "three"


async def test_commands_are_kept_per_scope_and_language(api: StandIn, raw: Raw) -> None:
    commands = [
        {"command": "start", "description": "Begin"},
        {"command": "/help", "description": " Help "},
    ]
    await raw.ok("setMyCommands", commands=commands)
    await raw.ok(
        "setMyCommands",
        commands=[{"command": "start", "description": "Commencer"}],
        language_code="fr",
        scope={"type": "all_private_chats"},
    )
    assert api.commands[("default", "")] == [
        {"command": "start", "description": "Begin"},
        {"command": "help", "description": "Help"},
    ]
    assert await raw.ok(
        "getMyCommands", scope={"type": "all_private_chats"}, language_code="fr"
    ) == [{"command": "start", "description": "Commencer"}]
    assert await raw.ok("getMyCommands", language_code="fr") == []
    await raw.ok("deleteMyCommands")
    assert ("default", "") not in api.commands


async def test_html_message_keeps_source_and_plain_text(
    api: StandIn, raw: Raw, amina: SimUser
) -> None:
    sent = await raw.ok(
        "sendMessage",
        chat_id=42,
        text="<b>Q1</b> \u0645\u0631\u062d\u0628\u0627",
        parse_mode="HTML",
    )
    assert sent["text"] == "Q1 \u0645\u0631\u062d\u0628\u0627"
    assert sent["entities"] == [{"type": "bold", "offset": 0, "length": 2}]
    message = api.messages(42)[0]
    assert (
        message.html == "<b>Q1</b> \u0645\u0631\u062d\u0628\u0627" and message.text == sent["text"]
    )
    assert await raw.error("sendMessage", chat_id=42, text="\u00e9 <p>", parse_mode="HTML") == (
        400,
        'Bad Request: can\'t parse entities: Unsupported start tag "p" at byte offset 3',
    )
