"""A household roster walked through the real bot, in English and in French: rounds named by
their answers, back across rounds, a round corrected from the review, a count lowered (asked
first), an open repeat, /mydata and /delete; its export from the chat, one zip."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from bot.sandbox.standin import StandIn
from bot.survey.loader import load_survey

from tests import stored
from tests.integration.harness import ORGANIZER, Harness, Person, stored_answers

ROSTER = Path(__file__).resolve().parents[1] / "forms" / "roster.yaml"


@pytest.fixture
async def harness(api: StandIn, tmp_path: Path) -> AsyncIterator[Harness]:
    survey, _ = load_survey(ROSTER)
    bot = Harness(api, tmp_path / "bot.sqlite3", survey)
    await bot.start()
    try:
        yield bot
    finally:
        await bot.stop()


def current(harness: Harness) -> str | None:
    return str(stored.value(harness.db, "SELECT current FROM responses"))


async def person_round(person: Person, name: str, age: str, sex: str,
                       works: str | None = None) -> None:
    await person.send(name)
    await person.send(age)
    await person.press(sex)
    if works is not None:
        await person.press(works)


async def test_a_roster_in_english(harness: Harness) -> None:
    amina = harness.person(301)
    replies = await amina.start()
    assert "How many people live in your household" in replies[-1].text
    replies = await amina.send("3")
    assert "Person 1 of 3 · Question 2 of 17" in replies[-1].text
    assert "First name of this person?" in replies[-1].text
    replies = await amina.send("Amina")
    assert "Amina · Question 3 of 17" in replies[-1].text  # the round is named by its answer
    assert "How old is Amina?" in replies[-1].text
    await amina.send("34")
    await amina.press("Woman")
    replies = await amina.press("Yes")
    assert "Person 2 of 3" in replies[-1].text
    await amina.send("Omar")
    await amina.send("12")
    replies = await amina.press("Man")  # 12: 'works' is not asked
    assert "Person 3 of 3" in replies[-1].text

    replies = await amina.send("/back")  # back across rounds: Omar's last answer
    assert "Omar ·" in replies[-1].text and "Omar is:" in replies[-1].text
    assert "✓ Man" in amina.labels(replies[-1])
    replies = await amina.send("/back")
    assert "How old is Omar?" in replies[-1].text and "Your answer so far: 12" in replies[-1].text
    await amina.press("Keep")
    replies = await amina.press("✓ Man")
    assert "Person 3 of 3" in replies[-1].text

    await person_round(amina, "Lina", "70", "Woman")
    replies = await amina.press("No")
    review = replies[-1]
    assert "Person\n1. Amina\n2. Omar\n3. Lina" in review.text
    assert amina.labels(review) == ["✏️ 1. Amina", "✏️ 2. Omar", "✏️ 3. Lina", "« Back",
                                    "Continue ›"]
    assert current(harness) == "member[+]"

    replies = await amina.press("✏️ 2. Omar")  # correct a round from the list
    assert "Omar · " in replies[-1].text and "First name of this person?" in replies[-1].text
    await amina.send("Omar Ba")
    await amina.send("16")
    await amina.press("✓ Man")
    replies = await amina.press("Yes")  # 16: now asked whether he works
    assert replies[-1].text.startswith("Person\n")  # straight back to the list
    assert "2. Omar Ba" in replies[-1].text
    answers = stored_answers(harness)
    assert answers["member[2]/member_name"] == "Omar Ba"
    assert answers["member[2]/works"] == "yes" and answers["member[3]/age"] == "70"

    replies = await amina.press("Continue ›")
    assert "Who is the head of the household?" in replies[-1].text
    assert amina.labels(replies[-1])[:2] == ["Amina", "Lina"]  # adults only: Omar Ba is 16
    replies = await amina.press("Amina")
    assert "Which organization helps your household?" in replies[-1].text
    assert "Organization 1 ·" in replies[-1].text
    await amina.send("Caritas")
    replies = await amina.press("An association")
    assert amina.labels(replies[-1])[0] == "➕ Add another"
    replies = await amina.press("➕ Add another")
    assert "Organization 2 ·" in replies[-1].text
    await amina.send("Town hall")
    await amina.press("A public service")
    replies = await amina.press("Continue ›")
    assert "Anything else?" in replies[-1].text
    await amina.press("Skip »")
    answers = stored_answers(harness)
    assert answers["total_age"] == "120" and answers["people_counted"] == "3"
    assert answers["helper[2]/helper_name"] == "Town hall"

    replies = await amina.send("/mydata")
    text = replies[-1].text
    assert "Omar Ba\nHow old is Omar Ba?\n→ 16" in text
    assert "Lina\nHow old is Lina?\n→ 70" in text
    assert "Town hall\nWhat is Town hall?\n→ A public service" in text

    await amina.send("/delete")
    await amina.press("Yes, delete everything")
    assert stored.count(harness.db, "answers") == 0
    assert stored.count(harness.db, "responses") == 0


async def test_a_roster_in_french_with_a_count_lowered(harness: Harness) -> None:
    awa = harness.person(302, language_code="fr")
    await awa.start("Français")
    replies = await awa.send("2")
    assert "Personne 1 sur 2 · Question 2 sur 13" in replies[-1].text
    await person_round(awa, "Awa", "40", "Femme", "Oui")
    await awa.send("Ali")
    replies = await awa.send("9")
    assert "Ali est :" in replies[-1].text
    for _ in range(7):  # back across both rounds, to the number of people
        replies = await awa.send("/back")
    assert "Combien de personnes" in replies[-1].text

    replies = await awa.send("1")  # Ali's round would go: asked first
    assert replies[-1].text == ("Avec cette réponse, ce que vous avez dit sur Ali sera "
                                "supprimé.")
    assert stored_answers(harness)["member[2]/age"] == "9"
    replies = await awa.press("Non, garder mes réponses")
    assert "Combien de personnes" in replies[-1].text
    assert stored_answers(harness)["household_size"] == "2"

    await awa.send("1")
    replies = await awa.press("Oui, supprimer ces réponses")
    assert "Personne\n1. Awa" in replies[-1].text  # Awa's round is complete: the list
    answers = stored_answers(harness)
    assert answers["household_size"] == "1"
    assert not [key for key in answers if key.startswith("member[2]")]
    replies = await awa.press("Continuer ›")
    assert "Qui est le chef du ménage ?" in replies[-1].text
    replies = await awa.press("Awa")
    assert "Quelle organisation aide votre ménage ?" in replies[-1].text
    assert current(harness) == "helper[1]/helper_name"


async def test_a_button_of_an_earlier_round_is_stale(harness: Harness) -> None:
    omar = harness.person(303)
    await omar.start()
    await omar.send("2")
    await omar.send("Sara")
    await omar.send("30")
    first = omar.last  # Sara's sex question
    woman = first.button("Woman").callback_data
    assert woman is not None and woman.split(":")[2].endswith(".1")  # its round in the button
    await omar.press("Woman")
    await omar.press("No")
    await omar.send("Yann")
    await omar.send("40")
    assert current(harness) == "member[2]/sex"
    query = omar.user.press_data(first.message_id, woman)  # the same question, Sara's round
    await harness.settle()
    assert harness.api.callback_answers[query].get("text") == "This button is no longer active."
    assert "member[2]/sex" not in stored_answers(harness)
    assert current(harness) == "member[2]/sex"


async def test_an_xlsform_roster_with_a_repeat_in_each_round(api: StandIn, tmp_path: Path
                                                             ) -> None:
    survey, _ = load_survey(ROSTER.with_name("roster.md"))
    bot = Harness(api, tmp_path / "form.sqlite3", survey)
    await bot.start()
    try:
        awa = bot.person(304)
        await awa.start()
        await awa.send("2")
        replies = await awa.send("Awa")
        assert "Awa · Question 3 of" in replies[-1].text and "Age of Awa?" in replies[-1].text
        await awa.send("40")
        replies = await awa.press("Yes")  # ill: her visits, an open repeat inside her round
        assert "Awa › Visit 1 ·" in replies[-1].text
        await awa.send("Bamako")
        replies = await awa.press("➕ Add another")
        assert "Awa › Visit 2 ·" in replies[-1].text
        await awa.send("Kati")  # the limit is 2 visits: no "Add another"
        assert awa.labels()[0] == "✏️ Visit 1"
        await awa.press("Continue ›")
        await awa.send("Ali")
        await awa.send("7")
        replies = await awa.press("No")
        assert "1. Awa\n2. Ali" in replies[-1].text
        replies = await awa.press("Continue ›")
        assert "Is Awa well now?" in replies[-1].text  # indexed-repeat(${pname}, ${person}, …)
        replies = await awa.press("Yes")
        assert "Is Ali well now?" in replies[-1].text
        replies = await awa.press("No")
        assert replies[-1].text.startswith("Check\n1. Awa\n2. Ali")  # rounds named by cname
        answers = stored_answers(bot)
        assert answers["person[1]/visit[2]/where"] == "Kati"
        assert answers["second_name"] == "Ali" and answers["total_age"] == "47"
        assert answers["check[2]/ok"] == "no"
    finally:
        await bot.stop()


async def test_a_roster_export_from_the_chat_is_one_zip(harness: Harness) -> None:
    amina = harness.person(305)
    await amina.start()
    await amina.send("2")
    await person_round(amina, "Amina", "34", "Woman", "No")
    await person_round(amina, "Omar", "12", "Man")
    await amina.press("Continue ›")
    await amina.press("Amina")
    await amina.send("Caritas")
    await amina.press("An association")
    await amina.press("Continue ›")
    await amina.press("Skip »")
    assert current(harness) == "None"
    boss = harness.person(ORGANIZER)
    await boss.send("/export")
    await boss.press("CSV")
    [document] = [m for m in boss.messages if m.kind == "document"]
    assert document.filename is not None and document.filename.endswith(".csv.zip")
    assert document.document is not None and "1 response" in document.text
    with zipfile.ZipFile(io.BytesIO(document.document)) as bundle:
        stem = document.filename.removesuffix(".csv.zip")
        assert bundle.namelist() == [f"{stem}{part}.csv" for part in (
            "", ".member", ".helper", ".codebook")]
        members = list(csv.DictReader(io.StringIO(
            bundle.read(f"{stem}.member.csv").decode("utf-8-sig"))))
    assert [(m["_index"], m["_parent_index"], m["member_name"]) for m in members] == [
        ("1", "1", "Amina"), ("2", "1", "Omar")]
    # the keyed hash (20 hex digits), never the Telegram id; a hash may contain "305"
    assert all(re.fullmatch(r"[0-9a-f]{20}", m["participant"]) for m in members)
