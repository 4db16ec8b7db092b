"""Exports analysts can use at once: CSV, XLSX, JSON, SPSS (``.sav``) and Stata (``.dta``).

One row per response, and for a survey with repeats one table per repeat with a
row per round, linked to its response as KoboToolbox links them (``_index``,
``_parent_index``: see :mod:`~bot.exports.tables`): a sheet each (XLSX), a file
each (CSV, SAV, DTA), nested in their response (JSON). Participants and
responses appear only under keyed codes (``bot.pseudonyms``), the same in every
export made with the same secret, never their Telegram user id or row id.
Answers to questions that are not relevant (given the response's other answers)
are left empty. Questions no longer in the
survey file keep their data, in columns after the current ones, marked in the
codebook as from an earlier version. Every format carries the codebook: a sheet
(XLSX), a key (JSON), a CSV file beside the data or with it in a zip (CSV, SAV,
DTA).

Everything here is synchronous and streams the responses from the database in
one read (a consistent snapshot while the bot goes on writing); CSV, XLSX and
JSON write rows as they come, so memory stays flat whatever the size. SAV and
DTA gather the table first (pyreadstat writes from a data frame). The bot runs
exports in a worker thread.

Spreadsheets must not run what participants typed: see
:func:`~bot.exports.tables.neutralized` (CSV) and :mod:`~bot.exports.workbook`
(XLSX). JSON, SAV and DTA are data and keep every answer as it was given.

The modules: :mod:`~bot.exports.options` (what is asked), :mod:`~bot.exports.tables`
(the tables, their columns and cells), :mod:`~bot.exports.codebook`,
:mod:`~bot.exports.files` (where the files go), and one writer per kind of file:
:mod:`~bot.exports.delimited`, :mod:`~bot.exports.workbook`,
:mod:`~bot.exports.document`, :mod:`~bot.exports.statistical`.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from storage.db import DatabaseUnavailable, is_url
from storage.exports import Reader, iter_responses, open_reader, question_ids, survey_ids

from bot.exports.ahead import read_ahead
from bot.exports.files import Output
from bot.exports.options import (
    DELIMITERS,
    FORMATS,
    ExportError,
    ExportOptions,
    ExportResult,
    Format,
    single_file_name,
)
from bot.exports.tables import Export, Reading, neutralized
from bot.survey.model import Survey
from bot.survey.walk import slot_of

__all__ = [
    "DELIMITERS",
    "FORMATS",
    "ExportError",
    "ExportOptions",
    "ExportResult",
    "Format",
    "neutralized",
    "single_file_name",
    "write_export",
]


def write_export(
    database: Path | str, out: Path, survey: Survey, options: ExportOptions, secret: str,
    now: dt.datetime,
) -> ExportResult:
    """Write every matching response to ``out`` in ``options.format`` (and, for CSV, SAV
    and DTA, each repeat's table and the codebook beside it, or everything in one zip when
    ``out`` ends in .zip)."""
    options.check(survey.languages)
    if not is_url(database) and not Path(database).exists():
        raise ExportError(f"no database at {database} (has the bot run yet?)")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        output = Output(out)
    except OSError as exc:
        raise ExportError(f"cannot write {out}: {exc.strerror}") from None
    try:
        connection = open_reader(database)
    except DatabaseUnavailable as exc:
        output.discard()
        raise ExportError(str(exc)) from None
    try:
        export = _export(connection, survey, options, secret, now)
        read = iter_responses(connection, export.reading.survey_id, since=options.since,
                              completed_only=options.completed_only)
        with read_ahead(read) as rows:
            if options.format == "csv":
                from bot.exports.delimited import write_csv

                count = write_csv(export, rows, output)
            elif options.format == "xlsx":
                from bot.exports.workbook import write_xlsx

                count = write_xlsx(export, rows, output.file("responses", ".xlsx"))
            elif options.format == "json":
                from bot.exports.document import write_json

                with output.file("responses", ".json").open("w", encoding="utf-8",
                                                              newline="") as handle:
                    count = write_json(export, rows, handle)
            else:
                from bot.exports.statistical import write_statistical

                count = write_statistical(export, rows, output, options.format)
        files = output.finish()
    except OSError as exc:
        output.discard()
        raise ExportError(f"cannot write {out}: {exc.strerror}") from None
    except BaseException:
        output.discard()
        raise
    finally:
        connection.close()
    return ExportResult(out, count, out.stat().st_size, files)


def _export(connection: Reader, survey: Survey, options: ExportOptions,
            secret: str, now: dt.datetime) -> Export:
    """What to read: the loaded survey's questions, or, for a survey whose file is not
    loaded, its answers as stored, one column per question."""
    survey_id = options.survey_id or survey.id
    if survey_id == survey.id:
        current = {q.id for q in survey.questions}
        earlier = {key: version
                   for key, version in question_ids(connection, survey_id, besides=current)
                   if not ("[" in key and slot_of(survey, key) is not None)}  # not a round's
        return Export(Reading(survey, survey_id, secret, now), earlier, options)
    found = question_ids(connection, survey_id)
    known = survey_ids(connection) if not found else []
    if not found and survey_id not in known:
        held = (f"its surveys: {', '.join(known)}" if known
                else "it holds no responses yet")
        raise ExportError(f"no responses to a survey with id '{survey_id}' in the database "
                          f"({held})")
    bare = Survey(survey.id, survey.version, survey.default_language, survey.languages,
                  survey.title, survey.introduction, survey.consent_notice,
                  survey.consent_details, survey.closing, (), survey.fingerprint, {})
    return Export(Reading(bare, survey_id, secret, now), dict(found), options)
