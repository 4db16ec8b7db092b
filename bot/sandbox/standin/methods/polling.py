"""Getting updates: ``getUpdates`` (long polling) and the webhook methods.

A webhook is recorded and blocks ``getUpdates`` as on Telegram, but nothing
is posted to it.
"""

from __future__ import annotations

from typing import Any

from ...wire import Answer, ApiError, ApiRequest, bad_request
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
    if not url.lower().startswith("https://"):
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    queue = world.updates
    if request.boolean("drop_pending_updates"):
        queue.clear()
    if url == queue.webhook_url:
        return Answer(True, "Webhook is already set")
    queue.webhook_url = url
    queue.end_poll("webhook")
    return Answer(True, "Webhook was set")


async def delete_webhook(world: World, request: ApiRequest) -> Answer:
    queue = world.updates
    if request.boolean("drop_pending_updates"):
        queue.clear()
    if not queue.webhook_url:
        return Answer(True, "Webhook is already deleted")
    queue.webhook_url = ""
    return Answer(True, "Webhook was deleted")


async def get_webhook_info(world: World, request: ApiRequest) -> dict[str, Any]:
    queue = world.updates
    info: dict[str, Any] = {
        "url": queue.webhook_url,
        "has_custom_certificate": False,
        "pending_update_count": len(queue),
    }
    if queue.webhook_url:
        info["max_connections"] = 40
    return info
