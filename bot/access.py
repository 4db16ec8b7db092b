"""Signing in to the web console: one-time links, sessions, and who may have them.

An organizer (a user id in ``CONSULTBOT_ADMINS``) asks for a link (``/console``
in the bot, ``consultbot console-link USER_ID`` on the server). The link holds
a random token valid :data:`LINK_MINUTES` minutes, usable once; using it starts
a session whose own random token goes in a cookie. The database keeps only
SHA-256 hashes of both tokens. A session ends when its organizer signs out,
after ``CONSULTBOT_WEB_IDLE`` minutes without a request, or as soon as its
organizer is no longer in ``CONSULTBOT_ADMINS``. Every state-changing request
carries a CSRF token derived from the session (:func:`csrf_token`).

Sign-ins and refusals are logged under the organizer's pseudonym
(:func:`bot.pseudonyms.log_id`), never their Telegram id or a token.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from storage.db import Database, transaction

from bot.config import Config
from bot.pseudonyms import log_id
from storage import console

logger = logging.getLogger(__name__)

LINK_MINUTES = 10
_CSRF = b"consultbot/console/csrf:"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Refusal(StrEnum):
    """Why a sign-in link or a session is not accepted (each has its own page)."""

    UNKNOWN = "unknown"  # never issued, or mistyped
    EXPIRED = "expired"
    USED = "used"
    NOT_ORGANIZER = "not_organizer"


class SignInRefused(Exception):
    def __init__(self, reason: Refusal) -> None:
        super().__init__(reason.value)
        self.reason = reason


class NotAnOrganizer(Exception):
    """A link asked for someone who is not in CONSULTBOT_ADMINS."""


@dataclass(frozen=True, slots=True)
class Session:
    """A signed-in organizer, as a request sees them."""

    token_hash: str
    user_id: int
    language: str | None
    csrf: str
    who: str  # the log pseudonym


class Access:
    """Links and sessions over one database, for the organizers the configuration names."""

    def __init__(self, db: Database, config: Config, clock: Callable[[], dt.datetime],
                 secret: str) -> None:
        self.db = db
        self.config = config
        self.clock = clock
        self.secret = secret

    def who(self, user_id: int) -> str:
        return log_id(self.secret, user_id)

    async def new_link(self, user_id: int) -> tuple[str, dt.datetime]:
        """A one-time sign-in link for an organizer, and when it expires."""
        if user_id not in self.config.admins:
            raise NotAnOrganizer(user_id)
        token = secrets.token_urlsafe(32)
        now = self.clock()
        expires = now + dt.timedelta(minutes=LINK_MINUTES)
        async with transaction(self.db) as tx:
            await console.add_link(tx, _hash(token), user_id, now, expires)
        logger.info("console sign-in link issued to organizer %s", self.who(user_id))
        return f"{self.config.console_url}signin/{token}", expires

    async def sign_in(self, token: str, language: str | None) -> str:
        """Use a link: the new session's token (for the cookie), or :class:`SignInRefused`."""
        token_hash, now = _hash(token), self.clock()
        async with transaction(self.db) as tx:
            link = await console.get_link(tx, token_hash)
            reason = (Refusal.UNKNOWN if link is None else
                      Refusal.USED if link.used_at is not None else
                      Refusal.EXPIRED if link.expires_at <= now else
                      Refusal.NOT_ORGANIZER if link.user_id not in self.config.admins else None)
            if link is not None and link.used_at is None:
                await console.use_link(tx, token_hash, now)
            if reason is None and link is not None:
                session = secrets.token_urlsafe(32)
                await console.add_session(tx, _hash(session), link.user_id, language, now)
                await console.forget_expired(tx, now - self._idle(), now)
        if reason is not None:
            whom = f"organizer {self.who(link.user_id)}" if link else "an unknown link"
            logger.warning("console sign-in refused (%s): %s", reason.value, whom)
            raise SignInRefused(reason)
        assert link is not None
        logger.info("console sign-in: organizer %s", self.who(link.user_id))
        return session

    def _idle(self) -> dt.timedelta:
        return dt.timedelta(minutes=self.config.web_idle)

    async def session(self, token: str) -> Session | None:
        """The session this cookie holds, still alive (its idle time restarts), or None."""
        token_hash, now = _hash(token), self.clock()
        found = await console.get_session(self.db, token_hash)
        if found is None:
            return None
        if found.last_seen_at <= now - self._idle() or found.user_id not in self.config.admins:
            async with transaction(self.db) as tx:
                await console.end_session(tx, token_hash)
            why = "idle" if found.user_id in self.config.admins else "no longer an organizer"
            logger.info("console session of organizer %s ended (%s)", self.who(found.user_id),
                        why)
            return None
        if now - found.last_seen_at >= dt.timedelta(seconds=30):  # a write a minute at most
            async with transaction(self.db) as tx:
                await console.touch_session(tx, token_hash, now)
        return Session(token_hash, found.user_id, found.language,
                       csrf_token(self.secret, token_hash), self.who(found.user_id))

    async def set_language(self, session: Session, language: str) -> None:
        async with transaction(self.db) as tx:
            await console.set_session_language(tx, session.token_hash, language)

    async def sign_out(self, session: Session) -> None:
        async with transaction(self.db) as tx:
            await console.end_session(tx, session.token_hash)
        logger.info("console sign-out: organizer %s", session.who)


def csrf_token(secret: str, session_hash: str) -> str:
    """The token a session's forms carry: bound to the session, never stored."""
    return hmac.digest(secret.encode(), _CSRF + session_hash.encode(), "sha256").hex()[:32]


def csrf_matches(session: Session, given: str | None) -> bool:
    return given is not None and hmac.compare_digest(session.csrf, given)
