"""The languages of an XLSForm: which column holds which language, and the gaps.

A column such as ``label::English (en)`` gives its language as the code in
parentheses; without one, the name itself may be a code (``label::en``,
``label::eng``) or a language name in English or in the language itself
(``label::French``, ``label::العربية``, ``label::Krio``), as babel (CLDR) knows
them. A name nothing identifies (a regional language or a dialect:
``label::Sudanese Arabic``) is kept, with a warning, under a stable code made
from the name (:func:`derived_code`). Where the bot's language data has no
name for a language, the form's name for it is kept for the language menu
(:attr:`~bot.survey.model.Survey.language_names`). Columns that mean the same
language are merged. The unsuffixed columns (``label``) hold the default
language's texts: ``default_language`` from the settings sheet, else the only
other language of the form, else English.

:class:`FormLanguages` resolves them once for a form, then turns each
translatable value of pyxform's JSON into a :class:`~bot.survey.model.Translated`
and counts the texts each language lacks, reported once per language.
"""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping
from typing import Any

from babel import Locale, UnknownLocaleError, localedata
from babel.core import get_global

from bot.survey.model import Translated
from bot.survey.xlsform.workbook import (
    CHOICES,
    DEFAULT,
    MEDIA_KINDS,
    SETTINGS,
    SURVEY,
    Element,
    Read,
    Report,
    plain,
    snake,
)

_PARENTHESES = re.compile(r"^(.*?)\s*\(\s*([^()]*?)\s*\)$")
_CODE = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*$")


@functools.cache
def _aliases() -> Mapping[str, str]:
    aliases: Mapping[str, str] = get_global("language_aliases")
    return aliases


def _as_code(text: str) -> str | None:
    """The babel code a code stands for: ``en`` and ``eng`` → ``en``, ``pt-BR`` → ``pt_BR``."""
    if not _CODE.fullmatch(text):
        return None
    language, *rest = re.split(r"[-_]", text)
    subtags = [
        part.title() if len(part) == 4 else part.upper() if len(part) <= 3 else part
        for part in rest
    ]
    for candidate in (language.lower(), _aliases().get(language.lower())):
        if candidate is None:
            continue
        identifier = "_".join([candidate, *subtags])
        if localedata.exists(identifier):
            return identifier
    return None


@functools.cache
def _english_names() -> Mapping[str, str]:
    table: dict[str, str] = {}
    for code, name in Locale("en").languages.items():
        key = name.casefold()
        if localedata.exists(code) and (key not in table or len(code) < len(table[key])):
            table[key] = code
    return table


@functools.cache
def _own_names() -> Mapping[str, str]:
    """Each language's own name (``العربية`` → ``ar``), read once from every locale."""
    table: dict[str, str] = {}
    for code in localedata.locale_identifiers():
        if "_" in code:
            continue
        try:
            name = Locale.parse(code).languages.get(code)
        except (ValueError, UnknownLocaleError):
            continue
        if name:
            table.setdefault(name.casefold(), code)
    return table


@functools.cache
def _other_english_names() -> Mapping[str, str]:
    """English names of the languages CLDR names but babel has no locale for (``Krio`` → kri)."""
    table: dict[str, str] = {}
    for code, name in Locale("en").languages.items():
        key = name.casefold()
        if re.fullmatch(r"[a-z]{2,3}", code) and (key not in table or len(code) < len(table[key])):
            table[key] = code
    return table


@functools.cache
def language_code(name: str) -> str | None:
    """The language code an XLSForm language name stands for, or ``None``.

    The code in parentheses first (``English (en)``), then the name as a code
    (``en``, ``eng``, ``pt-BR``), then the name in English (``English``) or in
    the language itself (``العربية``, ``Français``), then the English name of a
    language babel has no locale for (``Krio`` → ``kri``).
    """
    text = " ".join(name.split())
    match = _PARENTHESES.match(text)
    if match:
        inside = match.group(2)
        code = _as_code(inside)
        if code:
            return code
        if _CODE.fullmatch(inside) and len(inside.split("-")[0].split("_")[0]) == 3:
            # a language babel does not know (Acoli (ach), Dinka (din)): the code is kept
            return inside.lower().replace("-", "_")
        text = match.group(1)
    if not text:
        return None
    key = text.casefold()
    return (_as_code(text) or _english_names().get(key) or _own_names().get(key)
            or _other_english_names().get(key))


def _given_name(name: str) -> str:
    """The name part of an XLSForm language name: ``Acoli (ach)`` → ``Acoli``."""
    text = " ".join(name.split())
    match = _PARENTHESES.match(text)
    return match.group(1) if match else text


LOCAL_USE = "qaa"  # ISO 639-2 reserves qaa–qtz for local use


def derived_code(name: str) -> str:
    """A stable code for a language nothing identifies, made from its name.

    ``Sudanese Arabic`` → ``qaa_sudanese_arabic``: ISO 639's code for local use
    and the name's first four words in ASCII, each cut to 8 characters (so the
    code stays a valid language tag and fits a button); a name without Latin
    letters gets a hash of itself instead.
    """
    folded = unicodedata.normalize("NFKD", name.casefold()).encode("ascii", "ignore").decode()
    words = [word[:8] for word in re.findall(r"[a-z0-9]+", folded) if len(word) >= 2][:4]
    if not words:
        words = [hashlib.sha256(" ".join(name.casefold().split()).encode()).hexdigest()[:8]]
    return "_".join([LOCAL_USE, *words])


def _language_label(code: str, names: Mapping[str, str] | None = None) -> str:
    try:
        name = Locale.parse(code).get_display_name("en")
    except (ValueError, UnknownLocaleError):
        name = (names or {}).get(code)
    return f"{name} ({code})" if name else code


_LEGACY = {
    "label": ("label", "caption"),
    "hint": ("hint",),
    "constraint_message": ("constraint_message", "constraining_message", "jr:constraintMsg"),
    "required_message": ("required_message", "requiredmsg", "jr:requiredMsg"),
}
_BIND_TEXTS = {"constraint_message": "jr:constraintMsg", "required_message": "jr:requiredMsg"}
_TRANSLATABLE_COLUMNS = frozenset({
    "label", "caption", "hint", "guidance_hint", "constraint_message", "constraining_message",
    "required_message", "requiredmsg", "jr:constraintmsg", "jr:requiredmsg", "media",
    "image", "big_image", "audio", "video",
})  # fmt: skip


def header_language(header: str, double_colon: bool) -> str | None:
    """The language part of a translatable column's header (``label::English (en)`` → …)."""
    header = " ".join(header.split())
    if double_colon or "::" in header:
        tokens = [t.strip() for t in header.split("::")]
        if len(tokens) == 1 and ":" in header:
            tokens = [t.strip() for t in header.split(":")]
    else:
        tokens = [t.strip() for t in header.split(":")]
        if "jr" in tokens:
            at = tokens.index("jr")
            tokens[at : at + 2] = [f"jr:{tokens[at + 1]}" if at + 1 < len(tokens) else "jr"]
    if snake(tokens[0]) == "media":
        tokens = tokens[1:]
    if len(tokens) >= 2 and snake(tokens[0]) in _TRANSLATABLE_COLUMNS and tokens[-1]:
        return tokens[-1]
    return None


def _walk_texts(element: Element) -> Iterator[Mapping[str, Any] | str]:
    """Every translatable value of a JSON element and of its choices and children."""
    for key in ("label", "hint"):
        if key in element:
            yield element[key]
    bind = element.get("bind")
    if isinstance(bind, Mapping):
        for key in _BIND_TEXTS.values():
            if key in bind:
                yield bind[key]
    media = element.get("media")
    if isinstance(media, Mapping):
        yield from media.values()
    for key, value in element.items():
        language = legacy_language(key)
        if language is not None and isinstance(value, str):
            yield {language: value}
    for child in (*element.get("choices", ()), *element.get("children", ())):
        if isinstance(child, Mapping):
            yield from _walk_texts(child)
    choices = element.get("choices")
    if isinstance(choices, Mapping):  # the survey's own list of lists
        for options in choices.values():
            for option in options:
                if isinstance(option, Mapping):
                    yield from _walk_texts(option)


@functools.lru_cache(maxsize=4096)
def legacy_language(key: str) -> str | None:
    """The language of a single-colon column pyxform left as it was (``label:English``)."""
    for names in (*_LEGACY.values(), MEDIA_KINDS):
        for name in names:
            if key.startswith(name + ":") and len(key) > len(name) + 1:
                return key[len(name) + 1 :].strip()
    return None


_GAP_KINDS = ("label", "hint", "constraint_message", "required_message", "choice label")
_GAP_WORDS = {
    "label": ("label", "labels"),
    "hint": ("hint", "hints"),
    "constraint_message": ("constraint message", "constraint messages"),
    "required_message": ("required message", "required messages"),
    "choice label": ("choice label", "choice labels"),
}

class FormLanguages:
    """The form's languages: each language key of pyxform's JSON as a code, the default first."""

    def __init__(self, read: Read, report: Report) -> None:
        self.read = read
        self.report = report
        self.default = "en"
        self.codes: tuple[str, ...] = ()
        self.by_key: dict[str, str | None] = {}  # language key in pyxform's JSON → code
        self.names: dict[str, str] = {}  # the form's names of languages babel cannot name
        self.gaps: dict[str, Counter[str]] = defaultdict(Counter)
        self.first_gap: dict[str, tuple[str, int]] = {}

    def resolve(self) -> None:
        """Find each language key's code and the default language, reporting what is unclear."""
        keys: list[str] = []
        for value in _walk_texts(self.read.form):
            for key in map(str, value) if isinstance(value, Mapping) else [DEFAULT]:
                if key not in keys:
                    keys.append(key)
        columns = self.columns()
        order = {name: i for i, name in enumerate(columns)}
        keys.sort(key=lambda k: order.get(" ".join(k.split()), len(order)))

        stated = plain(self.read.form.get("default_language"))
        stated = "" if stated == DEFAULT else stated
        for key in keys:
            if key == DEFAULT or key == stated:
                continue
            found = columns.get(" ".join(key.split())) or [(SURVEY, key)]
            self.by_key[key] = self.identify(key, *found[0])
        others: list[str] = []
        for key in keys:
            code = self.by_key.get(key)
            if code and code not in others:
                others.append(code)
        unsuffixed = any(  # generated texts (or_other's) do not count
            ":" not in header and snake(header) in _TRANSLATABLE_COLUMNS
            for sheet in (SURVEY, CHOICES) for header in self.read.headers.get(sheet, []))
        has_default_texts = (DEFAULT in keys and unsuffixed) or (stated != "" and stated in keys)

        default = self.identify(stated, SETTINGS, "default_language") if stated else None
        if default is None:
            why = "no default_language"
            if has_default_texts and not others:
                default = "en"
                self.report.warn(f"{why}: the form's texts are taken to be in "
                                 f"{_language_label(default)}; say which language they are in "
                                 "with default_language in the settings sheet", None,
                                 SETTINGS, field="default_language")
            elif has_default_texts:
                default = others[0] if len(others) == 1 else "en"
                self.report.warn(f"{why}: the columns without a language (label, hint, …) "
                                 f"are taken to be {_language_label(default)}"
                                 + (", the form's only other language" if len(others) == 1
                                    else "")
                                 + "; say so with default_language in the settings sheet",
                                 None, SETTINGS, field="default_language")
            else:
                default = "en" if "en" in others or not others else others[0]
                self.report.warn(f"{why}: {_language_label(default)} is taken as the default "
                                 "language (its texts fill the gaps of the others)", None,
                                 SETTINGS, field="default_language")
        self.default = default
        self.by_key[DEFAULT] = default
        if stated:
            self.by_key[stated] = default

        merged: dict[str, list[str]] = defaultdict(list)
        for key in keys:
            code = self.by_key.get(key)
            if code:
                merged[code].append(key)
        for code, names in merged.items():
            named = [n for n in names if n != DEFAULT]
            if len(named) > 1:
                listed = ", ".join(f"'{n}'" for n in named[:-1]) + f" and '{named[-1]}'"
                self.report.warn(f"the columns for {listed} are the same language, "
                                 f"{_language_label(code, self.names)}: their texts are merged "
                                 "(where both have one, the first column's is used)", None, None,
                                 language=code)
        self.codes = tuple(dict.fromkeys([default, *others]))

    def identify(self, key: str, sheet: str, header: str) -> str:
        """The code of a language key, keeping the form's name where babel has none."""
        code = language_code(key)
        name = _given_name(key)
        if code is None:
            code = derived_code(name)
            if code in self.names and self.names[code].casefold() == name.casefold():
                return code
            if code in self.names:
                code = f"{LOCAL_USE}_{hashlib.sha256(name.casefold().encode()).hexdigest()[:8]}"
            self.names[code] = name
            column = (f"'{header.split(':')[0]}::{key} (code)'" if sheet != SETTINGS
                      else f"'{key} (code)'")
            self.report.warn(f"'{key}' is not a language I can identify: its texts are kept as "
                             f"the language '{name}' (code '{code}'), shown so in the language "
                             "menu, with the bot's own messages in English; to give its code, "
                             f"write {column}", 1 if sheet != SETTINGS else None, sheet,
                             field=header)
        elif not localedata.exists(code) and code not in self.names:
            shown = f"'{name}'" if name else "its code"
            if name:
                self.names[code] = name
            self.report.warn(f"language '{key}': the bot's language data has no '{code}': the "
                             f"language menu shows {shown}, and the bot's own messages are in "
                             "English", 1 if sheet != SETTINGS else None, sheet, field=header)
        return code

    def columns(self) -> dict[str, list[tuple[str, str]]]:
        """Language name → the (sheet, column) where it appears, in column order."""
        found: dict[str, list[tuple[str, str]]] = {}
        for sheet in (SURVEY, CHOICES):
            headers = self.read.headers.get(sheet, [])
            double = any("::" in h for h in headers)
            for header in headers:
                language = header_language(header, double)
                if language is not None:
                    found.setdefault(language, []).append((sheet, header))
        return found

    def texts(self, value: Any, legacy: Mapping[str, str] | None = None) -> dict[str, str]:
        """A translatable JSON value as code → text (named columns before unsuffixed ones)."""
        pairs: list[tuple[str, Any]] = []
        if isinstance(value, Mapping):
            pairs.extend((str(k), v) for k, v in value.items())
        elif value is not None:
            pairs.append((DEFAULT, value))
        pairs.extend((legacy or {}).items())
        pairs.sort(key=lambda pair: pair[0] == DEFAULT)
        texts: dict[str, str] = {}
        for key, text in pairs:
            code = self.by_key.get(key)
            if code and code not in texts and plain(text):
                texts[code] = plain(text)
        return texts

    def translated(self, texts: Mapping[str, str]) -> Translated | None:
        """``texts`` as a translated text, falling back on the default language if it has one."""
        if not texts:
            return None
        default = self.default if self.default in texts else next(iter(texts))
        return Translated(dict(texts), default)

    def field_texts(self, element: Element, name: str) -> dict[str, str]:
        """The texts of one field (label, hint, …) of an element, its legacy columns included."""
        legacy = {
            language: plain(v)
            for key, v in element.items()
            if isinstance(v, str)
            for prefix in _LEGACY[name]
            if key.startswith(prefix + ":")
            and (language := key[len(prefix) + 1 :].strip())
        }
        if name in _BIND_TEXTS:
            bind = element.get("bind") or {}
            return self.texts(bind.get(_BIND_TEXTS[name]), legacy)
        return self.texts(element.get(name), legacy)

    def count_gaps(self, texts: Mapping[str, str], kind: str, sheet: str, row: int) -> None:
        """Count the languages a text given in some languages lacks (reported once, at the end)."""
        if not texts:
            return
        for language in self.codes:
            if language not in texts:
                self.gaps[language][kind] += 1
                self.first_gap.setdefault(language, (sheet, row))

    def report_gaps(self) -> None:
        """One warning per language with missing texts: how many of each kind, the first one."""
        for language in self.codes:
            counts = self.gaps.get(language)
            if not counts:
                continue
            parts = []
            for kind in _GAP_KINDS:
                if counts[kind]:
                    one, many = _GAP_WORDS[kind]
                    parts.append(f"{counts[kind]} {one if counts[kind] == 1 else many}")
            sheet, row = self.first_gap[language]
            fallback = (f"; the {_language_label(self.default, self.names)} text is shown "
                        "instead"
                        if language != self.default else "; another language's text is shown")
            self.report.warn(f"translations missing: {', '.join(parts)} (the first in sheet "
                             f"{sheet}, row {row}){fallback}", None, None, language=language)

