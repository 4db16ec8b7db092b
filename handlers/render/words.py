"""The bot's own short messages, worded from the codes the use cases return."""

from __future__ import annotations

from decimal import Decimal

from bot.i18n import RLM, Translator
from bot.participation import TYPED
from bot.participation.outcomes import Say
from bot.survey.expressions import Limits
from bot.survey.model import QuestionType

from handlers.render.html import escape


def rtl(t: Translator, text: str) -> str:
    """A message that starts right-aligned in a right-to-left language."""
    return RLM + text if t.rtl else text


def whole(value: object) -> object:
    """A bound as it is written: an integral number as a whole number (no separators)."""
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    return value


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
            limits = params.get("limits")
            said = _limits(t, limits) if isinstance(limits, Limits) else ""
            if said and isinstance(limits, Limits) and limits.complete:
                return said
            return " ".join(filter(None, (t.gettext(
                "This answer is not accepted. Please check it and try again."), said)))
        case "not_integer":
            return t.gettext("Please type a whole number, for example 12.")
        case "not_number":
            return t.gettext("Please type a number, for example 2.5.")
        case "not_date":
            return t.gettext("Please type a date as day/month/year, for example 31/12/2000.")
        case "too_small":
            return t.gettext("Please type a number of at least {minimum}.",
                             minimum=whole(params["minimum"]))
        case "year_range":
            return t.gettext("Please type a year from {minimum} to {maximum}.",
                             minimum=whole(params["minimum"]), maximum=whole(params["maximum"]))
        case "too_large":
            return t.gettext("Please type a number of at most {maximum}.",
                             maximum=whole(params["maximum"]))
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


def _limits(t: Translator, limits: Limits) -> str:
    """What a constraint asks, in words (the parts the importer could read)."""
    said = []
    low, high = whole(limits.minimum), whole(limits.maximum)
    if limits.minimum is not None and limits.maximum is not None and not (
            limits.minimum_excluded or limits.maximum_excluded):
        said.append(t.gettext("Please type a number from {minimum} to {maximum}.",
                              minimum=low, maximum=high))
    else:
        if limits.minimum is not None:
            said.append(t.gettext("Please type a number greater than {minimum}.", minimum=low)
                        if limits.minimum_excluded else
                        t.gettext("Please type a number of at least {minimum}.", minimum=low))
        if limits.maximum is not None:
            said.append(t.gettext("Please type a number less than {maximum}.", maximum=high)
                        if limits.maximum_excluded else
                        t.gettext("Please type a number of at most {maximum}.", maximum=high))
    if limits.min_length is not None:
        said.append(t.ngettext("Please write at least {count} character.",
                               "Please write at least {count} characters.",
                               limits.min_length, count=limits.min_length))
    if limits.max_length is not None:
        said.append(t.ngettext("Please write at most {count} character.",
                               "Please write at most {count} characters.",
                               limits.max_length, count=limits.max_length))
    if limits.min_selected is not None:
        said.append(t.ngettext("Please choose at least {count} option.",
                               "Please choose at least {count} options.",
                               limits.min_selected, count=limits.min_selected))
    if limits.max_selected is not None:
        said.append(t.ngettext("Please choose at most {count} option.",
                               "Please choose at most {count} options.",
                               limits.max_selected, count=limits.max_selected))
    if limits.pattern is not None and not said:
        said.append(t.gettext("Please check how your answer is written."))
    return " ".join(said)


def notice(t: Translator, say: Say) -> str:
    """A short message as Telegram HTML, aligned for the language."""
    return rtl(t, escape(words(t, say)))


def stale_notice(t: Translator) -> str:
    return t.gettext("This button is no longer active.")


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
