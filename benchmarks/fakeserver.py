"""The fake Slack in a process of its own, as Slack is: `python -m benchmarks.fakeserver` prints its base URL.

Optional arguments: PER_SECOND BURST to enforce a workspace rate limit on chat.postMessage (1 a second per
channel too). The process serves until its standard input closes.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bot.devtools.fakeslack import FakeSlack

ROOT = Path(__file__).resolve().parent.parent


class RemoteFake:
    """What bot.devtools.signed.SlackSender needs of a fake: response URLs."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.api_url = base_url + "/api/"
        self._next = 0

    def response_url(self, target: object = None) -> str:
        self._next += 1
        return f"{self.base_url}/respond/bench{self._next}"


@contextmanager
def fake_slack_process() -> Iterator[RemoteFake]:
    process = subprocess.Popen([sys.executable, "-m", "benchmarks.fakeserver"], cwd=ROOT, stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        yield RemoteFake(process.stdout.readline().strip())
    finally:
        assert process.stdin is not None
        process.stdin.close()
        process.wait(timeout=30)


def main() -> None:
    fake = FakeSlack().start()
    print(fake.base_url, flush=True)
    sys.stdin.read()  # serve until the parent closes our standard input
    fake.stop()


if __name__ == "__main__":
    main()
