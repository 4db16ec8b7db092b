"""Summary figures from a real database filled the way the bot fills it, small cells protected."""

from __future__ import annotations

import datetime as dt

import bot.summary
import pytest
from bot.i18n import Catalogs, Translator
from bot.summary import (
    BlockKind,
    CategoryKind,
    Chart,
    Summary,
    build_summary,
    caption_length,
    chart_of,
    percent,
    render_chart,
    render_text,
)
from bot.survey.model import Survey
from storage.db import Database, insert, transaction
from storage.participants import delete_participant
from storage.summaries import count_answers, count_participants

from tests.data import NO_PARTNER, PARTNER, START, add_response, traced

# small-cell protection is Python over the same counts on both engines: SQLite only
SMALL_CELLS = pytest.mark.sqlite_only
NOW = START + dt.timedelta(days=3)
SECRET_STORY = "As the only minister from Fiji in this consultation"


# --- the aggregates ----------------------------------------------------------------------


async def test_aggregates_count_stored_values_of_consented_participants(
    db: Database, consultation: Survey
) -> None:
    await add_response(db, consultation, 1, PARTNER)
    await add_response(db, consultation, 2, PARTNER[:6])  # still answering
    await add_response(db, consultation, 3, NO_PARTNER, language="ar")
    await add_response(db, consultation, 4, ["migrant", "DE", None, "yes", "global"])
    await add_response(db, consultation, 5, ["media"])
    async with transaction(db) as tx:  # erased: counts nowhere
        await delete_participant(tx, 5)
    async with transaction(db) as tx:  # someone's response to another survey
        other = await insert(
            tx, "INSERT INTO responses (participant_id, survey_id, survey_version, "
            "language, started_at, updated_at) VALUES (1, 'other-survey', '1', "
            "'en', '2026-11-01T09:00:00Z', '2026-11-01T09:00:00Z') RETURNING id")
        await tx.execute("INSERT INTO answers VALUES (?, 'role', 'media', '1', "
                         "'2026-11-01T09:00:00Z')", (other,))

    async with traced(db) as statements:
        assert await count_participants(db, consultation.id) == 4
        counts = await count_answers(
            db, consultation.id, ["role", "residence", "origin", "levels", "would_help",
                                  "started"])

    assert counts == {
        "role": {"migrant": 3, "civil_society": 1},
        "residence": {"DE": 3, "KE": 1},
        "origin": {"SN": 1},  # the three skips (NULL) count nowhere
        "levels": {"local regional": 2, "global": 1},  # whole combinations
        "would_help": {"information funding": 1},
        "started": {"2015": 1},
    }
    assert len(statements) == 2, statements  # one aggregate query each, no row by row
    assert all("count(*)" in s for s in statements)
    assert "GROUP BY" in statements[1]
    assert await count_answers(db, consultation.id, []) == {}
    assert await count_participants(db, "nope") == 0


async def test_build_summary_reads_aggregates_only(
    db: Database, consultation: Survey
) -> None:
    for user in range(6):
        await add_response(db, consultation, 100 + user, PARTNER if user % 2 else NO_PARTNER)
    async with traced(db) as statements:
        summary = await build_summary(db, consultation, NOW)
    assert len(statements) == 2 and all("count(*)" in s for s in statements)
    assert summary.participants == 6
    assert summary.generated_at == NOW


# --- small cells -------------------------------------------------------------------------


def partner(role: str, country: str, levels: str, issues: str, inclusiveness: str,
            effectiveness: str, difficulties: str, story: str | None = None) -> list[str | None]:
    return [role, country, None, "yes", levels, "civil_society", issues, None, inclusiveness,
            effectiveness, None, difficulties, story]


def not_partner(role: str, country: str, would_help: str) -> list[str | None]:
    return [role, country, None, "no", would_help, None]


# 18 people. A naive summary would single out: the one national government respondent
# (and "Other" = 1 once the 5 from civil society are shown: recoverable from the total),
# the one person living in Oceania (Fiji), the one who chose "bilateral global" and
# "governance", the 4 who answered "what would help", and the one low score.
PEOPLE: list[list[str | None]] = [
    *[partner("migrant", country, "local national", "rights vulnerable", "4", "4",
              "no_funding divided_debate") for country in ("DE", "FR", "IT", "ES", "DE")],
    partner("migrant", "FR", "local", "rights", "4", "4", "no_funding"),
    partner("diaspora_member", "GB", "local", "rights", "4", "4", "no_funding"),
    *[partner("diaspora_member", country, "local", "development", score, "4", "no_funding")
      for country, score in (("NL", "3"), ("SE", "3"), ("DE", "5"))],
    not_partner("diaspora_member", "KE", "information"),
    not_partner("diaspora_member", "SN", "information funding"),
    *[partner("civil_society", country, "regional local", "data", "3", "2", "no_trust")
      for country in ("KE", "NG", "GH")],
    not_partner("civil_society", "BE", "safe_voice"),
    not_partner("civil_society", "PT", "information"),
    partner("national_gov", "FJ", "bilateral global", "governance", "1", "2", "other",
            SECRET_STORY),
]


@pytest.fixture
async def crowd(db: Database, consultation: Survey) -> Database:
    for number, inputs in enumerate(PEOPLE):
        await add_response(db, consultation, 1000 + number, inputs, minutes_per_answer=0.1)
    return db


def categories(summary: Summary, question: str) -> dict[str, int]:
    """``{choice id, region code or "OTHER" or "low-high": count}`` of one block."""
    for block in summary.blocks:
        if block.question_id == question:
            found = {}
            for c in block.categories:
                key = {CategoryKind.OTHER: "OTHER",
                       CategoryKind.RANGE: f"{c.low}-{c.high}"}.get(c.kind, c.id)
                found[key] = c.count
            return found
    raise KeyError(question)


def chart_values(summary: Summary, survey: Survey, t: Translator,
                 monkeypatch: pytest.MonkeyPatch) -> Chart:
    """The chart render_chart draws (caught on its way to the drawing)."""
    drawn: list[Chart] = []
    monkeypatch.setattr(bot.summary, "draw_chart", lambda chart: drawn.append(chart) or b"")
    render_chart(summary, survey, t)
    monkeypatch.undo()
    assert drawn == [chart_of(summary, survey, t)]
    return drawn[0]


def chart_strings(chart: Chart) -> str:
    parts = [chart.title, chart.subtitle, *chart.footer]
    for panel in chart.panels:
        parts += [panel.title, panel.note, *(f"{b.label} {b.percent}" for b in panel.bars)]
    return "\n".join(parts)


@SMALL_CELLS
async def test_no_figure_describes_fewer_than_k_people(
    crowd: Database, consultation: Survey, catalogs: Catalogs, monkeypatch: pytest.MonkeyPatch
) -> None:
    t = catalogs.get("en")
    summary = await build_summary(crowd, consultation, NOW, k=5)
    assert summary.participants == 18

    # one answer per person: small categories merged until "Other" holds 5 or more
    assert categories(summary, "role") == {"migrant": 6, "diaspora_member": 6, "OTHER": 6}
    assert categories(summary, "residence") == {"150": 12, "OTHER": 6}  # regions, no country
    # several answers per person: "bilateral", "global", "regional" hidden, and the 4 who
    # picked one of them are too few for an "Other answers" bar
    assert categories(summary, "levels") == {"local": 13, "national": 5}
    assert categories(summary, "issues") == {"rights": 7, "vulnerable": 5, "OTHER": 7}
    assert categories(summary, "difficulties") == {"no_funding": 10, "divided_debate": 5}
    # scales: the lone "1" merged into its neighbour; 4 low scores leave the mean alone
    assert categories(summary, "inclusiveness") == {"1-3": 6, "4-5": 8}
    assert categories(summary, "effectiveness") == {}
    assert [b.value for b in summary.results if b.kind is BlockKind.SCALE] == [
        pytest.approx(49 / 14), pytest.approx(48 / 14)]
    # 4 people answered "what would help": withheld
    assert summary.withheld == ("would_help",)
    assert "would_help" not in {b.question_id for b in summary.blocks}

    for block in summary.blocks:
        for category in block.categories:
            assert category.count >= 5, (block.question_id, category)
        if block.kind is BlockKind.SHARES:  # the total minus the shown leaves 0 or ≥ 5
            assert sum(c.count for c in block.categories) == block.respondents

    hidden = [
        "National government or ministry", "Civil society or NGO", "Oceania", "Fiji",
        "Sub-Saharan Africa", "Bilateral", "Global (whole world)", "Regional (nearby",
        "Migration rules and management", "What would help you", "Information about",
        "Speaking up", SECRET_STORY,
    ]
    text = render_text(summary, consultation, t)
    chart = chart_values(summary, consultation, t, monkeypatch)
    drawn = chart_strings(chart)
    for words in hidden:
        assert words not in text, words
        assert words not in drawn, words
    assert caption_length(text) <= 1024
    for panel in chart.panels:
        for bar in panel.bars:
            assert bar.count >= 5 and bar.percent == percent(t, bar.share), (panel.title, bar)

    # the same data with k = 1: everything the protection hid would have been shown
    naive = await build_summary(crowd, consultation, NOW, k=1)
    assert categories(naive, "role") == {
        "migrant": 6, "diaspora_member": 6, "civil_society": 5, "national_gov": 1}
    assert categories(naive, "residence") == {"150": 12, "202": 5, "009": 1}
    assert categories(naive, "levels") == {
        "local": 13, "national": 5, "regional": 3, "bilateral": 1, "global": 1}
    assert categories(naive, "effectiveness") == {"1-3": 4, "4-5": 10}
    assert naive.withheld == ()
    naive_drawn = chart_strings(chart_values(naive, consultation, t, monkeypatch))
    for words in hidden:
        if words not in ("Fiji", SECRET_STORY):  # countries and free text: never
            assert words in naive_drawn, words
    naive_text = render_text(naive, consultation, t)
    assert "What would help you" in naive_text and "Information about" in naive_text
    assert SECRET_STORY not in naive_drawn + naive_text


@SMALL_CELLS
async def test_nothing_is_published_below_k_participants(
    db: Database, consultation: Survey, catalogs: Catalogs, monkeypatch: pytest.MonkeyPatch
) -> None:
    for number, inputs in enumerate(PEOPLE[:4]):
        await add_response(db, consultation, 2000 + number, inputs, minutes_per_answer=0.1)
    summary = await build_summary(db, consultation, NOW, k=5)
    assert not summary.published and summary.participants is None
    assert summary.blocks == () and summary.withheld == ()
    for language in ("en", "ar"):
        t = catalogs.get(language)
        text = render_text(summary, consultation, t)
        chart = chart_values(summary, consultation, t, monkeypatch)
        assert chart.panels == ()
        assert not any(ch.isdigit() for ch in text + chart_strings(chart))
    assert "enough people" in render_text(summary, consultation, catalogs.get("en"))
    assert (await build_summary(db, consultation, NOW, k=4)).participants == 4
