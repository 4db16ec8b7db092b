"""The Bot API's wire format: how requests are read and how errors are worded.

The Bot API accepts a method's parameters as a query string,
``application/x-www-form-urlencoded``, ``multipart/form-data`` (uploads) or
``application/json``, and merges them. Internally every parameter is a string,
read by each method as it needs it: integers leniently (``"12abc"`` is 12,
garbage is 0), booleans as ``true``/``yes``/``1``, objects as JSON text. A
JSON body is therefore flattened to strings first, which is what
:class:`ApiRequest` holds.

Errors are :class:`ApiError` exceptions carrying the HTTP status, Telegram's
description and, for some, ``parameters`` such as ``retry_after``. A method
answers with its result, or with an :class:`Answer` when a description goes
with it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from aiohttp import BodyPartReader, web

from .telegram_text import check_link


class ApiError(Exception):
    """A Bot API error answer: ``{"ok": false, "error_code": status, ...}``."""

    def __init__(
        self, status: int, description: str, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.status,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


class Answer:
    """A successful result that also carries a description, as setWebhook's does."""

    def __init__(self, result: Any, description: str) -> None:
        self.result = result
        self.description = description


def bad_request(text: str, parameters: dict[str, Any] | None = None) -> ApiError:
    return ApiError(400, f"Bad Request: {text}", parameters)


def forbidden(text: str) -> ApiError:
    return ApiError(403, f"Forbidden: {text}")


def too_many_requests(retry_after: int) -> ApiError:
    return ApiError(
        429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
    )


def default_error(status: int, retry_after: int | None = None) -> ApiError:
    """An error with the description Telegram gives for a bare status code."""
    if status == 429:
        return too_many_requests(retry_after if retry_after is not None else 1)
    words = {
        400: "Bad Request",
        401: "Unauthorized",
        403: "Forbidden",
        404: "Not Found",
        409: "Conflict",
        500: "Internal Server Error",
        502: "Bad Gateway",
        503: "Service Unavailable",
        504: "Gateway Timeout",
    }
    if status in words:
        return ApiError(status, words[status])
    try:
        return ApiError(status, HTTPStatus(status).phrase)
    except ValueError:
        return ApiError(status, f"Error {status}")


@dataclass(frozen=True)
class UploadedFile:
    """A file sent in a multipart request."""

    filename: str
    content_type: str
    data: bytes

    def __repr__(self) -> str:
        return f"UploadedFile({self.filename!r}, {self.content_type!r}, {len(self.data)} bytes)"


@dataclass
class ApiRequest:
    """The parameters of one Bot API call, as the Bot API server sees them."""

    args: dict[str, str] = field(default_factory=dict)
    files: dict[str, UploadedFile] = field(default_factory=dict)

    def arg(self, name: str) -> str:
        return self.args.get(name, "")

    def integer(
        self, name: str, default: int = 0, low: int | None = None, high: int | None = None
    ) -> int:
        raw = self.arg(name)
        value = default if raw == "" else to_integer(raw)
        if low is not None:
            value = max(low, value)
        if high is not None:
            value = min(high, value)
        return value

    def boolean(self, name: str) -> bool:
        return self.arg(name).strip().lower() in ("true", "yes", "1")

    def json(self, name: str, error: str) -> Any:
        """The JSON value of a parameter, ``None`` when absent; bad JSON → ``error``."""
        raw = self.arg(name)
        if raw == "":
            return None
        try:
            return json.loads(raw)
        except ValueError:
            raise bad_request(error) from None


def to_integer(raw: str) -> int:
    """Read an integer the lenient way the Bot API does: leading digits or 0."""
    match = re.match(r"-?\d+", raw)
    return int(match.group()) if match else 0


async def read_request(request: web.Request) -> ApiRequest:
    """Collect the parameters of a call from its URL and body."""
    result = ApiRequest(args=dict(request.query))
    if request.method not in ("POST", "PUT", "PATCH") or not request.can_read_body:
        return result
    content_type = request.content_type
    if content_type == "application/json":
        body = await request.read()
        if not body.strip():
            return result
        try:
            data = json.loads(body)
        except ValueError:
            raise bad_request("can't parse JSON encoded request") from None
        if not isinstance(data, dict):
            raise bad_request("JSON object expected")
        for key, value in data.items():
            if value is not None:
                result.args[str(key)] = value if isinstance(value, str) else json.dumps(value)
    elif content_type == "multipart/form-data":
        reader = await request.multipart()
        while True:
            part = await reader.next()
            if part is None:
                break
            if not isinstance(part, BodyPartReader) or part.name is None:
                continue
            if part.filename is not None:
                data_bytes = await part.read(decode=False)
                result.files[part.name] = UploadedFile(
                    filename=part.filename,
                    content_type=part.headers.get("Content-Type", "application/octet-stream"),
                    data=bytes(data_bytes),
                )
            else:
                result.args[part.name] = await part.text()
    else:
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, str):
                result.args[key] = value
    return result


# Call.params shows parameters decoded: these names are read as numbers,
# booleans or JSON; everything else stays a string.
_INT_PARAMS = frozenset(
    {
        "message_id", "offset", "limit", "timeout", "user_id", "cache_time",
        "message_thread_id", "reply_to_message_id", "duration", "width", "height",
        "live_period", "heading", "proximity_alert_radius", "max_connections",
        "chat_id", "from_chat_id",
    }
)  # fmt: skip
_FLOAT_PARAMS = frozenset({"latitude", "longitude", "horizontal_accuracy"})
_BOOL_PARAMS = frozenset(
    {
        "disable_notification", "protect_content", "show_alert", "drop_pending_updates",
        "disable_web_page_preview", "allow_sending_without_reply",
        "disable_content_type_detection", "has_spoiler", "show_caption_above_media",
        "allow_paid_broadcast", "supports_streaming", "revoke_messages",
    }
)  # fmt: skip
_JSON_PARAMS = frozenset(
    {
        "reply_markup", "entities", "caption_entities", "link_preview_options",
        "reply_parameters", "allowed_updates", "commands", "scope", "media",
        "menu_button", "message_ids",
    }
)  # fmt: skip


def decoded_params(request: ApiRequest) -> dict[str, Any]:
    """The parameters of a call with numbers, booleans and JSON objects decoded."""
    params: dict[str, Any] = {}
    for name, raw in request.args.items():
        params[name] = _decode_value(name, raw)
    for name, upload in request.files.items():
        params[name] = upload
    return params


def _decode_value(name: str, raw: str) -> Any:
    if name in _INT_PARAMS and re.fullmatch(r"-?\d+", raw.strip()):
        return int(raw)
    if name in _FLOAT_PARAMS:
        try:
            return float(raw)
        except ValueError:
            return raw
    if name in _BOOL_PARAMS and raw.strip().lower() in ("true", "false", "1", "0", "yes", "no"):
        return raw.strip().lower() in ("true", "yes", "1")
    if name in _JSON_PARAMS:
        try:
            return json.loads(raw)
        except ValueError:
            return raw
    return raw


# ------------------------------------------------------------ reply markup ---


@dataclass(frozen=True)
class ReplyMarkup:
    """A reply markup as Telegram understood it.

    ``kind`` is ``inline_keyboard``, ``keyboard``, ``remove_keyboard`` or
    ``force_reply``; ``rows`` holds the normalized buttons of keyboards.
    """

    kind: str
    rows: tuple[tuple[dict[str, Any], ...], ...]
    sent: dict[str, Any]  # the markup as the bot sent it

    def as_message_field(self) -> dict[str, Any] | None:
        """The ``reply_markup`` field of a Message: only inline keyboards appear."""
        if self.kind != "inline_keyboard":
            return None
        return {"inline_keyboard": [list(row) for row in self.rows]}


def parse_reply_markup(request: ApiRequest) -> ReplyMarkup | None:
    """Read ``reply_markup`` with the Bot API's checks and error descriptions."""
    value = request.json("reply_markup", "can't parse reply keyboard markup JSON object")
    if value is None:
        return None
    if not isinstance(value, dict):
        raise bad_request("object expected as reply markup")
    rows = _rows(value, "keyboard", 'field "keyboard" must be an Array of Arrays')
    keyboard = [tuple(_keyboard_button(button) for button in row) for row in rows]
    inline_rows = _rows(
        value,
        "inline_keyboard",
        'field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays',
    )
    inline = [tuple(_inline_button(button) for button in row) for row in inline_rows]
    if keyboard:
        return ReplyMarkup("keyboard", tuple(keyboard), value)
    if inline:
        return ReplyMarkup("inline_keyboard", tuple(inline), value)
    if value.get("remove_keyboard") is True or value.get("hide_keyboard") is True:
        return ReplyMarkup("remove_keyboard", (), value)
    if value.get("force_reply") is True:
        return ReplyMarkup("force_reply", (), value)
    return None


def _rows(markup: dict[str, Any], name: str, not_rows: str) -> list[list[Any]]:
    if name not in markup:
        return []
    rows = markup[name]
    if not isinstance(rows, list):
        raise bad_request(f'field "{name}" must be of type Array')
    if not all(isinstance(row, list) for row in rows):
        raise bad_request(not_rows)
    return rows


def _text_field(button: dict[str, Any], prefix: str) -> str:
    text = button.get("text")
    if text is None:
        raise bad_request(f'{prefix}: Can\'t find field "text"')
    if isinstance(text, bool) or not isinstance(text, (str, int, float)):
        raise bad_request(f'{prefix}: Field "text" must be of type String')
    return str(text)


def _keyboard_button(button: Any) -> dict[str, Any]:
    prefix = "can't parse keyboard button"
    if isinstance(button, str):
        return {"text": button}
    if not isinstance(button, dict):
        raise bad_request(f"{prefix}: KeyboardButton must be a String or an Object")
    result = dict(button)
    result["text"] = _text_field(button, prefix)
    return result


_INLINE_ACTIONS = (
    "callback_game", "pay", "switch_inline_query", "switch_inline_query_chosen_chat",
    "switch_inline_query_current_chat", "login_url", "web_app", "copy_text",
)  # fmt: skip


def _inline_button(button: Any) -> dict[str, Any]:
    prefix = "can't parse inline keyboard button"
    if not isinstance(button, dict):
        raise bad_request(f"{prefix}: InlineKeyboardButton must be an Object")
    text = _text_field(button, prefix)
    for name in ("url", "callback_data"):
        value = button.get(name)
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, (str, int, float))
        ):
            raise bad_request(f'{prefix}: Field "{name}" must be of type String')
    url = str(button.get("url") or "")
    if url:
        if check_link(url) is None:
            raise bad_request("BUTTON_URL_INVALID")
        return {"text": text, "url": url}
    data = str(button.get("callback_data") or "")
    if data:
        return {"text": text, "callback_data": data}
    for action in _INLINE_ACTIONS:
        if action in button:
            return {"text": text, action: button[action]}
    raise bad_request(f"{prefix}: Text buttons are unallowed in the inline keyboard")


def check_callback_data(markup: ReplyMarkup | None) -> None:
    """Telegram refuses callback data over 64 bytes once it tries to send it."""
    if markup is None:
        return
    for row in markup.rows:
        for button in row:
            data = button.get("callback_data")
            if isinstance(data, str) and len(data.encode("utf-8")) > 64:
                raise bad_request("BUTTON_DATA_INVALID")
