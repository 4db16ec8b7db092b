"""The organizer's web console: live figures, results, responses, exports, the survey,
subscribers and rounds in a browser, signed in through the bot.

- :mod:`~bot.console.app`: the aiohttp application, its resources, the sign-in guard and
  CSRF check, page rendering (Jinja2 templates in ``templates/``, in the organizer's
  language from the ``console`` gettext domain);
- :mod:`~bot.console.pages`: one handler per page or action, each calling a use case of
  :mod:`bot.organizing`, :mod:`bot.access` or :mod:`bot.publishing`;
- :mod:`~bot.console.views`: the funnel, distributions and filters the pages lay out;
- :mod:`~bot.console.exports`: the export form (a table of fields) and background exports;
- :mod:`~bot.console.cron`: cron expressions in plain words;
- :mod:`~bot.console.serving`: serving it in a running event loop.

It imports no ``telegram`` type and no ``handlers`` module: whatever it shows as the bot
says it (a reminder) is handed in by the application factory.
"""

from bot.console.app import Resources, build_app
from bot.console.serving import serve

__all__ = ["Resources", "build_app", "serve"]
