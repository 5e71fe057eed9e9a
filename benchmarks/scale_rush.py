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
RUSH_LATENCY=S sets the fake's answer time (default 0.05 s).
"""

from __future__ import annotations

import contextlib
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
LIMIT_PER_SECOND, LIMIT_BURST = 20.0, 20
# Every Web API call's answer time at the fake (RUSH_LATENCY=1.0: a Slack slow enough that waiting, not this
# machine's two cores, bounds the rush, which shows how the processes split it).
LATENCY = float(os.environ.get("RUSH_LATENCY", "0.05"))
APP_PER_SECOND, APP_BURST = 4.0, 10  # the app's fan-out pace (the defaults)
START_DELAY = 4.0  # seconds between launching the processes and the due moment (imports, connections)
TIMEOUT = 900.0


# -- an app process -----------------------------------------------------------------------------------------------

class BenchTokens:
    """Each workspace's bot token, as the installation store would give it."""

    def bot_token(self, team: str) -> str:
        return f"xoxb-bench-{team}"


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _count_statements(database: Database) -> Counter[str]:
    """Every statement the app sends, counted by its first word (SELECT, UPDATE, ..., and the transactions)."""
    from sqlalchemy import event

    counts: Counter[str] = Counter()

    @event.listens_for(database.engine, "before_cursor_execute")
    def _statement(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        counts[statement.lstrip().split(None, 1)[0].upper() if statement.strip() else "?"] += 1

    @event.listens_for(database.engine, "commit")
    def _commit(_conn: Any) -> None:
        counts["COMMIT"] += 1

    @event.listens_for(database.engine, "rollback")
    def _rollback(_conn: Any) -> None:
        counts["ROLLBACK"] += 1

    @event.listens_for(database.engine, "checkout")
    def _checkout(*_args: Any) -> None:  # each costs a round trip: the pool's pre-ping
        counts["CHECKOUT"] += 1

    return counts


def _profile_threads() -> Any:
    """cProfile in every thread started from now on, and in this one; returns a function that writes the merged
    stats to a file."""
    import cProfile
    import pstats

    profiles: list[cProfile.Profile] = []
    lock = threading.Lock()

    def start(*_args: Any) -> None:
        sys.setprofile(None)
        profile = cProfile.Profile(time.thread_time)
        with lock:
            profiles.append(profile)
        profile.enable()

    threading.setprofile(start)
    main = cProfile.Profile(time.thread_time)
    profiles.append(main)
    main.enable()

    def dump(path: str) -> None:
        threading.setprofile(None)  # type: ignore[arg-type]
        main.disable()
        with lock:
            taken = list(profiles)
        stats = pstats.Stats(main)
        for profile in taken[1:]:
            with contextlib.suppress(TypeError, ValueError):  # a thread that recorded nothing
                stats.add(profile)
        stats.dump_stats(path)

    return dump


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
    statements = _count_statements(database)
    profile_prefix = os.environ.get("RUSH_PROFILE")
    dump = _profile_threads() if profile_prefix else None
    runtime = Runtime(settings=settings, db=database, clock=clock, installations=BenchTokens())  # type: ignore[arg-type]
    scheduler = Scheduler(runtime)
    stop = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    cpu_at_start = _cpu_seconds()
    scheduler.outbox.start()
    while not stop.is_set():
        scheduler.tick()
        stop.wait(2.0)
    scheduler.outbox.stop()
    cpu = _cpu_seconds() - cpu_at_start
    if dump is not None:
        dump(f"{profile_prefix}-{os.getpid()}.prof")
    runtime.db.dispose()
    print(json.dumps({"rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "cpu_s": cpu,
                      "statements": dict(statements)}), flush=True)


# -- the orchestra --------------------------------------------------------------------------------------------------

@dataclass
class Outcome:
    seconds: float  # from the due moment to the last prompt
    lost: int
    doubled: int
    lags: list[float]  # every prompt's lag, bad workspace excluded
    rss_mb: list[float]
    rate_limited: int
    prompts: int = 0  # prompts sent, bad workspace included
    app_cpu_s: float = 0.0  # every app process together
    fake_cpu_s: float = 0.0
    postgres_cpu_s: float = 0.0  # the backends serving the benchmark's database (a lower bound)
    statements: Counter[str] | None = None  # the app processes' statements, by first word

    def per_prompt(self) -> str:
        """CPU ms (app + Postgres + fake) and statements a prompt."""
        n = max(1, self.prompts)
        total = sum((self.statements or Counter()).values()) - sum(
            (self.statements or Counter())[k] for k in ("COMMIT", "ROLLBACK", "CHECKOUT"))
        return (f"{(self.app_cpu_s + self.postgres_cpu_s + self.fake_cpu_s) * 1000 / n:.1f} ms CPU "
                f"(app {self.app_cpu_s * 1000 / n:.1f}, Postgres {self.postgres_cpu_s * 1000 / n:.1f}, "
                f"fake Slack {self.fake_cpu_s * 1000 / n:.1f}); {total / n:.1f} statements "
                f"({', '.join(f'{k} {v / n:.2f}' for k, v in (self.statements or Counter()).most_common())})")


class PostgresCpu:
    """The CPU time of the Postgres backends serving one database, sampled from /proc (the server is local)."""

    def __init__(self, admin_url: str, database: str) -> None:
        from sqlalchemy import create_engine
        from sqlalchemy.pool import NullPool

        self.engine = create_engine(admin_url, poolclass=NullPool)
        self.database = database
        self.seen: dict[int, float] = {}
        self.tick = os.sysconf("SC_CLK_TCK")

    def sample(self) -> None:
        from sqlalchemy import text

        with self.engine.connect() as connection:
            pids = list(connection.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = :name"),
                                           {"name": self.database}).scalars())
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            self.seen[pid] = max(self.seen.get(pid, 0.0), (int(fields[11]) + int(fields[12])) / self.tick)

    def total(self) -> float:
        self.engine.dispose()
        return sum(self.seen.values())


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

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=30)


def rush(url: str, workspaces: int, processes: int, *, bad: tuple[str, float, int | None] | None = None,
         admin: str | None = None) -> Outcome:
    database = Database(url)
    empty(database)
    seed(database, range(workspaces), DUE - timedelta(minutes=30), standup_due=DUE, people_per_standup=PEOPLE,
         standups_per_team=1, extras=False)
    database.dispose()
    fake = Fake()
    if bad is not None:
        fake.ask(f"trouble {bad[0]} {bad[1]} {bad[2] or ''}".strip())
    postgres = PostgresCpu(admin or url, url.rsplit("/", 1)[1])
    fake_cpu_at_start = fake.cpu_seconds()
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
        postgres.sample()
        arrived = {(team, channel) for team, channel, _t, key in report["posted"] if key.startswith("standup.prompt")}
        if good <= arrived or time.time() > deadline:
            break
    time.sleep(3.0)  # anything doubled would arrive now
    postgres.sample()
    rss, app_cpu, statements = [], 0.0, Counter[str]()
    for process in workers:
        assert process.stdin is not None
        process.stdin.close()
    for process in workers:
        assert process.stdout is not None
        line = process.stdout.readline()
        process.wait(timeout=60)
        finished = json.loads(line) if line.strip() else {}
        rss.append(finished.get("rss_mb", float("nan")))
        app_cpu += finished.get("cpu_s", 0.0)
        statements.update(finished.get("statements", {}))
    report = fake.report()
    fake_cpu = fake.cpu_seconds() - fake_cpu_at_start
    fake.stop()
    prompts = [(team, channel, at) for team, channel, at, key in report["posted"] if key.startswith("standup.prompt")]
    counts = Counter((team, channel) for team, channel, _at in prompts)
    lags = [at - epoch for team, channel, at in prompts if (team, channel) in good]
    return Outcome(seconds=max(lags), lost=sum(1 for e in good if counts[e] == 0),
                   doubled=sum(n - 1 for n in counts.values() if n > 1), lags=sorted(lags), rss_mb=rss,
                   rate_limited=report["rate_limited"], prompts=len(prompts), app_cpu_s=app_cpu,
                   fake_cpu_s=fake_cpu, postgres_cpu_s=postgres.total(), statements=statements)


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
            outcome = outcomes[processes] = rush(url, workspaces, processes, admin=admin)
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
                Row(f"{name}, {processes} process{'es' if processes > 1 else ''}",
                    "a prompt's CPU (app, Postgres, fake Slack); the app's statements a prompt",
                    outcome.per_prompt(), ""),
            ]
            print(rows[-5:], file=sys.stderr, flush=True)
        base = outcomes.get(2) or next(iter(outcomes.values()))
        processes = 2 if 2 in outcomes else counts[0]
        for label, bad in () if not bad_runs else (("answers in 10 s", (team_id(0), 10.0, None)), ("answers 500", (team_id(0), 0.0, 500))):
            outcome = rush(url, workspaces, processes, bad=bad, admin=admin)
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
