"""A team health check of 100 people, through the storage layer and the views, on SQLite (and Postgres).

    python -m benchmarks.healthcheck [--postgres ADMIN_URL]

Twelve earlier rounds of ten dimensions are seeded, then one round is measured end to end: opening it (100
invitations queued in the outbox), 100 answers, the reminder at half time, closing it, and building what the channel
sees — the results (with the trend against the last round and a six-round history) and the chart. The SQL statements
of `round_result` are counted too. Postgres is used when `--postgres` or TEST_DATABASE_URL names a server (a database
of its own is created and dropped).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import event

from benchmarks.table import Row, ms
from benchmarks.vote_storm import fresh_postgres
from bot.views import healthcheck as views
from ceremonies import healthcheck as domain
from storage import healthcheck as store
from storage import migrate
from storage.db import Database

TEAM, CHANNEL, SECRET = "T1", "C1", "benchmark-anonymity-secret"
PEOPLE = 100
EARLIER_ROUNDS = 12
START = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


def _answer(rng: random.Random) -> domain.Answer:
    ratings = tuple((rng.choice(list(domain.Rating)), rng.choice(list(domain.Trend))) for _ in domain.DEFAULT_DIMENSIONS)
    return domain.Answer(ratings, rng.choice(("", "", "Fine", "Too many meetings", "Releases hurt")))


@contextmanager
def _statements(db: Database) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(*args: object) -> None:
        seen.append(str(args[2]))

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def _round(db: Database, rng: random.Random, at: datetime, people: list[str]) -> tuple[int, dict[str, float]]:
    timings: dict[str, float] = {}
    started = time.perf_counter()
    with db.transaction() as session:
        opened = store.open_now(session, team_id=TEAM, channel_id=CHANNEL, by=people[0], now=at)
    timings["open"] = time.perf_counter() - started
    answer_times = []
    for n, user in enumerate(people):
        started = time.perf_counter()
        with db.transaction() as session:
            store.record_answer(session, team_id=TEAM, round_id=opened.round_id, user_id=user, secret=SECRET,
                                answer=_answer(rng), now=at + timedelta(minutes=n))
        answer_times.append(time.perf_counter() - started)
    timings["answer"] = statistics.median(answer_times)
    started = time.perf_counter()
    with db.transaction() as session:
        store.remind(session, team_id=TEAM, round_id=opened.round_id, secret=SECRET, now=at + timedelta(hours=12))
    timings["remind"] = time.perf_counter() - started
    started = time.perf_counter()
    with db.transaction() as session:
        store.close(session, team_id=TEAM, round_id=opened.round_id, now=at + timedelta(days=1))
    timings["close"] = time.perf_counter() - started
    return opened.round_id, timings


def run(url: str, label: str) -> list[Row]:
    migrate.upgrade(url)
    db = Database(url)
    rng = random.Random(19)
    people = [f"U{n:05d}" for n in range(PEOPLE)]
    setup = domain.HealthCheckSetup(dimensions=domain.DEFAULT_DIMENSIONS, cadence=domain.Cadence.ON_DEMAND,
                                    participants=tuple(people), timezone="Europe/Berlin")
    try:
        with db.transaction() as session:
            store.save_check(session, team_id=TEAM, channel_id=CHANNEL, setup=setup, by=people[0], now=START)
        for n in range(EARLIER_ROUNDS):
            _round(db, rng, START + timedelta(days=14 * n), people)
        round_id, timings = _round(db, rng, START + timedelta(days=14 * EARLIER_ROUNDS), people)
        results_times = []
        for _ in range(5):
            with _statements(db) as statements, db.reading() as session:
                started = time.perf_counter()
                result = store.round_result(session, team_id=TEAM, round_id=round_id)
                views.results_message(result)
                results_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        png = views.chart_png(result)
        chart = time.perf_counter() - started
    finally:
        db.dispose()
    name = f"healthcheck ({label})"
    return [
        Row(name, f"open a round for {PEOPLE} people (invitations queued)", ms(timings["open"])),
        Row(name, "record one answer (10 dimensions), median", ms(timings["answer"])),
        Row(name, "reminders at half time", ms(timings["remind"])),
        Row(name, "close the round (results queued)", ms(timings["close"])),
        Row(name, f"results with trend and {domain.HISTORY_ROUNDS}-round history, median",
            ms(statistics.median(results_times))),
        Row(name, "SQL statements of round_result", str(len(statements))),
        Row(name, f"chart PNG ({len(png) // 1024} KB)", ms(chart)),
    ]


def main(argv: list[str] | None = None) -> list[Row]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default=os.environ.get("TEST_DATABASE_URL"))
    args = parser.parse_args(argv if argv is not None else [])
    with tempfile.TemporaryDirectory() as folder:
        rows = run(f"sqlite:///{Path(folder) / 'bench.sqlite3'}", "SQLite")
    if args.postgres:
        with fresh_postgres(args.postgres) as url:
            rows += run(url, "Postgres")
    return rows


if __name__ == "__main__":
    import sys

    from benchmarks.table import render

    print(render(main(sys.argv[1:])))
