"""``consultbot sandbox``: chat with the bot in a terminal, with no Telegram and no token.

The stand-in Bot API runs on 127.0.0.1 in this process, the real bot (PTB over
HTTP) talks to it, and the person at the terminal plays Telegram users. Bot
messages are printed with their buttons numbered; typing a button's number
presses it (a number on a question whose only buttons are Back, Keep or Skip is
an answer, as is any number no button has); the sandbox's own commands
(:data:`HELP`) send files and places, switch to another person and move time
forward; anything else is sent as a message, ``/start radio_fr`` included.
When standard input is not a terminal, lines are read from it one by one, each
after the bot has finished answering the previous one, so a conversation can
be scripted.

The first person is an organizer (``/stats``, ``/remind now``…); the others are
participants. Rounds reach only the people simulated here: a database that
holds a real consultation is refused unless asked for, and even then nothing
goes to its real participants or groups.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import locale
import os
import re
import sqlite3
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from storage.settings import get_or_create_setting

from bot.app import build_application, console_serving, running
from bot.config import Config, ConfigError
from bot.context import ConsultApplication, utcnow
from bot.ordering import PerChatUpdateProcessor
from bot.sandbox.standin import Button, Call, SentMessage, SimUser, StandIn
from bot.scheduling import catch_up
from bot.survey.model import Survey
from bot.waiting import wait_event

SANDBOX_TOKEN = "1000000001:sandbox-local-token"
MARKER = "sandbox"  # a settings row: this database was made by the sandbox
SOMEWHERE = (14.6928, -17.4467)  # the place "Share my location" sends: Dakar
HELP = """\
Type a button's number to press it, anything else to send it.
  /photo FILE, /voice FILE, /video FILE, /file FILE   send a file from this computer
  /location LATITUDE LONGITUDE                        send a place
  /as NAME                                            talk as another person
  /wait 72h (or 30m, 3d)                              move time forward
  /quit                                               end"""
_NAVIGATION = re.compile(r"^[BKSP]:")  # Back, Keep, Skip, and a page of a long list
_DURATION = re.compile(r"^(\d{1,4})\s*([mhd])$")
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
        self.shown: dict[int, int] = {}  # chat -> the last message id printed
        self.calls = 0  # API calls seen so far

    def on_call(self, call: Call) -> None:
        self.calls += 1
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
        self.shown[message.chat_id] = max(self.shown.get(message.chat_id, 0), message.message_id)
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

    def follow(self, chat_id: int) -> None:
        """Show another person's chat from now on: first what they got meanwhile (a
        reminder, a summary); their latest keyboard is the one numbers press."""
        self.chat_id = chat_id
        messages = self.api.messages(chat_id)
        self.keyboard_message = next((m for m in reversed(messages) if m.buttons), None)
        for message in messages:
            if message.message_id > self.shown.get(chat_id, 0):
                self.show(message, edited=False)

    async def wait_until_quiet(self, application: ConsultApplication) -> None:
        """Wait until the bot has done all the last line asked: every update fetched and
        handled, the outbox drained, and no API call made while this was being checked
        (on events, not on a quiet spell: a fast bot is not kept waiting, a slow one is
        not cut short). Gives up silently after :data:`ANSWER_DEADLINE`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + ANSWER_DEADLINE
        processor = application.update_processor
        assert isinstance(processor, PerChatUpdateProcessor)
        stable = 0
        while stable < 3:
            calls = self.calls
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            await self.api.wait_until(lambda: self.api.pending_updates == 0, timeout=remaining)
            if not await wait_event(processor.idle, deadline - loop.time()):
                return
            worker = application.bot_data.worker
            if worker is not None:
                try:
                    async with asyncio.timeout(max(deadline - loop.time(), 0)):
                        await worker.drained()
                except TimeoutError:
                    return
            quiet = (self.api.pending_updates == 0 and processor.active == 0
                     and application.update_queue.empty() and self.calls == calls)
            stable = stable + 1 if quiet else 0
            await asyncio.sleep(0)


async def _read_line(source: TextIO, interactive: bool) -> str | None:
    if interactive:
        sys.stdout.write("you › ")
        sys.stdout.flush()
    line = await asyncio.to_thread(source.readline)
    return None if line == "" else line.rstrip("\n")


@dataclass
class SandboxClock:
    """The bot's clock: real time, moved forward by ``/wait``."""

    offset: dt.timedelta = field(default_factory=dt.timedelta)

    def __call__(self) -> dt.datetime:
        return utcnow() + self.offset


def check_database(path: Path, allow_real_data: bool) -> None:
    """Refuse a database that holds a real consultation (the sandbox would write to it)."""
    if allow_real_data or not path.exists():
        return
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
            tables = {row[0] for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
            if not {"participants", "settings", "subscriptions"} <= tables:
                return
            if connection.execute("SELECT 1 FROM settings WHERE key = ?",
                                  (MARKER,)).fetchone():
                return
            people = connection.execute("SELECT count(*) FROM participants").fetchone()[0]
            groups = connection.execute("SELECT count(*) FROM subscriptions").fetchone()[0]
    except sqlite3.Error:
        return  # not a database the sandbox can read: opening it says why
    if people or groups:
        raise ConfigError(
            f"{path}: holds a real consultation ({people} participant(s), {groups} "
            "subscriber(s)); the sandbox would write to it. Use another file with --db, or "
            "--allow-real-data to try it on a copy (nothing is ever sent to real people)")


class Sandbox:
    """The people at the terminal and the time they live in."""

    def __init__(self, api: StandIn, application: ConsultApplication, clock: SandboxClock,
                 first: SimUser, transcript: Transcript, out: TextIO) -> None:
        self.api = api
        self.application = application
        self.clock = clock
        self.person = first
        self.people = {"you": first}
        self.transcript = transcript
        self.out = out

    def say(self, text: str) -> None:
        self.out.write(f"  ({text})\n")
        self.out.flush()

    async def act(self, line: str) -> None:
        """Do what a typed line asks (see :data:`HELP`)."""
        word, _, rest = line.partition(" ")
        rest = rest.strip()
        if word in ("/photo", "/voice", "/video", "/file") and rest:
            self._send_file(word[1:], Path(rest).expanduser())
        elif word == "/location" and rest:
            self._send_place(rest)
        elif word == "/as" and rest:
            self._become(rest)
        elif word == "/wait" and rest:
            await self._wait(rest)
        elif line.isdigit() and self._press(int(line)):
            pass
        else:
            self.person.send(line)

    def _press(self, number: int) -> bool:
        """Press button ``number`` of the latest keyboard; False if it is an answer to type."""
        keyboard = self.transcript.keyboard_message
        if keyboard is None:
            return False
        buttons = [button for row in keyboard.buttons for button in row]
        if not 1 <= number <= len(buttons):
            return False
        if keyboard.reply_markup and "keyboard" in keyboard.reply_markup:
            return self._press_reply_button(buttons[number - 1])
        if all(_NAVIGATION.match(b.callback_data or "") for b in buttons):
            return False  # only Back, Keep or Skip: a number is an answer (a year, an age)
        self.person.press(keyboard.message_id, number - 1)
        return True

    def _press_reply_button(self, button: Button) -> bool:
        if button.request_location:
            self.person.send_location(*SOMEWHERE)
            self.say(f"your phone shared a place: {SOMEWHERE[0]}, {SOMEWHERE[1]}")
        else:
            self.person.send(button.text)
        return True

    def _send_file(self, kind: str, path: Path) -> None:
        try:
            data = path.read_bytes()
        except OSError as exc:
            self.say(f"cannot read {path}: {exc.strerror}")
            return
        if kind == "photo":
            self.person.send_photo(data)
        elif kind == "voice":
            self.person.send_voice(data)
        elif kind == "video":
            self.person.send_video(data)
        else:
            self.person.send_document(data, path.name, "application/octet-stream")

    def _send_place(self, text: str) -> None:
        try:
            latitude, longitude = (float(part) for part in text.replace(",", " ").split())
        except ValueError:
            self.say("write /location LATITUDE LONGITUDE, for example /location 5.36 -4.01")
            return
        self.person.send_location(latitude, longitude)

    def _become(self, name: str) -> None:
        person = self.people.get(name.lower())
        if person is None:
            user_id = max(p.id for p in self.people.values()) + 1
            person = self.api.user(user_id, first_name=name,
                                   language_code=self.person.language_code)
            self.people[name.lower()] = person
            self.say(f"you are now {name}, a participant (Telegram user {user_id}); "
                     "/as you to come back")
        else:
            self.say(f"you are {name} again")
        self.person = person
        self.transcript.follow(person.id)

    async def _wait(self, text: str) -> None:
        match = _DURATION.match(text)
        if match is None:
            self.say("write /wait with a number and m, h or d, for example /wait 72h")
            return
        amount, unit = int(match.group(1)), match.group(2)
        before = self.clock()
        self.clock.offset += dt.timedelta(**{{"m": "minutes", "h": "hours",
                                              "d": "days"}[unit]: amount})
        ran = await catch_up(self.application, before)
        worker = self.application.bot_data.worker
        if worker is not None:
            worker.wake()
        self.say(f"it is now {self.clock():%Y-%m-%d %H:%M} UTC in the sandbox"
                 + (f"; {ran} scheduled round(s) ran" if ran else ""))


async def run_sandbox(
    config: Config,
    survey: Survey,
    *,
    language: str | None = None,
    user_id: int = 100001,
    source: TextIO | None = None,
    out: TextIO | None = None,
    allow_real_data: bool = False,
) -> int:
    source = source or sys.stdin
    out = out or sys.stdout
    interactive = source.isatty()
    check_database(config.db, allow_real_data)
    clock = SandboxClock()
    async with StandIn(SANDBOX_TOKEN) as api:
        bot_config = config.with_overrides(token=SANDBOX_TOKEN, api_url=api.url,
                                           admins=config.admins | {user_id})
        application = build_application(bot_config, survey, clock=clock,
                                        deliverable=api.simulates)
        person = api.user(user_id, first_name="You",
                          language_code=language or _language_from_environment())
        transcript = Transcript(api, user_id, out)
        api.add_listener(transcript.on_call)
        async with running(application), console_serving(application,
                                                          fallback=True) as console:
            database = application.bot_data.database
            assert database is not None
            await get_or_create_setting(database, MARKER, "1")
            sandbox = Sandbox(api, application, clock, person, transcript, out)
            web = (f"web console: {console} (send /console here for a sign-in link)\n"
                   if console else "")
            out.write(f"consultbot sandbox — a local stand-in of Telegram on {api.url}\n"
                      f"database: {config.db}\n{web}{HELP}\n\n")
            out.flush()
            person.send("/start")
            await transcript.wait_until_quiet(application)
            while True:
                line = await _read_line(source, interactive)
                if line is None or line.strip() == "/quit":
                    break
                if not line.strip():
                    continue
                if not interactive:
                    out.write(f"you › {line}\n")
                await sandbox.act(line.strip())
                await transcript.wait_until_quiet(application)
    return 0
