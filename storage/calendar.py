"""The workspace calendar: holidays that apply to everyone."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from storage import due
from storage.models import HOLIDAY_NAME_LENGTH, Holiday


def holidays(session: Session, *, team_id: str, start: date | None = None, end: date | None = None) -> list[Holiday]:
    """The workspace's holidays, oldest first, optionally between `start` and `end` inclusive."""
    query = select(Holiday).where(Holiday.team_id == team_id)
    if start is not None:
        query = query.where(Holiday.day >= start)
    if end is not None:
        query = query.where(Holiday.day <= end)
    return list(session.scalars(query.order_by(Holiday.day)))


def holiday_days(session: Session, *, team_id: str, start: date | None = None, end: date | None = None) -> set[date]:
    """Just the days, for schedule arithmetic."""
    return {h.day for h in holidays(session, team_id=team_id, start=start, end=end)}


def add_holiday(session: Session, *, team_id: str, day: date, name: str, added_by: str, now: datetime) -> bool:
    """Add a holiday; False when that day already was one."""
    exists = session.scalar(select(Holiday.id).where(Holiday.team_id == team_id, Holiday.day == day))
    if exists is not None:
        return False
    session.add(Holiday(team_id=team_id, day=day, name=name[:HOLIDAY_NAME_LENGTH], added_by=added_by, added_at=now))
    session.flush()
    due.reschedule_team(session, team_id=team_id, now=now)  # a day off moves every schedule's next moment
    return True


def remove_holiday(session: Session, *, team_id: str, day: date, now: datetime) -> bool:
    """Remove a holiday; False when that day was not one."""
    removed = session.execute(
        delete(Holiday).where(Holiday.team_id == team_id, Holiday.day == day).returning(Holiday.id)
    ).first()
    if removed is not None:
        due.reschedule_team(session, team_id=team_id, now=now)
    return removed is not None
