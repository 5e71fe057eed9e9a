"""Every stored text has a documented maximum length, and every ceremony refuses longer input clearly.

The columns take their lengths from the domain's limits; over HTTP, one text per ceremony just over its limit gets
a message naming the limit and stores nothing.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import String, func, select

from bot.devtools.harness import Cadence
from ceremonies import blockers, poker, polls, retro, sprint
from ceremonies import standup as standup_domain
from storage import blockers as blocker_store
from storage import poker as poker_store
from storage import polls as poll_store
from storage import retro as retro_store
from storage import sprint as sprint_store
from storage import standup as standup_store
from storage.schema import metadata
from tests.test_retro_steps import add_card, start_retro
from tests.test_standup_flow import answer, set_up, team, utc


def test_every_string_column_has_a_length() -> None:
    unbounded = [f"{table.name}.{column.name}" for table in metadata.sorted_tables for column in table.columns
                 if isinstance(column.type, String) and column.type.length is None]
    assert unbounded == []


@pytest.mark.parametrize(("column", "limit"), [
    (blocker_store.Blocker.text, blockers.TEXT_LIMIT),
    (poll_store.Poll.question, polls.QUESTION_MAX_LENGTH),
    (poll_store.PollOption.text, polls.OPTION_MAX_LENGTH),
    (poker_store.PokerStory.title, poker.STORY_TITLE_MAX_LENGTH),
    (retro_store.RetroCard.text, retro.CARD_TEXT_MAX),
    (retro_store.RetroBoard.title, retro.TITLE_MAX),
    (sprint_store.Sprint.name, sprint.SPRINT_NAME_LENGTH),
    (sprint_store.Sprint.goal, sprint.SPRINT_GOAL_LENGTH),
    (sprint_store.SprintStory.title, sprint.STORY_TITLE_LENGTH),
    (standup_store.StandupAnswerItem.text, standup_domain.ANSWER_MAX_LENGTH),
])
def test_user_text_columns_are_as_long_as_the_domain_allows(column: Any, limit: int) -> None:
    assert column.type.length == limit


def told(cadence: Cadence, reply: Any) -> str:
    """The reply, a modal's inline errors, and what came back through the response_url."""
    errors = (reply.json or {}).get("errors", {}) if reply.body[:1] == b"{" else {}
    return "\n".join([reply.text, *errors.values(), *(r.get("text", "") for r in cadence.fake.responses())])


def count(cadence: Cadence, model: Any) -> int:
    with cadence.db.transaction() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def refused(cadence: Cadence, command: str, text: str, limit: int, model: Any) -> None:
    cadence.fake.state.responses.clear()
    reply = cadence.command(command, text, user="U1", channel="C1")
    assert reply.status == 200
    message = told(cadence, reply)
    assert f"{limit:,}" in message or str(limit) in message, message
    assert count(cadence, model) == 0


def test_commands_refuse_texts_longer_than_their_columns(cadence: Cadence) -> None:
    refused(cadence, "/blocker", "x" * (blockers.TEXT_LIMIT + 1), blockers.TEXT_LIMIT, blocker_store.Blocker)
    refused(cadence, "/poll", f'"{"q" * (polls.QUESTION_MAX_LENGTH + 1)}" "A" "B"', polls.QUESTION_MAX_LENGTH,
            poll_store.Poll)
    refused(cadence, "/poll", f'"Lunch?" "{"o" * (polls.OPTION_MAX_LENGTH + 1)}" "B"', polls.OPTION_MAX_LENGTH,
            poll_store.Poll)
    refused(cadence, "/poker", "P-1 " + "t" * (poker.STORY_TITLE_MAX_LENGTH + 1), poker.STORY_TITLE_MAX_LENGTH,
            poker_store.PokerStory)
    refused(cadence, "/sprint", f'start "{"n" * (sprint.SPRINT_NAME_LENGTH + 1)}" --until 2026-12-11',
            sprint.SPRINT_NAME_LENGTH, sprint_store.Sprint)
    refused(cadence, "/sprint", f'start "S1" --until 2026-12-11 --goal "{"g" * (sprint.SPRINT_GOAL_LENGTH + 1)}"',
            sprint.SPRINT_GOAL_LENGTH, sprint_store.Sprint)
    cadence.command("/sprint", 'start "S1" --until 2026-12-11', user="U1", channel="C1")
    refused(cadence, "/sprint", "add K-1 3 " + "s" * (sprint.STORY_TITLE_LENGTH + 1), sprint.STORY_TITLE_LENGTH,
            sprint_store.SprintStory)


def test_modals_refuse_texts_longer_than_their_columns(cadence: Cadence) -> None:
    team(cadence)
    start_retro(cadence, user="U1", anonymous=False)
    reply = add_card(cadence, "U2", 0, "c" * (retro.CARD_TEXT_MAX + 1))
    assert reply.json["response_action"] == "errors"
    assert str(retro.CARD_TEXT_MAX) in told(cadence, reply)
    assert count(cadence, retro_store.RetroCard) == 0

    set_up(cadence, users=("U1",))
    cadence.tick(utc(2026, 12, 1, 8, 30))
    reply = answer(cadence, "U1", ["a" * (standup_domain.ANSWER_MAX_LENGTH + 1), "b", ""])
    assert reply.json["response_action"] == "errors"
    message = told(cadence, reply)
    assert f"{standup_domain.ANSWER_MAX_LENGTH:,}" in message or str(standup_domain.ANSWER_MAX_LENGTH) in message
    assert count(cadence, standup_store.StandupAnswerItem) == 0
