"""What a scheduler tick costs when nothing is due, against the number of installed workspaces (issue 16, benchmark 1).

    .venv/bin/python -m benchmarks.scale_idle [SIZES...]       # default 100 1000 10000

For 100, 1,000 and 10,000 workspaces (each: two stand-ups of 10 people, every profile cached, a running sprint,
three open blockers, two open polls; benchmarks/scale_seed.py), one full `Scheduler.tick` at a moment when nothing
is due: the SQL statements it runs (a `before_cursor_execute` listener) and its time (median of 15 ticks after one
warm-up). On Postgres (a database of its own, when TEST_DATABASE_URL names a server) and on SQLite.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import event

from benchmarks.scale_seed import empty, seed
from benchmarks.table import Row
from benchmarks.vote_storm import fresh_postgres
from bot.devtools.fakeslack import FakeSlack
from bot.devtools.harness import FrozenClock
from bot.jobs.scheduler import Scheduler
from bot.server.runtime import Runtime
from bot.server.settings import Settings
from storage import migrate
from storage.db import Database

NOW = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)  # a Tuesday
TICKS = 15


class StatementTimer:
    """Counts the statements and adds up their time (execution and result) by the table they read first."""

    def __init__(self) -> None:
        self.count = 0
        self.by_table: dict[str, float] = defaultdict(float)
        self._began: dict[int, float] = {}

    def before(self, _conn: object, cursor: object, statement: str, *_args: object) -> None:
        self.count += 1
        self._began[id(cursor)] = time.perf_counter()

    def after(self, _conn: object, cursor: object, statement: str, *_args: object) -> None:
        table = statement.split("FROM", 1)[1].split()[0] if "FROM" in statement else statement[:20]
        self.by_table[table] += time.perf_counter() - self._began.pop(id(cursor), time.perf_counter())


def measure(url: str, sizes: list[int], backend: str) -> list[Row]:
    migrate.upgrade(url)
    fake = FakeSlack().start()
    clock = FrozenClock(NOW)
    settings = Settings(_env_file=None, slack_bot_token="xoxb-bench", slack_signing_secret="bench",  # type: ignore[call-arg]
                        slack_api_url=fake.api_url, database_url=url)
    runtime = Runtime(settings=settings, db=Database(url), clock=clock)
    scheduler = Scheduler(runtime)
    rows: list[Row] = []
    seeded = 0
    try:
        empty(runtime.db)
        for size in sizes:
            started = time.perf_counter()
            seed(runtime.db, range(seeded, size), NOW - timedelta(hours=1))
            seeding = time.perf_counter() - started
            seeded = size
            timer = StatementTimer()
            scheduler.tick(NOW)  # warm-up
            event.listen(runtime.db.engine, "before_cursor_execute", timer.before)
            event.listen(runtime.db.engine, "after_cursor_execute", timer.after)
            times = []
            for n in range(TICKS):
                started = time.perf_counter()
                scheduler.tick(NOW + timedelta(seconds=n))
                times.append(time.perf_counter() - started)
            event.remove(runtime.db.engine, "before_cursor_execute", timer.before)
            event.remove(runtime.db.engine, "after_cursor_execute", timer.after)
            statements, in_database = timer.count, timer.by_table
            slowest = sorted(in_database.items(), key=lambda item: -item[1])[:3]
            print(f"{backend} {size}: statement time a tick by table: "
                  + ", ".join(f"{table} {seconds / TICKS * 1000:.1f} ms" for table, seconds in slowest)
                  + f"; all {sum(in_database.values()) / TICKS * 1000:.1f} ms", file=sys.stderr, flush=True)
            assert not fake.calls(), "nothing is due: no Slack call"
            rows.append(Row(f"idle tick, {size:,} workspaces, {backend}",
                            "SQL statements a tick; median (max) time a tick",
                            f"{statements / TICKS:.0f}; {statistics.median(times) * 1000:.1f} "
                            f"({max(times) * 1000:.1f}) ms  [seeded in {seeding:.0f} s]",
                            "constant; < 50 ms at 10,000 on Postgres"))
            print(rows[-1], file=sys.stderr, flush=True)
    finally:
        empty(runtime.db)
        runtime.db.dispose()
        fake.stop()
    return rows


def main(sizes: list[int] | None = None) -> list[Row]:
    sizes = sizes or [100, 1000, 10_000]
    rows: list[Row] = []
    admin = os.environ.get("TEST_DATABASE_URL")
    if admin:
        with fresh_postgres(admin) as url:
            rows += measure(url, sizes, "Postgres")
    with tempfile.TemporaryDirectory() as tmp:
        rows += measure(f"sqlite:///{Path(tmp) / 'idle.sqlite3'}", sizes, "SQLite")
    return rows


if __name__ == "__main__":
    from benchmarks.table import render

    print(render(main([int(a) for a in sys.argv[1:]] or None)))
