"""Planning poker through the outbox: story messages and the summary arrive once, even when Slack refuses first."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from bot.devtools.harness import Cadence
from storage import poker as store
from tests.test_poker import click, current, parent_and_stories, vote, voters_line


def test_a_refused_parent_leaves_nothing_stored_and_tells_the_facilitator(cadence: Cadence) -> None:
    cadence.fake.fail("chat.postMessage", error="internal_error")
    cadence.command("/poker", "PAY-1 Login", user="U1")
    assert cadence.fake.messages("C1") == []
    assert cadence.fake.responses()[-1]["text"] == ":hourglass: Slack is not answering Cadence right now. Please try again in a moment."
    with cadence.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(store.PokerSession)) == 0


def test_a_refused_story_post_arrives_once_later_and_shows_the_votes_cast_meanwhile(cadence: Cadence) -> None:
    cadence.command("/poker", "PAY-1 Login, PAY-2 Logout", user="U1")
    first = parent_and_stories(cadence)[1][0]
    cadence.fake.fail("chat.postMessage", error="internal_error")
    click(cadence, first, "poker.skip", user="U1")
    assert len(parent_and_stories(cadence)[1]) == 1
    cadence.clock.advance(timedelta(seconds=5))
    cadence.settle()
    story = parent_and_stories(cadence)[1][1]
    assert "PAY-2 Logout" in story.all_text
    vote(cadence, story, "5", user="U2")
    vote(cadence, story, "8", user="U3")
    cadence.tick(cadence.clock() + timedelta(minutes=5))
    assert len(parent_and_stories(cadence)[1]) == 2
    assert voters_line(current(cadence, story)) == "*Votes (2)*: <@U2>, <@U3>"


def test_the_summary_and_the_parent_are_sent_once_when_the_session_ends(cadence: Cadence) -> None:
    cadence.command("/poker", "A-1 One", user="U1")
    cadence.command("/poker", "end", user="U1")
    cadence.command("/poker", "end", user="U1")
    cadence.tick(cadence.clock() + timedelta(minutes=5))
    parent, thread = parent_and_stories(cadence)
    assert len([m for m in thread if "stories estimated" in m.all_text]) == 1
    assert "Planning poker" in current(cadence, parent).all_text
    assert "0 of 1 stories estimated" in current(cadence, parent).all_text
