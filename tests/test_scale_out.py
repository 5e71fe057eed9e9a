"""Scaling out (issue 9): two real `cadence serve` processes on one Postgres send each stand-up prompt and the report
once; a Slack that refuses a share of calls (429, 500) still gets every prompt and every report post exactly once."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot.devtools.fakeslack import FakeSlack
from bot.devtools.harness import Cadence
from ceremonies.standup import StandupConfig, TimezoneMode, default_questions
from storage import standup as store
from storage.db import Database
from storage.outbox import OutboxMessage
from tests.conftest import _empty
from tests.test_serve import ROOT, SECRET, free_port, wait_until_healthy
from tests.test_standup_flow import answer, prompt_of, utc

PROMPT_TEXT = "Time for the"


def wait_for(condition: Callable[[], bool], *, limit: float, what: str) -> None:
    """Poll until `condition` holds (bounded): the servers work on real time, so there is nothing to tick."""
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {limit:.0f} s waiting for {what}")
        time.sleep(0.1)


def prompts_by_user(fake: FakeSlack) -> Counter[str]:
    """Prompts that arrived (not calls Slack refused), by participant."""
    return Counter(m.channel.removeprefix("D") for m in fake.messages()
                   if m.channel.startswith("DU") and PROMPT_TEXT in m.text)


Server = tuple[subprocess.Popen[str], str, Path]  # the process, its URL, its log


def start_server(fake: FakeSlack, database_url: str, tmp_path: Path, name: str, **settings: str) -> Server:
    """A real `cadence serve` (gunicorn) on a free port against the fake Slack; `settings` add to its environment."""
    port = free_port()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(ROOT),
           "SLACK_BOT_TOKEN": "xoxb-serve", "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": fake.api_url,
           "DATABASE_URL": database_url, "PORT": str(port), "CADENCE_ANONYMITY_SECRET": "scale-out-anonymity-secret",
           **settings}
    log = (tmp_path / f"{name}.log").open("w")
    process = subprocess.Popen([sys.executable, "-m", "bot", "serve"], cwd=tmp_path, env=env, stdout=log,
                               stderr=subprocess.STDOUT, text=True)
    return process, f"http://127.0.0.1:{port}", tmp_path / f"{name}.log"


def save_standup_due_now(database: Database, users: list[str], now: datetime) -> None:
    """A stand-up in C1 for `users` whose time is `now` in its timezone, so it falls due on the servers' next tick."""
    zone = zone_where_it_is_noon(now)
    local = now.astimezone(ZoneInfo(zone))
    config = StandupConfig(channel_id="C1", report_channel_id="C1", participants=tuple(users),
                           questions=default_questions(), days=frozenset(range(7)),
                           local_time=clock_time(local.hour, local.minute), timezone_mode=TimezoneMode.TEAM,
                           team_timezone=zone, window_end=clock_time(23, 0))
    with database.transaction() as session:
        store.save_standup(session, team_id="T1", channel_id="C1", owner_id=users[0], config=config, now=now)


def zone_where_it_is_noon(now: datetime) -> str:
    """A fixed-offset zone whose local time is about noon now, so the day's window is open whenever the test runs."""
    offset = 12 - now.hour  # from -11 to +12 hours
    return "Etc/UTC" if offset == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"  # POSIX signs: inverted


@pytest.mark.postgres_only
def test_two_servers_on_one_postgres_send_each_prompt_and_the_report_once(
    fake: FakeSlack, postgres_url: str, tmp_path: Path
) -> None:
    _empty(postgres_url)
    users = [f"U{n:03d}" for n in range(40)]
    for user in users:
        fake.add_user(user, tz="Europe/Berlin")
    fake.add_channel("C1", "team")
    servers = [start_server(fake, postgres_url, tmp_path, name, SCHEDULER_TICK_SECONDS="0.5")
               for name in ("one", "two")]
    database = Database(postgres_url)
    try:
        for process, url, log_path in servers:
            wait_until_healthy(url, process, log=log_path)
        # Both servers are ticking; the stand-up is saved with today's time already reached in its timezone, so it
        # falls due on their next ticks, at nearly the same moment in both.
        now = datetime.now(UTC)
        save_standup_due_now(database, users, now)

        def all_sent() -> bool:
            with database.transaction() as session:
                open_claims = session.scalar(select(func.count()).select_from(OutboxMessage).where(
                    OutboxMessage.kind.in_(("standup.prompt", "standup.parent")), OutboxMessage.state != "sent"))
                recorded = session.scalar(select(func.count()).select_from(store.StandupPrompt))
            return len(prompts_by_user(fake)) == len(users) and open_claims == 0 and recorded == len(users)

        wait_for(all_sent, limit=90, what="every prompt to be sent and recorded")
        for process, _url, _log in servers:
            assert process.poll() is None, "a server died"
    finally:
        for process, _url, _log in servers:
            process.terminate()
        for process, _url, _log in servers:
            process.wait(timeout=30)
        database.dispose()

    assert prompts_by_user(fake) == Counter(dict.fromkeys(users, 1))
    assert len(fake.messages("C1", top_level=True)) == 1  # the day's report parent
    outputs = [path.read_text() for _process, _url, path in servers]
    assert all("Traceback" not in output for output in outputs), outputs


def test_every_prompt_and_report_post_arrives_once_when_slack_refuses_a_share_of_calls(cadence: Cadence) -> None:
    fake = cadence.fake
    users = tuple(f"U{n:03d}" for n in range(30))
    for user in users:
        fake.add_user(user, tz="Europe/Berlin")
    fake.add_channel("C1", "team")
    with cadence.db.transaction() as session:
        store.save_standup(session, team_id="T1", channel_id="C1", owner_id=users[0], now=utc(2026, 11, 30, 9),
                           config=StandupConfig(channel_id="C1", report_channel_id="C1", participants=users,
                                                questions=default_questions()))
    # A workspace limit below the fan-out's burst (429 with Retry-After) and one call in five failing with a 500.
    fake.rate_limit(per_second=8, burst=4, per_channel_per_second=1)
    fake.flaky("chat.postMessage", share=0.2, status=500, seed=7)

    moment = utc(2026, 12, 1, 8, 30)  # 09:30 in Berlin
    for _ in range(10):  # a Slack error leaves the message in the outbox for a later attempt
        cadence.tick(moment)
        if len(prompts_by_user(fake)) == len(users) and fake.messages("C1", top_level=True):
            break
        moment += timedelta(minutes=2)
    answering = users[:6]
    for user in answering:
        answer(cadence, user, [f"yesterday {user}", f"today {user}", ""])
    for _ in range(10):  # answers Slack refused are posted by a later attempt
        parent = fake.messages("C1", top_level=True)[0]
        if len(fake.messages("C1", thread_ts=parent.ts)) >= len(answering):
            break
        moment += timedelta(minutes=2)
        cadence.tick(moment)

    assert fake.state.rate_limited, "the fake's limiter never answered 429: the test would prove nothing"
    assert prompts_by_user(fake) == Counter(dict.fromkeys(users, 1))
    assert all(len([m for m in fake.dms(u) if PROMPT_TEXT in m.text]) == 1 for u in users)
    assert prompt_of(cadence, users[-1])
    (parent,) = fake.messages("C1", top_level=True)
    posted = Counter(user for m in fake.messages("C1", thread_ts=parent.ts) for user in answering
                     if f"today {user}" in m.all_text)
    assert posted == Counter(dict.fromkeys(answering, 1))
    assert len(fake.messages("C1", thread_ts=parent.ts)) == len(answering)


def test_the_digests_of_many_team_channels_are_paced_and_each_arrives_once(cadence: Cadence) -> None:
    fake = cadence.fake
    channels = [f"C{n}" for n in range(1, 9)]
    for channel in channels:
        cadence.command("/blocker", f"waiting on the {channel} database", user="U1", channel=channel)
    digest_time = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)  # the default digest time, the next working day
    fake.rate_limit(per_second=3, burst=2, per_channel_per_second=1)
    fake.fail("chat.postMessage", error="fatal_error")  # one digest Slack refuses: sent again a little later

    def digests() -> Counter[str]:
        return Counter(m.channel for m in fake.messages(top_level=True) if "open blockers ·" in m.text)

    cadence.tick(digest_time)
    assert sorted(digests().values()) == [1] * (len(channels) - 1)
    assert fake.state.rate_limited, "the fake's limiter never answered 429: the test would prove nothing"
    cadence.tick(digest_time + timedelta(minutes=6))
    assert digests() == Counter(dict.fromkeys(channels, 1))
    cadence.tick(digest_time + timedelta(hours=3))
    assert digests() == Counter(dict.fromkeys(channels, 1))
