"""The database goes away and comes back: people are told politely, the pool and the scheduler recover by themselves.

Postgres only: SQLite is a file in the app's own process and cannot be restarted under it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import REGISTRY
from slack_bolt import Ack, BoltContext, Respond
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from bot.devtools.fakeslack import FakeSlack
from bot.devtools.harness import Cadence, FrozenClock, start_cadence
from bot.jobs.scheduler import Scheduler
from bot.server.errors import DATABASE_UNAVAILABLE
from bot.server.runtime import Runtime, runtime_of
from bot.server.settings import Settings
from storage import claims
from storage.db import Database
from storage.models import WorkClaim
from tests.conftest import _empty
from tests.tcpproxy import TcpProxy

pytestmark = pytest.mark.postgres_only

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def pg_url(postgres_url: str) -> str:
    _empty(postgres_url)
    return postgres_url


@pytest.fixture
def proxy(pg_url: str) -> Iterator[TcpProxy]:
    url = make_url(pg_url)
    server = TcpProxy(url.host or "127.0.0.1", url.port or 5432).start()
    yield server
    server.stop()


def through(proxy: TcpProxy, url: str) -> str:
    return make_url(url).set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)


def terminate_app_connections(url: str) -> int:
    """What a Postgres restart does to the app: every connection to its database is killed."""
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            return len(connection.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )).all())
    finally:
        admin.dispose()


class Gate:
    """Holds a listener inside its transaction until the test has broken the database under it."""

    def __init__(self) -> None:
        self.inside = threading.Event()
        self.go_on = threading.Event()


def add_db_probe(cadence: Cadence, gate: Gate) -> None:
    def count_claims(ack: Ack, respond: Respond, context: BoltContext, command: dict) -> None:
        ack()
        with runtime_of(context).db.transaction() as session:
            session.execute(text("SELECT 1"))
            if command.get("text") == "hold":
                gate.inside.set()
                assert gate.go_on.wait(timeout=30)
            counted = session.scalar(select(func.count()).select_from(WorkClaim))
        respond(f"{counted} claims")

    cadence.app.command("/dbprobe")(count_claims)


@pytest.fixture
def app_on(fake: FakeSlack, clock: FrozenClock) -> Iterator[list[Cadence]]:
    started: list[Cadence] = []
    yield started
    for app in started:
        app.stop()


def test_a_request_in_flight_when_postgres_kills_its_connection_fails_politely_and_the_pool_recovers(
    fake: FakeSlack, pg_url: str, clock: FrozenClock, app_on: list[Cadence]
) -> None:
    cadence = start_cadence(fake, pg_url, clock)
    app_on.append(cadence)
    gate = Gate()
    add_db_probe(cadence, gate)
    assert cadence.command("/dbprobe").status == 200
    assert fake.responses()[-1]["text"] == "0 claims"

    reply = cadence.slack.command("/dbprobe", "hold", user="U2")  # acknowledged, then held in its transaction
    assert reply.status == 200
    assert gate.inside.wait(timeout=30)
    assert terminate_app_connections(pg_url) >= 1
    gate.go_on.set()
    cadence.settle()

    assert fake.responses()[-1]["text"] == DATABASE_UNAVAILABLE
    assert fake.responses()[-1]["response_type"] == "ephemeral"

    terminate_app_connections(pg_url)  # the idle pooled connections die too
    assert cadence.command("/dbprobe").status == 200
    assert fake.responses()[-1]["text"] == "0 claims"


def test_while_the_database_is_down_health_says_so_and_people_are_told_and_it_recovers_when_it_returns(
    fake: FakeSlack, pg_url: str, proxy: TcpProxy, clock: FrozenClock, app_on: list[Cadence]
) -> None:
    cadence = start_cadence(fake, through(proxy, pg_url), clock)
    app_on.append(cadence)
    add_db_probe(cadence, Gate())
    assert cadence.command("/dbprobe").status == 200

    proxy.cut()
    assert cadence.slack.get("/healthz").status == 503
    reply = cadence.command("/dbprobe")
    assert reply.status == 200  # the ack never waits for the database
    assert fake.responses()[-1]["text"] == DATABASE_UNAVAILABLE
    assert "/cadence help" in cadence.command("/cadence", "help").text  # what needs no database still works

    proxy.restore()
    assert cadence.slack.get("/healthz").status == 200
    cadence.command("/dbprobe")
    assert fake.responses()[-1]["text"] == "0 claims"


def minutes_due(runtime: Runtime, now: datetime) -> None:
    """A job in the house pattern: everything due up to `now` is claimed by key, done, and finished."""
    slot = START
    while slot <= now:
        key = f"outage.minute:{slot:%H%M}"
        with runtime.db.transaction() as session:
            claimed = claims.claim(session, team_id="T1", kind="outage.minute", key=key, now=now, due_at=slot)
        if claimed:
            with runtime.db.transaction() as session:
                claims.finish(session, key=key, now=now)
        slot += timedelta(minutes=1)


def done_minutes(url: str) -> list[str]:
    database = Database(url)
    try:
        with database.transaction() as session:
            return list(session.scalars(
                select(WorkClaim.key).where(WorkClaim.done_at.is_not(None)).order_by(WorkClaim.key)
            ))
    finally:
        database.dispose()


def test_the_scheduler_survives_an_outage_and_catches_up_when_the_database_returns(
    pg_url: str, proxy: TcpProxy, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(_env_file=None, database_url=through(proxy, pg_url))  # type: ignore[call-arg]
    runtime = Runtime.from_settings(settings, clock=FrozenClock(START))
    ticked = threading.Event()

    def first_tick_seen(_runtime: Runtime, _now: datetime) -> None:
        ticked.set()

    scheduler = Scheduler(runtime, jobs=[minutes_due, first_tick_seen])
    failures_before = REGISTRY.get_sample_value(
        "cadence_scheduled_job_failures_total", {"job": "minutes_due"}) or 0.0
    try:
        scheduler.tick(START)
        assert done_minutes(pg_url) == ["outage.minute:0900"]

        proxy.cut()
        with caplog.at_level(logging.WARNING, logger="cadence.scheduler"):
            scheduler.tick(START + timedelta(minutes=1))
            scheduler.tick(START + timedelta(minutes=2))
            ticked.clear()
            scheduler.start()  # the real clock's first tick, in its own thread, while the database is down
            assert ticked.wait(timeout=30)
        assert scheduler._clock is not None
        assert scheduler._clock.running
        assert scheduler._clock.get_job("cadence.tick") is not None
        assert [r.getMessage().split(":")[0] for r in caplog.records][:2] == ["scheduled job minutes_due"] * 2
        assert all("database unavailable" in r.getMessage() for r in caplog.records)
        assert (REGISTRY.get_sample_value("cadence_scheduled_job_failures_total", {"job": "minutes_due"})
                - failures_before) >= 3

        proxy.restore()
        scheduler.tick(START + timedelta(minutes=3))
        assert done_minutes(pg_url) == [f"outage.minute:090{m}" for m in range(4)]
    finally:
        scheduler.shutdown()
        runtime.db.dispose()

