"""The framework's floor: a minimal PTB 22 bot that makes consultbot's Bot API calls, nothing else.

``bench/participants.py`` drives this bot and consultbot with the same
participants, so that consultbot's cost per update can be compared with what
python-telegram-bot itself costs for the same traffic. It has no storage, no
survey, no translations: fixed texts and keyboards, and one handler per kind
of participant action that makes exactly the calls consultbot makes for that
action (as measured by running one participant through the built-in
consultation against the stand-in and reading ``StandIn.calls``).

Each participant action, the calls consultbot makes for it, and how this bot
recognises the action (by update type, callback-data prefix or text prefix):

* ``/start`` (a new person): sendMessage (language picker, with buttons).
  Here: the ``/start`` command.
* press a language: answerCallbackQuery, editMessageText, sendMessage (consent,
  with buttons). Here: callback data ``l:``.
* press "I agree": answerCallbackQuery, editMessageReplyMarkup (buttons
  removed), sendMessage (first question). Here: ``c:``.
* press a choice, a scale value, "Done" or "Skip": answerCallbackQuery,
  editMessageText (the question shows the answer, buttons removed),
  sendMessage (next question). Here: ``a:`` and ``s:``.
* type a country's name (one country matches): editMessageText (the paged
  question shows the country, buttons removed), sendMessage (next question).
  Here: a text starting with ``?``; the question is message ``id - 1``.
* press an answer that opens a section with a note: answerCallbackQuery,
  editMessageText, sendMessage (the note), sendMessage (next question).
  Here: ``n:``.
* tick a multi-select choice: answerCallbackQuery, editMessageReplyMarkup
  (the keyboard redrawn with the tick). Here: ``t:``; toggles a ✓ on the
  pressed button.
* type an answer: editMessageReplyMarkup (the question loses its buttons),
  sendMessage (next question). Here: any other text; the question is message
  ``id - 1``.
* type the last answer: editMessageReplyMarkup, sendMessage (closing text, no
  buttons), sendMessage (the offer to receive the results' summary, two
  buttons). Here: a text starting with ``!``.

Texts are HTML (``parse_mode=HTML``, link previews off) of about the length of
consultbot's on this walk (≈190 characters on average); keyboards have 7
buttons (consultbot's average on this walk is 7.0). The application is built
with the same settings as ``bot/app.py``: ``base_url``/``base_file_url`` from
``CONSULTBOT_API_URL``, ``AIORateLimiter(overall_max_rate=0, max_retries=3)``,
the same HTTPX request settings, 256 concurrent updates (PTB's own
``SimpleUpdateProcessor``, where consultbot uses its per-chat ordering
processor), ``PTB_TIMEDELTA=true``, long polling for all update types until
SIGINT/SIGTERM. Unlike consultbot it opens no database, starts no delivery
worker or scheduler and imports no chart or spreadsheet libraries.

Run: ``CONSULTBOT_TOKEN=… CONSULTBOT_API_URL=… python bench/floor_bot.py [--transport aiohttp]``.

``--transport aiohttp`` puts consultbot's own transport under the same bot
(:class:`bot.transport.AiohttpRequest`: aiohttp and orjson instead of httpx and
the standard json module), so that the framework's floor can be read on both.
"""

from __future__ import annotations

import gc
import logging
import os
import signal
import sys
from pathlib import Path

os.environ.setdefault("PTB_TIMEDELTA", "true")

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update  # noqa: E402
from telegram.constants import ParseMode  # noqa: E402
from telegram.error import BadRequest  # noqa: E402
from telegram.ext import (  # noqa: E402
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.request import BaseRequest, HTTPXRequest  # noqa: E402

logger = logging.getLogger("floor_bot")

# The buttons of every keyboard, in this order; bench/participants.py presses them by index.
BUTTONS = (
    ("Migrant or refugee", "a"),          # 0 answer (choice, scale value, Done, …)
    ("Germany", "a"),                     # 1 another answer
    ("Yes, I know one", "n"),             # 2 an answer followed by a note
    ("Local (city or area)", "t"),        # 3 tick
    ("English", "l"),                     # 4 language
    ("I agree", "c"),                     # 5 consent
    ("Skip »", "s"),                      # 6 skip (handled as an answer)
)
TICK = 3
CHECK = "✓ "

QUESTION = (
    "<i>Question 7 of 14</i>\n"
    "<b>Which actors took part in the partnership on migration that you know best?</b>\n"
    "<i>Think of the last two years, and of the organizations you worked with most.</i>\n"
    "Choose all that apply, then press “Done”."
)
ANSWERED = (
    "<b>Which actors took part in the partnership on migration that you know best?</b>\n"
    "→ <b>Civil society or NGOs</b>"
)
NOTE = ("<b>About the partnership</b>\n"
        "<i>The next questions are about the partnership you know best.</i>")
OFFER = ("Would you like to receive a summary of the consultation's results when they are "
         "published? You can stop at any time with /unsubscribe.")
OFFER_KEYBOARD = InlineKeyboardMarkup([
    [InlineKeyboardButton("Yes, send me the results", callback_data="u:y")],
    [InlineKeyboardButton("No, thank you", callback_data="u:n")],
])
CLOSING = (
    "Thank you for your time and for sharing your experience. Your answers have been saved.\n\n"
    "You can see your answers with /mydata and delete them with /delete."
)


def keyboard(ticked: bool = False) -> InlineKeyboardMarkup:
    rows = []
    for index, (label, kind) in enumerate(BUTTONS):
        text = (CHECK + label) if ticked and index == TICK else label
        rows.append([InlineKeyboardButton(text, callback_data=f"{kind}:0f1e2d3c:{index}")])
    return InlineKeyboardMarkup(rows)


KEYBOARD = keyboard()
KEYBOARD_TICKED = keyboard(ticked=True)


async def send(context: ContextTypes.DEFAULT_TYPE, chat_id: int, text: str,
               markup: InlineKeyboardMarkup | None) -> None:
    await context.bot.send_message(chat_id, text, parse_mode=ParseMode.HTML, reply_markup=markup,
                                   disable_web_page_preview=True)


async def strip(context: ContextTypes.DEFAULT_TYPE, chat_id: int, message_id: int) -> None:
    try:
        await context.bot.edit_message_reply_markup(chat_id, message_id, reply_markup=None)
    except BadRequest as exc:
        logger.debug("keyboard not removed: %s", exc.message)


async def on_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_chat is not None
    await send(context, update.effective_chat.id, "Please choose your language.", KEYBOARD)


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    assert message is not None and message.text is not None
    chat_id = message.chat_id
    if message.text.startswith("?"):  # a country typed: echoed into its question
        try:
            await context.bot.edit_message_text(ANSWERED, chat_id, message.message_id - 1,
                                                parse_mode=ParseMode.HTML, reply_markup=None)
        except BadRequest as exc:
            logger.debug("question message not edited: %s", exc.message)
        await send(context, chat_id, QUESTION, KEYBOARD)
        return
    await strip(context, chat_id, message.message_id - 1)  # the question typed after
    if message.text.startswith("!"):  # the last answer
        await send(context, chat_id, CLOSING, None)
        await send(context, chat_id, OFFER, OFFER_KEYBOARD)
    else:
        await send(context, chat_id, QUESTION, KEYBOARD)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None and query.data is not None and query.message is not None
    chat_id = query.message.chat.id
    kind = query.data[:1]
    await query.answer()
    if kind == "t":
        shown = getattr(query.message, "reply_markup", None)  # the keyboard as it is now
        was_ticked = bool(shown and shown.inline_keyboard[TICK][0].text.startswith(CHECK))
        try:
            await query.edit_message_reply_markup(KEYBOARD if was_ticked else KEYBOARD_TICKED)
        except BadRequest as exc:
            logger.debug("keyboard not redrawn: %s", exc.message)
        return
    try:
        if kind == "c":
            await query.edit_message_reply_markup(reply_markup=None)
        else:
            await query.edit_message_text(ANSWERED, parse_mode=ParseMode.HTML, reply_markup=None)
    except BadRequest as exc:
        logger.debug("question message not edited: %s", exc.message)
    if kind == "n":
        await send(context, chat_id, NOTE, None)
    await send(context, chat_id, QUESTION, KEYBOARD)


def requests(transport: str) -> tuple[BaseRequest, BaseRequest]:
    """The request objects for calls and for getUpdates, with bot/app.py's settings."""
    if transport == "aiohttp":
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        from bot.transport import AiohttpRequest

        return (AiohttpRequest(connection_pool_size=64, connect_timeout=10, read_timeout=15),
                AiohttpRequest(connection_pool_size=2, read_timeout=15))
    return (HTTPXRequest(connection_pool_size=64, connect_timeout=10, read_timeout=15),
            HTTPXRequest(connection_pool_size=2, read_timeout=15))


def build(token: str, api: str, transport: str = "httpx") -> Application:  # type: ignore[type-arg]
    calls, updates = requests(transport)
    application = (
        ApplicationBuilder()
        .token(token)
        .base_url(f"{api}/bot")
        .base_file_url(f"{api}/file/bot")
        .concurrent_updates(256)
        .rate_limiter(AIORateLimiter(overall_max_rate=0, max_retries=3))
        .request(calls)
        .get_updates_request(updates)
        .build()
    )
    application.add_handler(CommandHandler("start", on_start))
    application.add_handler(CallbackQueryHandler(on_button))
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, on_text))
    return application


def main() -> int:
    logging.basicConfig(level=logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    token = os.environ.get("CONSULTBOT_TOKEN")
    if not token:
        print("floor_bot: error: CONSULTBOT_TOKEN is not set", file=sys.stderr)
        return 2
    api = os.environ.get("CONSULTBOT_API_URL", "https://api.telegram.org").rstrip("/")
    transport = "aiohttp" if sys.argv[1:] == ["--transport", "aiohttp"] else "httpx"
    application = build(token, api, transport)
    gc.collect()
    gc.freeze()  # as consultbot run does: what is loaded stays out of full collections
    application.run_polling(allowed_updates=Update.ALL_TYPES,
                            stop_signals=(signal.SIGINT, signal.SIGTERM), close_loop=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
