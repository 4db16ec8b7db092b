"""The question message: its text, its buttons, and what it becomes once answered.

Choice labels are buttons, unless one of them is too long for a button on a
phone (:data:`LABEL_LIMIT`): then the choices are listed, numbered, in the
message, and the buttons carry the numbers. Lists longer than
:data:`~bot.participation.SEARCHABLE_ABOVE` are paged (their labels, country
names for instance, are short). An answered question keeps a short form of
its text and the answer, within Telegram's limit whatever their length.

Inside a repeat, every question, note and answer says which round it is
about (:func:`round_label`): the round's own name where the form gives it one
(``${member_name}``), else "Member 2 of 4". After the rounds, the review
(:func:`review_view`) lists them as buttons to correct one, with "Add another"
for an open repeat; :func:`discard_view` asks before an answer erases rounds.
"""

from __future__ import annotations

import datetime as dt

from babel.dates import format_date, format_datetime
from bot.i18n import Translator
from bot.participation import PAGE_SIZE, SEARCHABLE_ABOVE, TYPED, Action
from bot.participation.outcomes import (
    Asking,
    DiscardQuestion,
    Echo,
    Note,
    Reviewing,
    Round,
    SearchResults,
)
from bot.survey.model import MEDIA_TYPES, Choice, Question, QuestionType, Survey
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, KeyboardButton, ReplyKeyboardMarkup

from handlers.callbacks import survey_button
from handlers.render.html import MESSAGE_LIMIT, View, escape, shorten, units
from handlers.render.words import rtl, whole

CHECK = "✓ "
LABEL_LIMIT = 48  # a longer choice label does not fit on a phone's button
NUMBERS_PER_ROW = 5
ANSWER_LIMIT = 1000  # an echoed answer is cut to this many characters
ECHOED_QUESTION_LIMIT = 300  # …and so is the question above it, when the whole is too long
SPLIT_MARGIN = 500  # a question this close to the limit was shown in several messages


def answer_label(t: Translator, question: Question, value: str | None) -> str:
    """An answer as the participant reads it (choice labels, local number and date formats)."""
    language = t.language
    if value is None:
        return t.gettext("(skipped)")
    kind = question.type
    try:
        if kind is QuestionType.SELECT_ONE:
            index = question.choice_index.get(value)
            return question.choices[index].label.get(language) if index is not None else value
        if kind is QuestionType.SELECT_MULTIPLE:
            labels = []
            for choice_id in value.split():
                index = question.choice_index.get(choice_id)
                labels.append(question.choices[index].label.get(language) if index is not None
                              else choice_id)
            return ", ".join(labels)
        if kind in (QuestionType.INTEGER, QuestionType.SCALE):
            return t.number(int(value), grouping=False)  # years and ids: never "2.015"
        if kind is QuestionType.DECIMAL:
            return t.number(float(value)) if "." in value else t.number(int(value))
        if kind is QuestionType.DATE:
            return format_date(dt.date.fromisoformat(value), "medium", locale=t.locale)
        if kind is QuestionType.DATETIME:
            return format_datetime(dt.datetime.fromisoformat(value), "medium",
                                   locale=t.locale)
        if kind in MEDIA_TYPES:
            return t.gettext("(file received)")
        if kind is QuestionType.LOCATION:
            latitude, longitude = value.split()[:2]
            return f"{float(latitude):.5f}, {float(longitude):.5f}"
    except (ValueError, IndexError):
        pass  # a value stored under another version of the survey: show it as it is
    return value


def round_label(t: Translator, rounds: tuple[Round, ...]) -> str:
    """Which round something is about: its own name ("Amina"), else "Member 2 of 4" (a
    round inside another: both, outermost first)."""
    return " › ".join(_one_round(t, r) for r in rounds)


def _one_round(t: Translator, round_: Round) -> str:
    if round_.name:
        return round_.name
    label = round_.repeat.text.get(t.language)
    number = t.number(round_.number)
    if round_.total is not None:
        total = t.number(round_.total)
        if label:
            # Translators: which round of a repeat a question is about, e.g. "Person 2 of 4";
            # {label} is the survey's own name for one round ("Person", "Household member")
            return t.gettext("{label} {number} of {total}", label=label, number=number,
                             total=total)
        # Translators: the same when the survey gives the round no name
        return t.gettext("Round {number} of {total}", number=number, total=total)
    if label:
        # Translators: a round of a repeat with no set number of rounds, e.g. "Organization 3"
        return t.gettext("{label} {number}", label=label, number=number)
    return t.gettext("Round {number}", number=number)


def _round_line(t: Translator, rounds: tuple[Round, ...]) -> str:
    """The round as a first line in italics ("" outside repeats)."""
    return f"<i>{escape(round_label(t, rounds))}</i>\n" if rounds else ""


def answered_text(t: Translator, echo: Echo) -> str:
    """The question message once answered: the question and the answer, no buttons; cut
    to fit one message (a long answer first, then the question)."""
    label = shorten(answer_label(t, echo.question, echo.value), ANSWER_LIMIT)
    asked = echo.text
    if units(asked) + units(label) > MESSAGE_LIMIT - SPLIT_MARGIN:
        asked = shorten(asked, ECHOED_QUESTION_LIMIT)
    return rtl(t, f"{_round_line(t, echo.rounds)}{escape(asked)}\n"
                  f"→ <b>{t.isolate(escape(label))}</b>")


def _instructions(t: Translator, asking: Asking, long_list: bool) -> str | None:
    question = asking.question
    kind = question.type
    if kind is QuestionType.SELECT_ONE:
        return t.gettext("Choose below, or type the first letters of a name to find it.") \
            if long_list else None
    if kind is QuestionType.SELECT_MULTIPLE:
        return t.gettext("Choose all that apply, then press “Done”.")
    if kind is QuestionType.TEXT:
        return t.gettext("Type your answer.")
    if kind is QuestionType.INTEGER:
        minimum, maximum = asking.bounds
        if question.year and minimum is not None and maximum is not None:
            return t.gettext("Type a year from {minimum} to {maximum}.",
                             minimum=whole(minimum), maximum=whole(maximum))
        if minimum is not None and maximum is not None:
            return t.gettext("Type a whole number from {minimum} to {maximum}.",
                             minimum=whole(minimum), maximum=whole(maximum))
        return t.gettext("Type a whole number.")
    if kind is QuestionType.DECIMAL:
        return t.gettext("Type a number.")
    if kind is QuestionType.DATE:
        return t.gettext("Type a date as day/month/year, for example {example}.",
                         example="31/12/2000")
    if kind is QuestionType.TIME:
        return t.gettext("Type a time as hours:minutes, for example {example}.",
                         example="14:30")
    if kind is QuestionType.DATETIME:
        return t.gettext("Type a date and a time, for example {example}.",
                         example="31/12/2000 14:30")
    if kind is QuestionType.PHOTO:
        return t.gettext("Send a photo (with 📎).")
    if kind is QuestionType.AUDIO:
        return t.gettext("Send a voice message (hold the microphone button) or an audio file.")
    if kind is QuestionType.VIDEO:
        return t.gettext("Send a video (with 📎).")
    if kind is QuestionType.FILE:
        return t.gettext("Send a file (with 📎).")
    if kind is QuestionType.LOCATION:
        return t.gettext("Press “Share my location” below, or send a location with 📎.")
    if kind is QuestionType.SCALE:
        language = t.language
        low = question.min_label.get(language) if question.min_label else None
        high = question.max_label.get(language) if question.max_label else None
        if low and high:
            return t.gettext("{low_value} = {low} … {high_value} = {high}",
                             low_value=question.minimum, low=low,
                             high_value=question.maximum, high=high)
    return None


def question_view(t: Translator, survey: Survey, asking: Asking) -> View:
    """The message that asks the current question, with its buttons.

    An answer given before (after going back), or the question's default, is
    marked on the buttons or shown in the text with a "Keep" button; the draft
    holds the ticks of a multi-select question.
    """
    question = asking.question
    rounds = asking.round_numbers
    long_list = len(asking.choices) > SEARCHABLE_ABOVE
    k, n = asking.position
    counter = t.gettext("Question {k} of {n}", k=k, n=n)
    if asking.rounds:
        counter = f"{escape(round_label(t, asking.rounds))} · {counter}"
    lines = [f"<i>{counter}</i>", f"<b>{escape(asking.text)}</b>"]
    if asking.hint:
        lines.append(f"<i>{escape(asking.hint)}</i>")
    instructions = _instructions(t, asking, long_list)
    if instructions:
        lines.append(escape(instructions))
    keep = asking.has_previous and (
        question.type in TYPED or question.type in MEDIA_TYPES
        or question.type is QuestionType.LOCATION
        or (long_list and question.type is QuestionType.SELECT_ONE))
    if keep:
        label = escape(answer_label(t, question, asking.previous))
        lines.append(t.gettext("Your answer so far: {answer}", answer=label))
    numbered = _numbered(t, asking)
    if numbered:
        ticked = _ticked(asking)
        lines.append("")
        lines.extend(f"{number}. {CHECK if choice.id in ticked else ''}"
                     f"{escape(choice.label.get(t.language))}"
                     for number, choice in enumerate(asking.choices, start=1))
    rows = _choice_rows(t, survey, asking, numbered)
    nav: list[InlineKeyboardButton] = []
    if asking.can_go_back:
        nav.append(_button(t.gettext("« Back"), Action.BACK, survey, question, rounds=rounds))
    if keep:
        nav.append(_button(t.gettext("Keep"), Action.KEEP, survey, question, rounds=rounds))
    if asking.can_skip:
        nav.append(_button(t.gettext("Skip »"), Action.SKIP, survey, question, rounds=rounds))
    if nav:
        rows.append(nav)
    return View(rtl(t, "\n".join(lines)), InlineKeyboardMarkup(rows) if rows else None)


def _numbered(t: Translator, asking: Asking) -> bool:
    """Choices listed in the text with numbered buttons: a short list with a long label
    (in the participant's language)."""
    return (asking.question.type in (QuestionType.SELECT_ONE, QuestionType.SELECT_MULTIPLE)
            and len(asking.choices) <= SEARCHABLE_ABOVE
            and any(units(choice.label.get(t.language)) > LABEL_LIMIT
                    for choice in asking.choices))


def _ticked(asking: Asking) -> set[str] | frozenset[str]:
    return asking.draft if asking.draft is not None else set((asking.previous or "").split())


def _button(
    label: str, action: Action, survey: Survey, question: Question, number: int | None = None,
    *, rounds: tuple[int, ...] = (), index: int | None = None,
) -> InlineKeyboardButton:
    """A button of the question (in the rounds ``rounds``), or with ``index`` of a review."""
    where = question.index if index is None else index
    return InlineKeyboardButton(
        label, callback_data=survey_button(action, survey.fingerprint, where, number, rounds))


def _choice_rows(t: Translator, survey: Survey, asking: Asking, numbered: bool
                 ) -> list[list[InlineKeyboardButton]]:
    question, previous = asking.question, asking.previous
    rounds = asking.round_numbers
    if question.type is QuestionType.SCALE:
        assert question.minimum is not None and question.maximum is not None
        values = range(int(question.minimum), int(question.maximum) + 1)
        buttons = [
            _button((CHECK if previous == str(v) else "") + t.number(v), Action.ANSWER, survey,
                    question, v, rounds=rounds)
            for v in values
        ]
        per_row = 6 if len(buttons) > 6 else len(buttons)
        return [buttons[i:i + per_row] for i in range(0, len(buttons), per_row)]
    if question.type is QuestionType.ACKNOWLEDGE:
        return [[_button("OK", Action.ANSWER, survey, question, 0, rounds=rounds)]]
    if question.type not in (QuestionType.SELECT_ONE, QuestionType.SELECT_MULTIPLE):
        return []

    multiple = question.type is QuestionType.SELECT_MULTIPLE
    ticked = _ticked(asking)
    choices = asking.choices
    action = Action.TOGGLE if multiple else Action.ANSWER
    rows: list[list[InlineKeyboardButton]] = []
    if numbered:
        buttons = [_button((CHECK if choice.id in ticked else "") + str(number), action, survey,
                           question, question.choice_index[choice.id], rounds=rounds)
                   for number, choice in enumerate(choices, start=1)]
        rows = [buttons[i:i + NUMBERS_PER_ROW] for i in range(0, len(buttons), NUMBERS_PER_ROW)]
    else:
        page, pages, shown = _page(asking)
        for choice in shown:
            mark = CHECK if choice.id in ticked else ""
            label = shorten(choice.label.get(t.language), LABEL_LIMIT * 2)
            rows.append([_button(mark + label, action, survey, question,
                                 question.choice_index[choice.id], rounds=rounds)])
        if pages > 1:
            rows.append(_paging(t, survey, question, page, pages, rounds))
    if multiple:
        rows.append([_button(t.gettext("Done") + " ✔", Action.DONE, survey, question,
                             rounds=rounds)])
    return rows


def _page(asking: Asking) -> tuple[int, int, tuple[Choice, ...]]:
    """(page, pages, the choices on that page)."""
    choices = asking.choices
    if len(choices) <= SEARCHABLE_ABOVE:
        return 0, 1, choices
    pages = max(1, -(-len(choices) // PAGE_SIZE))
    page = min(max(asking.page or 0, 0), pages - 1)
    return page, pages, choices[page * PAGE_SIZE:(page + 1) * PAGE_SIZE]


def _paging(t: Translator, survey: Survey, question: Question, page: int, pages: int,
            rounds: tuple[int, ...]) -> list[InlineKeyboardButton]:
    paging = []
    if page > 0:
        paging.append(_button("‹ " + t.gettext("Previous"), Action.PAGE, survey, question,
                              page - 1, rounds=rounds))
    paging.append(_button(t.gettext("Page {page} of {pages}", page=page + 1, pages=pages),
                          Action.PAGE, survey, question, page, rounds=rounds))
    if page < pages - 1:
        paging.append(_button(t.gettext("Next") + " ›", Action.PAGE, survey, question,
                              page + 1, rounds=rounds))
    return paging


def search_results_view(t: Translator, survey: Survey, results: SearchResults) -> View:
    """Choices matching what the participant typed, as buttons."""
    if not results.found:
        return View(rtl(t, escape(t.gettext(
            "Nothing matches. Try typing fewer letters, or choose from the list above."))))
    question = results.question
    rows = [[_button(shorten(choice.label.get(t.language), LABEL_LIMIT * 2), Action.ANSWER,
                     survey, question, question.choice_index[choice.id],
                     rounds=results.round_numbers)]
            for choice in results.found]
    return View(rtl(t, escape(t.gettext("Did you mean one of these?"))),
                InlineKeyboardMarkup(rows))


def location_keyboard(t: Translator) -> View:
    """The reply keyboard whose button shares the phone's location (private chats only)."""
    button = KeyboardButton("📍 " + t.gettext("Share my location"), request_location=True)
    return View(rtl(t, escape(t.gettext("Or tap the button below the typing field."))),
                ReplyKeyboardMarkup([[button]], resize_keyboard=True, one_time_keyboard=True))


def note_text(t: Translator, note: Note) -> str:
    """A note (or a read-only question with its value), labels filled in."""
    text = f"{_round_line(t, note.rounds)}<b>{escape(note.text)}</b>"
    if note.hint:
        text += f"\n<i>{escape(note.hint)}</i>"
    if note.value:
        text += f"\n→ {escape(answer_label(t, note.question, note.value))}"
    return rtl(t, text)


ROUNDS_PER_ROW = 2  # the buttons of a review's rounds, when there are more than a few


def _round_button_label(t: Translator, round_: Round) -> str:
    name = round_.name or _one_round(t, round_)
    return "✏️ " + shorten(f"{t.number(round_.number)}. {name}" if round_.name else name,
                           LABEL_LIMIT)


def review_view(t: Translator, survey: Survey, reviewing: Reviewing) -> View:
    """The rounds of a repeat, each a button to correct it; "Add another" for an open
    repeat below its limit; Back and Continue."""
    repeat = reviewing.repeat
    # Translators: the heading of the list of rounds of a repeat whose survey gives it no name
    title = repeat.text.get(t.language) or t.gettext("Rounds answered")
    if reviewing.inside:
        title = f"{round_label(t, reviewing.inside)} › {title}"
    lines = [f"<b>{escape(title)}</b>"]
    lines.extend(f"{t.number(r.number)}. {escape(r.name)}" if r.name
                 else escape(_one_round(t, r)) for r in reviewing.rounds)
    lines.append("")
    if reviewing.can_add:
        # Translators: under the list of rounds (e.g. of organizations) with its buttons:
        # "Add another", one button per round to correct it, and "Continue"
        instructions = t.gettext("Add another, press one to correct it, or continue.")
    else:
        # Translators: under the list of rounds, with a button per round and "Continue"
        instructions = t.gettext("Press one to correct it, or continue.")
    lines.append(escape(instructions))
    question = survey.questions[repeat.start]
    rounds = reviewing.round_numbers

    def button(label: str, action: Action, number: int | None = None) -> InlineKeyboardButton:
        return _button(label, action, survey, question, number, rounds=rounds,
                       index=repeat.start)

    keyboard: list[list[InlineKeyboardButton]] = []
    if reviewing.can_add:
        # Translators: a button: one more round (another organization, another visit…)
        keyboard.append([button("➕ " + t.gettext("Add another"), Action.ADD)])
    corrections = [button(_round_button_label(t, r), Action.CORRECT, r.number)
                   for r in reviewing.rounds]
    per_row = ROUNDS_PER_ROW if len(corrections) > 4 else 1
    keyboard.extend(corrections[i:i + per_row] for i in range(0, len(corrections), per_row))
    nav = []
    if reviewing.can_go_back:
        nav.append(button(t.gettext("« Back"), Action.BACK))
    nav.append(button(t.gettext("Continue") + " ›", Action.CONTINUE))
    keyboard.append(nav)
    return View(rtl(t, "\n".join(lines)), InlineKeyboardMarkup(keyboard))


def discard_view(t: Translator, survey: Survey, discard: DiscardQuestion) -> View:
    """Before an answer erases whole rounds: which ones, and Yes / No."""
    names = t.listing([round_label(t, rounds) for rounds in discard.rounds])
    # Translators: asked when an answer lowers a number of people (or of anything asked once
    # each): {rounds} names those left out, e.g. "Ali" or "Person 3, Person 4"
    text = t.gettext("With this answer, what you said about {rounds} will be deleted.",
                     rounds=names)
    question, rounds = discard.question, discard.round_numbers
    keyboard = [
        # Translators: a button under "With this answer, what you said about … will be deleted."
        [_button(t.gettext("Yes, delete those answers"), Action.DISCARD, survey, question,
                 discard.pending, rounds=rounds)],
        [_button(t.gettext("No, keep my answers"), Action.KEEP_ROUNDS, survey, question,
                 rounds=rounds)],
    ]
    return View(rtl(t, escape(text)), InlineKeyboardMarkup(keyboard))
