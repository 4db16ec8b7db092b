"""What only PostgreSQL has: a pool shared by workers, advisory locks, SKIP LOCKED claims,
the serving lock, its migrations, and the one-line refusals of an unusable server."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest
from storage.db import DatabaseUnavailable, MigrationError, connect, fetch_all, transaction
from storage.dialect import to_postgres
from storage.postgres import DatabaseInUse, PostgresDatabase, connect_postgres, migrate
from storage.rounds import Recipient, claim_due, create_round, release_claims

from tests.postgres import Cluster

NOW = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(("sql", "expected"), [
    ("SELECT a FROM t WHERE +b = ? AND c = ?", "SELECT a FROM t WHERE b = $1 AND c = $2"),
    ("SELECT '?', x + ? FROM t", "SELECT '?', x + $1 FROM t"),
    ("SELECT :a, :b, :a::text", "SELECT $1, $2, $1::text"),
    ("UPDATE t SET n = n + 1, s = '+x:y' WHERE id = ?", "UPDATE t SET n = n + 1, s = '+x:y' "
                                                        "WHERE id = $1"),
])
def test_statements_are_numbered_once(sql: str, expected: str) -> None:
    assert to_postgres(sql)[0] == expected


async def two_workers(url: str) -> tuple[PostgresDatabase, PostgresDatabase]:
    first, second = await connect(url), await connect(url)
    assert isinstance(first, PostgresDatabase) and isinstance(second, PostgresDatabase)
    return first, second


async def test_one_chats_transactions_wait_for_each_other_across_workers(pg_url: str) -> None:
    first, second = await two_workers(pg_url)
    try:
        order: list[str] = []
        inside = asyncio.Event()
        release = asyncio.Event()

        async def holder() -> None:
            async with transaction(first, 77) as tx:
                await tx.execute("INSERT INTO settings (key, value) VALUES ('k', '1')")
                order.append("first in")
                inside.set()
                await release.wait()
                order.append("first out")

        async def follower(key: int) -> None:
            await inside.wait()
            async with transaction(second, key) as tx:
                order.append(f"key {key} in")
                await tx.execute("SELECT 1")

        held = asyncio.create_task(holder())
        other = asyncio.create_task(follower(78))
        await other  # another chat does not wait
        same = asyncio.create_task(follower(77))
        async with asyncio.timeout(10):  # the same chat does: seen waiting for the lock
            while not await fetch_all(first, "SELECT 1 FROM pg_locks WHERE "
                                             "locktype = 'advisory' AND NOT granted"):
                await asyncio.sleep(0.01)
        assert not same.done()
        release.set()
        await asyncio.gather(held, same)
        assert order == ["first in", "key 78 in", "first out", "key 77 in"]
    finally:
        await first.close()
        await second.close()


async def test_workers_claiming_together_never_take_the_same_message(pg_url: str) -> None:
    first, second = await two_workers(pg_url)
    try:
        async with transaction(first) as tx:
            await create_round(tx, "summary", "test",
                               [Recipient(1000 + n, "en") for n in range(200)], NOW)
        claims = await asyncio.gather(*(
            claim_due(db, NOW, 7, f"worker-{n}") for n in range(30)
            for db in (first, second)))
        taken = [row.id for rows in claims for row in rows]
        assert len(taken) == len(set(taken)) == 200
        owners = await fetch_all(first, "SELECT count(DISTINCT claimed_by) FROM outbox")
        assert owners[0][0] > 1
    finally:
        await first.close()
        await second.close()


async def test_a_second_polling_process_is_refused(pg_url: str) -> None:
    first, second = await two_workers(pg_url)
    try:
        await first.serve_alone()
        with pytest.raises(DatabaseInUse, match="already served by another consultbot run"):
            await second.serve_alone()
        with pytest.raises(DatabaseInUse):  # nor does a webhook worker start beside it
            await second.serve_alongside()
        await first.close()  # its session ends, and the lock with it
        await second.serve_alone()
    finally:
        await first.close()
        await second.close()


async def test_webhook_workers_serve_together_and_never_beside_a_poller(pg_url: str) -> None:
    workers = [await connect(pg_url) for _ in range(3)]
    try:
        for worker in workers[:2]:
            await worker.serve_alongside()
        with pytest.raises(DatabaseInUse, match="a consultbot run that polls|polling"):
            await workers[2].serve_alone()
        await workers[0].close()
        await workers[1].close()
        await workers[2].serve_alone()  # the last worker gone, polling may start
    finally:
        for worker in workers:
            await worker.close()


async def test_a_failing_migration_changes_nothing(pg_cluster: Cluster, tmp_path: Path) -> None:
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "0001_ok.sql").write_text("CREATE TABLE a (x INTEGER);")
    (folder / "0002_bad.sql").write_text(
        "CREATE TABLE b (x INTEGER);\nINSERT INTO nope VALUES (1);")
    db = await connect_postgres(await pg_cluster.fresh(migrated=False), migrate_schema=False)
    try:
        with pytest.raises(Exception, match="nope"):
            await migrate(db, folder)
        assert await db.schema_version() == 1
        assert await fetch_all(db, "SELECT to_regclass('b')") == [(None,)]
        await db.write_one("UPDATE schema_version SET version = 999")
        with pytest.raises(MigrationError, match="newer than this program"):
            await migrate(db)
    finally:
        await db.close()


async def test_workers_starting_together_migrate_once(pg_cluster: Cluster) -> None:
    url = await pg_cluster.fresh(migrated=False)
    workers = await asyncio.gather(*(connect(url) for _ in range(3)))
    try:
        versions = await fetch_all(workers[0], "SELECT version FROM schema_version")
        assert [row[0] for row in versions] == [7]
    finally:
        for db in workers:
            await db.close()


@pytest.mark.parametrize(("change", "says"), [
    ("port", "cannot reach the PostgreSQL server"),
    ("database", "no such database on the server"),
])
async def test_an_unusable_server_is_one_clear_line(pg_cluster: Cluster, change: str,
                                                    says: str) -> None:
    url = pg_cluster.url("postgres").replace("consultbot@", "consultbot:hunter2@")
    if change == "port":
        url = url.replace(f":{pg_cluster.port}/", ":1/")
    else:
        url = url.replace("/postgres", "/nowhere")
    with pytest.raises(DatabaseUnavailable) as caught:
        await connect(url)
    message = str(caught.value)
    assert says in message and "\n" not in message
    assert "hunter2" not in message and "consultbot@" not in message


async def test_a_transaction_cancelled_mid_statement_leaves_nothing_behind(pg_url: str) -> None:
    db = await connect(pg_url)
    try:
        started = asyncio.Event()

        async def slow() -> None:
            async with transaction(db, 5) as tx:
                await tx.execute("INSERT INTO settings (key, value) VALUES ('a', '1')")
                started.set()
                await tx.execute("SELECT pg_sleep(30)")

        task = asyncio.create_task(slow())
        await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        async with transaction(db, 5) as tx:  # the chat's lock was released with it
            rows = await tx.execute_fetchall("SELECT count(*) FROM settings")
        assert rows[0][0] == 0
    finally:
        await db.close()


async def test_a_starting_worker_takes_back_only_the_claims_of_workers_that_are_gone(
    pg_url: str,
) -> None:
    first, second = await two_workers(pg_url)
    try:
        await first.serve_alongside()
        async with transaction(first) as tx:
            await create_round(tx, "summary", "test",
                               [Recipient(1000 + n, "en") for n in range(6)], NOW)
        taken = await claim_due(first, NOW, 3, "first-worker")
        assert len(taken) == 3
        await second.serve_alongside()
        async with transaction(second) as tx:  # the second starts: the first still lives
            await release_claims(tx)
        held = await fetch_all(second, "SELECT count(*) FROM outbox WHERE claimed_by = ?",
                               ("first-worker",))
        assert held[0][0] == 3
        await first.close()  # gone (a kill -9 ends its session all the same)
        async with transaction(second) as tx:
            await release_claims(tx)
        held = await fetch_all(second, "SELECT count(*) FROM outbox WHERE claimed_by "
                                       "IS NOT NULL")
        assert held[0][0] == 0
    finally:
        await first.close()
        await second.close()


async def test_one_worker_leads_the_schedules_until_it_is_gone(pg_url: str) -> None:
    first, second = await two_workers(pg_url)
    try:
        await first.serve_alongside()
        await second.serve_alongside()
        assert await first.lead() and await first.lead()
        assert not await second.lead()
        await first.close()
        assert await second.lead()
    finally:
        await first.close()
        await second.close()
