"""Planning poker over HTTP with the fake Slack: what the team sees in the thread, and what is stored."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from bot.devtools.fakeslack import Message
from bot.devtools.harness import Cadence, start_cadence
from storage import poker as store
from storage import sprint as sprints


def card_button(message: Message, card: str) -> tuple[dict[str, Any], str]:
    for block in message.blocks:
        for element in block.get("elements", []):
            if element.get("action_id", "").startswith("poker.vote.") and element["text"]["text"] == card:
                return element, block.get("block_id", "b")
    raise AssertionError(f"no card {card!r} on the message: {message.all_text}")


def vote(cadence: Cadence, message: Message, card: str, *, user: str, settle: bool = True) -> None:
    element, block_id = card_button(message, card)
    reply = cadence.slack.block_action(element["action_id"], element["value"], user=user, channel=message.channel,
                                       message_ts=message.ts, block_id=block_id)
    assert reply.status == 200
    if settle:
        cadence.settle()


def click(cadence: Cadence, message: Message, action_id: str, *, user: str) -> None:
    assert cadence.slack.click(message, action_id, user=user).status == 200
    cadence.settle()


def refused(cadence: Cadence, message: Message, action_id: str, *, user: str) -> str:
    """Click as someone who may not; the refusal comes back as an ephemeral line."""
    assert cadence.slack.click(message, action_id, user=user).status == 200
    cadence.settle()
    return cadence.fake.responses()[-1]["text"]


def parent_and_stories(cadence: Cadence, channel: str = "C1") -> tuple[Message, list[Message]]:
    parent = cadence.fake.messages(channel, top_level=True)[-1]
    return parent, cadence.fake.messages(channel, thread_ts=parent.ts)


def current(cadence: Cadence, message: Message) -> Message:
    return cadence.fake.message(message.channel, message.ts)


def voters_line(message: Message) -> str:
    return next(line for line in message.all_text.splitlines() if line.startswith("*Votes ("))


def test_a_whole_session_started_from_text(cadence: Cadence) -> None:
    reply = cadence.command("/poker", "PAY-1 Login with SSO, PAY-2 Logout", user="U1")
    assert reply.status == 200
    parent, stories = parent_and_stories(cadence)
    assert "Planning poker" in parent.all_text
    assert "<@U1>" in parent.all_text
    assert len(stories) == 1
    story = stories[0]
    assert "PAY-1" in story.all_text
    assert "Login with SSO" in story.all_text
    assert "Story 1 of 2" in story.all_text

    vote(cadence, story, "5", user="U2")
    vote(cadence, story, "8", user="U3")
    vote(cadence, story, "3", user="U3")  # a change of mind
    story = current(cadence, story)
    assert voters_line(story) == "*Votes (2)*: <@U2>, <@U3>"  # names, never values
    assert "<@U3>: *" not in story.all_text
    mine = cadence.fake.responses("U3")  # through the click's response_url
    assert [e["text"] for e in mine] == ["Your vote on PAY-1 Login with SSO: 8", "Your vote on PAY-1 Login with SSO: 3"]
    assert mine[-1]["thread_ts"] == parent.ts

    assert refused(cadence, story, "poker.reveal", user="U2") == ":warning: Only <@U1> can reveal the votes."
    assert "*Votes (2)*" in current(cadence, story).all_text

    click(cadence, story, "poker.reveal", user="U1")
    story = current(cadence, story)
    assert "<@U2>: *5*" in story.all_text
    assert "<@U3>: *3*" in story.all_text
    assert "Average *4* · median *4* · spread *2*" in story.all_text
    assert "Consensus" in story.all_text  # 3 and 5 are neighbouring cards

    click(cadence, story, "poker.revote", user="U1")
    story = current(cadence, story)
    assert "round 2" in story.all_text
    assert "Round 1: <@U2> 5 · <@U3> 3 (consensus)" in story.all_text
    assert "*Votes (0)*: nobody yet" in story.all_text

    vote(cadence, story, "5", user="U2")
    vote(cadence, story, "8", user="U3")
    vote(cadence, story, "21", user="U4")
    click(cadence, current(cadence, story), "poker.reveal", user="U1")
    story = current(cadence, story)
    assert "No consensus — highest <@U4>, lowest <@U2>" in story.all_text

    click(cadence, story, "poker.accept", user="U1")
    modal = cadence.fake.last_view()
    estimate = next(b for b in modal["blocks"] if b.get("block_id") == "poker.estimate")["element"]
    assert estimate["initial_option"]["value"] == "8"  # the median, rounded up to a card
    reply = cadence.slack.view_submission(
        modal, {"poker.estimate": {"poker.estimate": {"type": "static_select", "selected_option": {"value": "8"}}}},
        user="U1",
    )
    assert reply.status == 200
    cadence.settle()
    story = current(cadence, story)
    assert "Estimate: *8*" in story.all_text
    assert not any(b["type"] == "actions" for b in story.blocks)

    _parent, stories = parent_and_stories(cadence)
    second = stories[1]
    assert "PAY-2" in second.all_text
    assert "Story 2 of 2" in second.all_text
    vote(cadence, second, "13", user="U2")
    click(cadence, second, "poker.skip", user="U1")

    parent, stories = parent_and_stories(cadence)
    summary = stories[-1]
    assert "Planning poker summary" in summary.all_text
    assert "PAY-1 Login with SSO — *8*" in summary.all_text
    assert "PAY-2 Logout — _skipped_" in summary.all_text
    assert "1 of 2 stories estimated · total *8* points" in summary.all_text
    assert "total *8* points" in parent.all_text

    with cadence.db.transaction() as session:
        window = dict(start=datetime(2026, 1, 1, tzinfo=UTC), end=datetime(2027, 1, 1, tzinfo=UTC))
        accepted = store.accepted_estimates(session, team_id="T1", channel_id="C1", **window)
        stats = store.estimation_stats(session, team_id="T1", channel_id="C1", **window)
        rounds = session.scalar(select(func.max(store.PokerVote.round)))
    assert [(a.story_key, a.title, a.estimate, a.points, a.rounds) for a in accepted] == [
        ("PAY-1", "Login with SSO", "8", 8.0, 2)
    ]
    assert accepted[0].accepted_at == cadence.clock()
    assert stats == store.EstimationStats(
        stories_accepted=1, stories_skipped=1, first_round_consensus=1, revoted=1, total_points=8.0
    )
    assert rounds == 2  # round 1 kept in history
    with cadence.db.transaction() as session:
        # the accepted estimate waits as a committed story of the channel's next sprint
        [story_row] = session.scalars(select(sprints.SprintStory)).all()
        assert (story_row.key, story_row.title, story_row.points, story_row.source) == ("PAY-1", "Login with SSO", 8.0,
                                                                                      "poker")
        assert story_row.sprint_id is None
        assert story_row.committed


def test_a_session_started_from_the_modal_reveals_itself(cadence: Cadence) -> None:
    cadence.command("/poker", "", user="U1")
    modal = cadence.fake.last_view()
    assert modal["callback_id"] == "poker.start"
    values = {
        "poker.stories": {"poker.stories": {"type": "plain_text_input", "value": "PAY-9 Search\nPAY-10 Filters"}},
        "poker.deck": {"poker.deck": {"type": "static_select", "selected_option": {"value": "modified_fibonacci"}}},
        "poker.custom_deck": {"poker.custom_deck": {"type": "plain_text_input", "value": None}},
        "poker.participants": {"poker.participants": {"type": "multi_users_select", "selected_users": ["U2", "U3"]}},
        "poker.options": {"poker.options": {"type": "checkboxes", "selected_options": [{"value": "auto_reveal"}]}},
        "poker.reveal_policy": {
            "poker.reveal_policy": {"type": "radio_buttons", "selected_option": {"value": "anyone"}}
        },
    }
    assert cadence.slack.view_submission(modal, values, user="U1").status == 200
    cadence.settle()
    _parent, stories = parent_and_stories(cadence)
    story = stories[0]
    assert "waiting for <@U2>, <@U3>" in story.all_text
    vote(cadence, story, "½", user="U2")
    with cadence.db.transaction() as session:
        awaiting = store.stories_awaiting_vote(session, team_id="T1", user_id="U3")
    assert [(a.label, a.channel_id) for a in awaiting] == [("PAY-9 Search", "C1")]
    vote(cadence, story, "1", user="U3")
    story = current(cadence, story)
    assert "<@U2>: *½*" in story.all_text
    assert "<@U3>: *1*" in story.all_text
    assert "median *0.8*" in story.all_text

    assert refused(cadence, story, "poker.accept", user="U2") == ":warning: Only <@U1> can accept an estimate."


def test_an_invalid_custom_deck_is_shown_in_the_modal(cadence: Cadence) -> None:
    cadence.command("/poker", "", user="U1")
    modal = cadence.fake.last_view()
    values = {
        "poker.stories": {"poker.stories": {"type": "plain_text_input", "value": "A story"}},
        "poker.deck": {"poker.deck": {"type": "static_select", "selected_option": {"value": "custom"}}},
        "poker.custom_deck": {"poker.custom_deck": {"type": "plain_text_input", "value": "1, 1"}},
    }
    reply = cadence.slack.view_submission(modal, values, user="U1")
    assert reply.json == {"response_action": "errors",
                          "errors": {"poker.custom_deck": "Each card must be different; `1` is there twice."}}
    assert cadence.fake.calls("chat.postMessage") == []


def test_a_double_click_and_a_retried_delivery_change_nothing_twice(cadence: Cadence) -> None:
    cadence.command("/poker", "Only story", user="U1")
    story = parent_and_stories(cadence)[1][0]
    vote(cadence, story, "3", user="U2")
    updates = len(cadence.fake.calls("chat.update"))
    vote(cadence, story, "3", user="U2")
    vote(cadence, story, "3", user="U2")
    assert len(cadence.fake.calls("chat.update")) == updates
    assert len(cadence.fake.responses("U2")) == 1
    voting = copy.deepcopy(current(cadence, story))
    click(cadence, voting, "poker.reveal", user="U1")
    revealed = copy.deepcopy(current(cadence, story))
    click(cadence, voting, "poker.reveal", user="U1")  # the old button again
    click(cadence, revealed, "poker.skip", user="U1")
    click(cadence, revealed, "poker.skip", user="U1")
    _parent, thread = parent_and_stories(cadence)
    assert sum("Planning poker summary" in m.all_text for m in thread) == 1
    with cadence.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(store.PokerVote)) == 1


def test_a_vote_after_reveal_is_refused(cadence: Cadence) -> None:
    cadence.command("/poker", "Only story", user="U1")
    story = parent_and_stories(cadence)[1][0]
    vote(cadence, story, "3", user="U2")
    voting = copy.deepcopy(current(cadence, story))
    click(cadence, voting, "poker.reveal", user="U1")
    vote(cadence, voting, "8", user="U3")  # the voting message as it was before the reveal
    assert cadence.fake.responses()[-1]["text"] == ":warning: Voting on this story is closed."
    assert "<@U3>" not in current(cadence, story).all_text


def test_a_reason_is_shown_only_after_reveal(cadence: Cadence) -> None:
    cadence.command("/poker", "Only story", user="U1")
    story = parent_and_stories(cadence)[1][0]
    vote(cadence, story, "13", user="U2")
    note = cadence.fake.responses("U2")[-1]
    button = note["blocks"][0]["accessory"]
    cadence.slack.block_action(button["action_id"], button["value"], user="U2", channel="C1")
    cadence.settle()
    modal = cadence.fake.last_view()
    values = {"poker.reason_text": {"poker.reason_text": {"type": "plain_text_input", "value": "Legacy code"}}}
    assert cadence.slack.view_submission(modal, values, user="U2").status == 200
    cadence.settle()
    assert "Legacy code" not in current(cadence, story).all_text
    click(cadence, current(cadence, story), "poker.reveal", user="U1")
    assert "<@U2>: *13* — _Legacy code_" in current(cadence, story).all_text


def test_poker_end_posts_the_summary_and_only_the_facilitator_may(cadence: Cadence) -> None:
    cadence.command("/poker", "A-1 One, A-2 Two", user="U1")
    story = parent_and_stories(cadence)[1][0]
    cadence.command("/poker", "end", user="U2")
    assert cadence.fake.responses()[-1]["text"] == ":warning: Only <@U1> can end the session."
    cadence.command("/poker", "end", user="U1")
    _parent, thread = parent_and_stories(cadence)
    assert "0 of 2 stories estimated · total *0* points" in thread[-1].all_text
    assert "Skipped" in current(cadence, story).all_text
    cadence.command("/poker", "end", user="U1")
    assert cadence.fake.responses()[-1]["text"] == (
        ":warning: There is no planning poker session running in this channel."
    )


def test_help_and_usage(cadence: Cadence) -> None:
    reply = cadence.command("/poker", "help")
    assert "/poker PAY-1 Title, PAY-2 Title" in reply.text
    assert "/poker end" in reply.text


def test_a_restart_loses_nothing(cadence: Cadence, db_url: str) -> None:
    cadence.command("/poker", "PAY-1 One, PAY-2 Two", user="U1")
    story = parent_and_stories(cadence)[1][0]
    vote(cadence, story, "2", user="U2")
    cadence.stop()
    again = start_cadence(cadence.fake, db_url, cadence.clock)
    try:
        vote(again, story, "3", user="U3")  # a button on a message posted before the restart
        click(again, current(again, story), "poker.reveal", user="U1")
        assert "<@U2>: *2*" in current(again, story).all_text
        assert "<@U3>: *3*" in current(again, story).all_text
    finally:
        again.stop()


def test_a_failed_message_update_is_redrawn_once_after_the_outbox_backs_off(cadence: Cadence) -> None:
    cadence.command("/poker", "Only story", user="U1")
    story = parent_and_stories(cadence)[1][0]
    cadence.fake.fail("chat.update", error="internal_error")
    vote(cadence, story, "5", user="U2")
    assert "*Votes (0)*" in current(cadence, story).all_text
    # The vote counted; nobody is told otherwise.
    assert [r["text"] for r in cadence.fake.responses()] == ["Your vote on Only story: 5"]
    cadence.clock.advance(timedelta(seconds=5))  # the outbox's first back-off
    cadence.settle()
    assert "*Votes (1)*: <@U2>" in current(cadence, story).all_text
    updates = len(cadence.fake.calls("chat.update"))
    cadence.tick(cadence.clock() + timedelta(minutes=5))
    assert len(cadence.fake.calls("chat.update")) == updates
