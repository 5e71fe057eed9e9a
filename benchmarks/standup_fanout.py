"""Fan-out of one stand-up to 1,000 participants through the real stand-up job, against the fake Slack enforcing a
realistic rate limit (issue 9, benchmark 3).

The fake answers 429 with a Retry-After above 20 chat.postMessage a second for the workspace (bursts of 20) or one a
second per channel, like Slack; the app's fan-out is set to the same pace (SLACK_FANOUT_PER_SECOND=20; the default, 4,
stays well inside what Slack documents). Measured for the first fan-out (nobody's timezone cached yet) and the next
day (every cached profile a day old, so refreshed): total time against the least the limit allows, prompts lost and
duplicated, Web API calls per participant (timezones come from users.info, one call per stale person, as `/standup
now` asks them; each prompt is exactly one chat.postMessage with the user id as the channel, no conversations.open),
and the process's peak memory.

    /work/venv/bin/python -m benchmarks.standup_fanout [PARTICIPANTS]
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks.table import Row
from bot.devtools.fakeslack import FakeSlack
from bot.devtools.harness import FrozenClock
from bot.jobs.outbox import OutboxWorker
from bot.jobs.standup import queue_due_prompts
from bot.server.runtime import Runtime
from bot.server.settings import Settings
from ceremonies.standup import StandupConfig, default_questions
from storage import migrate
from storage import standup as store
from storage.db import Database

TEAM = "T1"
PER_SECOND = 20
BURST = 20


def _peak_rss_mb() -> float:
    """The process's peak resident memory (Linux reports kilobytes), fake Slack and its records included."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(participants: int) -> list[Row]:
    fake = FakeSlack(team_id=TEAM).start()
    fake.rate_limit(per_second=PER_SECOND, burst=BURST, per_channel_per_second=1)
    users = [f"U{n:05d}" for n in range(participants)]
    for user in users:
        fake.add_user(user, tz="Europe/Berlin")
    fake.add_channel("C1")
    name = f"stand-up fan-out, {participants:,} people"
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        migrate.upgrade(url)
        clock = FrozenClock(datetime(2026, 12, 1, 8, 30, tzinfo=UTC))  # 09:30 in Berlin, a Tuesday
        settings = Settings(_env_file=None, slack_bot_token="xoxb-bench", slack_signing_secret="bench",  # type: ignore[call-arg]
                            slack_api_url=fake.api_url, database_url=url, slack_fanout_per_second=PER_SECOND)
        runtime = Runtime(settings=settings, db=Database(url), clock=clock)
        with runtime.db.transaction() as session:
            standup = store.save_standup(session, team_id=TEAM, channel_id="C1", owner_id=users[0], config=StandupConfig(
                channel_id="C1", report_channel_id="C1", participants=tuple(users), questions=default_questions(),
            ), now=clock())
            standup_id = standup.id
        slack = runtime.gateway.for_team(TEAM)
        worker = OutboxWorker(runtime)
        minimum = (participants - BURST) / PER_SECOND
        for label, day in (("day 1 (no profile cached)", 0), ("day 2 (profiles refreshed)", 1)):
            now = clock() + timedelta(days=day)
            clock.set(now)
            before = len(fake.calls())
            limited_before = len(fake.state.rate_limited)
            received_before = Counter(m.channel for m in fake.messages() if m.channel.startswith("DU"))
            started = time.perf_counter()
            # The job queues every prompt in the outbox; the worker delivers them at the workspace's pace.
            sent = queue_due_prompts(runtime, slack, team_id=TEAM, standup_id=standup_id, now=now)
            worker.drain(rounds=10_000)
            elapsed = time.perf_counter() - started
            received = Counter(m.channel for m in fake.messages() if m.channel.startswith("DU")) - received_before
            lost = sum(1 for u in users if received[fake.dm_channel(u)] == 0)
            duplicated = sum(n - 1 for n in received.values() if n > 1)
            calls = Counter(c.method for c in fake.calls()[before:])
            limited = len(fake.state.rate_limited) - limited_before
            others = {m: n for m, n in calls.items() if m != "chat.postMessage"}
            rows += [
                Row(f"{name}, {label}", f"total time (limit {PER_SECOND}/s, burst {BURST}; {sent} sent)",
                    f"{elapsed:.1f} s = {elapsed / minimum:.2f}x the minimum {minimum:.1f} s", "close to 1x"),
                Row(f"{name}, {label}", "lost / duplicated prompts", f"{lost} / {duplicated}", "0 / 0"),
                Row(f"{name}, {label}", "chat.postMessage per person (429s); other calls",
                    f"{(calls['chat.postMessage'] - limited) / max(sent, 1):.3f} ({limited}); {others}",
                    "1 + the report parent"),
            ]
        rows.append(Row(name, "peak resident memory of the process (fake Slack included)", f"{_peak_rss_mb():.0f} MB",
                        "< 200 MB"))
        runtime.db.dispose()
    fake.stop()
    return rows


def main() -> list[Row]:
    return run(1000)


if __name__ == "__main__":
    from benchmarks.table import render

    print(render(run(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)))
