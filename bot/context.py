"""What every handler can reach: the typed context and the resources the application holds."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from storage.db import Database
from storage.lock import RunLock
from telegram.ext import Application, CallbackContext

from bot.api import ConsultBot
from bot.config import Config
from bot.i18n import Catalogs
from bot.survey.model import Survey

if TYPE_CHECKING:
    from bot.access import Access
    from bot.delivery import DeliveryWorker
    from bot.organizing import Organizing
    from bot.participation import Participation


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(eq=False)
class BotData:
    """The application's resources (PTB's ``bot_data``), set up by :mod:`bot.app`.

    Survey progress never lives here: it is in the database.
    """

    config: Config = field(default_factory=Config)
    survey: Survey | None = None
    catalogs: Catalogs | None = None
    database: Database | None = None
    run_lock: RunLock | None = None
    polling: bool = True  # updates by long polling (False: by webhook), set by ``running``
    participation: Participation | None = None
    organizing: Organizing | None = None
    access: Access | None = None  # sign-in to the web console
    console_words: Catalogs | None = None  # the web console's own words (its /console reply)
    clock: Callable[[], dt.datetime] = utcnow
    deliverable: Callable[[int], bool] | None = None  # chats rounds may reach (None: all)
    secret: str | None = None
    bot_username: str = ""
    worker: DeliveryWorker | None = None
    worker_task: asyncio.Task[None] | None = None
    leading: bool = False  # runs the schedules and sends the outbox (bot.leadership)
    leadership_task: asyncio.Task[None] | None = None


class Context(CallbackContext[ConsultBot, dict[Any, Any], dict[Any, Any], BotData]):
    """PTB's callback context with typed access to our resources."""

    @property
    def db(self) -> Database:
        database = self.bot_data.database
        if database is None:
            raise RuntimeError("the database is opened in post_init; it is not open yet")
        return database

    @property
    def participation(self) -> Participation:
        participation = self.bot_data.participation
        if participation is None:
            raise RuntimeError("the use cases are set up in post_init; not yet")
        return participation

    @property
    def organizing(self) -> Organizing:
        organizing = self.bot_data.organizing
        if organizing is None:
            raise RuntimeError("the use cases are set up in post_init; not yet")
        return organizing

    @property
    def access(self) -> Access:
        access = self.bot_data.access
        if access is None:
            raise RuntimeError("the use cases are set up in post_init; not yet")
        return access

    @property
    def survey(self) -> Survey:
        assert self.bot_data.survey is not None
        return self.bot_data.survey

    @property
    def catalogs(self) -> Catalogs:
        assert self.bot_data.catalogs is not None
        return self.bot_data.catalogs

    @property
    def config(self) -> Config:
        return self.bot_data.config

    def now(self) -> dt.datetime:
        return self.bot_data.clock()


ConsultApplication = Application[ConsultBot, Context, dict[Any, Any], dict[Any, Any], BotData, Any]
# what PTB hands to hooks and jobs: the same application, less precisely typed
HookApplication = Application[Any, Any, Any, Any, BotData, Any]
