"""What the stand-in records for a test to read: the bot's calls and its messages.

These are plain values the test inspects; the stand-in keeps a
:class:`SentMessage` up to date as the bot edits or deletes the message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Call:
    """One HTTP call the bot made, with its answer.

    ``method`` is spelled as in the Bot API documentation even when the bot
    wrote it in another case; file downloads are recorded as ``"file"``.
    ``params`` are decoded: numbers, booleans and JSON objects as Python
    values, uploads as :class:`UploadedFile`. A call the client abandoned
    before its answer (such as a long poll cut short) is not recorded.
    """

    method: str
    params: dict[str, Any]
    status: int
    response: dict[str, Any]
    started: float
    finished: float
    rejected_by_limit: bool = False

    @property
    def ok(self) -> bool:
        return self.status == 200


@dataclass
class Button:
    """A keyboard button as a person sees it."""

    text: str
    callback_data: str | None = None
    url: str | None = None
    request_location: bool = False
    request_contact: bool = False

    @classmethod
    def from_markup(cls, raw: Any) -> Button:
        """A button of a reply markup as the bot sent it (an object, or a bare text)."""
        if isinstance(raw, str):
            return cls(text=raw)
        if not isinstance(raw, dict):
            return cls(text=str(raw))
        data = raw.get("callback_data")
        url = raw.get("url")
        return cls(
            text=str(raw.get("text", "")),
            callback_data=str(data) if data is not None else None,
            url=str(url) if url is not None else None,
            request_location=raw.get("request_location") is True,
            request_contact=raw.get("request_contact") is True,
        )


@dataclass
class SentMessage:
    """A message the bot sent, kept up to date with its edits and deletion.

    ``text`` is the plain text (the caption for media); ``html`` the raw text
    when it was sent with ``parse_mode=HTML``; ``reply_markup`` the markup as
    the bot sent it (inline or reply keyboard); ``document`` the bytes of an
    uploaded document or photo.
    """

    chat_id: int
    message_id: int
    text: str
    html: str | None
    reply_markup: dict[str, Any] | None
    kind: str
    edits: int = 0
    deleted: bool = False
    document: bytes | None = None
    filename: str | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    mime_type: str | None = None
    location: tuple[float, float] | None = None

    @property
    def buttons(self) -> list[list[Button]]:
        """Rows of the inline keyboard, or of the reply keyboard; ``[]`` if none."""
        markup = self.reply_markup or {}
        rows = markup.get("inline_keyboard") or markup.get("keyboard") or []
        return [[Button.from_markup(raw) for raw in row] for row in rows if isinstance(row, list)]

    def button(self, label_or_index: str | int) -> Button:
        """A button by its exact text, or by its index counting row by row."""
        flat = [button for row in self.buttons for button in row]
        if isinstance(label_or_index, int):
            if 0 <= label_or_index < len(flat):
                return flat[label_or_index]
        else:
            for button in flat:
                if button.text == label_or_index:
                    return button
        labels = ", ".join(repr(b.text) for b in flat) or "none"
        raise ValueError(
            f"message {self.message_id} in chat {self.chat_id} has no button "
            f"{label_or_index!r}; its buttons: {labels}"
        )
