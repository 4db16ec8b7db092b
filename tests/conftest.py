"""Setup every test shares: the environment, the fixtures all kinds of test use, and the
``shared_xlsforms`` marker.

PTB durations come as timedelta (else every RetryAfter warns). The test suite's own
switches, ``CONSULTBOT_REQUIRE_SHARED=1`` and ``CONSULTBOT_REQUIRE_POSTGRES=1``
(:mod:`tests.postgres`), are taken out of the environment here, so that
the bot's strict reading of ``CONSULTBOT_*`` variables never sees them; with the first, a
test marked ``shared_xlsforms`` fails instead of being skipped when the folder is missing.

``pg_url`` is a fresh, migrated PostgreSQL database (the session's throwaway cluster);
``engine`` parametrizes a test over both engines, and ``database_url`` is then a SQLite
file or a PostgreSQL URL.
"""

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from bot.i18n import Catalogs
from bot.survey.loader import BUILTIN_SURVEY, load_survey
from bot.survey.model import Survey
from storage.db import Database, connect

from tests import postgres
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


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[postgres.Cluster]:
    """The session's PostgreSQL cluster (skips, or fails when required, without one)."""
    cluster = postgres.start_or_skip()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
async def pg_url(pg_cluster: postgres.Cluster) -> str:
    """A new PostgreSQL database with every migration applied."""
    return await pg_cluster.fresh()


ENGINES = ["sqlite", "postgresql"]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test (or its fixtures) asking for ``engine`` runs on both engines, unless it is
    marked ``sqlite_only``."""
    if "engine" in metafunc.fixturenames:
        only = metafunc.definition.get_closest_marker("sqlite_only") is not None
        metafunc.parametrize("engine", ENGINES[:1] if only else ENGINES)


@pytest.fixture
async def database_url(engine: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """Where the test's database is: a SQLite file (not created yet), or a fresh PostgreSQL
    database."""
    if engine == "postgresql":
        cluster: postgres.Cluster = request.getfixturevalue("pg_cluster")
        return await cluster.fresh()
    return str(tmp_path / "consultbot.sqlite3")
