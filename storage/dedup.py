"""Events already handled, so that a retried or repeated Events API delivery never applies its effect twice."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, UniqueConstraint, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage.models import SLACK_ID_LENGTH, Base

# Slack's event ids look like "Ev0PV52K25"; 64 leaves room for any future format.
EVENT_ID_LENGTH = 64


class ProcessedEvent(Base):
    """An Events API delivery Cadence accepted, by its `event_id`; kept a few days, longer than Slack retries."""

    __tablename__ = "processed_events"
    __table_args__ = (
        UniqueConstraint("team_id", "event_id"),
        Index("ix_processed_events_received_at", "received_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    event_id: Mapped[str] = mapped_column(String(EVENT_ID_LENGTH))
    received_at: Mapped[datetime]


def first_delivery(session: Session, *, team_id: str, event_id: str, now: datetime) -> bool:
    """Record the event; True the first time it is seen, False for every repeat (the caller then does nothing)."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    inserted = session.execute(
        insert(ProcessedEvent)
        .values(team_id=team_id[:SLACK_ID_LENGTH], event_id=event_id[:EVENT_ID_LENGTH], received_at=now)
        .on_conflict_do_nothing(index_elements=["team_id", "event_id"])
        .returning(ProcessedEvent.id)
    )
    return inserted.scalar_one_or_none() is not None


def forget_before(session: Session, *, before: datetime) -> int:
    """Drop the records of events received before `before`; the number dropped."""
    dropped = session.execute(
        delete(ProcessedEvent).where(ProcessedEvent.received_at < before).returning(ProcessedEvent.id)
    )
    return len(dropped.all())


# Signed requests share the table with events under a team id no Slack workspace can have (theirs start with T or E).
SIGNATURES = "#signatures"


def first_signature(session: Session, *, signature: str, sent_at: datetime) -> bool:
    """Record a request signature; True the first time it is seen, False for a replay of the same signed request.

    `sent_at` is the request's own timestamp: a signature stops being valid 5 minutes after it, so
    `forget_signatures_before` can drop it then without letting a replay through.
    """
    return first_delivery(session, team_id=SIGNATURES, event_id=signature, now=sent_at)


def forget_signatures_before(session: Session, *, before: datetime) -> int:
    """Drop the signatures of requests sent before `before`; the number dropped."""
    dropped = session.execute(
        delete(ProcessedEvent)
        .where(ProcessedEvent.team_id == SIGNATURES, ProcessedEvent.received_at < before)
        .returning(ProcessedEvent.id)
    )
    return len(dropped.all())
