"""Methods about the bot's account and what it looks up: neither sending nor editing.

``getMe``, ``logOut``, ``close``; the command menus (kept per scope and
language in ``World.commands``), the bot's name and descriptions, the chat
menu button; ``getChat``, ``getChatMember`` and ``getFile``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...wire import ApiRequest, bad_request, to_integer
from ..world import World
from .arguments import chat_for

if TYPE_CHECKING:
    from . import Method

MAX_COMMANDS = 100
MAX_COMMAND_LENGTH = 32
MAX_COMMAND_DESCRIPTION_LENGTH = 256
MAX_DOWNLOAD_SIZE = 20 * 1024 * 1024


async def get_me(world: World, request: ApiRequest) -> dict[str, Any]:
    return {
        **world.bot_user(),
        "can_join_groups": True,
        "can_read_all_group_messages": not world.privacy_mode,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


async def log_out(world: World, request: ApiRequest) -> bool:
    return True


async def close(world: World, request: ApiRequest) -> bool:
    return True


# ---------------------------------------------------------------- commands --


async def set_my_commands(world: World, request: ApiRequest) -> bool:
    value = request.json("commands", "can't parse commands JSON object")
    if value is None:
        value = []
    if not isinstance(value, list):
        raise bad_request("expected an Array of BotCommand")
    commands: list[dict[str, Any]] = []
    for item in value:
        if not isinstance(item, dict):
            raise bad_request("can't parse BotCommand: expected an Object")
        for name in ("command", "description"):
            if name not in item:
                raise bad_request(f"can't parse BotCommand: Can't find field \"{name}\"")
            if not isinstance(item[name], (str, int, float)) or isinstance(item[name], bool):
                raise bad_request(f'can\'t parse BotCommand: Field "{name}" must be of type String')
        commands.append({"command": str(item["command"]), "description": str(item["description"])})
    key = _commands_key(world, request)
    for command in commands:
        name = command["command"].strip().removeprefix("/")
        description = command["description"].strip()
        if not name:
            raise bad_request("command must be non-empty")
        if len(name) > MAX_COMMAND_LENGTH:
            raise bad_request(f"command length must not exceed {MAX_COMMAND_LENGTH}")
        if not description:
            raise bad_request("command description must be non-empty")
        if len(description) > MAX_COMMAND_DESCRIPTION_LENGTH:
            raise bad_request(
                f"command description length must not exceed {MAX_COMMAND_DESCRIPTION_LENGTH}"
            )
        if not all(ch.isascii() and (ch.islower() or ch.isdigit() or ch == "_") for ch in name):
            raise bad_request("BOT_COMMAND_INVALID")
        command.update(command=name, description=description)
    if len(commands) > MAX_COMMANDS:
        raise bad_request("BOT_COMMANDS_TOO_MUCH")
    if commands:
        world.commands[key] = commands
    else:
        world.commands.pop(key, None)
    return True


async def get_my_commands(world: World, request: ApiRequest) -> list[dict[str, Any]]:
    return [dict(c) for c in world.commands.get(_commands_key(world, request), [])]


async def delete_my_commands(world: World, request: ApiRequest) -> bool:
    world.commands.pop(_commands_key(world, request), None)
    return True


def _command_scope(request: ApiRequest) -> dict[str, Any]:
    value = request.json("scope", "can't parse BotCommandScope JSON object")
    if value is None:
        return {"type": "default"}
    if not isinstance(value, dict):
        raise bad_request("can't parse BotCommandScope: BotCommandScope must be an Object")
    scope_type = value.get("type")
    if not isinstance(scope_type, str):
        raise bad_request("can't parse BotCommandScope: Can't find field \"type\"")
    if scope_type in (
        "default",
        "all_private_chats",
        "all_group_chats",
        "all_chat_administrators",
    ):
        return {"type": scope_type}
    if scope_type not in ("chat", "chat_administrators", "chat_member"):
        raise bad_request("can't parse BotCommandScope: Unsupported type specified")
    if "chat_id" not in value:
        raise bad_request("can't parse BotCommandScope: Can't find field \"chat_id\"")
    if value["chat_id"] in ("", None):
        raise bad_request("can't parse BotCommandScope: Empty chat_id specified")
    scope = {"type": scope_type, "chat_id": value["chat_id"]}
    if scope_type == "chat_member":
        user_id = value.get("user_id")
        if not isinstance(user_id, int) or user_id <= 0:
            raise bad_request("can't parse BotCommandScope: Invalid user_id specified")
        scope["user_id"] = user_id
    return scope


def _commands_key(world: World, request: ApiRequest) -> tuple[str, str]:
    """Where a command list is kept: (scope, language), e.g. ``("chat:42", "fr")``."""
    scope = _command_scope(request)
    if "chat_id" in scope:
        chat = chat_for(world, ApiRequest(args={"chat_id": str(scope["chat_id"])}), access="read")
        if scope["type"] == "chat_administrators" and chat.type == "private":
            raise bad_request("can't use specified scope in private chats")
    language = request.arg("language_code")
    if language and not (len(language) == 2 and language.isascii() and language.isalpha()):
        raise bad_request("invalid language code specified")
    kind = str(scope["type"])
    if "chat_id" in scope:
        kind += f":{scope['chat_id']}"
    if "user_id" in scope:
        kind += f":{scope['user_id']}"
    return kind, language.lower()


# -------------------------------------------------- name and descriptions --


def set_profile(name: str) -> Method:
    """The method setting the bot's ``name``, ``description`` or ``short_description``."""

    async def method(world: World, request: ApiRequest) -> bool:
        language = request.arg("language_code").lower()
        value = request.arg(name)
        if value:
            world.profile[(name, language)] = value
        else:
            world.profile.pop((name, language), None)
        return True

    return method


def get_profile(name: str) -> Method:
    """The method reading the bot's ``name``, ``description`` or ``short_description``."""

    async def method(world: World, request: ApiRequest) -> dict[str, str]:
        language = request.arg("language_code").lower()
        default = world.bot_name if name == "name" else ""
        value = world.profile.get((name, language)) or world.profile.get((name, ""), default)
        return {name: value}

    return method


async def set_chat_menu_button(world: World, request: ApiRequest) -> bool:
    value = request.json("menu_button", "can't parse menu button JSON object") or {
        "type": "default"
    }
    if not isinstance(value, dict) or value.get("type") not in ("default", "commands", "web_app"):
        raise bad_request("can't parse menu button: MenuButton has unsupported type")
    world.menu_buttons[to_integer(request.arg("chat_id"))] = value
    return True


async def get_chat_menu_button(world: World, request: ApiRequest) -> dict[str, Any]:
    chat_id = to_integer(request.arg("chat_id"))
    return world.menu_buttons.get(chat_id) or world.menu_buttons.get(0) or {"type": "commands"}


# ----------------------------------------------------------------- lookups --


async def get_chat(world: World, request: ApiRequest) -> dict[str, Any]:
    chat = chat_for(world, request, access="read")
    info = chat.as_chat()
    info.update(
        accent_color_id=0,
        max_reaction_count=11,
        accepted_gift_types={
            "unlimited_gifts": False,
            "limited_gifts": False,
            "unique_gifts": False,
            "premium_subscription": False,
            "gifts_from_channels": False,
        },
    )
    if chat.type in ("group", "supergroup"):
        info["permissions"] = {"can_send_messages": True}
    return info


async def get_chat_member(world: World, request: ApiRequest) -> dict[str, Any]:
    """The bot's own membership of a chat, or a private chat's person (the stand-in does
    not follow who else is in a group)."""
    chat = chat_for(world, request, access="read")
    user_id = to_integer(request.arg("user_id"))
    if user_id == world.bot_id:
        member: dict[str, Any] = {"status": chat.bot_status, "user": world.bot_user()}
    elif chat.user is not None and chat.user.id == user_id:
        member = {"status": "member", "user": chat.user.as_user()}
    else:
        raise bad_request("user not found")
    if member["status"] == "administrator":
        member.update(dict.fromkeys(_ADMINISTRATOR_RIGHTS, False), can_manage_chat=True)
        if chat.type == "channel":
            member.update(can_post_messages=True, can_edit_messages=True)
    elif member["status"] == "kicked":
        member["until_date"] = 0
    return member


_ADMINISTRATOR_RIGHTS = (
    "can_be_edited", "is_anonymous", "can_manage_chat", "can_delete_messages",
    "can_manage_video_chats", "can_restrict_members", "can_promote_members",
    "can_change_info", "can_invite_users", "can_post_stories", "can_edit_stories",
    "can_delete_stories",
)


async def get_file(world: World, request: ApiRequest) -> dict[str, Any]:
    file_id = request.arg("file_id")
    if not file_id:
        raise bad_request("file_id not specified")
    stored = world.files.by_id.get(file_id)
    if stored is None:
        raise bad_request("invalid file_id")
    if len(stored.data) > MAX_DOWNLOAD_SIZE:
        raise bad_request("file is too big")
    return stored.as_file()
