"""A sweep of public XLSForms: how many pyxform accepts, how many the bot accepts, and why the
rest are refused.

Two steps, so that the forms (other organizations' files) stay outside the repository:

    python bench/sweep.py collect REPO... --to /tmp/sweep
        copies every .xls/.xlsx of each git checkout or bare git directory (its last
        commit) into a folder, with the CSV and XML files beside it in the repository in
        its ``<form>-media/`` folder, and writes each markdown form written in a pyxform
        test module as a .md file;
    python bench/sweep.py run /tmp/sweep [--json bench/results/sweep.json]
        checks every form as ``consultbot survey check`` does, in two worker processes.

A form pyxform refuses is counted as such and left out of the rest. A form the
bot refuses is counted under each *feature* its errors name (the first words
that say what cannot run: "repeats", "loops", "a required 'barcode' question",
"function 'pulldata'"…); errors that only follow from another refusal ("refers
to 'x', which is …") are counted apart. Every error is checked to name a row
(or a sheet, for the settings) and the form's item. A form refused only because files
it names are not attached is checked again with a stand-in for each (a name and a label
column, the columns the form reads, one row): whether the bot reads the form once its
files are there. Run it from another checkout (``PYTHONPATH=that/checkout``) for a
figure before a change.
"""

from __future__ import annotations

import argparse
import ast
import json
import multiprocessing
import re
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

SUFFIXES = (".xls", ".xlsx")
ATTACHED = (".csv", ".xml")

# (pattern on an error's message, the feature it names); the first that matches
FEATURES: list[tuple[str, str]] = [
    (r"repeats are not supported", "repeats"),
    (r"loops \('begin loop over", "loops ('begin loop over …')"),
    (r"is ODK's submission id", "refers to ODK's instanceID"),
    (r"refers to '[^']+', which (is|comes)", "refers to an item left out"),
    (r"'(\S+)' questions cannot be answered on Telegram, and this one is required",
     "a required '{0}' question"),
    (r"'(\S+)' questions cannot be answered on Telegram, and .* refers to it",
     "a '{0}' question another item refers to"),
    (r"'(\S+)' is device metadata, which Telegram does not give the bot",
     "device metadata ('{0}') another item refers to"),
    (r"search\(\)", "search() appearance"),
    (r"pulldata\(\): '.*' is not attached", "pulldata() from a file not attached"),
    (r"is not attached|file .*(not next to|missing)|is not next to the form|no file",
     "choices from a file not attached"),
    (r"unknown function '([^']+)'", "function '{0}'"),
    (r"\$\{last-saved#", "last-saved references"),
    (r"a note \(notes have no answer\)", "a note read as an answer"),
    (r"refers to unknown question", "refers to an unknown name"),
    (r"(the union operator|predicates \('\[\.\.\.\]'\)|'\.\.' \(the parent group\)"
     r"|position\(\) takes '\.\.')", "XPath beyond the subset ({0})"),
    (r"unexpected (name|character)|unclosed|unterminated|must start a reference",
     "an expression that does not parse"),
    (r"default '.*' is not a possible answer", "a default that is no answer"),
    (r"is not a usable name", "a name the bot cannot use"),
    (r"is also used in row", "a name used twice"),
    (r"no question the bot can ask", "nothing to ask"),
]
SECONDARY = {"refers to an item left out"}


def collect(repos: list[Path], to: Path) -> None:
    to.mkdir(parents=True, exist_ok=True)
    for repo in repos:
        # a mirror's git directory (owner+name/repo) is named after the repository
        name = repo.parent.name.split("+")[-1] if repo.name == "repo" else repo.name
        files = subprocess.run(["git", "-C", str(repo), "ls-tree", "-r", "--name-only", "HEAD"],
                               check=True, capture_output=True, text=True).stdout.splitlines()
        for path in files:
            if path.lower().endswith(SUFFIXES):
                data = subprocess.run(["git", "-C", str(repo), "show", f"HEAD:{path}"],
                                      check=True, capture_output=True).stdout
                copy = to / f"{name}__{path.replace('/', '__')}"
                copy.write_bytes(data)
                _attach_siblings(repo, path, files, copy)
            elif path.startswith("tests/") and path.endswith(".py"):
                source = subprocess.run(["git", "-C", str(repo), "show", f"HEAD:{path}"],
                                        check=True, capture_output=True, text=True).stdout
                for number, form in enumerate(_markdown_forms(source)):
                    stem = path.replace("/", "__").removesuffix(".py")
                    (to / f"{name}__{stem}__{number}.md").write_text(form, encoding="utf-8")


def _attach_siblings(repo: Path, path: str, files: list[str], form: Path) -> None:
    """Copy the CSV and XML files beside a form in its repository (or in ``media/`` there)
    into the form's ``<form>-media/`` folder, where the bot looks for attached files."""
    folder = path.rpartition("/")[0]
    for other in files:
        where, _, file = other.rpartition("/")
        if where in (folder, f"{folder}/media".lstrip("/")) and file.lower().endswith(ATTACHED):
            data = subprocess.run(["git", "-C", str(repo), "show", f"HEAD:{other}"],
                                  check=True, capture_output=True).stdout
            media = form.with_name(f"{form.stem}-media")
            media.mkdir(exist_ok=True)
            (media / file).write_bytes(data)


def _markdown_forms(source: str) -> list[str]:
    """The forms a test module writes as markdown: every string literal with a ``| survey``
    table (each once; templates with ``{…}`` fields left out)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    forms: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
            if re.search(r"\|\s*survey\s*\|", text, re.IGNORECASE) and not re.search(
                    r"(?<!\$)\{[a-z_]*\}", text) and text not in forms:
                forms.append(text)
    return forms


def check(path: Path) -> dict[str, Any]:
    """One form, as ``consultbot survey check`` sees it."""
    from bot.survey.loader import check_survey
    from bot.survey.xlsform.workbook import read_form

    try:
        raw = path.read_bytes()
        read = read_form(path, raw)
    except Exception as exc:  # noqa: BLE001 - a sweep reports, never stops
        return {"form": path.name, "pyxform": False, "why": f"{type(exc).__name__}"}
    if isinstance(read, list):
        return {"form": path.name, "pyxform": False, "why": read[0].message if read else ""}
    survey, problems = check_survey(path)
    errors = [p for p in problems if p.severity == "error"]
    features = []
    unnamed = []
    for error in errors:
        features.append(feature_of(error.message))
        if error.line is None and error.sheet != "settings" and error.question is None:
            unnamed.append(error.message)
    result = {"form": path.name, "pyxform": True, "accepted": survey is not None,
              "features": sorted(set(features)), "errors": len(errors), "unnamed": unnamed,
              "repeats": len(getattr(survey, "repeats", ())) if survey is not None else None}
    if errors and all(_MISSING.search(e.message) for e in errors):
        result["accepted_with_stand_ins"] = _check_with_stand_ins(path, errors)
    return result


_MISSING = re.compile(r"'([^'/]+)'(?: \(search\(\) appearance\))?,? (?:which )?is not attached")
_NO_COLUMN = re.compile(r"'([^'/]+)' has no column '([^']+)'")


def _check_with_stand_ins(path: Path, errors: list[Any]) -> bool:
    """Whether a form refused only for files that are not attached runs once each is
    attached as a stand-in: a name and a label column, the columns the form reads, one row."""
    from bot.survey.loader import check_survey

    columns = {m.group(1): ["name", "label"] for e in errors for m in [_MISSING.search(e.message)]
               if m}
    with tempfile.TemporaryDirectory() as folder:
        form = Path(folder) / path.name
        form.write_bytes(path.read_bytes())
        media = Path(folder) / f"{form.stem}-media"
        media.mkdir()
        for _ in range(5):
            for file, names in columns.items():
                if file.lower().endswith(".xml"):
                    cells = "".join(f"<{c}>{c}1</{c}>" for c in names)
                    (media / file).write_text(f"<root><item>{cells}</item></root>")
                else:
                    (media / file).write_text(",".join(names) + "\n" +
                                              ",".join(f"{c}1" for c in names) + "\n")
            survey, problems = check_survey(form)
            if survey is not None:
                return True
            wanted = [m.groups() for p in problems if p.severity == "error"
                      for m in [_NO_COLUMN.search(p.message)] if m and m.group(1) in columns]
            if not wanted:
                return False
            for file, column in wanted:
                columns[file].append(column)
    return False


def feature_of(message: str) -> str:
    for pattern, feature in FEATURES:
        match = re.search(pattern, message)
        if match:
            return feature.format(*match.groups())
    return "other: " + " ".join(message.split()[:6])


def run(folder: Path) -> dict[str, Any]:
    forms = sorted(p for p in folder.iterdir() if p.suffix.lower() in (*SUFFIXES, ".md"))
    with multiprocessing.Pool(2, maxtasksperchild=50) as pool:
        results = pool.map(check, forms, chunksize=8)
    readable = [r for r in results if r["pyxform"]]
    accepted = [r for r in readable if r["accepted"]]
    refused = [r for r in readable if not r["accepted"]]
    by_feature: Counter[str] = Counter()
    for result in refused:
        primary = [f for f in result["features"] if f not in SECONDARY] or result["features"]
        by_feature.update(primary)
    by_source: dict[str, dict[str, int]] = {}
    for result in results:
        source = result["form"].split("__")[0]
        counts = by_source.setdefault(source, {"forms": 0, "pyxform": 0, "accepted": 0})
        counts["forms"] += 1
        counts["pyxform"] += result["pyxform"]
        counts["accepted"] += bool(result.get("accepted"))
    return {
        "forms": len(results), "pyxform_accepts": len(readable), "accepted": len(accepted),
        "share": round(len(accepted) / len(readable), 3) if readable else None,
        "with_repeats_accepted": sum(1 for r in accepted if r["repeats"]),
        "refused_by_feature": dict(by_feature.most_common()),
        "errors_without_row_or_item": sum(len(r["unnamed"]) for r in refused),
        "refused_only_for_files_not_attached": sum(1 for r in refused
                                                   if "accepted_with_stand_ins" in r),
        "accepted_with_stand_ins": sum(1 for r in refused if r.get("accepted_with_stand_ins")),
        "by_source": by_source,
        "refused": {r["form"]: r["features"] for r in refused},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    gather = commands.add_parser("collect")
    gather.add_argument("repos", nargs="+", type=Path)
    gather.add_argument("--to", type=Path, required=True)
    check_all = commands.add_parser("run")
    check_all.add_argument("folder", type=Path)
    check_all.add_argument("--json", type=Path)
    args = parser.parse_args()
    if args.command == "collect":
        collect(args.repos, args.to)
        return
    result = run(args.folder)
    summary = {k: v for k, v in result.items() if k != "refused"}
    print(json.dumps(summary, indent=2, ensure_ascii=False))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n",
                             encoding="utf-8")


if __name__ == "__main__":
    sys.path.append(str(Path(__file__).resolve().parents[1]))
    main()
