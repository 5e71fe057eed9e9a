"""Paced fan-out: every message arrives exactly once, inside Slack's limits, whatever Slack answers on the way."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import REGISTRY
from slack_sdk import WebClient

from bot.devtools.fakeslack import FakeSlack
from bot.slack.fanout import Delivery, FanOut, Pacer, Post
from storage import claims
from storage.db import Database


class VirtualClock:
    """Time that passes only when the fan-out sleeps: no test waits for real seconds."""

    def __init__(self) -> None:
        self.now = 0.0
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.now += max(0.0, seconds)


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    # Pacing tests post to made-up channels; where the bot was invited is not what they test.
    server = FakeSlack(undeclared_member=True).start()
    yield server
    server.stop()
    assert server.violations == []


@pytest.fixture
def client(slack: FakeSlack) -> WebClient:
    from bot.slack.client import retry_handlers

    return WebClient(token="xoxb-fanout", base_url=slack.api_url, retry_handlers=retry_handlers())


def prompts(count: int) -> list[Post]:
    return [Post(key=f"standup.prompt:1:U{i:04d}:2026-12-01", channel=f"U{i:04d}", text=f"Stand-up time, U{i:04d}")
            for i in range(count)]


def dm_counts(slack: FakeSlack) -> Counter[str]:
    return Counter(m.channel for m in slack.messages())


def posted_calls() -> float:
    return REGISTRY.get_sample_value("cadence_slack_api_calls_total", {"method": "chat.postMessage"}) or 0.0


# -- the pacer's arithmetic ------------------------------------------------------------------------------------------

def test_the_pacer_lets_a_burst_go_then_keeps_the_workspace_rate() -> None:
    pacer = Pacer(per_second=2, burst=3, clock=lambda: 0.0)
    assert [pacer.take(f"C{i}") for i in range(6)] == [0.0, 0.0, 0.0, 0.5, 1.0, 1.5]


def test_the_pacer_sends_one_message_per_channel_per_second() -> None:
    now = [0.0]
    pacer = Pacer(per_second=100, burst=100, clock=lambda: now[0])
    assert pacer.take("C1") == 0.0
    assert pacer.ready_at("C1") == 1.0
    assert pacer.ready_at("C2") <= 0.0
    now[0] = 1.0
    assert [pacer.take("C1"), pacer.take("C2")] == [1.0, 1.0]
    assert pacer.ready_at("C1") == 2.0


def test_a_pause_holds_everything_and_restarts_without_a_burst() -> None:
    pacer = Pacer(per_second=2, burst=5, clock=lambda: 10.0)
    pacer.pause(3)
    assert [pacer.take(f"C{i}") for i in range(3)] == [13.0, 13.5, 14.0]


def test_the_pacer_refuses_a_rate_that_cannot_send() -> None:
    with pytest.raises(ValueError, match="positive"):
        Pacer(per_second=0)


# -- fan-out against the fake Slack ----------------------------------------------------------------------------------

def test_a_fan_out_at_the_limit_trips_no_rate_limit_and_takes_the_minimum_time(
    slack: FakeSlack, client: WebClient
) -> None:
    clock = VirtualClock()
    slack.rate_limit(per_second=20, burst=5, clock=clock)
    calls_before = posted_calls()

    deliveries = FanOut(client, per_second=20, burst=5, concurrency=1, clock=clock, sleep=clock.sleep).send(
        prompts(200)
    )

    assert all(d.ok and d.ts for d in deliveries)
    assert [d.post.key for d in deliveries] == [p.key for p in prompts(200)]
    assert slack.state.rate_limited == []
    assert dm_counts(slack) == {f"DU{i:04d}": 1 for i in range(200)}
    assert clock.now == pytest.approx((200 - 5) / 20)
    assert posted_calls() - calls_before == 200


def test_one_busy_channel_does_not_hold_up_the_others(slack: FakeSlack, client: WebClient) -> None:
    clock = VirtualClock()
    report = [Post(key=f"report:{i}", channel="C1", text=f"answer {i}") for i in range(4)]
    dms = prompts(5)

    FanOut(client, per_second=100, burst=100, concurrency=1, clock=clock, sleep=clock.sleep).send(report + dms)

    order = [call.args["channel"] for call in slack.calls("chat.postMessage")]
    assert order == ["C1", *[p.channel for p in dms], "C1", "C1", "C1"]
    assert clock.now == pytest.approx(3.0)


@pytest.mark.parametrize(("status", "retry_after"), [(429, 1), (500, None)])
def test_every_prompt_arrives_exactly_once_when_slack_refuses_a_share_of_calls(
    slack: FakeSlack, client: WebClient, status: int, retry_after: int | None
) -> None:
    clock = VirtualClock()
    slack.rate_limit(per_second=20, burst=5, clock=clock)
    slack.flaky("chat.postMessage", share=0.1, status=status, retry_after=retry_after, seed=3)
    settled: list[Delivery] = []

    # Paced faster than the workspace allows, so the fake's own limiter answers 429 too.
    deliveries = FanOut(client, per_second=40, burst=5, concurrency=4, clock=clock, sleep=clock.sleep).send(
        prompts(150), on_delivery=settled.append
    )

    assert all(d.ok for d in deliveries)
    assert dm_counts(slack) == {f"DU{i:04d}": 1 for i in range(150)}
    assert sorted(d.post.key for d in settled) == sorted(p.key for p in prompts(150))
    assert slack.state.rate_limited, "the fan-out outran the limit, so Slack should have said 429"
    refused = len(slack.calls("chat.postMessage")) - 150
    assert refused >= len(slack.state.rate_limited) + 5
    assert max(d.attempts for d in deliveries) > 1


def test_a_message_slack_refuses_for_good_is_reported_not_retried(slack: FakeSlack, client: WebClient) -> None:
    slack.add_user("U0000")
    slack.add_user("U0001", deleted=True)
    clock = VirtualClock()

    first, second = FanOut(client, clock=clock, sleep=clock.sleep).send(prompts(2))

    assert first.ok
    assert (second.ok, second.error, second.attempts) == (False, "user_disabled", 1)
    assert len(slack.calls("chat.postMessage")) == 2


def test_a_slack_outage_gives_up_after_the_last_attempt_with_the_error(slack: FakeSlack, client: WebClient) -> None:
    slack.flaky("chat.postMessage", share=1.0, status=500)
    clock = VirtualClock()

    (delivery,) = FanOut(client, max_attempts=4, clock=clock, sleep=clock.sleep).send(prompts(1))

    assert (delivery.ok, delivery.error, delivery.attempts) == (False, "internal_error", 4)
    # attempts at 0 s, 1 s (the channel's 1 s pace outlasts the 0.5 s backoff), 1 + 1 s and 2 + 2 s
    assert clock.now == pytest.approx(4.0)
    assert slack.messages() == []


def test_every_post_needs_its_own_key(client: WebClient) -> None:
    with pytest.raises(ValueError, match="own key"):
        FanOut(client).send([Post("k", "C1", "a"), Post("k", "C2", "b")])


def test_deliveries_are_handed_over_together_within_the_gathering_time(slack: FakeSlack, client: WebClient) -> None:
    batches: list[list[Delivery]] = []
    deliveries = FanOut(client, per_second=20, burst=20, concurrency=4).send(
        prompts(30), on_deliveries=batches.append, gather_seconds=0.5, gather_most=8)

    assert all(d.ok for d in deliveries)
    handed = [d.post.key for batch in batches for d in batch]
    assert sorted(handed) == sorted(p.key for p in prompts(30))  # each once, none left behind at the end
    assert len(batches) < 30, "answers that came in together should be handed over together"
    assert max(len(batch) for batch in batches) <= 8 + 4  # the most held, plus what one pass brings in


def test_a_real_time_fan_out_over_http_keeps_to_the_rate(slack: FakeSlack, client: WebClient) -> None:
    slack.rate_limit(per_second=40, burst=5)
    started = time.monotonic()

    deliveries = FanOut(client, per_second=40, burst=5).send(prompts(40))

    elapsed = time.monotonic() - started
    assert all(d.ok for d in deliveries)
    assert dm_counts(slack) == {f"DU{i:04d}": 1 for i in range(40)}
    assert elapsed >= (40 - 5) / 40 - 0.01  # it cannot have gone faster than the rate allows


def test_deliveries_finish_or_release_each_claim(db: Database, slack: FakeSlack, client: WebClient) -> None:
    slack.add_user("U0000")
    slack.add_user("U0001", deleted=True)
    slack.add_user("U0002")
    now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    posts = prompts(3)
    with db.transaction() as session:
        assert all(claims.claim(session, team_id="T1", kind="standup.prompt", key=p.key, now=now) for p in posts)

    def settle(delivery: Delivery) -> None:
        with db.transaction() as session:
            if delivery.ok:
                claims.finish(session, key=delivery.post.key, now=now)
            else:
                claims.release(session, key=delivery.post.key, now=now, retry_after=timedelta(minutes=10),
                               error=delivery.error or "")

    clock = VirtualClock()
    FanOut(client, clock=clock, sleep=clock.sleep).send(posts, on_delivery=settle)

    with db.transaction() as session:
        assert [claims.is_done(session, key=p.key) for p in posts] == [True, False, True]
        released = claims.claim_of(session, key=posts[1].key)
        assert released is not None
        assert released.last_error == "user_disabled"
        assert released.lease_until == now + timedelta(minutes=10)


def test_the_fake_slack_limits_the_workspace_and_each_channel_like_slack(slack: FakeSlack) -> None:
    from slack_sdk.errors import SlackApiError

    clock = VirtualClock()
    slack.rate_limit(per_second=2, burst=2, per_channel_per_second=1, per_channel_burst=1, clock=clock)
    bare = WebClient(token="xoxb-1", base_url=slack.api_url, retry_handlers=[])

    bare.chat_postMessage(channel="C1", text="1")
    with pytest.raises(SlackApiError) as same_channel:
        bare.chat_postMessage(channel="C1", text="2")
    bare.chat_postMessage(channel="C2", text="3")
    with pytest.raises(SlackApiError) as workspace:
        bare.chat_postMessage(channel="C3", text="4")
    clock.sleep(0.5)
    bare.chat_postMessage(channel="C3", text="5")

    for refused in (same_channel.value, workspace.value):
        assert refused.response.status_code == 429
        assert refused.response.headers["Retry-After"] == "1"
    assert [c.args["text"] for c in slack.state.rate_limited] == ["2", "4"]
    assert sorted(m.text for m in slack.messages()) == ["1", "3", "5"]
