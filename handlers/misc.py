"""Gentle answers to what the bot does not expect: unknown commands, commands in groups."""

from __future__ import annotations

from bot.context import Context
from telegram import Update

from handlers import render
from handlers.journey import private_user_id
from handlers.reply import safe_reply, send, translator


async def on_unknown_command(update: Update, context: Context) -> None:
    """A command the bot does not have."""
    if (user_id := private_user_id(update)) is None:
        return
    t = translator(context, update, await context.participation.language_of(user_id))
    await send(context, user_id, render.View(render.escape(t.gettext(
        "I don't know that command. Send /help to see what I can do."))))


async def on_group_command(update: Update, context: Context) -> None:
    """In a group, the consultation cannot run: point to the private chat."""
    chat = update.effective_chat
    if chat is None:
        return
    t = translator(context, update, None)
    link = f"https://t.me/{context.bot_data.bot_username}?start=group"
    await safe_reply(context, chat.id, render.escape(t.gettext(
        "The consultation is private: please talk to me in a private chat: {link}", link=link)))
