"""Participant load: many simulated people take the built-in consultation at once.

Run from the repository root with the project's virtualenv::

    .venv/bin/python bench/participants.py [--participants N] [--duration S]
        [--scenario all|throughput|offered|paired|memory] [--json out.json]
        [--rate R[,R…]] [--paired-rate R] [--stored K] [--bots consultbot,floor,floor-aiohttp]
        [--snapshot] [--transport polling|webhook|both]
        [--retries N] [--keep]

What it does
------------
This process runs the Bot API stand-in (:class:`bot.sandbox.standin.StandIn`,
aiohttp on 127.0.0.1) and plays the participants. The bot under test is a
separate process that talks to the stand-in over loopback HTTP exactly as it
would talk to Telegram, so its CPU time and memory are its own:

* consultbot: ``python -m bot run`` with ``CONSULTBOT_TOKEN``,
  ``CONSULTBOT_API_URL`` (the stand-in) and ``CONSULTBOT_DB`` (a fresh file in
  a temporary folder);
* the floor: ``python bench/floor_bot.py`` with the same environment, a
  minimal PTB application that makes the same Bot API calls for each kind of
  action with fixed texts and keyboards and no storage or survey logic (the
  mapping is in its docstring). Its CPU per update is what python-telegram-bot
  itself costs for this traffic.

A participant walks through the built-in consultation the way
``tests/integration/test_journeys.py`` does (22 updates, in their own language,
rotating en/fr/es/ar): /start, language, consent, role, a typed country search
and a pick, skip origin, partnership "yes" (a note and the levels question
follow), ticks and "Done" on four multi-selects, skip domains, two scales, a
typed year, a typed good practice. Each step waits for the bot's reply before
the next, as a person does. For the floor, the same sequence of action kinds
(floor keyboards are pressed by position; typed texts carry a one-character
prefix that tells the floor which kind of text it is).

Measurements
------------
* latency of an update: from ``time.monotonic()`` just before
  ``SimUser.send``/``SimUser.press`` enqueued it to ``Call.started`` of the
  call the participant waits for (the ``sendMessage`` of the next question
  (with buttons); after the last answer, the offer of the results' summary
  that follows the closing text; the ``editMessageReplyMarkup`` that redraws
  the keyboard for a tick), taken
  from a ``StandIn.add_listener`` callback: no polling, no sleeping. That call
  is the last one the bot makes for the update.
* CPU per update: utime+stime of the bot process (all its threads) from
  ``/proc/<pid>/stat``, read before and after the measured window, divided by
  the updates answered in it. The bot's polling (getUpdates) is included.
  Each bot first serves 20 warm-up participants (not measured), so lazy
  imports and first-call costs stay out of the window.
  The split between the event-loop thread and the others (aiosqlite's worker)
  comes from ``/proc/<pid>/task/*/stat``.
* peak memory: ``VmHWM`` of ``/proc/<pid>/status`` at the end of the run.
* the load generator's own CPU (``time.process_time``) is reported too: the
  stand-in and the participants share one core of the machine with nothing
  else, so a generator near 100 % means throughput was limited by it. So are
  its event loop's delays (a 5 ms ticker) and full garbage collections, which
  would delay the stand-in's answers: before each window the generator's
  objects are frozen (``gc.freeze``) and full collections are held off until
  the window ends; the stand-in's own record of calls is trimmed as it goes.
* everything else on the machine (``/proc/stat`` minus the bot and the
  generator) must be idle: before each window the script waits until other
  processes use under 10 % of a core, and a window during which they used
  more is measured again (``--retries``, default 2); the figure is in the
  ``other CPU%`` column.

Scenarios (a table row per bot):

1. ``throughput``: N participants (``--participants``, default 200) walk at
   once, each as fast as the bot answers (closed loop).
2. ``offered``: 1,000 participants, 100 updates/s offered in total (open loop:
   a pacer releases the next action of a randomly chosen waiting participant
   every 10 ms on a fixed schedule; a participant has at most one action
   outstanding) for ``--duration`` seconds (default 60). Before the window the
   1,000 people are brought, unmeasured, to staggered points of their walk
   (person i has done i mod 22 steps), so the window sees the whole mix of
   actions rather than 1,000 simultaneous /starts; whoever finishes during the
   window is replaced by a new person. A tick with nobody waiting is counted
   as "not offered". ``--rate`` changes the rate (the targets are checked at
   100/s only).
3. ``paired``: both bots at the same time, each with its own stand-in and
   1,000 people offered ``--paired-rate`` updates/s (default 50), so that
   they run under the same conditions: the reference for the ratio of their
   CPU per update (see ``scenario_paired``). Latencies there are not
   meaningful.
4. ``memory``: consultbot only. The database is created by running the bot
   once, then pre-filled with sqlite3 with 0 and with ``--stored`` (default
   100,000) participants, with responses and answers shaped like real ones
   (80 % completed, 20 % stopped part-way; partnership yes/no branches; four
   languages). Then the same load as ``throughput`` runs and peak RSS is read.

``--snapshot`` runs consultbot from a copy of the last commit (``git archive
HEAD``) instead of the working tree, so that edits made while it runs do not mix
in (the floor, part of the benchmark, always runs from this folder).

Bot logs (stderr) are scanned for warnings, errors and tracebacks; every
non-200 answer of the stand-in is counted. Subprocesses are stopped (SIGTERM,
then SIGKILL) and temporary files removed whatever happens (``--keep`` keeps
the folder with the databases and logs).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import datetime as dt
import functools
import gc
import json
import math
import os
import platform
import random
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PTB_TIMEDELTA", "true")

from bot.i18n import Catalogs, language_name  # noqa: E402
from bot.sandbox.standin import Call, SentMessage, SimUser, StandIn  # noqa: E402
from bot.survey.loader import BUILTIN_SURVEY, load_survey  # noqa: E402
from bot.survey.model import Survey  # noqa: E402

TOKEN = "4242:participant-load-benchmark"
LANGUAGES = ("en", "fr", "es", "ar")
# What a participant types to find their country, and the match they press.
COUNTRY_SEARCH = {"en": "Germ", "fr": "allem", "es": "alema", "ar": "ألمانيا"}
GOOD_PRACTICE = "Cities that invite diaspora groups to planning meetings."

WARMUP_PARTICIPANTS = 20
WARMUP_FIRST_ID = 900_001
PREFILL_FIRST_ID = 5_000_000_000
STEP_TIMEOUT = 60.0  # a reply slower than this means the bot is stuck
OFFERED_PARTICIPANTS = 1_000
OFFERED_RATE = 100.0  # updates/s
PAIRED_RATE = 50.0  # updates/s to each bot when both run at once
STAGGER_CONCURRENCY = 50
CLK_TCK = os.sysconf("SC_CLK_TCK")
GC_FULL_THRESHOLD = gc.get_threshold()[2]
KEEP_CALLS = 10_000  # the stand-in's record of calls is trimmed (the listener sees each one)

CPU_RATIO_TARGET = 1.0  # issue 11: no more CPU per update than the bare PTB + httpx bot
P99_TARGET_MS = 100.0
P99_CEILING_MS = 250.0  # issue 11: the highest rate at which the p99 stays under this
OTHER_CPU_LIMIT = 10.0  # % of a core used by other processes that makes a window "disturbed"
RSS_FLAT_TOLERANCE = 0.10  # "flat": peak RSS with K stored within 10 % of the empty database's


# --- the walk ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Step:
    """One action of a participant, and the reply that ends the wait for it."""

    kind: str  # start language consent answer country skip note tick done typed last
    how: str  # "send" or "press" (for consultbot)
    what: str  # the text sent, or the label of the button pressed (for consultbot)
    expect: str  # "kb": sendMessage with buttons; "text": sendMessage without; "tick": redraw


# The floor bot's answer to each kind: its buttons are pressed by position (see floor_bot.py).
FLOOR_BUTTON = {"answer": 0, "done": 0, "note": 2, "tick": 3, "language": 4,
                "consent": 5, "skip": 6}
FLOOR_TEXT_PREFIX = {"start": "", "country": "?", "typed": "", "last": "!"}


def consultation_walk(survey: Survey, catalogs: Catalogs, language: str) -> list[Step]:
    """The partnership path of tests/integration/test_journeys.py, in ``language``."""
    t = catalogs.get(language)

    def pick(question: str, choice: str) -> str:
        q = survey.by_id[question]
        return q.choices[q.choice_index[choice]].label.get(language)

    done, skip = t.gettext("Done") + " ✔", t.gettext("Skip »")
    return [
        Step("start", "send", "/start", "kb"),
        Step("language", "press", language_name(language), "kb"),
        Step("consent", "press", t.gettext("I agree"), "kb"),
        Step("answer", "press", pick("role", "migrant"), "kb"),
        Step("country", "send", COUNTRY_SEARCH[language], "kb"),
        Step("skip", "press", skip, "kb"),  # origin
        Step("note", "press", pick("partnership", "yes"), "kb"),
        Step("tick", "press", pick("levels", "local"), "tick"),
        Step("tick", "press", pick("levels", "regional"), "tick"),
        Step("done", "press", done, "kb"),
        Step("tick", "press", pick("actors", "civil_society"), "tick"),
        Step("done", "press", done, "kb"),
        Step("tick", "press", pick("issues", "rights"), "tick"),
        Step("done", "press", done, "kb"),
        Step("skip", "press", skip, "kb"),  # domains
        Step("answer", "press", t.number(4), "kb"),  # inclusiveness
        Step("answer", "press", t.number(3), "kb"),  # effectiveness
        Step("typed", "send", "٢٠١٥" if language == "ar" else "2015", "kb"),  # started
        Step("tick", "press", pick("difficulties", "divided_debate"), "tick"),
        Step("done", "press", done, "kb"),
        Step("last", "send", GOOD_PRACTICE, "kb"),  # closing text, then the summary offer
    ]


@dataclass(frozen=True)
class Target:
    name: str
    argv: tuple[str, ...]
    floor: bool
    webhook: bool = False  # updates posted to the bot's webhook instead of long polling

    def action(self, step: Step) -> tuple[str, str | int]:
        if not self.floor:
            return step.how, step.what
        if step.how == "press":
            return "press", FLOOR_BUTTON[step.kind]
        return "send", FLOOR_TEXT_PREFIX[step.kind] + step.what


SOURCE = ROOT  # where the bots' code is run from (see --snapshot)


def snapshot(workdir: Path) -> tuple[Path, str]:
    """A copy of the committed code (git archive HEAD), so that edits during a run do not mix."""
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True, check=True).stdout.strip()
    target = workdir / "source"
    target.mkdir()
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", "HEAD"],
                             capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target, commit


CONSULTBOT = Target("consultbot", (sys.executable, "-m", "bot", "run"), floor=False)
FLOOR = Target("floor", (sys.executable, str(ROOT / "bench" / "floor_bot.py")), floor=True)
# the same floor bot on consultbot's transport (aiohttp + orjson instead of httpx + json)
FLOOR_AIOHTTP = Target("floor-aiohttp", (*FLOOR.argv, "--transport", "aiohttp"), floor=True)
# consultbot receiving its updates by webhook (run --webhook): the stand-in posts them
CONSULTBOT_WEBHOOK = Target("consultbot-webhook", CONSULTBOT.argv, floor=False, webhook=True)
TARGETS = {t.name: t for t in (CONSULTBOT, FLOOR, FLOOR_AIOHTTP)}
TRANSPORTS = {"polling": (CONSULTBOT,), "webhook": (CONSULTBOT_WEBHOOK,),
              "both": (CONSULTBOT, CONSULTBOT_WEBHOOK)}


# --- the bot process --------------------------------------------------------------------


class BotProcess:
    """The bot under test as a child process; its log goes to a file."""

    def __init__(self, target: Target, api_url: str, db: Path, log: Path,
                 source: Path = ROOT, extra_env: dict[str, str] | None = None) -> None:
        self.target = target
        self.extra_env = extra_env or {}
        self.source = source
        self.api_url = api_url
        self.db = db
        self.log_path = log
        self.proc: asyncio.subprocess.Process | None = None
        self.stopping = False

    async def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CONSULTBOT_")}
        env.update(CONSULTBOT_TOKEN=TOKEN, CONSULTBOT_API_URL=self.api_url,
                   CONSULTBOT_DB=str(self.db), PTB_TIMEDELTA="true",
                   # who runs the consultation, as a real deployment says (else warnings)
                   CONSULTBOT_ORGANIZER="Benchmark", CONSULTBOT_CONTACT="bench@example.org",
                   CONSULTBOT_ENDS="2099-12-31", **self.extra_env)
        if self.source != ROOT:  # a snapshot of the code: its packages come first
            env["PYTHONPATH"] = os.pathsep.join(
                p for p in (str(self.source), env.get("PYTHONPATH")) if p)
        # The floor is the benchmark's own program: always the one next to this script.
        with open(self.log_path, "wb") as log:
            self.proc = await asyncio.create_subprocess_exec(
                *self.target.argv, cwd=self.source, env=env, stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def cpu_seconds(self) -> float:
        """utime + stime of the process, all threads, in seconds."""
        with open(f"/proc/{self.pid}/stat") as f:
            fields = f.read().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK

    def thread_cpu_seconds(self) -> dict[int, float]:
        """utime + stime of each thread (by thread id; the main thread's id is the pid)."""
        found: dict[int, float] = {}
        for task in Path(f"/proc/{self.pid}/task").iterdir():
            with contextlib.suppress(OSError):
                fields = (task / "stat").read_text().rpartition(")")[2].split()
                found[int(task.name)] = (int(fields[11]) + int(fields[12])) / CLK_TCK
        return found

    def memory_kb(self) -> dict[str, int]:
        found: dict[str, int] = {}
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key in ("VmHWM", "VmRSS"):
                    found[key] = int(value.split()[0])
        return found

    async def stop(self) -> None:
        self.stopping = True
        proc = self.proc
        if proc is None or proc.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), 20)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()

    def log_problems(self) -> dict[str, Any]:
        """Warnings, errors and tracebacks in the bot's log."""
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        lines = text.splitlines()
        levels: collections.Counter[str] = collections.Counter()
        problems = []
        for line in lines:
            match = re.search(r"\b(DEBUG|INFO|WARNING|ERROR|CRITICAL)\b", line)
            if match:
                levels[match.group(1)] += 1
            if (match and match.group(1) in ("WARNING", "ERROR", "CRITICAL")) or \
                    line.startswith("Traceback"):
                problems.append(line[:300])
        return {"lines": len(lines), "levels": dict(levels),
                "problems": len(problems), "first_problems": problems[:8]}


# --- participants -----------------------------------------------------------------------


class Participant:
    __slots__ = ("user", "walk", "position", "waiting", "expect", "sent_at", "calls", "kind")

    def __init__(self, user: SimUser, walk: list[Step]) -> None:
        self.user = user
        self.walk = walk
        self.position = 0
        self.waiting: asyncio.Future[float] | None = None
        self.expect = ""
        self.sent_at = 0.0
        self.calls: list[str] = []
        self.kind = ""

    @property
    def finished(self) -> bool:
        return self.position >= len(self.walk)


class BotDied(RuntimeError):
    pass


class Driver:
    """Plays participants against one bot through one stand-in and records what happens."""

    def __init__(self, api: StandIn, target: Target, walks: dict[str, list[Step]]) -> None:
        self.api = api
        self.target = target
        self.walks = walks
        self.people: dict[int, Participant] = {}
        self.queries: dict[str, Participant] = {}
        self.measuring = False
        self.latencies: list[float] = []
        self.window_calls: collections.Counter[str] = collections.Counter()
        self.sequences: dict[str, collections.Counter[tuple[str, ...]]] = \
            collections.defaultdict(collections.Counter)
        self.failed_calls: collections.Counter[str] = collections.Counter()
        self.stuck: list[str] = []
        self.dead: BaseException | None = None
        self.text_lengths: list[int] = []
        self.keyboard_sizes: list[int] = []
        self.next_id = 1  # for newcomers in the offered scenario
        api.add_listener(self._on_call)

    def participant(self, user_id: int) -> Participant:
        language = LANGUAGES[user_id % len(LANGUAGES)]
        user = self.api.user(user_id, first_name=f"P{user_id}", language_code=language)
        person = Participant(user, self.walks[language])
        self.people[user_id] = person
        return person

    # -- what the bot does

    def _on_call(self, call: Call) -> None:
        method = call.method
        if len(self.api.calls) > KEEP_CALLS:
            del self.api.calls[:-100]
        if self.measuring:
            self.window_calls[method] += 1
        if method == "getUpdates":
            return
        if call.status != 200:
            description = str(call.response.get("description", ""))[:80]
            self.failed_calls[f"{method} {call.status} {description}"] += 1
        params = call.params
        if method == "answerCallbackQuery":
            person = self.queries.pop(str(params.get("callback_query_id")), None)
        else:
            chat_id = params.get("chat_id")
            person = self.people.get(chat_id) if isinstance(chat_id, int) else None
        if method == "sendMessage" and self.measuring:
            self.text_lengths.append(len(str(params.get("text", ""))))
            markup = params.get("reply_markup")
            if isinstance(markup, dict) and "inline_keyboard" in markup:
                self.keyboard_sizes.append(sum(len(row) for row in markup["inline_keyboard"]))
        if person is None or person.waiting is None or person.waiting.done():
            return
        person.calls.append(method)
        has_markup = bool(params.get("reply_markup"))
        expect = person.expect
        if (expect == "tick" and method == "editMessageReplyMarkup" and has_markup) or (
                expect != "tick" and method == "sendMessage" and has_markup == (expect == "kb")):
            if call.status == 200:
                person.waiting.set_result(call.started - person.sent_at)
            else:
                person.waiting.set_exception(RuntimeError(
                    f"{method} failed with {call.status}: {call.response.get('description')}"))

    def bot_died(self, error: BaseException) -> None:
        self.dead = error
        for person in self.people.values():
            if person.waiting is not None and not person.waiting.done():
                person.waiting.set_exception(error)

    # -- what participants do

    def _target_message(self, person: Participant, button: str | int) -> SentMessage:
        for message in reversed(self.api.messages(person.user.id)):
            labels = [b.text for row in message.buttons for b in row]
            if (isinstance(button, int) and button < len(labels)) or button in labels:
                return message
        raise RuntimeError(f"participant {person.user.id}: no message with button {button!r}")

    async def act(self, person: Participant) -> float:
        """Do the participant's next step; returns the latency of the bot's reply (s)."""
        if self.dead is not None:
            raise self.dead
        step = person.walk[person.position]
        how, what = self.target.action(step)
        message = self._target_message(person, what) if how == "press" else None
        waiting: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        person.waiting, person.expect, person.calls = waiting, step.expect, []
        person.kind = step.kind
        measured = self.measuring
        person.sent_at = time.monotonic()
        if message is None:
            person.user.send(str(what))
        else:
            self.queries[person.user.press(message, what)] = person
        try:
            latency = await asyncio.wait_for(waiting, STEP_TIMEOUT)
        except TimeoutError:
            raise RuntimeError(f"participant {person.user.id}: no reply to {step.kind} "
                               f"(step {person.position}) within {STEP_TIMEOUT:.0f} s") from None
        finally:
            person.waiting = None
        self.sequences[step.kind][tuple(person.calls)] += 1
        person.position += 1
        if measured:
            self.latencies.append(latency)
        return latency

    async def walk(self, person: Participant, until: int | None = None) -> None:
        stop = len(person.walk) if until is None else until
        while person.position < stop:
            await self.act(person)

    async def closed_loop(self, ids: Iterable[int], concurrency: int | None = None,
                          until: dict[int, int] | None = None) -> None:
        """Each participant walks (to ``until[id]`` steps, or to the end) as fast as answered."""
        limit = asyncio.Semaphore(concurrency) if concurrency else None

        async def one(user_id: int) -> None:
            person = self.participant(user_id)
            stop = until.get(user_id) if until is not None else None
            if limit is None:
                await self.walk(person, stop)
            else:
                async with limit:
                    await self.walk(person, stop)

        await asyncio.gather(*(one(i) for i in ids))

    async def open_loop(self, ready: list[Participant], rate: float,
                        duration: float) -> dict[str, Any]:
        """Release one action every 1/rate s to a random waiting participant, for ``duration``.

        ``ready`` (the people waiting to act) is updated in place: when the window
        has drained it holds everyone again, newcomers included.
        """
        loop = asyncio.get_running_loop()
        rng = random.Random(2018 + int(rate))
        tasks: set[asyncio.Task[None]] = set()
        failures: list[str] = []
        counter = {"completed": 0, "replaced": 0}

        async def one(person: Participant) -> None:
            try:
                await self.act(person)
            except Exception as exc:  # noqa: BLE001 - counted and reported
                failures.append(str(exc))
                return
            counter["completed"] += 1
            if person.finished:
                person = self.participant(self.next_id)
                self.next_id += 1
                counter["replaced"] += 1
            ready.append(person)

        interval = 1.0 / rate
        start = loop.time()
        end = start + duration
        released = not_offered = 0
        max_lag = 0.0
        tick = 0
        while True:
            due = start + tick * interval
            if due >= end:
                break
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            max_lag = max(max_lag, loop.time() - due)
            tick += 1
            if self.dead is not None:
                raise self.dead
            if not ready:
                not_offered += 1
                continue
            index = rng.randrange(len(ready))
            ready[index], ready[-1] = ready[-1], ready[index]
            task = asyncio.create_task(one(ready.pop()))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            released += 1
        if tasks:
            await asyncio.wait(set(tasks), timeout=STEP_TIMEOUT + 5)
        self.stuck.extend(failures)
        return {"released": released, "not_offered": not_offered,
                "completed": counter["completed"], "new_participants": counter["replaced"],
                "max_pacer_lag_ms": round(max_lag * 1000, 1)}


# --- a bot run ----------------------------------------------------------------------------


@dataclass
class Session:
    api: StandIn
    bot: BotProcess
    driver: Driver


@contextlib.asynccontextmanager
async def bot_session(target: Target, workdir: Path, db: Path, label: str,
                      walks: dict[str, list[Step]]) -> AsyncIterator[Session]:
    """A fresh stand-in and the bot started against it, ready (long polling, or its webhook
    registered); always stopped."""
    api = StandIn(TOKEN, local_mode=target.webhook)
    await api.start()
    extra_env: dict[str, str] = {}
    if target.webhook:
        port = free_port()
        extra_env = {"CONSULTBOT_WEBHOOK_URL": f"http://127.0.0.1:{port}/telegram",
                     "CONSULTBOT_LISTEN": f"127.0.0.1:{port}",
                     "CONSULTBOT_WEB": "off"}  # beside a polling consultbot (paired)
    bot = BotProcess(target, api.url, db, workdir / f"{label}.log", SOURCE, extra_env)
    driver = Driver(api, target, walks)
    watcher: asyncio.Task[None] | None = None

    def listening() -> bool:
        if not target.webhook:
            return api.long_polling
        return any(call.method == "setWebhook" and call.ok for call in api.calls)

    try:
        await bot.start()
        assert bot.proc is not None
        exited = asyncio.create_task(bot.proc.wait())
        ready = asyncio.create_task(api.wait_until(listening, timeout=60))
        await asyncio.wait({exited, ready}, return_when=asyncio.FIRST_COMPLETED)
        if exited.done():
            ready.cancel()
            raise BotDied(f"{target.name} exited with status {bot.proc.returncode} while "
                          f"starting; log: {tail(bot.log_path)}")
        ready.result()

        async def watch() -> None:
            code = await exited
            if not bot.stopping:
                driver.bot_died(BotDied(f"{target.name} exited with status {code}; "
                                        f"log: {tail(bot.log_path)}"))

        watcher = asyncio.create_task(watch())
        yield Session(api, bot, driver)
    finally:
        await bot.stop()
        if watcher is not None:
            watcher.cancel()
        await api.stop()


def free_port() -> int:
    """A port nothing listens on now (the bot's webhook server takes it a moment later)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


class Stalls:
    """How late this process's event loop and garbage collector made the stand-in.

    The stand-in answers the bot from this process's event loop, so a pause here
    (a full garbage collection, a slow callback) delays replies as seen by the
    participants. A task that sleeps 5 ms at a time records how late it wakes up.
    """

    def __init__(self) -> None:
        self.lags: list[float] = []
        self.gc_pauses: list[float] = []
        self._gc_started = 0.0
        self._task: asyncio.Task[None] | None = None

    def _on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
        elif info.get("generation") == 2:
            self.gc_pauses.append(time.perf_counter() - self._gc_started)

    async def _watch(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            due = loop.time() + 0.005
            await asyncio.sleep(0.005)
            self.lags.append(loop.time() - due)

    def start(self) -> None:
        gc.callbacks.append(self._on_gc)
        self._task = asyncio.create_task(self._watch())

    def stop(self) -> dict[str, Any]:
        if self._on_gc in gc.callbacks:
            gc.callbacks.remove(self._on_gc)
        if self._task is not None:
            self._task.cancel()
        lags = sorted(self.lags)
        return {"generator_loop_lag_p99_ms": ms(percentile(lags, 99)),
                "generator_loop_lag_max_ms": ms(lags[-1] if lags else None),
                "generator_full_gcs": len(self.gc_pauses),
                "generator_gc_max_ms": ms(max(self.gc_pauses, default=0.0))}


class RssSampler:
    """The bot's resident memory once a second during a window, against updates answered."""

    def __init__(self, bot: BotProcess, driver: Driver) -> None:
        self.bot, self.driver = bot, driver
        self.samples: list[tuple[float, int, float]] = []  # seconds, updates, MB
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        started = time.monotonic()
        while True:
            with contextlib.suppress(OSError):
                rss = self.bot.memory_kb().get("VmRSS", 0) / 1024
                self.samples.append((round(time.monotonic() - started, 1),
                                     len(self.driver.latencies), round(rss, 1)))
            await asyncio.sleep(1.0)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    def stop(self) -> list[tuple[float, int, float]]:
        if self._task is not None:
            self._task.cancel()
        return self.samples


@dataclass
class Window:
    cpu: float
    wall: float
    generator_cpu: float
    machine_busy: float
    stalls: Stalls
    threads: dict[int, float]
    rss_kb: int
    rss: RssSampler
    speed: float


def machine_busy_seconds() -> float:
    """CPU time spent by everything on the machine (all cores), from /proc/stat."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    guest = sum(values[8:10])  # already counted in user and nice
    return (sum(values) - idle - guest) / CLK_TCK


QUIET_WAIT = 900.0  # --quiet-wait


async def wait_for_quiet(session: Session, limit: float | None = None) -> float:
    """Wait until nothing else uses the CPU (under 10 % of a core for 2 s); returns the wait.

    Other processes on the machine would take CPU from the bot and the stand-in and
    distort every figure. After ``limit`` seconds the measurement goes ahead anyway
    (the row's ``other_cpu_percent`` shows the disturbance).
    """
    limit = QUIET_WAIT if limit is None else limit
    waited = 0.0
    while True:
        if waited >= limit:
            return waited
        busy, own = machine_busy_seconds(), session.bot.cpu_seconds() + time.process_time()
        await asyncio.sleep(2.0)
        others = machine_busy_seconds() - busy - (
            session.bot.cpu_seconds() + time.process_time() - own)
        if others / 2.0 < 0.10 or waited >= limit:
            return waited
        if waited == 0.0:
            print(f"  (waiting: other processes use {100 * others / 2.0:.0f} % of a core)",
                  file=sys.stderr, flush=True)
        waited += 2.0


def machine_speed() -> float:
    """Millions of simple Python operations per second of CPU time, right now.

    The cores of this virtual machine are shared with other machines on the same
    host: when the host is busy, the same work takes more CPU time without any
    other process showing here. Measured before and after each window (while the
    bots are idle) to tell such slowdowns from changes in the bots.
    """
    best = 0.0
    for _ in range(5):
        started = time.process_time()
        total = 0
        for i in range(500_000):
            total += i * i % 7
        best = max(best, 0.5 / (time.process_time() - started))
    return round(best, 1)


def begin(session: Session) -> Window:
    driver = session.driver
    driver.latencies.clear()
    driver.window_calls.clear()
    driver.text_lengths.clear()
    driver.keyboard_sizes.clear()
    driver.sequences.clear()
    # What was recorded so far is no longer needed (the listener saw every call); the
    # objects that stay (people, chats, messages) are moved out of the collector's way,
    # so that a full collection in this process does not pause the stand-in.
    session.api.calls.clear()
    if not gc.get_freeze_count():  # (already done when two bots are measured at once)
        gc.collect()
        gc.freeze()
    # Young generations are still collected; full collections (100+ ms here) wait until the
    # window ends.
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, 1_000_000_000)
    speed = machine_speed()
    stalls = Stalls()
    stalls.start()
    rss = RssSampler(session.bot, driver)
    rss.start()
    print(f"  measuring (bot pid {session.bot.pid})", file=sys.stderr, flush=True)
    driver.measuring = True
    return Window(session.bot.cpu_seconds(), time.monotonic(), time.process_time(),
                  machine_busy_seconds(), stalls, session.bot.thread_cpu_seconds(),
                  session.bot.memory_kb().get("VmRSS", 0), rss, speed)


def end(session: Session, window: Window, scenario: str, participants: int,
        seconds: float | None = None) -> dict[str, Any]:
    """The row of a measured window. ``seconds``: the window's length (default: until now)."""
    driver = session.driver
    driver.measuring = False
    stalls = window.stalls.stop()
    rss_samples = window.rss.stop()
    speed_after = machine_speed()
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, GC_FULL_THRESHOLD)
    gc.unfreeze()
    cpu = session.bot.cpu_seconds() - window.cpu
    threads = session.bot.thread_cpu_seconds()
    main_thread = threads.get(session.bot.pid, 0.0) - window.threads.get(session.bot.pid, 0.0)
    elapsed = time.monotonic() - window.wall
    generator = time.process_time() - window.generator_cpu
    others = machine_busy_seconds() - window.machine_busy - cpu - generator
    memory = session.bot.memory_kb()
    latencies = sorted(driver.latencies)
    updates = len(latencies)
    per_update = {m: round(n / updates, 3) for m, n in sorted(driver.window_calls.items())} \
        if updates else {}
    api_calls = sum(n for m, n in driver.window_calls.items() if m != "getUpdates")
    seconds = seconds if seconds is not None else elapsed
    return {
        "scenario": scenario,
        "bot": session.bot.target.name,
        "participants": participants,
        "updates": updates,
        "seconds": round(seconds, 2),
        "updates_per_s": round(updates / seconds, 1) if seconds else 0.0,
        "p50_ms": ms(percentile(latencies, 50)),
        "p99_ms": ms(percentile(latencies, 99)),
        "max_ms": ms(latencies[-1] if latencies else None),
        "mean_ms": ms(sum(latencies) / updates if updates else None),
        "cpu_ms_per_update": round(cpu * 1000 / updates, 2) if updates else None,
        # the event loop's thread; the rest is other threads (aiosqlite's worker, …)
        "main_thread_cpu_ms_per_update": round(main_thread * 1000 / updates, 2)
        if updates else None,
        "bot_threads": len(threads),
        "bot_cpu_percent": round(100 * cpu / elapsed, 1),
        "generator_cpu_percent": round(100 * generator / elapsed, 1),
        # everything else on the machine (should be ~0: nothing else may run while measuring)
        "other_cpu_percent": round(100 * max(0.0, others) / elapsed, 1),
        "peak_rss_mb": round(memory.get("VmHWM", 0) / 1024, 1),
        "rss_mb": round(memory.get("VmRSS", 0) / 1024, 1),
        "rss_at_start_mb": round(window.rss_kb / 1024, 1),
        "rss_samples": rss_samples,  # [seconds into the window, updates answered, RSS MB]
        "machine_speed_before": window.speed,
        "machine_speed_after": speed_after,
        "api_calls_per_update": round(api_calls / updates, 3) if updates else None,
        "calls_per_update": per_update,
        "mean_text_chars": round(sum(driver.text_lengths) / len(driver.text_lengths), 1)
        if driver.text_lengths else None,
        "mean_keyboard_buttons": round(sum(driver.keyboard_sizes) / len(driver.keyboard_sizes), 2)
        if driver.keyboard_sizes else None,
        **stalls,
        # since the bot started (warm-up included)
        "failed_calls": dict(driver.failed_calls),
        "stuck_participants": len(driver.stuck),
        "stuck_examples": driver.stuck[:3],
        # in the window
        "sequences": {kind: {" ".join(seq) or "(none)": n for seq, n in counter.most_common()}
                      for kind, counter in driver.sequences.items()},
    }


def finish_row(row: dict[str, Any], session: Session) -> dict[str, Any]:
    """Add what the bot logged (read once it has stopped)."""
    row["log"] = session.bot.log_problems()
    return row


def percentile(ordered: list[float], p: float) -> float | None:
    """Nearest-rank percentile of sorted values."""
    if not ordered:
        return None
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


# --- scenarios --------------------------------------------------------------------------


async def warm_up(session: Session) -> None:
    ids = range(WARMUP_FIRST_ID, WARMUP_FIRST_ID + WARMUP_PARTICIPANTS)
    await session.driver.closed_loop(ids)


def fresh(db: Path) -> Path:
    """The database file, with any earlier copy (from a previous attempt) removed."""
    for path in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        path.unlink(missing_ok=True)
    return db


async def scenario_throughput(target: Target, workdir: Path, walks: dict[str, list[Step]],
                              participants: int, label: str = "throughput",
                              db: Path | None = None) -> dict[str, Any]:
    db = db or fresh(workdir / f"{label}-{target.name}.sqlite3")
    async with bot_session(target, workdir, db, f"{label}-{target.name}", walks) as session:
        ready_memory = session.bot.memory_kb()
        await warm_up(session)
        waited = await wait_for_quiet(session)
        window = begin(session)
        await session.driver.closed_loop(range(1, participants + 1))
        row = end(session, window, label, participants)
        row["rss_ready_mb"] = round(ready_memory.get("VmRSS", 0) / 1024, 1)
        row["waited_for_quiet_s"] = waited
    return finish_row(row, session)  # after the bot stopped: its whole log is read


async def stagger(session: Session, walks: dict[str, list[Step]]) -> tuple[list[Participant],
                                                                          float]:
    """Warm up, then bring 1,000 people to staggered points of their walk (unmeasured)."""
    driver = session.driver
    await warm_up(session)
    steps = len(walks["en"])
    ids = range(1, OFFERED_PARTICIPANTS + 1)
    started = time.monotonic()
    await driver.closed_loop(ids, concurrency=STAGGER_CONCURRENCY,
                             until={i: (i - 1) % steps for i in ids})
    driver.next_id = OFFERED_PARTICIPANTS + 1
    return [driver.people[i] for i in ids], time.monotonic() - started


def pacing_fields(pacing: dict[str, Any], rate: float, duration: float, staggering: float,
                  waited: float) -> dict[str, Any]:
    return {"rate": rate, "offered_per_s": round(pacing["released"] / duration, 1), **pacing,
            "stagger_seconds": round(staggering, 1), "waited_for_quiet_s": waited}


async def scenario_offered(target: Target, workdir: Path, walks: dict[str, list[Step]],
                           duration: float, rates: list[float]) -> list[dict[str, Any]]:
    """One window per rate, one after the other, with the same 1,000 people."""
    db = fresh(workdir / f"offered-{target.name}.sqlite3")
    rows = []
    async with bot_session(target, workdir, db, f"offered-{target.name}", walks) as session:
        ready, staggering = await stagger(session, walks)
        for rate in rates:
            waited = await wait_for_quiet(session)
            window = begin(session)
            pacing = await session.driver.open_loop(ready, rate, duration)
            name = "offered" if rate == OFFERED_RATE else f"offered {rate:g}/s"
            row = end(session, window, name, OFFERED_PARTICIPANTS, seconds=duration)
            row.update(pacing_fields(pacing, rate, duration, staggering, waited))
            rows.append(row)
    return [finish_row(row, session) for row in rows]


async def scenario_paired(workdir: Path, walks: dict[str, list[Step]], duration: float,
                          rate: float, targets: list[Target]) -> list[dict[str, Any]]:
    """The bots at once, each with its own stand-in and 1,000 people at ``rate``: CPU only.

    The virtual machine's speed drifts with the load of the host it shares (the
    same program needs up to ~40 % more CPU time per update from one minute to
    the next). Bots measured one after the other can land in different
    conditions; measured at the same time, they share them, which makes the
    ratio of their CPU per update trustworthy. Latencies in these rows are not
    meaningful: the two bots and the generator share the two cores.
    """
    rows: list[dict[str, Any]] = []
    sessions: list[Session] = []
    async with contextlib.AsyncExitStack() as stack:
        for target in targets:
            db = fresh(workdir / f"paired-{target.name}.sqlite3")
            sessions.append(await stack.enter_async_context(
                bot_session(target, workdir, db, f"paired-{target.name}", walks)))
        staggered = await asyncio.gather(*(stagger(s, walks) for s in sessions))
        waited = await wait_for_quiet(sessions[0])  # the other bot is idle meanwhile
        windows = [begin(s) for s in sessions]
        pacings = await asyncio.gather(*(s.driver.open_loop(ready, rate, duration)
                                         for s, (ready, _) in zip(sessions, staggered,
                                                                  strict=True)))
        for session, window, pacing, (_, staggering) in zip(sessions, windows, pacings,
                                                            staggered, strict=True):
            row = end(session, window, f"paired {rate:g}/s", OFFERED_PARTICIPANTS,
                      seconds=duration)
            row.update(pacing_fields(pacing, rate, duration, staggering, waited))
            rows.append(row)
    # "other processes" here include the other bots: take them out
    for row in rows:
        others = sum(other["bot_cpu_percent"] for other in rows if other is not row)
        row["other_cpu_percent"] = round(max(0.0, row["other_cpu_percent"] - others), 1)
    return [finish_row(row, session) for row, session in zip(rows, sessions, strict=True)]


async def scenario_memory(workdir: Path, walks: dict[str, list[Step]], survey: Survey,
                          participants: int, stored: int) -> list[dict[str, Any]]:
    rows = []
    for count in (0, stored):
        label = f"memory-{count}"
        db = fresh(workdir / f"{label}.sqlite3")
        async with bot_session(CONSULTBOT, workdir, db, f"{label}-schema", walks):
            pass  # the bot creates the schema (and its secret), then stops
        started = time.monotonic()
        prefill(db, count, survey)
        filled = time.monotonic() - started
        row = await scenario_throughput(CONSULTBOT, workdir, walks, participants, label=label,
                                        db=db)
        row.update(stored_participants=count, prefill_seconds=round(filled, 1),
                   db_mb=round(db.stat().st_size / 2**20, 1))
        rows.append(row)
    return rows


# --- pre-filling the database -----------------------------------------------------------


def prefill(db: Path, count: int, survey: Survey) -> None:
    """Insert ``count`` participants with responses and answers shaped like the bot's own."""
    if count <= 0:
        return
    rng = random.Random(count)
    questions = survey.by_id
    countries = [c.id for c in questions["residence"].choices]
    roles = [c.id for c in questions["role"].choices]

    def subset(question: str) -> str:
        ids = [c.id for c in questions[question].choices]
        chosen = set(rng.sample(ids, rng.randint(1, 3)))
        return " ".join(i for i in ids if i in chosen)  # stored in choice order

    now = dt.datetime(2026, 11, 28, 9, 0, tzinfo=dt.UTC)

    def stamp(moment: dt.datetime) -> str:
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")

    people, responses, answers = [], [], []
    for n in range(count):
        pid = PREFILL_FIRST_ID + n
        language = LANGUAGES[n % len(LANGUAGES)]
        source = "radio_fr" if n % 7 == 0 else None
        began = now - dt.timedelta(days=rng.uniform(0, 60))
        role = rng.choice(roles)
        partnership = rng.choice(["yes", "yes", "no", "not_sure"])
        given: list[tuple[str, str | None]] = [("role", role)]
        if role == "other":
            given.append(("role_other", "Teacher in a community school"))
        given += [("residence", rng.choice(countries)),
                  ("origin", rng.choice(countries) if rng.random() < 0.7 else None),
                  ("partnership", partnership)]
        if partnership == "yes":
            given += [("levels", subset("levels")), ("actors", subset("actors")),
                      ("issues", subset("issues")),
                      ("domains", subset("domains") if rng.random() < 0.6 else None),
                      ("inclusiveness", str(rng.randint(1, 5))),
                      ("effectiveness", str(rng.randint(1, 5))),
                      ("started", str(rng.randint(1995, 2026)) if rng.random() < 0.8 else None),
                      ("difficulties", subset("difficulties"))]
        else:
            given.append(("would_help", subset("would_help")))
        given.append(("good_practice", GOOD_PRACTICE if rng.random() < 0.5 else None))
        completed = rng.random() < 0.8
        if completed:
            kept, current = given, None
        else:  # stopped part-way: the next question is the current one
            cut = rng.randint(1, len(given) - 1)
            kept, current = given[:cut], given[cut][0]
        finished = began + dt.timedelta(minutes=rng.uniform(2, 15))
        people.append((pid, language, "consented", source, stamp(began), stamp(began),
                       stamp(finished)))
        rid = n + 1_000_000
        responses.append((rid, pid, survey.id, survey.version, language, source, stamp(began),
                          stamp(finished), stamp(finished) if completed else None, current,
                          2 * len(kept) + 3))
        for question, value in kept:
            answers.append((rid, question, value, survey.version, stamp(finished)))
    connection = sqlite3.connect(db)
    try:
        with connection:
            connection.executemany(
                "INSERT INTO participants (id, language, status, source, created_at, "
                "consented_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?, ?)", people)
            connection.executemany(
                "INSERT INTO responses (id, participant_id, survey_id, survey_version, language, "
                "source, started_at, updated_at, completed_at, current, question_message_id) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", responses)
            connection.executemany(
                "INSERT INTO answers (response_id, question_id, value, survey_version, "
                "answered_at) VALUES (?, ?, ?, ?, ?)", answers)
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()


# --- report -------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    model = ""
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.partition(":")[2].strip()
                break
    try:
        from importlib.metadata import version
        ptb = version("python-telegram-bot")
    except Exception:  # noqa: BLE001
        ptb = "?"
    try:
        commit = subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
                                capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit or "?",
        "nproc": os.cpu_count(),
        "cpu": model,
        "python": platform.python_version(),
        "python_telegram_bot": ptb,
        "sqlite": sqlite3.sqlite_version,
        "kernel": platform.release(),
        "tmp_filesystem": filesystem(Path(tempfile.gettempdir())),
    }


def filesystem(path: Path) -> str:
    best, kind = "", "?"
    with contextlib.suppress(OSError), open("/proc/mounts") as f:
        for line in f:
            parts = line.split()
            mount = parts[1]
            if str(path.resolve()).startswith(mount) and len(mount) > len(best):
                best, kind = mount, parts[2]
    return f"{kind} ({path})"


COLUMNS = [("scenario", "scenario", 13), ("bot", "bot", 10), ("participants", "people", 6),
           ("updates", "updates", 7), ("seconds", "s", 6), ("updates_per_s", "upd/s", 6),
           ("p50_ms", "p50 ms", 7), ("p99_ms", "p99 ms", 7), ("max_ms", "max ms", 7),
           ("cpu_ms_per_update", "CPU ms/upd", 10), ("bot_cpu_percent", "bot CPU%", 8),
           ("peak_rss_mb", "peak RSS MB", 11), ("generator_cpu_percent", "gen CPU%", 8),
           ("other_cpu_percent", "other CPU%", 10)]


def table(rows: list[dict[str, Any]]) -> str:
    lines = ["  ".join(f"{title:>{width}}" for _, title, width in COLUMNS)]
    for row in rows:
        cells = []
        for key, _, width in COLUMNS:
            value = row.get(key)
            cells.append(f"{'-' if value is None else value!s:>{width}}")
        lines.append("  ".join(cells))
    return "\n".join(lines)


def calls_table(rows: list[dict[str, Any]]) -> str:
    methods = sorted({m for row in rows for m in row["calls_per_update"]})
    width = max(len(m) for m in methods) if methods else 10
    header = f"{'method':<{width}}" + "".join(f"  {r['scenario'] + '/' + r['bot']:>22}"
                                               for r in rows)
    lines = [header]
    for method in methods:
        lines.append(f"{method:<{width}}" + "".join(
            f"  {r['calls_per_update'].get(method, 0):>22}" for r in rows))
    lines.append(f"{'all but getUpdates':<{width}}" + "".join(
        f"  {r['api_calls_per_update']:>22}" for r in rows))
    return "\n".join(lines)


def sequences_table(consult: dict[str, Any], floor: dict[str, Any]) -> str:
    lines = []
    for kind in consult["sequences"]:
        mine = consult["sequences"][kind]
        theirs = floor["sequences"].get(kind, {})
        lines.append(f"{kind:<9} consultbot: {describe(mine)}")
        lines.append(f"{'':<9} floor:      {describe(theirs)}")
    return "\n".join(lines)


def describe(sequences: dict[str, int]) -> str:
    return "; ".join(f"{seq} ×{n}" for seq, n in sequences.items()) or "-"


def verdicts(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found = {(r["scenario"], r["bot"]): r for r in rows}
    out = []
    paired = sorted({r["scenario"] for r in rows if r["scenario"].startswith("paired")})
    for scenario in [*paired, "throughput", "offered"]:
        for floor_name in ("floor", "floor-aiohttp"):
            mine, floor = found.get((scenario, "consultbot")), found.get((scenario, floor_name))
            if not (mine and floor and mine["cpu_ms_per_update"] and floor["cpu_ms_per_update"]):
                continue
            ratio = mine["cpu_ms_per_update"] / floor["cpu_ms_per_update"]
            how = ("bots at once: the reference" if scenario in paired
                   else "measured one after the other")
            # the target is against the bare bot on PTB's own transport (httpx); the
            # same bot on consultbot's transport is reported beside it
            out.append({"target": f"CPU per update vs {floor_name} ({scenario}, {how})",
                        "value": f"{ratio:.2f}× ({mine['cpu_ms_per_update']} ms vs "
                                 f"{floor['cpu_ms_per_update']} ms)",
                        "goal": f"≤ {CPU_RATIO_TARGET}×",
                        "met": ratio <= CPU_RATIO_TARGET if floor_name == "floor" else None})
        polled, posted = found.get((scenario, "consultbot")), \
            found.get((scenario, "consultbot-webhook"))
        if polled and posted and polled["cpu_ms_per_update"] and posted["cpu_ms_per_update"]:
            ratio = posted["cpu_ms_per_update"] / polled["cpu_ms_per_update"]
            out.append({"target": f"CPU per update, webhook vs long polling ({scenario})",
                        "value": f"{ratio:.2f}× ({posted['cpu_ms_per_update']} ms vs "
                                 f"{polled['cpu_ms_per_update']} ms)",
                        "goal": "measured", "met": None})
    for bot in (*TARGETS, CONSULTBOT_WEBHOOK.name):
        row = found.get(("offered", bot))
        if row and row["p99_ms"] is not None and row["offered_per_s"] >= 0.98 * OFFERED_RATE:
            out.append({"target": f"p99 at {OFFERED_RATE:.0f} updates/s, "
                                  f"{OFFERED_PARTICIPANTS} participants ({bot})",
                        "value": f"{row['p99_ms']} ms", "goal": f"< {P99_TARGET_MS:.0f} ms",
                        "met": row["p99_ms"] < P99_TARGET_MS and not row["stuck_participants"]})
    for bot in TARGETS:  # the highest rate offered at which the p99 stayed under 250 ms
        offered = [r for r in rows if r["bot"] == bot and r["scenario"].startswith("offered")
                   and r["p99_ms"] is not None]
        if len(offered) > 1:
            good = [r["rate"] for r in offered if r["p99_ms"] < P99_CEILING_MS
                    and r["offered_per_s"] >= 0.98 * r["rate"] and not r["stuck_participants"]]
            tried = ", ".join(f"{r['rate']:g}/s: {r['p99_ms']} ms" for r in offered)
            out.append({"target": f"highest rate with p99 < {P99_CEILING_MS:.0f} ms ({bot})",
                        "value": (f"{max(good):g} updates/s" if good else "none")
                                 + f" (p99 at {tried})",
                        "goal": "reported", "met": None})
    memory = sorted((r for r in rows if r["scenario"].startswith("memory-")),
                    key=lambda r: r["stored_participants"])
    if len(memory) == 2:
        low, high = memory
        growth = high["peak_rss_mb"] - low["peak_rss_mb"]
        out.append({"target": f"peak RSS, {low['stored_participants']:,} vs "
                              f"{high['stored_participants']:,} stored participants",
                    "value": f"{low['peak_rss_mb']} MB vs {high['peak_rss_mb']} MB "
                             f"({growth:+.1f} MB)",
                    "goal": f"flat (within {RSS_FLAT_TOLERANCE:.0%})",
                    "met": abs(growth) <= RSS_FLAT_TOLERANCE * low["peak_rss_mb"]})
    return out


def call_checks(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Whether the floor made the same Bot API calls per update as consultbot (within 3 %)."""
    found = {(r["scenario"], r["bot"]): r for r in rows}
    checks = []
    for scenario in ("throughput", "offered"):
        mine, floor = found.get((scenario, "consultbot")), found.get((scenario, "floor"))
        if not (mine and floor and mine["api_calls_per_update"] and floor["api_calls_per_update"]):
            continue
        off = [m for m in set(mine["calls_per_update"]) | set(floor["calls_per_update"])
               if m != "getUpdates" and abs(mine["calls_per_update"].get(m, 0)
                                            - floor["calls_per_update"].get(m, 0))
               > 0.03 * max(mine["calls_per_update"].get(m, 0), 0.01)]
        total = floor["api_calls_per_update"] / mine["api_calls_per_update"] - 1
        same = not off and abs(total) <= 0.03
        text = (f"calls per update ({scenario}, getUpdates aside): consultbot "
                f"{mine['api_calls_per_update']}, floor {floor['api_calls_per_update']} "
                f"({total:+.1%}): " + ("the same calls" if same else
                                       "DIFFERENT, the comparison is off for " + ", ".join(off)))
        checks.append({"scenario": scenario, "same": same, "text": text})
    return checks


def report(result: dict[str, Any]) -> str:
    m = result["machine"]
    rows = result["rows"]
    out = [f"consultbot participant load — {m['date']}",
           f"machine: {m['nproc']} cores ({m['cpu']}), Linux {m['kernel']}, Python {m['python']}, "
           f"python-telegram-bot {m['python_telegram_bot']}, SQLite {m['sqlite']}, "
           f"databases on {m['tmp_filesystem']}",
           f"code: {m['commit']}; command: {result['command']}", "", table(rows), ""]
    speeds = [v for r in rows for v in (r["machine_speed_before"], r["machine_speed_after"])]
    out.append("machine speed (M simple Python operations per CPU second, before/after each "
               "window): " + "; ".join(f"{r['scenario']}/{r['bot']} {r['machine_speed_before']}"
                                       f"/{r['machine_speed_after']}" for r in rows)
               + (f" — varies by {max(speeds) / min(speeds) - 1:.0%}: figures from different "
                  "windows are not comparable to better than that" if speeds and
                  max(speeds) > 1.1 * min(speeds) else ""))
    out.append("load generator (stand-in + participants, one process): " + "; ".join(
        f"{r['scenario']}/{r['bot']} loop late by p99 {r['generator_loop_lag_p99_ms']} ms, "
        f"max {r['generator_loop_lag_max_ms']} ms, {r['generator_full_gcs']} full GCs"
        for r in rows))
    for row in rows:
        out.append(f"{row['scenario']}/{row['bot']}: CPU {row['cpu_ms_per_update']} ms/update = "
                   f"{row['main_thread_cpu_ms_per_update']} event-loop thread + "
                   f"{round(row['cpu_ms_per_update'] - row['main_thread_cpu_ms_per_update'], 2)} "
                   f"other threads ({row['bot_threads']} threads); RSS {row['rss_at_start_mb']} MB "
                   f"at the window's start, {row['rss_mb']} MB at its end, "
                   f"peak {row['peak_rss_mb']} MB")
    for row in rows:
        if row["scenario"].startswith("offered"):
            out.append(f"{row['scenario']}/{row['bot']}: {row['offered_per_s']} updates/s offered "
                       f"({row['released']} released, {row['not_offered']} ticks with nobody "
                       f"waiting, pacer late by at most {row['max_pacer_lag_ms']} ms), "
                       f"{row['completed']} answered, {row['new_participants']} new people "
                       f"joined; staggering took {row['stagger_seconds']} s")
        if row["scenario"].startswith("memory-"):
            out.append(f"{row['scenario']}: {row['stored_participants']:,} participants stored "
                       f"(database {row['db_mb']} MB, pre-filled in {row['prefill_seconds']} s); "
                       f"RSS when ready {row['rss_ready_mb']} MB, peak {row['peak_rss_mb']} MB")
    compared = [r for r in rows if not r["scenario"].startswith("memory-")]
    if compared:
        out += ["", "Bot API calls per update (measured windows):", calls_table(compared)]
    text_rows = [r for r in rows if r["mean_text_chars"]]
    if text_rows:
        out.append("sendMessage texts / keyboards: " + "; ".join(
            f"{r['scenario']}/{r['bot']} {r['mean_text_chars']} chars, "
            f"{r['mean_keyboard_buttons']} buttons" for r in text_rows))
    found = {(r["scenario"], r["bot"]): r for r in rows}
    for check in result["call_checks"]:
        out.append(check["text"])
    for scenario in ("throughput", "offered"):
        if (scenario, "consultbot") in found and (scenario, "floor") in found:
            out += ["", f"Calls made for each kind of action ({scenario}):",
                    sequences_table(found[(scenario, "consultbot")], found[(scenario, "floor")])]
            break
    out += ["", "Targets:"]
    for v in result["verdicts"]:
        status = {True: "MET   ", False: "MISSED", None: "(info)"}[v["met"]]
        out.append(f"  {status} {v['target']}: {v['value']} "
                   f"(target {v['goal']})")
    out += ["", "Problems:"]
    any_problem = False
    for row in rows:
        name = f"{row['scenario']}/{row['bot']}"
        log = row["log"]
        if log["problems"]:
            any_problem = True
            out.append(f"  {name}: {log['problems']} warning/error lines in the bot's log, e.g.:")
            out += [f"      {line}" for line in log["first_problems"]]
        if row["failed_calls"]:
            any_problem = True
            out.append(f"  {name}: calls answered with an error: {row['failed_calls']}")
        if row["stuck_participants"]:
            any_problem = True
            out.append(f"  {name}: {row['stuck_participants']} participant(s) got no reply: "
                       f"{row['stuck_examples']}")
    busy = [f"{r['scenario']}/{r['bot']} ({r['other_cpu_percent']} %)" for r in rows
            if r["other_cpu_percent"] > OTHER_CPU_LIMIT]
    if busy:
        any_problem = True
        out.append("  other processes used the CPU while measuring, figures disturbed: "
                   + ", ".join(busy))
    if not any_problem:
        out.append("  none: no warning or error in the bots' logs, no call answered with an "
                   "error, every participant answered")
    return "\n".join(out)


# --- main ---------------------------------------------------------------------------------


async def run(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    global SOURCE
    info = machine()
    if args.snapshot:
        SOURCE, commit = snapshot(workdir)
        info["commit"] = f"{commit} (a copy of HEAD, uncommitted changes left out)"
    # the participants read the labels from the same survey file and catalogs as the bot
    survey, _ = load_survey(SOURCE / BUILTIN_SURVEY.relative_to(ROOT))
    catalogs = Catalogs.load(SOURCE / "locales")
    walks = {language: consultation_walk(survey, catalogs, language) for language in LANGUAGES}
    rows: list[dict[str, Any]] = []
    chosen = args.scenario
    targets = [TARGETS[name] for name in args.bots]
    if CONSULTBOT in targets:  # consultbot on each transport asked for (floors poll)
        at = targets.index(CONSULTBOT)
        targets[at:at + 1] = TRANSPORTS[args.transport]

    async def undisturbed(title: str,
                          make: Callable[[], Awaitable[Any]]) -> list[dict[str, Any]]:
        """Run a scenario again (up to --retries times) when other processes took the CPU."""
        for attempt in range(1, args.retries + 2):
            print(f"… {title}" + (f" (attempt {attempt})" if attempt > 1 else ""),
                  file=sys.stderr, flush=True)
            got = await make()
            found = got if isinstance(got, list) else [got]
            disturbed = [r for r in found if r["other_cpu_percent"] > OTHER_CPU_LIMIT]
            for r in found:
                r["attempt"] = attempt
            if not disturbed or attempt > args.retries:
                return found
            print(f"  disturbed: other processes used {disturbed[0]['other_cpu_percent']} % "
                  "of a core; measuring again", file=sys.stderr, flush=True)
        raise AssertionError("unreachable")

    for target in targets:
        if chosen in ("all", "throughput"):
            rows += await undisturbed(
                f"throughput, {target.name}, {args.participants} participants",
                functools.partial(scenario_throughput, target, workdir, walks, args.participants))
    for target in targets:
        if chosen in ("all", "offered"):
            rows += await undisturbed(
                f"offered load, {target.name}, {OFFERED_PARTICIPANTS} participants, "
                f"{', '.join(f'{r:g}' for r in args.rate)} updates/s, {args.duration:.0f} s",
                functools.partial(scenario_offered, target, workdir, walks, args.duration,
                                  args.rate))
    if chosen in ("all", "paired") and len(targets) >= 2:
        rows += await undisturbed(
            f"paired, {len(targets)} bots at once, {OFFERED_PARTICIPANTS} participants each, "
            f"{args.paired_rate:g} updates/s each, {args.duration:.0f} s",
            functools.partial(scenario_paired, workdir, walks, args.duration, args.paired_rate,
                              targets))
    if chosen in ("all", "memory") and CONSULTBOT in targets:
        rows += await undisturbed(
            f"memory, consultbot, 0 and {args.stored:,} stored participants",
            lambda: scenario_memory(workdir, walks, survey, args.participants, args.stored))
    return {"machine": info, "command": " ".join(["python", *sys.argv]),
            "rows": rows, "verdicts": verdicts(rows), "call_checks": call_checks(rows)}


def rates(text: str) -> list[float]:
    values = [float(part) for part in text.split(",") if part.strip()]
    if not values or any(v <= 0 for v in values):
        raise argparse.ArgumentTypeError("rates are positive numbers, separated by commas")
    return values


def bots(text: str) -> list[str]:
    names = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [name for name in names if name not in TARGETS]
    if not names or unknown:
        raise argparse.ArgumentTypeError(f"bots are among {', '.join(TARGETS)}, separated by "
                                         "commas")
    return names


def main(argv: list[str] | None = None) -> int:
    global QUIET_WAIT
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--participants", type=int, default=200,
                        help="participants walking at once in the throughput and memory "
                             "scenarios (default 200)")
    parser.add_argument("--duration", type=float, default=60.0,
                        help="length of the offered-load window in seconds (default 60)")
    parser.add_argument("--scenario",
                        choices=("all", "throughput", "offered", "paired", "memory"),
                        default="all")
    parser.add_argument("--rate", type=rates, default=[OFFERED_RATE], metavar="R[,R…]",
                        help="updates/s offered in the offered scenario, or several rates "
                             "measured one after the other with the same people (default 100; "
                             "the targets are checked at 100)")
    parser.add_argument("--paired-rate", type=float, default=PAIRED_RATE, metavar="R",
                        help=f"updates/s offered to each bot in the paired scenario "
                             f"(default {PAIRED_RATE:g})")
    parser.add_argument("--bots", type=bots, default=list(TARGETS), metavar="NAME[,NAME…]",
                        help="which bots to run, among " + ", ".join(TARGETS)
                             + " (default all; floor-aiohttp is the floor bot on consultbot's "
                               "transport)")
    parser.add_argument("--transport", choices=tuple(TRANSPORTS), default="polling",
                        help="how consultbot gets its updates: long polling, a webhook the "
                             "stand-in posts to (run --webhook), or both one after the other, "
                             "as the rows consultbot and consultbot-webhook (default polling)")
    parser.add_argument("--retries", type=int, default=2,
                        help="measure a scenario again, at most this many times, when other "
                             "processes used the CPU during its window (default 2)")
    parser.add_argument("--stored", type=int, default=100_000,
                        help="participants pre-filled for the memory scenario (default 100000)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the results here")
    parser.add_argument("--snapshot", action="store_true",
                        help="run consultbot from a copy of the last commit (git archive HEAD) "
                             "instead of the working tree")
    parser.add_argument("--quiet-wait", type=float, default=QUIET_WAIT, metavar="S",
                        help="wait at most this long for other processes to go quiet before "
                             f"a window (default {QUIET_WAIT:g} s; 0 to measure at once, e.g. "
                             "under a profiler)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the temporary folder (databases, bot logs)")
    args = parser.parse_args(argv)
    QUIET_WAIT = args.quiet_wait
    workdir = Path(tempfile.mkdtemp(prefix="consultbot-bench-"))
    try:
        result = asyncio.run(run(args, workdir))
    finally:
        if args.keep:
            print(f"kept {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print(report(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
