"""The participant's controls: resume, back, skip, language, consent, /mydata, /delete."""

from __future__ import annotations

from bot.survey.model import Survey

from tests import stored
from tests.integration.harness import Harness, complete_quickly, stored_answers


async def test_resume_after_a_restart_where_the_participant_stopped(harness: Harness) -> None:
    alice = harness.person(20)
    await alice.start()
    await alice.press("Migrant")
    await alice.send("Senegal")
    await harness.restart()  # days later, after the server was restarted
    replies = await alice.send("/start")
    assert "Welcome back" in replies[0].text
    assert "What is your country of origin?" in replies[-1].text
    assert "Question 3 of 16" in replies[-1].text
    assert stored_answers(harness) == {"role": "migrant", "residence": "SN"}


async def test_a_half_ticked_multiple_choice_survives_a_restart(harness: Harness) -> None:
    alice = harness.person(21)
    await alice.start()
    await alice.press("Migrant")
    await alice.send("Italy")
    await alice.press("Skip »")
    await alice.press("Yes")
    await alice.press("Local (city or area)")
    await harness.restart()
    replies = await alice.send("/start")
    assert "✓ Local (city or area)" in alice.labels(replies[-1])
    await alice.press("National (whole country)")
    await alice.press("Done ✔")
    assert stored_answers(harness)["levels"] == "local national"


async def test_back_changes_an_answer_and_drops_what_no_longer_applies(
    harness: Harness,
) -> None:
    alice = harness.person(22)
    await alice.start()
    await alice.press("Other")
    replies = await alice.send("Teacher")  # "other, please specify"
    assert "In which country" in replies[-1].text
    replies = await alice.press("« Back")
    assert "Your answer so far: Teacher" in replies[-1].text
    replies = await alice.send("/back")
    assert "Which of these best describes you" in replies[-1].text
    assert "✓ Other" in alice.labels(replies[-1])
    replies = await alice.press("Migrant")
    assert "In which country" in replies[-1].text
    assert stored_answers(harness) == {"role": "migrant"}  # the specification was dropped


async def test_going_back_then_forward_offers_to_keep_an_answer(harness: Harness) -> None:
    alice = harness.person(23)
    await alice.start()
    await alice.press("Other")
    await alice.send("Teacher")
    await alice.send("/back")
    await alice.send("/back")
    replies = await alice.press("✓ Other")
    assert "Your answer so far: Teacher" in replies[-1].text
    replies = await alice.press("Keep")
    assert "In which country" in replies[-1].text
    assert stored_answers(harness) == {"role": "other", "role_other": "Teacher"}


async def test_skip_is_refused_for_a_required_question(harness: Harness) -> None:
    alice = harness.person(24)
    first = await alice.start()
    assert "Skip »" not in alice.labels(first[-1])
    replies = await alice.send("/skip")
    assert replies[-1].text == "This question needs an answer."
    assert stored.count(harness.db, "answers") == 0


async def test_back_on_the_first_question_says_there_is_nothing_before(
    harness: Harness,
) -> None:
    alice = harness.person(25)
    await alice.start()
    replies = await alice.send("/back")
    assert "first question" in replies[-1].text


async def test_switching_language_resends_the_current_question(
    harness: Harness, consultation: Survey
) -> None:
    alice = harness.person(26)
    await alice.start()
    await alice.press("Migrant")
    await alice.send("/language")
    replies = await alice.press("Français")
    assert consultation.by_id["residence"].text.get("fr") in replies[-1].text
    assert "Question 2 sur 16" in replies[-1].text.replace("\u2068", "").replace("\u2069", "")
    found = await alice.send("Alle")
    assert "Allemagne" in alice.labels(found[-1])


async def test_the_consent_details_and_declining(harness: Harness) -> None:
    bob = harness.person(27)
    await bob.send("/start")
    await bob.press("English")
    details = await bob.press("More information")
    assert "delete" in details[-1].text.lower()
    assert stored.count(harness.db, "participants") == 1  # the language choice, nothing else
    replies = await bob.press("No thanks")
    assert "Nothing about you has been kept" in replies[-1].text
    assert "/start" in replies[-1].text
    assert stored.count(harness.db, "participants") == 0
    assert stored.count(harness.db, "responses") == 0
    assert stored.rows(harness.db, "SELECT kind, language FROM events") == [("declined", "en")]
    # the consent buttons of the first message are gone; a later /start starts afresh
    replies = await bob.send("/start")
    assert "choose your language" in replies[-1].text


async def test_no_questions_before_consent(harness: Harness) -> None:
    bob = harness.person(28)
    await bob.send("/start")
    await bob.press("English")
    replies = await bob.send("Migrant")
    assert "buttons above" in replies[-1].text
    assert stored.count(harness.db, "responses") == 0


async def test_mydata_shows_what_is_stored_in_the_participant_language(
    harness: Harness,
) -> None:
    alice = harness.person(29, language_code="fr")
    await alice.start("Français")
    await alice.press("Personne migrante")
    replies = await alice.send("/mydata")
    text = "\n".join(m.text for m in replies)
    assert "Français" in text
    assert "Personne migrante" in text
    assert "En cours" in text or "cours" in text


async def test_delete_erases_everything_and_start_is_fresh(harness: Harness) -> None:
    alice = harness.person(30)
    await alice.start()
    await alice.press("Migrant")
    prompt = await alice.send("/delete")
    assert "cannot be undone" in prompt[-1].text
    await alice.press("No, keep my answers")
    assert stored.count(harness.db, "answers") == 1
    await alice.send("/delete")
    await alice.press("Yes, delete everything")
    assert alice.messages[-1].text.startswith("Everything about you has been deleted")
    for table in ("participants", "responses", "answers"):
        assert stored.count(harness.db, table) == 0, table
    assert stored.rows(harness.db, "SELECT kind FROM events") == [("deleted",)]
    replies = await alice.send("/mydata")
    assert replies[-1].text == "Nothing is stored about you."
    replies = await alice.send("/start")
    assert "choose your language" in replies[-1].text


async def test_a_completed_participant_gets_a_short_note(
    harness: Harness, consultation: Survey
) -> None:
    alice = harness.person(31)
    await complete_quickly(alice)
    replies = await alice.send("/start")
    assert "already completed" in replies[-1].text
    replies = await alice.send("hello")
    assert "already completed" in replies[-1].text


async def test_help_lists_every_command_and_each_has_a_handler(harness: Harness) -> None:
    alice = harness.person(32)
    replies = await alice.send("/help")
    listed = [line.split(" ")[0] for line in replies[-1].text.splitlines()
              if line.startswith("/")]
    assert listed == ["/start", "/back", "/skip", "/language", "/mydata", "/delete",
                      "/subscribe", "/unsubscribe", "/stop", "/help"]
    for command in listed:
        answer = await alice.send(command)
        assert answer, command
        assert "don't know that command" not in answer[-1].text, command


async def test_command_menus_are_set_in_every_language(harness: Harness) -> None:
    menus = harness.api.commands
    languages = {language for (_, language) in menus}
    assert {"", "en", "fr", "es", "ar"} <= languages
    french = next(v for (scope, language), v in menus.items() if language == "fr")
    assert [c["command"] for c in french][:2] == ["start", "back"]
