"""A crash in the middle of sending (issue 13): kill -9 of one of two servers on Postgres while it sends a 30-person
stand-up's prompts. Everyone gets exactly one prompt, all within 90 seconds of the due time."""

from __future__ import annotations

import os
import signal
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.devtools.fakeslack import FakeSlack
from storage.db import Database
from tests.conftest import _empty
from tests.test_scale_out import prompts_by_user, save_standup_due_now, start_server, wait_for
from tests.test_serve import wait_until_healthy

PARTICIPANTS = 30
DEADLINE_SECONDS = 90


def prompt_senders(fake: FakeSlack) -> Counter[str]:
    """Which process (X-Cadence-Worker, "host:pid") made the successful prompt posts."""
    return Counter(call.worker for call in fake.calls("chat.postMessage")
                   if str(call.args.get("channel", "")).startswith("U") and call.worker)


def parent_of(pid: int) -> int:
    """The parent process id of `pid` (Linux's /proc): a gunicorn worker's master."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat.rsplit(")", 1)[1].split()[1])


@pytest.mark.postgres_only
def test_kill_9_in_the_middle_of_a_fan_out_loses_and_doubles_nothing(
    fake: FakeSlack, postgres_url: str, tmp_path: Path
) -> None:
    _empty(postgres_url)
    users = [f"U{n:03d}" for n in range(PARTICIPANTS)]
    for user in users:
        fake.add_user(user, tz="Europe/Berlin")
    fake.add_channel("C1", "team")
    fake.latency["chat.postMessage"] = 0.15  # a Slack answering at its usual pace: the fan-out takes seconds
    servers = [start_server(fake, postgres_url, tmp_path, name, SCHEDULER_TICK_SECONDS="1",
                            SLACK_FANOUT_PER_SECOND="3") for name in ("one", "two")]
    database = Database(postgres_url)
    try:
        for process, url, log_path in servers:
            wait_until_healthy(url, process, log=log_path)
        due = datetime.now(UTC).replace(second=0, microsecond=0)
        save_standup_due_now(database, users, due)

        # As soon as one process has sent a few prompts, it dies without a chance to record anything more.
        wait_for(lambda: sum(prompt_senders(fake).values()) >= 3, limit=60, what="the fan-out to start")
        sender_pid = int(prompt_senders(fake).most_common(1)[0][0].rsplit(":", 1)[1])
        victim = next(p for p, _url, _log in servers if p.pid in (sender_pid, parent_of(sender_pid)))
        # The whole server goes, as when its machine dies: the sending worker and its gunicorn master.
        os.kill(sender_pid, signal.SIGKILL)
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait(timeout=10)
        sent_before_crash = len(prompts_by_user(fake))
        assert sent_before_crash < PARTICIPANTS, "the fan-out ended before the crash: the test would prove nothing"

        wait_for(lambda: len(prompts_by_user(fake)) == PARTICIPANTS,
                 limit=DEADLINE_SECONDS - (datetime.now(UTC) - due).total_seconds(),
                 what=f"every prompt within {DEADLINE_SECONDS} s of the due time")
        finished_after = (datetime.now(UTC) - due).total_seconds()
    finally:
        for process, _url, _log in servers:
            if process.poll() is None:
                process.terminate()
        for process, _url, _log in servers:
            process.wait(timeout=30)
        database.dispose()

    assert prompts_by_user(fake) == Counter(dict.fromkeys(users, 1)), "a prompt was lost or doubled"
    assert finished_after <= DEADLINE_SECONDS
    survivor = next(path for p, _url, path in servers if p is not victim)
    assert "Traceback" not in survivor.read_text()
