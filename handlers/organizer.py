"""Organizer commands: live figures and exports, for the ids in CONSULTBOT_ADMINS only.

The handler list wraps every organizer command and button in
:func:`organizer_only`, which checks the sender on every call. Anyone else gets
exactly the reply an unknown command or a dead button gets, so nothing about the
consultation leaks, and the refusal is logged with the sender's pseudonym.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import tempfile
import zipfile
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from bot.access import NotAnOrganizer
from bot.console.chat import console_off, link_message
from bot.context import Context
from bot.exports import FORMATS, ExportError, ExportOptions, write_export
from bot.figures import as_text
from bot.i18n import Translator
from bot.organizing import Planned
from bot.pseudonyms import log_id
from bot.rounds import render_summary
from bot.scheduling import ScheduleError, start_round, sync_jobs
from storage.rounds import REMINDER, SUMMARY
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest

from handlers import render
from handlers.callbacks import Kind, make, parse
from handlers.journey import on_stale_button
from handlers.misc import on_unknown_command
from handlers.reply import acknowledge, replace_message, send

logger = logging.getLogger(__name__)

Handler = Callable[[Update, Context], Coroutine[Any, Any, None]]

ZIP_ABOVE = 5 * 1024 * 1024  # bytes: larger exports are sent zipped
ZIP_MORE_THAN = 2  # files (a table per repeat, and the codebook): more are sent zipped
TELEGRAM_FILE_LIMIT = 50 * 1000 * 1000  # what a bot may upload


def is_organizer(update: Update, context: Context) -> bool:
    """An organizer, in their own private chat with the bot."""
    user, chat = update.effective_user, update.effective_chat
    return (user is not None and chat is not None and chat.type == chat.PRIVATE
            and chat.id == user.id and user.id in context.config.admins)


async def _send_text(context: Context, chat_id: int, text: str) -> None:
    await send(context, chat_id, render.View(text))


def organizer_only(handler: Handler) -> Handler:
    """Run ``handler`` for organizers in a private chat; answer anyone else as a stranger."""

    @functools.wraps(handler)
    async def guarded(update: Update, context: Context) -> None:
        if is_organizer(update, context):
            await handler(update, context)
            return
        user = update.effective_user
        if user is not None and context.bot_data.secret:
            logger.warning("organizer action refused for participant %s",
                           log_id(context.bot_data.secret, user.id))
        await _as_stranger(update, context)

    return guarded


async def _as_stranger(update: Update, context: Context) -> None:
    """Exactly what anyone gets for a dead button or an unknown command."""
    if update.callback_query is not None:
        await on_stale_button(update, context)
    else:
        await on_unknown_command(update, context)


async def organizer_translator(update: Update, context: Context) -> Translator:
    """The organizer's language: the one they chose in the bot, else their app's."""
    user = update.effective_user
    assert user is not None
    chosen = await context.organizing.language_of(user.id)
    return context.catalogs.for_person(chosen, user.language_code)


async def on_stats(update: Update, context: Context) -> None:
    """Show the consultation's figures as of now."""
    t = await organizer_translator(update, context)
    figures = await context.organizing.figures()
    chat = update.effective_chat
    assert chat is not None
    await _send_text(context, chat.id, render.escape(
        as_text(t, context.survey, figures, context.now())))


async def on_export(update: Update, context: Context) -> None:
    """Offer the export formats as buttons."""
    t = await organizer_translator(update, context)
    chat = update.effective_chat
    assert chat is not None
    mine = t.language if t.language in context.survey.languages else ""
    buttons = [
        [InlineKeyboardButton(name.upper(), callback_data=make(Kind.EXPORT, name))
         for name in ("csv", "xlsx", "json")],
        [InlineKeyboardButton(name, callback_data=make(Kind.EXPORT, fmt, mine))
         for name, fmt in (("SPSS (.sav)", "sav"), ("Stata (.dta)", "dta"))],
        [InlineKeyboardButton("CSV (;)", callback_data=make(Kind.EXPORT, "csv", "", "s")),
         InlineKeyboardButton("XLSX (Kobo)", callback_data=make(Kind.EXPORT, "xlsx", "", "k"))],
        [InlineKeyboardButton(t.gettext("XLSX with labels in my language"),
                              callback_data=make(Kind.EXPORT, "xlsx", t.language))],
    ]
    await send(context, chat.id, render.View(render.escape(t.gettext(
        "Which format? Participants appear only under a pseudonymous code.")),
        InlineKeyboardMarkup(buttons)))


async def on_export_chosen(update: Update, context: Context) -> None:
    """Write the export off the event loop and send it as documents: the data, then its
    codebook (CSV, SAV, DTA); zipped together when large or more than two files (a
    survey with repeats: a file per repeat)."""
    query = update.callback_query
    chat = update.effective_chat
    assert query is not None and chat is not None
    fields = parse(Kind.EXPORT, query.data)
    t = await organizer_translator(update, context)
    chosen = next((f for f in FORMATS if fields and f == fields[0]), None)
    labels = fields[1] if fields and fields[1] else None
    if chosen is None or (labels is not None and labels not in context.survey.languages):
        await acknowledge(query, render.stale_notice(t))
        return
    assert fields is not None
    await acknowledge(query, t.gettext("Preparing the file…"))
    options = ExportOptions(format=chosen, labels=labels, kobo_names=fields[2] == "k",
                            delimiter=";" if fields[2] == "s" else ",")
    now = context.now()
    stem = f"{context.survey.id}-{now:%Y%m%d-%H%M}"
    with tempfile.TemporaryDirectory(prefix="consultbot-export-") as folder:
        path = Path(folder) / f"{stem}.{chosen}"
        secret = context.bot_data.secret
        assert secret is not None
        try:
            result = await asyncio.to_thread(write_export, context.config.db, path,
                                             context.survey, options, secret, now)
        except ExportError as exc:
            logger.warning("export failed: %s", exc)
            await _send_text(context, chat.id, render.escape(t.gettext(
                "The export failed. The command line tells why: consultbot export.")))
            return
        files = list(result.files)
        if len(files) > ZIP_MORE_THAN or sum(f.stat().st_size for f in files) > ZIP_ABOVE:
            files = [await asyncio.to_thread(_zip, files)]
        if any(f.stat().st_size > TELEGRAM_FILE_LIMIT for f in files):
            await _send_text(context, chat.id, render.escape(t.gettext(
                "The file is too large for Telegram. Use the command line on the server: "
                "consultbot export.")))
            return
        logger.info("export sent (%s, %d responses)", chosen, result.rows)
        caption = t.ngettext("{count} response", "{count} responses", result.rows,
                             count=result.rows)
        for number, file in enumerate(files):
            with file.open("rb") as handle:
                try:
                    await context.bot.send_document(chat.id, handle, filename=file.name,
                                                    caption=None if number else caption)
                except BadRequest as exc:
                    logger.warning("export not delivered: %s", exc.message)
                    return


def _zip(files: list[Path]) -> Path:
    archive = files[0].with_name(files[0].name + ".zip")
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for file in files:
            bundle.write(file, arcname=file.name)
    return archive


async def on_console(update: Update, context: Context) -> None:
    """Send a one-time sign-in link to the web console (in the console's own words)."""
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None and context.bot_data.console_words is not None
    chosen = await context.organizing.language_of(user.id)
    t = context.bot_data.console_words.for_person(chosen, user.language_code)
    if context.config.web is None and context.config.web_url is None:
        await _send_text(context, chat.id, render.escape(console_off(t)))
        return
    try:
        link, _ = await context.access.new_link(user.id)
    except NotAnOrganizer:
        return
    await _send_text(context, chat.id, render.escape(link_message(t, link)))


async def on_summary(update: Update, context: Context) -> None:
    """Show the summary exactly as recipients would get it: /summary [language]."""
    t = await organizer_translator(update, context)
    chat = update.effective_chat
    assert chat is not None
    if context.args:
        if context.args[0] not in context.survey.languages:
            await _send_text(context, chat.id, render.escape(t.gettext(
                "Unknown language. Choose one of: {languages}",
                languages=", ".join(context.survey.languages))))
            return
        t = context.catalogs.get(context.args[0])
    text, chart = await render_summary(context.db, context.survey, t, context.config,
                                       context.now())
    await context.bot.send_photo(chat.id, chart, caption=text, parse_mode=ParseMode.HTML)


async def _start(update: Update, context: Context, kind: str) -> None:
    t = await organizer_translator(update, context)
    chat = update.effective_chat
    assert chat is not None
    if not context.args or context.args[0].lower() != "now":
        usage = (t.gettext("Send /remind now to start a reminder round now, or /schedule to "
                           "plan rounds.") if kind == REMINDER else
                 t.gettext("Send /broadcast now to send the summary to every subscriber now, "
                           "or /schedule to plan broadcasts."))
        await _send_text(context, chat.id, render.escape(usage))
        return
    started = await start_round(context.application, kind, "chat")
    if started.round_id is None and kind == REMINDER:
        text = await _nobody_due(context, t)
    elif started.round_id is None:
        text = t.gettext("There are no subscribers to send the summary to.")
    else:
        text = t.ngettext("Round {number} started for {count} recipient. You will get a report "
                          "when it is done.",
                          "Round {number} started for {count} recipients. You will get a "
                          "report when it is done.", started.recipients,
                          number=started.round_id, count=started.recipients)
    await _send_text(context, chat.id, render.escape(text))


async def _nobody_due(context: Context, t: Translator) -> str:
    """Why a reminder round reached nobody, and when the next person will be due."""
    outlook = await context.organizing.reminder_outlook()
    lines = [t.gettext("Nobody needs a reminder now.")]
    if outlook.unfinished:
        lines.append(t.gettext(
            "Not finished: {unfinished} (recently active or reminded: {quiet}; reminded the "
            "most times allowed: {most}; no reminders wanted: {stopped}; blocked the bot: "
            "{blocked}).", unfinished=outlook.unfinished, quiet=outlook.quiet + outlook.queued,
            most=outlook.most, stopped=outlook.stopped, blocked=outlook.blocked))
    if outlook.next_due is not None:
        zone = ZoneInfo(context.config.timezone)
        lines.append(t.gettext("The next person is due on {time}.", time=format_datetime(
            outlook.next_due, "medium", tzinfo=zone, locale=t.locale)))
    return "\n".join(lines)


async def on_remind(update: Update, context: Context) -> None:
    """Start a reminder round: /remind now."""
    await _start(update, context, REMINDER)


async def on_broadcast(update: Update, context: Context) -> None:
    """Send the summary to every subscriber: /broadcast now."""
    await _start(update, context, SUMMARY)


# --- schedules ------------------------------------------------------------------------


def _describe(t: Translator, planned: Planned, timezone: str) -> str:
    schedule, next_time = planned.schedule, planned.next_run
    kind = (t.gettext("Reminder round") if schedule.kind == REMINDER
            else t.gettext("Summary broadcast"))
    zone = ZoneInfo(timezone)
    when = (t.gettext("cron {expression}", expression=schedule.cron) if schedule.cron
            else format_datetime(schedule.run_at, "medium", tzinfo=zone, locale=t.locale)
            if schedule.run_at else "")
    state = (t.gettext("paused") if schedule.paused else
             t.gettext("next: {time}", time=format_datetime(next_time, "medium", tzinfo=zone,
                                                            locale=t.locale))
             if next_time else t.gettext("done"))
    return f"#{schedule.id} {kind} — {when} — {state}"


async def _schedule_view(context: Context, t: Translator) -> render.View:
    timezone = context.config.timezone
    planned = await context.organizing.schedules()
    lines = [t.gettext("Scheduled rounds (time zone {zone}):", zone=timezone)]
    rows: list[list[InlineKeyboardButton]] = []
    for item in planned:
        schedule = item.schedule
        lines.append(_describe(t, item, timezone))
        number = str(schedule.id)
        buttons = []
        if schedule.paused:
            buttons.append(InlineKeyboardButton(t.gettext("Resume #{number}", number=schedule.id),
                                                callback_data=make(Kind.SCHEDULE, "r", number)))
        elif item.next_run is not None:
            buttons.append(InlineKeyboardButton(t.gettext("Pause #{number}", number=schedule.id),
                                                callback_data=make(Kind.SCHEDULE, "p", number)))
        buttons.append(InlineKeyboardButton(t.gettext("Remove #{number}", number=schedule.id),
                                            callback_data=make(Kind.SCHEDULE, "x", number)))
        rows.append(buttons)
    if not planned:
        lines.append(t.gettext("None yet."))
    rows.append([InlineKeyboardButton(t.gettext("Reminders every Monday 18:00"),
                                      callback_data=make(Kind.SCHEDULE, "a", "r"))])
    rows.append([InlineKeyboardButton(t.gettext("Summary every Monday 18:00"),
                                      callback_data=make(Kind.SCHEDULE, "a", "s"))])
    lines.append(t.gettext(
        "Other times: /schedule add reminder|summary followed by a cron expression "
        "(0 18 * * 1) or a date and time (2026-12-01 18:00)."))
    return render.View(render.escape("\n".join(lines)), InlineKeyboardMarkup(rows))


async def on_schedule(update: Update, context: Context) -> None:
    """List the schedules with buttons; /schedule add reminder|summary <cron or time>."""
    t = await organizer_translator(update, context)
    chat = update.effective_chat
    assert chat is not None
    args = context.args or []
    if args and args[0] == "add":
        if len(args) < 3 or args[1] not in ("reminder", "summary"):
            await _send_text(context, chat.id, render.escape(t.gettext(
                "Write /schedule add reminder|summary followed by a cron expression "
                "(0 18 * * 1) or a date and time (2026-12-01 18:00).")))
            return
        try:
            await context.organizing.add_schedule(args[1], " ".join(args[2:]))
        except ScheduleError as exc:
            await _send_text(context, chat.id, render.escape(str(exc)))
            return
        await sync_jobs(context.application)
    await send(context, chat.id, await _schedule_view(context, t))


async def on_schedule_button(update: Update, context: Context) -> None:
    """Pause, resume or remove a schedule, or add a preset one."""
    query = update.callback_query
    assert query is not None
    t = await organizer_translator(update, context)
    fields = parse(Kind.SCHEDULE, query.data)
    organizing = context.organizing
    if fields is None:
        await acknowledge(query, render.stale_notice(t))
        return
    action, target = fields
    if action == "a" and target in ("r", "s"):
        await organizing.add_schedule(REMINDER if target == "r" else SUMMARY, "0 18 * * 1")
    elif action in ("p", "r") and target.isdigit():
        await organizing.pause_schedule(int(target), action == "p")
    elif action == "x" and target.isdigit():
        await organizing.remove_schedule(int(target))
    else:
        await acknowledge(query, render.stale_notice(t))
        return
    await sync_jobs(context.application)
    await acknowledge(query)
    await replace_message(query, await _schedule_view(context, t))


