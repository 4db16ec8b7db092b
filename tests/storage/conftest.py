"""The storage tests run on both engines: ``db`` is an in-memory SQLite database, or a
fresh PostgreSQL database of the session's cluster (see :mod:`tests.postgres`)."""

from collections.abc import AsyncIterator

import pytest
from storage.db import Database, connect

from tests import postgres


@pytest.fixture
async def db(engine: str) -> AsyncIterator[Database]:
    """An empty database with every migration applied, on ``engine``."""
    where = await postgres.cluster().fresh() if engine == "postgresql" else ":memory:"
    database = await connect(where)
    try:
        yield database
    finally:
        await database.close()
