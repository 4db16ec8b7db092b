"""Run a command in its own process and report its wall time and peak memory.

Linux keeps a process's peak resident size across ``exec``: a child forked
straight from a benchmark script (which may hold a large database in memory)
would report the script's size as its own peak. So the command is started by a
small launcher, whose ``wait4`` sees the command's real peak.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

LAUNCHER = """
import os, subprocess, sys, time
began = time.perf_counter()
child = subprocess.Popen(sys.argv[1:])
_, status, usage = os.wait4(child.pid, 0)
seconds = time.perf_counter() - began
sys.stderr.write(f"\\npeak-rss-kb {usage.ru_maxrss} seconds {seconds}\\n")
sys.exit(os.waitstatus_to_exitcode(status))
"""


def measure(command: list[str], env: dict[str, str] | None = None,
            stdout: Path | None = None) -> dict[str, Any]:
    """``seconds``, ``peak_rss_mb`` and ``output`` (stdout, unless sent to ``stdout``)."""
    out = stdout.open("wb") if stdout else subprocess.PIPE
    try:
        process = subprocess.run([sys.executable, "-c", LAUNCHER, *command], env=env,
                                 stdout=out, stderr=subprocess.PIPE, check=False)
    finally:
        if stdout:
            out.close()  # type: ignore[union-attr]
    error = process.stderr.decode()
    output = process.stdout.decode() if process.stdout else ""
    if process.returncode != 0:
        raise RuntimeError(f"{command} failed:\n{output[-2000:]}\n{error[-2000:]}")
    peak_kb, _, seconds = error.rsplit("peak-rss-kb ", 1)[1].split()[:3]
    return {"seconds": round(float(seconds), 2), "peak_rss_mb": round(int(peak_kb) / 1024, 1),
            "output": output}
