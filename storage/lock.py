"""One serving process per database: a lock file beside it, held while the bot runs.

Two ``consultbot run`` processes on one database would both poll Telegram, both
send the outbox and both run the schedules. The first takes an exclusive
``flock`` on ``<database>.lock`` and writes its process id there; a second one
is refused with that id. The operating system releases the lock when the
process ends, however it ends (``kill -9`` included), so a stale lock file
never blocks a restart.

On PostgreSQL there is no file: the database's own serving lock (a session
advisory lock, :meth:`storage.postgres.PostgresDatabase.serve_alone`) refuses a
second polling process, and a :class:`RunLock` on a URL holds nothing.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from storage.db import StorageError, is_url


class DatabaseInUse(StorageError):
    """Another process serves this database."""

    def __init__(self, path: Path, pid: str) -> None:
        who = f"process {pid}" if pid else "another process"
        super().__init__(f"{path}: already served by {who} (another consultbot run or "
                         "sandbox); stop it first, or use another database (several "
                         "webhook workers need PostgreSQL: CONSULTBOT_DB=postgresql://…)")
        self.pid = pid


class RunLock:
    """The exclusive right to serve one database, until :meth:`release`."""

    def __init__(self, database: Path | str) -> None:
        self.url = is_url(database)
        self.database = Path("postgresql" if self.url else database)
        self.path = self.database.with_name(self.database.name + ".lock")
        self._fd: int | None = None

    def acquire(self) -> RunLock:
        if self.url:
            return self
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = os.read(fd, 32).decode("ascii", "replace").strip()
            os.close(fd)
            raise DatabaseInUse(self.database, pid) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor releases the lock
            self._fd = None
