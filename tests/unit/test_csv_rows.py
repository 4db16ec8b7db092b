"""The CSV export's row writer: byte for byte what the csv module writes."""

from __future__ import annotations

import csv
import io
import random

import pytest
from bot.exports.delimited import row_writer

ALPHABET = ['a', 'é', 'ب', ' ', ',', ';', '\t', '"', "'", '\n', '\r', '=', '-', '1', '.',
            '\u200f', '\x00', '😀']


def _random_cell(chance: random.Random) -> object:
    roll = chance.random()
    if roll < 0.05:
        return chance.randint(-5, 5000)
    if roll < 0.08:
        return chance.random()
    if roll < 0.1:
        return None
    return "".join(chance.choice(ALPHABET) for _ in range(chance.randint(0, 6)))


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_rows_are_written_as_the_csv_module_writes_them(delimiter: str) -> None:
    chance = random.Random(f"csv-{delimiter}")
    rows: list[list[object]] = [[], [""], ["", ""], ["a"], [" a "], ["1", "2", "3"]]
    rows += [[_random_cell(chance) for _ in range(chance.randint(1, 8))] for _ in range(3000)]
    ours, theirs = io.StringIO(newline=""), io.StringIO(newline="")
    write = row_writer(ours, delimiter)
    reference = csv.writer(theirs, delimiter=delimiter)
    for row in rows:
        write(row)  # type: ignore[arg-type]  # a few cells are not text on purpose
        reference.writerow(row)
        assert ours.getvalue() == theirs.getvalue(), row
    assert theirs.getvalue().count('"') > 100  # quoting was exercised, not only the fast path


def test_a_row_given_as_a_generator_is_written_once() -> None:
    out = io.StringIO(newline="")
    row_writer(out, ",")(cell for cell in ["a", "b,c"])
    assert out.getvalue() == 'a,"b,c"\r\n'
