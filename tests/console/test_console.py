"""The console over HTTP (aiohttp's test server): sign-in, refusals, CSRF, every page and
action, against a database filled the way the bot fills it."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import logging
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from bot.access import Access
from bot.app import reminder_text
from bot.config import Config
from bot.console import Resources, build_app
from bot.console.cron import describe
from bot.console.exports import FIELDS, NOT_OFFERED, Exports
from bot.exports import ExportOptions
from bot.i18n import CONSOLE_DOMAIN, Catalogs
from bot.organizing import Organizing
from bot.survey.model import Survey
from storage.db import transaction

from storage import console
from tests import stored
from tests.console.conftest import ORGANIZER, Site

PAGES = ["/", "/overview/live", "/results", "/responses", "/exports", "/survey",
         "/subscribers", "/rounds"]


async def test_a_stranger_sees_only_how_to_sign_in(site: Site) -> None:
    for path in [*PAGES, "/responses/0123456789abcdef0123", "/nothing-here"]:
        status, text = await site.get(path)
        assert status == 401, path
        assert "Send /console." in text and "Completion funnel" not in text
    answer = await site.client.post("/rounds/run", data={"kind": "reminder"},
                                    allow_redirects=False)
    assert answer.status == 401


async def test_a_link_signs_in_once_and_the_cookie_is_guarded(site: Site) -> None:
    link, expires = await site.access.new_link(ORGANIZER)
    assert link.startswith("http://127.0.0.1/signin/")
    assert expires - site.clock.now == dt.timedelta(minutes=10)
    token = link.rsplit("/", 1)[1]
    status, text = await site.get(f"/signin/{token}")  # a link preview uses nothing up
    assert status == 200 and 'id="signin"' in text
    answer = await site.client.post(f"/signin/{token}", allow_redirects=False)
    assert answer.status == 303
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Secure" not in cookie
    assert stored.count(site.path, "console_sessions") == 1
    assert token not in str(stored.rows(site.path, "SELECT * FROM console_links"))
    again = await site.client.post(f"/signin/{token}", allow_redirects=False)
    assert again.status == 403 and "already used" in await again.text()


@pytest.mark.parametrize("case", ["expired", "forged", "not_organizer"])
async def test_bad_links_are_refused_with_a_clear_page(
    site: Site, case: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    link, _ = await site.access.new_link(ORGANIZER)
    token = link.rsplit("/", 1)[1]
    if case == "expired":
        site.clock.now += dt.timedelta(minutes=10, seconds=1)
        words = "has expired"
    elif case == "forged":
        token = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
        words = "is not valid"
    else:
        site.access.config = dataclasses.replace(site.access.config, admins=frozenset())
        words = "not an organizer"
    answer = await site.client.post(f"/signin/{token}", allow_redirects=False)
    assert answer.status == 403 and words in await answer.text()
    assert "Set-Cookie" not in answer.headers
    refused = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert refused and str(ORGANIZER) not in " ".join(refused)


async def test_a_session_ends_when_idle_when_signed_out_or_no_longer_organizer(
    site: Site,
) -> None:
    await site.sign_in()
    site.clock.now += dt.timedelta(minutes=59)
    assert (await site.get("/"))[0] == 200
    site.clock.now += dt.timedelta(minutes=60, seconds=1)
    assert (await site.get("/"))[0] == 401
    await site.sign_in()
    answer = await site.post("/signout")
    assert answer.status == 303 and answer.headers["Location"] == "/signed-out"
    assert (await site.get("/"))[0] == 401
    await site.sign_in()
    site.access.config = dataclasses.replace(site.access.config, admins=frozenset({1}))
    assert (await site.get("/"))[0] == 401


async def test_every_change_needs_the_csrf_token(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    await site.sign_in()
    for path, form in [("/rounds/run", {"kind": "reminder"}), ("/signout", {}),
                       ("/subscribers/add", {"chat": "-100", "language": "en"})]:
        answer = await site.post(path, form, csrf=False)
        assert answer.status == 403, path
        wrong = await site.client.post(path, data={**form, "csrf": "0" * 32},
                                       allow_redirects=False)
        assert wrong.status == 403, path
    assert stored.count(site.path, "rounds") == 0
    assert stored.count(site.path, "subscriptions") == 0
    assert "CSRF" in caplog.text


async def test_pages_show_the_figures_and_never_an_id(any_site: Site) -> None:
    site = any_site
    await site.sign_in()
    for path in PAGES:
        status, text = await site.get(path)
        assert status == 200, path
        assert "Content-Security-Policy" not in text
        for user in (100, 101, 200):
            assert f">{user}<" not in text
    _, overview = await site.get("/")
    assert 'id="figure-completed">7<' in overview
    assert "Opened the bot" in overview and "Consented" in overview
    _, results = await site.get("/results?language=fr")
    assert "3 responses match." in results and "under 3" not in results
    _, everyone = await site.get("/results")
    assert "under 3" in everyone  # the two without partnership: a small group, marked
    _, region = await site.get("/results?q.residence=150")  # Europe: the five partners
    assert "5 responses match." in region


async def test_responses_are_listed_under_codes_and_open_in_full(any_site: Site) -> None:
    site = any_site
    await site.sign_in()
    _, listed = await site.get("/responses")
    codes = re.findall(r'responses/([0-9a-f]{20})"', listed)
    assert len(codes) == 7
    status, page = await site.get(f"/responses/{codes[-1]}")
    assert status == 200 and "Participant code" in page
    assert (await site.get("/responses/" + "0" * 20))[0] == 404
    again = Organizing(site.db, site.organizing.survey, site.organizing.config, site.clock,
                       secret="s" * 20)  # a new process: the code is found all the same
    found = await again.response(codes[0])
    assert found is not None and found[0].code == codes[0]


async def test_free_text_is_readable_question_by_question(site: Site) -> None:
    await site.sign_in()
    status, page = await site.get("/results/text/good_practice")
    assert status == 200 and page.count("A good practice") == 5
    assert (await site.get("/results/text/role"))[0] == 404


async def test_schedules_are_added_paused_run_and_removed(site: Site) -> None:
    await site.sign_in()
    answer = await site.post("/rounds/schedules/add", {
        "kind": "reminder", "repeat": "cron", "cron": "0 18 * * 1"})
    assert answer.headers["Location"] == "/rounds?done=added"
    _, page = await site.get("/rounds")
    assert "every Monday at 6:00\u202fPM" in page or "every Monday at 6:00 PM" in page
    assert (await site.post("/rounds/schedules/add", {
        "kind": "summary", "repeat": "once", "at": "2020-01-01T10:00"})).headers[
        "Location"] == "/rounds?problem=when"
    schedule_id = stored.value(site.path, "SELECT id FROM schedules")
    await site.post(f"/rounds/schedules/{schedule_id}/pause")
    assert stored.value(site.path, "SELECT paused FROM schedules") == 1
    await site.post(f"/rounds/schedules/{schedule_id}/resume")
    assert stored.value(site.path, "SELECT paused FROM schedules") == 0
    nobody = await site.post(f"/rounds/schedules/{schedule_id}/run")  # everyone completed
    assert nobody.headers["Location"] == "/rounds?done=nobody&recipients=0"
    await site.post("/subscribers/add", {"chat": "-1001234", "language": "fr"})
    answer = await site.post("/rounds/run", {"kind": "summary"})
    assert answer.headers["Location"] == "/rounds?done=started&recipients=1"
    assert stored.value(site.path, "SELECT origin FROM rounds") == "console"
    await site.post(f"/rounds/schedules/{schedule_id}/remove")
    assert stored.count(site.path, "schedules") == 0
    _, page = await site.get("/rounds")
    assert "Summary broadcast" in page and "No schedule yet." in page


async def test_subscribers_are_added_renamed_and_removed(site: Site) -> None:
    await site.sign_in()
    answer = await site.post("/subscribers/add", {"chat": "-1001234", "language": "fr",
                                                  "name": "Association", "kind": "group"})
    assert answer.headers["Location"] == "/subscribers?done=added"
    assert (await site.post("/subscribers/add", {"chat": "123", "language": "fr"})).headers[
        "Location"] == "/subscribers?problem=chat"
    await site.post("/subscribers/-1001234/edit", {"name": "Asso", "language": "ar"})
    assert stored.rows(site.path, "SELECT name, language FROM subscriptions") == [("Asso", "ar")]
    _, page = await site.get("/subscribers")
    assert "-1001234" in page and "Asso" in page
    await site.post("/subscribers/-1001234/remove")
    assert stored.count(site.path, "subscriptions") == 0


async def test_an_export_is_written_and_downloaded(any_site: Site) -> None:
    site = any_site
    await site.sign_in()
    bad = await site.post("/exports", {"format": "csv", "since": "yesterday"})
    assert bad.status == 400 and "YYYY-MM-DD" in await bad.text()
    answer = await site.post("/exports", {"format": "csv", "labels": "fr"})
    job = answer.headers["Location"]
    running = next(iter(site_jobs(site)))
    assert running.task is not None
    await running.task
    status = await (await site.client.get(job + "/status")).json()
    assert status["done"] and status["rows"] == 7
    download = await site.client.get(job + "/file")
    disposition = download.headers["Content-Disposition"]
    assert download.status == 200 and "attachment" in disposition and "-csv.zip" in disposition
    with zipfile.ZipFile(io.BytesIO(await download.read())) as bundle:
        data, codebook = sorted(bundle.namelist(), key=lambda name: "codebook" in name)
        assert "codebook" in codebook
        text = bundle.read(data).decode("utf-8-sig")
    assert text.count("\n") == 8  # a header, then one line per response
    assert "role:label" in text.splitlines()[0]  # the labels in their own columns


async def test_a_semicolon_export_with_kobo_names(site: Site) -> None:
    await site.sign_in()
    page = await (await site.client.get("/exports")).text()
    assert "SPSS (.sav)" in page and 'value="tab"' in page
    answer = await site.post("/exports", {"format": "csv", "delimiter": "tab",
                                          "kobo_names": "on"})
    job = answer.headers["Location"]
    running = next(iter(site_jobs(site)))
    assert running.task is not None
    await running.task
    assert running.options.delimiter == "\t" and running.options.kobo_names
    download = await site.client.get(job + "/file")
    with zipfile.ZipFile(io.BytesIO(await download.read())) as bundle:
        data = next(name for name in bundle.namelist() if "codebook" not in name)
        header = bundle.read(data).decode("utf-8-sig").splitlines()[0]
    assert "\t_uuid\t" in header or header.startswith("_uuid\t") or "\t_uuid" in header


def site_jobs(site: Site) -> list[Any]:
    app = site.client.app
    assert app is not None
    from bot.console.app import RESOURCES

    return list(app[RESOURCES].exports.jobs.values())


def test_every_export_option_is_a_form_field_or_said_why_not() -> None:
    options = {f.name for f in dataclasses.fields(ExportOptions)}
    offered = {f.name for f in FIELDS}
    assert options - offered - set(NOT_OFFERED) == set(), "add a Field to bot/console/exports.py"
    assert offered <= options


async def test_a_survey_with_an_error_is_reported_by_row_and_never_published(
    site: Site, tmp_path: Path
) -> None:
    await site.sign_in()
    broken = b"id: x\nversion: 1\ndefault_language: en\nlanguages: [en]\n" \
             b"title: {en: X}\nquestions:\n  - {id: a, type: nonsense, text: {en: A}}\n"
    page = await _upload(site, "broken.yaml", broken)
    assert "broken.yaml:7" in page and "error" in page and 'id="publish"' not in page
    assert stored.count(site.path, "published_surveys") == 0


async def test_a_good_survey_is_published_and_run(site: Site) -> None:
    await site.sign_in()
    source = Path(__file__).resolve().parents[2] / "bot" / "survey" / "consultation.yaml"
    newer = source.read_bytes().replace(b"\nversion: ", b"\nversion: 9", 1)
    page = await _upload(site, "consultation.yaml", newer)
    draft = re.search(r'name="draft" value="([^"]+)"', page)
    assert draft, page
    answer = await site.post("/survey/publish", {"draft": draft.group(1)})
    assert answer.headers["Location"] == "/survey?done=published"
    assert stored.value(site.path, "SELECT filename FROM published_surveys") == \
        "consultation.yaml"
    assert site.organizing.survey.version.startswith("9")
    assert site.published and site.published[0].version.startswith("9")
    same = await _upload(site, "consultation.yaml", newer)
    assert "already running" in same


async def _upload(site: Site, name: str, content: bytes) -> str:
    from aiohttp import FormData

    form = FormData()
    form.add_field("file", content, filename=name)
    answer = await site.client.post(f"/survey/check?csrf={site.csrf}", data=form)
    return await answer.text()


async def test_the_console_works_under_a_path_prefix_and_says_secure_over_https(
    tmp_path: Path, consultation: Survey
) -> None:
    from storage.db import connect

    path = tmp_path / "bot.sqlite3"
    db = await connect(path)
    config = Config(db=path, admins=frozenset({ORGANIZER}),
                    web_url="https://example.org/console/")
    clock = lambda: dt.datetime(2026, 11, 28, tzinfo=dt.UTC)  # noqa: E731
    organizing = Organizing(db, consultation, config, clock, secret="s" * 20)
    access = Access(db, config, clock, "s" * 20)
    resources = Resources(organizing, access, config, Catalogs.load(domain=CONSOLE_DOMAIN),
                          reminder_text, Exports(path, "s" * 20, clock))
    client: TestClient[Any, Any] = TestClient(TestServer(build_app(resources)))
    await client.start_server()
    try:
        link, _ = await access.new_link(ORGANIZER)
        assert link.startswith("https://example.org/console/signin/")
        token = link.rsplit("/", 1)[1]
        answer = await client.post(f"/console/signin/{token}", allow_redirects=False)
        assert answer.headers["Location"] == "/console/"
        cookie = answer.headers["Set-Cookie"]
        assert "Secure" in cookie and "Path=/console/" in cookie
        session = re.search(r"consultbot_console=([^;]+)", cookie)
        assert session  # a client sends a Secure cookie over https only: given by hand here
        page = await client.get("/console/results",
                                headers={"Cookie": f"consultbot_console={session.group(1)}"})
        text = await page.text()
        assert page.status == 200 and 'href="/console/static/console.css"' in text
        assert (await client.get("/console/static/console.js")).status == 200
        assert (await client.get("/results")).status == 404
    finally:
        await client.close()
        await db.close()


async def test_forgotten_sessions_and_links_are_deleted(site: Site) -> None:
    await site.sign_in()
    async with transaction(site.db) as tx:
        await console.forget_expired(tx, site.clock.now + dt.timedelta(seconds=1),
                                     site.clock.now + dt.timedelta(days=2))
    assert stored.count(site.path, "console_sessions") == 0
    assert stored.count(site.path, "console_links") == 0


@pytest.mark.parametrize(("expression", "words"), [
    ("0 18 * * 1", "every Monday at 6:00"),
    ("30 9 * * 1-5", "every weekday (Monday to Friday) at 9:30"),
    ("0 8 * * *", "every day at 8:00"),
    ("15 * * * *", "every hour at minute 15"),
    ("0 10 1,15 * *", "on day 1 and 15 of every month at 10:00"),
    ("*/5 * * * *", "*/5 * * * *"),
])
def test_cron_expressions_in_plain_words(expression: str, words: str) -> None:
    t = Catalogs.load(domain=CONSOLE_DOMAIN).get("en")
    assert describe(expression, t).replace("\u202f", " ").startswith(words)


def test_cron_words_follow_the_language() -> None:
    t = Catalogs.load(domain=CONSOLE_DOMAIN).get("fr")
    assert describe("0 18 * * 1", t) == "chaque lundi à 18:00"


async def test_the_arabic_console_is_right_to_left(site: Site) -> None:
    await site.sign_in()
    away = await site.post("/language", {"language": "ar", "back": "//evil.example/"})
    assert away.headers["Location"] == "/"
    _, page = await site.get("/")
    assert '<html lang="ar" dir="rtl">' in page and "نظرة عامة" in page


async def test_the_summary_preview_counts_as_the_broadcast_does(site: Site) -> None:
    from bot.rounds import current_summary

    config = dataclasses.replace(site.organizing.config, small_cell=2)
    site.organizing.config = config
    assert await site.organizing.summary() == dataclasses.replace(
        await current_summary(site.db, site.organizing.survey, config, site.clock.now),
        generated_at=site.clock.now)


def test_console_link_from_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli import main

    monkeypatch.setenv("CONSULTBOT_DB", str(tmp_path / "bot.sqlite3"))
    monkeypatch.setenv("CONSULTBOT_ADMINS", "77")
    monkeypatch.setenv("CONSULTBOT_WEB_URL", "https://example.org/console")
    assert main(["console-link", "77"]) == 0
    out, err = capsys.readouterr()
    assert re.search(r"^https://example\.org/console/signin/[A-Za-z0-9_-]{40,}$", out, re.M)
    assert "valid once" in err
    assert main(["console-link", "78"]) == 2
    assert "78: not an organizer" in capsys.readouterr().err


def test_the_command_line_uses_the_survey_published_from_the_console(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, consultation: Survey
) -> None:
    import asyncio

    from bot.cli.common import load_configured_survey
    from bot.publishing import publish
    from storage.db import connect

    source = Path(__file__).resolve().parents[2] / "bot" / "survey" / "consultation.yaml"
    newer = source.read_bytes().replace(b"\nversion: ", b"\nversion: 7-", 1)
    path = tmp_path / "bot.sqlite3"

    async def published() -> None:
        db = await connect(path)
        try:
            await publish(db, "c.yaml", newer, consultation, "someone",
                          dt.datetime(2026, 11, 28, tzinfo=dt.UTC))
        finally:
            await db.close()

    asyncio.run(published())
    assert load_configured_survey(Config(db=path)).version.startswith("7-")
    assert load_configured_survey(Config(db=tmp_path / "none.sqlite3")).version == \
        consultation.version


def test_consultbot_web_serves_the_console_alone_and_stops_cleanly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os
    import signal
    import subprocess
    import sys
    import urllib.error
    import urllib.request

    from bot.cli import main

    database = tmp_path / "bot.sqlite3"
    monkeypatch.setenv("CONSULTBOT_DB", str(database))
    assert main(["schedule", "add", "reminder", "--cron", "0 18 * * 1"]) == 0  # creates it
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONSULTBOT_")}
    env.update(CONSULTBOT_DB=str(database), CONSULTBOT_WEB="127.0.0.1:0",
               CONSULTBOT_ADMINS="77")
    with subprocess.Popen([sys.executable, "-m", "bot", "web"], env=env, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL) as process:
        try:
            assert process.stdout is not None
            line = process.stdout.readline()  # the address, once it listens
            found = re.search(r"web console at (http://127\.0\.0\.1:\d+/)", line)
            assert found, line
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(found.group(1) + "rounds", timeout=10)
            with refused.value as answer:
                assert answer.code == 401 and "Send /console." in answer.read().decode()
        finally:
            process.send_signal(signal.SIGTERM)
            assert process.wait(30) == 0
