"""One process of the two-process test: `python -m tests.claimed_sender COUNT` sends COUNT scheduled prompts.

Reads DATABASE_URL and SLACK_API_URL; waits for a line on standard input so that both processes start together;
prints how many it sent.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime

from bot.server.runtime import Runtime
from bot.server.settings import load_settings
from bot.slack.fanout import FanOut, Post, deliver_claimed

DUE = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def main(count: int) -> None:
    runtime = Runtime.from_settings(load_settings(), clock=lambda: DUE)
    posts = [Post(key=f"standup.prompt:1:U{i:04d}:2026-12-01", channel=f"U{i:04d}", text="Time for stand-up")
             for i in range(count)]
    sys.stdin.readline()
    fanout = FanOut(runtime.client_for("T1"), per_second=200, burst=50)
    deliveries = deliver_claimed(runtime, team_id="T1", kind="standup.prompt", posts=posts, due_at=DUE,
                                 fanout=fanout)
    print(sum(1 for d in deliveries if d.ok), flush=True)
    runtime.db.dispose()


if __name__ == "__main__":
    main(int(sys.argv[1]))
