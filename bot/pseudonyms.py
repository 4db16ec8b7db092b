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

import hashlib
import hmac

_PARTICIPANT = b"consultbot/export/participant:"
_RESPONSE = b"consultbot/export/response:"
_LOG = b"consultbot/log/user:"
_BLOCK = 64  # SHA-256's block size, in bytes
_INNER_PAD = bytes(x ^ 0x36 for x in range(256))
_OUTER_PAD = bytes(x ^ 0x5C for x in range(256))


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
    """``participant_id`` and ``response_id`` for one secret, keyed once for many rows.

    The same HMAC-SHA256 as :func:`participant_id` and :func:`response_id`, computed
    from the key's inner and outer SHA-256 states prepared once (RFC 2104): an export
    makes two codes per response, and this is 1.7x faster than copying an ``hmac``
    object for each (docs/performance.md, issue 11).
    """

    __slots__ = ("_inner_participant", "_inner_response", "_outer")

    def __init__(self, secret: str) -> None:
        key = secret.encode()
        if len(key) > _BLOCK:
            key = hashlib.sha256(key).digest()
        key = key.ljust(_BLOCK, b"\0")
        inner = hashlib.sha256(key.translate(_INNER_PAD))
        self._outer = hashlib.sha256(key.translate(_OUTER_PAD))
        self._inner_participant = inner.copy()
        self._inner_participant.update(_PARTICIPANT)
        self._inner_response = inner
        self._inner_response.update(_RESPONSE)

    def _mac(self, inner: hashlib._Hash, value: int) -> str:
        mac = inner.copy()
        mac.update(str(value).encode())
        outer = self._outer.copy()
        outer.update(mac.digest())
        return outer.hexdigest()[:20]

    def participant_id(self, user_id: int) -> str:
        return self._mac(self._inner_participant, user_id)

    def response_id(self, response: int) -> str:
        return self._mac(self._inner_response, response)
