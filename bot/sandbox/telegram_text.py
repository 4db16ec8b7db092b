"""Message text the way the Telegram Bot API treats it.

Three steps happen to every text or caption a bot sends:

1. ``parse_mode`` markup is parsed into plain text plus entities
   (:func:`parse_html`); a syntax error is reported with Telegram's own
   wording and byte offsets, e.g. ``Unsupported start tag "p" at byte offset 0``.
2. The text is cleaned and trimmed (:func:`finish_text`): ``\\r`` and a few
   invisible characters are removed, other control characters become spaces,
   leading and trailing spaces and newlines go, entities are clipped to what is
   left, and whitespace-only entities are dropped.
3. Entities the client would highlight by itself (bot commands, mentions,
   hashtags, URLs, e-mail addresses) are added where no other entity is.

Offsets and lengths of entities count UTF-16 code units, as in the Bot API.
Entities are plain ``dict`` objects in their Bot API JSON shape.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

Entity = dict[str, Any]
UserLookup = Callable[[int], dict[str, Any] | None]

# Entities whose data lies outside the text (a URL, a user, an emoji id): Telegram
# keeps them even when they cover only whitespace.
HIDDEN_DATA_TYPES = frozenset({"text_link", "text_mention", "custom_emoji"})

_SUPPORTED_TAGS = frozenset(
    {
        "a", "b", "strong", "i", "em", "s", "strike", "del", "u", "ins",
        "tg-spoiler", "tg-emoji", "span", "pre", "code", "blockquote",
    }
)  # fmt: skip

_SIMPLE_TAG_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
}

# Telegram orders entities by offset, then longer first, then by this priority.
_TYPE_PRIORITY = {
    "blockquote": 0,
    "expandable_blockquote": 0,
    "pre": 11,
    "code": 20,
    "text_link": 49,
    "text_mention": 49,
    "bold": 90,
    "italic": 91,
    "underline": 92,
    "strikethrough": 93,
    "spoiler": 94,
    "custom_emoji": 99,
}

_ALLOWED_LINK_SCHEMES = frozenset({"http", "https", "tg", "ton", "tonsite"})


class EntityParseError(ValueError):
    """The markup of a text could not be parsed; ``str()`` is Telegram's wording."""


class EmptyTextError(ValueError):
    """Nothing but whitespace is left of a text that must not be empty."""


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units, the unit of entity offsets."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def sort_entities(entities: list[Entity]) -> None:
    """Put entities in the order the Bot API returns them."""
    entities.sort(key=lambda e: (e["offset"], -e["length"], _TYPE_PRIORITY.get(e["type"], 50)))


# --------------------------------------------------------------------- HTML ---


class _OpenTag:
    __slots__ = ("name", "argument", "offset", "start")

    def __init__(self, name: str, argument: str, offset: int, start: int) -> None:
        self.name = name
        self.argument = argument
        self.offset = offset  # UTF-16 offset in the output text
        self.start = start  # index in the output character list


class _HtmlParser:
    """One pass over Telegram's HTML subset, following the Bot API's rules."""

    def __init__(self, source: str, lookup_user: UserLookup | None) -> None:
        self.src = source
        self.pos = 0
        self.out: list[str] = []
        self.offset16 = 0
        self.stack: list[_OpenTag] = []
        self.entities: list[Entity] = []
        self.lookup_user = lookup_user

    # Telegram's parser works on a NUL-terminated UTF-8 string: the end of the
    # text reads as "\0", which also counts as whitespace.
    def ch(self, index: int | None = None) -> str:
        i = self.pos if index is None else index
        return self.src[i] if i < len(self.src) else "\0"

    def is_space(self, index: int | None = None) -> bool:
        return self.ch(index) in " \t\r\n\v\f\0"

    def byte_offset(self, index: int) -> int:
        return len(self.src[:index].encode("utf-8", "surrogatepass"))

    def fail(self, message: str) -> EntityParseError:
        return EntityParseError(message)

    def fail_at(self, message: str, begin: int) -> EntityParseError:
        return EntityParseError(f"{message} at byte offset {self.byte_offset(begin)}")

    def emit(self, text: str) -> None:
        self.out.append(text)
        self.offset16 += utf16_len(text)

    def parse(self) -> tuple[str, list[Entity]]:
        while self.pos < len(self.src):
            c = self.src[self.pos]
            if c == "&":
                decoded = _decode_char_reference(self.src, self.pos)
                if decoded is not None:
                    char, self.pos = decoded
                    self.emit(char)
                    continue
            if c != "<":
                self.emit(c)
                self.pos += 1
                continue
            if self.ch(self.pos + 1) == "/":
                self.end_tag()
            else:
                self.start_tag()
        if self.stack:
            raise self.fail(f"Can't find end tag corresponding to start tag {self.stack[-1].name}")
        for entity in self.entities:
            if entity["type"] == "code":
                entity.pop("language", None)
        sort_entities(self.entities)
        return "".join(self.out), self.entities

    def start_tag(self) -> None:
        begin = self.pos
        self.pos += 1
        while not self.is_space() and self.ch() != ">":
            self.pos += 1
        if self.pos >= len(self.src):
            raise self.fail_at("Unclosed start tag", begin)
        name = self.src[begin + 1 : self.pos].lower()
        if name not in _SUPPORTED_TAGS:
            raise self.fail_at(f'Unsupported start tag "{name}"', begin)

        argument = ""
        while self.ch() != ">":
            while self.pos < len(self.src) and self.is_space():
                self.pos += 1
            if self.ch() == ">":
                break
            attr_begin = self.pos
            while not self.is_space() and self.ch() not in "=>":
                self.pos += 1
            attr_name = self.src[attr_begin : self.pos]
            if not attr_name:
                raise self.fail_at(f'Empty attribute name in the tag "{name}"', begin)
            while self.pos < len(self.src) and self.is_space():
                self.pos += 1
            if self.ch() != "=":
                if name == "blockquote" and attr_name == "expandable":
                    argument = "1"
                    continue
                raise self.fail(
                    "Expected equal sign in declaration of an attribute of the tag "
                    f'"{name}" at byte offset {self.byte_offset(begin)}'
                )
            self.pos += 1
            while self.pos < len(self.src) and self.is_space():
                self.pos += 1
            if self.pos >= len(self.src):
                raise self.fail_at(f'Unclosed start tag "{name}"', begin)
            value = self.attribute_value()
            if self.pos >= len(self.src):
                raise self.fail_at("Unclosed start tag", begin)
            if name == "a" and attr_name == "href":
                argument = value
            elif name == "code" and attr_name == "class" and value.startswith("language-"):
                argument = value[len("language-") :]
            elif name == "span" and attr_name == "class" and value.startswith("tg-"):
                argument = value[len("tg-") :]
            elif name == "tg-emoji" and attr_name == "emoji-id":
                argument = value
        if name == "span" and argument != "spoiler":
            raise self.fail_at('Tag "span" must have class "tg-spoiler"', begin)
        self.pos += 1
        self.stack.append(_OpenTag(name, argument, self.offset16, len(self.out)))

    def attribute_value(self) -> str:
        quote = self.ch()
        if quote not in "'\"":
            # An unquoted name token: letters, digits, periods or hyphens.
            token_begin = self.pos
            while self.ch().isascii() and (self.ch().isalnum() or self.ch() in ".-"):
                self.pos += 1
            if not self.is_space() and self.ch() != ">":
                raise self.fail(
                    f"Unexpected end of name token at byte offset {self.byte_offset(token_begin)}"
                )
            return self.src[token_begin : self.pos].lower()
        self.pos += 1
        value: list[str] = []
        while self.pos < len(self.src) and self.src[self.pos] != quote:
            if self.src[self.pos] == "&":
                decoded = _decode_char_reference(self.src, self.pos)
                if decoded is not None:
                    char, self.pos = decoded
                    value.append(char)
                    continue
            value.append(self.src[self.pos])
            self.pos += 1
        if self.ch() == quote:
            self.pos += 1
        return "".join(value)

    def end_tag(self) -> None:
        begin = self.pos
        if not self.stack:
            raise self.fail_at("Unexpected end tag", begin)
        self.pos += 2
        while not self.is_space() and self.ch() != ">":
            self.pos += 1
        name = self.src[begin + 2 : self.pos].lower()
        while self.pos < len(self.src) and self.is_space():
            self.pos += 1
        if self.ch() != ">":
            raise self.fail_at("Unclosed end tag", begin)
        self.pos += 1
        open_tag = self.stack.pop()
        if name and name != open_tag.name:
            at = self.byte_offset(begin)
            raise self.fail(
                f'Unmatched end tag at byte offset {at}, expected "</{open_tag.name}>", '
                f'found "</{name}>"'
            )
        if self.offset16 > open_tag.offset:
            self.close_entity(open_tag)

    def close_entity(self, tag: _OpenTag) -> None:
        offset, length = tag.offset, self.offset16 - tag.offset
        base: Entity = {"offset": offset, "length": length}
        last = self.entities[-1] if self.entities else None
        same_range = last is not None and last["offset"] == offset and last["length"] == length
        if tag.name in _SIMPLE_TAG_TYPES:
            self.entities.append({"type": _SIMPLE_TAG_TYPES[tag.name], **base})
        elif tag.name == "tg-emoji":
            if not tag.argument.isdigit() or int(tag.argument) == 0:
                raise self.fail("Invalid custom emoji identifier specified")
            self.entities.append({"type": "custom_emoji", **base, "custom_emoji_id": tag.argument})
        elif tag.name == "a":
            url = tag.argument or "".join(self.out[tag.start :])
            entity = _link_entity(url, self.lookup_user)
            if entity is not None:
                self.entities.append({**entity, **base})
        elif tag.name == "pre":
            if last is not None and same_range and last["type"] == "code" and last.get("language"):
                last["type"] = "pre"
            else:
                self.entities.append({"type": "pre", **base})
        elif tag.name == "code":
            if last is not None and same_range and last["type"] == "pre" and tag.argument:
                last["language"] = tag.argument
            else:
                code: Entity = {"type": "code", **base}
                if tag.argument:
                    code["language"] = tag.argument  # dropped unless a <pre> wraps it
                self.entities.append(code)
        elif tag.name == "blockquote":
            kind = "expandable_blockquote" if tag.argument else "blockquote"
            self.entities.append({"type": kind, **base})


def _decode_char_reference(text: str, pos: int) -> tuple[str, int] | None:
    """Decode ``&lt;``, ``&gt;``, ``&amp;``, ``&quot;`` or ``&#NN;``/``&#xHH;`` at ``pos``.

    Returns the character and the position after the reference, or ``None`` when
    the ``&`` does not start a reference Telegram knows (it then stays as text).
    The closing ``;`` is optional, as in Telegram.
    """
    end = pos + 1
    if text[end : end + 1] == "#":
        end += 1
        if text[end : end + 1] == "x":
            end += 1
            digits_begin = end
            while end < len(text) and text[end] in "0123456789abcdefABCDEF":
                end += 1
            code = int(text[digits_begin:end], 16) if end > digits_begin else 0
        else:
            digits_begin = end
            while end < len(text) and text[end].isascii() and text[end].isdigit():
                end += 1
            code = int(text[digits_begin:end]) if end > digits_begin else 0
        if code == 0 or code >= 0x10FFFF or end - pos >= 10:
            return None
        char = chr(code)
    else:
        while end < len(text) and text[end].isascii() and text[end].isalpha():
            end += 1
        named = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}.get(text[pos + 1 : end])
        if named is None:
            return None
        char = named
    if text[end : end + 1] == ";":
        end += 1
    return char, end


def _link_entity(url: str, lookup_user: UserLookup | None) -> Entity | None:
    """The entity an ``<a href>`` becomes: a text mention, a text link or nothing."""
    mention = re.fullmatch(r"tg://user\?id=(\d+)", url.strip(), re.IGNORECASE)
    if mention is not None:
        user = lookup_user(int(mention.group(1))) if lookup_user else None
        return {"type": "text_mention", "user": user} if user is not None else None
    checked = check_link(url)
    return {"type": "text_link", "url": checked} if checked is not None else None


def check_link(url: str) -> str | None:
    """Normalize a link as Telegram does, or ``None`` if Telegram would refuse it."""
    url = url.strip()
    if not url or any(ch.isspace() for ch in url):
        return None
    if "://" not in url and not url.lower().startswith("tg:"):
        url = "http://" + url
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _ALLOWED_LINK_SCHEMES:
        return None
    if scheme in ("http", "https"):
        host = parts.hostname or ""
        if not host or not re.fullmatch(r"[\w.-]+", host) or host.startswith(".") or ".." in host:
            return None
        path = parts.path or "/"
        rebuilt = f"{scheme}://{parts.netloc.lower()}{path}"
        if parts.query:
            rebuilt += "?" + parts.query
        if parts.fragment:
            rebuilt += "#" + parts.fragment
        return rebuilt
    return url


# -------------------------------------------------------- cleaning, trimming ---

_REMOVED_CHARS = frozenset("\r\u2028\u2029\u202a\u202b\u202c\u202d\u202e\u030a\u0333\u033f")


def finish_text(
    text: str, entities: list[Entity], *, allow_empty: bool
) -> tuple[str, list[Entity]]:
    """Clean, trim and complete a parsed text as Telegram stores it.

    Raises :class:`EmptyTextError` if only whitespace is left and
    ``allow_empty`` is false.
    """
    text, entities = _clean(text, entities)
    entities = _drop_whitespace_entities(text, entities)
    stripped = text.rstrip(" \n")
    if not stripped:
        if allow_empty:
            return "", []
        raise EmptyTextError("text must be non-empty")

    end16 = utf16_len(stripped)
    clipped: list[Entity] = []
    for entity in entities:
        if entity["offset"] >= end16:
            continue
        clipped.append({**entity, "length": min(entity["length"], end16 - entity["offset"])})
    first_entity = min((e["offset"] for e in clipped), default=end16)
    lead = len(stripped) - len(stripped.lstrip(" \n"))
    lead = min(lead, first_entity)  # leading whitespace only up to the first entity
    text = stripped[lead:]
    for entity in clipped:
        entity["offset"] -= lead
    clipped.extend(_new_entities(text, clipped))
    sort_entities(clipped)
    return text, clipped


def _clean(text: str, entities: list[Entity]) -> tuple[str, list[Entity]]:
    """Remove ``\\r`` and invisible marks, turn control characters into spaces."""
    if not any(ch in _REMOVED_CHARS or ord(ch) < 32 and ch != "\n" for ch in text):
        return text, entities
    out: list[str] = []
    new_offset_at: list[int] = []  # old UTF-16 offset -> new UTF-16 offset
    new16 = 0
    for ch in text:
        width = 2 if ord(ch) > 0xFFFF else 1
        new_offset_at.extend([new16] * width)
        if ch in _REMOVED_CHARS:
            continue
        out.append(" " if ord(ch) < 32 and ch != "\n" else ch)
        new16 += width
    new_offset_at.append(new16)
    moved: list[Entity] = []
    for entity in entities:
        begin = new_offset_at[min(entity["offset"], len(new_offset_at) - 1)]
        end = new_offset_at[min(entity["offset"] + entity["length"], len(new_offset_at) - 1)]
        if end > begin:
            moved.append({**entity, "offset": begin, "length": end - begin})
    return "".join(out), moved


def _drop_whitespace_entities(text: str, entities: list[Entity]) -> list[Entity]:
    """Move visible entities past their leading whitespace; drop empty ones."""
    units = _utf16_units(text)
    kept: list[Entity] = []
    for entity in entities:
        if entity["type"] not in HIDDEN_DATA_TYPES:
            begin, end = entity["offset"], entity["offset"] + entity["length"]
            while begin < end and begin < len(units) and units[begin] in " \n":
                begin += 1
            if begin >= end or all(u in " \n" for u in units[begin:end]):
                continue
            entity = {**entity, "offset": begin, "length": end - begin}
        kept.append(entity)
    return kept


def _utf16_units(text: str) -> list[str]:
    """One item per UTF-16 code unit: the character, or "" for a low surrogate."""
    units: list[str] = []
    for ch in text:
        units.append(ch)
        if ord(ch) > 0xFFFF:
            units.append("")
    return units


# ------------------------------------------------------- automatic entities ---

_AUTO_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("bot_command", re.compile(
        r"(?<![\w/<>])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w/<>@])"
    )),
    ("email", re.compile(
        r"(?<![\w.+-])[A-Za-z0-9][\w.+-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b"
    )),
    ("url", re.compile(r"(?i)\b(?:https?://|www\.)[^\s<>\"]+[^\s<>\".,;:!?)\]'}]")),
    ("mention", re.compile(r"(?<![\w@])@[A-Za-z0-9_]{2,32}(?![\w@])")),
    ("hashtag", re.compile(r"(?<![\w#])#\w*[^\W\d_]\w*(?![\w#])")),
)  # fmt: skip


def find_entities(text: str) -> list[Entity]:
    """Entities Telegram detects in any text: commands, e-mails, URLs, mentions, hashtags."""
    found: list[Entity] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in _AUTO_PATTERNS:
        for match in pattern.finditer(text):
            begin, end = match.span()
            if any(begin < t_end and t_begin < end for t_begin, t_end in taken):
                continue
            taken.append((begin, end))
            offset = utf16_len(text[:begin])
            found.append({"type": kind, "offset": offset, "length": utf16_len(match.group())})
    sort_entities(found)
    return found


def _new_entities(text: str, existing: list[Entity]) -> list[Entity]:
    """Automatic entities that do not cross an entity the sender set."""
    spans = [
        (e["offset"], e["offset"] + e["length"])
        for e in existing
        if e["type"] in HIDDEN_DATA_TYPES or e["type"] in ("code", "pre")
    ]
    return [
        e
        for e in find_entities(text)
        if not any(e["offset"] < end and begin < e["offset"] + e["length"] for begin, end in spans)
    ]


# ---------------------------------------------------------- public helpers ---


def parse_html(source: str, lookup_user: UserLookup | None = None) -> tuple[str, list[Entity]]:
    """Parse Telegram's HTML subset into plain text and entities.

    ``lookup_user`` resolves ``tg://user?id=N`` links to a User object; links to
    users it does not know are dropped, as Telegram drops them.

    Raises :class:`EntityParseError` with Telegram's description of the error.
    """
    return _HtmlParser(source, lookup_user).parse()


def read_entities(value: Any, text: str) -> list[Entity]:
    """Validate entities a bot passed explicitly (``entities``/``caption_entities``).

    Raises :class:`EntityParseError` with Telegram's description (without the
    "can't parse" prefix the caller adds).
    """
    if not isinstance(value, list):
        return []
    size = utf16_len(text)
    result: list[Entity] = []
    for item in value:
        if not isinstance(item, dict):
            raise EntityParseError("expected an Object")
        for field in ("offset", "length"):
            if field not in item:
                raise EntityParseError(f'Can\'t find field "{field}"')
            if not isinstance(item[field], int) or isinstance(item[field], bool):
                raise EntityParseError(f'Field "{field}" must be of type Number')
        kind = item.get("type")
        if not isinstance(kind, str):
            raise EntityParseError('Can\'t find field "type"')
        if kind in ("mention", "hashtag", "cashtag", "bot_command", "url", "email",
                    "phone_number", "bank_card_number"):  # fmt: skip
            continue  # Telegram finds these itself
        entity: Entity = {"type": kind, "offset": item["offset"], "length": item["length"]}
        if kind == "text_link":
            if "url" not in item:
                raise EntityParseError('Can\'t find field "url"')
            checked = check_link(str(item["url"]))
            if checked is None:
                raise EntityParseError("Wrong HTTP URL")
            entity["url"] = checked
        elif kind == "text_mention":
            user = item.get("user")
            if not isinstance(user, dict) or "id" not in user:
                raise EntityParseError('Can\'t find field "user"')
            entity["user"] = user
        elif kind == "custom_emoji":
            if "custom_emoji_id" not in item:
                raise EntityParseError('Can\'t find field "custom_emoji_id"')
            entity["custom_emoji_id"] = str(item["custom_emoji_id"])
        elif kind == "pre" and item.get("language"):
            entity["language"] = str(item["language"])
        elif kind not in _TYPE_PRIORITY:
            raise EntityParseError("Unsupported type specified")
        if entity["length"] <= 0 or entity["offset"] < 0 or entity["offset"] >= size:
            continue
        entity["length"] = min(entity["length"], size - entity["offset"])
        result.append(entity)
    sort_entities(result)
    return result
