"""Reading the responses in a thread of their own while the file is being written.

An export spends its time in two places: the database (SQLite gathers each
response's answers, PostgreSQL sends them) and Python (cells, then the file).
The database drivers leave the interpreter while they work, so a reader thread
that stays a few batches ahead lets the two overlap on a machine with two
cores: docs/performance.md has the figures.

:func:`read_ahead` is a context manager so that the reader has stopped before
the caller closes the connection it reads from, whether the export finished,
failed or was interrupted.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")

BATCH = 256  # rows handed over at once: one queue operation per batch, not per row
DEPTH = 8  # batches read ahead at most, so memory stays bounded whatever the export's size


class _End:
    """What the reader puts last: the error that stopped it, if any."""

    __slots__ = ("error",)

    def __init__(self, error: BaseException | None) -> None:
        self.error = error


@contextmanager
def read_ahead(rows: Iterator[T], *, batch: int = BATCH, depth: int = DEPTH
               ) -> Iterator[Iterator[T]]:
    """``rows``, read by a thread of its own up to ``depth`` batches ahead of the caller;
    an error of the reader is raised to the caller where the rows would have come."""
    handed: queue.Queue[list[T] | _End] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: list[T] | _End) -> bool:
        while not stop.is_set():
            try:
                handed.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def read() -> None:
        error: BaseException | None = None
        chunk: list[T] = []
        try:
            for row in rows:
                chunk.append(row)
                if len(chunk) >= batch:
                    if not put(chunk):
                        return
                    chunk = []
        except BaseException as exc:  # handed to the caller, raised after the rows read
            error = exc
        finally:
            close = getattr(rows, "close", None)  # a generator's own clean-up, in this thread
            if close is not None:
                close()
        if chunk and not put(chunk):
            return
        put(_End(error))

    def taken() -> Iterator[T]:
        while True:
            item = handed.get()
            if isinstance(item, _End):
                if item.error is not None:
                    raise item.error
                return
            yield from item

    reader = threading.Thread(target=read, name="export-reader", daemon=True)
    reader.start()
    try:
        yield taken()
    finally:
        stop.set()
        reader.join()
