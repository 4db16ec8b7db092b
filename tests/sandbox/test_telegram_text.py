"""Message text as Telegram treats it: HTML parsing, its errors, cleaning and trimming."""

from __future__ import annotations

from typing import Any

import pytest
from bot.sandbox.telegram_text import EntityParseError, finish_text, parse_html


@pytest.mark.parametrize(
    ("source", "text", "entities"),
    [
        (
            "<b>bold</b> <i>it</i>",
            "bold it",
            [
                {"type": "bold", "offset": 0, "length": 4},
                {"type": "italic", "offset": 5, "length": 2},
            ],
        ),
        ("\U0001f600 <u>x</u>", "\U0001f600 x", [{"type": "underline", "offset": 3, "length": 1}]),
        ("a &lt;b&gt; &amp; &quot; &#1575; &#x41; &unknown;", 'a <b> & " \u0627 A &unknown;', []),
        (
            "<b>bold <i>both</i></b>",
            "bold both",
            [
                {"type": "bold", "offset": 0, "length": 9},
                {"type": "italic", "offset": 5, "length": 4},
            ],
        ),
        (
            '<pre><code class="language-python">x = 1</code></pre>',
            "x = 1",
            [{"type": "pre", "offset": 0, "length": 5, "language": "python"}],
        ),
        (
            '<a href="example.org">site</a>',
            "site",
            [{"type": "text_link", "offset": 0, "length": 4, "url": "http://example.org/"}],
        ),
        (
            '<span class="tg-spoiler">s</span><tg-spoiler>t</tg-spoiler>',
            "st",
            [
                {"type": "spoiler", "offset": 0, "length": 1},
                {"type": "spoiler", "offset": 1, "length": 1},
            ],
        ),
        (
            "<blockquote expandable>q</blockquote>",
            "q",
            [{"type": "expandable_blockquote", "offset": 0, "length": 1}],
        ),
        ("<B>up</B >", "up", [{"type": "bold", "offset": 0, "length": 2}]),
    ],
)
def test_html_is_parsed_like_telegram(
    source: str, text: str, entities: list[dict[str, Any]]
) -> None:
    assert parse_html(source) == (text, entities)


@pytest.mark.parametrize(
    ("source", "error"),
    [
        ("<p>x</p>", 'Unsupported start tag "p" at byte offset 0'),
        ("\u00e9t\u00e9 <br>", 'Unsupported start tag "br" at byte offset 6'),
        ("x </b>", "Unexpected end tag at byte offset 2"),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("<b>x", "Can't find end tag corresponding to start tag b"),
        ("a <b", "Unclosed start tag at byte offset 2"),
        ('<a href="x">y</a', "Unclosed end tag at byte offset 13"),
        (
            "<a href>x</a>",
            'Expected equal sign in declaration of an attribute of the tag "a" at byte offset 0',
        ),
        ('<span class="x">y</span>', 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ("2 < 3", 'Unsupported start tag "" at byte offset 2'),
    ],
)
def test_html_errors_have_telegrams_wording(source: str, error: str) -> None:
    with pytest.raises(EntityParseError) as caught:
        parse_html(source)
    assert str(caught.value) == error


def test_text_is_cleaned_and_trimmed_like_telegram() -> None:
    text, entities = finish_text("\n  <x>\r\n\t\u202bmarhaba\u202c  \n", [], allow_empty=False)
    assert text == "<x>\n marhaba"
    text, entities = finish_text(
        "  hi /start", [{"type": "bold", "offset": 2, "length": 9}], allow_empty=False
    )
    assert text == "hi /start"
    assert entities == [
        {"type": "bold", "offset": 0, "length": 9},
        {"type": "bot_command", "offset": 3, "length": 6},
    ]
