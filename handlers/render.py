"""What the participant sees: message texts and keyboards. No I/O.

Texts are Telegram HTML; everything that comes from the survey file or from a
participant is escaped. Question texts carry a right-to-left mark in RTL
languages so that a message starting with a number still aligns right.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence
from dataclasses import dataclass

from babel.dates import format_date, format_datetime
from bot.i18n import RLM, Translator, language_name
from bot.survey.engine import Answers, available_choices, interpolate, is_required
from bot.survey.model import MEDIA_TYPES, Choice, Question, QuestionType, Survey
from bot.survey.search import ordered_choices
from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
)

from handlers.callbacks import (
    OFFER_NO,
    OFFER_YES,
    Action,
    consent_button,
    delete_button,
    language_button,
    survey_button,
)

MESSAGE_LIMIT = 4096
LIST_LIMIT = 12  # longer choice lists are paged and searchable
PAGE_SIZE = 8
CHECK = "✓ "


@dataclass(frozen=True, slots=True)
class View:
    text: str
    keyboard: InlineKeyboardMarkup | ReplyKeyboardMarkup | None = None

    @property
    def buttons(self) -> InlineKeyboardMarkup | None:
        """The inline keyboard (the only kind an edited message can carry)."""
        return self.keyboard if isinstance(self.keyboard, InlineKeyboardMarkup) else None


def _rtl(t: Translator, text: str) -> str:
    return RLM + text if t.rtl else text


def escape(text: str) -> str:
    return html.escape(text, quote=False)


# --- before the survey -------------------------------------------------------------


def language_keyboard(languages: Sequence[str]) -> InlineKeyboardMarkup:
    """Each language named in its own script, two per row."""
    buttons = [InlineKeyboardButton(language_name(code), callback_data=language_button(code))
               for code in languages]
    return InlineKeyboardMarkup([buttons[i:i + 2] for i in range(0, len(buttons), 2)])


def language_prompt(t: Translator, survey: Survey) -> str:
    return _rtl(t, t.gettext("Please choose your language."))


def consent_view(t: Translator, survey: Survey) -> View:
    language = t.language
    notice = (survey.consent_notice.get(language) if survey.consent_notice else t.gettext(
        "Taking part is voluntary and you can stop at any time. Your answers are stored "
        "with your Telegram user number, only to let you continue later and delete them; "
        "results never show who answered. See your answers with /mydata and delete them with "
        "/delete."))
    parts = [f"<b>{escape(survey.title.get(language))}</b>"]
    if survey.introduction:
        parts.append(escape(survey.introduction.get(language)))
    parts.append(escape(notice))
    text = "\n\n".join(parts)
    keyboard = InlineKeyboardMarkup([
        [InlineKeyboardButton(t.gettext("I agree"), callback_data=consent_button("y"))],
        [InlineKeyboardButton(t.gettext("No thanks"), callback_data=consent_button("n"))],
        [InlineKeyboardButton(t.gettext("More information"), callback_data=consent_button("i"))],
    ])
    return View(_rtl(t, text), keyboard)


def consent_details_view(t: Translator, survey: Survey) -> View:
    keyboard = InlineKeyboardMarkup([
        [InlineKeyboardButton(t.gettext("I agree"), callback_data=consent_button("y"))],
        [InlineKeyboardButton(t.gettext("No thanks"), callback_data=consent_button("n"))],
    ])
    details = (survey.consent_details.get(t.language) if survey.consent_details else t.gettext(
        "What is stored: your answers, your language, when you answered, and your Telegram "
        "user number (not your phone number), which lets you continue later and delete your "
        "answers. Organizers see answers under a pseudonymous code; published figures never "
        "describe fewer than a few people. Your answers are kept until the consultation "
        "ends. Please do not write names or details that could identify anyone. Send "
        "/delete at any time to erase everything."))
    return View(_rtl(t, escape(details)), keyboard)


def delete_view(t: Translator) -> View:
    keyboard = InlineKeyboardMarkup([
        [InlineKeyboardButton(t.gettext("Yes, delete everything"),
                              callback_data=delete_button("y"))],
        [InlineKeyboardButton(t.gettext("No, keep my answers"), callback_data=delete_button("n"))],
    ])
    return View(_rtl(t, t.gettext(
        "Do you want to delete everything stored about you? This cannot be undone.")), keyboard)


def subscription_offer(t: Translator) -> View:
    """Asked at the end of the consultation."""
    keyboard = InlineKeyboardMarkup([
        [InlineKeyboardButton(t.gettext("Yes, send me the results"), callback_data=OFFER_YES)],
        [InlineKeyboardButton(t.gettext("No, thank you"), callback_data=OFFER_NO)],
    ])
    return View(_rtl(t, escape(t.gettext(
        "Would you like to receive a summary of the consultation's results when they are "
        "published? You can stop at any time with /unsubscribe."))), keyboard)


# --- answers as text ---------------------------------------------------------------


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
            return t.number(int(value))
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


def answered_text(
    t: Translator, survey: Survey, question: Question, value: str | None, answers: Answers
) -> str:
    """The question message once answered: the question and the answer, no buttons."""
    label = escape(answer_label(t, question, value))
    asked = escape(interpolate(survey, question.text.get(t.language), answers, t.language))
    return _rtl(t, f"{asked}\n→ <b>{t.isolate(label)}</b>")


# --- the question ------------------------------------------------------------------

TYPED = frozenset({QuestionType.TEXT, QuestionType.INTEGER, QuestionType.DECIMAL,
                   QuestionType.DATE, QuestionType.TIME, QuestionType.DATETIME})


def _instructions(t: Translator, question: Question, long_list: bool) -> str | None:
    kind = question.type
    if kind is QuestionType.SELECT_ONE:
        return t.gettext("Choose below, or type the first letters of a name to find it.") \
            if long_list else None
    if kind is QuestionType.SELECT_MULTIPLE:
        return t.gettext("Choose all that apply, then press “Done”.")
    if kind is QuestionType.TEXT:
        return t.gettext("Type your answer.")
    if kind is QuestionType.INTEGER:
        if question.minimum is not None and question.maximum is not None:
            return t.gettext("Type a whole number from {minimum} to {maximum}.",
                             minimum=question.minimum, maximum=question.maximum)
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


def question_view(
    t: Translator,
    survey: Survey,
    question: Question,
    *,
    answers: Answers,
    now: dt.datetime,
    position: tuple[int, int],
    draft: set[str] | None = None,
    page: int | None = None,
    can_go_back: bool = True,
) -> View:
    """The message that asks ``question``, with its buttons.

    An answer given before (after going back), or the question's default, is
    marked on the buttons or shown in the text with a "Keep" button; ``draft``
    holds the ticks of a multi-select question.
    """
    language = t.language
    choices = available_choices(survey, question, answers, now)
    long_list = len(choices) > LIST_LIMIT
    has_previous = question.id in answers or question.default is not None
    previous = answers[question.id] if question.id in answers else question.default
    k, n = position
    counter = t.gettext("Question {k} of {n}", k=k, n=n)
    text = interpolate(survey, question.text.get(language), answers, language)
    lines = [f"<i>{counter}</i>", f"<b>{escape(text)}</b>"]
    if question.hint:
        hint = interpolate(survey, question.hint.get(language), answers, language)
        lines.append(f"<i>{escape(hint)}</i>")
    instructions = _instructions(t, question, long_list)
    if instructions:
        lines.append(escape(instructions))
    keep = has_previous and (question.type in TYPED or question.type in MEDIA_TYPES
                             or question.type is QuestionType.LOCATION
                             or (long_list and question.type is QuestionType.SELECT_ONE))
    if keep:
        label = escape(answer_label(t, question, previous))
        lines.append(t.gettext("Your answer so far: {answer}", answer=label))

    rows = _choice_rows(t, survey, question, choices, previous, draft, page)
    nav: list[InlineKeyboardButton] = []
    if can_go_back:
        nav.append(_button(t.gettext("« Back"), Action.BACK, survey, question))
    if keep:
        nav.append(_button(t.gettext("Keep"), Action.KEEP, survey, question))
    if not is_required(survey, question, answers, now):
        nav.append(_button(t.gettext("Skip »"), Action.SKIP, survey, question))
    if nav:
        rows.append(nav)
    return View(_rtl(t, "\n".join(lines)), InlineKeyboardMarkup(rows) if rows else None)


def expected_hint(t: Translator, question: Question) -> str:
    """What to send instead, when a message does not fit the question."""
    kind = question.type
    if kind is QuestionType.PHOTO:
        return t.gettext("This question asks for a photo.")
    if kind is QuestionType.AUDIO:
        return t.gettext("This question asks for a voice message or an audio file.")
    if kind is QuestionType.VIDEO:
        return t.gettext("This question asks for a video.")
    if kind is QuestionType.FILE:
        return t.gettext("This question asks for a file.")
    if kind is QuestionType.LOCATION:
        return t.gettext("This question asks for a location: press “Share my location”.")
    if kind in TYPED:
        return t.gettext("Please type your answer.")
    return t.gettext("Please use the buttons below the question.")


def location_keyboard(t: Translator) -> View:
    """The reply keyboard whose button shares the phone's location (private chats only)."""
    button = KeyboardButton("📍 " + t.gettext("Share my location"), request_location=True)
    return View(_rtl(t, escape(t.gettext("Or tap the button below the typing field."))),
                ReplyKeyboardMarkup([[button]], resize_keyboard=True, one_time_keyboard=True))


def _button(
    label: str, action: Action, survey: Survey, question: Question, number: int | None = None
) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        label, callback_data=survey_button(action, survey.fingerprint, question.index, number)
    )


def _choice_rows(
    t: Translator, survey: Survey, question: Question, available: tuple[Choice, ...],
    previous: str | None, draft: set[str] | None, page: int | None,
) -> list[list[InlineKeyboardButton]]:
    if question.type is QuestionType.SCALE:
        assert question.minimum is not None and question.maximum is not None
        values = range(int(question.minimum), int(question.maximum) + 1)
        buttons = [
            _button((CHECK if previous == str(v) else "") + t.number(v), Action.ANSWER, survey,
                    question, v)
            for v in values
        ]
        per_row = 6 if len(buttons) > 6 else len(buttons)
        return [buttons[i:i + per_row] for i in range(0, len(buttons), per_row)]
    if question.type is QuestionType.ACKNOWLEDGE:
        return [[_button("OK", Action.ANSWER, survey, question, 0)]]
    if question.type not in (QuestionType.SELECT_ONE, QuestionType.SELECT_MULTIPLE):
        return []

    multiple = question.type is QuestionType.SELECT_MULTIPLE
    ticked = draft if draft is not None else set((previous or "").split())
    offered = {c.id for c in available}
    choices = tuple(c for c in ordered_choices(question, t.language) if c.id in offered)
    rows: list[list[InlineKeyboardButton]] = []
    if len(choices) > LIST_LIMIT:
        pages = max(1, -(-len(choices) // PAGE_SIZE))
        page = min(max(page or 0, 0), pages - 1)
        shown = choices[page * PAGE_SIZE:(page + 1) * PAGE_SIZE]
    else:
        pages, shown = 1, choices
    action = Action.TOGGLE if multiple else Action.ANSWER
    for choice in shown:
        mark = CHECK if choice.id in ticked else ""
        rows.append([_button(mark + choice.label.get(t.language), action, survey, question,
                             question.choice_index[choice.id])])
    if pages > 1:
        assert page is not None
        paging = []
        if page > 0:
            paging.append(_button("‹ " + t.gettext("Previous"), Action.PAGE, survey, question,
                                  page - 1))
        paging.append(_button(t.gettext("Page {page} of {pages}", page=page + 1, pages=pages),
                              Action.PAGE, survey, question, page))
        if page < pages - 1:
            paging.append(_button(t.gettext("Next") + " ›", Action.PAGE, survey, question,
                                  page + 1))
        rows.append(paging)
    if multiple:
        rows.append([_button(t.gettext("Done") + " ✔", Action.DONE, survey, question)])
    return rows


def page_of(question: Question, language: str, choice_id: str) -> int:
    """The page of a long list on which ``choice_id`` is shown."""
    for position, choice in enumerate(ordered_choices(question, language)):
        if choice.id == choice_id:
            return position // PAGE_SIZE
    return 0


def search_results_view(
    t: Translator, survey: Survey, question: Question, found: Sequence[int]
) -> View:
    """Choices matching what the participant typed, as buttons."""
    if not found:
        return View(_rtl(t, escape(t.gettext(
            "Nothing matches. Try typing fewer letters, or choose from the list above."))))
    rows = [[_button(question.choices[i].label.get(t.language), Action.ANSWER, survey, question,
                     i)] for i in found]
    return View(_rtl(t, escape(t.gettext("Did you mean one of these?"))),
                InlineKeyboardMarkup(rows))


def note_text(t: Translator, survey: Survey, question: Question, answers: Answers) -> str:
    """A note (or a read-only question with its value), labels filled in."""
    language = t.language
    text = f"<b>{escape(interpolate(survey, question.text.get(language), answers, language))}</b>"
    if question.hint:
        hint = interpolate(survey, question.hint.get(language), answers, language)
        text += f"\n<i>{escape(hint)}</i>"
    value = answers.get(question.id) if question.id in answers else question.default
    if question.read_only and value:
        text += f"\n→ {escape(answer_label(t, question, value))}"
    return _rtl(t, text)


def split_message(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Split a long text at paragraph boundaries (then lines, then hard) to fit ``limit``."""
    if len(text) <= limit:
        return [text]
    parts: list[str] = []
    current = ""
    for paragraph in text.split("\n\n"):
        candidate = f"{current}\n\n{paragraph}" if current else paragraph
        if len(candidate) <= limit:
            current = candidate
            continue
        if current:
            parts.append(current)
        while len(paragraph) > limit:
            cut = paragraph.rfind("\n", 0, limit)
            cut = cut if cut > 0 else limit
            parts.append(paragraph[:cut])
            paragraph = paragraph[cut:].lstrip("\n")
        current = paragraph
    if current:
        parts.append(current)
    return parts
