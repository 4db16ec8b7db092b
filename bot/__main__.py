"""``python -m bot`` is the ``consultbot`` command."""

import sys

from bot.cli import main

sys.exit(main())
