"""Answering: button presses, typed answers, /back and /skip."""

from __future__ import annotations

import logging

from bot import media
from bot.context import Context
from bot.i18n import Translator
from bot.survey import engine
from bot.survey.engine import GateClosed, InvalidAnswer, Step, SurveyFlowError
from bot.survey.model import MEDIA_TYPES, Question, QuestionType, Survey
from bot.survey.search import match_typed, search_choices
from storage.db import transaction
from storage.updates import claim_update
from telegram import CallbackQuery, Update

from handlers import render
from handlers.callbacks import Action, SurveyButton, parse_survey_button
from handlers.common import (
    Session,
    acknowledge,
    ask,
    edit_to_answer,
    load_session,
    private_user_id,
    remove_keyboard,
    replace_buttons,
    send,
    send_text,
)
from storage import responses

logger = logging.getLogger(__name__)



def explain(t: Translator, survey: Survey, question: Question, error: SurveyFlowError) -> str:
    """The translated hint for something the engine refused."""
    if isinstance(error, InvalidAnswer):
        params = error.params
        match error.code:
            case "constraint":
                if question.constraint_message is not None:
                    return question.constraint_message.get(t.language)
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
                limit = int(params["limit"])  # type: ignore[call-overload]
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
            case "gate" if isinstance(error, GateClosed):
                return engine.interpolate(survey, error.note.text.get(t.language),
                                          error.answers, t.language)
            case "no_answer_to_keep":
                return t.gettext("Please answer the question.")
    if error.code == "required":
        if question.required_message is not None:
            return question.required_message.get(t.language)
        return t.gettext("This question needs an answer.")
    if error.code == "nothing_before":
        return t.gettext("This is the first question: there is nothing before it.")
    if error.code == "completed":
        return t.gettext("You have already completed the consultation.")
    return t.gettext("Please use the buttons below the question.")


async def commit(
    update: Update, context: Context, session: Session, answered: dict[str, str | None],
    step: Step,
) -> bool:
    """Store the step before anything is sent; False if this update was applied before."""
    assert session.response is not None
    now = context.now()
    async with transaction(context.db) as tx:
        if not await claim_update(tx, update.update_id, now):
            return False
        await responses.save_step(
            tx, session.response, survey_version=context.survey.version, answered=answered,
            dropped=step.dropped, current=step.progress.current, now=now,
        )
    if step.progress.current is None and session.progress and not session.progress.completed:
        logger.info("response completed (survey %s)", context.survey.id)
    if session.progress is not None:  # files of answers changed or dropped are not kept
        before = session.progress.answers
        replaced = [before.get(qid) for qid in (*answered, *step.dropped)
                    if before.get(qid) != step.progress.answers.get(qid)]
        media.forget(context.config.db, replaced)
    return True


async def _current_session(context: Context, user_id: int) -> tuple[Session, Question] | None:
    session = await load_session(context, user_id)
    if session.progress is None or session.progress.current is None:
        return None
    return session, context.survey.question(session.progress.current)


# --- buttons -------------------------------------------------------------------------


async def on_survey_button(update: Update, context: Context) -> None:
    """A press on a question's button: answer, tick, page, skip, keep or go back."""
    query = update.callback_query
    user_id = private_user_id(update)
    if query is None or user_id is None:
        return
    button = parse_survey_button(query.data)
    loaded = await _current_session(context, user_id)
    if (button is None or loaded is None or button.fingerprint != context.survey.fingerprint
            or button.question != loaded[1].index):
        session = loaded[0] if loaded else await load_session(context, user_id)
        await acknowledge(query, session.t.gettext("This button is no longer active."))
        return
    session, question = loaded
    if button.action is Action.PAGE:
        await _show_page(context, query, session, question, button.number or 0)
    elif button.action is Action.TOGGLE:
        await _toggle(context, query, session, question, button)
    else:
        await _act(update, context, query, session, question, button)


async def _show_page(
    context: Context, query: CallbackQuery, session: Session, question: Question, page: int
) -> None:
    await acknowledge(query)
    await _redraw(context, query, session, question, _draft(session, question), page)


async def _toggle(
    context: Context, query: CallbackQuery, session: Session, question: Question,
    button: SurveyButton,
) -> None:
    if question.type is not QuestionType.SELECT_MULTIPLE or button.number is None or not (
        0 <= button.number < len(question.choices)
    ):
        await acknowledge(query, session.t.gettext("This button is no longer active."))
        return
    assert session.response is not None
    choice = question.choices[button.number].id
    ticked = _draft(session, question)
    ticked ^= {choice}
    draft = " ".join(c.id for c in question.choices if c.id in ticked)
    await responses.set_draft(context.db, session.response.id, draft)
    await acknowledge(query)
    page = render.page_of(question, session.language, choice)
    await _redraw(context, query, session, question, ticked, page)


def _draft(session: Session, question: Question) -> set[str]:
    """The choices ticked so far: the draft, else the answer given before."""
    assert session.response is not None and session.progress is not None
    if session.response.draft is not None:
        return set(session.response.draft.split())
    return set((session.progress.answers.get(question.id) or "").split())


async def _redraw(
    context: Context, query: CallbackQuery, session: Session, question: Question,
    ticked: set[str], page: int,
) -> None:
    assert session.progress is not None
    now = context.now()
    view = render.question_view(
        session.t, context.survey, question,
        answers=session.progress.answers,
        now=now,
        position=engine.position(context.survey, session.progress, now),
        draft=ticked if question.type is QuestionType.SELECT_MULTIPLE else None,
        page=page,
        can_go_back=True,
    )
    await replace_buttons(query, view.buttons)


async def _act(
    update: Update, context: Context, query: CallbackQuery, session: Session,
    question: Question, button: SurveyButton,
) -> None:
    """Answer, Done, Skip, Keep or Back: a step of the survey, stored, then shown."""
    assert session.progress is not None and session.response is not None
    survey, t, now = context.survey, session.t, context.now()
    try:
        if button.action is Action.BACK:
            step = engine.back(survey, session.progress, now)
        elif button.action is Action.SKIP:
            step = engine.skip(survey, session.progress, now)
        elif button.action is Action.KEEP:
            step = engine.keep(survey, session.progress, now)
        else:
            step = engine.answer(survey, session.progress, _raw(session, question, button), now)
    except SurveyFlowError as error:
        await acknowledge(query)
        hint = explain(t, context.survey, question, error)
        await send_text(context, session.user_id, render.escape(hint))
        return
    answered = {} if button.action is Action.BACK else step.changes(question)
    if not await commit(update, context, session, answered, step):
        await acknowledge(query)
        return
    await acknowledge(query)
    if button.action is Action.BACK:
        await replace_buttons(query, None)
    else:
        await edit_to_answer(context, query, t, question, answered[question.id],
                             step.progress.answers)
    message = query.message
    if message is not None and message.message_id != session.response.question_message_id:
        await remove_keyboard(context, session.user_id, session.response.question_message_id)
    await ask(context, session.user_id, session, step)


def _raw(session: Session, question: Question, button: SurveyButton) -> str:
    """The answer a button stands for, in the engine's terms."""
    if button.action is Action.DONE:
        return " ".join(sorted(_draft(session, question)))
    number = button.number if button.number is not None else -1
    if question.type is QuestionType.SCALE:
        return str(number)
    if 0 <= number < len(question.choices):
        return question.choices[number].id
    return ""


# --- typed answers -------------------------------------------------------------------


async def on_text(update: Update, context: Context) -> None:
    """A typed message: the answer to a typed question, a search in a long list, or a hint."""
    user_id = private_user_id(update)
    message = update.effective_message
    if user_id is None or message is None or message.text is None:
        return
    session = await load_session(context, user_id)
    t = session.t
    if session.participant is None:
        await send_text(context, user_id, render.escape(t.gettext("Send /start to begin.")))
        return
    if not session.participant.consented:
        await send_text(context, user_id, render.escape(t.gettext(
            "Please use the buttons above to continue.")))
        return
    if session.progress is None or session.progress.current is None:
        await send_text(context, user_id, render.escape(t.gettext(
            "You have already completed the consultation. Thank you! You can see your answers "
            "with /mydata and delete them with /delete.")))
        return
    question = context.survey.question(session.progress.current)
    if question.type is QuestionType.SELECT_ONE and len(question.choices) > render.LIST_LIMIT:
        found = search_choices(question, t.language, message.text[:100])
        indexes = [question.choice_index[c.id] for c in found]
        await send(context, user_id, render.search_results_view(t, context.survey, question,
                                                                 indexes))
        return
    raw: str | None = message.text
    if question.type is QuestionType.SELECT_ONE:
        raw = match_typed(question, message.text)  # typed a label instead of pressing it
    elif question.type not in render.TYPED and question.type is not QuestionType.SCALE:
        raw = None
    if raw is None:
        await send_text(context, user_id, render.escape(render.expected_hint(t, question)))
        if question.type not in MEDIA_TYPES and question.type is not QuestionType.LOCATION:
            await _ask_again(context, session)
        return
    now = context.now()
    try:
        step = engine.answer(context.survey, session.progress, raw, now)
    except SurveyFlowError as error:
        hint = explain(t, context.survey, question, error)
        await send_text(context, user_id, render.escape(hint))
        return
    answered = step.changes(question)
    if not await commit(update, context, session, answered, step):
        return
    assert session.response is not None
    await remove_keyboard(context, user_id, session.response.question_message_id)
    await ask(context, user_id, session, step)


async def _ask_again(context: Context, session: Session) -> None:
    """Send the current question again (its earlier message loses its buttons)."""
    assert session.progress is not None and session.response is not None
    await remove_keyboard(context, session.user_id, session.response.question_message_id)
    draft = set(session.response.draft.split()) if session.response.draft is not None else None
    await ask(context, session.user_id, session, Step(session.progress), draft=draft)


# --- /back and /skip -----------------------------------------------------------------


async def on_back(update: Update, context: Context) -> None:
    """Go back to the previous question to change its answer."""
    await _navigate(update, context, Action.BACK)


async def on_skip(update: Update, context: Context) -> None:
    """Leave the current question unanswered, if it is optional."""
    await _navigate(update, context, Action.SKIP)


async def _navigate(update: Update, context: Context, action: Action) -> None:
    user_id = private_user_id(update)
    if user_id is None:
        return
    loaded = await _current_session(context, user_id)
    if loaded is None:
        session = await load_session(context, user_id)
        text = (t := session.t).gettext("Send /start to begin.") if session.progress is None \
            else t.gettext("You have already completed the consultation.")
        await send_text(context, user_id, render.escape(text))
        return
    session, question = loaded
    assert session.progress is not None and session.response is not None
    now = context.now()
    try:
        if action is Action.BACK:
            step = engine.back(context.survey, session.progress, now)
        else:
            step = engine.skip(context.survey, session.progress, now)
    except SurveyFlowError as error:
        hint = explain(session.t, context.survey, question, error)
        await send_text(context, user_id, render.escape(hint))
        return
    answered = {} if action is Action.BACK else step.changes(question)
    if not await commit(update, context, session, answered, step):
        return
    await remove_keyboard(context, user_id, session.response.question_message_id)
    await ask(context, user_id, session, step)

