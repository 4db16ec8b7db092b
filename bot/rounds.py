"""Starting reminder rounds and summary broadcasts, and what their messages say.

A round is decided and written whole (one outbox row per recipient, and for a
summary its text and chart in every recipient language) before the delivery
worker sends anything, so a crash in the middle of a round loses nothing.
Rounds can be started by the running bot (chat, schedules) or by the command
line; the bot's delivery worker sends them either way.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import logging
from dataclasses import dataclass

from babel.dates import format_timedelta
from storage.db import Database, transaction
from storage.participants import get_participant
from storage.responses import get_answers, get_response
from storage.rounds import REMINDER, SUMMARY, Recipient, ReminderOutlook, Tally
from storage.subscriptions import list_subscriptions
from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden

from bot.config import Config
from bot.i18n import Catalogs, Translator
from bot.summary import Summary, build_summary, render_chart, render_text
from bot.survey import engine
from bot.survey.model import Survey
from storage import rounds

logger = logging.getLogger(__name__)

@dataclass(frozen=True, slots=True)
class RoundStarted:
    round_id: int | None  # None: nobody to send to, no round was created
    recipients: int


class SummaryShowsNothing(Exception):
    """A broadcast refused: small-cell protection withholds every figure of the summary
    (``summary`` says why: too few participants, or too few answers to each question)."""

    def __init__(self, summary: Summary) -> None:
        super().__init__("the summary shows no figure")
        self.summary = summary


async def start_reminder_round(
    db: Database, survey: Survey, config: Config, now: dt.datetime, origin: str
) -> RoundStarted:
    """Queue a reminder to everyone the settings allow (see ``reminder_targets``)."""
    targets = await rounds.reminder_targets(
        db, survey.id, now, interval=dt.timedelta(hours=config.reminder_interval),
        most=config.reminder_max, unconsented=config.remind_unconsented)
    recipients = [Recipient(participant, language or survey.default_language, participant)
                  for participant, language in targets]
    if not recipients:
        return RoundStarted(None, 0)
    async with transaction(db) as tx:
        round_id = await rounds.create_round(tx, REMINDER, origin, recipients, now)
    logger.info("reminder round %d queued for %d participant(s)", round_id, len(recipients))
    return RoundStarted(round_id, len(recipients))


async def reminder_outlook(
    db: Database, survey: Survey, config: Config, now: dt.datetime
) -> ReminderOutlook:
    """Who a reminder round would reach now, who not and why, and when the next person
    falls due, under the configured interval and maximum."""
    return await rounds.reminder_outlook(
        db, survey.id, now, interval=dt.timedelta(hours=config.reminder_interval),
        most=config.reminder_max, unconsented=config.remind_unconsented)


async def current_summary(
    db: Database, survey: Survey, config: Config, now: dt.datetime
) -> Summary:
    """What a summary broadcast would publish now, small-cell protection applied."""
    return await build_summary(db, survey, now, config.small_cell)


async def render_for(summary: Summary, survey: Survey, t: Translator) -> tuple[str, bytes]:
    """``summary`` as a recipient in ``t``'s language gets it: caption and chart."""
    text = render_text(summary, survey, t)
    chart = await asyncio.to_thread(render_chart, summary, survey, t)
    return text, chart


async def render_summary(
    db: Database, survey: Survey, t: Translator, config: Config, now: dt.datetime
) -> tuple[str, bytes]:
    """The summary as a recipient in ``t``'s language gets it: caption and chart."""
    return await render_for(await current_summary(db, survey, config, now), survey, t)


async def start_summary_round(
    db: Database, survey: Survey, catalogs: Catalogs, config: Config, now: dt.datetime,
    origin: str, *, allow_empty: bool = True,
) -> RoundStarted:
    """Queue the summary to every reachable subscriber, rendered once per language.

    Without ``allow_empty``, a summary that would show no figure is not sent:
    :class:`SummaryShowsNothing` is raised instead.
    """
    subscribers = await list_subscriptions(db, reachable_only=True)
    if not subscribers:
        return RoundStarted(None, 0)
    summary = await current_summary(db, survey, config, now)
    if not allow_empty and not summary.shows_figures:
        raise SummaryShowsNothing(summary)
    languages = {_language(survey, s.language) for s in subscribers}
    contents = {language: await render_for(summary, survey, catalogs.get(language))
                for language in sorted(languages)}
    recipients = [Recipient(s.chat_id, _language(survey, s.language), s.participant_id)
                  for s in subscribers]
    async with transaction(db) as tx:
        round_id = await rounds.create_round(tx, SUMMARY, origin, recipients, now)
        for language, (text, chart) in contents.items():
            await rounds.save_contents(tx, round_id, language, text, chart)
    logger.info("summary round %d queued for %d chat(s)", round_id, len(recipients))
    return RoundStarted(round_id, len(recipients))


def _language(survey: Survey, language: str) -> str:
    return language if language in survey.languages else survey.default_language


@dataclass(frozen=True, slots=True)
class Reminder:
    """What a reminder says to one person now (the renderer words it)."""

    language: str
    consented: bool
    answered: int = 0
    total: int = 0


async def reminder_for(
    db: Database, survey: Survey, config: Config, participant_id: int, now: dt.datetime
) -> Reminder | None:
    """The reminder for this participant now, or None if they no longer need one.

    Checked again when each reminder goes out: since the round was queued, the
    person may have answered, stopped reminders, or been reminded by another round.
    """
    participant = await get_participant(db, participant_id)
    if participant is None or participant.reminders_off or participant.blocked_at is not None:
        return None
    last = participant.last_reminded_at
    if participant.reminders_sent >= config.reminder_max or (
            last is not None and now - last < dt.timedelta(hours=config.reminder_interval)):
        return None
    language = participant.language or survey.default_language
    if not participant.consented:
        return Reminder(language, consented=False)
    response = await get_response(db, participant_id, survey.id)
    if response is None or response.completed_at is not None:
        return None
    answers = await get_answers(db, response.id)
    progress = engine.resume(survey, answers, response.current, now).progress
    if progress.completed:
        return None
    _, total = engine.position(survey, progress, now)
    return Reminder(language, True, engine.answered_count(survey, progress, now), total)


def report_text(t: Translator, tally: Tally) -> str:
    """What the organizers read when a round has nothing left to send."""
    kind = (t.gettext("Reminder round") if tally.kind == REMINDER
            else t.gettext("Summary broadcast"))
    duration = format_timedelta(dt.timedelta(seconds=tally.seconds or 0), locale=t.locale,
                                threshold=1.1)
    return t.gettext(
        "{kind} {number} finished in {duration}: {sent} sent, {unreachable} unreachable, "
        "{failed} failed, {skipped} no longer needed.",
        kind=kind, number=tally.round_id, duration=duration, sent=tally.sent,
        unreachable=tally.unreachable, failed=tally.failed, skipped=tally.skipped)


async def report_round(
    bot: Bot, db: Database, catalogs: Catalogs, organizers: frozenset[int], tally: Tally
) -> None:
    """Tell every organizer how a round went, in their language."""
    for organizer in sorted(organizers):
        participant = await get_participant(db, organizer)
        t = catalogs.get(participant.language if participant else None)
        try:
            await bot.send_message(organizer, html.escape(report_text(t, tally), quote=False),
                                   parse_mode=ParseMode.HTML)
        except (Forbidden, BadRequest) as exc:
            logger.info("an organizer could not get the report of round %d: %s",
                        tally.round_id, exc.message)
