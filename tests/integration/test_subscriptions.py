"""Opting in and out of summaries and reminders, for people and for groups."""

from __future__ import annotations

from bot.survey.model import Survey

from tests import stored
from tests.integration.harness import ORGANIZER, Harness, complete_quickly


def subscribers(harness: Harness) -> dict[int, tuple[str, str, str | None]]:
    return {row[0]: (row[1], row[2], row[3]) for row in stored.rows(
        harness.db, "SELECT chat_id, kind, language, name FROM subscriptions")}


async def test_the_end_of_the_consultation_offers_the_results(harness: Harness) -> None:
    alice = harness.person(301)
    await complete_quickly(alice)
    assert "receive a summary" in alice.last.text
    await alice.press("Yes, send me the results")
    assert subscribers(harness) == {301: ("participant", "en", None)}
    assert "/unsubscribe" in alice.last.text
    replies = await alice.send("/unsubscribe")
    assert "not receive summaries any more" in replies[-1].text
    assert subscribers(harness) == {}


async def test_subscribe_without_taking_part_and_delete_removes_it(harness: Harness) -> None:
    bob = harness.person(302, language_code="es")
    await bob.send("/subscribe")
    assert subscribers(harness) == {302: ("participant", "es", None)}  # the app's language
    await bob.send("/start")
    await bob.press("Español")
    await bob.send("/delete")
    await bob.press(bob.labels()[0])
    assert subscribers(harness) == {}


async def test_stop_turns_reminders_off(harness: Harness) -> None:
    carol = harness.person(303)
    await carol.start()
    replies = await carol.send("/stop")
    assert "no more reminders" in replies[-1].text.lower() or "any more reminders" in \
        replies[-1].text
    assert stored.value(harness.db, "SELECT reminders_off FROM participants WHERE id = 303") == 1


async def test_an_organizer_registers_a_group_in_its_language(
    harness: Harness, consultation: Survey
) -> None:
    group = harness.api.group(-1005550001, "Association des Sénégalais de Lyon")
    boss = harness.api.user(ORGANIZER)
    boss.send("/subscribe fr", chat=group)
    await harness.settle()
    [reply] = harness.api.messages(group.id)
    assert "Français" in reply.text
    assert subscribers(harness) == {group.id: ("group", "fr",
                                               "Association des Sénégalais de Lyon")}
    stranger = harness.api.user(304)
    stranger.send("/unsubscribe", chat=group)
    await harness.settle()
    assert group.id in subscribers(harness)  # only organizers may change it
    assert "private chat" in harness.api.messages(group.id)[-1].text
    boss.send("/unsubscribe", chat=group)
    await harness.settle()
    assert subscribers(harness) == {}


async def test_a_subscriber_who_never_took_part_gets_the_summary(harness: Harness) -> None:
    from bot.scheduling import start_round
    from storage.rounds import SUMMARY

    dave = harness.person(305)
    await dave.send("/subscribe")
    assert harness.application is not None and harness.application.bot_data.worker
    started = await start_round(harness.application, SUMMARY, "test")
    assert started.recipients == 1
    await harness.application.bot_data.worker.drained()
    assert dave.messages[-1].kind == "photo"
