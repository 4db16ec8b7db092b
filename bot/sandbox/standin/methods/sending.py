"""Methods that send: messages, documents, photos, locations, chat actions, callback answers.

Every message the bot sends is stored in its chat and recorded as a
:class:`~bot.sandbox.standin.records.SentMessage` the test reads.
"""

from __future__ import annotations

import mimetypes
from typing import Any

from ...wire import (
    ApiRequest,
    ReplyMarkup,
    UploadedFile,
    bad_request,
    check_callback_data,
    decoded_params,
    parse_reply_markup,
    to_integer,
)
from ..files import StoredFile, image_size
from ..people import SimChat
from ..records import SentMessage
from ..world import World
from .arguments import (
    chat_for,
    check_can_send,
    finish,
    input_file,
    link_preview,
    parse_text,
    reply_to,
)

MAX_CALLBACK_ANSWER_LENGTH = 200
CHAT_ACTIONS = frozenset(
    {
        "cancel", "typing", "record_video", "upload_video", "record_audio", "record_voice",
        "upload_audio", "upload_voice", "upload_photo", "upload_document", "choose_sticker",
        "pick_up_location", "find_location", "record_video_note", "upload_video_note",
    }
)  # fmt: skip
QUERY_INVALID = "query is too old and response timeout expired or query ID is invalid"


async def send_message(world: World, request: ApiRequest) -> dict[str, Any]:
    source = request.arg("text")
    if not source:
        raise bad_request("message text is empty")
    preview = link_preview(request)
    text, entities = parse_text(world, source, request, "entities")
    markup = parse_reply_markup(request)
    chat = chat_for(world, request)
    replied = reply_to(world, request, chat)
    check_can_send(chat)
    text, entities = finish(text, entities, caption=False)
    check_callback_data(markup)
    content: dict[str, Any] = {"text": text}
    if entities:
        content["entities"] = entities
    if preview:
        content["link_preview_options"] = preview
    html = source if request.arg("parse_mode").lower() == "html" else None
    return _send(
        world, chat, "text", content, markup, replied, text=text, html=html, entities=entities
    )


async def send_document(world: World, request: ApiRequest) -> dict[str, Any]:
    return _send_media(world, request, "document")


async def send_photo(world: World, request: ApiRequest) -> dict[str, Any]:
    return _send_media(world, request, "photo")


async def send_location(world: World, request: ApiRequest) -> dict[str, Any]:
    latitude, longitude = request.arg("latitude").strip(), request.arg("longitude").strip()
    if not latitude:
        raise bad_request("latitude is empty")
    if not longitude:
        raise bad_request("longitude is empty")
    try:
        point = (float(latitude), float(longitude))
    except ValueError:
        point = (0.0, 0.0)
    markup = parse_reply_markup(request)
    chat = chat_for(world, request)
    replied = reply_to(world, request, chat)
    check_can_send(chat)
    if not (-90 <= point[0] <= 90 and -180 <= point[1] <= 180):
        raise bad_request("wrong location")
    check_callback_data(markup)
    content = {"location": {"latitude": point[0], "longitude": point[1]}}
    return _send(
        world, chat, "location", content, markup, replied,
        text="", html=None, entities=[], location=point,
    )  # fmt: skip


async def send_chat_action(world: World, request: ApiRequest) -> bool:
    if request.arg("action") not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    chat = chat_for(world, request)
    check_can_send(chat)
    return True


async def answer_callback_query(world: World, request: ApiRequest) -> bool:
    query_id = str(to_integer(request.arg("callback_query_id")))
    if query_id not in world.open_queries:
        raise bad_request(QUERY_INVALID)
    if len(request.arg("text")) > MAX_CALLBACK_ANSWER_LENGTH:
        raise bad_request("MESSAGE_TOO_LONG")
    world.open_queries.discard(query_id)
    world.callback_answers[query_id] = decoded_params(request)
    return True


def _send_media(world: World, request: ApiRequest, kind: str) -> dict[str, Any]:
    given = input_file(world, request, kind)
    if given is None:
        raise bad_request(f"there is no {kind} in the request")
    source = request.arg("caption")
    caption, entities = parse_text(world, source, request, "caption_entities")
    markup = parse_reply_markup(request)
    chat = chat_for(world, request)
    replied = reply_to(world, request, chat)
    check_can_send(chat)
    caption, entities = finish(caption, entities, caption=True)
    check_callback_data(markup)
    stored = _store_upload(world, given, kind) if isinstance(given, UploadedFile) else given
    content: dict[str, Any] = {}
    if kind == "photo":
        content["photo"] = stored.photo or []
    else:
        document: dict[str, Any] = {}
        if stored.file_name:
            document["file_name"] = stored.file_name
        if stored.mime_type:
            document["mime_type"] = stored.mime_type
        content["document"] = {**document, **stored.ids()}
    if caption:
        content["caption"] = caption
        if entities:
            content["caption_entities"] = entities
    html = source if request.arg("parse_mode").lower() == "html" and source else None
    return _send(
        world, chat, kind, content, markup, replied,
        text=caption, html=html, entities=entities, upload=stored,
    )  # fmt: skip


def _store_upload(world: World, given: UploadedFile, kind: str) -> StoredFile:
    if not given.data:
        raise bad_request("file must be non-empty")
    if kind == "photo":
        if image_size(given.data) is None:
            raise bad_request("IMAGE_PROCESS_FAILED")
        sizes = world.files.store_photo(given.data, given.filename)
        return world.files.by_id[sizes[-1]["file_id"]]
    mime = given.content_type
    if not mime or mime == "application/octet-stream":
        mime = mimetypes.guess_type(given.filename)[0] or "application/octet-stream"
    return world.files.store("document", given.data, mime, given.filename)


def _send(
    world: World,
    chat: SimChat,
    kind: str,
    content: dict[str, Any],
    markup: ReplyMarkup | None,
    replied: dict[str, Any] | None,
    *,
    text: str,
    html: str | None,
    entities: list[dict[str, Any]],
    upload: StoredFile | None = None,
    location: tuple[float, float] | None = None,
) -> dict[str, Any]:
    """Store the bot's message, record it for the test, and return the Message object."""
    if replied is not None:
        content["reply_to_message"] = replied
    message = world.store_message(chat, world.bot_id, content, markup)
    message.sent = SentMessage(
        chat_id=chat.id,
        message_id=message.message_id,
        text=text,
        html=html,
        reply_markup=markup.sent if markup else None,
        kind=kind,
        document=upload.data if upload else None,
        filename=upload.file_name if upload else None,
        entities=entities,
        mime_type=upload.mime_type if upload else None,
        location=location,
    )
    world.sent.setdefault(chat.id, []).append(message.sent)
    return world.message_json(message)
