"""Builds the PTB Application (lifecycle hooks, request settings, the handler registry) and
the web console beside it, or alone.

Resources (the database) are opened in ``post_init`` and closed in
``post_shutdown``; they belong to the application, not to module globals. The
console gets its own read-only connection to the same database, and the words
of a reminder from :mod:`handlers.render` (handed in: it imports no handler).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import logging
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import handlers
from handlers import render
from handlers.commands import Audience, described
from storage.db import Database, connect, connect_reader, transaction
from storage.lock import RunLock
from storage.responses import stored_files
from storage.rounds import Tally, release_claims
from storage.settings import PSEUDONYM_SECRET, get_or_create_setting
from storage.updates import KEEP, prune_updates
from telegram import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    InlineKeyboardMarkup,
)
from telegram.error import TelegramError
from telegram.ext import AIORateLimiter, ApplicationBuilder, ContextTypes

from bot import media
from bot.access import Access
from bot.api import ALLOWED_UPDATES, ConsultBot, reach_api
from bot.config import Config
from bot.console import Resources, build_app, serve
from bot.console.exports import Exports
from bot.context import BotData, ConsultApplication, Context, HookApplication, utcnow
from bot.delivery import DeliveryWorker
from bot.i18n import CONSOLE_DOMAIN, Catalogs, Translator
from bot.leadership import Leadership
from bot.ordering import PerChatUpdateProcessor
from bot.organizing import FoundChat, Organizing, find_chat
from bot.participation import Participation
from bot.publishing import follow_published, newer_survey, use_survey
from bot.rounds import Reminder, report_round
from bot.scheduling import SYNC_SECONDS, follow_schedules, start_schedules, sync_jobs
from bot.survey.model import Survey
from bot.survey.search import normalize, warm_up
from bot.transport import AiohttpRequest
from bot.webhook import Webhook, leave_webhook, webhook_serving

logger = logging.getLogger(__name__)

MAX_CONCURRENT_UPDATES = 256
PRUNE_SECONDS = 3600  # how often update ids Telegram cannot send again are forgotten
FORGET_JOB = "forget old update ids"
SWEEP_AGE = 3600.0  # seconds: a fleet's leader sweeps only stored files older than this

# Libraries that would log participants' words (PTB and aiosqlite at DEBUG log
# whole updates, request parameters and SQL parameters) or the token (httpx logs
# URLs, which hold it).
_CHATTY_LOGGERS = {"telegram": logging.INFO, "aiosqlite": logging.INFO,
                   "httpx": logging.WARNING, "httpcore": logging.WARNING}


def _keep_contents_out_of_logs() -> None:
    """Participants' words and the token never reach a log, whatever the log level.

    Each library gets an explicit level (an unset one would follow the root logger
    down to DEBUG): its floor, or the root's level when that is stricter.
    """
    root = logging.getLogger().getEffectiveLevel()
    for name, floor in _CHATTY_LOGGERS.items():
        logging.getLogger(name).setLevel(max(floor, root))


def build_application(
    config: Config,
    survey: Survey,
    *,
    catalogs: Catalogs | None = None,
    clock: Callable[[], dt.datetime] = utcnow,
    deliverable: Callable[[int], bool] | None = None,
) -> ConsultApplication:
    """The bot, ready for :func:`running`; nothing is opened yet.

    ``deliverable``: the chats rounds may be sent to (the sandbox: those it
    simulates); every chat by default.
    """
    _keep_contents_out_of_logs()
    api = config.api_url
    bot = ConsultBot(
        config.require_token(),
        base_url=f"{api}/bot",
        base_file_url=f"{api}/file/bot",
        request=AiohttpRequest(connection_pool_size=64, connect_timeout=10, read_timeout=15,
                               proxy=config.proxy),
        get_updates_request=AiohttpRequest(connection_pool_size=2, read_timeout=15,
                                           proxy=config.proxy),
        # Replies answer one participant's own action: no global throttle on them, but
        # Telegram's 20 messages a minute per group is kept, and a 429 pauses every
        # request for its retry_after before a retry.
        rate_limiter=AIORateLimiter(overall_max_rate=0, max_retries=3),
    )
    application: ConsultApplication = (
        ApplicationBuilder()
        .bot(bot)
        .context_types(ContextTypes(context=Context, bot_data=BotData))
        .concurrent_updates(PerChatUpdateProcessor(MAX_CONCURRENT_UPDATES))
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
        .build()
    )
    data = application.bot_data
    data.config = config
    data.survey = survey
    data.catalogs = (catalogs or Catalogs.load()).with_fallbacks(survey.bot_language)
    data.clock = clock
    data.deliverable = deliverable
    data.console_words = Catalogs.load(domain=CONSOLE_DOMAIN)
    handlers.register(application)
    return application


async def _post_init(application: HookApplication) -> None:
    data = application.bot_data
    config = data.config
    if data.run_lock is None:  # one serving process per database (cmd_run took it first)
        data.run_lock = RunLock(config.database).acquire()
    try:
        data.database = await connect(config.database)
    except BaseException:
        data.run_lock.release()
        raise
    try:  # PostgreSQL: one polling process, or any number of webhook workers, never both
        if data.polling:
            await data.database.serve_alone()
        else:
            await data.database.serve_alongside()
    except BaseException:
        await data.database.close()
        data.database = None
        raise
    database = data.database
    data.secret = config.secret or await get_or_create_setting(
        database, PSEUDONYM_SECRET, secrets.token_hex(32))
    assert data.survey is not None
    assert data.catalogs is not None
    data.participation = Participation(database, data.survey, data.clock, config.db,
                                       data.catalogs.command_words(normalize))
    data.organizing = Organizing(database, data.survey, config, data.clock,
                                 catalogs=data.catalogs, secret=data.secret,
                                 wake=lambda: data.worker.wake() if data.worker else None,
                                 schedules_changed=lambda: sync_jobs(application))
    data.access = Access(database, config, data.clock, data.secret)
    await follow_published(data)  # a survey published from the console wins
    warm_up(data.survey.questions)  # the first country typed does not wait for CLDR
    data.bot_username = application.bot.username
    follow_schedules(application)
    leadership = Leadership(database.lead, lambda: _lead(application),
                            lambda: _step_down(application), interval=config.leader_check)
    if not await leadership.check():
        logger.info("another worker leads (runs the schedules and sends the rounds); this "
                    "one will take over if it stops")
    if database.dialect != "sqlite":  # on SQLite this process is alone: it always leads
        data.leadership_task = asyncio.create_task(leadership.run(), name="leadership")
    logger.info("bot @%s ready (survey %s v%s)", data.bot_username,
                data.survey.id if data.survey else "?", data.survey.version if data.survey else "?")


async def _lead(application: HookApplication) -> None:
    """This process became the leader (at start when alone on its database): it runs the
    schedules, sends the outbox and forgets old update ids (see bot.leadership)."""
    data = application.bot_data
    data.leading = True
    if not data.polling and data.database is not None and data.database.dialect == "postgresql":
        logger.info("leading the webhook workers: this process runs the schedules and sends "
                    "the rounds")
    await _tidy(application)
    queue = application.job_queue
    assert queue is not None
    queue.run_repeating(_forget_updates, interval=PRUNE_SECONDS, first=PRUNE_SECONDS,
                        name=FORGET_JOB)
    await _set_commands(application)
    await _start_delivery(application)
    await start_schedules(application)


async def _step_down(application: HookApplication) -> None:
    """The lead was lost (the connection holding it failed): stop what only the leader
    does; another worker now does it."""
    data = application.bot_data
    data.leading = False
    logger.warning("no longer the leader (its database connection was lost): the schedules "
                   "and rounds are left to another worker")
    queue = application.job_queue
    assert queue is not None
    for job in queue.jobs():
        if job.name and (job.name == FORGET_JOB or job.name.startswith("schedule ")):
            job.schedule_removal()
    await _stop_delivery(application)


async def _tidy(application: HookApplication) -> None:
    """On becoming the leader, the only sender: what a process that died mid-way left
    behind."""
    data = application.bot_data
    assert data.database is not None
    async with transaction(data.database) as tx:
        await release_claims(tx)  # messages it had taken but not sent: they go out again
    # beside other workers, a file stored a moment ago may not have its answer committed yet
    older = None if data.polling else SWEEP_AGE
    swept = await asyncio.to_thread(media.sweep, data.config.db,
                                    await stored_files(data.database), older)
    if swept:
        logger.info("removed %d stored file(s) no answer refers to", swept)
    await _forget_updates_now(application)


async def _forget_updates(context: Context) -> None:
    await _forget_updates_now(context.application)


async def _forget_updates_now(application: HookApplication) -> None:
    data = application.bot_data
    assert data.database is not None
    pruned = await prune_updates(data.database, data.clock() - KEEP)
    if pruned:
        logger.info("forgot %d update ids Telegram can no longer send again", pruned)


async def _set_commands(application: HookApplication) -> None:
    """The command menu of private chats, in every language with a catalog."""
    catalogs = application.bot_data.catalogs
    assert catalogs is not None
    scope = BotCommandScopeAllPrivateChats()
    try:
        for language in (None, *catalogs.languages):
            commands = [BotCommand(name, text[:256]) for name, text in
                        described(catalogs.get(language), {Audience.PARTICIPANT})]
            await application.bot.set_my_commands(commands, scope=scope, language_code=language)
    except TelegramError as exc:
        logger.warning("command menu not set: %s", exc)


async def _start_delivery(application: HookApplication) -> None:
    """The worker that sends rounds, with a Bot of its own (see bot.delivery)."""
    data = application.bot_data
    config = data.config
    assert data.database is not None and data.survey is not None and data.catalogs is not None
    bot = ConsultBot(
        config.require_token(), base_url=f"{config.api_url}/bot",
        base_file_url=f"{config.api_url}/file/bot",
        request=AiohttpRequest(connection_pool_size=32, read_timeout=30, write_timeout=30,
                               proxy=config.proxy),
        # never used (this bot only sends), but without it PTB builds an httpx client
        # and its TLS context, about 30 ms of every start
        get_updates_request=AiohttpRequest(connection_pool_size=1, proxy=config.proxy))
    await bot.initialize()
    database = data.database

    async def report(tally: Tally) -> None:
        assert data.catalogs is not None
        await report_round(bot, database, data.catalogs, config.admins, tally)

    def render_reminder(reminder: Reminder) -> tuple[str, InlineKeyboardMarkup]:
        assert data.catalogs is not None and data.survey is not None  # as they are now
        view = render.reminder_view(data.catalogs.get(reminder.language), data.survey,
                                    reminder)
        assert view.buttons is not None
        return view.text, view.buttons

    data.worker = DeliveryWorker(bot, database, data.survey, config, data.clock,
                                 render_reminder, report, deliverable=data.deliverable)
    data.worker_task = asyncio.create_task(data.worker.run(), name="delivery")


async def _post_shutdown(application: HookApplication) -> None:
    """Stop the delivery worker, then close the database and release the run lock, even
    when the worker failed: an open database connection would keep the process alive."""
    data = application.bot_data
    try:
        if data.leadership_task is not None:
            data.leadership_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await data.leadership_task
            data.leadership_task = None
        await _stop_delivery(application)
    finally:
        database = application.bot_data.database
        if database is not None:
            application.bot_data.database = None
            await database.close()
        if data.run_lock is not None:
            data.run_lock.release()
            data.run_lock = None


async def _stop_delivery(application: HookApplication) -> None:
    data = application.bot_data
    if data.worker_task is not None:
        data.worker_task.cancel()
        try:
            await data.worker_task
        except asyncio.CancelledError:
            pass
        except Exception:
            logger.exception("the delivery worker failed while stopping")
        data.worker_task = None
    if data.worker is not None:
        await data.worker.bot.shutdown()
        data.worker = None


@asynccontextmanager
async def running(
    application: ConsultApplication, *, poll_timeout: int = 10, webhook: Webhook | None = None,
) -> AsyncIterator[ConsultApplication]:
    """Serve inside an event loop that is already running (sandbox, tests, benchmarks).

    The same lifecycle as ``run_polling``, hooks included, without taking over the
    loop or the signals. An unreachable Bot API is retried first (:func:`reach_api`).
    Updates come by long polling, or by ``webhook`` (:mod:`bot.webhook`) when given;
    its server stops taking requests before the application stops.
    """
    data = application.bot_data
    data.polling = webhook is None
    await reach_api(application.bot, data.config.api_url)
    await application.initialize()
    try:
        if application.post_init is not None:
            await application.post_init(application)
        assert application.updater is not None
        async with contextlib.AsyncExitStack() as receiving:
            if webhook is None:
                await leave_webhook(application.bot)
                await application.updater.start_polling(
                    poll_interval=0, timeout=poll_timeout,
                    allowed_updates=list(ALLOWED_UPDATES))
                await application.start()
            else:
                await application.start()
                # registered by the leader alone (and never with CONSULTBOT_WEBHOOK_REGISTER
                # false): the webhook stays set at Telegram when a worker stops
                elected = webhook.elected and data.leading
                await receiving.enter_async_context(webhook_serving(
                    application, dataclasses.replace(webhook, elected=elected)))
            yield application
    finally:
        try:
            if application.updater is not None and application.updater.running:
                await application.updater.stop()
            if application.running:
                await application.stop()
            await application.shutdown()
        finally:  # the database closes whatever failed above
            if application.post_shutdown is not None:
                await application.post_shutdown(application)


# --- the web console ----------------------------------------------------------------------


def reminder_text(t: Translator, survey: Survey, reminder: Reminder) -> tuple[str, list[str]]:
    """A reminder as the bot words it: its Telegram HTML and its buttons' labels."""
    view = render.reminder_view(t, survey, reminder)
    labels = [b.text for row in (view.buttons.inline_keyboard if view.buttons else ())
              for b in row]
    return view.text, labels


def _console_app(organizing: Organizing, access: Access, config: Config, secret: str,
                 clock: Callable[[], dt.datetime], refresh_seconds: float,
                 published: Callable[[Survey], None] | None,
                 look_up: Callable[[str], Awaitable[FoundChat]] | None) -> Resources:
    return Resources(organizing, access, config, Catalogs.load(domain=CONSOLE_DOMAIN),
                     reminder_text, Exports(config.database, secret, clock), published=published,
                     find_chat=look_up, refresh_seconds=refresh_seconds)


@asynccontextmanager
async def console_serving(
    application: ConsultApplication, *, fallback: bool = False, refresh_seconds: float = 5.0,
) -> AsyncIterator[str | None]:
    """Serve the console of a running bot (inside :func:`running`) on ``CONSULTBOT_WEB``;
    yields its address (None when the setting is off). It reads on a connection of its
    own and writes through the bot's; a survey published there is run at once."""
    data = application.bot_data
    config = data.config
    if config.web is None:
        yield None
        return
    assert data.organizing is not None and data.access is not None and data.secret
    organizing = data.organizing
    reader = await connect_reader(config.database)
    organizing.reader = reader
    bot = application.bot

    async def look_up(name: str) -> FoundChat:
        return await find_chat(bot, name)

    resources = _console_app(organizing, data.access, config, data.secret, data.clock,
                             refresh_seconds, lambda survey: use_survey(data, survey), look_up)
    try:
        async with serve(build_app(resources), *config.web, fallback=fallback) as bound:
            address = _address(config, bound)
            data.access.config = config.with_overrides(web_url=address)  # links: where it is
            yield address
    finally:
        organizing.reader = organizing.db
        await reader.close()


def _address(config: Config, bound: tuple[str, int]) -> str:
    """The console's address: CONSULTBOT_WEB_URL, else where it really listens."""
    if config.web_url:
        return config.web_url
    host = f"[{bound[0]}]" if ":" in bound[0] else bound[0]
    return f"http://{host}:{bound[1]}/"


@asynccontextmanager
async def console_alone(
    config: Config, survey: Survey, *, clock: Callable[[], dt.datetime] = utcnow,
    refresh_seconds: float = 5.0,
) -> AsyncIterator[str]:
    """Serve the console without a bot in this process (``consultbot web``), against the
    bot's database; it follows surveys published meanwhile, as the bot does."""
    assert config.web is not None
    db = await connect(config.database)
    reader: Database | None = None
    follower: asyncio.Task[None] | None = None
    try:
        reader = await connect_reader(config.database)
        secret = config.secret or await get_or_create_setting(db, PSEUDONYM_SECRET,
                                                              secrets.token_hex(32))
        catalogs = Catalogs.load().with_fallbacks(survey.bot_language)
        organizing = Organizing(db, survey, config, clock, reader=reader, catalogs=catalogs,
                                secret=secret)
        newer = await newer_survey(db, survey)
        if newer is not None:
            organizing.use_survey(newer)

        async def follow() -> None:
            while True:
                await asyncio.sleep(SYNC_SECONDS)
                found = await newer_survey(db, organizing.survey)
                if found is not None:
                    organizing.use_survey(found)

        follower = asyncio.create_task(follow(), name="follow published surveys")
        access = Access(db, config, clock, secret)
        resources = _console_app(organizing, access, config, secret, clock, refresh_seconds,
                                 None, None)
        async with serve(build_app(resources), *config.web) as bound:
            address = _address(config, bound)
            access.config = config.with_overrides(web_url=address)
            yield address
    finally:
        if follower is not None:
            follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await follower
        if reader is not None:
            await reader.close()
        await db.close()
