"""The ``consultbot`` command line: parse the arguments, call the core, print the outcome.

- :mod:`~bot.cli.entry`: the parser (every command and its help) and :func:`main`;
- :mod:`~bot.cli.common`: logging, the survey, the database, languages, errors;
- :mod:`~bot.cli.serving`: ``run`` and ``sandbox``;
- :mod:`~bot.cli.data`: ``stats``, ``export``, ``summary`` and ``survey check``;
- :mod:`~bot.cli.managing`: ``subscribers``, ``remind``, ``broadcast`` and ``schedule``.

An organizer's mistake (a bad setting, a bad survey file, a request that
cannot be carried out) ends in one line on stderr naming the problem and what
to do, with exit status 2, never a traceback. Output cut short by its reader
(``consultbot stats | head -1``) ends quietly with status 141, as for any
program killed by SIGPIPE. The commands import what they need when they run,
so that ``--help`` and ``survey check`` start quickly.
"""

from bot.cli.common import configure_logging
from bot.cli.entry import build_parser, main

__all__ = ["build_parser", "configure_logging", "main"]
