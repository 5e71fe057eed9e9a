"""Action items follow people: reviewed at the next retro, carried forward when not done, reminded on the due date."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from bot.devtools.fakeslack import Message
from bot.devtools.harness import Cadence
from bot.views import retro as views
from storage import outbox
from storage import retro as store
from tests.test_retro_steps import (
    CHANNEL,
    add_action,
    add_card,
    advance,
    board,
    last_response_text,
    start_retro,
    thread,
)


def retro_with_actions(cadence: Cadence, actions: list[tuple[str, str, str | None]]) -> None:
    """A short retro by U1 that ends with the given (text, owner, due) action items, then closes."""
    start_retro(cadence, user="U1", anonymous=False)
    add_card(cadence, "U2", 0, "Something happened")
    for _ in range(4):
        advance(cadence, "U1")  # reveal, group, vote, discuss
    for text, owner, due in actions:
        add_action(cadence, board(cadence), "U1", text=text, owner=owner, due=due)
    advance(cadence, "U1")
    advance(cadence, "U1")


def reviews(cadence: Cadence) -> dict[str, Message]:
    return {m.text.removeprefix("From an earlier retro: "): m for m in thread(cadence)
            if m.text.startswith("From an earlier retro")}


def setup_people(cadence: Cadence) -> None:
    for user, name in (("U1", "alice"), ("U2", "bob"), ("U3", "carol")):
        cadence.fake.add_user(user, name)


def test_open_items_come_back_at_the_next_retro_and_not_done_carries_forward(cadence: Cadence) -> None:
    setup_people(cadence)
    retro_with_actions(cadence, [("Fix the flaky test", "U3", "2026-12-10"), ("Write the runbook", "U2", None)])

    start_retro(cadence, user="U1", anonymous=True)
    asked = reviews(cadence)
    assert set(asked) == {"Fix the flaky test", "Write the runbook"}
    assert "Owner <@U3> · due 2026-12-10" in asked["Fix the flaky test"].all_text

    # Only the owner or the facilitator settles an item.
    cadence.slack.click(asked["Fix the flaky test"], views.REVIEW_DONE, user="U2")
    cadence.settle()
    assert last_response_text(cadence) == ":warning: Only the action item's owner or the retro's facilitator can settle it."
    cadence.slack.click(asked["Write the runbook"], views.REVIEW_DONE, user="U2")
    cadence.slack.click(asked["Fix the flaky test"], views.REVIEW_NOT_DONE, user="U1")
    cadence.settle()
    answered = reviews(cadence)
    assert "*Done* by <@U2>." in answered["Write the runbook"].all_text
    assert "*Not done* by <@U1>. It carries forward" in answered["Fix the flaky test"].all_text
    assert not any(b["type"] == "actions" for b in answered["Write the runbook"].blocks)

    listed = cadence.command("/retro", "actions", user="U2", channel=CHANNEL).text
    assert "Fix the flaky test — <@U3>, due 2026-12-10" in listed
    assert "runbook" not in listed

    # The next retro brings up only what is still open, marked as carried over.
    for _ in range(6):
        advance(cadence, "U1")
    start_retro(cadence, user="U1")
    again = reviews(cadence)
    assert list(again) == ["Fix the flaky test"]
    assert "carried over 1×" in again["Fix the flaky test"].all_text
    cadence.slack.click(again["Fix the flaky test"], views.REVIEW_DROP, user="U3")
    cadence.settle()

    with cadence.db.transaction() as session:
        items = {i.text: i for i in session.scalars(select(store.RetroActionItem))}
        runbook, flaky = items["Write the runbook"], items["Fix the flaky test"]
        assert (runbook.status, runbook.resolved_by, runbook.resolved_at) == ("done", "U2", cadence.clock())
        assert (flaky.status, flaky.carried_count, flaky.resolved_by) == ("dropped", 1, "U3")
        history = session.scalars(
            select(store.RetroActionReview).where(store.RetroActionReview.action_item_id == flaky.id)
            .order_by(store.RetroActionReview.id)
        ).all()
        assert [(r.outcome, r.decided_by) for r in history] == [("not_done", "U1"), ("dropped", "U3")]
        assert store.open_action_items(session, team_id="T1", channel_id=CHANNEL) == []
    assert "No open action items" in cadence.command("/retro", "actions", channel=CHANNEL).text


def test_a_repeated_answer_changes_nothing_and_a_different_one_is_refused(cadence: Cadence) -> None:
    setup_people(cadence)
    retro_with_actions(cadence, [("Fix the flaky test", "U3", None)])
    start_retro(cadence, user="U1")
    message = reviews(cadence)["Fix the flaky test"]
    review_id = next(e["value"] for b in message.blocks for e in b.get("elements", [])
                     if e.get("action_id") == views.REVIEW_DONE)
    cadence.slack.click(message, views.REVIEW_DONE, user="U3")
    cadence.settle()
    edits = cadence.fake.message(CHANNEL, message.ts).edits
    responses = len(cadence.fake.responses())
    # The same click delivered again, then a late click on another answer (from a stale copy of the message).
    cadence.slack.block_action(views.REVIEW_DONE, review_id, user="U3", channel=CHANNEL, message_ts=message.ts)
    cadence.settle()
    assert len(cadence.fake.responses()) == responses  # a repeat is no error
    cadence.slack.block_action(views.REVIEW_DROP, review_id, user="U3", channel=CHANNEL, message_ts=message.ts)
    cadence.settle()
    assert last_response_text(cadence) == ":warning: That action item was already settled."
    assert cadence.fake.message(CHANNEL, message.ts).edits == edits


def test_the_owner_is_reminded_once_on_the_due_date_at_nine_their_time(cadence: Cadence) -> None:
    setup_people(cadence)  # carol's timezone is Europe/Berlin: 09:00 there is 08:00 UTC in December
    retro_with_actions(cadence, [("Fix the flaky test", "U3", "2026-12-10")])
    dms_before = len(cadence.fake.dms("U3"))
    cadence.tick(datetime(2026, 12, 10, 7, 59, tzinfo=UTC))
    assert len(cadence.fake.dms("U3")) == dms_before
    cadence.fake.fail("chat.postMessage", error="fatal_error")
    cadence.tick(datetime(2026, 12, 10, 8, 0, tzinfo=UTC))
    assert len(cadence.fake.dms("U3")) == dms_before  # Slack refused: released, retried later
    cadence.tick(datetime(2026, 12, 10, 8, 6, tzinfo=UTC))
    cadence.tick(datetime(2026, 12, 10, 8, 7, tzinfo=UTC))
    cadence.tick(datetime(2026, 12, 11, 8, 0, tzinfo=UTC))
    reminders = [m.text for m in cadence.fake.dms("U3")[dms_before:]]
    assert reminders == [
        ":alarm_clock: Your retro action item from <#CTEAM> is due today: Fix the flaky test. "
        "Mark it at the next retro, or see `/retro actions`."
    ]
    with cadence.db.reading() as session:
        [row] = session.scalars(select(outbox.OutboxMessage).where(outbox.OutboxMessage.kind == "retro.action_due"))
        assert (row.key, row.state, row.attempts) == ("retro.action_due:1:2026-12-10", "sent", 2)


def test_an_owner_nobody_has_looked_up_is_reminded_at_nine_their_time(cadence: Cadence) -> None:
    setup_people(cadence)
    cadence.fake.add_user("U4", "dave", tz="America/New_York")  # 09:00 there is 14:00 UTC in December
    retro_with_actions(cadence, [("Ship the fix", "U4", "2026-12-10"), ("Write it up", "U3", "2026-12-10")])
    cadence.tick(datetime(2026, 12, 10, 9, 0, tzinfo=UTC))  # their timezones are looked up beside the tick...
    cadence.tick(datetime(2026, 12, 10, 9, 1, tzinfo=UTC))  # ...and used a minute later
    assert [call.args["user"] for call in cadence.fake.calls("users.info")].count("U4") == 1
    with cadence.db.reading() as session:
        moments = dict(session.execute(select(store.RetroActionItem.text, store.RetroActionItem.next_due_at)).all())
    # Carol (Berlin, 09:00 is 08:00 UTC) is reminded and no longer due; Dave's moment is stored, found by index.
    assert moments == {"Ship the fix": datetime(2026, 12, 10, 14, 0, tzinfo=UTC), "Write it up": None}
    dms_before = len(cadence.fake.dms("U4"))
    cadence.tick(datetime(2026, 12, 10, 13, 59, tzinfo=UTC))
    assert len(cadence.fake.dms("U4")) == dms_before
    cadence.tick(datetime(2026, 12, 10, 14, 0, tzinfo=UTC))
    cadence.tick(datetime(2026, 12, 10, 14, 1, tzinfo=UTC))
    assert [m.text for m in cadence.fake.dms("U4")[dms_before:]] == [
        ":alarm_clock: Your retro action item from <#CTEAM> is due today: Ship the fix. "
        "Mark it at the next retro, or see `/retro actions`."
    ]


def test_the_home_tab_query_lists_a_persons_open_items(cadence: Cadence) -> None:
    setup_people(cadence)
    retro_with_actions(cadence, [("B later", "U3", "2026-12-20"), ("A sooner", "U3", "2026-12-05"),
                                 ("Undated", "U3", None), ("Not mine", "U2", None)])
    with cadence.db.transaction() as session:
        mine = store.open_action_items_for_user(session, team_id="T1", user_id="U3")
        assert [i.text for i in mine] == ["A sooner", "B later", "Undated"]
        assert store.open_action_items_for_user(session, team_id="T2", user_id="U3") == []


def test_a_reminder_missed_while_the_app_was_down_is_sent_once_when_it_is_back(cadence: Cadence) -> None:
    setup_people(cadence)
    retro_with_actions(cadence, [("Fix the flaky test", "U3", "2026-12-10")])
    dms_before = len(cadence.fake.dms("U3"))
    cadence.tick(datetime(2026, 12, 12, 15, 0, tzinfo=UTC))
    cadence.tick(datetime(2026, 12, 12, 15, 1, tzinfo=UTC))
    assert len(cadence.fake.dms("U3")) == dms_before + 1
