"""Files attached to a form: choice lists and ``pulldata()`` tables, found where Kobo and
ODK keep them.

An organizer's folder holds the form and the files it names as KoboToolbox and ODK
lay them out: in ``media/`` beside the form, in ODK Collect's ``<form>-media/``, or
next to the form itself (looked for in that order). A file that is in none of them
is reported with its name and every place it was looked for.

Read here: CSV (UTF-8, a byte-order mark allowed; one header row) and ODK's XML
itemsets (``<root><item><name>…</name><label>…</label></item>…</root>``, each
child of an item a column). Every file read counts in the survey's fingerprint,
so that changing a choice list makes the old buttons stale.
"""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path
from xml.etree import ElementTree

from bot.survey.expressions import DataTable

MEDIA = "media"


class AttachmentError(Exception):
    """A file the form names cannot be used; the message says which and why."""


class Attachments:
    """The files a form names, looked up and read once each."""

    def __init__(self, form: Path) -> None:
        self.form = form
        self.places = (form.parent / MEDIA, form.parent / f"{form.stem}-media", form.parent)
        self.digest = hashlib.sha256()
        self.tables: dict[str, DataTable] = {}

    def find(self, name: str) -> Path | None:
        """The attached file of this name, or ``None``."""
        if not name or Path(name).name != name:
            return None
        return next((p / name for p in self.places if (p / name).is_file()), None)

    def where(self, name: str) -> str:
        """Where a file of this name is looked for, as an organizer would write it."""
        return (f"{MEDIA}/{name}, {self.form.stem}-media/{name} and {name}, beside "
                f"{self.form.name}")

    def missing(self, name: str) -> str:
        return f"'{name}' is not attached: looked for {self.where(name)}"

    def rows(self, name: str) -> list[dict[str, str]]:
        """The rows of an attached CSV or XML file, each a mapping of column to text."""
        path = self.find(name)
        if path is None:
            raise AttachmentError(self.missing(name))
        suffix = path.suffix.lower()
        if suffix not in (".csv", ".xml"):
            raise AttachmentError(f"'{name}': only CSV and XML files are supported")
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise AttachmentError(f"cannot read '{name}': {exc.strerror}") from None
        self.digest.update(name.encode() + b"\0" + raw)
        try:
            if suffix == ".csv":
                text = raw.decode("utf-8-sig")
                return [dict(r) for r in csv.DictReader(text.splitlines())]
            return _xml_rows(raw)
        except (UnicodeDecodeError, csv.Error, ElementTree.ParseError) as exc:
            raise AttachmentError(f"cannot read '{name}': {exc}") from None

    def table(self, name: str) -> DataTable:
        """The CSV ``pulldata('name', …)`` reads (``name`` with or without ``.csv``); raises
        ``LookupError`` with what is wrong."""
        file = name if name.lower().endswith(".csv") else f"{name}.csv"
        found = self.tables.get(file)
        if found is None:
            try:
                rows = self.rows(file)
            except AttachmentError as exc:
                raise LookupError(f"pulldata(): {exc}") from None
            columns = list(rows[0]) if rows else _header(self.find(file))
            found = self.tables[file] = DataTable(
                file, tuple(columns), tuple(tuple(r.get(c) or "" for c in columns) for r in rows))
        return found

    def fingerprint(self) -> bytes:
        """A digest of every file read so far."""
        return self.digest.digest()


def _header(path: Path | None) -> list[str]:
    """The columns of a CSV file that has a header and no rows."""
    if path is None:
        return []
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return next(csv.reader(handle), [])


def _xml_rows(raw: bytes) -> list[dict[str, str]]:
    """ODK's XML itemset: each child of the root an item, each child of an item a column."""
    root = ElementTree.fromstring(raw)
    return [{child.tag: (child.text or "").strip() for child in item} for item in root]
