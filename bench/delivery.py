"""A summary broadcast to many recipients through the stand-in, at a limit both sides enforce.

The stand-in (in this process) enforces ``--rate`` messages a second overall
(and Telegram's per-chat limits) and answers 429 to anything over it; the bot
(``consultbot run`` in its own process, ``CONSULTBOT_RATE`` = the same rate)
must keep under it. ``--blocked`` of the recipients have blocked the bot (403),
and a 429 with ``retry_after`` = 1 s is injected every ``--every`` messages.

Reported: the round's duration, the achieved rate (over the whole round, and
over the time the bot was allowed to send, i.e. minus the retry_after pauses it
was told to observe), messages lost, duplicated, rejected by the stand-in's
limiter, the bot's CPU time and peak memory. Then, separately, the time to
compute (and render) a summary on a database of ``--responses`` responses.

    python bench/delivery.py [--recipients 10000] [--rate 500] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gc
import json
import os
import platform
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.sandbox.standin import Call, StandIn  # noqa: E402
from storage.db import connect  # noqa: E402

TOKEN = "5555:delivery-bench"
FIRST_USER = 300_000_000


def proc_stat(pid: int) -> tuple[float, float]:
    """(CPU seconds, peak RSS in MB) of a live process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / ticks
    peak = 0.0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            peak = int(line.split()[1]) / 1024
    return cpu, peak


async def prepare(path: Path, recipients: int) -> None:
    db = await connect(path)
    await db.close()
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    with sqlite3.connect(path) as connection:
        connection.executemany(
            "INSERT INTO subscriptions (chat_id, kind, language, created_at) "
            "VALUES (?, 'participant', ?, ?)",
            [(FIRST_USER + n, ("en", "fr", "es", "ar")[n % 4], stamp)
             for n in range(recipients)])


async def broadcast(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    database = folder / "delivery.sqlite3"
    await prepare(database, args.recipients)
    blocked = {FIRST_USER + n for n in range(0, args.recipients, round(1 / args.blocked))}
    async with StandIn(TOKEN) as api:
        for n in range(args.recipients):
            api.introduce(FIRST_USER + n)
        for user in blocked:
            api.block(user)
        api.limit_rate(overall_per_second=args.rate, per_chat_per_second=1,
                       per_group_per_minute=20)
        confirmed = 0
        injected = 0
        refused = 0  # 403s: the recipients who blocked the bot

        def inject(call: Call) -> None:
            # counted here, not by scanning the calls: this process is the stand-in, and a
            # slow check would hold its requests back and bunch them (a false over-limit)
            nonlocal confirmed, injected, refused
            if call.method == "sendPhoto" and call.status == 403:
                refused += 1
            if call.method == "sendPhoto" and call.ok:
                confirmed += 1
                if confirmed % args.every == 0:
                    injected += 1
                    api.fail_next("sendPhoto", status=429, retry_after=1)

        api.add_listener(inject)
        # This process is the stand-in: a full garbage collection over the 10,000 people
        # and calls here would stall it and bunch the bot's requests into a false
        # over-limit. Objects that stay are moved out of the collector's way.
        gc.collect()
        gc.freeze()
        env = {k: v for k, v in os.environ.items() if not k.startswith("CONSULTBOT_")}
        env.update(CONSULTBOT_TOKEN=TOKEN, CONSULTBOT_API_URL=api.url,
                   CONSULTBOT_DB=str(database), CONSULTBOT_RATE=str(args.rate))
        queued = await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "bot",
                                                           "broadcast", "--force"],
                                         env=env, capture_output=True, text=True)
        if queued.returncode != 0:
            raise SystemExit(f"consultbot broadcast failed: {queued.stderr.strip()}")
        print(queued.stdout.strip())
        log = (folder / "bot.log").open("w")
        bot = subprocess.Popen([sys.executable, "-m", "bot", "run"], env=env, stdout=log,
                               stderr=subprocess.STDOUT)
        try:
            await api.wait_until(lambda: api.long_polling, timeout=60)
            cpu_before, _ = proc_stat(bot.pid)
            standin_before = time.process_time()
            expected = args.recipients - len(blocked)
            await api.wait_until(lambda: confirmed >= expected and refused >= len(blocked),
                                 timeout=args.recipients / args.rate * 4 + 60)
            cpu_after, peak = proc_stat(bot.pid)
            standin_cpu = time.process_time() - standin_before
        finally:
            bot.send_signal(signal.SIGTERM)
            await asyncio.to_thread(bot.wait, 60)
            log.close()
        photos = [c for c in api.calls if c.method == "sendPhoto"]
        delivered = Counter(c.params["chat_id"] for c in photos if c.ok)
        duration = photos[-1].finished - photos[0].started
        paused = sum(1 for c in photos if c.status == 429 and not c.rejected_by_limit)
        limiter = sum(1 for c in photos if c.rejected_by_limit)
        everyone = {FIRST_USER + n for n in range(args.recipients)}
        uploads = sum(1 for c in photos if c.ok and not isinstance(c.params.get("photo"), str))
        injected_at = [c.started for c in photos if c.status == 429 and not c.rejected_by_limit]
        # where the limiter's refusals fell: seconds after the last injected 429 was answered
        rejections = [round(c.started - max((t for t in injected_at if t <= c.started),
                                            default=photos[0].started), 3)
                      for c in photos if c.rejected_by_limit]
    return {
        "recipients": args.recipients, "blocked": len(blocked), "rate_limit": args.rate,
        "injected_429": injected, "requests": len(photos),
        "seconds": round(duration, 2),
        "achieved_rate": round(len(photos) / duration, 1),
        "achieved_rate_outside_pauses": round(len(photos) / (duration - paused * 1.0), 1),
        "lost": len(everyone - blocked - set(delivered)),
        "duplicated": sum(1 for count in delivered.values() if count > 1),
        "rejected_by_limiter": limiter,
        "rejections_seconds_after_a_429": rejections,
        "chart_uploads": uploads,
        "bot_cpu_seconds": round(cpu_after - cpu_before, 2),
        "bot_cpu_ms_per_request": round((cpu_after - cpu_before) / len(photos) * 1000, 2),
        # the stand-in (and this script) share the machine's two cores with the bot
        "standin_cpu_seconds": round(standin_cpu, 2),
        "bot_peak_rss_mb": round(peak, 1),
    }


async def summary_time(folder: Path, responses: int) -> dict[str, Any]:
    """Build a database of ``responses`` and time the summary's SQL and rendering."""
    from bench.exports import build
    from bot.config import Config
    from bot.i18n import Catalogs
    from bot.summary import build_summary, render_chart, render_text
    from bot.survey.loader import BUILTIN_SURVEY, load_survey

    path = folder / "summary.sqlite3"
    await asyncio.to_thread(build, path, responses)
    survey, _ = load_survey(BUILTIN_SURVEY)
    db = await connect(path)
    try:
        began = time.perf_counter()
        summary = await build_summary(db, survey, dt.datetime.now(dt.UTC), Config().small_cell)
        computed = time.perf_counter() - began
        t = Catalogs.load().get("ar")
        began = time.perf_counter()
        render_text(summary, survey, t)
        render_chart(summary, survey, t)
        rendered = time.perf_counter() - began
    finally:
        await db.close()
    return {"responses": responses, "compute_seconds": round(computed, 3),
            "render_seconds_ar": round(rendered, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=500.0)
    parser.add_argument("--blocked", type=float, default=0.01, help="share of recipients")
    parser.add_argument("--every", type=int, default=1000, help="a 429 every N messages")
    parser.add_argument("--responses", type=int, default=100_000)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="consultbot-delivery-"))
    try:
        results = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
                   "round": asyncio.run(broadcast(args, folder)),
                   "summary": asyncio.run(summary_time(folder, args.responses))}
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
