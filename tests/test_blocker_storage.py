"""Blocker rows on SQLite and Postgres: scoped to their workspace, resolved once, summed up for the sprint summary."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from ceremonies.blockers import BlockerAlreadyResolved, BlockerNotFound, Source, TrackerSettings
from storage import blockers as store
from storage.calendar import add_holiday
from storage.db import Database

MONDAY = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def flag(db: Database, *, at: datetime, team_id: str = "T1", channel_id: str = "C1", reporter_id: str = "U1",
         text: str = "waiting on review") -> int:
    with db.transaction() as session:
        return store.open_blocker(session, team_id=team_id, channel_id=channel_id, reporter_id=reporter_id,
                                  text=text, source=Source.COMMAND, now=at).id


def test_a_blocker_is_resolved_once_and_only_in_its_workspace(db: Database) -> None:
    blocker_id = flag(db, at=MONDAY)
    with db.transaction() as session, pytest.raises(BlockerNotFound):
        store.resolve_blocker(session, team_id="T2", blocker_id=blocker_id, user_id="U9", note="", now=MONDAY)
    with db.transaction() as session:
        store.resolve_blocker(session, team_id="T1", blocker_id=blocker_id, user_id="U2", note="  done  ", now=MONDAY)
    with db.transaction() as session, pytest.raises(BlockerAlreadyResolved, match="already resolved by <@U2>"):
        store.resolve_blocker(session, team_id="T1", blocker_id=blocker_id, user_id="U3", note="", now=MONDAY)
    with db.transaction() as session:
        blocker = store.get_blocker(session, team_id="T1", blocker_id=blocker_id)
        assert (blocker.status, blocker.resolved_by, blocker.resolution_note) == ("resolved", "U2", "done")


def test_open_blockers_oldest_first_per_channel_and_per_reporter(db: Database) -> None:
    newer = flag(db, at=MONDAY + timedelta(hours=2), text="newer")
    older = flag(db, at=MONDAY, text="older")
    flag(db, at=MONDAY, channel_id="C2", text="other team")
    flag(db, at=MONDAY, team_id="T2", text="other workspace")
    mine_elsewhere = flag(db, at=MONDAY, channel_id="C2", reporter_id="U5")
    with db.transaction() as session:
        assert [b.id for b in store.open_blockers(session, team_id="T1", channel_id="C1")] == [older, newer]
        assert [b.id for b in store.open_blockers_for_user(session, team_id="T1", user_id="U1", channel_id="C1")] == [
            older, newer]
        assert [b.id for b in store.open_blockers_for_user(session, team_id="T1", user_id="U5")] == [mine_elsewhere]
        assert sorted(store.teams_with_open_blockers(session)) == [("T1", "C1"), ("T1", "C2"), ("T2", "C1")]


def test_settings_default_until_saved(db: Database) -> None:
    with db.transaction() as session:
        assert store.tracker_settings(session, team_id="T1", channel_id="C1", default_timezone="Europe/Berlin") == (
            TrackerSettings(timezone="Europe/Berlin"))
        saved = TrackerSettings(threshold_days=3, contact_id="U3", digest_time=time(16, 45), timezone="Asia/Tokyo")
        store.save_tracker_settings(session, team_id="T1", channel_id="C1", settings=saved, user_id="U1", now=MONDAY)
    with db.transaction() as session:
        assert store.tracker_settings(session, team_id="T1", channel_id="C1", default_timezone="UTC") == saved
        assert store.tracker_settings(session, team_id="T2", channel_id="C1", default_timezone="UTC") == (
            TrackerSettings(timezone="UTC"))


def test_blocker_stats_for_a_sprint(db: Database) -> None:
    """Two weeks from Mon 30 Nov: a holiday on Fri 4 Dec does not count towards time to unblock."""
    start, end = MONDAY.replace(hour=0), MONDAY.replace(hour=0) + timedelta(days=14)
    quick = flag(db, at=MONDAY)
    over_holiday = flag(db, at=datetime(2026, 12, 3, 12, 0, tzinfo=UTC))
    flag(db, at=datetime(2026, 12, 9, 12, 0, tzinfo=UTC))  # still open
    flag(db, at=MONDAY, channel_id="C2")  # another team
    flag(db, at=MONDAY, team_id="T2")  # another workspace
    with db.transaction() as session:
        add_holiday(session, team_id="T1", day=date(2026, 12, 4), name="Company day", added_by="U1", now=MONDAY)
        store.resolve_blocker(session, team_id="T1", blocker_id=quick, user_id="U2", note="",
                              now=MONDAY + timedelta(hours=3))
        store.record_escalation(session, team_id="T1", blocker_id=over_holiday, level=1, contact_id="U3",
                                now=datetime(2026, 12, 7, 12, 0, tzinfo=UTC))
        store.resolve_blocker(session, team_id="T1", blocker_id=over_holiday, user_id="U2", note="",
                              now=datetime(2026, 12, 7, 18, 0, tzinfo=UTC))
    with db.transaction() as session:
        stats = store.blocker_stats(session, team_id="T1", channel_id="C1", start=start, end=end)
        escalated = store.get_blocker(session, team_id="T1", blocker_id=over_holiday)
    assert (stats.opened, stats.resolved, stats.still_open, stats.escalations) == (3, 2, 1, 1)
    # Thu 12:00 → Mon 18:00 with Friday a holiday: 12 h on Thursday + 18 h on Monday.
    assert stats.longest_time_to_unblock == timedelta(hours=30)
    assert stats.median_time_to_unblock == timedelta(hours=(3 + 30) / 2)
    assert (escalated.escalation_level, escalated.escalation_count) == (1, 1)
