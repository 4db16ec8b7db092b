"""The console's pages: one small handler per page or action, each calling a use case.

GET pages read; every POST changes something and answers with a redirect
(so a reload never repeats it), its outcome named in the query (``done=…``).
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
import secrets
from typing import Any

from aiohttp import web

from bot.access import Refusal, SignInRefused
from bot.console import cron, views
from bot.console.app import (
    SESSION_COOKIE,
    redirect,
    render,
    resources,
    session,
    set_session_cookie,
    translator,
)
from bot.console.exports import FIELDS, options_from
from bot.i18n import Translator
from bot.organizing import PAGE, ChatNotUsable, public_name
from bot.publishing import PublishRefused, check_file, publish, refusal
from bot.scheduling import ScheduleError
from bot.survey.model import QuestionType

logger = logging.getLogger(__name__)

Handler = Any


def add_routes(app: web.Application, prefix: str) -> None:
    get, post = app.router.add_get, app.router.add_post
    get(prefix, overview)
    get(prefix + "overview/live", overview_live)
    get(prefix + "signin/{token}", signin_page)
    post(prefix + "signin/{token}", signin)
    get(prefix + "signed-out", signed_out)
    post(prefix + "signout", signout)
    post(prefix + "language", choose_language)
    get(prefix + "results", results)
    get(prefix + "results/text/{question}", text_answers)
    get(prefix + "responses", responses)
    get(prefix + "responses/{code}", response)
    get(prefix + "exports", exports)
    post(prefix + "exports", start_export)
    get(prefix + "exports/{job}", export_job)
    get(prefix + "exports/{job}/status", export_status)
    get(prefix + "exports/{job}/file", export_file)
    get(prefix + "survey", survey)
    post(prefix + "survey/check", survey_check)
    post(prefix + "survey/publish", survey_publish)
    get(prefix + "subscribers", subscribers)
    post(prefix + "subscribers/add", subscriber_add)
    post(prefix + "subscribers/{chat}/edit", subscriber_edit)
    post(prefix + "subscribers/{chat}/remove", subscriber_remove)
    get(prefix + "rounds", rounds)
    get(prefix + "rounds/summary/{language}.png", summary_chart)
    post(prefix + "rounds/run", round_run)
    post(prefix + "rounds/schedules/add", schedule_add)
    post(prefix + "rounds/schedules/{id}/{action}", schedule_change)


async def _form(request: web.Request) -> dict[str, str]:
    data = await request.post()
    return {k: v for k, v in data.items() if isinstance(v, str)}


def _page(request: web.Request) -> int:
    raw = request.query.get("page", "1")
    return max(0, int(raw) - 1) if raw.isdigit() else 0


# --- signing in and out ------------------------------------------------------------------


async def signin_page(request: web.Request) -> web.Response:
    """The link from the bot opens this: one button signs in (a link preview that fetches
    the page uses nothing up)."""
    return render(request, "signin.html", token=request.match_info["token"])


async def signin(request: web.Request) -> web.StreamResponse:
    res = resources(request)
    t = translator(request)
    try:
        token = await res.access.sign_in(request.match_info["token"], t.language)
    except SignInRefused as exc:
        texts = {
            Refusal.UNKNOWN: t.gettext("This sign-in link is not valid. Send /console to the "
                                       "bot for a new one."),
            Refusal.EXPIRED: t.gettext("This sign-in link has expired: links are valid for 10 "
                                       "minutes. Send /console to the bot for a new one."),
            Refusal.USED: t.gettext("This sign-in link was already used: each link works "
                                    "once. Send /console to the bot for a new one."),
            Refusal.NOT_ORGANIZER: t.gettext("This link belongs to someone who is not an "
                                             "organizer of this consultation."),
        }
        return render(request, "message.html", status=403, title=t.gettext("Not signed in"),
                      text=texts[exc.reason])
    response = redirect(request, "")
    set_session_cookie(request, response, token)
    return response


async def signout(request: web.Request) -> web.StreamResponse:
    await resources(request).access.sign_out(session(request))
    response = redirect(request, "signed-out")
    set_session_cookie(request, response, None)
    return response


async def signed_out(request: web.Request) -> web.Response:
    t = translator(request)
    return render(request, "message.html", title=t.gettext("Signed out"),
                  text=t.gettext("You are signed out. Send /console to the bot to sign in "
                                 "again."))


async def choose_language(request: web.Request) -> web.StreamResponse:
    form = await _form(request)
    language = form.get("language", "")
    if language in resources(request).words.languages:
        await resources(request).access.set_language(session(request), language)
    back = form.get("back", "")
    prefix = resources(request).prefix
    local = back.startswith(prefix) and not back.startswith("//") and "\\" not in back
    target = back if local else prefix  # never another site
    return web.Response(status=303, headers={"Location": target})


# --- overview and results ----------------------------------------------------------------


async def _overview_context(request: web.Request) -> dict[str, Any]:
    res = resources(request)
    t = translator(request)
    organizing = res.organizing
    seen = await organizing.overview(latest=False)  # kept fresh in the background
    k = res.config.small_cell
    counts = seen.counts
    choices = views.filter_choices(organizing.survey, t.language)
    breakdowns = [(choice.title, views.distribution(t, choice.question,
                                                    counts.answers.get(choice.question.id, {}),
                                                    k)) for choice in choices]
    return {"people": seen.people, "counts": seen.counts, "k": k,
            "funnel": views.funnel(t, organizing.survey, seen.people, seen.counts),
            "by_language": views.languages(t, seen.counts, k), "breakdowns": breakdowns,
            "refresh": res.refresh_seconds, "now": organizing.clock()}


async def overview(request: web.Request) -> web.Response:
    return render(request, "overview.html", **await _overview_context(request))


async def overview_live(request: web.Request) -> web.Response:
    """The overview's figures alone, for the page to replace its own every few seconds."""
    return render(request, "overview_live.html", **await _overview_context(request))


async def results(request: web.Request) -> web.Response:
    res = resources(request)
    t = translator(request)
    organizing = res.organizing
    choices = views.filter_choices(organizing.survey, t.language)
    filters, asked = views.filters_from(request.query, organizing.survey, choices)
    counts = await organizing.results(filters)
    k = res.config.small_cell
    shown = [views.distribution(t, q, counts.answers.get(q.id, {}), k)
             for q in organizing.survey.questions if q.asks]
    return render(request, "results.html", counts=counts, distributions=shown, k=k,
                  choices=choices, asked=asked)


async def text_answers(request: web.Request) -> web.Response:
    res = resources(request)
    t = translator(request)
    organizing = res.organizing
    question = organizing.survey.by_id.get(request.match_info["question"])
    if question is None or question.type is not QuestionType.TEXT:
        raise web.HTTPNotFound()
    choices = views.filter_choices(organizing.survey, t.language)
    filters, asked = views.filters_from(request.query, organizing.survey, choices)
    page = _page(request)
    answers, total = await organizing.text_answers(question.id, filters, page)
    return render(request, "text_answers.html", question=question,
                  title=views.question_title(question, t.language), answers=answers,
                  total=total, page=page, pages=max(1, -(-total // PAGE)), asked=asked)


# --- responses ---------------------------------------------------------------------------


async def responses(request: web.Request) -> web.Response:
    status = request.query.get("status") or None
    if status not in (None, "completed", "in_progress", "stopped"):
        status = None
    page = _page(request)
    listed, total = await resources(request).organizing.responses(status, page)
    return render(request, "responses.html", listed=listed, total=total, page=page,
                  pages=max(1, -(-total // PAGE)), chosen=status)


async def response(request: web.Request) -> web.Response:
    code = request.match_info["code"]
    found = await resources(request).organizing.response(code) if re.fullmatch(
        r"[0-9a-f]{20}", code) else None
    if found is None:
        raise web.HTTPNotFound()
    coded, full = found
    survey = resources(request).organizing.survey
    t = translator(request)
    shown = []
    for answer in full.answers:
        question = survey.by_id.get(answer.question_id)
        title = views.question_title(question, t.language) if question else answer.question_id
        value = answer.value
        if question is not None and value is not None and question.choices:
            labels = {c.id: c.label.get(t.language) for c in question.choices}
            value = ", ".join(labels.get(v, v) for v in value.split()) if (
                question.type is QuestionType.SELECT_MULTIPLE) else labels.get(value, value)
        shown.append((answer, title, value, question is None))
    return render(request, "response.html", coded=coded, full=full, answers=shown)


# --- exports -----------------------------------------------------------------------------


async def exports(request: web.Request) -> web.Response:
    return render(request, "exports.html", fields=FIELDS, problems={},
                  values={f.name: f.default for f in FIELDS})


async def start_export(request: web.Request) -> web.StreamResponse:
    res = resources(request)
    form = await _form(request)
    options, problems = options_from(form, res.organizing.survey)
    if options is None:
        return render(request, "exports.html", status=400, fields=FIELDS, problems=problems,
                      values=form)
    job = res.exports.start(session(request).user_id, res.organizing.survey, options)
    logger.info("console export started by organizer %s (%s)", session(request).who,
                options.format)
    return redirect(request, f"exports/{job.id}")


def _job(request: web.Request) -> Any:
    job = resources(request).exports.get(request.match_info["job"], session(request).user_id)
    if job is None:
        raise web.HTTPNotFound()
    return job


async def export_job(request: web.Request) -> web.Response:
    return render(request, "export_job.html", job=_job(request))


async def export_status(request: web.Request) -> web.Response:
    job = _job(request)
    t = translator(request)
    return web.json_response({
        "done": job.done, "error": job.error,
        "written": t.gettext("{size} written", size=_size(t, job.written)),
        "rows": job.result.rows if job.result else None,
    })


def _size(t: Translator, size: int) -> str:
    if size >= 1_000_000:
        return t.gettext("{number} MB", number=t.number(round(size / 1_000_000, 1)))
    return t.gettext("{number} kB", number=t.number(max(1, round(size / 1000))))


async def export_file(request: web.Request) -> web.StreamResponse:
    job = _job(request)
    if job.result is None:
        raise web.HTTPNotFound()
    return web.FileResponse(job.path, headers={
        "Content-Disposition": f'attachment; filename="{job.path.name}"'})


# --- the survey ---------------------------------------------------------------------------


async def survey(request: web.Request) -> web.Response:
    running = resources(request).organizing.survey
    shown = request.query.get("language")
    if shown not in running.languages:
        t = translator(request)
        shown = t.language if t.language in running.languages else running.default_language
    return render(request, "survey.html", shown=shown, done=request.query.get("done"))


async def survey_check(request: web.Request) -> web.Response:
    res = resources(request)
    t = translator(request)
    reader = await request.multipart()
    filename, content = "", b""
    while (part := await reader.next()) is not None:
        if getattr(part, "name", None) == "file" and hasattr(part, "read"):
            filename = getattr(part, "filename", None) or "survey.yaml"
            content = await part.read()
    if not content:
        return render(request, "message.html", status=400, title=t.gettext("No file"),
                      text=t.gettext("Choose a survey file to check."))
    checked = await asyncio.to_thread(check_file, filename, content)
    why = refusal(checked, res.organizing.survey)
    draft = None
    if why is None:
        draft = secrets.token_urlsafe(12)
        res.drafts.clear()
        res.drafts[draft] = (session(request).user_id, filename, content)
    return render(request, "survey_report.html", checked=checked, why=why, draft=draft)


async def survey_publish(request: web.Request) -> web.StreamResponse:
    res = resources(request)
    t = translator(request)
    form = await _form(request)
    draft = res.drafts.get(form.get("draft", ""))
    if draft is None or draft[0] != session(request).user_id:
        return render(request, "message.html", status=400, title=t.gettext("Not published"),
                      text=t.gettext("Check the file again, then publish it."))
    _, filename, content = draft
    organizing = res.organizing
    try:
        published = await publish(organizing.db, filename, content, organizing.survey,
                                  session(request).who, organizing.clock())
    except PublishRefused as exc:
        return render(request, "message.html", status=400, title=t.gettext("Not published"),
                      text=str(exc))
    res.drafts.clear()
    if res.published is not None:
        res.published(published)
    else:
        organizing.use_survey(published)
    return redirect(request, "survey", done="published")


# --- subscribers ---------------------------------------------------------------------------


async def subscribers(request: web.Request) -> web.Response:
    found = await resources(request).organizing.subscribers()
    return render(request, "subscribers.html", found=found, done=request.query.get("done"),
                  problem=request.query.get("problem"))


async def subscriber_add(request: web.Request) -> web.StreamResponse:
    res = resources(request)
    form = await _form(request)
    organizing = res.organizing
    chat, language = form.get("chat", "").strip(), form.get("language", "")
    name = " ".join(form.get("name", "").split())[:120] or None
    kind = "channel" if form.get("kind") == "channel" else "group"
    if language not in organizing.survey.languages:
        return redirect(request, "subscribers", problem="language")
    if re.fullmatch(r"-\d{1,20}", chat):
        chat_id = int(chat)
    elif (public := public_name(chat)) is not None and res.find_chat is not None:
        try:
            found = await res.find_chat(public)
        except ChatNotUsable:
            return redirect(request, "subscribers", problem="unusable")
        chat_id, kind, name = found.chat_id, found.kind, name or found.title
    else:
        return redirect(request, "subscribers", problem="chat")
    await organizing.subscribe(chat_id, kind=kind, language=language, name=name)
    return redirect(request, "subscribers", done="added")


def _chat(request: web.Request) -> int:
    raw = request.match_info["chat"]
    if not re.fullmatch(r"-?\d{1,20}", raw):
        raise web.HTTPNotFound()
    return int(raw)


async def subscriber_edit(request: web.Request) -> web.StreamResponse:
    organizing = resources(request).organizing
    chat_id = _chat(request)
    form = await _form(request)
    existing = await organizing.subscription(chat_id)
    if existing is None or existing.kind == "participant":
        raise web.HTTPNotFound()
    language = form.get("language", "")
    if language not in organizing.survey.languages:
        return redirect(request, "subscribers", problem="language")
    name = " ".join(form.get("name", "").split())[:120] or None
    await organizing.subscribe(chat_id, kind=existing.kind, language=language, name=name)
    return redirect(request, "subscribers", done="saved")


async def subscriber_remove(request: web.Request) -> web.StreamResponse:
    organizing = resources(request).organizing
    chat_id = _chat(request)
    existing = await organizing.subscription(chat_id)
    if existing is None or existing.kind == "participant":
        raise web.HTTPNotFound()
    await organizing.unsubscribe(chat_id)
    return redirect(request, "subscribers", done="removed")


# --- rounds and schedules --------------------------------------------------------------------


async def rounds(request: web.Request) -> web.Response:
    res = resources(request)
    t = translator(request)
    organizing = res.organizing
    running = organizing.survey
    preview = request.query.get("preview")
    if preview not in running.languages:
        preview = t.language if t.language in running.languages else running.default_language
    planned = await organizing.schedules()
    described = [(item, cron.describe(item.schedule.cron, t) if item.schedule.cron else None)
                 for item in planned]
    bot_words = organizing.catalogs.get(preview)
    reminder_html, reminder_buttons = res.reminder_text(
        bot_words, running, organizing.example_reminder(preview))
    summary = await organizing.summary()
    caption = await organizing.summary_caption(preview)
    return render(request, "rounds.html", planned=described, tallies=await organizing.rounds(),
                  preview=preview, reminder=_telegram_html(reminder_html),
                  reminder_buttons=reminder_buttons, caption=_telegram_html(caption),
                  summary=summary, outlook=await organizing.reminder_outlook(),
                  done=request.query.get("done"), problem=request.query.get("problem"),
                  recipients=request.query.get("recipients"),
                  preview_rtl=bot_words.rtl)


_TAG = re.compile(r"&lt;(/?)(b|i|u|s|code)&gt;")


def _telegram_html(text: str) -> str:
    """Telegram HTML as safe HTML: everything escaped, then its few tags let through."""
    return _TAG.sub(r"<\1\2>", html.escape(text, quote=False)).replace("\n", "<br>")


async def summary_chart(request: web.Request) -> web.Response:
    organizing = resources(request).organizing
    language = request.match_info["language"]
    if language not in organizing.survey.languages:
        raise web.HTTPNotFound()
    chart = await organizing.summary_chart(language)
    return web.Response(body=chart, content_type="image/png",
                        headers={"Cache-Control": "no-store"})


async def round_run(request: web.Request) -> web.StreamResponse:
    form = await _form(request)
    kind = form.get("kind")
    if kind not in ("reminder", "summary"):
        raise web.HTTPNotFound()
    started = await resources(request).organizing.start_round(kind, "console")
    logger.info("console: %s round started by organizer %s", kind, session(request).who)
    return redirect(request, "rounds", done="started" if started.round_id else "nobody",
                   recipients=started.recipients)


async def schedule_add(request: web.Request) -> web.StreamResponse:
    form = await _form(request)
    kind = form.get("kind")
    when = (form.get("cron", "") if form.get("repeat") == "cron"
            else form.get("at", "").replace("T", " "))
    if kind not in ("reminder", "summary") or not when.strip():
        return redirect(request, "rounds", problem="when")
    try:
        await resources(request).organizing.add_schedule(kind, when)
    except ScheduleError:
        return redirect(request, "rounds", problem="when")
    return redirect(request, "rounds", done="added")


async def schedule_change(request: web.Request) -> web.StreamResponse:
    organizing = resources(request).organizing
    raw, action = request.match_info["id"], request.match_info["action"]
    if not raw.isdigit() or action not in ("pause", "resume", "remove", "run"):
        raise web.HTTPNotFound()
    schedule_id = int(raw)
    if action == "run":
        started = await organizing.run_schedule_now(schedule_id, "console")
        if started is None:
            raise web.HTTPNotFound()
        return redirect(request, "rounds", done="started" if started.round_id else "nobody",
                       recipients=started.recipients)
    if action == "remove":
        found = await organizing.remove_schedule(schedule_id)
    else:
        found = await organizing.pause_schedule(schedule_id, action == "pause")
    if not found:
        raise web.HTTPNotFound()
    return redirect(request, "rounds", done=action)


__all__ = ["SESSION_COOKIE", "add_routes"]
