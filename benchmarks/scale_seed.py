"""Many installed workspaces, seeded fast for the scale benchmarks (issue 16): rows as the storage layer writes them,
inserted in bulk.

Each workspace: two stand-ups (C1, C2) of 10 people each with the default questions, every participant's profile
cached, a running sprint, three open blockers and two open polls. Workspaces are spread over timezones around the
world; each stand-up's `next_due_at` is what its job computes (its next prompt), or a given moment for the rush.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import insert, text

from ceremonies import standup as domain
from storage import blockers, polls, sprint, workspace_data
from storage import standup as store
from storage.db import Database
from storage.models import Person, Workspace

ZONES = ("Europe/Berlin", "America/New_York", "Asia/Tokyo", "Europe/London", "America/Los_Angeles", "Asia/Kolkata",
         "Australia/Sydney", "America/Sao_Paulo", "Africa/Lagos", "Pacific/Auckland")
PEOPLE_PER_STANDUP = 10
CHUNK = 5000


def team_id(n: int) -> str:
    return f"T{n:06d}"


def _chunks(rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), CHUNK):
        yield rows[start:start + CHUNK]


def _insert(session: Any, table: Any, rows: list[dict[str, Any]]) -> None:
    for chunk in _chunks(rows):
        session.execute(insert(table), chunk)


def next_prompt(zone: str, now: datetime, *, local_time: time = domain.DEFAULT_TIME) -> datetime:
    """The stand-up's next prompt after `now` when today's (and yesterday's) already went out."""
    config = domain.StandupConfig(channel_id="C", report_channel_id="C", participants=("U",),
                                  questions=domain.default_questions(), local_time=local_time)
    today = now.astimezone(domain.zone(zone)).date()
    moment = domain.next_prompt_at(config, [domain.Participant("U", zone)], now=now,
                                   prompted={("U", today), ("U", today - timedelta(days=1))})
    assert moment is not None
    return moment


def seed(database: Database, teams: Iterable[int], now: datetime, *, standup_due: datetime | None = None,
         people_per_standup: int = PEOPLE_PER_STANDUP, standups_per_team: int = 2, extras: bool = True) -> None:
    """Seed the workspaces numbered `teams` at `now`. `standup_due`: every stand-up due then (the rush), with its
    participants all in Europe/Berlin; otherwise each is due at its next prompt in its workspace's timezone."""
    questions = domain.default_questions()
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in (
        "workspaces", "standups", "people", "sprints", "blockers", "polls")}
    participants: list[tuple[str, str, str]] = []  # team, channel, user
    for n in teams:
        team = team_id(n)
        zone = "Europe/Berlin" if standup_due is not None else ZONES[n % len(ZONES)]
        rows["workspaces"].append({"team_id": team, "name": f"Team {n}", "installed_at": now})
        for c in range(standups_per_team):
            channel = f"C{c + 1}"
            rows["standups"].append({
                "team_id": team, "channel_id": channel, "report_channel_id": channel, "owner_id": "U0000",
                "usergroup_id": None, "days": "0,1,2,3,4", "local_time_minute": 9 * 60 + 30,
                "window_end_minute": 17 * 60, "reminder_delay_minutes": 120, "timezone_mode": "person",
                "team_timezone": "UTC", "report_style": "thread", "paused": False, "created_at": now,
                "updated_at": now, "next_due_at": standup_due or next_prompt(zone, now)})
            for k in range(people_per_standup):
                user = f"U{c}{k:03d}"
                participants.append((team, channel, user))
                rows["people"].append({"team_id": team, "user_id": user, "display_name": user, "timezone": zone,
                                       "is_deleted": False, "is_bot": False, "is_admin": False, "is_owner": False,
                                       "fetched_at": now})
        if extras:
            rows["sprints"].append({
                "team_id": team, "channel_id": "C1", "name": "Sprint 1", "goal": "", "timezone": zone,
                "starts_on": now.date(), "ends_on": now.date() + timedelta(days=9), "started_at": now,
                "started_by": "U0000", "next_due_at": sprint.ends_at(now.date() + timedelta(days=9), zone)})
            for b in range(3):
                rows["blockers"].append({
                    "team_id": team, "channel_id": "C1", "reporter_id": "U0000", "text": f"blocked {b}",
                    "source": "command", "created_at": now, "status": "open", "escalation_level": 0,
                    "escalation_count": 0, "next_due_at": datetime.combine(now.date() + timedelta(days=1),
                                                                           time(9, 30), now.tzinfo)})
            for p in range(2):
                rows["polls"].append({
                    "team_id": team, "channel_id": "C1", "creator_id": "U0000", "question": f"poll {p}",
                    "multi": False, "anonymous": False, "created_at": now, "closes_at": now + timedelta(days=1),
                    "next_due_at": now + timedelta(days=1)})
    with database.transaction() as session:
        _insert(session, Workspace.__table__, rows["workspaces"])
        _insert(session, store.Standup.__table__, rows["standups"])
        _insert(session, Person.__table__, rows["people"])
        if extras:
            _insert(session, sprint.Sprint.__table__, rows["sprints"])
            _insert(session, blockers.Blocker.__table__, rows["blockers"])
            _insert(session, polls.Poll.__table__, rows["polls"])
    seeded = {r["team_id"] for r in rows["workspaces"]}
    with database.transaction() as session:
        ids = {(t, c): i for i, t, c in session.execute(
            text("SELECT id, team_id, channel_id FROM standups"))}
        _insert(session, store.StandupParticipant.__table__, [
            {"team_id": t, "standup_id": ids[(t, c)], "user_id": u, "via_usergroup": False}
            for t, c, u in participants])
        _insert(session, store.StandupQuestion.__table__, [
            {"team_id": t, "standup_id": i, "position": p, "text": q.text, "is_blocker": q.is_blocker,
             "required": q.required}
            for (t, _c), i in ids.items() if t in seeded for p, q in enumerate(questions)])
        if extras:
            poll_ids = [(i, t) for i, t in session.execute(text("SELECT id, team_id FROM polls")) if t in seeded]
            _insert(session, polls.PollOption.__table__, [
                {"team_id": t, "poll_id": i, "position": k, "text": f"option {k}"} for i, t in poll_ids for k in (0, 1)])
    if database.dialect == "postgresql":
        with database.engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))


def empty(database: Database) -> None:
    """Delete every seeded row (all workspaces' tables)."""
    with database.transaction() as session:
        for table in reversed(workspace_data.workspace_tables()):
            session.execute(table.delete())
