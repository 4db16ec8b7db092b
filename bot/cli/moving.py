"""``db copy``: move a consultation between SQLite and PostgreSQL, either way."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from bot.cli.common import Refused, existing_database
from bot.config import Config, parse_database


def cmd_db(args: argparse.Namespace, config: Config) -> int:
    """Copy the whole consultation from CONSULTBOT_DB to another database, SQLite or
    PostgreSQL (either way): answers, participants, subscribers, schedules, the outbox,
    settings and the pseudonym key, published surveys. The target must be empty (a new
    SQLite file is created; a PostgreSQL database must exist, empty); the row counts of
    every table are checked afterwards. Stop the bot first: the copy is a snapshot."""
    from storage.copying import copy_database
    from storage.db import connect, is_url
    from storage.lock import RunLock

    source = existing_database(config)
    target = parse_database(args.to, "--to")
    if not is_url(target) and not is_url(source) and (
            Path(target).resolve() == Path(source).resolve()):
        raise Refused("--to: that is CONSULTBOT_DB itself; give another database")
    if is_url(target) and target == source:
        raise Refused("--to: that is CONSULTBOT_DB itself; give another database")

    async def copy() -> tuple[str, str, dict[str, int]]:
        reading = await connect(source)
        try:
            writing = await connect(target)
            try:
                copied = await copy_database(reading, writing)
                return reading.where, writing.where, copied.counts
            finally:
                await writing.close()
        finally:
            await reading.close()

    # a SQLite source is read under its write lock: refused while a bot serves it
    lock = RunLock(source).acquire()
    try:
        origin, destination, counts = asyncio.run(copy())
    finally:
        lock.release()
    for table, count in counts.items():
        print(f"{table:18} {count:>10,}")
    print(f"copied {sum(counts.values()):,} rows from {origin} to {destination}; "
          "every table's count matches")
    return 0
