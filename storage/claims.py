"""Claiming scheduled work in the database so that restarts and several processes never do it twice."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storage.models import WorkClaim

DEFAULT_LEASE = timedelta(minutes=5)


def claim(
    session: Session,
    *,
    team_id: str,
    kind: str,
    key: str,
    now: datetime,
    due_at: datetime | None = None,
    lease: timedelta = DEFAULT_LEASE,
) -> bool:
    """Take the work named `key`; True when this caller now owns it.

    The caller commits straight after, before doing the work, so that every other process sees the claim. Work whose
    lease ran out without being finished is taken over; finished work is never claimed again.
    """
    values = {
        "team_id": team_id,
        "kind": kind,
        "key": key,
        "due_at": due_at,
        "claimed_at": now,
        "lease_until": now + lease,
        "attempts": 1,
    }
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    inserted = session.execute(
        insert(WorkClaim).values(**values).on_conflict_do_nothing(index_elements=["key"]).returning(WorkClaim.id)
    )
    if inserted.scalar_one_or_none() is not None:
        return True
    taken_over = session.execute(
        update(WorkClaim)
        .where(and_(WorkClaim.key == key, WorkClaim.done_at.is_(None), WorkClaim.lease_until <= now))
        .values(claimed_at=now, lease_until=now + lease, attempts=WorkClaim.attempts + 1)
        .returning(WorkClaim.id)
        .execution_options(synchronize_session=False)
    )
    return taken_over.scalar_one_or_none() is not None


def finish(session: Session, *, key: str, now: datetime) -> None:
    """Mark claimed work as done for good."""
    session.execute(
        update(WorkClaim)
        .where(WorkClaim.key == key)
        .values(done_at=now, last_error=None)
        .execution_options(synchronize_session=False)
    )


def release(session: Session, *, key: str, now: datetime, retry_after: timedelta, error: str) -> None:
    """Give claimed work back after a failure, to be claimed again once `retry_after` has passed."""
    session.execute(
        update(WorkClaim)
        .where(and_(WorkClaim.key == key, WorkClaim.done_at.is_(None)))
        .values(lease_until=now + retry_after, last_error=error[:500])
        .execution_options(synchronize_session=False)
    )


def is_done(session: Session, *, key: str) -> bool:
    """True when the work named `key` was finished."""
    done_at = session.scalar(select(WorkClaim.done_at).where(WorkClaim.key == key))
    return done_at is not None


def claim_of(session: Session, *, key: str) -> WorkClaim | None:
    """The claim row for `key`, if any."""
    return session.scalar(select(WorkClaim).where(WorkClaim.key == key))
