"""The storage tests run on both engines: ``db`` is an in-memory SQLite database, or a
fresh PostgreSQL database of the session's cluster (see :mod:`tests.postgres`)."""

from collections.abc import AsyncIterator

import pytest
from storage.db import Database, connect

from tests import postgres


@pytest.fixture
async def db(engine: str, request: pytest.FixtureRequest) -> AsyncIterator[Database]:
    """An empty database with every migration applied, on ``engine``."""
    where = ":memory:"
    if engine == "postgresql":
        cluster: postgres.Cluster = request.getfixturevalue("pg_cluster")
        where = await cluster.fresh()
    database = await connect(where)
    try:
        yield database
    finally:
        await database.close()
