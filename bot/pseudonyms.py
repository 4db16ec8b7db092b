"""Keyed pseudonyms: stable codes that lead back to an id only with the secret.

Each code is an HMAC-SHA256, keyed with the secret (``CONSULTBOT_SECRET`` or
the one generated and kept in the database), of a domain name and the id. Each
use has its own domain, so the codes of one use cannot be matched with those
of another without the key: an export's participant code is not its response
code, and neither appears in the logs.

- ``participant_id``: the ``participant`` column of exports (hides the Telegram
  user id);
- ``response_id``: the ``response_id`` column of exports (hides the response's
  row in the database, which leads to the participant);
- ``log_id``: log lines (hides the Telegram user id).
"""

from __future__ import annotations

import hmac

_PARTICIPANT = b"consultbot/export/participant:"
_RESPONSE = b"consultbot/export/response:"
_LOG = b"consultbot/log/user:"


def _code(secret: str, domain: bytes, value: int, length: int) -> str:
    return hmac.digest(secret.encode(), domain + str(value).encode(), "sha256").hex()[:length]


def participant_id(secret: str, user_id: int) -> str:
    """The participant's code in exports: the same in every export made with this secret."""
    return _code(secret, _PARTICIPANT, user_id, 20)


def response_id(secret: str, response: int) -> str:
    """The response's code in exports, in place of its row id."""
    return _code(secret, _RESPONSE, response, 20)


def log_id(secret: str, user_id: int) -> str:
    """The person's code in log lines: follows one person through the logs, matches no export."""
    return _code(secret, _LOG, user_id, 12)


class ExportCodes:
    """``participant_id`` and ``response_id`` for one secret, keyed once for many rows."""

    __slots__ = ("_participant", "_response")

    def __init__(self, secret: str) -> None:
        key = secret.encode()
        self._participant = hmac.new(key, _PARTICIPANT, "sha256")
        self._response = hmac.new(key, _RESPONSE, "sha256")

    def participant_id(self, user_id: int) -> str:
        mac = self._participant.copy()
        mac.update(str(user_id).encode())
        return mac.hexdigest()[:20]

    def response_id(self, response: int) -> str:
        mac = self._response.copy()
        mac.update(str(response).encode())
        return mac.hexdigest()[:20]
