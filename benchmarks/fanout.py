"""Fan-out: 1,000 stand-up prompts through bot.slack.fanout against the fake Slack enforcing a realistic rate limit.

    python -m benchmarks.fanout

Slack publishes one message a second per channel for chat.postMessage and a workspace-wide limit it does not put a
number on ("several hundred a minute"); the fake enforces 20 a second with bursts of 20 (1,200 a minute), above
which it answers 429 with a Retry-After, like Slack. Each prompt goes to its own DM.
"""

from __future__ import annotations

import time
from collections import Counter

from slack_sdk import WebClient

from benchmarks.table import Row
from bot.devtools.fakeslack import FakeSlack
from bot.slack.client import retry_handlers
from bot.slack.fanout import FanOut, Post

PROMPTS = 1000
PER_SECOND = 20
BURST = 20


def run(*, failing_share: float) -> list[Row]:
    fake = FakeSlack().start()
    try:
        fake.rate_limit(per_second=PER_SECOND, burst=BURST, per_channel_per_second=1)
        if failing_share:
            fake.flaky("chat.postMessage", share=failing_share, status=500, seed=11)
        client = WebClient(token="xoxb-bench", base_url=fake.api_url, retry_handlers=retry_handlers())
        posts = [Post(key=f"standup.prompt:1:U{i:05d}:2026-12-01", channel=f"U{i:05d}", text="Time for stand-up")
                 for i in range(PROMPTS)]
        started = time.monotonic()
        deliveries = FanOut(client, per_second=PER_SECOND, burst=BURST).send(posts)
        elapsed = time.monotonic() - started
        received = Counter(m.channel for m in fake.messages())
        lost = sum(1 for p in posts if received[fake.dm_channel(p.channel)] == 0)
        duplicated = sum(n - 1 for n in received.values() if n > 1)
        failed = sum(1 for d in deliveries if not d.ok)
        refused = len(fake.calls("chat.postMessage")) - PROMPTS
        rate_limited = len(fake.state.rate_limited)
    finally:
        fake.stop()
    minimum = (PROMPTS - BURST) / PER_SECOND
    name = f"fan-out {PROMPTS:,} prompts" + (f", {failing_share:.0%} HTTP 500" if failing_share else "")
    return [
        Row(name, f"total time (limit {PER_SECOND}/s, burst {BURST})",
            f"{elapsed:.1f} s = {elapsed / minimum:.2f}x the minimum {minimum:.1f} s", "close to 1x"),
        Row(name, "lost / duplicated / reported failed", f"{lost} / {duplicated} / {failed}", "0 / 0 / 0"),
        Row(name, "calls refused by Slack (429 from its limiter)", f"{refused} ({rate_limited})", ""),
    ]


def main() -> list[Row]:
    return run(failing_share=0.0) + run(failing_share=0.1)


if __name__ == "__main__":
    from benchmarks.table import render

    print(render(main()))
