"""Due work is a row with a time (storage/due.py): each schedule's next due moment follows what moves it, a tick
reads only what is due, processes claim disjoint batches, and profiles are refreshed ahead with users.info."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import event, select

from bot.devtools.fakeslack import FakeSlack
from bot.devtools.harness import Cadence, FrozenClock
from bot.views import standup as views
from ceremonies.blockers import Source, TrackerSettings
from ceremonies.polls import PollDraft
from ceremonies.sprint import SprintPlan
from ceremonies.standup import StandupConfig, default_questions
from storage import blockers, due, people, polls, sprint, workspaces
from storage import standup as store
from storage import standup_schedule as schedule
from storage.db import Database
from tests.platform import install, start_multi
from tests.test_observability import scrape, value
from tests.test_standup_flow import set_up, team, utc


def next_due(cadence: Cadence) -> datetime | None:
    with cadence.db.reading() as session:
        standup = store.get_standup(session, team_id="T1", channel_id="C1")
        assert standup is not None
        return standup.next_due_at


def test_a_new_stand_up_wakes_the_scheduler_at_its_first_prompt(cadence: Cadence) -> None:
    team(cadence)
    set_up(cadence, users=("U1",))  # Tue 1 Dec 2026, 07:00 UTC; 09:30 in Berlin is 08:30 UTC
    cadence.tick()
    assert next_due(cadence) == utc(2026, 12, 1, 8, 30)
    cadence.tick(utc(2026, 12, 1, 8, 30))
    assert len(cadence.fake.dms("U1")) == 1
    assert next_due(cadence) == utc(2026, 12, 1, 10, 30)  # the reminder, two hours on


def test_next_due_follows_the_stand_ups_settings(cadence: Cadence) -> None:
    team(cadence)
    set_up(cadence, users=("U1",))
    cadence.tick()
    assert next_due(cadence) == utc(2026, 12, 1, 8, 30)
    set_up(cadence, users=("U1",), **{views.B_TIME: {"selected_time": "10:15"}})
    cadence.tick()
    assert next_due(cadence) == utc(2026, 12, 1, 9, 15)
    cadence.command("/standup", "pause", user="U1", channel="C1")
    assert next_due(cadence) is None
    cadence.command("/standup", "resume", user="U1", channel="C1")
    cadence.tick()
    assert next_due(cadence) == utc(2026, 12, 1, 9, 15)


def test_next_due_follows_time_away(cadence: Cadence) -> None:
    team(cadence)
    set_up(cadence, users=("U1",))
    cadence.tick()
    cadence.command("/standup", "away 2026-12-01 2026-12-02", user="U1")
    cadence.tick()
    assert next_due(cadence) == utc(2026, 12, 3, 8, 30)  # Thursday


def test_next_due_follows_holidays(cadence: Cadence) -> None:
    team(cadence)
    set_up(cadence, users=("U1",))
    cadence.tick()
    cadence.command("/standup", "holidays add 2026-12-01 Founders' day", user="U1")
    cadence.tick()
    assert next_due(cadence) == utc(2026, 12, 2, 8, 30)
    cadence.command("/standup", "holidays remove 2026-12-01", user="U1")
    cadence.tick()
    assert next_due(cadence) == utc(2026, 12, 1, 8, 30)


def test_next_due_follows_a_participants_timezone(cadence: Cadence) -> None:
    team(cadence)
    set_up(cadence, users=("U1",))
    cadence.tick()
    assert next_due(cadence) == utc(2026, 12, 1, 8, 30)
    # U1 moved to New York; a day later their cached profile is stale and the refresh ahead reads it again.
    cadence.fake.users["U1"]["tz"] = "America/New_York"
    cadence.tick(utc(2026, 12, 2, 7, 45))
    assert next_due(cadence) == utc(2026, 12, 2, 14, 30)  # 09:30 in New York


def test_next_due_follows_daylight_saving(cadence: Cadence) -> None:
    team(cadence)
    cadence.clock.set(utc(2026, 3, 27, 7, 0))  # Friday before the spring change in Berlin
    set_up(cadence, users=("U1",))
    cadence.tick()
    assert next_due(cadence) == utc(2026, 3, 27, 8, 30)  # 09:30 CET
    cadence.tick(utc(2026, 3, 27, 8, 30))
    assert next_due(cadence) == utc(2026, 3, 27, 10, 30)  # the reminder
    cadence.tick(utc(2026, 3, 27, 10, 30))
    assert next_due(cadence) == utc(2026, 3, 27, 16, 0)  # the window closes at 17:00 CET
    cadence.tick(utc(2026, 3, 27, 16, 0))
    assert next_due(cadence) == utc(2026, 3, 30, 7, 30)  # Monday 09:30 CEST


def test_next_due_of_a_blocker_follows_its_channels_settings(cadence: Cadence) -> None:
    """A blocker wakes the scheduler for its channel's digest (09:30 UTC by default) or its next escalation step."""
    now = utc(2026, 12, 1, 10, 0)  # Tuesday, after today's digest
    with cadence.db.transaction() as session:
        blocker = blockers.open_blocker(session, team_id="T1", channel_id="C1", reporter_id="U1", text="waiting",
                                        source=Source.COMMAND, now=now)
        blocker_id = blocker.id
    cadence.tick(now)

    def moment() -> datetime | None:
        with cadence.db.reading() as session:
            return blockers.get_blocker(session, team_id="T1", blocker_id=blocker_id).next_due_at

    assert moment() == utc(2026, 12, 2, 9, 30)  # tomorrow's digest comes before its first escalation (Wed 10:00)
    with cadence.db.transaction() as session:
        blockers.save_tracker_settings(session, team_id="T1", channel_id="C1", user_id="U1", now=now,
                                       settings=TrackerSettings(threshold_days=1, digest_time=time(11, 0),
                                                                timezone="UTC"))
    cadence.tick(now)
    assert moment() == utc(2026, 12, 1, 11, 0)  # today's digest, now at 11:00


def test_sprints_and_polls_are_due_at_their_end(cadence: Cadence) -> None:
    now = utc(2026, 12, 1, 7, 0)
    with cadence.db.transaction() as session:
        started = sprint.start_sprint(session, team_id="T1", channel_id="C1", timezone="Europe/Berlin",
                                      starts_on=date(2026, 12, 1), by="U1", now=now,
                                      plan=SprintPlan(name="S1", goal="", ends_on=date(2026, 12, 14)))
        poll = polls.create_poll(session, team_id="T1", channel_id="C1", creator_id="U1", now=now,
                                 draft=PollDraft(question="Lunch?", options=("a", "b"), close_after=timedelta(hours=2)))
    assert started.next_due_at == utc(2026, 12, 14, 23, 0)  # midnight after the last day, in Berlin
    assert poll.next_due_at == utc(2026, 12, 1, 9, 0)


# -- a tick reads what is due, whatever is installed ------------------------------------------------------------------

def seed(database: Database, teams: range, now: datetime) -> None:
    """Workspaces with two stand-ups of 10 people, a sprint, two blockers and a poll each, all due later."""
    config = StandupConfig(channel_id="C1", report_channel_id="C1", participants=(), questions=default_questions())
    with database.transaction() as session:
        for n in teams:
            team_id = f"T{n:05d}"
            workspaces.record_installation(session, team_id=team_id, name="", now=now)
            for channel in ("C1", "C2"):
                users = tuple(f"U{channel}{k}" for k in range(10))
                standup = store.save_standup(session, team_id=team_id, channel_id=channel, owner_id="U1", now=now,
                                             config=StandupConfig(**{**config.__dict__, "channel_id": channel,
                                                                     "report_channel_id": channel,
                                                                     "participants": users}))
                for user in users:
                    people.save_person(session, team_id=team_id, user_id=user, display_name=user,
                                       timezone="Europe/Berlin", is_deleted=False, is_bot=False, is_admin=False,
                                       is_owner=False, fetched_at=now)
                standup.next_due_at = now + timedelta(hours=3)
            sprint.start_sprint(session, team_id=team_id, channel_id="C1", timezone="UTC", starts_on=now.date(),
                                by="U1", now=now, plan=SprintPlan(name="S", goal="", ends_on=now.date() + timedelta(days=9)))
            for text in ("a", "b"):
                blocker = blockers.open_blocker(session, team_id=team_id, channel_id="C1", reporter_id="U1",
                                                text=text, source=Source.COMMAND, now=now)
                blocker.next_due_at = now + timedelta(hours=3)
            polls.create_poll(session, team_id=team_id, channel_id="C1", creator_id="U1", now=now,
                              draft=PollDraft(question="?", options=("a", "b"), close_after=timedelta(days=1)))


def statements_of_a_tick(cadence: Cadence, now: datetime) -> int:
    count = 0

    def counted(*_args: object) -> None:
        nonlocal count
        count += 1

    engine = cadence.db.engine
    event.listen(engine, "before_cursor_execute", counted)
    try:
        cadence.scheduler.tick(now)
    finally:
        event.remove(engine, "before_cursor_execute", counted)
    return count


def test_an_idle_tick_costs_the_same_with_10_or_100_workspaces(cadence: Cadence) -> None:
    now = utc(2026, 12, 1, 7, 0)
    seed(cadence.db, range(10), now)
    idle = now + timedelta(minutes=5)
    small = statements_of_a_tick(cadence, idle)
    seed(cadence.db, range(10, 100), now)
    large = statements_of_a_tick(cadence, idle)
    assert small == large
    # About one query a job (and, on SQLite, its BEGIN), whatever is installed.
    assert large <= 3 * len(cadence.scheduler.jobs)


def test_two_processes_claim_disjoint_batches(db_url: str) -> None:
    """Two processes (each its own engine) claiming at the same moment get disjoint stand-ups, all of them."""
    now = utc(2026, 12, 1, 8, 30)
    database, other = Database(db_url), Database(db_url)
    try:
        seed(database, range(25), now - timedelta(hours=1))
        with database.transaction() as session:
            session.execute(store.Standup.__table__.update().values(next_due_at=now))
        if database.dialect != "postgresql":
            # SQLite is one process: the second claim waits for the first one's commit and finds its rows taken.
            with database.transaction() as session:
                first = schedule.claim_due(session, now=now, limit=30)
            with other.transaction() as session:
                second = schedule.claim_due(session, now=now, limit=30)
        else:
            first, second = [], []
            claimed, done = threading.Event(), threading.Event()

            def hold() -> None:
                with database.transaction() as session:
                    first.extend(schedule.claim_due(session, now=now, limit=30))
                    claimed.set()
                    done.wait(30)  # still holding its row locks while the other process claims

            holder = threading.Thread(target=hold)
            holder.start()
            assert claimed.wait(30)
            with other.transaction() as session:
                second.extend(schedule.claim_due(session, now=now, limit=30))
            done.set()
            holder.join(30)
        assert len(first) == 30
        assert len(second) == 20
        assert not set(first) & set(second)
        with database.reading() as session:
            assert session.scalar(select(store.Standup.id).where(store.Standup.next_due_at <= now)) is None
    finally:
        database.dispose()
        other.dispose()


def test_a_claimed_stand_up_is_due_again_after_its_lease(db: Database) -> None:
    now = utc(2026, 12, 1, 8, 30)
    seed(db, range(1), now - timedelta(hours=1))
    with db.transaction() as session:
        session.execute(store.Standup.__table__.update().values(next_due_at=now))
        assert len(schedule.claim_due(session, now=now)) == 2
    with db.transaction() as session:
        assert schedule.claim_due(session, now=now + timedelta(seconds=30)) == []
        assert len(schedule.claim_due(session, now=now + due.LEASE)) == 2


# -- profiles ahead of the prompts -----------------------------------------------------------------------------------

def test_stale_profiles_are_refreshed_ahead_with_users_info_not_users_list(cadence: Cadence) -> None:
    team(cadence)
    for n in range(3000):
        cadence.fake.add_user(f"W{n:04d}", tz="Europe/Berlin")
    participants = tuple(f"W{n:04d}" for n in range(10))
    set_up(cadence, users=participants)
    cadence.tick()  # 07:00: every profile is fetched (the first prompt is within the hour)
    assert next_due(cadence) == utc(2026, 12, 1, 8, 30)
    cadence.tick(utc(2026, 12, 1, 8, 30))
    assert all(len(cadence.fake.dms(u)) == 1 for u in participants)
    # A day later: three profiles are a day old, the others were read again since.
    later = utc(2026, 12, 2, 7, 40)
    with cadence.db.transaction() as session:
        for user in participants[3:]:
            people.save_person(session, team_id="T1", user_id=user, display_name=user, timezone="Europe/Berlin",
                               is_deleted=False, is_bot=False, is_admin=False, is_owner=False, fetched_at=later)
    before = len(cadence.fake.calls())
    cadence.tick(later)
    asked = cadence.fake.calls()[before:]
    assert sorted(c.args["user"] for c in asked if c.method == "users.info") == list(participants[:3])
    assert [c for c in asked if c.method == "users.list"] == []
    assert [c for c in asked if c.method == "chat.postMessage"] == []  # no prompt is due yet


@pytest.mark.parametrize("trouble", ["slow", "failing"])
def test_a_slow_workspace_delays_only_itself(multi: Cadence, trouble: str) -> None:
    cadence = multi
    tokens = {"TA": "xoxb-1111-aaaaaaaaaaaaaaaaaaaaaaaa", "TB": "xoxb-2222-bbbbbbbbbbbbbbbbbbbbbbbb"}
    for team_id, token in tokens.items():
        assert install(cadence, team_id, token).status == 200
    cadence.fake.add_user("U1", "ada", tz="Europe/Berlin")
    cadence.fake.add_channel("C1", "team")
    for team_id in tokens:
        cadence.slack.team_id = team_id
        set_up(cadence, users=("U1",))
    cadence.tick()  # 07:00: profiles fetched ahead, for both
    if trouble == "slow":
        cadence.fake.team_trouble("TA", latency=3.0)
    else:
        cadence.fake.team_trouble("TA", status=500)
    cadence.tick(utc(2026, 12, 1, 8, 30))
    delivered = [m.team for m in cadence.fake.messages()]
    assert delivered.count("TB") == 2  # the prompt and the day's report parent
    if trouble == "slow":
        assert delivered == ["TB", "TB", "TA", "TA"] or delivered[:2] == ["TB", "TB"]
    else:
        assert "TA" not in delivered
        cadence.fake.team_trouble("TA")
        cadence.tick(utc(2026, 12, 1, 8, 35))
        assert [m.team for m in cadence.fake.messages()].count("TA") == 2


@pytest.fixture
def multi(fake: FakeSlack, db_url: str, clock: FrozenClock) -> Iterator[Cadence]:
    app = start_multi(fake, db_url, clock)
    yield app
    app.stop()


def test_metrics_show_the_scheduler_backlog_and_its_oldest_lag(cadence: Cadence) -> None:
    """An operator sees how much due work waits, per kind, and for how long (stand-ups due but not run yet)."""
    team(cadence)
    set_up(cadence, users=("U1",))  # due at once (07:00): its job has not run yet
    cadence.clock.set(utc(2026, 12, 1, 7, 1, 30))
    samples = scrape(cadence)
    assert value(samples, "cadence_scheduler_backlog", kind="standup") == 1
    assert value(samples, "cadence_scheduler_oldest_due_seconds", kind="standup") == 90
    assert value(samples, "cadence_scheduler_backlog", kind="outbox") == 0
    cadence.tick()
    samples = scrape(cadence)
    assert samples[("cadence_scheduler_backlog", (("kind", "standup"),))] == 0
    assert samples[("cadence_scheduler_oldest_due_seconds", (("kind", "standup"),))] == 0
