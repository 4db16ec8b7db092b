"""CPU per update on SQLite and on PostgreSQL: the same participants, through the same use
cases, on each engine.

Each simulated participant sends /start, picks a language, consents, then answers
a survey of eight questions (choices pressed, numbers and texts typed): eleven
updates, each one use case call (claim the update, read the session, write,
commit), as the bot runs them, without Telegram (the HTTP side is the same on
both engines and is measured by bench/participants.py). ``--concurrency``
participants run at once in one event loop.

Measured per engine: wall time, updates per second, and CPU per update: the
bot process's (``time.process_time``: the event loop plus aiosqlite's thread)
and, on PostgreSQL, the server's too (every backend of the throwaway cluster,
from ``/proc``), since on SQLite the database's work is inside the bot process.

    .venv/bin/python bench/engines.py --participants 400 --concurrency 20 \\
        --json bench/results/engines.json

PostgreSQL runs on a throwaway cluster started like the tests' (tests/postgres.py:
``fsync`` off, so that the comparison is of CPU, not of the disk; ``--durable``
turns it on, for wall times comparable to SQLite's); SQLite on a file in a
temporary folder with the bot's settings (WAL, ``synchronous=FULL``: every
commit waits for the disk, which bounds its wall time, not its CPU).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.participation import Action, Participation, Press  # noqa: E402
from bot.participation.outcomes import Asking, Next, Outcome  # noqa: E402
from bot.survey.loader import load_survey  # noqa: E402
from bot.survey.model import Survey  # noqa: E402
from storage.db import Database, connect, fetch_all  # noqa: E402

SURVEY = """
id: bench-engines
version: 1
default_language: en
languages: [en]
title: {en: Bench}
introduction: {en: Intro}
consent:
  notice: {en: Notice}
  details: {en: Details}
choice_lists:
  yes_no:
    - {id: yes, label: {en: "Yes"}}
    - {id: no, label: {en: "No"}}
  levels:
    - {id: local, label: {en: Local}}
    - {id: national, label: {en: National}}
    - {id: global, label: {en: Global}}
questions:
  - {id: q1, type: select_one, required: true, text: {en: One?}, choices: yes_no}
  - {id: q2, type: integer, required: true, min: 1, max: 99, text: {en: Two?}}
  - {id: q3, type: text, text: {en: Three?}}
  - {id: q4, type: select_one, text: {en: Four?}, choices: levels}
  - {id: q5, type: text, text: {en: Five?}}
  - {id: q6, type: select_one, text: {en: Six?}, choices: yes_no}
  - {id: q7, type: integer, min: 0, max: 9999, text: {en: Seven?}}
  - {id: q8, type: text, text: {en: Eight?}}
"""
NOW = dt.datetime(2026, 12, 3, 9, 0, tzinfo=dt.UTC)
UPDATES_PER_PERSON = 11


def server_cpu(pids: list[int]) -> float:
    """User + system CPU seconds of these processes so far (those still running)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])) / tick
    return total


def cluster_pids(data: Path) -> list[int]:
    """The postmaster and every child of it (backends, writer, …)."""
    first = Path(data / "postmaster.pid").read_text().split()[0]
    found = [int(first)]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = (entry / "stat").read_text().rsplit(")", 1)[1].split()[1]
            except OSError:
                continue
            if int(parent) == found[0]:
                found.append(int(entry.name))
    return found


class Person:
    def __init__(self, participation: Participation, user_id: int, updates: list[int]) -> None:
        self.p = participation
        self.user_id = user_id
        self.updates = updates
        self.question = 0

    def update_id(self) -> int:
        self.updates[0] += 1
        return self.updates[0]

    def follow(self, outcome: Outcome) -> None:
        screen = outcome.screen
        if isinstance(screen, Next) and isinstance(screen.then, Asking):
            self.question = screen.then.question.index

    def press(self, number: int) -> Press:
        return Press(Action.ANSWER, self.p.survey.fingerprint, self.question, number, 7)

    async def run(self) -> None:
        p, user = self.p, self.user_id
        await p.start(user, self.update_id(), "bench", "en")
        await p.choose_language(user, self.update_id(), "en")
        self.follow(await p.consent(user, self.update_id(), "y"))
        self.follow(await p.press(user, self.update_id(), self.press(0)))
        self.follow(await p.type_text(user, self.update_id(), "42"))
        self.follow(await p.type_text(user, self.update_id(), "Working with the town hall"))
        self.follow(await p.press(user, self.update_id(), self.press(user % 3)))
        self.follow(await p.type_text(user, self.update_id(), "More translators"))
        self.follow(await p.press(user, self.update_id(), self.press(user % 2)))
        self.follow(await p.type_text(user, self.update_id(), str(user % 9999)))
        self.follow(await p.type_text(user, self.update_id(), "Thank you"))


async def drive(db: Database, survey: Survey, files: Path, users: range,
                concurrency: int) -> None:
    """``users`` answer the whole survey, ``concurrency`` of them at a time."""
    participation = Participation(db, survey, lambda: NOW, files / "bench.sqlite3")
    updates = [users.start * UPDATES_PER_PERSON]
    queue = list(users)

    async def worker() -> None:
        while queue:
            user = queue.pop()
            await Person(participation, 10_000_000 + user, updates).run()

    await asyncio.gather(*(worker() for _ in range(concurrency)))


async def measure(where: str | Path, survey: Survey, files: Path, participants: int,
                  concurrency: int, data: Path | None = None) -> dict[str, Any]:
    """Run the load on one engine; ``data``: the PostgreSQL cluster's folder, whose
    processes' CPU is counted too."""
    db = await connect(where)
    try:
        await drive(db, survey, files, range(1, 21), 5)  # warm: statements prepared
        pids = cluster_pids(data) if data else []  # the pool's backends exist by now
        cpu0, server0, wall0 = time.process_time(), server_cpu(pids), time.perf_counter()
        await drive(db, survey, files, range(1000, 1000 + participants), concurrency)
        wall = time.perf_counter() - wall0
        cpu = time.process_time() - cpu0
        if data:
            pids = sorted(set(pids) | set(cluster_pids(data)))
        server_seconds = server_cpu(pids) - server0
        stored = await fetch_all(db, "SELECT count(*) FROM answers")
        assert stored[0][0] == (participants + 20) * 8, f"{stored[0][0]} answers stored"
    finally:
        await db.close()
    updates = participants * UPDATES_PER_PERSON
    return {
        "updates": updates, "seconds": round(wall, 3),
        "updates_per_second": round(updates / wall, 1),
        "bot_cpu_ms_per_update": round(cpu / updates * 1000, 3),
        "server_cpu_ms_per_update": round(server_seconds / updates * 1000, 3),
        "total_cpu_ms_per_update": round((cpu + server_seconds) / updates * 1000, 3),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--participants", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--durable", action="store_true",
                        help="PostgreSQL with fsync and synchronous commits on (as deployed; "
                             "default off, to compare CPU rather than the disk)")
    parser.add_argument("--copy", type=int, default=0, metavar="RESPONSES",
                        help="also time db copy both ways, and the figures (consultbot stats) "
                             "on each engine, for a database of this many responses to the "
                             "built-in consultation (bench/exports.py builds it)")
    parser.add_argument("--json", type=Path, help="write the results here too")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="consultbot-bench-engines-"))
    path = folder / "survey.yaml"
    path.write_text(SURVEY, encoding="utf-8")
    survey, _ = load_survey(path)
    results: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform(),
                    "load_average_before": os.getloadavg()[0]},
        "participants": args.participants, "concurrency": args.concurrency,
        "updates_per_participant": UPDATES_PER_PERSON, "postgresql_durable": args.durable,
    }
    engines = args.engines.split(",")
    if "sqlite" in engines:
        results["sqlite"] = asyncio.run(measure(folder / "bench.sqlite3", survey, folder,
                                                args.participants, args.concurrency))
        print("sqlite    ", results["sqlite"], flush=True)
    if "postgresql" in engines:
        from tests.postgres import start_cluster

        cluster = start_cluster(durable=args.durable)
        try:
            url = asyncio.run(cluster.fresh())
            results["postgresql"] = asyncio.run(measure(
                url, survey, folder, args.participants, args.concurrency,
                cluster.folder / "data"))
            results["postgresql_version"] = _pg_version(cluster.bin)
            if args.copy:
                results["copy"] = asyncio.run(_copies(cluster, folder, args.copy))
                print("copy      ", results["copy"], flush=True)
        finally:
            cluster.stop()
        print("postgresql", results["postgresql"], flush=True)
    shutil.rmtree(folder, ignore_errors=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


async def _copies(cluster: Any, folder: Path, responses: int) -> dict[str, Any]:
    """db copy SQLite → PostgreSQL → SQLite of a large database, and the figures on both."""
    from bench.exports import build
    from bot.figures import figures_of
    from bot.survey.loader import BUILTIN_SURVEY
    from storage.copying import copy_database

    source = folder / "large.sqlite3"
    await asyncio.to_thread(build, source, responses)
    consultation, _ = load_survey(BUILTIN_SURVEY)
    url = await cluster.fresh(migrated=False)
    found: dict[str, Any] = {"responses": responses}
    lite, pg = await connect(source), await connect(url)
    try:
        started = time.perf_counter()
        copied = await copy_database(lite, pg)
        found["rows"] = copied.rows
        found["sqlite_to_postgresql_seconds"] = round(time.perf_counter() - started, 2)
        for name, db in (("sqlite", lite), ("postgresql", pg)):
            await figures_of(db, consultation, NOW)  # warm
            started = time.perf_counter()
            await figures_of(db, consultation, NOW)
            found[f"figures_{name}_seconds"] = round(time.perf_counter() - started, 3)
        back = await connect(folder / "back.sqlite3")
        try:
            started = time.perf_counter()
            await copy_database(pg, back)
            found["postgresql_to_sqlite_seconds"] = round(time.perf_counter() - started, 2)
        finally:
            await back.close()
    finally:
        await lite.close()
        await pg.close()
    return found


def _pg_version(folder: Path) -> str:
    import subprocess

    return subprocess.run([str(folder / "postgres"), "--version"], capture_output=True,
                          text=True, check=False).stdout.strip()


if __name__ == "__main__":
    raise SystemExit(main())
