"""The database layer: migrations, transactions, one connection shared safely."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
from pathlib import Path

import asyncpg
import pytest
from storage.db import (
    MIGRATIONS,
    Database,
    MigrationError,
    checkpoint,
    connect,
    fetch_all,
    fetch_one,
    migration_files,
    schema_version,
    transaction,
)
from storage.sqlite import migrate
from storage.updates import claim_update, prune_updates

from storage import participants, responses

NOW = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)


def test_migrations_are_numbered_without_gaps() -> None:
    files = migration_files(MIGRATIONS)
    assert [number for number, _ in files] == list(range(1, len(files) + 1))


def test_a_gap_in_migrations_is_refused(tmp_path: Path) -> None:
    (tmp_path / "0001_a.sql").write_text("CREATE TABLE a (x);")
    (tmp_path / "0003_c.sql").write_text("CREATE TABLE c (x);")
    with pytest.raises(MigrationError, match="expected migration number 0002"):
        migration_files(tmp_path)


async def test_schema_is_created_once_with_wal_and_foreign_keys(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    db = await connect(path)
    try:
        assert await schema_version(db) == len(migration_files())
        async with db.connection.execute("PRAGMA journal_mode") as cursor:
            assert (await cursor.fetchone())[0] == "wal"
        async with db.connection.execute("PRAGMA foreign_keys") as cursor:
            assert (await cursor.fetchone())[0] == 1
    finally:
        await db.close()
    again = await connect(path)  # reopening applies nothing twice
    try:
        assert await schema_version(again) == len(migration_files())
    finally:
        await again.close()


async def test_a_failing_migration_changes_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "0001_ok.sql").write_text("CREATE TABLE a (x INTEGER);")
    (folder / "0002_bad.sql").write_text(
        "CREATE TABLE b (x INTEGER);\nINSERT INTO nope VALUES (1);")
    db = await connect(":memory:")
    try:
        await db.connection.execute("PRAGMA user_version = 0")
        with pytest.raises(Exception, match="nope"):
            await migrate(db, folder)
        assert await schema_version(db) == 1
        async with db.connection.execute(
            "SELECT name FROM sqlite_master WHERE name = 'b'"
        ) as cursor:
            assert await cursor.fetchone() is None
    finally:
        await db.close()


async def test_a_newer_database_is_refused(tmp_path: Path) -> None:
    db = await connect(tmp_path / "db.sqlite3")
    try:
        await db.connection.execute("PRAGMA user_version = 999")
        with pytest.raises(MigrationError, match="newer than this program"):
            await migrate(db)
    finally:
        await db.close()


async def test_concurrent_transactions_do_not_mix(db: Database) -> None:
    async def one(user: int, fail: bool) -> None:
        async with transaction(db) as tx:
            await participants.create_participant(tx, user, None, NOW)
            await asyncio.sleep(0)  # let the other coroutine try to write meanwhile
            if fail:
                raise RuntimeError("boom")

    results = await asyncio.gather(
        *(one(user, fail=user % 2 == 0) for user in range(1, 21)), return_exceptions=True)
    assert sum(isinstance(r, RuntimeError) for r in results) == 10
    ids = [row[0] for row in await fetch_all(db, "SELECT id FROM participants ORDER BY id")]
    assert ids == list(range(1, 21, 2))


async def test_an_update_is_claimed_once(db: Database) -> None:
    async with transaction(db) as tx:
        assert await claim_update(tx, 500, NOW)
    async with transaction(db) as tx:
        assert not await claim_update(tx, 500, NOW)
    assert await prune_updates(db, NOW + dt.timedelta(days=3)) == 1


async def test_deleting_a_participant_erases_responses_and_answers(db: Database) -> None:
    async with transaction(db) as tx:
        await participants.create_participant(tx, 42, "flyer", NOW)
        await participants.save_consent(tx, 42, NOW)
        response_id = await responses.start_response(
            tx, participant_id=42, survey_id="s", survey_version="1", language="en",
            source="flyer", current="q1", now=NOW)
    response = await responses.get_response(db, 42, "s")
    assert response is not None and response.id == response_id
    async with transaction(db) as tx:
        await responses.save_step(tx, response, survey_version="1", answered={"q1": "yes"},
                                  dropped=(), current=None, now=NOW)
    done = await responses.get_response(db, 42, "s")
    assert done is not None and done.completed_at == NOW and done.current is None
    assert await responses.get_answers(db, response_id) == {"q1": "yes"}
    async with transaction(db) as tx:
        assert await participants.delete_participant(tx, 42) == []  # no stored file
    for table in ("participants", "responses", "answers"):
        row = await fetch_one(db, f"SELECT count(*) FROM {table}")
        assert row is not None and row[0] == 0, table
    assert await checkpoint(db)


async def test_writes_left_for_later_are_seen_rolled_back_and_checked_at_commit(
    db: Database,
) -> None:
    async with transaction(db) as tx:
        tx.later("INSERT INTO settings (key, value) VALUES ('a', '1')")
        rows = await tx.execute_fetchall("SELECT value FROM settings WHERE key = 'a'")
        assert [row[0] for row in rows] == ["1"]  # sent before the read, in its trip
    with pytest.raises(RuntimeError):
        async with transaction(db) as tx:
            tx.later("INSERT INTO settings (key, value) VALUES ('b', '2')")
            await tx.execute("INSERT INTO settings (key, value) VALUES ('c', '3')")
            raise RuntimeError("the use case failed")
    # the duplicate fails at the commit
    with pytest.raises((sqlite3.IntegrityError, asyncpg.UniqueViolationError)):
        async with transaction(db) as tx:
            await tx.execute("INSERT INTO settings (key, value) VALUES ('d', '4')")
            tx.later("INSERT INTO settings (key, value) VALUES ('a', 'again')")
    async with transaction(db) as tx:  # nothing was left open
        keys = await tx.execute_fetchall("SELECT key FROM settings ORDER BY key")
    assert [row[0] for row in keys if row[0] in "abcd"] == ["a"]


async def test_a_transaction_cancelled_while_its_commit_is_on_the_way(tmp_path: Path) -> None:
    """A stop (cancellation) that lands while COMMIT waits its turn on the database thread:
    the caller sees the cancellation, not a failed ROLLBACK, and the connection stays
    usable (an exception instead once kept `consultbot run` from closing it, and so from
    exiting)."""
    import threading

    from storage.sqlite import SqliteDatabase

    db = await connect(tmp_path / "db.sqlite3")
    assert isinstance(db, SqliteDatabase)
    gate = threading.Event()
    body_done = asyncio.Event()
    connection = db.connection
    try:
        async def write() -> None:
            async with transaction(db) as tx:
                await tx.execute("INSERT INTO settings (key, value) VALUES ('a', '1')")
                # the database thread is kept busy, so the COMMIT queues behind this
                blocker = asyncio.ensure_future(
                    connection._execute(gate.wait))  # noqa: SLF001
                await asyncio.sleep(0)
                assert not blocker.done()
                body_done.set()  # the COMMIT is queued in the same step, right after this

        task = asyncio.create_task(write())
        await body_done.wait()  # the task now waits for its COMMIT
        task.cancel()
        gate.set()
        with pytest.raises(asyncio.CancelledError):
            await task
        async with transaction(db) as tx:  # nothing left open, the write committed
            rows = await tx.execute_fetchall("SELECT value FROM settings WHERE key = 'a'")
        assert [row[0] for row in rows] == ["1"]
    finally:
        gate.set()
        await db.close()


def test_a_process_that_never_closes_its_database_still_exits(tmp_path: Path) -> None:
    import subprocess
    import sys

    script = ("import asyncio, sys\n"
              "from storage.db import connect\n"
              "asyncio.run(connect(sys.argv[1]))\n")
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path / "db.sqlite3")],
                          timeout=60, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
