"""XLSForms (KoboToolbox, ODK) read into a :class:`~bot.survey.model.Survey`.

pyxform reads the form (``.xlsx``, ``.xls``, or the markdown tables of its own
examples, ``.md``) and turns it into its JSON representation; this package
maps that onto the model and says up front, with sheet, row and question, what
cannot run on Telegram:

- refused (errors): selects whose choices, and ``pulldata()`` calls whose
  values, live in a file that is not attached (in ``media/``, ``<form>-media/``
  or next to the form); required questions of a type the bot cannot
  collect (barcode, geotrace, geoshape, rank, …); anything such an item is
  referred to by;
- skipped (warnings): optional items the bot cannot collect that nothing
  refers to, device metadata (deviceid, username, audit, …), media on labels,
  an ``instance_name`` that cannot run (it only names submissions in ODK; one
  that can is kept as the calculation ``instanceName``, last);
- accepted with a warning: an expression that reads a question further on
  (empty until it is answered, as in ODK), a language nothing identifies
  (kept under a code made from its name), a constraint without a message;
- turned into calculations the bot fills: ``start``, ``end`` (moved last, so
  that it is the time the survey ends) and ``today``;
- repeats (``begin_repeat``) and loops (``begin loop over``, a repeat with
  one round per choice) become :class:`~bot.survey.model.Repeat` values over
  their questions; ``select_one ${name}`` offers the answers of a repeat.

The modules, each importing only those listed before it:

- :mod:`~bot.survey.xlsform.workbook`: pyxform's reading of the form, rows
  matched to its JSON, the problem report;
- :mod:`~bot.survey.xlsform.attachments`: the files the form names (choice
  lists, pulldata() tables), where they are looked for, read;
- :mod:`~bot.survey.xlsform.kinds`: what each question type becomes;
- :mod:`~bot.survey.xlsform.languages`: language columns, codes and names, the
  default language, merged columns, missing translations;
- :mod:`~bot.survey.xlsform.choices`: choice lists, external choices, choices
  from files, or_other;
- :mod:`~bot.survey.xlsform.references`: what each expression and text refers
  to, checked once every name is known;
- :mod:`~bot.survey.xlsform.importer`: the walk from pyxform's JSON to the
  questions, their expressions and references, and :func:`check_xlsform`.
"""

from bot.survey.xlsform.importer import check_xlsform
from bot.survey.xlsform.languages import language_code
from bot.survey.xlsform.workbook import XLSFORM_SUFFIXES

__all__ = ["XLSFORM_SUFFIXES", "check_xlsform", "language_code"]
