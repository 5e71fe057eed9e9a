"""When each stand-up next needs the scheduler (storage.due): its next prompt, reminder or window close, and whose
profiles and user groups must be fresh before its next prompts.

Tables: the `next_due_at` and `usergroup_synced_at` columns of standups (storage.standup).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from ceremonies import standup as domain
from storage import calendar, due, workspaces
from storage import people as people_store
from storage import standup as store
from storage.models import Person

HORIZON = timedelta(days=domain.NEXT_PROMPT_HORIZON_DAYS)


def claim_due(session: Session, *, now: datetime, limit: int = 200) -> list[tuple[str, int]]:
    """(team_id, stand-up id) of up to `limit` stand-ups due at `now`, claimed for this process (storage.due)."""
    return [(s.team_id, s.id) for s in due.claim(session, store.Standup, now=now, limit=limit,
                                                 where=[store.Standup.paused.is_(False)])]


def next_due_at(session: Session, standup: store.Standup, *, now: datetime, default_timezone: str) -> datetime | None:
    """The stand-up's next due moment after a run at `now`: its next prompt, reminder or window close, whichever is
    first (at or before `now`: work is still due); None while it is paused.

    A participant whose profile (timezone) is not cached yet makes it due at once: the profile refresh fetches it
    ahead of the prompts (bot/jobs/standup.py).
    """
    if standup.paused:
        return None
    team_id = standup.team_id
    listed = store.participants_of(session, team_id=team_id, standup_id=standup.id)
    config = store.config_of(session, standup, participants=listed)
    gone = {p.user_id for p in listed if p.gone_since is not None}
    users = [u for u in config.participants if u not in gone]
    cached = people_store.people(session, team_id=team_id, user_ids=users)
    if any(u not in cached for u in users):
        return now
    start, end = (now - timedelta(days=2)).date(), (now + HORIZON + timedelta(days=2)).date()
    holidays = calendar.holiday_days(session, team_id=team_id, start=start, end=end)
    away = store.away_ranges(session, team_id=team_id, user_ids=users, start=start, end=end)
    participants = [domain.Participant(u, domain.participant_zone(config, cached[u].timezone, default_timezone),
                                       tuple(away.get(u, ())))
                    for u in users if not cached[u].is_deleted]
    if not participants:
        # Nobody to prompt (an empty user group, say): wake at the stand-up's time anyway, so that the group is
        # synced before it and new members are prompted.
        zone = config.team_timezone if config.timezone_mode is domain.TimezoneMode.TEAM else default_timezone
        participants = [domain.Participant("", zone)]
    prompted = {(u, d) for u, d in session.execute(select(store.StandupPrompt.user_id, store.StandupPrompt.local_date)
                                                   .where(store.StandupPrompt.team_id == team_id,
                                                          store.StandupPrompt.standup_id == standup.id,
                                                          store.StandupPrompt.local_date >= start))}
    moments = [domain.next_prompt_at(config, participants, now=now, holidays=holidays, prompted=prompted)
               or now + HORIZON]
    if config.reminder_delay > timedelta(0):
        for prompt in store.awaiting_reminder(session, team_id=team_id, standup_id=standup.id, now=now):
            if any(prompt.local_date in r for r in away.get(prompt.user_id, ())):
                continue  # away people are not reminded (bot/jobs/standup.py queue_reminders)
            remind_at = max(prompt.due_at, prompt.sent_at) + config.reminder_delay
            if remind_at < prompt.closes_at:
                moments.append(remind_at)
    closes = session.scalar(select(func.min(store.StandupRun.closes_at)).where(
        store.StandupRun.team_id == team_id, store.StandupRun.standup_id == standup.id,
        store.StandupRun.closed_at.is_(None)))
    if closes is not None:
        moments.append(closes)
    return min(moments)


def _due_soon(now: datetime, ahead: timedelta) -> list:
    return [store.Standup.next_due_at <= now + ahead, store.Standup.paused.is_(False),
            workspaces.active_clause(store.Standup.team_id)]


@dataclass(frozen=True)
class UsergroupDue:
    team_id: str
    standup_id: int
    usergroup_id: str


def groups_to_sync(session: Session, *, now: datetime, ahead: timedelta) -> list[UsergroupDue]:
    """Stand-ups due within `ahead` whose user group was not synced today (UTC): one indexed query."""
    midnight = datetime.combine(now.astimezone(UTC).date(), time(0), UTC)
    rows = session.execute(
        select(store.Standup.team_id, store.Standup.id, store.Standup.usergroup_id)
        .where(*_due_soon(now, ahead), store.Standup.usergroup_id.is_not(None), store.Standup.usergroup_id != "",
               or_(store.Standup.usergroup_synced_at.is_(None), store.Standup.usergroup_synced_at < midnight))
        .order_by(store.Standup.next_due_at))  # by team_id, SQLite would read every stand-up in its index order
    return [UsergroupDue(team_id, standup_id, group) for team_id, standup_id, group in rows]


def usergroup_synced(session: Session, *, team_id: str, standup_id: int, now: datetime) -> None:
    """The group was read today; the stand-up computes its next moment again (its participants may have changed)."""
    standup = store.standup_by_id(session, team_id=team_id, standup_id=standup_id)
    if standup is not None:
        standup.usergroup_synced_at = now
        if not standup.paused:
            standup.next_due_at = now


@dataclass(frozen=True)
class StaleProfiles:
    """Whose profiles to ask Slack about, by workspace, and the workspaces where someone has none cached at all."""

    by_team: dict[str, list[str]]
    never_fetched: set[str]


def stale_participants(session: Session, *, now: datetime, ahead: timedelta, max_age: timedelta) -> StaleProfiles:
    """The participants of stand-ups due within `ahead` whose profile is missing or older than `max_age`: whose
    timezone must be asked of Slack before their prompt. One indexed query."""
    person = and_(Person.team_id == store.StandupParticipant.team_id,
                  Person.user_id == store.StandupParticipant.user_id)
    rows = session.execute(
        select(store.StandupParticipant.team_id, store.StandupParticipant.user_id, Person.id.is_(None))
        .join(store.Standup, store.Standup.id == store.StandupParticipant.standup_id)
        .outerjoin(Person, person)
        .where(*_due_soon(now, ahead), store.StandupParticipant.gone_since.is_(None),
               or_(Person.id.is_(None), Person.fetched_at < now - max_age))
        .distinct()
        .order_by(store.StandupParticipant.team_id, store.StandupParticipant.user_id))
    found = StaleProfiles({}, set())
    for team_id, user_id, missing in rows:
        found.by_team.setdefault(team_id, []).append(user_id)
        if missing:
            found.never_fetched.add(team_id)
    return found
