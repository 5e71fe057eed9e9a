"""Workspace members as Cadence last saw them in `users.info`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import standup
from storage.models import Person


def get_person(session: Session, *, team_id: str, user_id: str) -> Person | None:
    """The cached profile of one member, however old."""
    return session.scalar(select(Person).where(Person.team_id == team_id, Person.user_id == user_id))


def people(session: Session, *, team_id: str, user_ids: list[str]) -> dict[str, Person]:
    """Cached profiles of several members, by user id."""
    if not user_ids:
        return {}
    rows = session.scalars(select(Person).where(Person.team_id == team_id, Person.user_id.in_(user_ids)))
    return {row.user_id: row for row in rows}


def save_person(
    session: Session,
    *,
    team_id: str,
    user_id: str,
    display_name: str,
    timezone: str | None,
    is_deleted: bool,
    is_bot: bool,
    is_admin: bool,
    is_owner: bool,
    fetched_at: datetime,
) -> Person:
    """Store what `users.info` said about a member, replacing what was cached."""
    person = get_person(session, team_id=team_id, user_id=user_id)
    if person is None:
        person = Person(team_id=team_id, user_id=user_id, fetched_at=fetched_at)
        session.add(person)
    elif person.timezone != timezone or person.is_deleted != is_deleted:
        # Their prompts move to another hour (or stop): their stand-ups compute their next moment again.
        standup.reschedule_participant(session, team_id=team_id, user_id=user_id, now=fetched_at)
    person.display_name = display_name[:255]
    person.timezone = timezone
    person.is_deleted = is_deleted
    person.is_bot = is_bot
    person.is_admin = is_admin
    person.is_owner = is_owner
    person.fetched_at = fetched_at
    session.flush()
    return person
