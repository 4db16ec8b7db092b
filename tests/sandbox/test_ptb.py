"""PTB's own ``telegram.Bot`` over httpx against the stand-in: it parses every answer and update."""

from __future__ import annotations

import struct
import zlib
from datetime import timedelta
from typing import Any

import pytest
import telegram
from bot.sandbox.standin import StandIn
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from tests.sandbox.raw import TOKEN


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
