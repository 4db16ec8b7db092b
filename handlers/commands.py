"""The one table of commands: name, handler, who may use it, and its help text.

It drives the handler list (:mod:`handlers`), ``/help`` and the command menu
each language gets with ``setMyCommands``. Help texts are marked with ``N_``
for pybabel and translated when shown.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from enum import Enum
from typing import Any

from bot.context import Context
from bot.i18n import N_, Translator
from telegram import Update

from handlers import journey, organizer, privacy, render, subscriptions
from handlers.reply import reply, send, translator

Handler = Callable[[Update, Context], Coroutine[Any, Any, None]]


class Audience(Enum):
    PARTICIPANT = "participant"  # anyone, in a private chat
    ORGANIZER = "organizer"  # the ids in CONSULTBOT_ADMINS, in their private chat


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    handler: Handler
    audience: Audience
    help: str  # English; translated when shown


async def on_help(update: Update, context: Context) -> None:
    """List what the participant (and an organizer, their own commands) can do."""
    if (user_id := journey.private_user_id(update)) is None:
        return
    t = translator(context, update, await context.participation.language_of(user_id))
    audiences = {Audience.PARTICIPANT}
    if organizer.is_organizer(update, context):
        audiences.add(Audience.ORGANIZER)
    await send(context, user_id, render.View(render.help_text(t, described(t, audiences))))


COMMANDS: tuple[Command, ...] = (
    Command("start", journey.on_start, Audience.PARTICIPANT,
            N_("Start or continue the consultation")),
    Command("back", journey.on_back, Audience.PARTICIPANT,
            N_("Go back to the previous question")),
    Command("skip", journey.on_skip, Audience.PARTICIPANT,
            N_("Skip the current question (if optional)")),
    Command("language", journey.on_language_command, Audience.PARTICIPANT,
            N_("Change the language")),
    Command("mydata", privacy.on_mydata, Audience.PARTICIPANT,
            N_("See what is stored about you")),
    Command("delete", privacy.on_delete, Audience.PARTICIPANT,
            N_("Delete everything stored about you")),
    Command("subscribe", subscriptions.on_subscribe, Audience.PARTICIPANT,
            N_("Receive summaries of the results")),
    Command("unsubscribe", subscriptions.on_unsubscribe, Audience.PARTICIPANT,
            N_("Stop receiving summaries")),
    Command("stop", subscriptions.on_stop, Audience.PARTICIPANT, N_("Stop reminders")),
    Command("help", on_help, Audience.PARTICIPANT, N_("Show this help")),
    Command("stats", organizer.on_stats, Audience.ORGANIZER,
            N_("Figures of the consultation so far")),
    Command("export", organizer.on_export, Audience.ORGANIZER,
            N_("Export every response (CSV, XLSX, JSON)")),
    Command("summary", organizer.on_summary, Audience.ORGANIZER,
            N_("Preview the summary as recipients get it: /summary [language]")),
    Command("remind", organizer.on_remind, Audience.ORGANIZER,
            N_("Start a reminder round now: /remind now")),
    Command("broadcast", organizer.on_broadcast, Audience.ORGANIZER,
            N_("Send the summary to subscribers now: /broadcast now")),
    Command("schedule", organizer.on_schedule, Audience.ORGANIZER,
            N_("Scheduled rounds: list, add, pause, remove")),
    Command("console", organizer.on_console, Audience.ORGANIZER,
            N_("A sign-in link to the web console")),
)


async def on_text(update: Update, context: Context) -> None:
    """A typed message: an answer, a search, a hint — or a command typed as a word
    ("help", "aide", "مساعدة"), which runs as that command."""
    message = update.effective_message
    user_id = journey.private_user_id(update)
    if user_id is None or message is None or message.text is None:
        return
    outcome = await context.participation.type_text(user_id, update.update_id, message.text)
    command = next((c for c in COMMANDS if c.name == outcome.command), None)
    if command is not None and command.audience is Audience.PARTICIPANT:
        await command.handler(update, context)
    else:
        await reply(update, context, outcome)


def described(t: Translator, audiences: set[Audience]) -> list[tuple[str, str]]:
    """(name, help text in ``t``'s language) of the commands these audiences may use."""
    return [(c.name, t.gettext(c.help)) for c in COMMANDS if c.audience in audiences]


def by_audience(audience: Audience) -> list[Command]:
    return [c for c in COMMANDS if c.audience is audience]
