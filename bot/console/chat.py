"""The console's words in the chat: the reply to /console (console domain, not the bot's)."""

from __future__ import annotations

from bot.i18n import Translator


def link_message(t: Translator, link: str) -> str:
    """The reply that carries a sign-in link (plain text; the link on a line of its own)."""
    return t.gettext("Your link to the web console. It works once, within 10 minutes; do not "
                     "share it: it opens the console as you.") + "\n\n" + link


def console_off(t: Translator) -> str:
    return t.gettext("The web console is turned off on this server (CONSULTBOT_WEB=off).")
