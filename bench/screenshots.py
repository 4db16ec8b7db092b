"""Regenerate the screenshots docs/console.md shows, from the browser tests.

Runs tests/browser (the real bot and console in Debian's chromium) with their
screenshots saved to a temporary folder, then keeps one per page (and the
overview at phone width) in docs/console/, cut to a readable height and
reduced to a small palette so that the committed PNGs stay small.

    python bench/screenshots.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "console"
KEPT = ("signin-needed", "overview", "overview-phone", "results", "responses", "exports",
        "survey-report", "subscribers", "rounds", "overview-arabic")
MOST_HEIGHT = 1300  # pixels: the top of a long page shows what it is


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="consultbot-screenshots-") as folder:
        done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                               str(ROOT / "tests" / "browser"), "--screenshots", folder],
                              cwd=ROOT, check=False)
        if done.returncode != 0:
            return done.returncode
        OUT.mkdir(parents=True, exist_ok=True)
        for name in KEPT:
            with Image.open(Path(folder) / f"{name}.png") as image:
                shot = image.convert("RGB")
                if shot.height > MOST_HEIGHT:
                    shot = shot.crop((0, 0, shot.width, MOST_HEIGHT))
                small = shot.quantize(colors=48, method=Image.Quantize.MEDIANCUT)
                small.save(OUT / f"{name}.png", optimize=True)
            print(f"docs/console/{name}.png: {(OUT / f'{name}.png').stat().st_size // 1024} kB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
