"""The webhook's settings: read as the other settings are, refused in one line."""

from __future__ import annotations

import subprocess
import sys

import pytest
from bot.config import Config, ConfigError
from bot.webhook import Webhook, configured_webhook


def test_long_polling_unless_a_webhook_url_is_set() -> None:
    assert configured_webhook(Config.from_env({})) is None
    config = Config.from_env({"CONSULTBOT_WEBHOOK_URL": "https://example.org/telegram",
                              "CONSULTBOT_LISTEN": "[::1]:9443",
                              "CONSULTBOT_WEBHOOK_REGISTER": "0"})
    assert configured_webhook(config) == Webhook("https://example.org/telegram", ("::1", 9443),
                                                 elected=False)
    defaults = Config.from_env({"CONSULTBOT_WEBHOOK_URL": "https://example.org/telegram"})
    assert configured_webhook(defaults) == Webhook("https://example.org/telegram",
                                                   ("127.0.0.1", 8443), elected=True)


@pytest.mark.parametrize(("name", "value", "words"), [
    ("CONSULTBOT_WEBHOOK_URL", "example.org/telegram", "public https:// address"),
    ("CONSULTBOT_WEBHOOK_URL", "ftp://example.org/telegram", "public https:// address"),
    ("CONSULTBOT_LISTEN", "8443", "host:port"),
    ("CONSULTBOT_LISTEN", "off", "host:port"),
    ("CONSULTBOT_WEBHOOK_SECRET", "with spaces", "A-Z a-z 0-9 _ -"),
    ("CONSULTBOT_WEBHOOK_SECRET", "x" * 257, "A-Z a-z 0-9 _ -"),
    ("CONSULTBOT_WEBHOOK_REGISTER", "maybe", "true or false"),
])
def test_a_bad_webhook_setting_is_named(name: str, value: str, words: str) -> None:
    with pytest.raises(ConfigError) as refused:
        Config.from_env({name: value})
    assert str(refused.value).startswith(f"{name}: ") and words in str(refused.value)


def test_the_secret_stays_out_of_the_configs_repr() -> None:
    config = Config.from_env({"CONSULTBOT_WEBHOOK_SECRET": "Very_secret-42"})
    assert config.webhook_secret == "Very_secret-42" and "Very_secret" not in repr(config)


def test_a_bad_webhook_option_is_one_line_and_status_2() -> None:
    done = subprocess.run([sys.executable, "-m", "bot", "run", "--webhook", "not a url"],
                          capture_output=True, text=True, timeout=60, check=False,
                          env={"PATH": "/usr/bin:/bin", "CONSULTBOT_TOKEN": "4242:abc"})
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "--webhook: expected the public https://" in \
        done.stderr
