"""The risk register at scale (issue 18), on SQLite and on Postgres.

    .venv/bin/python -m benchmarks.risks

20,000 risks are seeded straight through the storage layer (200 workspaces × 10 team channels × 10 risks, each with
its `risk_events` row), their review dates spread over a year; 1 in 50 falls due at the measured moment. Measured:

- the review-reminder job's question, `storage.risks.due_reminders` ("what is due now?": an indexed range on
  `next_review_at`), median of 7 runs; on Postgres its plan is checked to use the index;
- one channel's register (`storage.risks.register`) and its 5×5 heat map PNG (`bot.views.charts`), median of 7;
- `storage.risks.sprint_section` of one channel with 10 risks and 100 events.

Postgres is used when TEST_DATABASE_URL names a server (a database of its own is created and dropped).
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, text

from benchmarks.table import Row, ms
from benchmarks.vote_storm import fresh_postgres
from bot.views import charts
from bot.views import risks as views
from storage import migrate
from storage import risks as store
from storage.db import Database

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
WORKSPACES, CHANNELS, PER_CHANNEL = 200, 10, 10
RUNS = 7


def _seed(database: Database) -> None:
    risks: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    number = 0
    for team in range(WORKSPACES):
        for channel in range(CHANNELS):
            for item in range(PER_CHANNEL):
                number += 1
                due = NOW - timedelta(hours=1) if number % 50 == 0 else NOW + timedelta(days=1 + number % 365)
                likelihood, impact = 1 + item % 5, 1 + (item * 3 + channel) % 5
                risks.append(dict(
                    id=number, team_id=f"T{team:04d}", channel_id=f"C{channel:03d}", title=f"risk {number}",
                    description="", likelihood=likelihood, impact=impact, owner_id=f"U{item:03d}",
                    owner_timezone="UTC", mitigation="", status="open", raised_by="U000",
                    raised_at=NOW - timedelta(days=30), reviewed_at=NOW - timedelta(days=10), reviewed_by="U000",
                    review_period_days=14, next_review_on=due.date(), next_review_at=due))
                events.append(dict(team_id=f"T{team:04d}", channel_id=f"C{channel:03d}", risk_id=number,
                                   at=NOW - timedelta(days=30), by="U000", change="raised", new_likelihood=likelihood,
                                   new_impact=impact, new_status="open", note=""))
    with database.transaction() as session:
        session.execute(insert(store.Risk), risks)
        session.execute(insert(store.RiskEventRow), events)
        for extra in range(90):  # one channel with a long history: rescored again and again
            session.execute(insert(store.RiskEventRow), [dict(
                team_id="T0000", channel_id="C000", risk_id=1 + extra % 10, at=NOW - timedelta(days=20 - extra / 10),
                by="U001", change="rescored", old_likelihood=3, old_impact=3, new_likelihood=1 + extra % 5,
                new_impact=3, old_status="open", new_status="open", note="")])


def _median(action: Callable[[], Any]) -> float:
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def measure(url: str, backend: str) -> list[Row]:
    migrate.upgrade(url)
    database = Database(url)
    try:
        _seed(database)
        rows = []
        with database.reading() as session:
            due = store.due_reminders(session, now=NOW)
            seconds = _median(lambda: store.due_reminders(session, now=NOW))
            rows.append(Row("risks", f"due_reminders of 20,000 risks ({len(due)} due), {backend}", ms(seconds),
                            "< 50 ms"))
            if database.dialect == "postgresql":
                session.execute(text("ANALYZE risks"))
                plan = "\n".join(r[0] for r in session.execute(text(
                    "EXPLAIN SELECT team_id, id FROM risks WHERE next_review_at IS NOT NULL "
                    "AND next_review_at <= :now AND status = 'open' ORDER BY next_review_at, id LIMIT 500"),
                    {"now": NOW}))
                rows.append(Row("risks", "due_reminders uses ix_risks_next_review_at (Postgres plan)",
                                "yes" if "ix_risks_next_review_at" in plan else "NO", "yes"))

            def draw() -> bytes:
                register = store.register(session, team_id="T0000", channel_id="C000", now=NOW)
                views.register_blocks(register, channel_id="C000")
                return charts.risk_heat_map_png(views.heat_map_cells(register), title=views.heat_map_title(register))

            rows.append(Row("risks", f"one channel's register + heat map PNG, {backend}", ms(_median(draw)), "< 1 s"))
            start, end = NOW - timedelta(days=14), NOW
            rows.append(Row("risks", f"sprint_section (10 risks, 100 events), {backend}", ms(_median(
                lambda: store.sprint_section(session, team_id="T0000", channel_id="C000", start=start, end=end,
                                             now=NOW))), "< 50 ms"))
        return rows
    finally:
        database.dispose()


def main() -> list[Row]:
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as scratch:
        rows += measure(f"sqlite:///{Path(scratch) / 'risks.sqlite3'}", "SQLite")
    admin = os.environ.get("TEST_DATABASE_URL")
    if admin:
        with fresh_postgres(admin) as url:
            rows += measure(url, "Postgres")
    return rows


if __name__ == "__main__":
    from benchmarks.table import render

    print(render(main()))
