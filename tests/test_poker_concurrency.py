"""A storm of clicks over HTTP: every vote counted exactly once, the message ends right, updates are coalesced."""

from __future__ import annotations

import threading
from collections.abc import Callable

from sqlalchemy import func, select

from bot.devtools.harness import Cadence
from storage import poker as store
from storage import polls as poll_store
from tests.test_poker import card_button, parent_and_stories, voters_line
from tests.test_polls import counts, the_poll

VOTERS = 50
SLACK_UPDATE_SECONDS = 0.5  # a chat.update as slow as Slack's on a busy day


def storm(clicks: list[Callable[[], object]]) -> None:
    """Run every click at the same moment, each from its own thread, as fifty people would."""
    start = threading.Barrier(len(clicks))
    failures: list[BaseException] = []

    def run(click: Callable[[], object]) -> None:
        start.wait()
        try:
            reply = click()
            assert getattr(reply, "status", 200) == 200
        except BaseException as error:  # collected and re-raised in the test's thread
            failures.append(error)

    threads = [threading.Thread(target=run, args=(click,)) for click in clicks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []


def test_fifty_simultaneous_poker_votes_are_each_counted_once(cadence: Cadence) -> None:
    cadence.command("/poker", "PAY-1 Storm", user="UFAC")
    story = parent_and_stories(cadence)[1][0]
    cadence.fake.latency["chat.update"] = SLACK_UPDATE_SECONDS
    updates_before = len(cadence.fake.calls("chat.update"))
    voters = [f"UV{i:03d}" for i in range(VOTERS)]
    cards = ["1", "2", "3", "5", "8"]

    def click(user: str, card: str) -> Callable[[], object]:
        element, block_id = card_button(story, card)
        return lambda: cadence.slack.block_action(element["action_id"], element["value"], user=user, channel="C1",
                                                  message_ts=story.ts, block_id=block_id)

    # Everyone clicks at once, and a third of them double-click.
    clicks = [click(user, cards[i % len(cards)]) for i, user in enumerate(voters)]
    clicks += [click(user, cards[i % len(cards)]) for i, user in enumerate(voters) if i % 3 == 0]
    cadence.scheduler.outbox.start()  # redraws go out while the votes come in, as in production
    try:
        storm(clicks)
    finally:
        cadence.scheduler.outbox.stop()
    cadence.settle()

    with cadence.db.transaction() as session:
        stored = session.scalars(select(store.PokerVote.user_id)).all()
    assert sorted(stored) == voters
    shown = cadence.fake.message("C1", story.ts)
    assert voters_line(shown).startswith(f"*Votes ({VOTERS})*: ")
    assert all(f"<@{user}>" in voters_line(shown) for user in voters)
    updates = len(cadence.fake.calls("chat.update")) - updates_before
    # One outbox redraw row per message, drawn from the latest state: a burst becomes a handful of updates.
    assert 1 <= updates <= VOTERS // 3, f"{updates} chat.update calls for {VOTERS} votes"


def test_fifty_simultaneous_poll_votes_are_each_counted_once(cadence: Cadence) -> None:
    cadence.command("/poll", '"Storm?" "Yes" "No" --anonymous', user="UFAC")
    poll = the_poll(cadence)
    cadence.fake.latency["chat.update"] = SLACK_UPDATE_SECONDS
    buttons = {b["accessory"]["text"]["text"]: b["accessory"] for b in poll.blocks if b.get("accessory")}

    def click(user: str, option: str) -> Callable[[], object]:
        button = buttons[option]
        return lambda: cadence.slack.block_action(button["action_id"], button["value"], user=user, channel="C1",
                                                  message_ts=poll.ts)

    voters = [f"UP{i:03d}" for i in range(VOTERS)]
    # Everyone votes Yes; the first ten also click No at the same moment: one choice each, whichever came last.
    storm([click(user, "Yes") for user in voters] + [click(user, "No") for user in voters[:10]])
    cadence.settle()

    with cadence.db.transaction() as session:
        rows = session.execute(select(poll_store.PollVote.voter, func.count()).group_by(poll_store.PollVote.voter))
        per_voter = dict(rows.all())
        yes_no = session.scalar(select(func.count()).select_from(poll_store.PollVote))
    assert len(per_voter) == VOTERS
    assert set(per_voter.values()) == {1}
    assert yes_no == VOTERS
    shown = counts(the_poll(cadence))
    assert sum(int(count.split()[0]) for count in shown.values()) == VOTERS
    assert f"{VOTERS} people voted" in the_poll(cadence).all_text
