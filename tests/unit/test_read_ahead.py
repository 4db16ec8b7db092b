"""The export's reader thread: every row in order, errors where the rows would have been,
bounded memory, and a reader that has stopped before the connection is closed."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from bot.exports.ahead import read_ahead


def numbers(count: int) -> Iterator[int]:
    yield from range(count)


@pytest.mark.parametrize("count", [0, 1, 5, 6, 7, 100])
def test_every_row_arrives_in_order(count: int) -> None:
    with read_ahead(numbers(count), batch=3, depth=2) as rows:
        assert list(rows) == list(range(count))


def test_an_error_of_the_reader_is_raised_after_the_rows_before_it() -> None:
    def failing() -> Iterator[int]:
        yield 1
        yield 2
        raise ValueError("the disk is gone")

    got: list[int] = []
    with pytest.raises(ValueError, match="the disk is gone"), \
            read_ahead(failing(), batch=5) as rows:
        for row in rows:
            got.append(row)
    assert got == [1, 2]


def test_a_caller_that_stops_stops_the_reader_and_memory_stays_bounded() -> None:
    produced = [0]
    closed_in: list[str] = []

    def endless() -> Iterator[int]:
        try:
            while True:
                produced[0] += 1
                yield produced[0]
        finally:
            closed_in.append(threading.current_thread().name)

    with pytest.raises(OSError), read_ahead(endless(), batch=4, depth=3) as rows:
        assert next(rows) == 1
        raise OSError("no space left on device")  # the file could not be written
    # the reader has ended (it would otherwise run for ever), closed its source itself,
    # and never held more than the queue's batches, the one handed over and the one it built
    assert closed_in == ["export-reader"]
    assert not any(t.name == "export-reader" for t in threading.enumerate())
    assert produced[0] <= (3 + 2) * 4
