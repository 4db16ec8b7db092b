"""Bot API calls made by hand, the way PTB makes them, to check the stand-in's answers."""

from __future__ import annotations

import json
from typing import Any

import httpx

TOKEN = "123456789:AAEtestTOKENtestTOKENtestTOKEN12345"
KEYBOARD = {
    "inline_keyboard": [
        [{"text": "Yes", "callback_data": "q1:0"}, {"text": "No", "callback_data": "q1:1"}]
    ]
}


class Raw:
    """Bot API calls the way PTB makes them: form-encoded, non-strings as JSON."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def __call__(self, method: str, **params: Any) -> tuple[int, dict[str, Any]]:
        data = {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}
        response = await self.http.post(method, data=data)
        return response.status_code, response.json()

    async def ok(self, method: str, **params: Any) -> Any:
        status, body = await self(method, **params)
        assert status == 200 and body["ok"] is True, body
        return body["result"]

    async def error(self, method: str, **params: Any) -> tuple[int, str]:
        status, body = await self(method, **params)
        assert body["ok"] is False and body["error_code"] == status, body
        return status, body["description"]
