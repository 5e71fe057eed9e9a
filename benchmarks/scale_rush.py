"""The 09:00 rush across processes (issue 16, benchmarks 2 to 4).

    TEST_DATABASE_URL=postgresql+psycopg://... .venv/bin/python -m benchmarks.scale_rush [WORKSPACES] [PROCESSES...]
        [--no-bad]

WORKSPACES (default 1,000) workspaces, each with one stand-up of 20 people, all due in the same minute, seeded in a
Postgres database of its own (benchmarks/scale_seed.py; every profile cached, as the refresh ahead leaves them).
A fake Slack in a process of its own (benchmarks/rush_fake.py) enforces each workspace's limits separately
(chat.postMessage: 20 a second, bursts of 20, and 1 a second per channel) and answers every call after 50 ms. Then
1, 2 and 4 app processes (subprocesses of this module, each running the scheduler's tick loop every 2 s and the
outbox's delivery loop, with the default settings: SLACK_FANOUT_PER_SECOND=4) share the rush. Measured: the time
from the due moment to the last prompt, against the least the limits allow one workspace; prompts lost and doubled
(counted per DM at the fake); p50 / p99 lag of the prompts; peak resident memory of each app process. Then, with two
processes, one workspace whose Slack answers in 10 s, and one whose Slack answers 500: the others' p99 lag.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.scale_seed import empty, seed, team_id
from benchmarks.table import Row
from benchmarks.vote_storm import fresh_postgres
from storage import migrate
from storage.db import Database

ROOT = Path(__file__).resolve().parent.parent
DUE = datetime(2026, 12, 1, 8, 30, tzinfo=UTC)  # 09:30 in Berlin, a Tuesday
PEOPLE = 20
LIMIT_PER_SECOND, LIMIT_BURST, LATENCY = 20.0, 20, 0.05
APP_PER_SECOND, APP_BURST = 4.0, 10  # the app's fan-out pace (the defaults)
START_DELAY = 4.0  # seconds between launching the processes and the due moment (imports, connections)
TIMEOUT = 900.0


# -- an app process -----------------------------------------------------------------------------------------------

class BenchTokens:
    """Each workspace's bot token, as the installation store would give it."""

    def bot_token(self, team: str) -> str:
        return f"xoxb-bench-{team}"


def worker(url: str, api_url: str, epoch: float) -> None:
    """One app process: the scheduler's tick every 2 s and the outbox's delivery loop, on a clock at DUE at `epoch`."""
    from bot.jobs.scheduler import Scheduler
    from bot.server.runtime import Runtime
    from bot.server.settings import Settings

    def clock() -> datetime:
        return DUE + timedelta(seconds=time.time() - epoch)

    settings = Settings(_env_file=None, slack_bot_token="xoxb-bench", slack_signing_secret="bench",  # type: ignore[call-arg]
                        slack_api_url=api_url, database_url=url)
    # At most 20 connections a process: 4 processes stay inside Postgres's 100 beside the other sessions' tests.
    database = Database(url, pool_size=12, max_overflow=8)
    runtime = Runtime(settings=settings, db=database, clock=clock, installations=BenchTokens())  # type: ignore[arg-type]
    scheduler = Scheduler(runtime)
    stop = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    scheduler.outbox.start()
    while not stop.is_set():
        scheduler.tick()
        stop.wait(2.0)
    scheduler.outbox.stop()
    runtime.db.dispose()
    print(json.dumps({"rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}), flush=True)


# -- the orchestra --------------------------------------------------------------------------------------------------

@dataclass
class Outcome:
    seconds: float  # from the due moment to the last prompt
    lost: int
    doubled: int
    lags: list[float]  # every prompt's lag, bad workspace excluded
    rss_mb: list[float]
    rate_limited: int


class Fake:
    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.rush_fake", str(LIMIT_PER_SECOND), str(LIMIT_BURST), str(LATENCY)],
            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        self.api_url = self.process.stdout.readline().strip() + "/api/"

    def ask(self, line: str) -> str:
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()
        return self.process.stdout.readline()

    def report(self) -> dict[str, Any]:
        return json.loads(self.ask("report"))

    def stop(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=30)


def rush(url: str, workspaces: int, processes: int, *, bad: tuple[str, float, int | None] | None = None) -> Outcome:
    database = Database(url)
    empty(database)
    seed(database, range(workspaces), DUE - timedelta(minutes=30), standup_due=DUE, people_per_standup=PEOPLE,
         standups_per_team=1, extras=False)
    database.dispose()
    fake = Fake()
    if bad is not None:
        fake.ask(f"trouble {bad[0]} {bad[1]} {bad[2] or ''}".strip())
    epoch = time.time() + START_DELAY
    workers = [subprocess.Popen([sys.executable, "-m", "benchmarks.scale_rush", "worker", url, fake.api_url,
                                 repr(epoch)], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
               for _ in range(processes)]
    expected = {(team_id(n), f"U{c}{k:03d}") for n in range(workspaces) for c in range(1) for k in range(PEOPLE)}
    good = {e for e in expected if bad is None or e[0] != bad[0]}
    deadline = time.time() + TIMEOUT
    while True:
        time.sleep(2.0)
        report = fake.report()
        arrived = {(team, channel) for team, channel, _t, key in report["posted"] if key.startswith("standup.prompt")}
        if good <= arrived or time.time() > deadline:
            break
    time.sleep(3.0)  # anything doubled would arrive now
    rss = []
    for process in workers:
        assert process.stdin is not None
        assert process.stdout is not None
        process.stdin.close()
        line = process.stdout.readline()
        process.wait(timeout=60)
        rss.append(json.loads(line)["rss_mb"] if line.strip() else float("nan"))
    report = fake.report()
    fake.stop()
    prompts = [(team, channel, at) for team, channel, at, key in report["posted"] if key.startswith("standup.prompt")]
    counts = Counter((team, channel) for team, channel, _at in prompts)
    lags = [at - epoch for team, channel, at in prompts if (team, channel) in good]
    return Outcome(seconds=max(lags), lost=sum(1 for e in good if counts[e] == 0),
                   doubled=sum(n - 1 for n in counts.values() if n > 1), lags=sorted(lags), rss_mb=rss,
                   rate_limited=report["rate_limited"])


def _p(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(q * len(values)))]


def main(workspaces: int = 1000, counts: tuple[int, ...] = (1, 2, 4), *, bad_runs: bool = True) -> list[Row]:
    admin = os.environ.get("TEST_DATABASE_URL")
    if not admin:
        print("scale_rush needs Postgres: set TEST_DATABASE_URL", file=sys.stderr)
        return []
    # One workspace's share of the limits: 21 posts (20 prompts and the report's parent) at the app's pace.
    minimum = (PEOPLE + 1 - APP_BURST) / APP_PER_SECOND + LATENCY
    rows: list[Row] = []
    name = f"09:00 rush, {workspaces:,} workspaces x {PEOPLE}"
    with fresh_postgres(admin) as url:
        migrate.upgrade(url)
        outcomes: dict[int, Outcome] = {}
        for processes in counts:
            outcome = outcomes[processes] = rush(url, workspaces, processes)
            rows += [
                Row(f"{name}, {processes} process{'es' if processes > 1 else ''}",
                    "due moment to last prompt; prompts a second",
                    f"{outcome.seconds:.1f} s = {outcome.seconds / minimum:.0f}x one workspace's minimum "
                    f"{minimum:.2f} s; {len(outcome.lags) / outcome.seconds:.0f}/s", "scales 1 -> 4"),
                Row(f"{name}, {processes} process{'es' if processes > 1 else ''}", "lost / doubled prompts; 429s",
                    f"{outcome.lost} / {outcome.doubled}; {outcome.rate_limited}", "0 / 0"),
                Row(f"{name}, {processes} process{'es' if processes > 1 else ''}", "prompt lag p50 / p99",
                    f"{_p(outcome.lags, 0.5):.1f} / {_p(outcome.lags, 0.99):.1f} s", ""),
                Row(f"{name}, {processes} process{'es' if processes > 1 else ''}", "peak RSS of each app process",
                    ", ".join(f"{mb:.0f} MB" for mb in outcome.rss_mb), ""),
            ]
            print(rows[-4:], file=sys.stderr, flush=True)
        base = outcomes.get(2) or next(iter(outcomes.values()))
        processes = 2 if 2 in outcomes else counts[0]
        for label, bad in () if not bad_runs else (("answers in 10 s", (team_id(0), 10.0, None)), ("answers 500", (team_id(0), 0.0, 500))):
            outcome = rush(url, workspaces, processes, bad=bad)
            p99, before = _p(outcome.lags, 0.99), _p(base.lags, 0.99)
            rows.append(Row(f"{name}, {processes} processes, one workspace's Slack {label}",
                            "the others' prompt lag p99 (without the bad one); lost / doubled",
                            f"{p99:.1f} s vs {before:.1f} s ({(p99 / before - 1) * 100:+.0f} %); "
                            f"{outcome.lost} / {outcome.doubled}", "within 10 %"))
            print(rows[-1], file=sys.stderr, flush=True)
    return rows


if __name__ == "__main__":
    if sys.argv[1:2] == ["worker"]:
        worker(sys.argv[2], sys.argv[3], float(sys.argv[4]))
    else:
        from benchmarks.table import render

        arguments = [a for a in sys.argv[1:] if a != "--no-bad"]
        size = int(arguments[0]) if arguments else 1000
        print(render(main(size, tuple(int(a) for a in arguments[1:]) or (1, 2, 4), bad_runs="--no-bad" not in sys.argv)))
