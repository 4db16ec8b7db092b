"""A real browser (Debian's chromium, driven by chromedriver through Selenium) on the real
console of the real bot, which talks to the Bot API stand-in.

Everything async (the stand-in, the bot, its console) runs on an event loop in a
thread of its own (:class:`Stage`), so that the browser's blocking calls from the
tests never stop the server they are talking to. One stage and one browser serve
the whole module; the tests run in order, as an organizer's session would.

With ``--screenshots DIR``, a screenshot of every page goes to that folder
(``bench/screenshots.py`` keeps the ones docs/console.md shows); without it none
is taken, since nothing checks them and they are a third of the module's time.
Without chromium the tests are skipped with the reason, except under CI
(``CI=true``), where they fail: ``.ci/run`` installs it.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import threading
from collections.abc import Coroutine, Iterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any, TypeVar

import pytest
from bot.app import console_serving
from bot.sandbox.standin import StandIn
from bot.survey.model import Survey

from tests.integration.harness import TOKEN, Harness

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
DEADLINE = 15.0
T = TypeVar("T")


class Stage:
    """The stand-in, the bot and its console, on an event loop in another thread."""

    def __init__(self, folder: Path, survey: Survey) -> None:
        self.folder = folder
        self.survey = survey
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="stage", daemon=True)
        self.thread.start()
        self.stack = AsyncExitStack()
        self.url = ""

    def call(self, work: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        """Run ``work`` on the stage's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(timeout)

    async def _open(self) -> None:
        self.api = await self.stack.enter_async_context(StandIn(TOKEN))
        self.harness = Harness(self.api, self.folder / "bot.sqlite3", self.survey,
                               web=("127.0.0.1", 0), small_cell=2)
        await self.harness.start()
        self.stack.push_async_callback(self.harness.stop)
        assert self.harness.application is not None
        url = await self.stack.enter_async_context(
            console_serving(self.harness.application, refresh_seconds=0.5))
        assert url is not None
        self.url = url

    def open(self) -> None:
        self.call(self._open())

    def close(self) -> None:
        try:
            self.call(self.stack.aclose())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)
            self.loop.close()


@pytest.fixture(scope="module")
def stage(tmp_path_factory: pytest.TempPathFactory, consultation: Survey) -> Iterator[Stage]:
    stage = Stage(tmp_path_factory.mktemp("stage"), consultation)
    stage.open()
    try:
        yield stage
    finally:
        stage.close()


@pytest.fixture(scope="module")
def downloads(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def screenshots(request: pytest.FixtureRequest) -> Path | None:
    """The folder given with ``--screenshots``, or None: no screenshots."""
    chosen = request.config.getoption("screenshots")
    if not chosen:
        return None
    folder = Path(chosen)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def browser(downloads: Path) -> Iterator[Any]:
    """One headless chromium for the module, with a fresh profile and nothing to fetch."""
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        why = f"{CHROMIUM} and {CHROMEDRIVER} are needed (apt-get install chromium " \
              "chromium-driver; .ci/run installs them)"
        if os.environ.get("CI") == "true":
            pytest.fail(why, pytrace=False)
        pytest.skip(why)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="consultbot-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-background-networking", "--disable-component-update",
                     "--no-first-run", "--disable-sync", "--disable-dev-shm-usage",
                     "--window-size=1280,900", f"--user-data-dir={profile}",
                     "--lang=en-US"):
        options.add_argument(argument)
    options.add_experimental_option("prefs", {
        "download.default_directory": str(downloads), "download.prompt_for_download": False,
        "intl.accept_languages": "en-US,en"})
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    driver.execute_cdp_cmd("Browser.setDownloadBehavior",
                           {"behavior": "allow", "downloadPath": str(downloads)})
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
