"""What the participant sees: message texts and keyboards, made from outcomes. No I/O.

Texts are Telegram HTML; everything that comes from the survey file or from a
participant is escaped. Messages carry a right-to-left mark in RTL languages so
that a message starting with a number still aligns right.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence
from dataclasses import dataclass

from babel.dates import format_date, format_datetime
from bot.i18n import LRM, RLM, Translator, language_name
from bot.participation import PAGE_SIZE, SEARCHABLE_ABOVE, TYPED, Action
from bot.participation.outcomes import (
    Asking,
    Completion,
    Echo,
    MyData,
    Note,
    Say,
    SearchResults,
)
from bot.rounds import Reminder
from bot.survey.model import MEDIA_TYPES, Question, QuestionType, Survey
from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from handlers.callbacks import Kind, make, survey_button

MESSAGE_LIMIT = 4096
CHECK = "✓ "


@dataclass(frozen=True, slots=True)
class View:
    text: str
    keyboard: InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | None = None

    @property
    def buttons(self) -> InlineKeyboardMarkup | None:
        """The inline keyboard (the only kind an edited message can carry)."""
        return self.keyboard if isinstance(self.keyboard, InlineKeyboardMarkup) else None


def _rtl(t: Translator, text: str) -> str:
    return RLM + text if t.rtl else text


def escape(text: str) -> str:
    return html.escape(text, quote=False)


def _keyboard(*rows: tuple[str, str]) -> InlineKeyboardMarkup:
    """One button per row: (label, callback data)."""
    return InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=data)]
                                 for label, data in rows])


# --- the bot's own short messages ----------------------------------------------------


def words(t: Translator, say: Say) -> str:
    """A short message by its code, in the participant's language (plain text)."""
    params = say.params
    match say.code:
        case "custom":
            return str(params["text"])
        case "expected":
            return expected_hint(t, QuestionType(str(params["type"])))
        case "send_start":
            return t.gettext("Send /start to begin.")
        case "use_buttons_above":
            return t.gettext("Please use the buttons above to continue.")
        case "already_completed" | "completed":
            return t.gettext("You have already completed the consultation.")
        case "already_completed_long":
            return t.gettext(
                "You have already completed the consultation. Thank you! You can see your "
                "answers with /mydata and delete them with /delete.")
        case "welcome_back":
            return t.gettext("Welcome back! Let's continue where you stopped.")
        case "declined":
            return t.gettext("No problem. Nothing about you has been kept. If you change your "
                             "mind, send /start.")
        case "deleted":  # the bot cannot delete its older messages: the person can
            return t.gettext("Everything about you has been deleted. If you want to take part "
                             "again, send /start.") + "\n\n" + t.gettext(
                "The messages of this chat are still on your phone. To remove them too, "
                "delete this chat in Telegram.")
        case "nothing_stored":
            return t.gettext("Nothing is stored about you.")
        case "nothing_deleted":
            return t.gettext("Nothing was deleted.")
        case "subscribed":
            return t.gettext(
                "You will receive summaries of the results. Send /unsubscribe to stop.")
        case "unsubscribed":
            return t.gettext("You will not receive summaries any more.")
        case "offer_declined":
            return t.gettext("All right. Send /subscribe if you change your mind.")
        case "reminders_stopped":
            return t.gettext("You will not get any more reminders.")
        case "unsupported":
            return t.gettext(
                "Sorry, I can only read text messages and button presses. Nothing was saved.")
        case "file_too_large":
            return t.gettext("This file is too large: please send one under {size} MB.",
                             size=params["size"])
        case "file_not_received":
            return t.gettext("The file could not be received. Please send it again.")
        case "location_received":
            return t.gettext("Location received.")
    return _refusal(t, say)


def _refusal(t: Translator, say: Say) -> str:
    """What the engine refused (:mod:`bot.survey.engine` codes)."""
    params = say.params
    match say.code:
        case "constraint":
            return t.gettext("This answer is not accepted. Please check it and try again.")
        case "not_integer":
            return t.gettext("Please type a whole number, for example 12.")
        case "not_number":
            return t.gettext("Please type a number, for example 2.5.")
        case "not_date":
            return t.gettext("Please type a date as day/month/year, for example 31/12/2000.")
        case "too_small":
            return t.gettext("Please type a number of at least {minimum}.",
                             minimum=params["minimum"])
        case "too_large":
            return t.gettext("Please type a number of at most {maximum}.",
                             maximum=params["maximum"])
        case "too_long":
            limit = int(str(params["limit"]))
            return t.ngettext(
                "Your answer is too long: please keep it under {limit} character.",
                "Your answer is too long: please keep it under {limit} characters.",
                limit, limit=limit)
        case "choose_at_least_one":
            return t.gettext("Please choose at least one option, then press “Done”.")
        case "empty":
            return t.gettext("Please type your answer.")
        case "not_time":
            return t.gettext("Please type a time as hours:minutes, for example 14:30.")
        case "not_datetime":
            return t.gettext("Please type a date and a time, for example 31/12/2000 14:30.")
        case "no_answer_to_keep":
            return t.gettext("Please answer the question.")
        case "required":
            return t.gettext("This question needs an answer.")
        case "nothing_before":
            return t.gettext("This is the first question: there is nothing before it.")
    return t.gettext("Please use the buttons below the question.")


def notice(t: Translator, say: Say) -> str:
    """A short message as Telegram HTML, aligned for the language."""
    return _rtl(t, escape(words(t, say)))


def stale_notice(t: Translator) -> str:
    return t.gettext("This button is no longer active.")


# --- before the survey -------------------------------------------------------------


def language_keyboard(languages: Sequence[str]) -> InlineKeyboardMarkup:
    """Each language named in its own script, two per row."""
    buttons = [InlineKeyboardButton(language_name(code), callback_data=make(Kind.LANGUAGE, code))
               for code in languages]
    return InlineKeyboardMarkup([buttons[i:i + 2] for i in range(0, len(buttons), 2)])


def language_view(t: Translator, languages: Sequence[str]) -> View:
    return View(_rtl(t, escape(t.gettext("Please choose your language."))),
                language_keyboard(languages))


def language_set_text(t: Translator, language: str) -> str:
    return _rtl(t, escape(t.gettext("Language: {language}", language=language_name(language))))


def consent_view(t: Translator, survey: Survey, details: bool = False) -> View:
    """The consent notice (or its longer explanation) with I agree / No thanks."""
    language = t.language
    rows = [(t.gettext("I agree"), make(Kind.CONSENT, "y")),
            (t.gettext("No thanks"), make(Kind.CONSENT, "n"))]
    if details:
        text = escape(survey.consent_details.get(language) if survey.consent_details else
                      t.gettext(
            "What is stored: your answers, your language, when you answered, and your "
            "Telegram user number (not your phone number), which lets you continue later and "
            "delete your answers. Organizers see answers under a pseudonymous code; published "
            "figures never describe fewer than a few people. Your answers are kept until the "
            "consultation ends. Please do not write names or details that could identify "
            "anyone. Send /delete at any time to erase everything."))
        return View(_rtl(t, text), _keyboard(*rows))
    notice_text = (survey.consent_notice.get(language) if survey.consent_notice else t.gettext(
        "Taking part is voluntary and you can stop at any time. Your answers are stored "
        "with your Telegram user number, only to let you continue later and delete them; "
        "results never show who answered. See your answers with /mydata and delete them with "
        "/delete."))
    parts = [f"<b>{escape(survey.title.get(language))}</b>"]
    if survey.introduction:
        parts.append(escape(survey.introduction.get(language)))
    parts.append(escape(notice_text))
    rows.append((t.gettext("More information"), make(Kind.CONSENT, "i")))
    return View(_rtl(t, "\n\n".join(parts)), _keyboard(*rows))


def delete_view(t: Translator) -> View:
    return View(_rtl(t, escape(t.gettext(
        "Do you want to delete everything stored about you? This cannot be undone."))),
        _keyboard((t.gettext("Yes, delete everything"), make(Kind.DELETE, "y")),
                  (t.gettext("No, keep my answers"), make(Kind.DELETE, "n"))))


def subscription_offer(t: Translator) -> View:
    """Asked at the end of the consultation."""
    return View(_rtl(t, escape(t.gettext(
        "Would you like to receive a summary of the consultation's results when they are "
        "published? You can stop at any time with /unsubscribe."))),
        _keyboard((t.gettext("Yes, send me the results"), make(Kind.OFFER, "y")),
                  (t.gettext("No, thank you"), make(Kind.OFFER, "n"))))


def reminder_view(t: Translator, survey: Survey, reminder: Reminder) -> View:
    """A reminder to come back: how far the person got, Continue and Stop reminders."""
    title = survey.title.get(t.language)
    if reminder.consented:
        text = t.gettext("You have answered {answered} of {total} questions of “{title}”. "
                         "Would you like to continue where you stopped?",
                         answered=reminder.answered, total=reminder.total, title=title)
        go = t.gettext("Continue")
    else:
        text = t.gettext("You opened “{title}” but have not started yet. Would you like to "
                         "take part?", title=title)
        go = t.gettext("Take part")
    return View(_rtl(t, escape(text)),
                _keyboard((go, make(Kind.REMINDER, "c")),
                          (t.gettext("Stop reminders"), make(Kind.REMINDER, "s"))))


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


def answered_text(t: Translator, echo: Echo) -> str:
    """The question message once answered: the question and the answer, no buttons."""
    label = escape(answer_label(t, echo.question, echo.value))
    return _rtl(t, f"{escape(echo.text)}\n→ <b>{t.isolate(label)}</b>")


# --- the question ------------------------------------------------------------------


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


def question_view(t: Translator, survey: Survey, asking: Asking) -> View:
    """The message that asks the current question, with its buttons.

    An answer given before (after going back), or the question's default, is
    marked on the buttons or shown in the text with a "Keep" button; the draft
    holds the ticks of a multi-select question.
    """
    question = asking.question
    long_list = len(asking.choices) > SEARCHABLE_ABOVE
    k, n = asking.position
    counter = t.gettext("Question {k} of {n}", k=k, n=n)
    lines = [f"<i>{counter}</i>", f"<b>{escape(asking.text)}</b>"]
    if asking.hint:
        lines.append(f"<i>{escape(asking.hint)}</i>")
    instructions = _instructions(t, question, long_list)
    if instructions:
        lines.append(escape(instructions))
    keep = asking.has_previous and (
        question.type in TYPED or question.type in MEDIA_TYPES
        or question.type is QuestionType.LOCATION
        or (long_list and question.type is QuestionType.SELECT_ONE))
    if keep:
        label = escape(answer_label(t, question, asking.previous))
        lines.append(t.gettext("Your answer so far: {answer}", answer=label))

    rows = _choice_rows(t, survey, asking)
    nav: list[InlineKeyboardButton] = []
    if asking.can_go_back:
        nav.append(_button(t.gettext("« Back"), Action.BACK, survey, question))
    if keep:
        nav.append(_button(t.gettext("Keep"), Action.KEEP, survey, question))
    if asking.can_skip:
        nav.append(_button(t.gettext("Skip »"), Action.SKIP, survey, question))
    if nav:
        rows.append(nav)
    return View(_rtl(t, "\n".join(lines)), InlineKeyboardMarkup(rows) if rows else None)


def expected_hint(t: Translator, kind: QuestionType) -> str:
    """What to send instead, when a message does not fit the question."""
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


def _choice_rows(t: Translator, survey: Survey, asking: Asking
                 ) -> list[list[InlineKeyboardButton]]:
    question, previous = asking.question, asking.previous
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
    ticked = asking.draft if asking.draft is not None else set((previous or "").split())
    choices = asking.choices
    rows: list[list[InlineKeyboardButton]] = []
    page = 0
    if len(choices) > SEARCHABLE_ABOVE:
        pages = max(1, -(-len(choices) // PAGE_SIZE))
        page = min(max(asking.page or 0, 0), pages - 1)
        shown = choices[page * PAGE_SIZE:(page + 1) * PAGE_SIZE]
    else:
        pages, shown = 1, choices
    action = Action.TOGGLE if multiple else Action.ANSWER
    for choice in shown:
        mark = CHECK if choice.id in ticked else ""
        rows.append([_button(mark + choice.label.get(t.language), action, survey, question,
                             question.choice_index[choice.id])])
    if pages > 1:
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


def search_results_view(t: Translator, survey: Survey, results: SearchResults) -> View:
    """Choices matching what the participant typed, as buttons."""
    if not results.found:
        return View(_rtl(t, escape(t.gettext(
            "Nothing matches. Try typing fewer letters, or choose from the list above."))))
    question = results.question
    rows = [[_button(choice.label.get(t.language), Action.ANSWER, survey, question,
                     question.choice_index[choice.id])] for choice in results.found]
    return View(_rtl(t, escape(t.gettext("Did you mean one of these?"))),
                InlineKeyboardMarkup(rows))


def note_text(t: Translator, note: Note) -> str:
    """A note (or a read-only question with its value), labels filled in."""
    text = f"<b>{escape(note.text)}</b>"
    if note.hint:
        text += f"\n<i>{escape(note.hint)}</i>"
    if note.value:
        text += f"\n→ {escape(answer_label(t, note.question, note.value))}"
    return _rtl(t, text)


def completion_text(t: Translator, completion: Completion) -> str:
    text = (escape(completion.closing) if completion.closing
            else escape(t.gettext("Thank you for taking part!")))
    text += "\n\n" + escape(t.gettext(
        "You can see your answers with /mydata and delete them with /delete."))
    return _rtl(t, text)


def my_data_text(t: Translator, data: MyData) -> str:
    """Everything stored about the participant, as readable text (Telegram HTML)."""
    if data.created_at is None and data.subscribed_language is None:
        return notice(t, Say("nothing_stored"))

    def when(moment: dt.datetime | None) -> str:
        return format_datetime(moment, "medium", tzinfo=None, locale=t.locale) + " UTC"

    heading = escape(t.gettext("What is stored about you"))
    lines = [f"<b>{heading}</b>"]
    if data.language:
        lines.append(escape(t.gettext("Language: {language}",
                                      language=language_name(data.language))))
    if data.created_at is not None:
        lines.append(escape(t.gettext("First contact: {time}", time=when(data.created_at))))
    if data.source:
        lines.append(escape(t.gettext("Link you came from: {source}", source=data.source)))
    if data.consented_at:
        lines.append(escape(t.gettext("Consent given: {time}", time=when(data.consented_at))))
    if data.subscribed_language:
        lines.append(escape(t.gettext("You receive summaries of the results in {language}.",
                                      language=language_name(data.subscribed_language))))
    if data.reminders_off:
        lines.append(escape(t.gettext("You asked for no reminders.")))
    paragraphs = ["\n".join(lines)]
    if data.started:
        status = (t.gettext("Completed: {time}", time=when(data.completed_at))
                  if data.completed_at else t.gettext("In progress"))
        paragraphs.append(escape(status))
        heading = escape(t.gettext("Your answers"))
        paragraphs.append(f"<b>{heading}</b>")
        shown = [f"{escape(stored.text)}\n→ "
                 f"{escape(answer_label(t, stored.question, stored.value))}"
                 for stored in data.answers]
        paragraphs.extend(shown or [escape(t.gettext("No answers yet."))])
    paragraphs.append(escape(t.gettext(
        "Your Telegram user number is kept only so that you can continue later and delete "
        "your answers; it never appears in results or exports. Send /delete to erase "
        "everything.")))
    return _rtl(t, "\n\n".join(paragraphs))


def help_text(t: Translator, commands: Sequence[tuple[str, str]]) -> str:
    """What the bot does, and its commands with their descriptions."""
    intro = escape(t.gettext(
        "I ask the consultation's questions one at a time. Answer with the buttons, or type "
        "when I ask you to. You can stop at any time and come back later."))
    # In right-to-left text, the marks keep each line right-aligned and "/name" whole.
    start = f"{RLM}{LRM}" if t.rtl else ""
    listed = "\n".join(f"{start}/{name} — {escape(text)}" for name, text in commands)
    return f"{intro}\n\n{listed}"


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
