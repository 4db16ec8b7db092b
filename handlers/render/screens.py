"""The screens around the survey: language, consent, deletion, the offer of summaries,
reminders, the end, /mydata and /help."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from babel.dates import format_date, format_datetime
from bot.config import Config
from bot.i18n import LRM, RLM, Translator, language_name, titled
from bot.participation.outcomes import Completion, MyData, Say
from bot.rounds import Reminder
from bot.survey.model import Survey
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from handlers.callbacks import Kind, make
from handlers.render.html import View, escape
from handlers.render.question import answer_label, round_label
from handlers.render.words import notice, rtl


def _keyboard(*rows: tuple[str, str]) -> InlineKeyboardMarkup:
    """One button per row: (label, callback data)."""
    return InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=data)]
                                 for label, data in rows])


def language_label(survey: Survey, code: str) -> str:
    """A language as its speakers name it (or as the survey file names one CLDR lacks)."""
    return survey.language_names.get(code) or language_name(code)


def title(t: Translator, survey: Survey) -> str:
    """The survey's title in the language, or a neutral one when the form has none."""
    return titled(t, survey.title.get(t.language))


def language_keyboard(survey: Survey, languages: Sequence[str]) -> InlineKeyboardMarkup:
    """Each language named in its own script: two per row, three when there are many, so
    that a dozen languages still fit one phone screen."""
    buttons = [InlineKeyboardButton(language_label(survey, code),
                                    callback_data=make(Kind.LANGUAGE, code))
               for code in languages]
    per_row = 2 if len(buttons) <= 6 else 3
    return InlineKeyboardMarkup([buttons[i:i + per_row]
                                 for i in range(0, len(buttons), per_row)])


def language_view(t: Translator, survey: Survey, languages: Sequence[str]) -> View:
    return View(rtl(t, escape(t.gettext("Please choose your language."))),
                language_keyboard(survey, languages))


def language_set_text(t: Translator, survey: Survey, language: str) -> str:
    return rtl(t, escape(t.gettext("Language: {language}",
                                   language=language_label(survey, language))))


def consent_view(t: Translator, survey: Survey, config: Config, details: bool = False) -> View:
    """The consent notice (or its longer explanation) with I agree / No thanks.

    ``{organizer}``, ``{contact}`` and ``{ends}`` in the survey's texts are filled
    in from the configuration, or with general words when it leaves them out.
    """
    language = t.language
    rows = [(t.gettext("I agree"), make(Kind.CONSENT, "y")),
            (t.gettext("No thanks"), make(Kind.CONSENT, "n"))]
    if details:
        text = (survey.consent_details.get(language) if survey.consent_details else t.gettext(
            "What is stored: your answers, your language, when you answered, and your "
            "Telegram user number (not your phone number), which lets you continue later and "
            "delete your answers. Organizers see answers under a pseudonymous code; published "
            "figures never describe fewer than a few people. Your answers are kept until the "
            "consultation ends. Please do not write names or details that could identify "
            "anyone. Send /delete at any time to erase everything."))
        return View(rtl(t, _about(t, config, escape(text))), _keyboard(*rows))
    notice_text = (survey.consent_notice.get(language) if survey.consent_notice else t.gettext(
        "Taking part is voluntary and you can stop at any time. Your answers are stored "
        "with your Telegram user number, only to let you continue later and delete them; "
        "results never show who answered. See your answers with /mydata and delete them with "
        "/delete."))
    parts = [f"<b>{escape(title(t, survey))}</b>"]
    if survey.introduction:
        parts.append(escape(survey.introduction.get(language)))
    parts.append(escape(notice_text))
    rows.append((t.gettext("More information"), make(Kind.CONSENT, "i")))
    return View(rtl(t, _about(t, config, "\n\n".join(parts))), _keyboard(*rows))


def _about(t: Translator, config: Config, markup: str) -> str:
    """Who runs the consultation, how to reach them, when it ends, in the notice's words."""
    filled = {
        "{organizer}": config.organizer or t.gettext("the team behind this bot"),
        "{contact}": config.contact or t.gettext("Send /help."),
        "{ends}": (format_date(config.ends, "long", locale=t.locale) if config.ends
                   else t.gettext("the consultation ends")),
    }
    for placeholder, value in filled.items():
        markup = markup.replace(placeholder, t.isolate(escape(value)))
    return markup


def delete_view(t: Translator) -> View:
    return View(rtl(t, escape(t.gettext(
        "Do you want to delete everything stored about you? This cannot be undone."))),
        _keyboard((t.gettext("Yes, delete everything"), make(Kind.DELETE, "y")),
                  (t.gettext("No, keep my answers"), make(Kind.DELETE, "n"))))


def subscription_offer(t: Translator) -> View:
    """Asked at the end of the consultation."""
    return View(rtl(t, escape(t.gettext(
        "Would you like to receive a summary of the consultation's results when they are "
        "published? You can stop at any time with /unsubscribe."))),
        _keyboard((t.gettext("Yes, send me the results"), make(Kind.OFFER, "y")),
                  (t.gettext("No, thank you"), make(Kind.OFFER, "n"))))


def reminder_view(t: Translator, survey: Survey, reminder: Reminder) -> View:
    """A reminder to come back: how far the person got, Continue and Stop reminders."""
    name = title(t, survey)
    if reminder.consented:
        text = t.gettext("You have answered {answered} of {total} questions of “{title}”. "
                         "Would you like to continue where you stopped?",
                         answered=reminder.answered, total=reminder.total, title=name)
        go = t.gettext("Continue")
    else:
        text = t.gettext("You opened “{title}” but have not started yet. Would you like to "
                         "take part?", title=name)
        go = t.gettext("Take part")
    return View(rtl(t, escape(text)),
                _keyboard((go, make(Kind.REMINDER, "c")),
                          (t.gettext("Stop reminders"), make(Kind.REMINDER, "s"))))


def completion_text(t: Translator, completion: Completion) -> str:
    text = (escape(completion.closing) if completion.closing
            else escape(t.gettext("Thank you for taking part!")))
    text += "\n\n" + escape(t.gettext(
        "You can see your answers with /mydata and delete them with /delete."))
    return rtl(t, text)


def my_data_text(t: Translator, survey: Survey, data: MyData) -> str:
    """Everything stored about the participant, as readable text (Telegram HTML)."""
    if data.created_at is None and data.subscribed_language is None:
        return notice(t, Say("nothing_stored"))

    def when(moment: dt.datetime | None) -> str:
        return format_datetime(moment, "medium", tzinfo=None, locale=t.locale) + " UTC"

    heading = escape(t.gettext("What is stored about you"))
    lines = [f"<b>{heading}</b>"]
    if data.language:
        lines.append(escape(t.gettext("Language: {language}",
                                      language=language_label(survey, data.language))))
    if data.created_at is not None:
        lines.append(escape(t.gettext("First contact: {time}", time=when(data.created_at))))
    if data.source:
        lines.append(escape(t.gettext("Link you came from: {source}", source=data.source)))
    if data.consented_at:
        lines.append(escape(t.gettext("Consent given: {time}", time=when(data.consented_at))))
    if data.subscribed_language:
        lines.append(escape(t.gettext("You receive summaries of the results in {language}.",
                                      language=language_label(survey, data.subscribed_language))))
    if data.reminders_off:
        lines.append(escape(t.gettext("You asked for no reminders.")))
    paragraphs = ["\n".join(lines)]
    if data.started:
        status = (t.gettext("Completed: {time}", time=when(data.completed_at))
                  if data.completed_at else t.gettext("In progress"))
        paragraphs.append(escape(status))
        heading = escape(t.gettext("Your answers"))
        paragraphs.append(f"<b>{heading}</b>")
        shown = [(f"<i>{escape(round_label(t, stored.rounds))}</i>\n" if stored.rounds else "")
                 + f"{escape(stored.text)}\n→ "
                 f"{escape(answer_label(t, stored.question, stored.value))}"
                 for stored in data.answers]
        paragraphs.extend(shown or [escape(t.gettext("No answers yet."))])
    paragraphs.append(escape(t.gettext(
        "Your Telegram user number is kept only so that you can continue later and delete "
        "your answers; it never appears in results or exports. Send /delete to erase "
        "everything.")))
    return rtl(t, "\n\n".join(paragraphs))


def help_text(t: Translator, commands: Sequence[tuple[str, str]]) -> str:
    """What the bot does, and its commands with their descriptions."""
    intro = escape(t.gettext(
        "I ask the consultation's questions one at a time. Answer with the buttons, or type "
        "when I ask you to. You can stop at any time and come back later."))
    # In right-to-left text, the marks keep each line right-aligned and "/name" whole.
    start = f"{RLM}{LRM}" if t.rtl else ""
    listed = "\n".join(f"{start}/{name} — {escape(text)}" for name, text in commands)
    return f"{intro}\n\n{listed}"
