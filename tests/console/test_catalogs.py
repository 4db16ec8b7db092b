"""The console's own words (gettext domain ``console``) are complete in its four languages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from bot.i18n import CONSOLE_DOMAIN, LOCALES, Catalogs, shipped_languages

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")
LANGUAGES = ("en", "fr", "es", "ar")
KEYWORDS = {"gettext": None, "ngettext": (1, 2), "N_": None, "_": None, "_n": (1, 2)}


def _first(message_id: str | tuple[str, ...]) -> str:
    return message_id if isinstance(message_id, str) else message_id[0]


def _template() -> set[str]:
    with (LOCALES / f"{CONSOLE_DOMAIN}.pot").open("rb") as handle:
        return {_first(m.id) for m in read_po(handle) if m.id}


def test_the_console_ships_in_four_languages() -> None:
    assert set(shipped_languages(domain=CONSOLE_DOMAIN)) == set(LANGUAGES)


def test_the_console_template_is_up_to_date_with_the_code() -> None:
    """Run the pybabel extract of docs/translations.md ("The web console") when this fails."""
    found = {_first(message) for _, _, message, _, _ in extract_from_dir(
        ROOT / "bot" / "console", method_map=[("**.py", "python"), ("**.html", "jinja2")],
        options_map={"**.html": {"trim_blocks": "true", "lstrip_blocks": "true"}},
        keywords=KEYWORDS)}
    assert found == _template()


@pytest.mark.parametrize("language", LANGUAGES)
def test_console_catalog_is_complete_and_placeholders_match(language: str) -> None:
    path = LOCALES / language / "LC_MESSAGES" / f"{CONSOLE_DOMAIN}.po"
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    present = {_first(m.id) for m in catalog if m.id}
    assert _template() - present == set(), f"{path}: missing entries"
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert not message.fuzzy, f"{path}: fuzzy: {ids[0]!r}"
        expected = set().union(*(PLACEHOLDER.findall(i) for i in ids))
        if len(ids) > 1:
            assert len(strings) == catalog.num_plurals, f"{path}: plural forms of {ids[0]!r}"
        for text in strings:
            assert text.strip(), f"{path}: untranslated: {ids[0]!r}"
            assert set(PLACEHOLDER.findall(text)) == expected, (
                f"{path}: placeholders differ in {ids[0]!r}: {text!r}")


def test_arabic_console_words_are_arabic_and_right_to_left() -> None:
    t = Catalogs.load(domain=CONSOLE_DOMAIN).get("ar")
    assert t.rtl
    assert re.search(r"[\u0600-\u06FF]", t.gettext("Overview"))
