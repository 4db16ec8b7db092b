"""The Bot API stand-in behaves like api.telegram.org.

Raw HTTP calls check status codes, JSON shapes and Telegram's error texts;
the last tests drive it with PTB's own ``telegram.Bot`` over httpx to prove
that PTB parses every answer and every update.
"""

from __future__ import annotations

import asyncio
import json
import os
import struct
import time
import zlib
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

os.environ["PTB_TIMEDELTA"] = "true"

import httpx  # noqa: E402
import pytest  # noqa: E402
import telegram  # noqa: E402
from bot.sandbox.standin import SimUser, StandIn  # noqa: E402
from bot.sandbox.telegram_text import EntityParseError, finish_text, parse_html  # noqa: E402
from telegram import InlineKeyboardButton, InlineKeyboardMarkup  # noqa: E402

TOKEN = "123456789:AAEtestTOKENtestTOKENtestTOKEN12345"
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
KEYBOARD = {
    "inline_keyboard": [
        [{"text": "Yes", "callback_data": "q1:0"}, {"text": "No", "callback_data": "q1:1"}]
    ]
}


class Raw:
    """Bot API calls the way PTB makes them: form-encoded, non-strings as JSON."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def __call__(self, method: str, **params: Any) -> tuple[int, dict[str, Any]]:
        data = {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}
        response = await self.http.post(method, data=data)
        return response.status_code, response.json()

    async def ok(self, method: str, **params: Any) -> Any:
        status, body = await self(method, **params)
        assert status == 200 and body["ok"] is True, body
        return body["result"]

    async def error(self, method: str, **params: Any) -> tuple[int, str]:
        status, body = await self(method, **params)
        assert body["ok"] is False and body["error_code"] == status, body
        return status, body["description"]


@pytest.fixture
async def api() -> AsyncIterator[StandIn]:
    async with StandIn(TOKEN) as standin:
        yield standin


@pytest.fixture
async def raw(api: StandIn) -> AsyncIterator[Raw]:
    async with httpx.AsyncClient(base_url=f"{api.url}/bot{TOKEN}/", timeout=20) as http:
        yield Raw(http)


@pytest.fixture
def amina(api: StandIn) -> SimUser:
    """A person who has started the bot, so their private chat is known."""
    person = api.user(42, first_name="Amina", last_name="K", username="amina", language_code="ar")
    person.send("/start")
    return person


# ------------------------------------------------------------------ basics ---


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
    sent = await raw.ok("sendMessage", chat_id=42, text="Hello")
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
    assert isinstance(sent["date"], int) and abs(sent["date"] - time.time()) < 5
    group = api.group(-1001234567890, "Diaspora network")
    posted = await raw.ok("sendMessage", chat_id=group.id, text="Summary")
    assert posted["chat"] == {
        "id": -1001234567890,
        "title": "Diaspora network",
        "type": "supergroup",
    }
    assert posted["message_id"] == 1


# -------------------------------------------------------------- getUpdates ---


async def test_get_updates_offsets_and_limit(api: StandIn, raw: Raw) -> None:
    person = api.user(7)
    for n in range(5):
        person.send(f"m{n}")
    updates = await raw.ok("getUpdates")
    ids = [u["update_id"] for u in updates]
    assert ids == list(range(ids[0], ids[0] + 5)) and ids[0] >= 100_000_000
    assert [u["message"]["text"] for u in updates] == ["m0", "m1", "m2", "m3", "m4"]
    assert len(await raw.ok("getUpdates")) == 5  # nothing confirmed yet
    assert [u["update_id"] for u in await raw.ok("getUpdates", offset=ids[1], limit=2)] == ids[1:3]
    assert api.pending_updates == 4
    assert (
        await raw.ok("getUpdates", offset=ids[4] + 1000) != []
    )  # far ahead: ignored, like Telegram
    assert [u["update_id"] for u in await raw.ok("getUpdates", offset=-2)] == ids[3:]
    assert api.pending_updates == 2
    assert await raw.ok("getUpdates", offset=ids[4] + 1) == []
    assert api.pending_updates == 0
    person.send("later")
    assert (await raw.ok("getUpdates"))[0]["update_id"] == ids[4] + 1


async def test_long_poll_wakes_up_on_an_update_and_times_out_empty(api: StandIn, raw: Raw) -> None:
    poll = asyncio.create_task(raw.ok("getUpdates", timeout=20))
    await api.wait_until(lambda: api.long_polling)
    started = time.monotonic()
    api.user(5).send("wake up")
    updates = await poll
    assert time.monotonic() - started < 2
    assert updates[0]["message"]["text"] == "wake up"

    started = time.monotonic()
    assert await raw.ok("getUpdates", offset=updates[0]["update_id"] + 1, timeout=1) == []
    assert 0.9 <= time.monotonic() - started < 3


async def test_a_second_get_updates_ends_the_first_with_409(api: StandIn, raw: Raw) -> None:
    first = asyncio.create_task(raw.error("getUpdates", timeout=20))
    await api.wait_until(lambda: api.long_polling)
    assert await raw.ok("getUpdates") == []
    assert await first == (
        409,
        "Conflict: terminated by other getUpdates request; "
        "make sure that only one bot instance is running",
    )


async def test_webhook_blocks_get_updates(api: StandIn, raw: Raw) -> None:
    assert await raw.error("setWebhook", url="http://example.com/hook") == (
        400,
        "Bad Request: bad webhook: An HTTPS URL must be provided for webhook",
    )
    status, body = await raw("setWebhook", url="https://example.com/hook")
    assert body == {"ok": True, "result": True, "description": "Webhook was set"}
    assert (await raw.ok("getWebhookInfo"))["url"] == "https://example.com/hook"
    assert await raw.error("getUpdates") == (
        409,
        "Conflict: can't use getUpdates method while webhook is active; "
        "use deleteWebhook to delete the webhook first",
    )
    await raw.ok("deleteWebhook", drop_pending_updates=True)
    assert await raw.ok("getUpdates") == []


async def test_allowed_updates_filter_new_updates(api: StandIn, raw: Raw, amina: SimUser) -> None:
    await raw.ok("getUpdates", offset=-1, allowed_updates=["callback_query"])
    await raw.ok("getUpdates", offset=(await raw.ok("getUpdates"))[-1]["update_id"] + 1)
    amina.send("ignored")
    sent = await raw.ok("sendMessage", chat_id=42, text="Q", reply_markup=KEYBOARD)
    amina.press(sent["message_id"], "No")
    assert [list(u)[1] for u in await raw.ok("getUpdates")] == ["callback_query"]


# ----------------------------------------------------------- error answers ---

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


async def test_blocked_deactivated_and_removed_from_groups(
    api: StandIn, raw: Raw, amina: SimUser
) -> None:
    api.block(42)
    assert await raw.error("sendMessage", chat_id=42, text="hi") == (
        403,
        "Forbidden: bot was blocked by the user",
    )
    assert await raw.error("sendChatAction", chat_id=42, action="typing") == (
        403,
        "Forbidden: bot was blocked by the user",
    )
    api.unblock(42)
    await raw.ok("sendMessage", chat_id=42, text="hi")
    kinds = [
        u["my_chat_member"]["new_chat_member"]["status"]
        for u in await raw.ok("getUpdates")
        if "my_chat_member" in u
    ]
    assert kinds == ["kicked", "member"]

    api.user(43).send("hello")
    api.deactivate(43)
    assert await raw.error("sendMessage", chat_id=43, text="hi") == (
        403,
        "Forbidden: user is deactivated",
    )

    group = api.group(-4001, "Local group", type="group")
    api.remove_bot(group.id)
    assert await raw.error("sendMessage", chat_id=group.id, text="hi") == (
        403,
        "Forbidden: bot is not a member of the group chat",
    )
    channel = api.group(-1009, "News", type="channel")
    api.remove_bot(channel.id, kicked=True)
    assert await raw.error("sendMessage", chat_id=channel.id, text="hi") == (
        403,
        "Forbidden: bot was kicked from the channel chat",
    )


async def test_migrated_group(api: StandIn, raw: Raw) -> None:
    api.group(-4002, "Diaspora", type="group")
    await raw.ok("sendMessage", chat_id=-4002, text="before")
    api.migrate_group(-4002, -1004002)
    status, body = await raw("sendMessage", chat_id=-4002, text="after")
    assert (status, body) == (
        400,
        {
            "ok": False,
            "error_code": 400,
            "description": "Bad Request: group chat was upgraded to a supergroup chat",
            "parameters": {"migrate_to_chat_id": -1004002},
        },
    )
    await raw.ok("sendMessage", chat_id=-1004002, text="after")
    service = [u["message"] for u in await raw.ok("getUpdates")]
    assert (
        service[0]["migrate_to_chat_id"] == -1004002 and service[1]["migrate_from_chat_id"] == -4002
    )


# ------------------------------------------------------ buttons, edits ---


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


# ---------------------------------------------------------------- faults ---


async def test_fail_next_and_delay(api: StandIn, raw: Raw, amina: SimUser) -> None:
    api.fail_next("sendMessage", status=429, retry_after=3)
    api.fail_next(None, status=502, count=2)
    async with httpx.AsyncClient() as http:
        response = await http.post(
            f"{api.url}/bot{TOKEN}/sendMessage", data={"chat_id": "42", "text": "a"}
        )
    assert response.status_code == 429 and response.headers["Retry-After"] == "3"
    assert response.json() == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 3",
        "parameters": {"retry_after": 3},
    }
    assert await raw.ok("getUpdates") != []  # None spares getUpdates
    assert await raw.error("getMe") == (502, "Bad Gateway")
    assert await raw.error("sendMessage", chat_id=42, text="b") == (502, "Bad Gateway")
    await raw.ok("sendMessage", chat_id=42, text="c")
    api.fail_next("getMe", status=500)
    assert await raw.error("getMe") == (500, "Internal Server Error")

    api.delay("getMe", 0.2)
    started = time.monotonic()
    await raw.ok("getMe")
    assert time.monotonic() - started >= 0.2
    api.delay("getMe", 0)


async def test_sending_limits(api: StandIn, raw: Raw, amina: SimUser) -> None:
    api.limit_rate(per_chat_per_second=1, per_group_per_minute=2, overall_per_second=30)
    await raw.ok("sendMessage", chat_id=42, text="1")
    status, body = await raw("sendMessage", chat_id=42, text="2")
    assert (status, body["parameters"]) == (429, {"retry_after": 1})
    assert api.calls[-1].rejected_by_limit and not api.calls[-2].rejected_by_limit
    api.user(43).send("hi")
    await raw.ok("sendMessage", chat_id=43, text="another chat is fine")

    group = api.group(-1005, "Org")
    api.limit_rate(per_group_per_minute=2)
    await raw.ok("sendMessage", chat_id=group.id, text="a")
    await raw.ok("sendMessage", chat_id=group.id, text="b")
    status, body = await raw("sendMessage", chat_id=group.id, text="c")
    assert status == 429 and 55 <= body["parameters"]["retry_after"] <= 60
    await raw.ok("getChat", chat_id=group.id)  # not a sending method
    api.limit_rate()
    await raw.ok("sendMessage", chat_id=group.id, text="limits off")


async def test_wait_until_wakes_on_confirmation(api: StandIn, raw: Raw) -> None:
    api.user(9).send("hello")
    waiter = asyncio.create_task(api.wait_until(lambda: api.pending_updates == 0))
    update_id = (await raw.ok("getUpdates"))[0]["update_id"]
    await raw.ok("getUpdates", offset=update_id + 1)
    await waiter
    with pytest.raises(TimeoutError):
        await api.wait_until(lambda: False, timeout=0.05)


async def test_privacy_mode_in_groups(api: StandIn, raw: Raw) -> None:
    group = api.group(-1006, "Org")
    person = api.user(11)
    person.send("just chatting", chat=group)
    person.send("/stats@other_bot", chat=group)
    person.send("/stats", chat=group)
    person.send("/help@consultbot_sandbox_bot", chat=group)
    assert [u["message"]["text"] for u in await raw.ok("getUpdates")] == [
        "/stats",
        "/help@consultbot_sandbox_bot",
    ]


# -------------------------------------------------------------- HTML text ---


@pytest.mark.parametrize(
    ("source", "text", "entities"),
    [
        (
            "<b>bold</b> <i>it</i>",
            "bold it",
            [
                {"type": "bold", "offset": 0, "length": 4},
                {"type": "italic", "offset": 5, "length": 2},
            ],
        ),
        ("\U0001f600 <u>x</u>", "\U0001f600 x", [{"type": "underline", "offset": 3, "length": 1}]),
        ("a &lt;b&gt; &amp; &quot; &#1575; &#x41; &unknown;", 'a <b> & " \u0627 A &unknown;', []),
        (
            "<b>bold <i>both</i></b>",
            "bold both",
            [
                {"type": "bold", "offset": 0, "length": 9},
                {"type": "italic", "offset": 5, "length": 4},
            ],
        ),
        (
            '<pre><code class="language-python">x = 1</code></pre>',
            "x = 1",
            [{"type": "pre", "offset": 0, "length": 5, "language": "python"}],
        ),
        (
            '<a href="example.org">site</a>',
            "site",
            [{"type": "text_link", "offset": 0, "length": 4, "url": "http://example.org/"}],
        ),
        (
            '<span class="tg-spoiler">s</span><tg-spoiler>t</tg-spoiler>',
            "st",
            [
                {"type": "spoiler", "offset": 0, "length": 1},
                {"type": "spoiler", "offset": 1, "length": 1},
            ],
        ),
        (
            "<blockquote expandable>q</blockquote>",
            "q",
            [{"type": "expandable_blockquote", "offset": 0, "length": 1}],
        ),
        ("<B>up</B >", "up", [{"type": "bold", "offset": 0, "length": 2}]),
    ],
)
def test_html_is_parsed_like_telegram(
    source: str, text: str, entities: list[dict[str, Any]]
) -> None:
    assert parse_html(source) == (text, entities)


@pytest.mark.parametrize(
    ("source", "error"),
    [
        ("<p>x</p>", 'Unsupported start tag "p" at byte offset 0'),
        ("\u00e9t\u00e9 <br>", 'Unsupported start tag "br" at byte offset 6'),
        ("x </b>", "Unexpected end tag at byte offset 2"),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("<b>x", "Can't find end tag corresponding to start tag b"),
        ("a <b", "Unclosed start tag at byte offset 2"),
        ('<a href="x">y</a', "Unclosed end tag at byte offset 13"),
        (
            "<a href>x</a>",
            'Expected equal sign in declaration of an attribute of the tag "a" at byte offset 0',
        ),
        ('<span class="x">y</span>', 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ("2 < 3", 'Unsupported start tag "" at byte offset 2'),
    ],
)
def test_html_errors_have_telegrams_wording(source: str, error: str) -> None:
    with pytest.raises(EntityParseError) as caught:
        parse_html(source)
    assert str(caught.value) == error


def test_text_is_cleaned_and_trimmed_like_telegram() -> None:
    text, entities = finish_text("\n  <x>\r\n\t\u202bmarhaba\u202c  \n", [], allow_empty=False)
    assert text == "<x>\n marhaba"
    text, entities = finish_text(
        "  hi /start", [{"type": "bold", "offset": 2, "length": 9}], allow_empty=False
    )
    assert text == "hi /start"
    assert entities == [
        {"type": "bold", "offset": 0, "length": 9},
        {"type": "bot_command", "offset": 3, "length": 6},
    ]


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


# ------------------------------------------------------------ PTB itself ---


def png_2x1() -> bytes:
    """A real 2x1 PNG image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 2, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" + b"\xff\x00\x00" * 2)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def _unknown_fields(obj: Any, path: str = "") -> list[str]:
    """Fields PTB did not recognise anywhere in a parsed object (they land in api_kwargs)."""
    found: list[str] = []
    if isinstance(obj, telegram.TelegramObject):
        found += [f"{path}.{key}" for key in obj.api_kwargs]
        for klass in type(obj).__mro__:
            for name in getattr(klass, "__slots__", ()):
                if not name.startswith("_"):
                    found += _unknown_fields(getattr(obj, name, None), f"{path}.{name}")
    elif isinstance(obj, (tuple, list)):
        for index, item in enumerate(obj):
            found += _unknown_fields(item, f"{path}[{index}]")
    return sorted(set(found))


async def test_ptb_bot_parses_every_answer(api: StandIn) -> None:
    bot = telegram.Bot(TOKEN, base_url=f"{api.url}/bot", base_file_url=f"{api.url}/file/bot")
    async with bot:
        person = api.user(42, first_name="Amina", language_code="ar")
        person.send("/start")
        updates = await bot.get_updates(timeout=5)
        assert updates[0].message.text == "/start"
        assert updates[0].message.entities[0].type == "bot_command"
        offset = updates[-1].update_id + 1

        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Yes", callback_data="q1:0")]])
        sent = await bot.send_message(42, "<b>Ready?</b>", parse_mode="HTML", reply_markup=keyboard)
        assert sent.text == "Ready?" and sent.reply_markup == keyboard and sent.from_user.is_bot
        query_id = person.press(sent.message_id, "Yes")
        (update,) = await bot.get_updates(offset=offset, timeout=5)
        offset = update.update_id + 1
        assert update.callback_query.id == query_id and update.callback_query.data == "q1:0"
        assert update.callback_query.message.message_id == sent.message_id
        assert await bot.answer_callback_query(query_id, text="Saved")

        edited = await bot.edit_message_text("Ready? Yes", chat_id=42, message_id=sent.message_id)
        assert edited.reply_markup is None and edited.edit_date is not None
        with pytest.raises(telegram.error.BadRequest, match="not modified"):
            await bot.edit_message_text("Ready? Yes", chat_id=42, message_id=sent.message_id)

        document = await bot.send_document(
            42, b"id,answer\n1,yes\n", filename="export.csv", caption="Export"
        )
        assert document.document.file_name == "export.csv" and document.caption == "Export"
        file = await bot.get_file(document.document.file_id)
        assert bytes(await file.download_as_bytearray()) == b"id,answer\n1,yes\n"
        assert api.messages(42)[-1].document == b"id,answer\n1,yes\n"

        photo = await bot.send_photo(42, png_2x1(), caption="Chart")
        assert photo.photo[-1].width == 2 and photo.caption == "Chart"
        location = await bot.send_location(42, 48.85, 2.35)
        assert location.location.latitude == 48.85
        assert await bot.send_chat_action(42, "typing")
        assert await bot.delete_message(42, location.message_id)
        chat = await bot.get_chat(42)
        assert chat.first_name == "Amina" and chat.type == "private"
        assert await bot.set_my_commands([("start", "Begin")], language_code="ar")
        assert (await bot.get_my_commands(language_code="ar"))[0].command == "start"
        assert await bot.delete_webhook()

        with pytest.raises(telegram.error.BadRequest, match="Chat not found"):
            await bot.send_message(1234, "nobody")
        api.fail_next("sendMessage", status=429, retry_after=2)
        with pytest.raises(telegram.error.RetryAfter) as retry:
            await bot.send_message(42, "too fast")
        assert retry.value.retry_after == timedelta(seconds=2)
        api.block(42)
        with pytest.raises(telegram.error.Forbidden, match="blocked by the user"):
            await bot.send_message(42, "hello?")
        api.group(-4009, "Old", type="group")
        api.migrate_group(-4009, -1004009)
        with pytest.raises(telegram.error.ChatMigrated) as migrated:
            await bot.send_message(-4009, "hi")
        assert migrated.value.new_chat_id == -1004009

        # Everything a person can do arrives as updates PTB understands completely.
        api.unblock(42)
        person.send_photo(caption="my photo")
        person.send_voice()
        person.send_sticker()
        person.send_document(b"%PDF-1.4", "cv.pdf", "application/pdf")
        person.send_location(36.8, 10.18)
        person.send_contact()
        person.edit(person.send("typo"), "fixed")
        person.press_data(999, "stale")
        api.group(-1007, "News", type="channel").post("Announcement")
        updates = await bot.get_updates(offset=offset, timeout=5)
        kinds = [next(k for k in u.to_dict() if k != "update_id") for u in updates]
        assert "edited_message" in kinds and "channel_post" in kinds and "my_chat_member" in kinds
        for update in updates:
            assert _unknown_fields(update) == [], update.to_dict()
        voice = next(u.message.voice for u in updates if u.message and u.message.voice)
        assert (await (await bot.get_file(voice.file_id)).download_as_bytearray()).startswith(
            b"OggS"
        )
        assert _unknown_fields(await bot.get_me()) == []
