"""Requests and answers: tokens, unknown methods, parameter encodings, message and chat shapes."""

from __future__ import annotations

import json
import time

import httpx
from bot.sandbox.standin import SimUser, StandIn

from tests.sandbox.raw import KEYBOARD, TOKEN, Raw


async def test_get_me_and_wrong_token_and_unknown_method(api: StandIn, raw: Raw) -> None:
    me = await raw.ok("getMe")
    assert me["id"] == 7000000001 and me["is_bot"] is True
    assert me["username"] == "consultbot_sandbox_bot"
    assert me["can_read_all_group_messages"] is False
    assert await raw.error("noSuchMethod") == (404, "Not Found")
    async with httpx.AsyncClient() as http:
        wrong = await http.post(f"{api.url}/bot123:wrong/getMe")
        assert (wrong.status_code, wrong.json()) == (
            401,
            {"ok": False, "error_code": 401, "description": "Unauthorized"},
        )
        elsewhere = await http.get(f"{api.url}/nothing/here")
        assert elsewhere.status_code == 404 and elsewhere.json()["description"] == "Not Found"
    assert [c.status for c in api.calls] == [200, 404, 401, 404]


async def test_every_encoding_is_decoded(api: StandIn, amina: SimUser) -> None:
    base = f"{api.url}/bot{TOKEN}"
    async with httpx.AsyncClient() as http:
        await http.post(
            f"{base}/sendMessage",
            data={"chat_id": "42", "text": "form", "reply_markup": json.dumps(KEYBOARD)},
        )
        await http.post(
            f"{base}/sendMessage", json={"chat_id": 42, "text": "json", "reply_markup": KEYBOARD}
        )
        await http.get(f"{base}/sendMessage", params={"chat_id": "42", "text": "12"})
        await http.post(
            f"{base}/sendDocument",
            data={"chat_id": "42"},
            files={"document": ("a.txt", b"abc", "text/plain")},
        )
    form, as_json, query, upload = api.calls
    for call in (form, as_json):
        assert call.params["chat_id"] == 42 and call.params["reply_markup"] == KEYBOARD
    assert query.params == {"chat_id": 42, "text": "12"}  # a text stays a string
    assert upload.params["document"].data == b"abc"
    assert [m.text for m in api.messages(42)] == ["form", "json", "12", ""]
    assert api.messages(42)[3].document == b"abc" and api.messages(42)[3].filename == "a.txt"


async def test_message_ids_are_shared_per_chat_and_chats_have_their_shape(
    api: StandIn, raw: Raw, amina: SimUser
) -> None:
    before = int(time.time())
    sent = await raw.ok("sendMessage", chat_id=42, text="Hello")
    after = time.time()
    reply = amina.send("hi")
    assert (sent["message_id"], reply["message_id"]) == (2, 3)
    assert sent["chat"] == {
        "id": 42,
        "first_name": "Amina",
        "last_name": "K",
        "username": "amina",
        "type": "private",
    }
    assert sent["from"] == {
        "id": 7000000001,
        "is_bot": True,
        "first_name": "Consultbot",
        "username": "consultbot_sandbox_bot",
    }
    assert isinstance(sent["date"], int) and before <= sent["date"] <= after
    group = api.group(-1001234567890, "Diaspora network")
    posted = await raw.ok("sendMessage", chat_id=group.id, text="Summary")
    assert posted["chat"] == {
        "id": -1001234567890,
        "title": "Diaspora network",
        "type": "supergroup",
    }
    assert posted["message_id"] == 1
