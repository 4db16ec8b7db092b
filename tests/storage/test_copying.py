"""``consultbot db copy``: SQLite to PostgreSQL and back, every table, counts checked; and
the commands that read (export, stats) on PostgreSQL."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
from pathlib import Path

import pytest
from bot.cli import main
from bot.survey.model import Survey
from storage.copying import TABLES
from storage.db import Database, connect, fetch_all, transaction
from storage.rounds import Recipient, create_round, save_contents
from storage.schedules import add_schedule
from storage.settings import PSEUDONYM_SECRET, get_or_create_setting
from storage.subscriptions import subscribe
from storage.updates import claim_update

from tests.data import NO_PARTNER, PARTNER, START, add_event, add_response
from tests.postgres import Cluster

NOW = START + dt.timedelta(days=3)


async def fill(db: Database, survey: Survey) -> None:
    """A little of everything a consultation stores."""
    await add_response(db, survey, 987654321, PARTNER, source="radio")
    await add_response(db, survey, 987654322, NO_PARTNER, language="ar")
    await add_response(db, survey, 987654323, PARTNER[:3], language="fr")
    await add_event(db, "declined")
    await get_or_create_setting(db, PSEUDONYM_SECRET, "k" * 64)
    async with transaction(db) as tx:
        await subscribe(tx, -1001234, kind="group", language="fr", name="Diaspora",
                        participant_id=None, now=NOW)
        await add_schedule(tx, "summary", cron="0 18 * * 1", run_at=None, now=NOW)
        round_id = await create_round(tx, "summary", "test",
                                      [Recipient(-1001234, "fr"), Recipient(987654321, "en",
                                                                            987654321)], NOW)
        await save_contents(tx, round_id, "fr", "Résumé", b"\x89PNG chart")
        await claim_update(tx, 4242, NOW)


async def counts(where: str | Path) -> dict[str, int]:
    db = await connect(where)
    try:
        return {table: (await fetch_all(db, f"SELECT count(*) FROM {table}"))[0][0]
                for table, _, _ in TABLES}
    finally:
        await db.close()


def run(arguments: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(arguments)
    out, err = capsys.readouterr()
    return status, out, err


async def filled_sqlite(path: Path, survey: Survey) -> dict[str, int]:
    db = await connect(path)
    try:
        await fill(db, survey)
    finally:
        await db.close()
    return await counts(path)


def test_a_consultation_goes_to_postgresql_and_back(
    tmp_path: Path, pg_cluster: Cluster, consultation: Survey, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    origin = tmp_path / "bot.sqlite3"
    before = asyncio.run(filled_sqlite(origin, consultation))
    assert all(before[t] for t in ("participants", "answers", "outbox", "settings",
                                   "subscriptions", "schedules", "round_contents"))
    url = asyncio.run(pg_cluster.fresh(migrated=False))
    monkeypatch.setenv("CONSULTBOT_DB", str(origin))
    status, out, _ = run(["db", "copy", "--to", url], capsys)
    assert status == 0
    assert "every table's count matches" in out and "consultbot@" not in out
    assert asyncio.run(counts(url)) == before

    # a second copy into the same target is refused, in one line
    status, out, err = run(["db", "copy", "--to", url], capsys)
    assert status == 2 and err.count("\n") == 1 and "not empty" in err

    # the export from PostgreSQL is the export from SQLite, byte for byte
    monkeypatch.setenv("CONSULTBOT_DB", url)
    assert run(["export", "--format", "csv", "--out", str(tmp_path / "pg.csv")], capsys)[0] == 0
    monkeypatch.setenv("CONSULTBOT_DB", str(origin))
    assert run(["export", "--format", "csv", "--out", str(tmp_path / "lite.csv")],
               capsys)[0] == 0
    exported = list(csv.reader((tmp_path / "pg.csv").read_text("utf-8-sig").splitlines()))
    assert len(exported) == 4
    assert (tmp_path / "pg.csv").read_bytes() == (tmp_path / "lite.csv").read_bytes()

    # and back again, into a new file; new rows on PostgreSQL do not collide with copied ids
    monkeypatch.setenv("CONSULTBOT_DB", url)
    back = tmp_path / "backup.sqlite3"
    assert run(["db", "copy", "--to", str(back)], capsys)[0] == 0
    assert asyncio.run(counts(back)) == before
    assert run(["schedule", "add", "reminder", "--cron", "0 9 * * *"], capsys)[0] == 0
    status, out, _ = run(["stats"], capsys)
    assert status == 0 and "3" in out


@pytest.mark.parametrize("to", ["postgresql://u@127.0.0.1:1/x", "postgresql://u@h:port/x",
                                "postgresql://u:secret@127.0.0.1/"])
def test_an_unusable_target_is_one_line(
    tmp_path: Path, to: str, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    origin = tmp_path / "bot.sqlite3"
    asyncio.run(counts(origin))  # an empty, migrated database
    monkeypatch.setenv("CONSULTBOT_DB", str(origin))
    status, _, err = run(["db", "copy", "--to", to], capsys)
    assert status == 2 and err.count("\n") == 1, err
    assert "secret" not in err
