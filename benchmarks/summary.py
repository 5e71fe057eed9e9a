"""The sprint summary for a 200-person organisation, on SQLite and on Postgres (issue 7).

    /work/venv/bin/python -m benchmarks.summary [--postgres ADMIN_URL]

One two-week sprint is seeded straight through the storage layer: 200 stand-up participants answering every working
day (2,000 answers, 6,000 answer items, 2,000 prompts), 300 retro cards, 200 planning-poker estimates (stories with
their votes and the sprint's stories), 100 blockers (half resolved, some escalated). Measured:

- the time of `storage.sprint_figures.summary(...)` (median of several runs, each in a fresh transaction);
- the number of SQL statements it runs, counted with a `before_cursor_execute` listener, for 20 people and for
  200 people (with everything else scaled alike): it must not grow;
- a velocity chart over 26 sprints: `storage.sprint.velocity_history` plus `bot.views.charts.velocity_png`.

Postgres is used when `--postgres` or TEST_DATABASE_URL names a server (a database of its own is created and dropped).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event

from benchmarks.table import Row, ms
from benchmarks.vote_storm import fresh_postgres
from bot.views import charts
from ceremonies import retro as retro_domain
from ceremonies.blockers import Status
from ceremonies.poker import StoryStatus
from ceremonies.sprint import SprintPlan
from ceremonies.standup import StandupConfig, default_questions
from storage import migrate, sprint_figures
from storage import retro as retro_store
from storage import sprint as sprints
from storage import standup as standup_store
from storage.blockers import Blocker, BlockerEscalation
from storage.db import Database
from storage.models import Person
from storage.poker import PokerSession, PokerStory, PokerVote

TEAM, CHANNEL = "T1", "C1"
STARTS_ON = date(2026, 11, 16)  # a Monday: two working weeks
ENDS_ON = date(2026, 11, 27)
NOW = datetime(2026, 11, 27, 17, 0, tzinfo=UTC)
RUNS = 7
CHART_SPRINTS = 26


def working_days() -> list[date]:
    days = [STARTS_ON + timedelta(days=n) for n in range((ENDS_ON - STARTS_ON).days + 1)]
    return [d for d in days if d.weekday() < 5]


def seed(db: Database, people: int) -> None:
    """One sprint of an organisation of `people`: 10 answers each, 1.5 retro cards, 1 estimate and 0.5 blockers."""
    users = [f"U{n:05d}" for n in range(people)]
    at = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
    with db.transaction() as session:
        session.add_all(Person(team_id=TEAM, user_id=u, display_name=f"person {u}", timezone="UTC", is_deleted=False,
                               is_bot=False, is_admin=False, is_owner=False, fetched_at=at) for u in users)
        # Planning before the sprint: the estimated stories become its committed stories.
        poker_session = PokerSession(team_id=TEAM, channel_id=CHANNEL, facilitator_id=users[0], deck_name="fibonacci",
                                     deck_cards="1,2,3,5,8,13", created_at=at - timedelta(days=1))
        session.add(poker_session)
        session.flush()
        stories = []
        for n in range(people):
            stories.append(PokerStory(team_id=TEAM, session_id=poker_session.id, position=n, key=f"PAY-{n}",
                                      title=f"Story {n}", status=StoryStatus.ACCEPTED.value, round=1 + n % 3,
                                      estimate="3", points=3.0, accepted_by=users[0],
                                      decided_at=at - timedelta(hours=20, minutes=-n % 600),
                                      first_round_consensus=n % 3 == 0))
        session.add_all(stories)
        session.flush()
        session.add_all(PokerVote(team_id=TEAM, story_id=s.id, round=s.round, user_id=users[(s.position + k) % people],
                                  card="3", voted_at=s.decided_at - timedelta(minutes=1))  # type: ignore[operator]
                        for s in stories for k in range(3))
        session.add_all(sprints.SprintStory(team_id=TEAM, channel_id=CHANNEL, key=f"PAY-{n}", title=f"Story {n}",
                                            points=3.0, source="poker", committed=True, added_at=at - timedelta(days=1),
                                            added_by=users[0])
                        for n in range(people))
        sprint = sprints.start_sprint(session, team_id=TEAM, channel_id=CHANNEL, timezone="UTC", starts_on=STARTS_ON,
                                      plan=SprintPlan(name="Sprint 14", ends_on=ENDS_ON, goal="Checkout v2"),
                                      by=users[0], now=at)
        for n, story in enumerate(sprints.stories(session, team_id=TEAM, sprint_id=sprint.id)):
            if n % 4:
                story.completed_at, story.completed_by = at + timedelta(days=n % 10), users[n % people]

        standup = standup_store.save_standup(session, team_id=TEAM, channel_id=CHANNEL, owner_id=users[0], now=at,
                                             config=StandupConfig(channel_id=CHANNEL, report_channel_id=CHANNEL,
                                                                  participants=tuple(users),
                                                                  questions=default_questions()))
        questions = default_questions()
        for day in working_days():
            due = datetime(day.year, day.month, day.day, 9, 30, tzinfo=UTC)
            closes = due.replace(hour=17)
            run = standup_store.open_run(session, team_id=TEAM, standup=standup, local_date=day, closes_at=closes,
                                         now=due)
            session.add_all(standup_store.StandupPrompt(
                team_id=TEAM, standup_id=standup.id, run_id=run.id, user_id=u, local_date=day, timezone="UTC",
                due_at=due, closes_at=closes, sent_at=due, dm_channel_id="D" + u, dm_ts=f"{n}.000") for n, u in
                enumerate(users))
            answers = [standup_store.StandupAnswer(team_id=TEAM, standup_id=standup.id, run_id=run.id, user_id=u,
                                                   local_date=day, submitted_at=due + timedelta(minutes=n % 400),
                                                   late=n % 17 == 0) for n, u in enumerate(users)]
            session.add_all(answers)
            session.flush()
            session.add_all(standup_store.StandupAnswerItem(team_id=TEAM, answer_id=a.id, position=i,
                                                            question=q.text, text=f"answer {i} of {a.user_id}",
                                                            is_blocker=q.is_blocker)
                            for a in answers for i, q in enumerate(questions))

        for n in range(people // 2):
            created = at + timedelta(hours=7 * n % 200)
            resolved = created + timedelta(hours=5 + n % 40) if n % 2 else None
            blocker = Blocker(team_id=TEAM, channel_id=CHANNEL, reporter_id=users[n % people], text=f"blocked {n}",
                              source="command", created_at=created, owner_id=users[(n + 1) % people],
                              status=Status.RESOLVED.value if resolved else Status.OPEN.value, resolved_at=resolved,
                              resolved_by=users[0] if resolved else None, escalation_level=n % 3 and 1,
                              escalation_count=n % 3 and 1)
            session.add(blocker)
            if n % 3:
                session.flush()
                session.add(BlockerEscalation(team_id=TEAM, blocker_id=blocker.id, level=1, contact_id=users[0],
                                              escalated_at=created + timedelta(days=2)))

        board = retro_store.create_board(session, team_id=TEAM, channel_id=CHANNEL, facilitator_id=users[0],
                                         now=datetime(2026, 11, 27, 14, 0, tzinfo=UTC),
                                         setup=retro_domain.RetroSetup(title="Sprint 14 retro",
                                                                       template=retro_domain.Template.MAD_SAD_GLAD,
                                                                       columns=("Mad", "Sad", "Glad"),
                                                                       anonymous=False))
        for n in range(people * 3 // 2):
            retro_store.add_card(session, team_id=TEAM, board_id=board.id, column=n % 3, text=f"card {n}",
                                 author_id=users[n % people], author_key=None,
                                 now=datetime(2026, 11, 27, 14, 5, tzinfo=UTC))


def seed_history(db: Database) -> None:
    """26 finished sprints of a channel of their own, 30 stories each, for the velocity chart."""
    with db.transaction() as session:
        for n in range(CHART_SPRINTS):
            starts = date(2025, 12, 1) + timedelta(days=14 * n)
            session.add_all(sprints.SprintStory(team_id=TEAM, channel_id="C2", key=f"V-{n}-{k}", title="", points=2.0,
                                                source="command", committed=True, added_by="U1",
                                                added_at=datetime(2025, 1, 1, tzinfo=UTC)) for k in range(30))
            sprint = sprints.start_sprint(session, team_id=TEAM, channel_id="C2", timezone="UTC", starts_on=starts,
                                          plan=SprintPlan(name=f"V {n}", ends_on=starts + timedelta(days=13), goal=""),
                                          by="U1", now=datetime.combine(starts, datetime.min.time(), tzinfo=UTC))
            for k, story in enumerate(sprints.stories(session, team_id=TEAM, sprint_id=sprint.id)):
                if k % 5 != n % 5:
                    story.completed_at, story.completed_by = sprint.started_at + timedelta(days=3), "U1"
            sprint.ended_at = sprint.started_at + timedelta(days=13)


@contextmanager
def counting(db: Database) -> Iterator[list[str]]:
    """Every SQL statement the engine runs meanwhile."""
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def summarize(db: Database) -> tuple[float, int]:
    """(median seconds, statements of one run) of the summary, each run in its own transaction."""
    times, counts = [], []
    for _ in range(RUNS):
        with counting(db) as statements, db.transaction() as session:
            sprint = sprints.sprint_named(session, team_id=TEAM, channel_id=CHANNEL, name="Sprint 14")
            before = len(statements)
            started = time.perf_counter()
            result = sprint_figures.summary(session, sprint=sprint, now=NOW)
            times.append(time.perf_counter() - started)
            counts.append(len(statements) - before)
    assert result.participation_people, "nothing seeded?"
    assert len(set(counts)) == 1, counts
    return statistics.median(times), counts[0]


def velocity_chart(db: Database) -> tuple[float, int]:
    timings, size = [], 0
    for _ in range(3):
        started = time.perf_counter()
        with db.transaction() as session:
            history = sprints.velocity_history(session, team_id=TEAM, channel_id="C2", limit=CHART_SPRINTS)
        png = charts.velocity_png(history)
        timings.append(time.perf_counter() - started)
        size = len(png)
    assert len(history) == CHART_SPRINTS
    return statistics.median(timings), size


def measure(backend: str, url_for: Any) -> list[Row]:
    rows: list[Row] = []
    statements: dict[int, int] = {}
    for people in (20, 200):
        with url_for() as url:
            migrate.upgrade(url)
            db = Database(url)
            try:
                seed(db, people)
                seconds, statements[people] = summarize(db)
                if people == 200:
                    rows.append(Row(f"sprint summary, {backend}", "200 people: 2,000 answers, 300 cards, "
                                    "200 estimates, 100 blockers", f"{ms(seconds)} (median of {RUNS})", "< 300 ms"))
                    seed_history(db)
                    chart_seconds, size = velocity_chart(db)
                    rows.append(Row(f"velocity chart, {backend}", f"{CHART_SPRINTS} sprints, query + PNG",
                                    f"{ms(chart_seconds)} ({size // 1024} KB PNG)", "< 1 s"))
            finally:
                db.dispose()
    rows.append(Row(f"sprint summary, {backend}", "SQL statements, 20 people / 200 people",
                    f"{statements[20]} / {statements[200]}", "does not grow"))
    return rows


@contextmanager
def sqlite_url() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as tmp:
        yield f"sqlite:///{Path(tmp) / 'summary.sqlite3'}"


def run(postgres: str | None) -> list[Row]:
    rows = measure("SQLite", sqlite_url)
    if postgres:
        admin = postgres.replace("postgresql://", "postgresql+psycopg://", 1)
        rows += measure("Postgres", lambda: fresh_postgres(admin))
    return rows


def main() -> list[Row]:
    return run(os.environ.get("TEST_DATABASE_URL"))  # Postgres where the tests find it; SQLite alone without


if __name__ == "__main__":
    from benchmarks.table import render

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default=os.environ.get("TEST_DATABASE_URL"), metavar="ADMIN_URL")
    print(render(run(parser.parse_args().postgres)))
