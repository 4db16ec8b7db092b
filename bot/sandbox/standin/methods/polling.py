"""Getting updates: ``getUpdates`` (long polling) and the webhook methods.

``setWebhook`` checks its arguments as the Bot API does, with its wording: an
https:// URL on port 443, 80, 88 or 8443 whose host is no reserved address;
``secret_token`` of 1 to 256 of ``A-Z a-z 0-9 _ -``; ``max_connections``
brought into 1..100. The world's ``local_mode`` (as the self-hosted Bot API
server's ``--local``) accepts http:// and any port, so a test's bot can listen
on ``http://127.0.0.1:PORT``. While a webhook is set, ``getUpdates`` is refused
and :mod:`..webhook` posts the updates.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any
from urllib.parse import urlsplit

from ...wire import Answer, ApiError, ApiRequest, bad_request
from ..updates import DEFAULT_ALLOWED_UPDATES, Webhook
from ..world import World

LONG_POLL_MAX_TIMEOUT = 50
CONFLICT_OTHER_POLL = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
CONFLICT_WEBHOOK = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
CONFLICT_SET_WEBHOOK = "Conflict: terminated by setWebhook request"
WEBHOOK_PORTS = (443, 80, 88, 8443)
SECRET_TOKEN_MAX = 256
_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]*")
MAX_CONNECTIONS_DEFAULT = 40
MAX_CONNECTIONS_HIGHEST = 100


async def get_updates(world: World, request: ApiRequest) -> list[dict[str, Any]]:
    queue = world.updates
    if queue.webhook_url:
        raise ApiError(409, CONFLICT_WEBHOOK)
    offset = request.integer("offset")
    limit = request.integer("limit", 100, 1, 100)
    timeout = request.integer("timeout", 0, 0, LONG_POLL_MAX_TIMEOUT)
    queue.set_allowed(request.arg("allowed_updates"))
    queue.end_poll("conflict")
    queue.confirm(offset)
    if not len(queue) and timeout > 0:
        reason = await queue.wait(timeout)
        if reason == "conflict":
            raise ApiError(409, CONFLICT_OTHER_POLL)
        if reason == "webhook":
            raise ApiError(409, CONFLICT_SET_WEBHOOK)
    return queue.first(limit)


async def set_webhook(world: World, request: ApiRequest) -> Answer:
    url = request.arg("url")
    if not url:
        return await delete_webhook(world, request)
    _check_url(url, world.local_mode)
    secret = request.arg("secret_token")
    if len(secret) > SECRET_TOKEN_MAX:
        raise bad_request("secret token is too long")
    if not _SECRET_TOKEN.fullmatch(secret):
        raise bad_request("secret token contains unallowed characters")
    webhook = Webhook(url, secret, request.integer("max_connections", MAX_CONNECTIONS_DEFAULT,
                                                   1, MAX_CONNECTIONS_HIGHEST))
    queue = world.updates
    queue.set_allowed(request.arg("allowed_updates"))
    if request.boolean("drop_pending_updates"):
        queue.clear()
    if webhook == queue.webhook:
        return Answer(True, "Webhook is already set")
    if queue.webhook is None or queue.webhook.url != url:
        queue.last_error_date, queue.last_error_message = 0, ""
    queue.webhook = webhook
    queue.end_poll("webhook")
    if queue.on_add is not None:
        queue.on_add()
    return Answer(True, "Webhook was set")


def _check_url(url: str, local_mode: bool) -> None:
    """Refuse a webhook URL as the Bot API does; ``local_mode`` (as the self-hosted server's
    ``--local``) lets http:// and any port through."""
    try:
        parts = urlsplit(url if "://" in url else f"https://{url}")
        port = parts.port
    except ValueError:
        raise bad_request("invalid webhook URL specified") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise bad_request("invalid webhook URL specified")
    if local_mode:
        return
    if parts.scheme.lower() != "https":
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    if port is not None and port not in WEBHOOK_PORTS:
        raise bad_request("bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443")
    try:
        address = ipaddress.ip_address(parts.hostname)
    except ValueError:
        return  # a name: Telegram resolves it; the stand-in does not
    if not address.is_global:
        raise bad_request(f"bad webhook: IP address {address} is reserved")


async def delete_webhook(world: World, request: ApiRequest) -> Answer:
    queue = world.updates
    if request.boolean("drop_pending_updates"):
        queue.clear()
    if queue.webhook is None:
        return Answer(True, "Webhook is already deleted")
    queue.webhook = None
    queue.last_error_date, queue.last_error_message = 0, ""
    return Answer(True, "Webhook was deleted")


async def get_webhook_info(world: World, request: ApiRequest) -> dict[str, Any]:
    queue = world.updates
    info: dict[str, Any] = {
        "url": queue.webhook_url,
        "has_custom_certificate": False,
        "pending_update_count": len(queue),
    }
    if queue.webhook is not None:
        info["max_connections"] = queue.webhook.max_connections
        if queue.allowed != DEFAULT_ALLOWED_UPDATES:
            info["allowed_updates"] = sorted(queue.allowed)
    if queue.last_error_date:
        info["last_error_date"] = queue.last_error_date
        info["last_error_message"] = queue.last_error_message
    return info
