"""Setup every test shares: the environment, the fixtures all kinds of test use, and the
``shared_xlsforms`` marker.

PTB durations come as timedelta (else every RetryAfter warns). The test suite's own
switch, ``CONSULTBOT_REQUIRE_SHARED=1``, is taken out of the environment here, so that
the bot's strict reading of ``CONSULTBOT_*`` variables never sees it; with it, a test
marked ``shared_xlsforms`` fails instead of being skipped when the folder is missing.
"""

import os
from collections.abc import AsyncIterator

import pytest
from bot.i18n import Catalogs
from bot.survey.loader import BUILTIN_SURVEY, load_survey
from bot.survey.model import Survey
from storage.db import Database, connect

from tests.shared import REQUIRE_SHARED, XLSFORMS

os.environ["PTB_TIMEDELTA"] = "true"
SHARED_REQUIRED = os.environ.pop(REQUIRE_SHARED, "") == "1"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--screenshots", metavar="DIR", default=None,
                     help="where the browser tests save a screenshot of every console page")


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("shared_xlsforms") is None or XLSFORMS.is_dir():
        return
    if SHARED_REQUIRED:
        pytest.fail(f"{XLSFORMS} is missing and {REQUIRE_SHARED}=1", pytrace=False)
    pytest.skip(f"{XLSFORMS} (sample forms kept beside the checkout) is not on this machine")


@pytest.fixture(scope="session")
def consultation() -> Survey:
    """The built-in consultation, loaded once (a Survey is immutable)."""
    survey, _ = load_survey(BUILTIN_SURVEY)
    return survey


@pytest.fixture(scope="session")
def catalogs() -> Catalogs:
    """The shipped gettext catalogs, loaded once."""
    return Catalogs.load()


@pytest.fixture
async def db() -> AsyncIterator[Database]:
    """An empty database in memory with every migration applied."""
    database = await connect(":memory:")
    try:
        yield database
    finally:
        await database.close()
