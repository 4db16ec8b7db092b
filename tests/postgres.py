"""A throwaway PostgreSQL cluster for the tests, started once per test session.

``initdb`` and ``pg_ctl`` (on PATH, or Debian's ``/usr/lib/postgresql/*/bin``)
create a cluster in a temporary folder (in ``/dev/shm`` where there is one),
listening on a free port of 127.0.0.1 only, with durability off (``fsync``,
``synchronous_commit``: a test database never outlives the session). Run as
root, the server runs as the ``postgres`` user (else ``nobody``). A database
with every migration applied is made once and used as the TEMPLATE of each
test's own database, so a fresh database costs milliseconds.

Without the binaries, the tests that need PostgreSQL skip with the reason;
with ``CONSULTBOT_REQUIRE_POSTGRES=1`` (``.ci/run`` sets it) they fail instead.
"""

from __future__ import annotations

import asyncio
import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

REQUIRE_POSTGRES = "CONSULTBOT_REQUIRE_POSTGRES"
REQUIRED = os.environ.pop(REQUIRE_POSTGRES, "") == "1"
TEMPLATE = "consultbot_template"


def binaries() -> Path | None:
    """The folder holding initdb and pg_ctl, or None."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).parent
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(folder) / "initdb").exists():
            return Path(folder)
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _run_as() -> list[str]:
    if os.geteuid() != 0:
        return []
    for user in ("postgres", "nobody"):
        try:
            pwd.getpwnam(user)
        except KeyError:
            continue
        return ["runuser", "-u", user, "--"]
    raise RuntimeError("running as root, and neither a postgres nor a nobody user exists")


@dataclass
class Cluster:
    """A running cluster: :meth:`fresh` gives a new migrated database's URL."""

    port: int
    folder: Path
    command: list[str]
    bin: Path
    _names: Iterator[int] = itertools.count(1)

    def url(self, name: str) -> str:
        return f"postgresql://consultbot@127.0.0.1:{self.port}/{name}"

    async def fresh(self, *, migrated: bool = True) -> str:
        """A new database (migrated: a copy of the template; else empty)."""
        import asyncpg

        name = f"test_{os.getpid()}_{next(self._names)}"
        connection = await asyncpg.connect(self.url("postgres"))
        try:
            template = TEMPLATE if migrated else "template0"
            await connection.execute(f'CREATE DATABASE "{name}" TEMPLATE {template}')
        finally:
            await connection.close()
        return self.url(name)

    def stop(self) -> None:
        subprocess.run([*self.command, str(self.bin / "pg_ctl"), "stop", "-D",
                        str(self.folder / "data"), "-m", "immediate", "-s"],
                       check=False, capture_output=True)
        shutil.rmtree(self.folder, ignore_errors=True)


def start_cluster(*, durable: bool = False) -> Cluster:
    """Start a cluster (``durable``: with fsync and synchronous commits, as in production;
    the tests and the CPU benchmark leave them off)."""
    folder_bin = binaries()
    if folder_bin is None:
        raise FileNotFoundError("initdb")
    # in memory where there is a tmpfs: a test database is a copy of 7 MB of files
    memory = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
    folder = Path(tempfile.mkdtemp(prefix="consultbot-pg-", dir=memory))
    command = _run_as()
    if command:
        user = command[2]
        shutil.chown(folder, user)
    data = folder / "data"
    subprocess.run([*command, str(folder_bin / "initdb"), "-D", str(data), "-U", "consultbot",
                    "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync"],
                   check=True, capture_output=True)
    port = _free_port()
    options = (f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories={folder} "
               "-c max_connections=200 -c shared_buffers=32MB")
    if not durable:
        options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    cluster = Cluster(port, folder, command, folder_bin)
    started = subprocess.run(
        [*command, str(folder_bin / "pg_ctl"), "start", "-D", str(data), "-w", "-t", "60",
         "-s", "-o", options, "-l", str(folder / "log")], check=False, capture_output=True)
    if started.returncode != 0:
        log = (folder / "log").read_text(errors="replace") if (folder / "log").exists() else ""
        cluster.stop()
        raise RuntimeError(f"pg_ctl start failed: {started.stderr.decode()} {log[-2000:]}")
    try:  # on a thread of its own: the caller may be a coroutine (an async fixture)
        with ThreadPoolExecutor(1) as thread:
            thread.submit(lambda: asyncio.run(_make_template(cluster))).result()
    except BaseException:
        cluster.stop()
        raise
    return cluster


async def _make_template(cluster: Cluster) -> None:
    import asyncpg
    from storage.postgres import connect_postgres

    connection = await asyncpg.connect(cluster.url("postgres"))
    try:
        await connection.execute(f"CREATE DATABASE {TEMPLATE}")
    finally:
        await connection.close()
    db = await connect_postgres(cluster.url(TEMPLATE))
    await db.close()


def start_or_skip() -> Cluster:
    """A cluster for the test session; skips the test (or fails it, when required) without
    PostgreSQL. Called by the session-scoped ``pg_cluster`` fixture, which pytest runs once
    (an outcome it raised is raised again for every test that asks)."""
    try:
        return start_cluster()
    except FileNotFoundError:
        reason = ("PostgreSQL's server binaries (initdb, pg_ctl) are not on this machine "
                  "(Debian: apt-get install postgresql)")
    except (RuntimeError, subprocess.CalledProcessError) as exc:
        detail = getattr(exc, "stderr", b"") or b""
        reason = f"cannot start a PostgreSQL cluster: {exc} {detail!r}"[:500]
    if REQUIRED:
        pytest.fail(f"{reason} and {REQUIRE_POSTGRES}=1", pytrace=False)
    pytest.skip(reason)
