"""The summary's per-person participation carries the names cached in `people` (a regression: it used to fail)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from ceremonies.standup import StandupConfig, default_questions
from storage import people, sprint_figures
from storage import standup as store
from storage.db import Database

DAY = date(2026, 12, 1)
AT = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


def test_participation_names_people_from_the_cache_and_falls_back_to_the_id(db: Database) -> None:
    with db.transaction() as session:
        standup = store.save_standup(session, team_id="T1", channel_id="C1", owner_id="U1", now=AT, config=StandupConfig(
            channel_id="C1", report_channel_id="C1", participants=("U1", "U2"), questions=default_questions()))
        run = store.open_run(session, team_id="T1", standup=standup, local_date=DAY, closes_at=AT.replace(hour=17),
                             now=AT)
        for user in ("U1", "U2"):
            store.record_prompt(session, team_id="T1", standup_id=standup.id, run_id=run.id, user_id=user,
                                local_date=DAY, timezone="UTC", due_at=AT, closes_at=AT.replace(hour=17), sent_at=AT,
                                dm_channel_id="D" + user, dm_ts="1.0")
        store.record_answer(session, team_id="T1", run=run, user_id="U1", questions=default_questions(),
                            answers={0: "a", 1: "b"}, late=False, now=AT)
        people.save_person(session, team_id="T1", user_id="U1", display_name="Ada", timezone="UTC", is_deleted=False,
                           is_bot=False, is_admin=False, is_owner=False, fetched_at=AT)

    with db.transaction() as session:
        _days, persons = sprint_figures.participation(session, team_id="T1", channel_id="C1", start=DAY, end=DAY)

    assert sorted((p.user_id, p.name, p.answered, p.expected) for p in persons) == [
        ("U1", "Ada", 1, 1), ("U2", "U2", 0, 1)]
