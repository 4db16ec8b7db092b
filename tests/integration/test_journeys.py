"""Complete participant journeys through the real bot, in each shipped language."""

from __future__ import annotations

import re

import pytest
from babel import Locale
from bot.i18n import Catalogs, Translator, language_name
from bot.survey.loader import BUILTIN_SURVEY, load_survey
from bot.survey.model import Survey

from tests import stored
from tests.integration.harness import Harness, Person

ARABIC = re.compile(r"[\u0600-\u06FF]")

# What a participant types to find their country: a few letters where that is enough,
# else the country's whole name in the language (CLDR's, as the list shows it).
COUNTRY_SEARCH = {"en": "Germ", "fr": "allem", "es": "alema", "ar": "ألما"}
# How a participant types the year, in the digits of the language.
YEAR = {"ar": "٢٠١٥", "fa": "۲۰۱۵", "ur": "۲۰۱۵", "bn": "২০১৫"}
LANGUAGES = load_survey(BUILTIN_SURVEY)[0].languages


def label(survey: Survey, question: str, choice: str, language: str) -> str:
    q = survey.by_id[question]
    return q.choices[q.choice_index[choice]].label.get(language)


async def answer_partnership_path(alice: Person, survey: Survey, t: Translator) -> None:
    """From the first question to the end, through the partnership branch."""
    language = t.language

    def pick(question: str, choice: str) -> str:
        return label(survey, question, choice, language)

    replies = await alice.press(pick("role", "migrant"))
    assert replies[-1].buttons  # the country question, paged
    expected = Locale.parse(language).territories["DE"]
    query = COUNTRY_SEARCH.get(language, expected)
    found = await alice.send(query)
    taken = any(f"→ {expected}" in m.text.replace("\u2068", "").replace("\u2069", "")
                for m in alice.messages)  # the only country these letters begin: shown
    if not taken:  # offered among others ("ألما" in Arabic)
        await alice.press(expected, found[-1])
    await alice.press(t.gettext("Skip »"))  # origin is optional
    replies = await alice.press(pick("partnership", "yes"))
    assert len(replies) == 2  # the note about the partnership, then the levels question
    assert survey.by_id["partnership_intro"].text.get(language) in replies[0].text
    for choice in ("local", "regional"):
        await alice.press(pick("levels", choice))
    assert "✓ " + pick("levels", "local") in alice.labels()
    await alice.press(t.gettext("Done") + " ✔")
    await alice.press(pick("actors", "civil_society"))
    await alice.press(t.gettext("Done") + " ✔")
    await alice.press(pick("issues", "rights"))
    await alice.press(t.gettext("Done") + " ✔")
    await alice.press(t.gettext("Skip »"))  # domains
    await alice.press(t.number(4))  # inclusiveness
    await alice.press(t.number(3))  # effectiveness
    await alice.send(YEAR.get(language, "2015"))  # the year it started
    await alice.press(pick("difficulties", "divided_debate"))
    await alice.press(t.gettext("Done") + " ✔")
    closing = await alice.send("Cities that invite diaspora groups to planning meetings.")
    assert survey.closing is not None
    assert survey.closing.get(language) in closing[-2].text
    assert closing[-1].buttons  # the offer to receive the results


@pytest.mark.parametrize("language", LANGUAGES)
async def test_a_complete_consultation_in_each_language(
    harness: Harness, consultation: Survey, catalogs: Catalogs, language: str
) -> None:
    t = catalogs.get(language)
    alice = harness.person(10, language_code=language)
    picker = await alice.send("/start")
    assert alice.labels(picker[-1])[0] == language_name(language)  # the app's language first
    consent = await alice.press(language_name(language))
    notice = consultation.consent_notice.get(language)
    assert notice[:notice.index("{organizer}")] in consent[-1].text  # filled in from settings
    assert "{" not in consent[-1].text
    first = await alice.press(t.gettext("I agree"))
    assert t.gettext("Question {k} of {n}").split("{")[0].strip() in first[-1].text
    await answer_partnership_path(alice, consultation, t)

    answers = dict(stored.rows(harness.db, "SELECT question_id, value FROM answers"))
    assert answers == {
        "role": "migrant", "residence": "DE", "origin": None, "partnership": "yes",
        "levels": "local regional", "actors": "civil_society", "issues": "rights",
        "domains": None, "inclusiveness": "4", "effectiveness": "3", "started": "2015",
        "difficulties": "divided_debate",
        "good_practice": "Cities that invite diaspora groups to planning meetings.",
    }
    [(completed, current, response_language)] = stored.rows(
        harness.db, "SELECT completed_at, current, language FROM responses")
    assert completed is not None and current is None and response_language == language
    if t.rtl:
        for message in alice.messages:
            assert ARABIC.search(message.text), message.text
            assert message.text.startswith("\u200f"), message.text  # aligned right
    if language != "en":  # nothing of the bot's own words is left in English
        for message in alice.messages:
            assert not re.search(r"Question \d+ of|Choose all|Type a year|I agree",
                                 message.text), message.text


async def test_people_without_partnership_experience_are_asked_what_would_help(
    harness: Harness, consultation: Survey
) -> None:
    bob = harness.person(11)
    await bob.start()
    await bob.press(label(consultation, "role", "civil_society", "en"))
    await bob.send("Keny")  # the only country that begins so: taken at once
    await bob.press("Skip »")
    replies = await bob.press(label(consultation, "partnership", "no", "en"))
    assert consultation.by_id["would_help"].text.get("en") in replies[-1].text
    await bob.press(label(consultation, "would_help", "information", "en"))
    await bob.press("Done ✔")
    await bob.press("Skip »")  # good practice
    answers = dict(stored.rows(harness.db, "SELECT question_id, value FROM answers"))
    assert set(answers) == {"role", "residence", "origin", "partnership", "would_help",
                            "good_practice"}
    assert stored.value(harness.db,
                        "SELECT count(*) FROM responses WHERE completed_at IS NOT NULL") == 1


async def test_the_progress_counter_only_goes_down(harness: Harness) -> None:
    carol = harness.person(12)
    first = await carol.start()
    assert "Question 1 of 17" in first[-1].text
    second = await carol.press("Migrant")
    assert "Question 2 of 16" in second[-1].text  # "other, please specify" is not needed


async def test_the_next_question_never_waits_for_the_echo_or_the_spinner(
    harness: Harness, consultation: Survey
) -> None:
    alice = harness.person(12)
    await alice.send("/start")
    await alice.press("English")
    await alice.press("I agree")
    api = harness.api
    api.hold("editMessageText")  # Telegram slow to echo the answer into the question
    api.hold("answerCallbackQuery")  # and slow to stop the button's spinner
    before = len(alice.messages)
    alice.user.press(alice.with_button(label(consultation, "role", "migrant", "en")),
                     label(consultation, "role", "migrant", "en"))
    try:  # the country question arrives while both are still out
        await api.wait_until(lambda: len(alice.messages) > before and api.held == 2)
        assert alice.messages[-1].buttons
    finally:
        api.release("editMessageText")
        api.release("answerCallbackQuery")
    await harness.settle()
    answered = alice.messages[before - 1]  # the role question, now showing the answer
    assert "→" in answered.text and not answered.buttons
