"""An organizer's session in a real browser: signed in through the bot, watching answers
arrive, checking and publishing a survey, exporting, planning a round, and every refusal.

The tests run in order on one browser and one running bot (see conftest.py).
Waits are conditions with deadlines (WebDriverWait polls the page), never sleeps.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as shown
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests import stored
from tests.browser.conftest import DEADLINE, Stage
from tests.integration.harness import ORGANIZER

SOURCE = Path(__file__).resolve().parents[2] / "bot" / "survey" / "consultation.yaml"
BROKEN = """\
| survey |
|        | type          | name  | label    | relevant         |
|        | text          | first | First?   |                  |
|        | select_one yn | pick  | Pick one | ${nowhere} = 'x' |
| choices |
|         | list_name | name | label |
|         | yn        | yes  | Yes   |
|         | yn        | no   | No    |
"""


def wait(browser: Any) -> WebDriverWait[Any]:
    """The live overview replaces its figures while a condition reads them: a stale element
    is read again."""
    return WebDriverWait(browser, DEADLINE, poll_frequency=0.05,
                         ignored_exceptions=[StaleElementReferenceException])


def snap(browser: Any, folder: Path | None, name: str) -> None:
    """A screenshot of the whole page (its full height, at the window's width), when
    ``--screenshots`` asked for them."""
    if folder is None:
        return
    width = browser.get_window_size()["width"]
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(width, min(max(height + 120, 600), 4000))
    browser.save_screenshot(str(folder / f"{name}.png"))
    browser.set_window_size(width, 900)


def link_from_the_bot(stage: Stage, user_id: int = ORGANIZER) -> str:
    person = stage.harness.person(user_id)
    answer = stage.call(person.send("/console"))
    found = re.search(r"http://\S+/signin/\S+", answer[-1].text if answer else "")
    assert found, [m.text for m in answer]
    return found.group(0)


def sign_in(browser: Any, link: str) -> None:
    browser.get(link)
    wait(browser).until(shown.element_to_be_clickable((By.ID, "signin"))).click()
    wait(browser).until(shown.presence_of_element_located((By.ID, "live")))


def heading(browser: Any) -> str:
    return str(browser.find_element(By.TAG_NAME, "h1").text)


def test_a_stranger_is_told_how_to_sign_in(stage: Stage, browser: Any,
                                            screenshots: Path | None) -> None:
    browser.get(stage.url + "responses")
    assert heading(browser) == "Sign in through the bot"
    assert "Send /console." in browser.page_source
    snap(browser, screenshots, "signin-needed")


def test_the_organizer_signs_in_with_the_link_from_the_bot(
    stage: Stage, browser: Any, screenshots: Path | None
) -> None:
    link = link_from_the_bot(stage)
    browser.get(link)
    snap(browser, screenshots, "signin")
    wait(browser).until(shown.element_to_be_clickable((By.ID, "signin"))).click()
    wait(browser).until(shown.presence_of_element_located((By.ID, "live")))
    assert heading(browser) == "Overview"
    stage.used_link = link  # type: ignore[attr-defined]


def test_a_participant_answers_and_the_overview_shows_it_without_a_reload(
    stage: Stage, browser: Any, screenshots: Path | None
) -> None:
    browser.get(stage.url)
    browser.execute_script("window.stillThisPage = true")
    before = browser.find_element(By.ID, "figure-consented").text
    for user in (5001, 5002, 5003):
        person = stage.harness.person(user)
        stage.call(person.start())
        stage.call(person.press("Migrant"))
    wait(browser).until(lambda b: b.find_element(By.ID, "figure-consented").text == "3")
    assert before == "0"
    assert browser.execute_script("return window.stillThisPage") is True
    snap(browser, screenshots, "overview")
    browser.set_window_size(390, 900)
    snap(browser, screenshots, "overview-phone")
    browser.set_window_size(1280, 900)


def test_results_responses_and_one_response(stage: Stage, browser: Any,
                                            screenshots: Path | None) -> None:
    browser.get(stage.url + "results")
    assert "3 responses match." in browser.page_source
    snap(browser, screenshots, "results")
    browser.get(stage.url + "responses")
    rows = browser.find_elements(By.CSS_SELECTOR, "table.list tbody tr")
    assert len(rows) == 3
    for user in ("5001", "5002", "5003", str(ORGANIZER)):
        assert f">{user}<" not in browser.page_source
    snap(browser, screenshots, "responses")
    rows[0].find_element(By.TAG_NAME, "a").click()
    wait(browser).until(lambda b: heading(b).startswith("Response "))
    assert "Migrant" in browser.page_source
    snap(browser, screenshots, "response")


def test_a_survey_with_an_error_is_reported_by_row(
    stage: Stage, browser: Any, screenshots: Path | None, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.md"
    broken.write_text(BROKEN, encoding="utf-8")
    browser.get(stage.url + "survey")
    snap(browser, screenshots, "survey")
    browser.find_element(By.ID, "survey-file").send_keys(str(broken))
    browser.find_element(By.ID, "check").click()
    wait(browser).until(lambda b: heading(b) == "Check of broken.md")
    report = browser.find_element(By.CSS_SELECTOR, "ul.report").text
    assert "row : 3" in report and "nowhere" in report
    assert not browser.find_elements(By.ID, "publish")
    snap(browser, screenshots, "survey-report")


def test_a_good_survey_is_published_and_the_bot_runs_it(stage: Stage, browser: Any,
                                                        tmp_path: Path) -> None:
    newer = tmp_path / "consultation.yaml"
    newer.write_bytes(SOURCE.read_bytes().replace(b"\nversion: ", b"\nversion: 2-", 1))
    browser.get(stage.url + "survey")
    browser.find_element(By.ID, "survey-file").send_keys(str(newer))
    browser.find_element(By.ID, "check").click()
    wait(browser).until(shown.element_to_be_clickable((By.ID, "publish"))).click()
    wait(browser).until(shown.presence_of_element_located((By.CSS_SELECTOR, "p.done")))
    application = stage.harness.application
    assert application is not None and application.bot_data.survey is not None
    assert application.bot_data.survey.version.startswith("2-")
    person = stage.harness.person(5004)
    stage.call(person.start())  # a newcomer is asked the new version
    assert stored.value(stage.harness.db, "SELECT survey_version FROM responses "
                        "WHERE participant_id = 5004").startswith("2-")


def test_an_export_is_downloaded_and_opens(stage: Stage, browser: Any, downloads: Path,
                                           screenshots: Path | None) -> None:
    browser.get(stage.url + "exports")
    snap(browser, screenshots, "exports")
    Select(browser.find_element(By.ID, "x-format")).select_by_value("csv")
    browser.find_element(By.ID, "export").click()
    link = wait(browser).until(shown.visibility_of_element_located(
        (By.CSS_SELECTOR, "#download a")))
    link.click()
    files: list[Path] = wait(browser).until(lambda b: sorted(downloads.glob("*.zip")),
                                            "no zip arrived")  # renamed once complete
    with zipfile.ZipFile(files[0]) as bundle:  # the CSV and its codebook
        names = bundle.namelist()
        assert len(names) == 2 and any("codebook" in name for name in names)
        data = next(name for name in names if "codebook" not in name)
        text = bundle.read(data).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert len(rows) == 4 and {r["status"] for r in rows} == {"in_progress"}
    assert all(len(r["participant"]) == 20 for r in rows)


def test_a_schedule_is_added_and_listed(stage: Stage, browser: Any,
                                        screenshots: Path | None) -> None:
    browser.get(stage.url + "rounds")
    browser.find_element(By.ID, "s-cron").click()
    browser.find_element(By.ID, "s-cron-text").send_keys("0 18 * * 1")
    browser.find_element(By.ID, "add-schedule").click()
    wait(browser).until(lambda b: "Schedule added." in b.page_source)
    listed = browser.find_element(By.ID, "schedules").text
    assert "every Monday at 6:00" in listed and "0 18 * * 1" in listed
    snap(browser, screenshots, "rounds")


def test_subscribers_page(stage: Stage, browser: Any, screenshots: Path | None) -> None:
    browser.get(stage.url + "subscribers")
    browser.find_element(By.ID, "new-chat").send_keys("-1001234567890")
    browser.find_element(By.ID, "new-name").send_keys("Diaspora association")
    Select(browser.find_element(By.ID, "new-language")).select_by_value("fr")
    browser.find_element(By.ID, "add-subscriber").click()
    wait(browser).until(lambda b: "Added." in b.page_source)
    assert "Diaspora association" in browser.page_source
    snap(browser, screenshots, "subscribers")


def test_a_form_without_its_csrf_token_is_refused(stage: Stage, browser: Any) -> None:
    browser.get(stage.url + "rounds")
    browser.execute_script(
        "document.querySelectorAll('input[name=csrf]').forEach(e => e.remove())")
    browser.find_element(By.CSS_SELECTOR, "button[value=reminder]").click()
    wait(browser).until(lambda b: heading(b) == "Refused")
    assert "did not come from the console" in browser.page_source


def test_the_arabic_console_is_laid_out_right_to_left(stage: Stage, browser: Any,
                                                      screenshots: Path | None) -> None:
    browser.get(stage.url)
    Select(browser.find_element(By.ID, "console-language")).select_by_value("ar")
    browser.find_element(By.CSS_SELECTOR, "form.inline button[type=submit]").click()
    wait(browser).until(lambda b: b.find_element(By.TAG_NAME, "html").get_attribute("dir")
                        == "rtl")
    assert heading(browser) == "نظرة عامة"
    nav = browser.find_element(By.CSS_SELECTOR, "header.top nav")
    assert nav.value_of_css_property("direction") == "rtl"
    first, last = (browser.find_elements(By.CSS_SELECTOR, "header.top nav li")[i]
                   for i in (0, -1))
    assert first.location["x"] > last.location["x"]  # the first page is on the right
    snap(browser, screenshots, "overview-arabic")
    Select(browser.find_element(By.ID, "console-language")).select_by_value("en")
    browser.find_element(By.CSS_SELECTOR, "form.inline button[type=submit]").click()
    wait(browser).until(lambda b: b.find_element(By.TAG_NAME, "html").get_attribute("dir")
                        == "ltr")


def test_signing_out_ends_the_session(stage: Stage, browser: Any) -> None:
    browser.find_element(By.ID, "signout").click()
    wait(browser).until(lambda b: heading(b) == "Signed out")
    browser.get(stage.url + "results")
    assert heading(browser) == "Sign in through the bot"


def test_a_reused_link_is_refused(stage: Stage, browser: Any, screenshots: Path | None) -> None:
    browser.get(stage.used_link)  # type: ignore[attr-defined]
    browser.find_element(By.ID, "signin").click()
    wait(browser).until(lambda b: heading(b) == "Not signed in")
    assert "already used" in browser.page_source
    snap(browser, screenshots, "refused")


def test_an_expired_link_is_refused(stage: Stage, browser: Any) -> None:
    link = link_from_the_bot(stage)
    stage.harness.clock.advance(minutes=10, seconds=1)
    browser.get(link)
    browser.find_element(By.ID, "signin").click()
    wait(browser).until(lambda b: heading(b) == "Not signed in")
    assert "has expired" in browser.page_source


def test_a_non_organizer_gets_no_link_and_no_console(stage: Stage, browser: Any) -> None:
    person = stage.harness.person(5001)
    answer = stage.call(person.send("/console"))
    assert not any("/signin/" in m.text for m in answer)
    from bot.access import _hash
    from storage.db import transaction

    from storage import console

    async def forged() -> None:  # a link for someone who is not an organizer
        application = stage.harness.application
        assert application is not None and application.bot_data.database is not None
        now = stage.harness.clock()
        async with transaction(application.bot_data.database) as tx:
            await console.add_link(tx, _hash("not-an-organizer"), 5001, now,
                                   now + dt.timedelta(minutes=10))

    stage.call(forged())
    browser.get(stage.url + "signin/not-an-organizer")
    browser.find_element(By.ID, "signin").click()
    wait(browser).until(lambda b: heading(b) == "Not signed in")
    assert "not an organizer" in browser.page_source
    browser.get(stage.url)
    assert heading(browser) == "Sign in through the bot"


@pytest.fixture(autouse=True, scope="module")
def _the_stage_survives(stage: Stage) -> None:
    assert stage.url.startswith("http://127.0.0.1:")
