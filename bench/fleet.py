"""Throughput and reply latency of 1, 2 and 4 webhook workers on one PostgreSQL database.

Run from the repository root with the project's virtualenv::

    .venv/bin/python bench/fleet.py [--workers 1,2,4] [--participants 150]
        [--json bench/results/fleet.json]

For each number of workers: a fresh database on a throwaway PostgreSQL cluster
(started as the tests start theirs, :mod:`tests.postgres`: ``fsync`` off, so the
disk is out of the figures), the Bot API stand-in in this process, a load
balancer in this process too (:class:`tests.integration.balancer.Balancer`:
each update to a random worker, keep-alive connections, as a reverse proxy
does) and N ``consultbot run --webhook`` processes. Participants walk the
built-in consultation as in ``bench/participants.py`` (22 updates each, every
step waiting for the bot's reply, all participants at once: a closed loop),
after 20 warm-up participants that are not measured.

Measured: updates answered per second over the window, the reply latency's
median and 99th percentile (from the update's release to the bot's reply, as in
``bench/participants.py``), and the CPU per update of the workers together and
of the PostgreSQL server (every process of the cluster, from ``/proc``).

On a machine of few cores the stand-in, the balancer and the participants (one
process), the workers and PostgreSQL all share them: the figures say what one
machine does, not what N machines would; the core count is printed beside them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bot.i18n import Catalogs  # noqa: E402
from bot.sandbox.standin import StandIn  # noqa: E402
from bot.survey.loader import BUILTIN_SURVEY, load_survey  # noqa: E402
from tests.integration.balancer import Balancer  # noqa: E402
from tests.postgres import Cluster, start_cluster  # noqa: E402

from participants import (  # noqa: E402
    CLK_TCK,
    CONSULTBOT_WEBHOOK,
    LANGUAGES,
    TOKEN,
    WARMUP_FIRST_ID,
    WARMUP_PARTICIPANTS,
    BotProcess,
    Driver,
    consultation_walk,
    free_port,
    machine_busy_seconds,
    percentile,
    tail,
)

READY_SECONDS = 120.0


def cluster_cpu_seconds(cluster: Cluster) -> float:
    """utime + stime of every process of the cluster (the postmaster and its children)."""
    total = 0.0
    data = str(cluster.folder / "data")
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            command = (proc / "cmdline").read_bytes()
            stat = (proc / "stat").read_text()
            if data.encode() in command or b"postgres:" in command:
                fields = stat.rpartition(")")[2].split()
                total += (int(fields[11]) + int(fields[12])) / CLK_TCK
    return total


async def measure(cluster: Cluster, workers: int, participants: int, workdir: Path,
                  walks: dict[str, Any]) -> dict[str, Any]:
    url = await cluster.fresh()
    api = StandIn(TOKEN, local_mode=True)
    await api.start()
    ports = [free_port() for _ in range(workers)]
    balancer = Balancer([f"http://127.0.0.1:{port}/telegram" for port in ports])
    hook = await balancer.start()
    bots = [BotProcess(CONSULTBOT_WEBHOOK, api.url, workdir, workdir / f"w{workers}-{n}.log",
                       extra_env={"CONSULTBOT_WEBHOOK_URL": hook,
                                  "CONSULTBOT_LISTEN": f"127.0.0.1:{port}",
                                  "CONSULTBOT_WEB": "off"})
            for n, port in enumerate(ports)]
    for bot in bots:
        bot.db = url  # type: ignore[assignment]  # written into CONSULTBOT_DB as it is
    try:
        for bot in bots:
            await bot.start()
        deadline = time.monotonic() + READY_SECONDS
        while not all("receiving updates by webhook" in b.log_path.read_text(errors="replace")
                      for b in bots):
            if time.monotonic() > deadline or any(
                    b.proc is not None and b.proc.returncode is not None for b in bots):
                raise RuntimeError("a worker did not start: " + " | ".join(
                    tail(b.log_path) for b in bots))
            await asyncio.sleep(0.1)
        driver = Driver(api, CONSULTBOT_WEBHOOK, walks)
        await driver.closed_loop(range(WARMUP_FIRST_ID, WARMUP_FIRST_ID + WARMUP_PARTICIPANTS))
        driver.latencies.clear()
        driver.measuring = True
        cpu_before = sum(b.cpu_seconds() for b in bots)
        db_before = cluster_cpu_seconds(cluster)
        busy_before, own_before = machine_busy_seconds(), time.process_time()
        started = time.monotonic()
        await driver.closed_loop(range(1, participants + 1))
        seconds = time.monotonic() - started
        driver.measuring = False
        cpu = sum(b.cpu_seconds() for b in bots) - cpu_before
        db_cpu = cluster_cpu_seconds(cluster) - db_before
        own = time.process_time() - own_before
        others = machine_busy_seconds() - busy_before - cpu - db_cpu - own
        latencies = sorted(driver.latencies)
        updates = len(latencies)
        return {
            "workers": workers, "participants": participants, "updates": updates,
            "seconds": round(seconds, 2), "updates_per_s": round(updates / seconds, 1),
            "p50_ms": round((percentile(latencies, 50) or 0) * 1000, 1),
            "p99_ms": round((percentile(latencies, 99) or 0) * 1000, 1),
            "workers_cpu_ms_per_update": round(cpu / updates * 1000, 2),
            "postgresql_cpu_ms_per_update": round(db_cpu / updates * 1000, 2),
            "load_generator_cpu_percent": round(own / seconds * 100),
            "other_processes_cpu_percent": round(max(0.0, others) / seconds * 100),
            "load_average": os.getloadavg()[0],
            "per_worker": [balancer.forwarded[f"http://127.0.0.1:{p}/telegram"] for p in ports],
        }
    finally:
        for bot in bots:
            await bot.stop()
        await balancer.stop()
        await api.stop()


async def run(workers: list[int], participants: int) -> list[dict[str, Any]]:
    survey, _ = load_survey(BUILTIN_SURVEY)
    catalogs = Catalogs.load()
    walks = {language: consultation_walk(survey, catalogs, language) for language in LANGUAGES}
    cluster = start_cluster()
    rows = []
    try:
        with tempfile.TemporaryDirectory(prefix="consultbot-fleet-") as folder:
            for count in workers:
                row = await measure(cluster, count, participants, Path(folder), walks)
                print(json.dumps(row), flush=True)
                rows.append(row)
    finally:
        cluster.stop()
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", default="1,2,4",
                        help="numbers of workers to measure, comma-separated (default 1,2,4)")
    parser.add_argument("--participants", type=int, default=150,
                        help="participants walking at once in each window (default 150)")
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    args = parser.parse_args(argv)
    workers = [int(n) for n in args.workers.split(",")]
    print(f"{os.cpu_count()} cores ({platform.processor() or platform.machine()}); "
          f"{args.participants} participants walking the consultation in each window",
          flush=True)
    rows = asyncio.run(run(workers, args.participants))
    if args.json:
        args.json.write_text(json.dumps({"cores": os.cpu_count(), "rows": rows}, indent=2)
                             + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
