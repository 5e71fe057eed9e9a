"""A form submitted several times at once, or a button clicked again and again (a double click on a slow network),
does its work once and answers nobody with "Something went wrong", on both databases."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from bot.devtools.harness import Cadence
from bot.devtools.signed import form as form_values
from bot.views import retro as retro_views
from bot.views import standup as views
from storage.retro import RetroCard
from storage.standup import StandupAnswer, StandupAnswerEdit
from tests.test_retro_steps import add_card, board, start_retro, text_input
from tests.test_retro_steps import click as retro_click
from tests.test_retro_steps import select as select_option
from tests.test_standup_flow import prompt_of, set_up, team

PARALLEL = 3


def everything_said(cadence: Cadence) -> str:
    cadence.settle()
    texts = [str(call.args.get("text", "")) for call in cadence.fake.calls()]
    texts += [str(r.get("text", "")) for r in cadence.fake.responses()]
    return "\n".join(texts)


def at_once(*requests: Any) -> list[Any]:
    with ThreadPoolExecutor(len(requests)) as pool:
        return list(pool.map(lambda request: request(), requests))


def test_a_standup_answer_submitted_three_times_at_once_is_stored_and_thanked_once(cadence: Cadence) -> None:
    team(cadence)
    set_up(cadence, users=("U1", "U2"))
    cadence.tick(datetime(2026, 12, 1, 8, 30, tzinfo=UTC))
    cadence.slack.click(prompt_of(cadence, "U1"), views.WRITE, user="U1")
    cadence.settle()
    view = cadence.fake.last_view()
    values = form_values(view, **{views.answer_block(0): {"value": "shipped"}, views.answer_block(1): {"value": "tests"}})
    replies = at_once(*[lambda: cadence.slack.view_submission(view, values, user="U1")] * PARALLEL)
    cadence.settle()
    assert [r.status for r in replies] == [200] * PARALLEL
    with cadence.db.reading() as session:
        assert session.scalar(select(func.count()).select_from(StandupAnswer)) == 1
        assert session.scalar(select(func.count()).select_from(StandupAnswerEdit)) == 0
    said = everything_said(cadence)
    assert "Something went wrong" not in said
    thanks = [m for m in cadence.fake.dms("U1") if m.text.startswith("Thanks!")]
    assert len(thanks) == 1, [m.text for m in thanks]
    answers = [m for m in cadence.fake.messages("C1") if "ada" in m.text and "stand-up" in m.text]
    assert len(answers) == 1, [m.text for m in cadence.fake.messages("C1")]
    assert "edited" not in answers[0].all_text

    # Submitted again later with the same answers: still one answer, not an edit.
    cadence.clock.advance(datetime(2026, 12, 1, 8, 40, tzinfo=UTC) - cadence.clock())
    assert cadence.slack.view_submission(view, values, user="U1").status == 200
    cadence.settle()
    assert len([m for m in cadence.fake.dms("U1") if m.text.startswith("Thanks!")]) == 1
    with cadence.db.reading() as session:
        assert session.scalar(select(func.count()).select_from(StandupAnswerEdit)) == 0


def test_i_can_help_clicked_three_times_at_once_tells_the_reporter_once(cadence: Cadence) -> None:
    team(cadence)
    cadence.command("/blocker", "staging is down", user="U1", channel="C1")
    [card] = [m for m in cadence.fake.messages("C1") if "Blocker #1" in m.text]
    replies = at_once(*[lambda: cadence.slack.click(card, "blocker.help", user="U2")] * PARALLEL)
    cadence.settle()
    assert [r.status for r in replies] == [200] * PARALLEL
    offers = [m for m in cadence.fake.dms("U1") if "offered to help" in m.text]
    assert len(offers) == 1, [m.text for m in offers]
    assert "Something went wrong" not in everything_said(cadence)


def test_a_retro_card_submitted_three_times_at_once_is_one_card(cadence: Cadence) -> None:
    team(cadence)
    start_retro(cadence, user="U1", channel="C1", anonymous=True)
    retro_click(cadence, board(cadence, "C1"), retro_views.ADD_CARD, "U2")
    view = cadence.fake.last_view()
    values = {retro_views.CARD_COLUMN_BLOCK: select_option("0"), retro_views.CARD_TEXT_BLOCK: text_input("CI is slow")}
    replies = at_once(*[lambda: cadence.slack.view_submission(view, values, user="U2")] * PARALLEL)
    cadence.settle()
    assert [r.status for r in replies] == [200] * PARALLEL
    with cadence.db.reading() as session:
        assert session.scalar(select(func.count()).select_from(RetroCard)) == 1
    assert "Something went wrong" not in everything_said(cadence)
    add_card(cadence, "U2", 1, "CI is slow", channel="C1")  # the same words in another column are another card
    with cadence.db.reading() as session:
        assert session.scalar(select(func.count()).select_from(RetroCard)) == 2
