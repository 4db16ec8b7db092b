"""Every participant-facing string is translated, in every shipped language."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from bot.i18n import FSI, LOCALES, PDI, Catalogs, is_rtl, shipped_languages
from bot.survey.model import Survey

ROOT = Path(__file__).resolve().parents[2]
CONSOLE = ROOT / "bot" / "console"
PLACEHOLDER = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")
SHIPPED = shipped_languages()
RIGHT_TO_LEFT = [language for language in SHIPPED if is_rtl(language)]


def _ids(message_id: str | tuple[str, ...]) -> tuple[str, ...]:
    return message_id if isinstance(message_id, tuple) else (message_id,)


def _template_ids() -> set[str]:
    with (LOCALES / "bot.pot").open("rb") as handle:
        return {_ids(m.id)[0] for m in read_po(handle) if m.id}


def _source_ids() -> set[str]:
    """Every literal passed to gettext()/ngettext() (or marked N_()) in the code, nested calls
    included."""
    found: set[str] = set()
    for folder in ("bot", "handlers"):
        for path in (ROOT / folder).rglob("*.py"):
            if CONSOLE in path.parents:
                continue  # the web console's words: their own domain (tests/console)
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Call) or not node.args:
                    continue
                name = getattr(node.func, "attr", getattr(node.func, "id", None))
                first = node.args[0]
                if name in ("gettext", "ngettext", "N_") and isinstance(first, ast.Constant) and \
                        isinstance(first.value, str):
                    found.add(first.value)
    return found


def test_pybabel_sees_every_string_the_code_uses() -> None:
    """A gettext() nested in another call's arguments is invisible to pybabel."""
    extracted: set[str] = set()
    for folder in ("bot", "handlers"):
        keywords = {"gettext": None, "ngettext": (1, 2), "N_": None}
        for _, _, message, _, _ in extract_from_dir(
            ROOT / folder, method_map=[("console/**", "ignore"), ("**.py", "python")],
            keywords=keywords
        ):
            extracted.add(message[0] if isinstance(message, tuple) else message)
    assert _source_ids() - extracted == set()


def test_the_template_is_up_to_date_with_the_code() -> None:
    """Run `pybabel extract` (see docs/translations.md) when this fails."""
    source, template = _source_ids(), _template_ids()
    assert source - template == set(), "strings in the code but not in locales/bot.pot"
    assert template - source == set(), "strings in locales/bot.pot no longer in the code"


def test_no_user_facing_string_hides_in_an_f_string() -> None:
    """pybabel cannot see gettext() calls inside f-strings."""
    pattern = re.compile(r"""f(["']).*?gettext\(""")
    for path in [*ROOT.joinpath("bot").rglob("*.py"), *ROOT.joinpath("handlers").rglob("*.py")]:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            assert not pattern.search(line), f"{path}:{number}"


def test_at_least_the_first_four_languages_ship() -> None:
    assert {"en", "fr", "es", "ar"} <= set(SHIPPED)


@pytest.mark.parametrize("language", SHIPPED)
def test_catalog_is_complete_and_placeholders_match(language: str) -> None:
    path = LOCALES / language / "LC_MESSAGES" / "bot.po"
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    assert catalog.locale is not None and str(catalog.locale).split("_")[0] == language
    header = path.read_text(encoding="utf-8").split("\n\n", 1)[0]
    assert "Plural-Forms:" in header, f"{path}: the header (with Plural-Forms) is missing"
    template = _template_ids()
    present = {_ids(m.id)[0] for m in catalog if m.id}
    assert template - present == set(), f"{path}: missing entries (run pybabel update)"
    for message in catalog:
        if not message.id:
            continue
        ids = _ids(message.id)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert not message.fuzzy, f"{path}: fuzzy: {ids[0]!r}"
        expected = set().union(*(PLACEHOLDER.findall(i) for i in ids))
        if len(ids) > 1:
            assert len(strings) == catalog.num_plurals, f"{path}: plural forms of {ids[0]!r}"
        for text in strings:
            assert text.strip(), f"{path}: untranslated: {ids[0]!r}"
            assert set(PLACEHOLDER.findall(text)) == expected, (
                f"{path}: placeholders differ in {ids[0]!r}: {text!r}")


def test_the_builtin_survey_languages_all_have_catalogs(consultation: Survey) -> None:
    assert set(consultation.languages) <= set(shipped_languages())


@pytest.mark.parametrize("language", RIGHT_TO_LEFT)
def test_right_to_left_languages_are_laid_out_so_and_really_translated(
    catalogs: Catalogs, language: str
) -> None:
    translator = catalogs.get(language)
    assert translator.rtl
    text = translator.gettext("Please choose your language.")
    assert re.search(r"[\u0600-\u06FF]", text)
    assert text != catalogs.get("en").gettext("Please choose your language.")
    for message in ("Send /start to begin.", "You can see your answers with /mydata and "
                    "delete them with /delete."):
        translated = translator.gettext(message)
        for command in re.findall(r"/[a-z]+", message):
            assert f"\u200e{command}" in translated, (language, message)


@pytest.mark.parametrize("language", RIGHT_TO_LEFT)
def test_embedded_values_are_isolated_in_right_to_left_text(
    catalogs: Catalogs, language: str
) -> None:
    text = catalogs.get(language).gettext("Question {k} of {n}", k=3, n=12)
    assert f"{FSI}" in text and f"{PDI}" in text
    english = catalogs.get("en").gettext("Question {k} of {n}", k=3, n=12)
    assert english == "Question 3 of 12"


def test_plural_forms_follow_the_language(catalogs: Catalogs) -> None:
    for language in SHIPPED:
        t = catalogs.get(language)
        one = t.ngettext("Your answer is too long: please keep it under {limit} character.",
                         "Your answer is too long: please keep it under {limit} characters.",
                         1, limit=1)
        many = t.ngettext("Your answer is too long: please keep it under {limit} character.",
                          "Your answer is too long: please keep it under {limit} characters.",
                          200, limit=200)
        assert "1" in one and "200" in many
