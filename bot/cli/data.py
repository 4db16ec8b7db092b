"""Commands that read the consultation: ``stats``, ``export``, ``summary``, ``survey check``."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

from bot.cli.common import (
    Refused,
    existing_database,
    load_configured_survey,
    now,
    survey_language,
    with_database,
)
from bot.config import Config, env_name
from bot.survey.model import Survey, Translated

if TYPE_CHECKING:
    from storage.db import Database

    from bot.summary import Summary


def cmd_stats(args: argparse.Namespace, config: Config) -> int:
    """Print the consultation's figures: as text in a language, or as JSON for programs."""
    from bot.figures import as_json, as_text, figures_of
    from bot.i18n import Catalogs

    survey = load_configured_survey(config)
    language = survey_language(survey, args.language, "--language")
    moment = now()
    figures = with_database(config, lambda db: figures_of(db, survey, moment))
    if args.json:
        print(json.dumps(as_json(survey, figures, moment), ensure_ascii=False, indent=2))
    else:
        print(as_text(Catalogs.load().get(language), survey, figures, moment))
    return 0


def _parse_since(text: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise Refused(f"--since: {text!r} is not a date (use YYYY-MM-DD)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def cmd_export(args: argparse.Namespace, config: Config) -> int:
    """Write every response to a file (CSV, XLSX, JSON, SAV or DTA); people appear only as
    codes."""
    from bot.exports import ExportError, ExportOptions, write_export

    survey = load_configured_survey(config)
    database = existing_database(config)
    since = _parse_since(args.since) if args.since else None
    secret = config.secret or asyncio.run(_stored_secret(database))
    options = ExportOptions(format=args.format, survey_id=args.survey, since=since,
                            labels=args.labels, completed_only=args.completed_only,
                            delimiter=args.delimiter, kobo_names=args.kobo_names)
    try:
        result = write_export(database, Path(args.out), survey, options, secret, now())
    except ExportError as exc:
        raise Refused(str(exc)) from None
    print(f"{result.rows} responses written to {result.path} ({result.bytes} bytes)")
    for companion in result.files[1:]:
        print(f"and {companion} ({companion.stat().st_size} bytes)")
    return 0


async def _stored_secret(database: Path | str) -> str:
    """The export secret kept in the database (created there the first time)."""
    from storage.db import connect
    from storage.settings import PSEUDONYM_SECRET, get_or_create_setting

    db = await connect(database)
    try:
        return await get_or_create_setting(db, PSEUDONYM_SECRET, secrets.token_hex(32))
    finally:
        await db.close()


def why_no_figure(summary: Summary) -> str:
    """Why small-cell protection withholds every figure of ``summary``."""
    k = f"{summary.k} ({env_name('small_cell')})"
    if not summary.published:
        return f"fewer than {k} people have taken part so far"
    if summary.withheld:
        return (f"each question it covers has fewer than {k} answers so far "
                f"({', '.join(summary.withheld)})")
    return ("the survey has no question a summary shows (mark choice, scale or number "
            "questions 'key: true' or 'breakdown: true')")


def cmd_summary(args: argparse.Namespace, config: Config) -> int:
    """Show the summary a broadcast would send now, as recipients in one language get it:
    its text printed here, its chart written to a PNG file with --out."""
    from bot.i18n import Catalogs
    from bot.rounds import current_summary, render_for
    from bot.summary import plain_text

    survey = load_configured_survey(config)
    language = survey_language(survey, args.language, "--language")
    existing_database(config)
    out = Path(args.out) if args.out else None
    if out is not None:
        _check_writable(out)
    t = Catalogs.load().get(language)

    async def preview(db: Database) -> tuple[Summary, str, bytes]:
        summary = await current_summary(db, survey, config, now())
        text, chart = await render_for(summary, survey, t)
        return summary, text, chart

    summary, text, chart = with_database(config, preview)
    print(plain_text(text))
    print()
    if out is not None:
        out.write_bytes(chart)
        print(f"chart written to {out}")
    else:
        print("chart not written (give --out FILE.png to see it)")
    if not summary.shows_figures:
        print(f"this summary shows no figure yet: {why_no_figure(summary)}; "
              "`consultbot broadcast` sends it only with --force")
    return 0


def _check_writable(out: Path) -> None:
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("ab"):
            pass
    except OSError as exc:
        raise Refused(f"--out {out}: cannot write there: {exc.strerror}") from None


def bot_words(survey: Survey) -> list[str]:
    """For each survey language the bot has no words in, which language its own texts
    (consent buttons, hints, errors) will appear in."""
    from bot.i18n import Catalogs, language_name

    catalogs = Catalogs.load().with_fallbacks(survey.bot_language)
    lines = []
    for language in survey.languages:
        words = catalogs.words_for(language)
        if words == language or words == language.split("-")[0].split("_")[0]:
            continue
        how = ("as bot_language says" if language in survey.bot_language else
               "by default; bot_language in the survey can choose another")
        lines.append(f"language '{language}': the bot's own words (buttons, hints, errors) "
                     f"appear in {language_name(words)} ({words}), {how}")
    return lines


def cmd_survey_check(args: argparse.Namespace, config: Config) -> int:
    """Check a survey file and print every problem with its line, question, field and
    language. Exit status 0: the bot can use it (warnings allowed); 1: it has errors."""
    from bot.survey.loader import check_survey

    path = Path(args.file)
    survey, problems = check_survey(path)
    for problem in problems:
        print(problem)
    errors = [p for p in problems if p.severity == "error"]
    gaps: dict[str, int] = {}
    for problem in problems:
        if problem.message == "translation missing" and problem.language:
            gaps[problem.language] = gaps.get(problem.language, 0) + 1
    for language, count in sorted(gaps.items()):
        print(f"{path}: {count} missing translation(s) in '{language}'")
    warnings = len(problems) - len(errors)
    if survey is not None:
        for line in bot_words(survey):
            print(f"{path}: {line}")
        asked = sum(1 for q in survey.questions if q.asks)
        print(f"{path}: survey '{survey.id}' version {survey.version}: {asked} questions in "
              f"{', '.join(survey.languages)}; {warnings} warning(s)")
        return 0
    print(f"{path}: {len(errors)} error(s), {warnings} warning(s)")
    return 1


def cmd_translations(args: argparse.Namespace, config: Config) -> int:
    """How complete each language is: the bot's own words (its gettext catalogs) and the
    built-in consultation's texts. Exit status 1 if any language misses something."""
    from bot.i18n import completeness, language_name
    from bot.survey.loader import BUILTIN_SURVEY, load_survey

    builtin, _ = load_survey(BUILTIN_SURVEY)
    texts = [t for t in _texts(builtin)]
    missing = 0
    for found in completeness():
        survey_texts = sum(1 for text in texts if text.has(found.language))
        gaps = (found.total - found.translated) + (len(texts) - survey_texts)
        missing += gaps
        state = "complete" if gaps == 0 else f"{gaps} missing"
        fuzzy = f", {found.fuzzy} fuzzy" if found.fuzzy else ""
        print(f"{found.language}\t{language_name(found.language)}\tbot {found.translated}/"
              f"{found.total}{fuzzy}\tconsultation {survey_texts}/{len(texts)}\t{state}")
    return 1 if missing else 0


def _texts(survey: Survey) -> list[Translated]:
    """Every translatable text of a survey."""
    found = [t for t in (survey.title, survey.introduction, survey.consent_notice,
                         survey.consent_details, survey.closing) if t is not None]
    for question in survey.questions:
        found.extend(t for t in (question.text, question.hint, question.constraint_message,
                                 question.required_message, question.min_label,
                                 question.max_label) if t is not None)
        if question.sort_choices:
            continue  # countries: named by CLDR in every language
        found.extend(choice.label for choice in question.choices)
    return found
