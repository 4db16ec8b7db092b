"""Long texts cut the way Telegram counts them, never inside a tag or an entity."""

from __future__ import annotations

import html
import re

import pytest
from bot.i18n import RLM
from handlers.render.html import shorten, split, units, visible_length


def balanced(markup: str) -> bool:
    stack: list[str] = []
    for closing, name in re.findall(r"<(/?)([a-z]+)>", markup):
        if closing:
            if not stack or stack.pop() != name:
                return False
        else:
            stack.append(name)
    return not stack


def plain(markup: str) -> str:
    return html.unescape(re.sub(r"<[^>]*>", "", markup))


SENTENCES = {
    "en": "Partners & friends <colleagues> work together on migration. ",
    "fr": "Les partenaires & amis <collègues> travaillent ensemble sur la migration. ",
    "es": "Los socios & amigos <colegas> trabajan juntos en la migración. ",
    "ar": "يعمل الشركاء والأصدقاء <الزملاء> معا في مجال الهجرة & التنقل. ",
    "emoji": "Migration 🌍 & partnership 🤝 everywhere. ",
}


@pytest.mark.parametrize("language", SENTENCES)
@pytest.mark.parametrize("breaks", ["\n\n", "\n", " ", ""])
def test_every_part_fits_keeps_its_tags_and_loses_nothing(language: str, breaks: str) -> None:
    sentence = html.escape(SENTENCES[language], quote=False)
    body = breaks.join([sentence] * 160)
    markup = f"{RLM}<i>Question 1 of 3</i>\n<b>{body}</b>\n<i>{body}</i>"
    parts = split(markup)
    assert len(parts) > 2
    for part in parts:
        assert visible_length(part) <= 4096
        assert balanced(part), part[:80]
        assert part.startswith(RLM)
        assert not re.search(r"&[a-z]*$", part.split("<")[0]) and "&am<" not in part
    joined = "".join(plain(p).replace(RLM, "") for p in parts)
    expected = plain(markup).replace(RLM, "")
    squeeze = re.compile(r"\s+")
    assert squeeze.sub("", joined) == squeeze.sub("", expected)


def test_a_paragraph_break_in_the_second_half_is_preferred() -> None:
    first = "a" * 3000
    second = "b" * 3000
    parts = split(f"{first} word\n\n{second}")
    assert parts[0] == f"{first} word" and parts[1] == second


def test_entities_count_as_one_character() -> None:
    markup = "&amp;" * 4096
    assert split(markup) == [markup]
    assert [visible_length(p) for p in split(markup + "&lt;")] == [4096, 1]


def test_emoji_count_as_two_units() -> None:
    assert units("🌍") == 2
    parts = split("🌍" * 3000)
    assert [units(p) for p in parts] == [4096, 1904]


def test_shorten_keeps_whole_words() -> None:
    assert shorten("one two three four", 12) == "one two…"
    assert shorten("short", 12) == "short"
