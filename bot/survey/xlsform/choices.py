"""The choices of an XLSForm's selects.

A select's choices come from its list in the choices sheet (pyxform gives only
the list's name when the question has ``randomize``), from the
external_choices sheet or an attached ``itemsets.csv`` (``select_one_external``),
or from an attached CSV or XML file (``select_one_from_file``,
``select_multiple_from_file``; see :mod:`~bot.survey.xlsform.attachments` for
where they are looked for); ``search()`` appearances are refused. Each choice
keeps its other columns, which a ``choice_filter`` reads (the filter is parsed
with the question's other expressions). Each list is checked once however many
questions use it: names a select_multiple cannot store, duplicates, missing
labels, media. or_other's "Other" choice and its "Specify other." question are
pyxform's, in English.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bot.survey.model import Choice, Translated
from bot.survey.xlsform.attachments import AttachmentError, Attachments
from bot.survey.xlsform.languages import (
    FormLanguages,
    header_language,
    language_code,
    legacy_language,
)
from bot.survey.xlsform.workbook import (
    CHOICES,
    DEFAULT,
    EXTERNAL_CHOICES,
    SURVEY,
    Element,
    Read,
    Report,
    Rows,
    cell,
    media_files,
    plain,
    snake,
)

_SEARCH = re.compile(r"search\s*\((.*)\)", re.IGNORECASE | re.DOTALL)
_QUOTED = re.compile(r"""^\s*(['"])(.*)\1\s*$""", re.DOTALL)


class ChoiceLists:
    """The form's choice lists, read as the selects that use them are met."""

    def __init__(self, path: Path, read: Read, languages: FormLanguages,
                 report: Report, attachments: Attachments) -> None:
        self.path = path
        self.attachments = attachments
        self.read = read
        self.languages = languages
        self.report = report
        self.rows = Rows(read.sheets[CHOICES], key=("list_name|list name", "name|value"))
        self.list_rows: dict[str, list[int | None]] = {}
        self.counted_lists: set[str] = set()
        self.reported_choices: set[tuple[str, int]] = set()
        self.reported_names: set[tuple[str, int, bool]] = set()
        self.reported_lists: set[str] = set()
        self.reported_media: set[str] = set()

    def choices(self, element: Element, name: str, row: int, *, multiple: bool,
                external: bool) -> tuple[Choice, ...]:
        """The choices of a select: its list, the external_choices sheet, a CSV file."""
        list_name = plain(element.get("list_name") or element.get("itemset"))
        appearance = plain((element.get("control") or {}).get("appearance"))
        search = _SEARCH.search(appearance)
        if search:
            return self.search_choices(element, name, row, search.group(1))
        if external:
            return self.external_choices(name, row, list_name, multiple)
        options = element.get("choices")
        if options is None:  # with randomize=true pyxform gives only the list's name
            options = (self.read.form.get("choices") or {}).get(list_name)
        if options is None:
            itemset = plain(element.get("itemset"))
            if "." in itemset:
                return self.file_choices(element, name, row, itemset, multiple)
            self.report.error(f"no choices for the list '{list_name}'", row, question=name)
            return ()
        rows = self.rows_of_list(list_name)
        choices: list[Choice] = []
        for position, option in enumerate(options):
            if not isinstance(option, Mapping):
                continue
            choice_row = rows[position] if position < len(rows) else None
            choice = self.choice(option, list_name, choice_row, name, row, multiple)
            if choice is not None:
                choices.append(choice)
        self.counted_lists.add(list_name)
        self.check_duplicates(choices, list_name, rows, name, row)
        self.choice_media(options, list_name, rows, row)
        return tuple(choices)

    def choice_media(self, options: Sequence[Any], list_name: str,
                     rows: Sequence[int | None], question_row: int) -> None:
        """Once per list: the media on its choices are skipped, and why."""
        if list_name in self.reported_media:
            return
        self.reported_media.add(list_name)
        files: list[str] = []
        first: int | None = None
        for position, option in enumerate(options):
            found = media_files(option) if isinstance(option, Mapping) else []
            if found and first is None:
                first = rows[position] if position < len(rows) else None
            files.extend(f for f in found if f not in files)
        if not files:
            return
        missing = [f for f in files if self.attachments.find(f) is None]
        shown = ", ".join(f"'{f}'" for f in files[:3]) + (", …" if len(files) > 3 else "")
        why = (f"{len(missing)} of them are not next to the form" if missing
               else "the bot does not show media on labels yet")
        self.report.warn(f"skipped: the media of the choices of the list '{list_name}' "
                         f"({shown}): {why}", first or question_row,
                         CHOICES if first else SURVEY, field="media")

    def rows_of_list(self, list_name: str) -> list[int | None]:
        """The row in the choices sheet of each option of the list, in order."""
        if list_name not in self.list_rows:
            options = (self.read.form.get("choices") or {}).get(list_name) or ()
            self.list_rows[list_name] = [
                self.rows.take(list_name, plain(o.get("name")))
                for o in options if isinstance(o, Mapping)
            ]
        return self.list_rows[list_name]

    def choice(self, option: Mapping[str, Any], list_name: str, choice_row: int | None,
               question: str, question_row: int, multiple: bool) -> Choice | None:
        """One option of a list, or ``None`` when its name cannot be stored."""
        choice_id = plain(option.get("name"))
        sheet, row = (CHOICES, choice_row) if choice_row else (SURVEY, question_row)
        first_time = (list_name, row) not in self.reported_choices
        self.reported_choices.add((list_name, row))
        problem = _name_problem(choice_id, multiple)
        if problem:
            if (list_name, row, multiple) not in self.reported_names:
                self.reported_names.add((list_name, row, multiple))
                self.report.error(f"choice '{choice_id}' of the list '{list_name}': "
                                  f"{problem}", row, sheet, question=question)
            return None
        texts = self.languages.field_texts(option, "label")
        if list_name not in self.counted_lists:
            self.languages.count_gaps(texts, "choice label", sheet, row)
        if not texts and first_time:
            self.report.warn(f"choice '{choice_id}' of the list '{list_name}' has no label: "
                             "its name is shown instead", row, sheet)
        label = self.label(texts, choice_id)
        columns = {
            str(key): plain(value)
            for key, value in option.items()
            if key not in ("name", "label", "media", "__row")
            and legacy_language(str(key)) is None
            and isinstance(value, str | int | float)
        }
        return Choice(choice_id, label, columns)

    def label(self, texts: Mapping[str, str], choice_id: str) -> Translated:
        """The choice's label, or its name where it has none."""
        return self.languages.translated(texts) or Translated(
            {self.languages.default: choice_id}, self.languages.default)

    def check_duplicates(self, choices: Sequence[Choice], list_name: str,
                         rows: Sequence[int | None], question: str, question_row: int) -> None:
        """Once per list: a warning for each choice name given twice."""
        if list_name in self.reported_lists:
            return
        self.reported_lists.add(list_name)
        seen: dict[str, int] = {}
        for position, choice in enumerate(choices):
            if choice.id in seen:
                row = rows[position] if position < len(rows) else None
                first = rows[seen[choice.id]] if seen[choice.id] < len(rows) else None
                self.report.warn(f"the list '{list_name}' has the choice '{choice.id}' twice "
                                 f"(rows {first} and {row}): both store the answer "
                                 f"'{choice.id}'", row or question_row,
                                 CHOICES if row else SURVEY, question=question)
            else:
                seen[choice.id] = position

    def rows_choices(self, rows: Sequence[Mapping[str, Any]], name_column: str,
                     label_column: str | None, where: str, sheet: str | None, question: str,
                     first_row: int, multiple: bool,
                     question_row: int | None = None) -> tuple[Choice, ...]:
        """Choices from plain rows (external_choices sheet, a CSV file); a problem in a file
        (``sheet`` None) is reported at the question's row."""
        choices: list[Choice] = []
        double = any("::" in str(k) for r in rows[:1] for k in r)
        for offset, raw in enumerate(rows):
            row = first_row + offset
            choice_id = plain(raw.get(name_column))
            if not choice_id:
                continue
            problem = _name_problem(choice_id, multiple)
            if problem:
                self.report.error(f"choice '{choice_id}' in {where}: {problem}",
                                  row if sheet else question_row, sheet or SURVEY,
                                  question=question)
                continue
            texts: dict[str, str] = {}
            columns: dict[str, str] = {}
            for key, value in raw.items():
                key = str(key)
                if key == name_column:
                    continue
                if label_column is not None:
                    if key == label_column and plain(value):
                        texts[self.languages.default] = plain(value)
                        continue
                else:
                    language = header_language(key, double)
                    if snake(key) in ("label", "caption"):
                        language = DEFAULT
                    if language is not None:
                        code = self.languages.by_key.get(language) or language_code(language)
                        if code and code not in texts and plain(value):
                            texts[code] = plain(value)
                        continue
                columns[key] = plain(value)
            label = self.label(texts, choice_id)
            choices.append(Choice(choice_id, label, columns))
        if not choices:
            self.report.error(f"no choices in {where}",
                              question_row if sheet is None else first_row - 1, sheet or SURVEY,
                              question=question)
        return tuple(choices)

    def external_choices(self, name: str, row: int, list_name: str,
                         multiple: bool) -> tuple[Choice, ...]:
        """A select_one_external's list: the external_choices sheet, else itemsets.csv."""
        rows = self.read.sheets.get(EXTERNAL_CHOICES) or []
        picked = [(i + 2, r) for i, r in enumerate(rows)
                  if cell(r, "list_name", "list name") == list_name]
        if picked:
            # pyxform leaves this sheet's headers as written (NAME, Label::English (en))
            mine = [{_lower_kind(k): v for k, v in r.items() if snake(str(k)) != "list_name"}
                    for _, r in picked]
            return self.rows_choices(mine, "name", None, f"the list '{list_name}' of the "
                                     "external_choices sheet", EXTERNAL_CHOICES, name,
                                     picked[0][0], multiple)
        if self.attachments.find("itemsets.csv") is not None:
            loaded = self.file_rows("itemsets.csv", name, row, "type")
            if loaded is None:
                return ()
            mine = [r for r in loaded if plain(r.get("list_name")) == list_name]
            return self.rows_choices(mine, "name", None, f"the list '{list_name}' of "
                                     "itemsets.csv", None, name, 2, multiple, row)
        self.report.error(f"the choices of the list '{list_name}' are external: the form has "
                          "no external_choices sheet, and itemsets.csv is not attached: looked "
                          f"for {self.attachments.where('itemsets.csv')}", row, question=name)
        return ()

    def file_choices(self, element: Element, name: str, row: int,
                     itemset: str, multiple: bool) -> tuple[Choice, ...]:
        """A select_one_from_file's (or select_multiple_from_file's) choices: an attached
        CSV or XML file."""
        rows = self.file_rows(itemset, name, row, "type")
        if rows is None:
            return ()
        parameters = element.get("parameters") or {}
        name_column = plain(parameters.get("value")) or "name"
        label_column = plain(parameters.get("label")) or None
        return self.rows_choices(rows, name_column, label_column, f"'{itemset}'", None, name, 2,
                                 multiple, row)

    def search_choices(self, element: Element, name: str, row: int,
                       arguments: str) -> tuple[Choice, ...]:
        """A search() appearance: refused, saying where its choices would come from."""
        first = arguments.split(",")[0]
        quoted = _QUOTED.match(first)
        filename = (quoted.group(2) if quoted else first).strip()
        if not filename:
            self.report.error("search() names no file", row, question=name, field="appearance")
            return ()
        if not filename.lower().endswith(".csv"):
            filename += ".csv"
        if self.attachments.find(filename) is None:
            self.report.error(f"the choices come from '{filename}' (search() appearance), "
                              f"which is not attached: looked for "
                              f"{self.attachments.where(filename)}", row, question=name,
                              field="appearance")
        else:
            self.report.error(f"search() appearances are not supported yet: choices from "
                              f"'{filename}' can be given with select_one_from_file", row,
                              question=name, field="appearance")
        return ()

    def file_rows(self, file: str, name: str, row: int,
                  field: str) -> list[dict[str, str]] | None:
        """The rows of an attached file, or ``None`` once what is wrong is reported."""
        if self.attachments.find(file) is None:
            self.report.error(f"the choices come from '{file}', which is not attached: looked "
                              f"for {self.attachments.where(file)}", row, question=name,
                              field=field)
            return None
        try:
            return self.attachments.rows(file)
        except AttachmentError as exc:
            self.report.error(str(exc), row, question=name, field=field)
            return None

    def warn_or_other(self, name: str, row: int) -> None:
        """In a form of several languages, say that or_other's texts are in English only."""
        if len(self.languages.codes) > 1:
            parent = name.removesuffix("_other")
            self.report.warn(f"or_other adds the choice 'Other' to '{parent}' and this "
                             "question ('Specify other.') in English only, whatever the "
                             "language", row, question=name)


def _name_problem(choice_id: str, multiple: bool) -> str | None:
    """Why a choice name cannot be used, if it cannot."""
    if not choice_id:
        return "a choice needs a name"
    if multiple and any(c.isspace() for c in choice_id):
        return ("a choice of a select_multiple cannot have a space in its name (the answers "
                "are stored separated by spaces)")
    return None


def _lower_kind(key: object) -> str:
    """``NAME`` → ``name``, ``Label::English (en)`` → ``label::English (en)``."""
    kind, sep, rest = str(key).partition("::")
    return snake(kind) + sep + rest


def choice_index(choices: Sequence[Choice]) -> dict[str, int]:
    """Choice id → its position (the first, should a list have an id twice)."""
    index: dict[str, int] = {}
    for position, choice in enumerate(choices):
        index.setdefault(choice.id, position)
    return index
