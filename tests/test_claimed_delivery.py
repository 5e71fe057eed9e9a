"""Scheduled messages through claims and the paced fan-out: sent once, whatever Slack does, however many processes."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from bot.devtools.fakeslack import FakeSlack
from bot.devtools.harness import Cadence
from bot.slack.fanout import FanOut, Post, deliver_claimed
from storage import claims
from tests.conftest import _empty

ROOT = Path(__file__).resolve().parent.parent
DUE = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def prompts(users: list[str]) -> list[Post]:
    return [Post(key=f"standup.prompt:1:{u}:2026-12-01", channel=u, text=f"Stand-up time, {u}") for u in users]


def lag_count() -> float:
    return REGISTRY.get_sample_value("cadence_scheduled_work_lag_seconds_count", {"kind": "standup.prompt"}) or 0.0


def test_claimed_prompts_are_sent_once_refusals_are_final_and_outages_come_back(cadence: Cadence) -> None:
    fake = cadence.fake
    for user in ("U1", "U2", "U3"):
        fake.add_user(user, deleted=user == "U2")
    posts = prompts(["U1", "U2", "U3"])
    cadence.clock.set(DUE + timedelta(seconds=30))
    lags_before = lag_count()

    fake.fail("chat.postMessage", status=503)  # U1's first attempt; the fan-out tries again
    sent = deliver_claimed(cadence.runtime, team_id="T1", kind="standup.prompt", posts=posts, due_at=DUE)

    assert [(d.post.channel, d.ok, d.error) for d in sent] == [("U1", True, None), ("U2", False, "user_disabled"),
                                                               ("U3", True, None)]
    assert [len(fake.dms(u)) for u in ("U1", "U2", "U3")] == [1, 0, 1]
    assert lag_count() - lags_before == 2
    with cadence.db.transaction() as session:
        assert all(claims.is_done(session, key=p.key) for p in posts)  # user_disabled is not retried

    assert deliver_claimed(cadence.runtime, team_id="T1", kind="standup.prompt", posts=posts, due_at=DUE) == []
    assert [len(fake.dms(u)) for u in ("U1", "U2", "U3")] == [1, 0, 1]


def test_prompts_slack_could_not_take_are_released_and_sent_on_a_later_tick(cadence: Cadence) -> None:
    fake = cadence.fake
    posts = prompts(["U7", "U8"])
    cadence.clock.set(DUE)
    fake.flaky("chat.postMessage", share=1.0, status=500)
    client = cadence.runtime.client_for("T1")

    failed = deliver_claimed(cadence.runtime, team_id="T1", kind="standup.prompt", posts=posts, due_at=DUE,
                             fanout=FanOut(client, max_attempts=1))

    assert [(d.ok, d.retryable) for d in failed] == [(False, True), (False, True)]
    with cadence.db.transaction() as session:
        released = claims.claim_of(session, key=posts[0].key)
        assert released is not None
        assert (released.done_at, released.last_error) == (None, "internal_error")

    fake.flaky("chat.postMessage", share=0.0)
    cadence.clock.set(DUE + timedelta(minutes=2))  # still inside the retry delay: nobody takes them
    assert deliver_claimed(cadence.runtime, team_id="T1", kind="standup.prompt", posts=posts, due_at=DUE) == []
    cadence.clock.set(DUE + timedelta(minutes=6))
    again = deliver_claimed(cadence.runtime, team_id="T1", kind="standup.prompt", posts=posts, due_at=DUE)
    assert [d.ok for d in again] == [True, True]
    assert [len(fake.dms(u)) for u in ("U7", "U8")] == [1, 1]


@pytest.mark.postgres_only
def test_two_processes_sending_the_same_prompts_send_each_once(fake: FakeSlack, postgres_url: str) -> None:
    _empty(postgres_url)
    count = 300
    fake.rate_limit(per_second=400, burst=100, per_channel_per_second=1)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": postgres_url, "SLACK_API_URL": fake.api_url,
           "SLACK_BOT_TOKEN": "xoxb-two"}
    processes = [subprocess.Popen([sys.executable, "-m", "tests.claimed_sender", str(count)], cwd=ROOT, env=env,
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) for _ in range(2)]
    for process in processes:  # both start sending at the same moment
        assert process.stdin is not None
        process.stdin.write("go\n")
        process.stdin.flush()
    outputs = [process.communicate(timeout=120)[0] for process in processes]

    assert [p.returncode for p in processes] == [0, 0]
    sent = [int(output.strip()) for output in outputs]
    assert sum(sent) == count
    assert Counter(m.channel for m in fake.messages()) == {f"DU{i:04d}": 1 for i in range(count)}
