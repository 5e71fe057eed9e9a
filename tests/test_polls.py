"""Quick polls over HTTP with the fake Slack: live counts, several choices, anonymity and closing on time."""

from __future__ import annotations

import copy
import json
import logging
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.devtools.fakeslack import Message
from bot.devtools.harness import Cadence
from storage import polls as store


def the_poll(cadence: Cadence, channel: str = "C1") -> Message:
    return cadence.fake.messages(channel, top_level=True)[-1]


def choose(cadence: Cadence, message: Message, option: str, *, user: str) -> None:
    for block in message.blocks:
        accessory = block.get("accessory") or {}
        if accessory.get("action_id", "").startswith("poll.vote.") and accessory["text"]["text"] == option:
            reply = cadence.slack.block_action(accessory["action_id"], accessory["value"], user=user,
                                               channel=message.channel, message_ts=message.ts)
            assert reply.status == 200
            cadence.settle()
            return
    raise AssertionError(f"no option {option!r} on the poll: {message.all_text}")


def click(cadence: Cadence, message: Message, action_id: str, *, user: str) -> None:
    assert cadence.slack.click(message, action_id, user=user).status == 200
    cadence.settle()


def counts(message: Message) -> dict[str, str]:
    """Each option's count line as the channel reads it."""
    found = {}
    for block in message.blocks:
        if block["type"] == "section" and (block.get("accessory") or {}).get("action_id", "").startswith("poll.vote"):
            lines = block["text"]["text"].splitlines()
            found[lines[0].strip("*")] = lines[1].split("` ", 1)[1]
    return found


def test_a_multiple_choice_poll_counts_live_and_the_creator_closes_it(cadence: Cadence) -> None:
    reply = cadence.command("/poll", '"Where do we eat?" "Pizza" "Sushi" "Thai" --multi', user="U1")
    assert reply.status == 200
    poll = the_poll(cadence)
    assert "Where do we eat?" in poll.all_text
    assert "several choices allowed" in poll.all_text
    choose(cadence, poll, "Pizza", user="U2")
    choose(cadence, poll, "Sushi", user="U2")
    choose(cadence, poll, "Pizza", user="U3")
    choose(cadence, poll, "Pizza", user="U3")  # a double click
    poll = the_poll(cadence)
    assert counts(poll) == {"Pizza": "2 (100%)", "Sushi": "1 (50%)", "Thai": "0 (0%)"}
    assert "<@U2>, <@U3>" in poll.all_text
    assert "2 people voted" in poll.all_text
    assert cadence.fake.responses()[-2]["text"] == "You voted for *Pizza*, *Sushi*."

    click(cadence, poll, "poll.clear", user="U2")
    assert counts(the_poll(cadence)) == {"Pizza": "1 (100%)", "Sushi": "0 (0%)", "Thai": "0 (0%)"}

    click(cadence, poll, "poll.close", user="U2")
    assert cadence.fake.responses()[-1]["text"] == ":warning: Only <@U1> can close this poll."
    open_poll = copy.deepcopy(the_poll(cadence))
    click(cadence, poll, "poll.close", user="U1")
    poll = the_poll(cadence)
    assert "Poll closed · 1 person voted. Result: *Pizza*" in poll.all_text
    assert not any(b.get("accessory") or b["type"] == "actions" for b in poll.blocks)
    choose(cadence, open_poll, "Thai", user="U4")  # a button of the message before it closed
    assert cadence.fake.responses()[-1]["text"] == ":warning: This poll is closed."


def test_a_single_choice_poll_moves_your_vote(cadence: Cadence) -> None:
    cadence.command("/poll", "“Ship on Friday?” “Yes” “No”", user="U1")
    poll = the_poll(cadence)
    choose(cadence, poll, "Yes", user="U2")
    choose(cadence, poll, "No", user="U2")
    assert counts(the_poll(cadence)) == {"Yes": "0 (0%)", "No": "1 (100%)"}
    with cadence.db.transaction() as session:
        assert session.scalars(select(store.PollVote.voter)).all() == ["U2"]


def test_an_anonymous_poll_never_names_a_voter_and_closes_on_time(
    cadence: Cadence, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    cadence.command("/poll", '"Rate the sprint" "Good" "Meh" "Bad" --anonymous --close 2h', user="UCREATOR")
    poll = the_poll(cadence)
    assert "anonymous" in poll.all_text
    voters = ["UVOTERANNA", "UVOTERBOB", "UVOTERCARL"]
    choose(cadence, poll, "Good", user=voters[0])
    choose(cadence, poll, "Bad", user=voters[1])
    choose(cadence, poll, "Good", user=voters[1])  # changes their one vote
    choose(cadence, poll, "Good", user=voters[2])
    choose(cadence, poll, "Good", user=voters[2])
    click(cadence, poll, "poll.clear", user=voters[2])
    choose(cadence, poll, "Meh", user=voters[2])
    assert counts(the_poll(cadence)) == {"Good": "2 (67%)", "Meh": "1 (33%)", "Bad": "0 (0%)"}
    assert "Your vote is anonymous" in cadence.fake.responses()[-1]["text"]

    cadence.tick(cadence.clock() + timedelta(hours=1, minutes=59))
    assert "Poll closed" not in the_poll(cadence).all_text
    cadence.tick(cadence.clock() + timedelta(minutes=1))
    poll = the_poll(cadence)
    assert "Poll closed · 3 people voted. Result: *Good*" in poll.all_text
    updates = len(cadence.fake.calls("chat.update"))
    cadence.tick(cadence.clock() + timedelta(minutes=1))
    assert len(cadence.fake.calls("chat.update")) == updates

    recorded = json.dumps([c.args for c in cadence.fake.calls()] + cadence.fake.responses())
    logged = "\n".join(r.getMessage() + " " + json.dumps(vars(r), default=str) for r in caplog.records)
    for voter in voters:
        assert voter not in recorded
        assert voter not in poll.all_text
        assert voter not in logged
    with cadence.db.transaction() as session:
        stored = session.scalars(select(store.PollVote.voter)).all()
        closed_at = session.scalar(select(store.Poll.closed_at))
    assert len(stored) == 3
    assert not set(stored) & set(voters)
    assert closed_at is not None


def test_arguments_it_cannot_use_get_the_usage(cadence: Cadence) -> None:
    reply = cadence.command("/poll", '"Lunch? "Pizza" "Sushi"')
    assert "A quote is not closed" in reply.text
    assert '/poll "Question?" "Option A" "Option B"' in reply.text
    reply = cadence.command("/poll", '"Lunch?" "Pizza"')
    assert "at least 2 options" in reply.text
    reply = cadence.command("/poll", "help")
    assert "--anonymous" in reply.text
    assert cadence.fake.calls("chat.postMessage") == []


def test_the_modal_checks_the_limits_and_posts_the_poll(cadence: Cadence) -> None:
    cadence.command("/poll", "", user="U1")
    modal = cadence.fake.last_view()
    assert modal["callback_id"] == "poll.create"

    def values(question: str, options: str, close_after: str = "") -> dict:
        return {
            "poll.question": {"poll.question": {"type": "plain_text_input", "value": question}},
            "poll.options": {"poll.options": {"type": "plain_text_input", "value": options}},
            "poll.flags": {"poll.flags": {"type": "checkboxes", "selected_options": [{"value": "multi"}]}},
            "poll.close_after": {"poll.close_after": {"type": "plain_text_input", "value": close_after}},
        }

    reply = cadence.slack.view_submission(modal, values("Team lunch?", "Only one", "soon"), user="U1")
    assert reply.json["response_action"] == "errors"
    assert reply.json["errors"] == {
        "poll.options": "A poll needs at least 2 options.",
        "poll.close_after": "`soon` is not a duration; use e.g. `30m`, `2h` or `1d`.",
    }
    reply = cadence.slack.view_submission(modal, values("Team lunch?", "Tuesday\nThursday\n", "1d"), user="U1")
    assert reply.status == 200
    cadence.settle()
    poll = the_poll(cadence)
    assert counts(poll) == {"Tuesday": "0 (0%)", "Thursday": "0 (0%)"}
    assert "several choices allowed" in poll.all_text
    assert "closes" in poll.all_text


def test_a_failed_poll_update_is_redrawn_after_the_outbox_backs_off(cadence: Cadence) -> None:
    cadence.command("/poll", '"Q?" "A" "B"', user="U1")
    poll = the_poll(cadence)
    cadence.fake.fail("chat.update", error="internal_error")
    choose(cadence, poll, "A", user="U2")
    assert counts(the_poll(cadence))["A"] == "0 (0%)"
    cadence.clock.advance(timedelta(seconds=5))  # the outbox's first back-off
    cadence.settle()
    assert counts(the_poll(cadence))["A"] == "1 (100%)"
