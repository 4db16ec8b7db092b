"""consultbot: guided, multilingual consultations on Telegram."""

import os

# python-telegram-bot 22 warns on every RetryAfter unless durations come as timedelta.
os.environ.setdefault("PTB_TIMEDELTA", "true")

__version__ = "0.1.0"
