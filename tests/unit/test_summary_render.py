"""Summaries from plain aggregates: the protection rules, the caption and the chart."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import random
import re
import unicodedata
from dataclasses import replace
from pathlib import Path
from typing import Any

import arabic_reshaper
import bot.summary
import pytest
import yaml
from bidi import get_display
from bot.i18n import Catalogs, shipped_languages
from bot.sandbox.telegram_text import finish_text, parse_html, utf16_len
from bot.summary import (
    Block,
    BlockKind,
    CategoryKind,
    Chart,
    Summary,
    caption_length,
    chart_of,
    chart_text,
    draw_chart,
    drawable,
    native_text_layout,
    render_chart,
    render_text,
    summarize,
    summarize_question,
    summarized_questions,
)
from bot.survey.model import Survey
from matplotlib import font_manager
from matplotlib.font_manager import FontProperties
from matplotlib.ft2font import FT2Font
from matplotlib.textpath import TextToPath
from PIL import Image

from tests.unit.surveys import BASIC, survey_from

NOW = dt.datetime(2026, 11, 28, 10, 0, tzinfo=dt.UTC)
LANGUAGES = shipped_languages()
ARABIC = re.compile("[\u0600-\u06ff]")

# A consultation well under way: every block shows something.
ANSWERS = {
    "role": {"migrant": 40, "diaspora_member": 25, "civil_society": 12, "national_gov": 1,
             "media": 3, "other": 4, "academia": 6},
    "residence": {"DE": 20, "FR": 15, "KE": 10, "SN": 8, "FJ": 1, "MA": 9, "US": 6, "BR": 3,
                  "IN": 7, "TR": 12},
    "levels": {"local": 20, "local national": 10, "national": 8, "bilateral global": 1,
               "regional": 6},
    "issues": {"rights": 15, "rights vulnerable": 10, "development": 9, "data governance": 4,
               "shared_responsibility": 7},
    "inclusiveness": {"1": 3, "2": 8, "3": 10, "4": 12, "5": 7},
    "effectiveness": {"1": 1, "2": 3, "3": 20, "4": 15, "5": 6},
    "difficulties": {"no_funding": 12, "no_funding divided_debate": 9,
                     "no_trust legal_admin": 7, "other": 2, "none": 5, "language_culture": 6},
    "would_help": {"information funding": 10, "invitation": 7, "safe_voice": 3,
                   "training own_language": 8, "other": 2},
}


def shown(block: Block | None) -> dict[str, int] | None:
    if block is None:
        return None
    return {{CategoryKind.OTHER: "OTHER", CategoryKind.RANGE: f"{c.low}-{c.high}"}.get(
        c.kind, c.id): c.count for c in block.categories}


# --- the rules ---------------------------------------------------------------------------


@pytest.mark.parametrize(("counts", "expected"), [
    # the lone national government respondent cannot be recovered from the total
    ({"migrant": 6, "diaspora_member": 6, "civil_society": 5, "national_gov": 1},
     {"migrant": 6, "diaspora_member": 6, "OTHER": 6}),
    ({"migrant": 10, "media": 2, "academia": 2, "other": 1}, {"migrant": 10, "OTHER": 5}),
    ({"migrant": 5, "diaspora_member": 5}, {"migrant": 5, "diaspora_member": 5}),
    ({"migrant": 7, "retired_choice": 5}, {"migrant": 7, "OTHER": 5}),
    # a tie: the one later in the survey joins "Other"
    ({"migrant": 5, "diaspora_member": 5, "media": 3}, {"migrant": 5, "OTHER": 8}),
    ({"migrant": 10, "media": 4}, None),  # "Other" would need everybody: one category
    ({"migrant": 9}, None),
    ({"migrant": 3, "media": 1}, None),  # 4 answers
    ({}, None),
])
def test_one_answer_per_person(
    consultation: Survey, counts: dict[str, int], expected: dict[str, int] | None
) -> None:
    assert shown(summarize_question(consultation.question("role"), counts, 5)) == expected


def test_countries_become_regions(consultation: Survey) -> None:
    block = summarize_question(
        consultation.question("residence"), {"DE": 4, "FR": 3, "KE": 5, "FJ": 1, "XX": 1}, 5)
    # Europe 7, Sub-Saharan Africa 5, Oceania 1 and an unknown code 1: "Other" needs Africa
    assert shown(block) == {"150": 7, "OTHER": 7}


@pytest.mark.parametrize(("counts", "expected"), [
    ({"local": 6, "local national": 5, "bilateral global": 1}, {"local": 11, "national": 5}),
    ({"local": 6, "bilateral": 3, "global regional": 3}, {"local": 6, "OTHER": 6}),
    ({"local national": 6, "other": 5}, {"local": 6, "national": 6, "OTHER": 5}),
    ({"local": 9, "bilateral": 1}, None),
    ({"local": 4}, None),
])
def test_several_answers_per_person(
    consultation: Survey, counts: dict[str, int], expected: dict[str, int] | None
) -> None:
    block = summarize_question(consultation.question("levels"), counts, 5)
    assert shown(block) == expected
    if block is not None:
        assert block.kind is BlockKind.SELECTED and block.respondents == sum(counts.values())


@pytest.mark.parametrize(("counts", "expected", "mean"), [
    ({"1": 1, "3": 5, "4": 7, "5": 1}, {"1-3": 6, "4-5": 8}, 49 / 14),
    ({"1": 5, "3": 5, "5": 5}, {"1-2": 5, "3-3": 5, "4-5": 5}, 3.0),
    ({"1": 6, "3": 2, "5": 6}, {"1-3": 8, "4-5": 6}, 3.0),
    ({"2": 4, "4": 10}, {}, 48 / 14),  # the mean alone
    ({"3": 4}, None, None),
])
def test_scales(
    consultation: Survey, counts: dict[str, int], expected: dict[str, int] | None,
    mean: float | None,
) -> None:
    block = summarize_question(consultation.question("inclusiveness"), counts, 5)
    assert shown(block) == expected
    if block is not None:
        assert block.value == pytest.approx(mean)


def test_numbers_give_a_median(tmp_path: Path) -> None:
    basic = survey_from(BASIC, tmp_path)
    hours = basic.question("hours")
    assert summarize_question(hours, {"10": 2, "40": 3, "60": 1}, 5) == Block(
        "hours", BlockKind.MEDIAN, 6, (), 40.0)
    assert summarize_question(hours, {"10": 3, "20": 3}, 5) == Block(
        "hours", BlockKind.MEDIAN, 6, (), 15.0)
    assert summarize_question(hours, {"10": 3, "20": 1}, 5) is None
    assert summarize_question(basic.question("story"), {"a secret": 9}, 1) is None


@pytest.mark.parametrize("seed", range(40))
def test_no_category_ever_stands_for_fewer_than_k(consultation: Survey, seed: int) -> None:
    rng = random.Random(seed)
    k = rng.choice([2, 3, 5, 10])

    def spread(values: list[str]) -> dict[str, int]:
        return {v: rng.choice([0, 1, 1, 2, 3, 4, 5, 6, 9, 15]) for v in values}

    levels = [c.id for c in consultation.question("levels").choices]
    answers = {
        "role": spread([c.id for c in consultation.question("role").choices] + ["gone"]),
        "residence": spread(rng.sample(list(consultation.question("residence").choice_index), 25)),
        "levels": spread([" ".join(rng.sample(levels, rng.randint(1, 3))) for _ in range(8)]),
        "inclusiveness": spread(["1", "2", "3", "4", "5"]),
    }
    summary = summarize(consultation, 200, answers, NOW, k)
    for block in summary.blocks:
        counts = [c.count for c in block.categories]
        assert all(count >= k for count in counts), (block, k)
        if block.kind is BlockKind.SHARES:
            assert sum(counts) == block.respondents and len(counts) >= 2
        if block.kind is BlockKind.SELECTED:
            assert len(counts) >= 2
    summarized = {q.id for part in summarized_questions(consultation) for q in part}
    assert set(summary.withheld) <= summarized


def test_nothing_below_k_participants(consultation: Survey, long: Survey) -> None:
    assert summarize(consultation, 4, ANSWERS, NOW, 5) == Summary(consultation.id, NOW, 5, None)
    assert summarize(consultation, 5, ANSWERS, NOW, 5).participants == 5
    with pytest.raises(ValueError):
        summarize(consultation, 5, ANSWERS, NOW, 0)
    breakdowns, keys = summarized_questions(long)
    assert [q.id for q in breakdowns] == ["who", "country"]
    assert [q.id for q in keys][:3] == ["hours", "many0", "rate0"]


# --- the caption -------------------------------------------------------------------------


def telegram_length(html_text: str) -> int:
    """The caption's length as the Bot API counts it (as the local stand-in parses it)."""
    text, entities = parse_html(html_text)
    text, _ = finish_text(text, entities, allow_empty=False)
    return utf16_len(text)


@pytest.fixture(scope="module")
def long(tmp_path_factory: pytest.TempPathFactory) -> Survey:
    """A survey written without the caption in mind: long title, questions and labels
    (built once: a Survey is immutable)."""
    words = {"en": "partnership", "fr": "partenariat", "es": "alianza", "ar": "الشراكة"}

    def text(n: int, tag: str) -> dict[str, str]:
        return {lang: f"{tag} " + " ".join([word] * n) + " <&>" for lang, word in words.items()}

    def choices(n: int) -> list[dict[str, Any]]:
        return [{"id": f"c{i}", "label": text(14, f"#{i}")} for i in range(n)]

    questions: list[dict[str, Any]] = [
        {"id": "who", "type": "select_one", "breakdown": True, "text": text(30, "Who"),
         "choices": choices(12)},
        {"id": "country", "type": "select_one", "breakdown": True, "text": text(30, "Where"),
         "choices": "countries"},
        {"id": "story", "type": "text", "text": text(5, "Story")},
        {"id": "hours", "type": "integer", "key": True, "text": text(30, "Hours")},
    ]
    for n in range(6):
        questions.append({"id": f"many{n}", "type": "select_multiple", "key": True,
                          "text": text(30, f"Many {n}"), "choices": choices(10)})
        questions.append({"id": f"rate{n}", "type": "scale", "key": True, "min": 0, "max": 10,
                          "text": text(30, f"Rate {n}"), "min_label": text(8, "low"),
                          "max_label": text(8, "high")})
    data = {
        "id": "long", "version": "1", "default_language": "en", "languages": list(LANGUAGES),
        "title": text(40, "Title"), "introduction": text(3, "Intro"),
        "consent": {"notice": text(3, "Notice"), "details": text(3, "Details")},
        "questions": questions,
    }
    folder = tmp_path_factory.mktemp("long")
    return survey_from(yaml.safe_dump(data, allow_unicode=True), folder, "long.yaml")


def long_answers(survey: Survey) -> dict[str, dict[str, int]]:
    answers: dict[str, dict[str, int]] = {
        "who": {f"c{i}": 20 + i for i in range(12)},
        "country": {code: 9 for code in ("DE", "KE", "MA", "BR", "US", "TR", "KZ", "IN", "CN",
                                         "TH", "AU")},
        "story": {"a private story": 30},
        "hours": {"40": 50, "38": 20},
    }
    for n in range(6):
        answers[f"many{n}"] = {f"c{i} c{(i + 1) % 10}": 10 + i for i in range(10)}
        answers[f"rate{n}"] = {str(point): 7 for point in range(11)}
    return answers


@pytest.mark.parametrize("language", LANGUAGES)
def test_caption_fits_in_every_language(
    consultation: Survey, catalogs: Catalogs, long: Survey, language: str
) -> None:
    t = catalogs.get(language)
    builtin = render_text(summarize(consultation, 91, ANSWERS, NOW), consultation, t)
    assert telegram_length(builtin) == caption_length(builtin) <= 1024
    assert consultation.question("role").text.get(language) in builtin
    assert "<b>" in builtin and "More results in the chart." not in builtin

    summary = summarize(long, 300, long_answers(long), NOW)
    assert len(summary.blocks) == 15 and summary.withheld == ()
    text = render_text(summary, long, t)
    assert telegram_length(text) == caption_length(text) <= 1024
    assert "&lt;&amp;&gt;" in text or "…" in text
    assert "a private story" not in text
    assert t.gettext("More results in the chart.") in text

    waiting = render_text(summarize(consultation, 3, ANSWERS, NOW), consultation, t)
    assert telegram_length(waiting) < 200
    assert t.gettext("Results will be shared once enough people have answered.") in waiting
    if language != "en":  # the bot's own words are translated
        english = catalogs.get("en")
        assert english.gettext("More results in the chart.") not in text
        assert "participants so far" not in builtin


# --- the chart ---------------------------------------------------------------------------


def check_png(png: bytes) -> tuple[int, int]:
    """A valid PNG a phone shows well and Telegram accepts as a photo."""
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert 10_000 < len(png) < 1_500_000
    with Image.open(io.BytesIO(png)) as image:
        image.verify()
        width, height = image.size
    assert 800 <= width <= 1080 and 300 < height <= 8000 and width + height < 10_000
    return width, height


_TEXT_TO_PATH = TextToPath()
_DEJAVU = FT2Font(font_manager.findfont(FontProperties(family="DejaVu Sans")))
_MIRROR = {"(": ")", ")": "(", "[": "]", "]": "[", "«": "»", "»": "«", "<": ">", ">": "<"}


def assert_drawn_right_to_left_and_joined(text: str, given: str | None = None) -> None:
    """The glyphs matplotlib draws for ``text``, left to right, are Arabic joined and RTL.

    The reference is arabic_reshaper (contextual forms: initial, medial, final, or the
    plain letter alone) and python-bidi (visual order). ``given`` is what matplotlib
    gets (by default what the chart gives it).
    """
    given = chart_text(text) if given is None else given
    info, _, _ = _TEXT_TO_PATH.get_glyphs_with_font(_DEJAVU, given)
    space = _DEJAVU.get_char_index(ord(" "))
    drawn = [int(glyph.rsplit("-", 1)[1], 16)
             for glyph, *_ in sorted(info, key=lambda item: item[1])]
    drawn = [glyph for glyph in drawn if glyph != space]
    visual = [ch for ch in get_display(arabic_reshaper.reshape(text))
              if not ch.isspace() and unicodedata.category(ch) != "Cf"]
    assert len(drawn) == len(visual), text
    for glyph, ch in zip(drawn, visual, strict=True):
        allowed = {_DEJAVU.get_char_index(ord(ch)), _DEJAVU.get_char_index(ord(_MIRROR.get(ch,
                                                                                         ch)))}
        decomposition = unicodedata.decomposition(ch).split()
        if decomposition[:1] == ["<isolated>"] and len(decomposition) == 2:
            allowed.add(_DEJAVU.get_char_index(int(decomposition[1], 16)))
        assert glyph in allowed, (text, ch)


def chart_strings(chart: Chart) -> list[str]:
    strings = [chart.title, chart.subtitle, *chart.footer]
    for panel in chart.panels:
        strings += [panel.title, panel.note, *(bar.label for bar in panel.bars)]
    return strings


@pytest.mark.parametrize("language", LANGUAGES)
def test_chart_in_every_language(consultation: Survey, catalogs: Catalogs, language: str) -> None:
    t = catalogs.get(language)
    summary = summarize(consultation, 91, ANSWERS, NOW)
    chart = chart_of(summary, consultation, t)
    assert [p.title for p in chart.panels] == [
        consultation.question(b.question_id).text.get(language) for b in summary.blocks]
    assert chart.rtl == t.rtl
    strings = chart_strings(chart)
    assert consultation.question("role").choices[0].label.get(language) in strings
    png = render_chart(summary, consultation, t)
    width, height = check_png(png)
    assert width == 1080 and height < 3000
    if language == "ar":
        arabic = [s for s in strings if ARABIC.search(s)]
        assert len(arabic) > 30
        for text in arabic:
            assert_drawn_right_to_left_and_joined(text)


def test_a_language_no_installed_font_draws_gets_an_english_chart(
    consultation: Survey, catalogs: Catalogs, caplog: pytest.LogCaptureFixture,
) -> None:
    summary = summarize(consultation, 91, ANSWERS, NOW)
    invented = Chart("\U0001e900 title", "", (), (), False)  # Adlam: in no font here
    assert not drawable(invented)
    chinese = chart_of(summary, consultation, catalogs.get("zh"))
    if drawable(chinese):
        pytest.skip("this machine has a font that draws Chinese")
    drawn: list[Chart] = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bot.summary, "draw_chart", lambda chart: drawn.append(chart) or b"")
        render_chart(summary, consultation, catalogs.get("zh"))
    assert drawn[0].title == consultation.title.get("en") and drawable(drawn[0])
    assert "no installed font draws zh" in caplog.text


def test_arabic_reordered_beforehand_would_be_drawn_backwards() -> None:
    """Why chart_text leaves Arabic alone with this matplotlib (it shapes and reorders)."""
    assert native_text_layout()
    label = "حقوق الإنسان للمهاجرين"
    assert chart_text(label) == label
    assert_drawn_right_to_left_and_joined(label)
    prepared = chart_text(label, native=False)
    assert prepared == get_display(arabic_reshaper.reshape(label)) != label
    with pytest.raises(AssertionError):
        assert_drawn_right_to_left_and_joined(label, given=prepared)
    assert chart_text("Europe", native=False) == "Europe"


def test_chart_with_long_labels(catalogs: Catalogs, long: Survey) -> None:
    summary = summarize(long, 300, long_answers(long), NOW)
    chart = chart_of(summary, long, catalogs.get("ar"))
    assert len(chart.panels) == 15
    assert not any("a private story" in s for s in chart_strings(chart))
    some = replace(chart, panels=chart.panels[:5])  # wrapped the same, drawn faster
    check_png(draw_chart(some))


async def test_charts_render_one_at_a_time_in_threads(
    consultation: Survey, catalogs: Catalogs
) -> None:
    waiting = summarize(consultation, 2, ANSWERS, NOW)
    t = catalogs.get("fr")
    first, second = await asyncio.gather(asyncio.to_thread(render_chart, waiting, consultation, t),
                                         asyncio.to_thread(render_chart, waiting, consultation, t))
    assert first == second
    with Image.open(io.BytesIO(first)) as image:
        assert image.size[0] == 1080 and image.size[1] < 400
