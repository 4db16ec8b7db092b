"""The sample forms by other organizations, kept beside the checkout (``../shared/xlsforms``).

They are data, not part of the project. Tests that read them carry the
``shared_xlsforms`` marker: skipped when the folder is missing, failed instead when
``CONSULTBOT_REQUIRE_SHARED=1`` (as in ``.ci/run``).
"""

from pathlib import Path

XLSFORMS = Path(__file__).resolve().parents[2] / "shared" / "xlsforms"
REQUIRE_SHARED = "CONSULTBOT_REQUIRE_SHARED"
