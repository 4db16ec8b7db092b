"""``consultbot sandbox``: chat with the bot in a terminal, with no Telegram and no token.

The stand-in Bot API runs on 127.0.0.1 in this process, the real bot (PTB over
HTTP) talks to it, and the person at the terminal plays a Telegram user: bot
messages are printed with their buttons numbered, typing a button's number
presses it, anything else (other numbers too) is sent as a message, ``/quit``
ends. When standard input
is not a terminal, lines are read from it one by one, each after the bot has
finished answering the previous one, so a conversation can be scripted.
"""

from __future__ import annotations

import asyncio
import contextlib
import locale
import os
import sys
import time
from typing import TextIO

from bot.app import build_application, running
from bot.config import Config
from bot.sandbox.standin import Call, SentMessage, SimUser, StandIn
from bot.survey.model import Survey
from bot.waiting import wait_event

SANDBOX_TOKEN = "1000000001:sandbox-local-token"
QUIET_SECONDS = 0.3
ANSWER_DEADLINE = 15.0
_SHOWN_METHODS = {"sendMessage", "editMessageText", "editMessageReplyMarkup", "sendDocument",
                  "sendPhoto"}


def _language_from_environment() -> str | None:
    for variable in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(variable)
        if value and value not in ("C", "POSIX") and not value.startswith("C."):
            return value.split(".")[0].replace("_", "-").lower()
    with contextlib.suppress(ValueError):
        code = locale.getlocale()[0]
        if code:
            return code.replace("_", "-").lower()
    return None


class Transcript:
    """Prints what the bot does in the person's chat, numbering the latest buttons."""

    def __init__(self, api: StandIn, chat_id: int, out: TextIO) -> None:
        self.api = api
        self.chat_id = chat_id
        self.out = out
        self.keyboard_message: SentMessage | None = None
        self.last_activity = time.monotonic()
        self.activity = asyncio.Event()

    def on_call(self, call: Call) -> None:
        self.last_activity = time.monotonic()
        self.activity.set()
        if call.method not in _SHOWN_METHODS or call.status != 200:
            return
        result = call.response.get("result")
        if not isinstance(result, dict) or result.get("chat", {}).get("id") != self.chat_id:
            return
        message_id = result["message_id"]
        current = next((m for m in self.api.messages(self.chat_id)
                        if m.message_id == message_id), None)
        if current is None:
            return
        if call.method == "editMessageReplyMarkup" and not current.buttons:
            # only the buttons were taken away: nothing new to read
            if self.keyboard_message and self.keyboard_message.message_id == message_id:
                self.keyboard_message = None
            return
        self.show(current, edited=call.method.startswith("edit"))

    def show(self, message: SentMessage, *, edited: bool) -> None:
        prefix = "bot (edited) › " if edited else "bot › "
        lines = (message.text or f"[{message.kind}]").splitlines() or [""]
        self.out.write(prefix + lines[0] + "\n")
        for line in lines[1:]:
            self.out.write(" " * len(prefix) + line + "\n")
        if message.filename:
            self.out.write(f"{' ' * len(prefix)}[file: {message.filename}]\n")
        buttons = [button for row in message.buttons for button in row]
        if buttons:
            self.keyboard_message = message
            for number, button in enumerate(buttons, start=1):
                self.out.write(f"{' ' * len(prefix)}[{number}] {button.text}\n")
        elif self.keyboard_message and self.keyboard_message.message_id == message.message_id:
            self.keyboard_message = None
        self.out.flush()

    async def wait_until_quiet(self) -> None:
        """Wait until the bot has stopped answering (no API call for a short while)."""
        deadline = time.monotonic() + ANSWER_DEADLINE
        await self.api.wait_until(lambda: self.api.pending_updates == 0, timeout=ANSWER_DEADLINE)
        while time.monotonic() < deadline:
            idle = time.monotonic() - self.last_activity
            if idle >= QUIET_SECONDS and self.api.pending_updates == 0:
                return
            self.activity.clear()
            await wait_event(self.activity, QUIET_SECONDS - min(idle, 0.29))


async def _read_line(source: TextIO, interactive: bool) -> str | None:
    if interactive:
        sys.stdout.write("you › ")
        sys.stdout.flush()
    line = await asyncio.to_thread(source.readline)
    return None if line == "" else line.rstrip("\n")


async def run_sandbox(
    config: Config,
    survey: Survey,
    *,
    language: str | None = None,
    user_id: int = 100001,
    source: TextIO | None = None,
    out: TextIO | None = None,
) -> int:
    source = source or sys.stdin
    out = out or sys.stdout
    interactive = source.isatty()
    async with StandIn(SANDBOX_TOKEN) as api:
        bot_config = config.with_overrides(token=SANDBOX_TOKEN, api_url=api.url)
        application = build_application(bot_config, survey)
        person = api.user(user_id, first_name="You",
                          language_code=language or _language_from_environment())
        transcript = Transcript(api, user_id, out)
        api.add_listener(transcript.on_call)
        async with running(application):
            out.write(f"consultbot sandbox — a local stand-in of Telegram on {api.url}\n"
                      f"database: {config.db}\n"
                      "Type a button's number to press it, anything else to send it, /quit to end."
                      "\n\n")
            out.flush()
            person.send("/start")
            await transcript.wait_until_quiet()
            while True:
                line = await _read_line(source, interactive)
                if line is None or line.strip() == "/quit":
                    break
                if not line.strip():
                    continue
                if not interactive:
                    out.write(f"you › {line}\n")
                _act(person, transcript, line.strip())
                await transcript.wait_until_quiet()
    return 0


def _act(person: SimUser, transcript: Transcript, line: str) -> None:
    """Press the numbered button, or send the line as a message (a number that is no
    button's, such as a year or an age, is an answer to type)."""
    keyboard = transcript.keyboard_message
    if line.isdigit() and keyboard is not None:
        buttons = [button for row in keyboard.buttons for button in row]
        number = int(line)
        if 1 <= number <= len(buttons):
            person.press(keyboard.message_id, number - 1)
            return
    person.send(line)
