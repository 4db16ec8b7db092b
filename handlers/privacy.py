"""The participant's own data: /mydata shows it, /delete erases it."""

from __future__ import annotations

from bot.context import Context
from telegram import Update

from handlers.callbacks import Kind, parse
from handlers.journey import private_user_id
from handlers.reply import reply


async def on_mydata(update: Update, context: Context) -> None:
    """Show, in the participant's language, everything stored about them."""
    if (user_id := private_user_id(update)) is not None:
        await reply(update, context, await context.participation.my_data(user_id))


async def on_delete(update: Update, context: Context) -> None:
    """Ask for confirmation before erasing everything about the participant."""
    if (user_id := private_user_id(update)) is not None:
        await reply(update, context, await context.participation.ask_to_delete(user_id))


async def on_delete_confirmed(update: Update, context: Context) -> None:
    """Erase everything about the participant (after "Yes"), or nothing (after "No")."""
    query = update.callback_query
    if (user_id := private_user_id(update)) is None or query is None:
        return
    fields = parse(Kind.DELETE, query.data)
    if fields is None:
        outcome = await context.participation.stale(user_id)
    else:
        outcome = await context.participation.delete(user_id, update.update_id,
                                                     fields == ("y",))
    await reply(update, context, outcome)
