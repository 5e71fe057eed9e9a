"""Fan-out of one stand-up to 1,000 participants against the in-process fake Slack.

Prints the total time, Web API calls per participant and the peak memory of the process, for the first fan-out
(nobody's timezone cached yet) and for the next day (every cached profile a day old, so refreshed). Timezones come
from users.list, 200 people a call; each prompt is exactly one chat.postMessage with the user id as the channel,
no conversations.open.

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

from bot.devtools.fakeslack import FakeSlack
from bot.devtools.harness import FrozenClock
from bot.listeners.standup import send_due_prompts
from bot.runtime import Runtime
from bot.settings import Settings
from ceremonies.standup import StandupConfig, default_questions
from storage import migrate
from storage import standup as store
from storage.db import Database

TEAM = "T1"


def _peak_rss_mb() -> float:
    """The process's peak resident memory (Linux reports kilobytes), fake Slack and its records included."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(participants: int) -> None:
    fake = FakeSlack(team_id=TEAM).start()
    users = [f"U{n:05d}" for n in range(participants)]
    for user in users:
        fake.add_user(user, tz="Europe/Berlin")
    fake.add_channel("C1")
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        migrate.upgrade(url)
        clock = FrozenClock(datetime(2026, 12, 1, 8, 30, tzinfo=UTC))  # 09:30 in Berlin, a Tuesday
        settings = Settings(_env_file=None, slack_bot_token="xoxb-bench", slack_signing_secret="bench",  # type: ignore[call-arg]
                            slack_api_url=fake.api_url, database_url=url)
        runtime = Runtime(settings=settings, db=Database(url), clock=clock)
        with runtime.db.transaction() as session:
            standup = store.save_standup(session, team_id=TEAM, channel_id="C1", owner_id=users[0], config=StandupConfig(
                channel_id="C1", report_channel_id="C1", participants=tuple(users), questions=default_questions(),
            ), now=clock())
            standup_id = standup.id
        client = runtime.client_for(TEAM)
        print(f"stand-up fan-out to {participants} participants (SQLite, fake Slack over local HTTP)")
        print(f"peak resident memory before the fan-out: {_peak_rss_mb():.0f} MB")
        for label, day in (("day 1: no profile cached", 0), ("day 2: profiles a day old, refreshed in bulk", 1)):
            now = clock() + timedelta(days=day)
            clock.set(now)
            before = len(fake.calls())
            started = time.perf_counter()
            sent = send_due_prompts(runtime, client, team_id=TEAM, standup_id=standup_id, now=now)
            elapsed = time.perf_counter() - started
            calls = Counter(c.method for c in fake.calls()[before:])
            prompts = sum(1 for c in fake.calls("chat.postMessage")[-sent:] if c.args.get("channel") in set(users))
            print(f"\n{label}")
            print(f"  prompts sent:                  {sent}")
            print(f"  total time:                    {elapsed:.2f} s ({elapsed / max(sent, 1) * 1000:.1f} ms per participant)")
            print(f"  Web API calls:                 {dict(calls)}")
            print(f"  chat.postMessage per person:   {prompts / max(sent, 1):.2f}")
            print(f"  all calls per participant:     {sum(calls.values()) / max(sent, 1):.3f} "
                  "(includes the one report parent)")
            print(f"  conversations.open calls:      {calls.get('conversations.open', 0)}")
            print(f"  peak resident memory so far:   {_peak_rss_mb():.0f} MB")
        runtime.db.dispose()
    fake.stop()


if __name__ == "__main__":
    run(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
