"""Slack gets its answer the moment a listener acknowledges, while the listener's work goes on."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.devtools.harness import Cadence
from bot.server.acks import AckAwaitingExecutor, SignallingAck, expect_ack


def test_a_request_thread_is_released_once_the_listener_acknowledged_not_when_it_ends() -> None:
    ack = expect_ack(BoltContext())
    started, may_ack, may_finish = threading.Event(), threading.Event(), threading.Event()

    def listener() -> str:
        started.set()
        may_ack.wait(5)
        ack()
        may_finish.wait(5)
        return "finished"

    threading.Thread(target=lambda: started.wait(5) and may_ack.set()).start()  # acks only once the listener runs
    with ThreadPoolExecutor(max_workers=1) as pool:
        future = AckAwaitingExecutor(pool).submit(listener)
        acked_when_released, done_when_released = ack.response is not None, future.done()
        may_finish.set()

        assert isinstance(ack, SignallingAck)
        assert (acked_when_released, done_when_released) == (True, False)
        assert future.result(timeout=5) == "finished"


def test_a_listener_that_ends_without_acknowledging_releases_the_request_thread() -> None:
    context = BoltContext()
    expect_ack(context)
    ends = threading.Event()

    with ThreadPoolExecutor(max_workers=1) as pool:
        future = AckAwaitingExecutor(pool).submit(lambda: ends.wait(5) and "ended")
        # Only the listener's end can have released submit: nothing acknowledged.
        ends.set()
        assert future.result(timeout=5) == "ended"
        assert context["ack"].response is None


def test_a_click_is_answered_while_its_listener_still_works(cadence: Cadence) -> None:
    still_working = threading.Event()
    acks_seen = []

    def click(ack: Ack, client: WebClient, context: BoltContext) -> None:
        acks_seen.append(ack)
        ack()
        still_working.wait(10)
        client.chat_postMessage(channel=context.channel_id, text="done after the answer")

    cadence.app.action("probe.slow")(click)

    reply = cadence.slack.block_action("probe.slow", "v", channel="C1")
    posted_before_answer = [m.text for m in cadence.fake.messages("C1")]
    still_working.set()
    cadence.settle()

    assert reply.status == 200
    assert [type(ack) for ack in acks_seen] == [SignallingAck]  # answered at the ack, not at Bolt's next poll
    assert posted_before_answer == []
    assert [m.text for m in cadence.fake.messages("C1")] == ["done after the answer"]


def test_clicks_are_answered_while_slack_is_slow_for_the_clicks_before_them(cadence: Cadence) -> None:
    # Each click's work after its ack waits 3.5 s for Slack: acks must not wait for a thread those clicks hold.
    cadence.fake.latency["chat.postMessage"] = 3.5

    def click(ack: Ack, client: WebClient, context: BoltContext) -> None:
        ack()
        client.chat_postMessage(channel=context.channel_id, text=f"done for {context.user_id}")

    cadence.app.action("probe.busy")(click)

    with ThreadPoolExecutor(max_workers=60) as people:
        replies = list(people.map(
            lambda i: cadence.slack.block_action("probe.busy", "v", user=f"U{i:02d}", channel="C1"), range(60)))
    cadence.settle()

    assert [reply.status for reply in replies] == [200] * 60
    assert sorted(m.text for m in cadence.fake.messages("C1")) == [f"done for U{i:02d}" for i in range(60)]
