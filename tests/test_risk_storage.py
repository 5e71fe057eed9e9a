"""Risk rows on SQLite and Postgres: every change keeps its history, occurring flags a blocker, the review reminder
is queued once per review date, and the plain data the summary and the digest read."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from ceremonies import risks as domain
from ceremonies.risks import RiskNotFound, RiskNotOpen
from storage import blockers, outbox, workspace_data
from storage import risks as store
from storage.db import Database

MONDAY = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def raise_one(db: Database, *, title: str = "Payments API may slip", likelihood: int = 4, impact: int = 5,
              at: datetime = MONDAY, team_id: str = "T1", channel_id: str = "C1", review_on: date = date(2026, 12, 14),
              owner_id: str = "U2") -> int:
    draft = domain.RiskDraft(title, "", likelihood, impact, owner_id, "", review_on)
    with db.transaction() as session:
        return store.raise_risk(session, team_id=team_id, channel_id=channel_id, draft=draft, owner_timezone="UTC",
                                by="U1", now=at).id


def test_each_change_is_kept_with_old_and_new_scores(db: Database) -> None:
    risk_id = raise_one(db)
    with db.transaction() as session:
        store.rescore(session, team_id="T1", risk_id=risk_id, now=MONDAY + timedelta(days=1), by="U2",
                      rescoring=domain.Rescore(2, 5, date(2026, 12, 8), "vendor confirmed the date"))
        store.mitigate(session, team_id="T1", risk_id=risk_id, now=MONDAY + timedelta(days=2), by="U2",
                       mitigation=domain.Mitigation("a fallback provider is ready", date(2026, 12, 9)))
        store.close(session, team_id="T1", risk_id=risk_id, by="U3", now=MONDAY + timedelta(days=3))
    with db.transaction() as session:
        risk = store.get_risk(session, team_id="T1", risk_id=risk_id)
        assert (risk.status, risk.closed_by, risk.next_review_at, risk.mitigation) == (
            "closed", "U3", None, "a fallback provider is ready")
        rows = store.history(session, team_id="T1", risk_id=risk_id)
        assert [(e.change, e.by, e.old_likelihood, e.old_impact, e.new_likelihood, e.new_impact, e.old_status,
                 e.new_status) for e in rows] == [
            ("raised", "U1", None, None, 4, 5, None, "open"),
            ("rescored", "U2", 4, 5, 2, 5, "open", "open"),
            ("mitigated", "U2", 2, 5, 2, 5, "open", "open"),
            ("closed", "U3", 2, 5, 2, 5, "open", "closed"),
        ]
        assert [e.event().new_score for e in rows] == [20, 10, 10, 10]
        with pytest.raises(RiskNotOpen, match="already closed"):
            store.close(session, team_id="T1", risk_id=risk_id, by="U3", now=MONDAY)
        with pytest.raises(RiskNotFound):
            store.get_risk(session, team_id="T2", risk_id=risk_id)


def test_a_review_sets_the_next_one_and_its_reminder(db: Database) -> None:
    risk_id = raise_one(db)
    with db.transaction() as session:
        risk = store.get_risk(session, team_id="T1", risk_id=risk_id)
        assert (risk.review_period_days, risk.next_review_at) == (14, datetime(2026, 12, 14, 9, 0, tzinfo=UTC))
        store.rescore(session, team_id="T1", risk_id=risk_id, now=MONDAY + timedelta(days=1), by="U2",
                      rescoring=domain.Rescore(3, 3, date(2026, 12, 8), ""))
    with db.transaction() as session:
        risk = store.get_risk(session, team_id="T1", risk_id=risk_id)
        assert (risk.reviewed_at, risk.reviewed_by, risk.review_period_days, risk.next_review_on) == (
            MONDAY + timedelta(days=1), "U2", 7, date(2026, 12, 8))


def test_occurred_flags_a_blocker_linked_to_it_and_queues_its_card(db: Database) -> None:
    risk_id = raise_one(db)
    with db.transaction() as session:
        risk = store.occurred(session, team_id="T1", risk_id=risk_id, by="U1", now=MONDAY + timedelta(hours=2))
        blocker_id = risk.blocker_id
    assert blocker_id is not None
    with db.transaction() as session:
        blocker = blockers.get_blocker(session, team_id="T1", blocker_id=blocker_id)
        assert (blocker.text, blocker.source, blocker.owner_id, blocker.channel_id, blocker.status) == (
            f"Risk #{risk_id} occurred: Payments API may slip", "risk", "U2", "C1", "open")
        assert outbox.state_of(session, key=blockers.card_key(blocker_id)) == "pending"
        assert store.get_risk(session, team_id="T1", risk_id=risk_id).status == "occurred"


def test_the_review_reminder_is_queued_once_per_review_date(db: Database) -> None:
    risk_id = raise_one(db)
    due_at = datetime(2026, 12, 14, 9, 0, tzinfo=UTC)
    with db.transaction() as session:
        assert store.due_reminders(session, now=due_at - timedelta(seconds=1)) == []
        assert store.due_reminders(session, now=due_at) == [("T1", risk_id)]
        assert store.queue_reminder(session, team_id="T1", risk_id=risk_id, now=due_at)
        assert not store.queue_reminder(session, team_id="T1", risk_id=risk_id, now=due_at)
    with db.transaction() as session:
        assert store.due_reminders(session, now=due_at + timedelta(days=3)) == []
        assert outbox.state_of(session, key=f"risk.review:T1:{risk_id}:2026-12-14") == "pending"


def test_top_open_and_the_sprint_section(db: Database) -> None:
    low = raise_one(db, title="low", likelihood=1, impact=2, at=MONDAY - timedelta(days=3))
    high = raise_one(db, title="high", likelihood=4, impact=5, at=MONDAY - timedelta(days=2))
    tie = raise_one(db, title="tie, newer", likelihood=5, impact=4, at=MONDAY + timedelta(days=1))
    gone = raise_one(db, title="closed", likelihood=3, impact=3, at=MONDAY + timedelta(days=2))
    raise_one(db, title="elsewhere", likelihood=5, impact=5, channel_id="C2")
    with db.transaction() as session:
        store.close(session, team_id="T1", risk_id=gone, by="U1", now=MONDAY + timedelta(days=3))
        store.occurred(session, team_id="T1", risk_id=low, by="U1", now=MONDAY + timedelta(days=4))
    now = MONDAY + timedelta(days=5)
    with db.transaction() as session:
        top = store.top_open(session, team_id="T1", channel_id="C1", limit=5, now=now)
        assert [(r.id, r.score) for r in top] == [(high, 20), (tie, 20)]
        assert store.top_open(session, team_id="T1", channel_id="C1", limit=1, now=now)[0].id == high
        section = store.sprint_section(session, team_id="T1", channel_id="C1", start=MONDAY, end=now, now=now)
    assert (section.raised, section.closed, section.occurred) == (2, 1, 1)
    assert (section.score_at_start, section.score_at_end) == (2 + 20, 20 + 20)
    assert [r.id for r in section.open] == [high, tie]


def test_risks_are_exported_and_purged_with_their_workspace(db: Database) -> None:
    raise_one(db)
    raise_one(db, team_id="T2")
    with db.transaction() as session:
        exported = workspace_data.export(session, team_id="T1")
        assert len(exported["risks"]) == 1
        assert len(exported["risk_events"]) == 1
        deleted = workspace_data.purge(session, team_id="T1")
        assert (deleted["risks"], deleted["risk_events"]) == (1, 1)
    with db.transaction() as session:
        assert len(workspace_data.export(session, team_id="T2")["risks"]) == 1
