"""Web console page times on a large database: every page, cold and warm, side by side.

Builds (or reuses, with --db) the benchmark database of bench/exports.py:
RESPONSES responses to the built-in consultation, 12 answers each (1.2 million
answers at the default 100,000). Serves the console on 127.0.0.1 in this
process, as ``consultbot web`` does (a writer connection and a read-only one),
signs in through a real one-time link, then asks for each page over HTTP:

* cold: the first request, nothing computed yet (figures are kept until
  another connection commits, so the first request pays for them);
* warm: the median of --repeat further requests;
* changed: the median of requests each made right after another connection
  committed a row (what the overview's live refresh costs while answers arrive).

    python bench/console.py [--responses 100000] [--db FILE] [--repeat 5] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import re
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
from bench.exports import build  # noqa: E402
from bot.access import Access  # noqa: E402
from bot.app import _address, _console_app  # noqa: E402
from bot.config import Config  # noqa: E402
from bot.console import build_app, serve  # noqa: E402
from bot.i18n import Catalogs  # noqa: E402
from bot.organizing import Organizing  # noqa: E402
from bot.survey.loader import BUILTIN_SURVEY, load_survey  # noqa: E402
from storage.db import connect, connect_reader  # noqa: E402

ADMIN = 4242
PAGES = [
    ("overview", ""),
    ("overview, live part", "overview/live"),
    ("results", "results"),
    ("results, one language", "results?language=fr"),
    ("results, stakeholder type", "results?q.role=migrant"),
    ("results, world region", "results?q.residence=150"),
    ("results, dates", "results?from=2026-09-15&until=2026-10-15"),
    ("results, all filters", "results?language=fr&q.role=migrant&q.residence=150"
                             "&from=2026-09-15&until=2026-10-15"),
    ("free-text answers", "results/text/good_practice"),
    ("responses, page 1", "responses"),
    ("responses, page 1000", "responses?page=1000"),
    ("responses, completed", "responses?status=completed"),
    ("one response", "{response}"),
    ("exports (the form)", "exports"),
    ("survey", "survey"),
    ("subscribers", "subscribers"),
    ("rounds", "rounds"),
    ("summary chart (PNG)", "rounds/summary/en.png"),
]


def _touch(database: Path) -> None:
    """Another connection commits (as the bot does when an answer comes)."""
    with sqlite3.connect(database) as connection:
        connection.execute("INSERT INTO events (kind, language, at) VALUES "
                           "('declined', 'en', '2026-11-01T00:00:00Z')")


async def measure(database: Path, repeat: int) -> dict[str, dict[str, float]]:
    survey, _ = load_survey(BUILTIN_SURVEY)
    config = Config(db=database, admins=frozenset({ADMIN}), web=("127.0.0.1", 0))
    db = await connect(database)
    reader = await connect_reader(database)
    now = dt.datetime(2026, 11, 28, tzinfo=dt.UTC)

    def clock() -> dt.datetime:
        return now

    secret = "bench-secret-0000"
    organizing = Organizing(db, survey, config, clock, reader=reader,
                            catalogs=Catalogs.load().with_fallbacks(survey.bot_language),
                            secret=secret)
    access = Access(db, config, clock, secret)
    resources = _console_app(organizing, access, config, secret, clock, 5.0, None, None)
    results: dict[str, dict[str, float]] = {}
    try:
        async with serve(build_app(resources), "127.0.0.1", 0) as bound, \
                aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            base = _address(config, bound)
            access.config = config.with_overrides(web_url=base)
            link, _ = await access.new_link(ADMIN)
            async with http.post(link, allow_redirects=False) as answer:
                assert answer.status == 303
            async with http.get(base + "responses") as answer:
                code = re.search(r'responses/([0-9a-f]{20})"', await answer.text())
            assert code is not None
            for name, path in PAGES:
                target = base + path.format(response="responses/" + code.group(1))

                async def timed(url: str = target) -> float:
                    began = time.perf_counter()
                    async with http.get(url) as answer:
                        await answer.read()
                        assert answer.status == 200, (url, answer.status)
                    return (time.perf_counter() - began) * 1000

                cold = await timed()
                warm = statistics.median([await timed() for _ in range(repeat)])
                changed = []
                for _ in range(repeat):
                    await asyncio.to_thread(_touch, database)
                    changed.append(await timed())
                results[name] = {"cold_ms": round(cold, 1), "warm_ms": round(warm, 1),
                                 "changed_ms": round(statistics.median(changed), 1)}
                print(f"{name:<28}{cold:>10.1f}{warm:>10.1f}"
                      f"{statistics.median(changed):>12.1f}", flush=True)
            fresh = Organizing(db, survey, config, clock, reader=reader, secret=secret)
            began = time.perf_counter()
            assert await fresh.response(code.group(1)) is not None
            results["one response, by code, in a new process"] = {
                "cold_ms": round((time.perf_counter() - began) * 1000, 1)}
    finally:
        await reader.close()
        await db.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--responses", type=int, default=100_000)
    parser.add_argument("--db", type=Path, help="reuse (or build once) this database")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    database = args.db or Path(tempfile.mkdtemp(prefix="consultbot-bench-")) / "bench.sqlite3"
    if not database.exists():
        print(f"building {args.responses:,} responses in {database} …", flush=True)
        build(database, args.responses)
    print(f"{'page':<28}{'cold ms':>10}{'warm ms':>10}{'changed ms':>12}")
    results = asyncio.run(measure(database, args.repeat))
    with sqlite3.connect(database) as connection:
        responses = connection.execute("SELECT count(*) FROM responses").fetchone()[0]
    print(f"one response by code in a new process: "
          f"{results['one response, by code, in a new process']['cold_ms']} ms")
    if args.json:
        args.json.write_text(json.dumps({
            "responses": responses, "machine": {"cpus": os.cpu_count(),
                                                "python": platform.python_version(),
                                                "sqlite": sqlite3.sqlite_version},
            "pages": results}, indent=2))


if __name__ == "__main__":
    main()
