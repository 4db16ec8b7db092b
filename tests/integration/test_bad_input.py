"""Anything unexpected gets a short translated hint, stores nothing and crashes nothing."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from telegram import Update

from tests import stored
from tests.integration.harness import TOKEN, Harness, Person


def snapshot(harness: Harness) -> tuple[list[Any], list[Any]]:
    answers = stored.rows(harness.db, "SELECT question_id, value FROM answers ORDER BY question_id")
    responses = stored.rows(harness.db, "SELECT current, draft FROM responses")
    return answers, responses


async def at_role_question(harness: Harness, user_id: int, language: str = "en") -> Person:
    person = harness.person(user_id, language_code=language)
    await person.start({"en": "English", "fr": "Français", "es": "Español",
                        "ar": "العربية"}[language])
    return person


async def to_the_year_question(alice: Person) -> None:
    """From the role question to the year the partnership started."""
    await alice.press("Migrant")
    await alice.send("Peru")  # named in full: taken without a tap
    await alice.press("Skip »")
    await alice.press("Yes")
    for choice in ("Local (city or area)", "Media", "Working together on data"):
        await alice.press(choice)
        await alice.press("Done ✔")
    await alice.press("Skip »")
    await alice.press("3")
    await alice.press("3")


async def test_text_where_buttons_are_expected(harness: Harness) -> None:
    alice = await at_role_question(harness, 50)
    before = snapshot(harness)
    replies = await alice.send("I am a migrant")
    assert replies[0].text == "Please use the buttons below the question."
    assert "Which of these best describes you" in replies[-1].text  # asked again
    assert snapshot(harness) == before


@pytest.mark.parametrize("kind", ["sticker", "photo", "voice", "document", "location"])
async def test_media_and_other_message_kinds_are_not_stored(harness: Harness, kind: str) -> None:
    alice = await at_role_question(harness, 51)
    before = snapshot(harness)
    senders = {
        "sticker": lambda: alice.user.send_sticker(),
        "photo": lambda: alice.user.send_photo(),
        "voice": lambda: alice.user.send_voice(),
        "document": lambda: alice.user.send_document(b"%PDF-1.4", "cv.pdf", "application/pdf"),
        "location": lambda: alice.user.send_location(48.85, 2.35),
    }
    count = len(alice.messages)
    senders[kind]()
    await harness.settle()
    reply = alice.messages[count:]
    assert [m.text for m in reply] == [
        "Sorry, I can only read text messages and button presses. Nothing was saved."]
    assert snapshot(harness) == before


async def test_a_hint_in_the_participant_language(harness: Harness) -> None:
    alice = await at_role_question(harness, 52, "ar")
    alice.user.send_sticker()
    await harness.settle()
    assert alice.last.text != "Sorry, I can only read text messages and button presses. " \
        "Nothing was saved."


async def test_an_answer_longer_than_the_question_allows(harness: Harness) -> None:
    alice = await at_role_question(harness, 53)
    await alice.press("Other")
    before = snapshot(harness)
    replies = await alice.send("x" * 201)  # role_other takes 200 characters
    assert replies[-1].text == (
        "Your answer is too long: please keep it under 200 characters.")
    assert snapshot(harness) == before


async def test_a_number_that_is_not_a_number_and_an_out_of_range_year(
    harness: Harness,
) -> None:
    alice = await at_role_question(harness, 54)
    await to_the_year_question(alice)
    before = snapshot(harness)
    replies = await alice.send("a long time ago")
    assert replies[-1].text == "Please type a whole number, for example 12."
    replies = await alice.send("1900")
    assert "1950" in replies[-1].text  # the survey's own constraint message
    assert snapshot(harness) == before


async def test_none_combined_with_other_choices_is_refused(harness: Harness) -> None:
    alice = await at_role_question(harness, 55)
    await to_the_year_question(alice)
    await alice.press("Skip »")
    await alice.press("No shared data")
    await alice.press("No particular difficulty")
    before = snapshot(harness)
    replies = await alice.press("Done ✔")
    assert "cannot" in replies[-1].text.lower() or "can't" in replies[-1].text.lower()
    assert snapshot(harness) == before
    await alice.press("✓ No shared data")
    await alice.press("Done ✔")
    assert stored.value(harness.db, "SELECT value FROM answers "
                        "WHERE question_id = 'difficulties'") == "none"


async def test_done_without_any_choice(harness: Harness) -> None:
    alice = await at_role_question(harness, 56)
    await alice.press("Migrant")
    await alice.send("Peru")  # named in full: taken without a tap
    await alice.press("Skip »")
    await alice.press("Yes")
    replies = await alice.press("Done ✔")
    assert replies[-1].text == "Please choose at least one option, then press “Done”."


async def test_an_old_button_and_a_forged_one(harness: Harness) -> None:
    alice = await at_role_question(harness, 57)
    role_question = alice.last
    old = role_question.button(1).callback_data
    await alice.press("Migrant")
    before = snapshot(harness)
    for data in (old, "A:00000000:0:1", "garbage", "L:xx"):
        assert data is not None
        query = alice.user.press_data(role_question.message_id, data)
        await harness.settle()
        assert harness.api.callback_answers[query].get("text") == (
            "This button is no longer active."), data
    assert snapshot(harness) == before


async def test_a_double_tap_records_one_answer(harness: Harness) -> None:
    alice = await at_role_question(harness, 58)
    question = alice.last
    count = len(alice.messages)
    alice.user.press(question, "Migrant")
    alice.user.press_data(question.message_id, question.button("Media or journalism")
                          .callback_data or "")
    await harness.settle()
    assert snapshot(harness)[0] == [("role", "migrant")]
    asked = [m for m in alice.messages[count:] if "Question" in m.text]
    assert len(asked) == 1  # the country question, once


async def test_an_update_delivered_twice_is_applied_once(harness: Harness) -> None:
    alice = await at_role_question(harness, 59)
    await alice.press("Migrant")
    await alice.send("Fi")  # Finland, Fiji…: offered as buttons
    delivered = [call for call in harness.api.calls
                 if call.method == "getUpdates" and call.response.get("result")]
    last_update = delivered[-1].response["result"][-1]
    assert last_update["message"]["text"] == "Fi"
    await alice.press("Fiji")
    before = snapshot(harness)
    assert harness.application is not None
    # the "Fiji" press, delivered again (as after a crash before the offset was confirmed)
    press = next(call.response["result"][-1] for call in reversed(harness.api.calls)
                 if call.method == "getUpdates" and call.response.get("result"))
    update = Update.de_json(press, harness.application.bot)
    await harness.application.process_update(update)
    assert snapshot(harness) == before


async def test_a_command_in_a_group_points_to_the_private_chat(harness: Harness) -> None:
    group = harness.api.group(-1001234567890, "Diaspora association")
    alice = harness.person(60)
    alice.user.send("/start", chat=group)
    alice.user.send("just chatting", chat=group)
    await harness.settle()
    replies = harness.api.messages(group.id)
    assert len(replies) == 1
    assert "private chat" in replies[0].text
    assert "t.me/" in replies[0].text
    assert stored.count(harness.db, "participants") == 0


async def test_an_unknown_command(harness: Harness) -> None:
    alice = harness.person(61)
    replies = await alice.send("/export")
    assert replies[-1].text == "I don't know that command. Send /help to see what I can do."


async def test_logs_never_hold_the_token_answers_or_user_ids(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    alice = await at_role_question(harness, 987654321)
    await alice.press("Other")
    await alice.send("Secret occupation 7731")
    await alice.send("/mydata")
    harness.api.fail_next("sendMessage", status=500)
    await alice.send("/help")
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert caplog.records, "nothing was logged at all"
    assert TOKEN not in text
    assert "Secret occupation" not in text
    assert "987654321" not in text


async def test_typing_a_choice_label_or_a_scale_value_counts_as_pressing_it(
    harness: Harness,
) -> None:
    alice = await at_role_question(harness, 62)
    replies = await alice.send("migrant")
    assert "In which country" in replies[-1].text
    await alice.send("Peru")  # named in full: taken without a tap
    await alice.press("Skip »")
    await alice.send("YES")
    for choice in ("Local (city or area)", "Media", "Working together on data"):
        await alice.press(choice)
        await alice.press("Done ✔")
    await alice.press("Skip »")
    replies = await alice.send("4")
    assert "How well did this partnership" in replies[-1].text or "effective" in replies[-1].text
    replies = await alice.send("9")
    assert replies[-1].text == "Please type a number of at most 5."
    answers = dict(snapshot(harness)[0])
    assert (answers["role"], answers["partnership"], answers["inclusiveness"]) == (
        "migrant", "yes", "4")
