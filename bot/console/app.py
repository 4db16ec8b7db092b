"""The console's aiohttp application: resources, sign-in guard, CSRF, rendering.

Every page is rendered on the server from the templates in ``templates/``;
``static/`` holds its one stylesheet and one small script (the overview's
live figures, an export's progress). Nothing is fetched from elsewhere: the
Content-Security-Policy allows this origin only.

Only the sign-in pages, the stylesheet and the script answer without a
session; anything else answers a stranger with the explanation of how to sign
in. Every POST carries the session's CSRF token (a form field, or the query
string of a file upload), else it is refused and logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo

import jinja2
from aiohttp import web
from babel.dates import format_date, format_datetime
from babel.numbers import format_percent

from bot.access import Access, Session, csrf_matches
from bot.config import Config
from bot.console.exports import Exports
from bot.i18n import Catalogs, Translator, best_language, language_name
from bot.organizing import FoundChat, Organizing
from bot.rounds import Reminder
from bot.survey.model import Survey

logger = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
SESSION_COOKIE = "consultbot_console"
PUBLIC = ("signin/", "static/", "signed-out")

ReminderText = Callable[[Translator, Survey, Reminder], tuple[str, list[str]]]

RESOURCES: web.AppKey[Resources] = web.AppKey("resources")
FRESH: web.AppKey[asyncio.Task[None]] = web.AppKey("fresh")
SESSION: web.RequestKey[Session | None] = web.RequestKey("session")
WORDS: web.RequestKey[Translator] = web.RequestKey("words", Translator)


@dataclass(eq=False)
class Resources:
    """What the pages reach: the use cases, sign-in, the console's own words.

    ``reminder_text`` words a reminder as the bot sends it (Telegram HTML and its
    buttons' labels: the application factory hands it in); ``published`` is
    called with a survey just published here (a bot in this process switches at
    once); ``find_chat`` looks a @name up on Telegram, when a bot is at hand.
    """

    organizing: Organizing
    access: Access
    config: Config
    words: Catalogs
    reminder_text: ReminderText
    exports: Exports
    published: Callable[[Survey], None] | None = None
    find_chat: Callable[[str], Awaitable[FoundChat]] | None = None
    refresh_seconds: float = 5.0
    drafts: dict[str, tuple[int, str, bytes]] = field(default_factory=dict)
    last_request: float = 0.0  # time.monotonic() of the latest signed-in request

    def watched(self) -> bool:
        """Someone used the console in the last two minutes."""
        return time.monotonic() - self.last_request < 120

    @property
    def prefix(self) -> str:
        return urlsplit(self.config.console_url).path or "/"

    @property
    def secure(self) -> bool:
        return self.config.console_url.startswith("https://")


def resources(request: web.Request) -> Resources:
    return request.app[RESOURCES]


def translator(request: web.Request) -> Translator:
    return request[WORDS]


def session(request: web.Request) -> Session:
    found = request[SESSION]
    assert found is not None  # the guard let only signed-in requests through
    return found


def _language(request: web.Request, words: Catalogs, chosen: str | None) -> str:
    if chosen in words.languages:
        return chosen
    asked = request.query.get("lang")
    if asked in words.languages:
        return asked
    for part in request.headers.get("Accept-Language", "").split(","):
        found = best_language(part.split(";")[0].strip(), words.languages)
        if found:
            return found
    return "en"


# inline style attributes carry the bars' lengths only; no inline script runs
_CSP = ("default-src 'none'; style-src 'self'; style-src-attr 'unsafe-inline'; "
        "script-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'")


@web.middleware
async def guard(request: web.Request,
                handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                ) -> web.StreamResponse:
    """Security headers on every answer; a session for every page but the public ones; a
    CSRF token on every POST."""
    res = resources(request)
    inner = request.path[len(res.prefix):] if request.path.startswith(res.prefix) else None
    token = request.cookies.get(SESSION_COOKIE)
    current = await res.access.session(token) if token else None
    request[SESSION] = current
    if current is not None:
        res.last_request = time.monotonic()
    request[WORDS] = res.words.get(_language(request, res.words,
                                           current.language if current else None))
    if inner is None:
        response: web.StreamResponse = await not_found(request)
    elif current is None and not inner.startswith(PUBLIC):
        response = render(request, "signin_needed.html", status=401)
    elif request.method == "POST" and not inner.startswith("signin/"):
        assert current is not None
        given = request.query.get("csrf")
        if given is None and request.content_type == "application/x-www-form-urlencoded":
            given = (await request.post()).get("csrf")  # type: ignore[assignment]
        if not csrf_matches(current, given if isinstance(given, str) else None):
            logger.warning("console request refused (missing or wrong CSRF token): organizer %s",
                           current.who)
            response = render(request, "message.html", status=403, title=translator(
                request).gettext("Refused"), text=translator(request).gettext(
                "This form was out of date or did not come from the console. Go back, reload "
                "the page and try again."))
        else:
            response = await _call(handler, request)
    else:
        response = await _call(handler, request)
    _secure(response, inner or "")
    return response


async def _call(handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
                request: web.Request) -> web.StreamResponse:
    try:
        return await handler(request)
    except (web.HTTPNotFound, web.HTTPMethodNotAllowed):
        return await not_found(request)


def _secure(response: web.StreamResponse, inner: str) -> None:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", _CSP)
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "no-referrer"
    headers["X-Frame-Options"] = "DENY"
    if not inner.startswith("static/"):
        headers["Cache-Control"] = "no-store"


async def not_found(request: web.Request) -> web.Response:
    t = translator(request)
    return render(request, "message.html", status=404, title=t.gettext("Not found"),
                  text=t.gettext("There is no such page in the console."))


def url(request: web.Request, path: str = "", **query: object) -> str:
    """A console address, under the prefix CONSULTBOT_WEB_URL gives."""
    shown = {k: v for k, v in query.items() if v not in (None, "")}
    suffix = f"?{urlencode(shown)}" if shown else ""
    return f"{resources(request).prefix}{path.lstrip('/')}{suffix}"


def redirect(request: web.Request, path: str, **query: object) -> web.Response:
    """303 See Other: after a change, the browser asks for the page again (a reload repeats
    nothing)."""
    return web.Response(status=303, headers={"Location": url(request, path, **query)})


def set_session_cookie(request: web.Request, response: web.StreamResponse,
                       token: str | None) -> None:
    res = resources(request)
    if token is None:
        response.del_cookie(SESSION_COOKIE, path=res.prefix)
        return
    response.set_cookie(SESSION_COOKIE, token, path=res.prefix, httponly=True,
                        samesite="Strict", secure=res.secure)


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True,
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)


_ENV = _environment()


def render(request: web.Request, template: str, *, status: int = 200,
           **context: Any) -> web.Response:
    """A page in the organizer's language (``_`` and ``_n`` translate with ``{name}``
    placeholders; numbers, dates and percentages follow the language)."""
    res = resources(request)
    t = translator(request)
    zone = ZoneInfo(res.config.timezone)

    def when(moment: dt.datetime | None) -> str:
        if moment is None:
            return "—"
        return format_datetime(moment, "medium", tzinfo=zone, locale=t.locale)

    def day(moment: dt.date | None) -> str:
        return format_date(moment, "medium", locale=t.locale) if moment else "—"

    def percent(share: float | None) -> str:
        return format_percent(share, "#,##0%", locale=t.locale) if share is not None else "—"

    current = request.get(SESSION)
    page = res.words.languages
    html = _ENV.get_template(template).render(
        _=t.gettext, _n=t.ngettext, t=t, num=t.number, when=when, day=day, percent=percent,
        url=lambda path="", **query: url(request, path, **query), session=current,
        csrf=current.csrf if current else "", languages=[(code, language_name(code))
                                                         for code in page],
        language=t.language, rtl=t.rtl, path=request.path, zone=res.config.timezone,
        survey=res.organizing.survey, **context)
    return web.Response(text=html, status=status, content_type="text/html", charset="utf-8")


def build_app(res: Resources) -> web.Application:
    """The console, with every page under the prefix of CONSULTBOT_WEB_URL."""
    from bot.console import pages

    app = web.Application(middlewares=[guard], client_max_size=6 * 1024 * 1024)
    app[RESOURCES] = res
    pages.add_routes(app, res.prefix)
    app.router.add_static(res.prefix + "static/", HERE / "static", append_version=False)

    async def start(app: web.Application) -> None:
        task = asyncio.create_task(res.organizing.keep_overview_fresh(
            res.refresh_seconds, res.watched), name="console overview")
        app[FRESH] = task

    async def close(app: web.Application) -> None:
        task = app[FRESH]
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await res.exports.close()

    app.on_startup.append(start)
    app.on_cleanup.append(close)
    return app
