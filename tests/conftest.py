"""Shared test setup: PTB durations as timedelta (else every RetryAfter warns)."""

import os

os.environ["PTB_TIMEDELTA"] = "true"
