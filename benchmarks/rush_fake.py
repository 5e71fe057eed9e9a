"""A fake Slack for many workspaces, in a process of its own: each workspace's limits enforced separately.

    python -m benchmarks.rush_fake PER_SECOND BURST LATENCY     # prints its base URL, then reads commands

A token `xoxb-bench-<team>` belongs to `<team>`. chat.postMessage is limited per workspace (PER_SECOND, bursts of
BURST; 1 a second per channel, bursts of 2) and every Web API call takes LATENCY seconds. Commands on standard input,
one a line: `trouble <team> <latency seconds> [<http status>]` makes one workspace's Slack slow or failing;
`report` prints one JSON line: every message posted (team, channel, arrival time, outbox key) and the count of 429s.
The process serves until its standard input closes.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from typing import Any

from bot.devtools.fakeslack import FakeSlack, RateLimit

_current = threading.local()
METHODS = ("chat.postMessage", "chat.update", "users.info", "conversations.history", "conversations.open")


class PerWorkspaceLimits:
    """What FakeSlack asks its rate limit, answered by the limit of the workspace whose token made the call."""

    def __init__(self, per_second: float, burst: int) -> None:
        self.per_second, self.burst = per_second, burst
        self._limits: dict[str, RateLimit] = {}

    def retry_after(self, method: str, channel: str) -> int | None:
        team = getattr(_current, "team", "")
        limit = self._limits.get(team)
        if limit is None:
            limit = self._limits[team] = RateLimit(self.per_second, self.burst, 1.0, 2, ("chat.postMessage",),
                                                   time.monotonic)
        return limit.retry_after(method, channel)


class RushFake(FakeSlack):
    def __init__(self, per_second: float, burst: int, latency: float) -> None:
        # Every workspace has the same channel ids (C1 ...): the report channels are not declared one by one.
        super().__init__(undeclared_member=True)
        self._rate_limit = PerWorkspaceLimits(per_second, burst)  # type: ignore[assignment]
        self.latency = dict.fromkeys(METHODS, latency)
        self.posted: list[tuple[str, str, float, str]] = []

    def team_of(self, token: str | None) -> str:
        if token and token.startswith("xoxb-bench-"):
            return token.removeprefix("xoxb-bench-")
        return super().team_of(token)

    def _handle(self, request: Any) -> None:
        token = (request.headers.get("Authorization") or "").removeprefix("Bearer ").strip()
        _current.team = self.team_of(token)
        super()._handle(request)

    def _api_chat_postMessage(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        answer = super()._api_chat_postMessage(args, token)
        if answer.get("ok"):
            metadata = args.get("metadata")
            if isinstance(metadata, str):
                metadata = json.loads(metadata)
            key = ((metadata or {}).get("event_payload") or {}).get("key", "")
            self.posted.append((self.team_of(token), str(args.get("channel")), time.time(), key))
        return answer


def main() -> None:
    per_second, burst, latency = float(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    fake = RushFake(per_second, burst, latency).start()
    fake.state.calls = _Forgetful()  # 20,000 calls' arguments are not needed, only their number
    print(fake.base_url, flush=True)
    for line in sys.stdin:
        words = line.split()
        if words[:1] == ["trouble"]:
            status = int(words[3]) if len(words) > 3 else None
            fake.team_trouble(words[1], latency=float(words[2]), status=status)
            print("ok", flush=True)
        elif words[:1] == ["report"]:
            with fake._lock:
                print(json.dumps({"posted": fake.posted, "rate_limited": len(fake.state.rate_limited),
                                  "calls": fake.state.calls.count}), flush=True)
    fake.stop()


class _Forgetful(list):  # type: ignore[type-arg]
    """FakeSlack's call log, counting calls instead of keeping them."""

    count = 0

    def append(self, _call: Any) -> None:
        self.count += 1

    def __getitem__(self, index: Any) -> Any:
        return None


if __name__ == "__main__":
    main()
