"""Claimed work: done once, whatever restarts or processes there are; a dead claimant's work is taken over."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import StatementError

from storage import claims
from storage.db import Database
from storage.models import Workspace

NOW = datetime(2026, 12, 1, 8, 30, tzinfo=UTC)


def take(database: Database, key: str, now: datetime = NOW) -> bool:
    with database.transaction() as session:
        return claims.claim(session, team_id="T1", kind="test", key=key, now=now)


def test_a_key_is_claimed_once(db: Database) -> None:
    assert take(db, "standup:1:U1:2026-12-01") is True
    assert take(db, "standup:1:U1:2026-12-01") is False
    assert take(db, "standup:1:U2:2026-12-01") is True


def test_an_expired_lease_is_taken_over_but_finished_work_never_is(db: Database) -> None:
    assert take(db, "k")
    assert not take(db, "k", NOW + claims.DEFAULT_LEASE - timedelta(seconds=1))
    assert take(db, "k", NOW + claims.DEFAULT_LEASE)
    with db.transaction() as session:
        claims.finish(session, key="k", now=NOW + claims.DEFAULT_LEASE)
        assert claims.is_done(session, key="k")
        assert claims.claim_of(session, key="k").attempts == 2
    assert not take(db, "k", NOW + timedelta(days=1))


def test_released_work_waits_for_its_retry_time(db: Database) -> None:
    assert take(db, "k")
    with db.transaction() as session:
        claims.release(session, key="k", now=NOW, retry_after=timedelta(minutes=1), error="ratelimited")
    assert not take(db, "k", NOW + timedelta(seconds=59))
    assert take(db, "k", NOW + timedelta(minutes=1))
    with db.transaction() as session:
        assert claims.claim_of(session, key="k").last_error == "ratelimited"


def test_two_engines_racing_for_the_same_keys_each_win_half(db_url: str) -> None:
    """Two processes' worth of engines, many threads each: every key is won exactly once."""
    engines = [Database(db_url), Database(db_url)]
    keys = [f"race:{i}" for i in range(40)]
    wins: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(8)

    def contender(database: Database) -> None:
        barrier.wait()
        for key in keys:
            if take(database, key):
                with lock:
                    wins.append(key)

    threads = [threading.Thread(target=contender, args=(engines[i % 2],)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for database in engines:
        database.dispose()
    assert sorted(wins) == sorted(keys)


def test_naive_datetimes_are_refused(db: Database) -> None:
    naive = Workspace(team_id="T1", name="x", installed_at=datetime(2026, 1, 1))  # noqa: DTZ001
    with db.transaction() as session:
        session.add(naive)
        with pytest.raises(StatementError, match="naive datetime"):
            session.flush()
        session.rollback()


def test_times_come_back_in_utc(db: Database) -> None:
    from zoneinfo import ZoneInfo

    berlin = datetime(2026, 12, 1, 9, 30, tzinfo=ZoneInfo("Europe/Berlin"))
    with db.transaction() as session:
        session.add(Workspace(team_id="T1", name="x", installed_at=berlin))
    with db.transaction() as session:
        stored = session.get(Workspace, "T1")
        assert stored.installed_at == datetime(2026, 12, 1, 8, 30, tzinfo=UTC)
        assert stored.installed_at.tzinfo == UTC


def test_holidays_are_per_workspace(db: Database) -> None:
    from datetime import date

    from storage import calendar

    with db.transaction() as session:
        assert calendar.add_holiday(session, team_id="T1", day=date(2026, 12, 25), name="Christmas", added_by="U1",
                                    now=NOW)
        assert not calendar.add_holiday(session, team_id="T1", day=date(2026, 12, 25), name="again", added_by="U1",
                                        now=NOW)
        assert calendar.add_holiday(session, team_id="T2", day=date(2026, 12, 26), name="", added_by="U9", now=NOW)
    with db.transaction() as session:
        assert calendar.holiday_days(session, team_id="T1") == {date(2026, 12, 25)}
        assert calendar.holiday_days(session, team_id="T1", start=date(2026, 12, 26)) == set()
        assert calendar.remove_holiday(session, team_id="T1", day=date(2026, 12, 25), now=NOW)
        assert not calendar.remove_holiday(session, team_id="T1", day=date(2026, 12, 25), now=NOW)
        assert calendar.holiday_days(session, team_id="T2") == {date(2026, 12, 26)}
