"""Where the files of an export go: the path asked for, and its companions.

An export writes one file per table and, for CSV, SAV and DTA, a codebook. Asked
for ``answers.csv``, the responses go to ``answers.csv`` and the others beside
it, named after it (``answers.codebook.csv``; a repeat's table
``answers.<table>.csv``). Asked for ``answers.zip``, all of them go into that one
zip (``responses.csv``, ``codebook.csv``, …). Files are written in a hidden
folder beside the target first and moved (or zipped) into place only when the
export is complete, so a failed export leaves nothing behind.
"""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from pathlib import Path

MAIN = "responses"


class Output:
    """The files of one export, written aside until :meth:`finish` puts them in place."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.zipped = out.suffix.lower() == ".zip"
        self.folder = Path(tempfile.mkdtemp(prefix=".consultbot-export-", dir=out.parent))
        self.members: list[tuple[str, Path]] = []

    def file(self, name: str, suffix: str) -> Path:
        """Where to write the member ``name`` (``responses``, ``codebook``, a table's name)."""
        path = self.folder / f"{name}{suffix}"
        self.members.append((name, path))
        return path

    def target(self, name: str, suffix: str) -> Path:
        """Where a member ends up when not zipped."""
        out = self.out
        return out if name == MAIN else out.with_name(f"{out.stem}.{name}{suffix}")

    def finish(self) -> tuple[Path, ...]:
        """Move or zip every member into place; the files written, the one asked for first."""
        try:
            if self.zipped:
                with zipfile.ZipFile(self.out, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
                    for _, path in self.members:
                        bundle.write(path, arcname=path.name)
                return (self.out,)
            placed: list[Path] = []
            for name, path in self.members:
                target = self.target(name, path.suffix)
                path.replace(target)
                placed.append(target)
            return tuple(placed)
        finally:
            self.discard()

    def discard(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
