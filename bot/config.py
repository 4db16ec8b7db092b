"""Configuration: ``CONSULTBOT_*`` environment variables, optionally a TOML file.

The settings are declared once, as data (:data:`SETTINGS`), with their help
text; the README's configuration table is checked against this list. A TOML
file given with ``--config`` may set the same keys, written either as the
variable (``CONSULTBOT_DB = "…"``) or in short (``db = "…"``); the environment
wins. Any problem is a :class:`ConfigError` naming the key or file.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

PREFIX = "CONSULTBOT_"
OFFICIAL_API = "https://api.telegram.org"
_TOKEN = re.compile(r"^\d+:[A-Za-z0-9_-]+$")
DEFAULT_WEB = "127.0.0.1:8080"
DEFAULT_LISTEN = "127.0.0.1:8443"
_WEBHOOK_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


class ConfigError(Exception):
    """A setting or the configuration file is unusable; the message says which and why."""


@dataclass(frozen=True, slots=True)
class Setting:
    name: str
    help: str
    default: str | None


SETTINGS: tuple[Setting, ...] = (
    Setting("token", "the bot token from BotFather", None),
    Setting("api_url", "root of the Bot API server; calls go to {root}/bot{token}/{method}",
            OFFICIAL_API),
    Setting("db", "SQLite database file, or a postgresql:// URL", "consultbot.sqlite3"),
    Setting("survey", "survey definition file (YAML, or an XLSForm .xlsx/.xlsm/.xls/.md)", None),
    Setting("admins", "comma-separated Telegram user ids of organizers", ""),
    Setting("secret", "key for pseudonymous participant ids in exports", None),
    Setting("rate", "most messages per second the bot sends in reminder rounds and broadcasts",
            "25"),
    Setting("timezone", "time zone of schedules (IANA name)", "UTC"),
    Setting("reminder_interval", "hours between two reminders to one person, and of quiet "
            "before the first", "72"),
    Setting("reminder_max", "most reminders one person ever gets", "2"),
    Setting("remind_unconsented", "also remind, once, people who opened the bot but did not "
            "consent (true/false)", "false"),
    Setting("small_cell", "smallest group a published figure may describe (k)", "5"),
    Setting("schedule_grace", "minutes within which a schedule missed while the bot was down "
            "still runs (once) at start", "60"),
    Setting("proxy", "an http:// or https:// proxy every call to the Bot API goes through", None),
    Setting("organizer", "who runs the consultation, as the consent notice names them", None),
    Setting("contact", "how participants reach the organizers (an e-mail address, a phone "
            "number, a Telegram @username), shown in the consent notice", None),
    Setting("ends", "the day the consultation ends and its answers are deleted "
            "(YYYY-MM-DD), shown in the consent notice", None),
    Setting("web", "address the web console listens on (host:port), or off", DEFAULT_WEB),
    Setting("web_url", "public address of the web console, used in sign-in links (a path "
            "prefix behind a reverse proxy included)", None),
    Setting("web_idle", "minutes without a request after which a console session ends", "60"),
    Setting("webhook_url", "public https:// address Telegram posts updates to (webhooks "
            "instead of long polling); the same as run --webhook", None),
    Setting("listen", "local address the webhook server listens on (host:port), behind a "
            "reverse proxy that terminates TLS", DEFAULT_LISTEN),
    Setting("webhook_secret", "secret Telegram sends with every update (1 to 256 of A-Z a-z "
            "0-9 _ -)", None),
    Setting("webhook_register", "whether this process registers the webhook with Telegram "
            "(false: never; true: if it is the leader of the workers sharing a PostgreSQL "
            "database)", "true"),
    Setting("leader_check", "seconds between two attempts of a webhook worker on PostgreSQL "
            "to become the leader (and of the leader to check it still is)", "5"),
)
_NAMES = {s.name for s in SETTINGS}


def env_name(setting: str) -> str:
    return PREFIX + setting.upper()


@dataclass(frozen=True, slots=True)
class Config:
    token: str | None = field(default=None, repr=False)
    api_url: str = OFFICIAL_API
    db: Path = Path("consultbot.sqlite3")  # on PostgreSQL: where stored files go (./media)
    db_url: str | None = field(default=None, repr=False)  # PostgreSQL (may hold a password)
    survey: Path | None = None
    admins: frozenset[int] = frozenset()
    secret: str | None = field(default=None, repr=False)
    rate: float = 25.0
    timezone: str = "UTC"
    reminder_interval: float = 72.0
    reminder_max: int = 2
    remind_unconsented: bool = False
    small_cell: int = 5
    schedule_grace: int = 60
    proxy: str | None = None
    organizer: str | None = None
    contact: str | None = None
    ends: dt.date | None = None
    web: tuple[str, int] | None = ("127.0.0.1", 8080)  # None: no console
    web_url: str | None = None
    web_idle: int = 60
    webhook_url: str | None = None  # None: long polling
    listen: tuple[str, int] = ("127.0.0.1", 8443)
    webhook_secret: str | None = field(default=None, repr=False)
    webhook_register: bool = True
    leader_check: float = 5.0

    @property
    def console_url(self) -> str:
        """The console's public address, ending with "/" (from ``web_url``, else ``web``)."""
        if self.web_url:
            return self.web_url
        host, port = self.web or ("127.0.0.1", 8080)
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{port}/"

    @property
    def database(self) -> str | Path:
        """What ``CONSULTBOT_DB`` names: the PostgreSQL URL, else the SQLite file."""
        return self.db_url or self.db

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, config_file: Path | None = None
    ) -> Config:
        """Settings from the TOML file (if any), overridden by the environment."""
        raw: dict[str, tuple[str, str]] = {}  # setting -> (value, where it came from)
        if config_file is not None:
            raw.update(_read_toml(config_file))
        environ = os.environ if environ is None else environ
        for key, value in environ.items():
            if not key.startswith(PREFIX):
                continue
            name = key[len(PREFIX):].lower()
            if name not in _NAMES:
                raise ConfigError(f"{key}: unknown setting (known: {_known()})")
            raw[name] = (value, key)
        return cls._parse(raw)

    @classmethod
    def _parse(cls, raw: Mapping[str, tuple[str, str]]) -> Config:
        values: dict[str, Any] = {}
        for name, (value, where) in raw.items():
            if name == "db" and value.strip().startswith(_DB_SCHEMES):
                values["db_url"] = _db_url(value.strip(), where)
                continue
            values[name] = _PARSERS[name](value.strip(), where)
        return cls(**values)

    def with_overrides(self, **changes: Any) -> Config:
        return replace(self, **changes)

    def require_token(self) -> str:
        if not self.token:
            raise ConfigError(f"{env_name('token')}: not set (create a bot with @BotFather and "
                              "set the token it gives you)")
        return self.token


def parse_setting(name: str, value: str, where: str) -> Any:
    """One setting's value read from text, as from the environment; ``where`` names its
    origin in the error (a command-line option, say)."""
    return _PARSERS[name](value.strip(), where)


def _known() -> str:
    return ", ".join(env_name(s.name) for s in SETTINGS)


def _read_toml(path: Path) -> dict[str, tuple[str, str]]:
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the configuration file: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    raw: dict[str, tuple[str, str]] = {}
    for key, value in data.items():
        name = key[len(PREFIX):].lower() if key.upper().startswith(PREFIX) else key.lower()
        if name not in _NAMES:
            raise ConfigError(f"{path}: {key}: unknown setting (known: "
                              f"{', '.join(s.name for s in SETTINGS)})")
        if isinstance(value, list) and name == "admins":
            value = ",".join(str(v) for v in value)
        if isinstance(value, bool):
            value = "true" if value else "false"
        if not isinstance(value, str | int | float):
            raise ConfigError(f"{path}: {key}: expected a text or a number")
        raw[name] = (str(value), f"{path}: {key}")
    return raw


def _token(value: str, where: str) -> str | None:
    if not value:
        return None
    if not _TOKEN.match(value):
        raise ConfigError(f"{where}: does not look like a bot token (digits, a colon, then "
                          "letters, digits, '_' or '-')")
    return value


def _api_url(value: str, where: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"{where}: expected an http:// or https:// URL, got {value!r}")
    return value.rstrip("/")


def _path(value: str, where: str) -> Path:
    if not value:
        raise ConfigError(f"{where}: empty path")
    return Path(value).expanduser()


_DB_SCHEMES = ("postgresql://", "postgres://")


def parse_database(value: str, where: str) -> str | Path:
    """A database named on the command line: a PostgreSQL URL, or a SQLite file."""
    value = value.strip()
    return _db_url(value, where) if value.startswith(_DB_SCHEMES) else _path(value, where)


def _db_url(value: str, where: str) -> str:
    """A PostgreSQL URL, checked for shape only (the server is reached later); the message
    never repeats it, since it may hold a password."""
    parts = urlsplit(value)
    try:
        parts.port  # noqa: B018  (raises on a port that is not a number)
    except ValueError:
        raise ConfigError(f"{where}: the PostgreSQL URL's port is not a number (expected "
                          "postgresql://user:password@host:port/database)") from None
    if not parts.path.strip("/") and "dbname=" not in parts.query:
        raise ConfigError(f"{where}: the PostgreSQL URL names no database (expected "
                          "postgresql://user:password@host:port/database)")
    return value


def _survey(value: str, where: str) -> Path | None:
    if not value:
        return None
    path = Path(value).expanduser()
    try:
        with path.open("rb"):
            pass
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read survey file {path}: {exc.strerror}") from None
    return path


def _admins(value: str, where: str) -> frozenset[int]:
    ids: set[int] = set()
    for part in value.replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        if not part.isdigit():
            raise ConfigError(f"{where}: {part!r} is not a Telegram user id (a positive "
                              "whole number); separate ids with commas")
        ids.add(int(part))
    return frozenset(ids)


def _secret(value: str, where: str) -> str | None:
    if not value:
        return None
    if len(value) < 16:
        raise ConfigError(f"{where}: too short; use at least 16 random characters")
    return value


def _rate(value: str, where: str) -> float:
    try:
        rate = float(value)
    except ValueError:
        raise ConfigError(f"{where}: expected a number of messages per second") from None
    if not 0 < rate <= 1000:
        raise ConfigError(f"{where}: expected a number above 0 and at most 1000")
    return rate


def _timezone(value: str, where: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{where}: unknown time zone {value!r} (use an IANA name such as "
                          "Europe/Paris)") from None
    return value


def _positive_number(value: str, where: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise ConfigError(f"{where}: expected a number, got {value!r}") from None
    if number <= 0:
        raise ConfigError(f"{where}: expected a number above 0")
    return number


def _count(low: int) -> Callable[[str, str], int]:
    def parse(value: str, where: str) -> int:
        if not value.strip().isdigit() or int(value) < low:
            raise ConfigError(f"{where}: expected a whole number of at least {low}, "
                              f"got {value!r}")
        return int(value)
    return parse


def _words(value: str, where: str, limit: int) -> str | None:
    if len(value) > limit:
        raise ConfigError(f"{where}: at most {limit} characters, got {len(value)}")
    return " ".join(value.split()) or None


def _day(value: str, where: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"{where}: expected a date as YYYY-MM-DD, got {value!r}") from None


def _flag(value: str, where: str) -> bool:
    lowered = value.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise ConfigError(f"{where}: expected true or false, got {value!r}")


def _web(value: str, where: str) -> tuple[str, int] | None:
    if value.lower() in ("off", "no", "false", "0", "none"):
        return None
    host, colon, port = value.rpartition(":")
    host = host.strip("[]")
    if not colon or not host or not port.isdigit() or not 0 <= int(port) < 65536:
        raise ConfigError(f"{where}: expected host:port (such as 127.0.0.1:8080) or off, "
                          f"got {value!r}")
    return host, int(port)


def _web_url(value: str, where: str) -> str | None:
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
        raise ConfigError(f"{where}: expected the console's public address, such as "
                          f"https://example.org/console/, got {value!r}")
    return value if value.endswith("/") else value + "/"


def _webhook_url(value: str, where: str) -> str | None:
    """An http(s) URL; whether Telegram accepts it (https, its ports) is Telegram's answer."""
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.fragment:
        raise ConfigError(f"{where}: expected the public https:// address Telegram posts "
                          f"updates to, such as https://example.org/telegram, got {value!r}")
    return value


def _listen(value: str, where: str) -> tuple[str, int]:
    host, colon, port = value.rpartition(":")
    host = host.strip("[]")
    if not colon or not host or not port.isdigit() or not 0 <= int(port) < 65536:
        raise ConfigError(f"{where}: expected host:port (such as {DEFAULT_LISTEN}), "
                          f"got {value!r}")
    return host, int(port)


def _webhook_secret(value: str, where: str) -> str | None:
    if not value:
        return None
    if not _WEBHOOK_SECRET.match(value):
        raise ConfigError(f"{where}: expected 1 to 256 characters among A-Z a-z 0-9 _ - "
                          "(what Telegram accepts as a secret_token)")
    return value


_PARSERS: dict[str, Callable[[str, str], Any]] = {
    "token": _token,
    "api_url": _api_url,
    "db": _path,
    "survey": _survey,
    "admins": _admins,
    "secret": _secret,
    "rate": _rate,
    "timezone": _timezone,
    "reminder_interval": _positive_number,
    "reminder_max": _count(0),
    "remind_unconsented": _flag,
    "small_cell": _count(1),
    "schedule_grace": _count(0),
    "proxy": lambda value, where: _api_url(value, where) if value else None,
    "organizer": lambda value, where: _words(value, where, 120),
    "contact": lambda value, where: _words(value, where, 120),
    "ends": _day,
    "web": _web,
    "web_url": _web_url,
    "web_idle": _count(1),
    "webhook_url": _webhook_url,
    "listen": _listen,
    "webhook_secret": _webhook_secret,
    "webhook_register": _flag,
    "leader_check": _positive_number,
}
