"""Sprints and their stories: what was committed, what changed, what got done."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import Boolean, Date, Float, ForeignKey, Index, Integer, String, UniqueConstraint, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from ceremonies import sprint as domain
from ceremonies.errors import InvalidInput, NotFound
from ceremonies.schedule import local_instant, zone
from storage import due, outbox, workspaces
from storage.models import SLACK_ID_LENGTH, Base


class Sprint(due.Scheduled, Base):
    """A team channel's sprint. At most one per channel is running (ended_at is null); `next_due_at` is when it
    ends by itself (the midnight after its last day, in its timezone) while it runs (storage.due)."""

    __tablename__ = "sprints"
    __due_kind__ = "sprint"
    __table_args__ = (
        UniqueConstraint("team_id", "channel_id", "name"),
        Index("ix_sprints_running", "team_id", "channel_id", "ended_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    channel_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    name: Mapped[str] = mapped_column(String(domain.SPRINT_NAME_LENGTH))
    goal: Mapped[str] = mapped_column(String(domain.SPRINT_GOAL_LENGTH), default="")
    timezone: Mapped[str] = mapped_column(String(64))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    started_at: Mapped[datetime]
    started_by: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    ended_at: Mapped[datetime | None]
    ended_by: Mapped[str | None] = mapped_column(String(SLACK_ID_LENGTH))

    def info(self) -> domain.SprintInfo:
        return domain.SprintInfo(
            name=self.name,
            goal=self.goal,
            starts_on=self.starts_on,
            ends_on=self.ends_on,
            started_at=self.started_at,
            ended_at=self.ended_at,
            facilitator_id=self.started_by,
        )


class SprintStory(Base):
    """A story of a sprint, or of the channel's next sprint while `sprint_id` is null."""

    __tablename__ = "sprint_stories"
    __table_args__ = (Index("ix_sprint_stories_sprint", "team_id", "channel_id", "sprint_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    channel_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    sprint_id: Mapped[int | None] = mapped_column(ForeignKey("sprints.id", ondelete="CASCADE"))
    key: Mapped[str | None] = mapped_column(String(domain.STORY_KEY_LENGTH))
    title: Mapped[str] = mapped_column(String(domain.STORY_TITLE_LENGTH), default="")
    points: Mapped[float] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(16))
    committed: Mapped[bool] = mapped_column(Boolean, default=True)
    added_at: Mapped[datetime]
    added_by: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    removed_at: Mapped[datetime | None]
    removed_by: Mapped[str | None] = mapped_column(String(SLACK_ID_LENGTH))
    completed_at: Mapped[datetime | None]
    completed_by: Mapped[str | None] = mapped_column(String(SLACK_ID_LENGTH))

    def story(self) -> domain.Story:
        return domain.Story(
            key=self.key or "",
            title=self.title,
            points=self.points,
            added_at=self.added_at,
            added_by=self.added_by,
            committed=self.committed,
            removed_at=self.removed_at,
            removed_by=self.removed_by,
            completed_at=self.completed_at,
            completed_by=self.completed_by,
        )


def running_sprint(session: Session, *, team_id: str, channel_id: str) -> Sprint | None:
    """The channel's sprint that has not ended, if any."""
    return session.scalar(
        select(Sprint).where(Sprint.team_id == team_id, Sprint.channel_id == channel_id, Sprint.ended_at.is_(None))
    )


def running_sprints(session: Session, *, team_id: str | None = None) -> list[Sprint]:
    """Every running sprint (of one workspace, or of all installed workspaces)."""
    query = select(Sprint).where(Sprint.ended_at.is_(None))
    if team_id is not None:
        query = query.where(Sprint.team_id == team_id)
    else:  # the scheduler's question: uninstalled workspaces are left alone
        query = query.where(workspaces.active_clause(Sprint.team_id))
    return list(session.scalars(query.order_by(Sprint.id)))


def running_sprints_in(session: Session, *, team_id: str, channel_ids: set[str]) -> list[Sprint]:
    """The running sprints of these team channels."""
    if not channel_ids:
        return []
    return list(
        session.scalars(
            select(Sprint)
            .where(Sprint.team_id == team_id, Sprint.channel_id.in_(channel_ids), Sprint.ended_at.is_(None))
            .order_by(Sprint.channel_id)
        )
    )


def channels_of(session: Session, *, team_id: str, user_id: str) -> set[str]:
    """Team channels whose sprints this person started or added stories to."""
    started = select(Sprint.channel_id).where(Sprint.team_id == team_id, Sprint.started_by == user_id)
    added = select(SprintStory.channel_id).where(SprintStory.team_id == team_id, SprintStory.added_by == user_id)
    return set(session.scalars(started.union(added)))


def sprint_named(session: Session, *, team_id: str, channel_id: str, name: str) -> Sprint:
    """The channel's sprint with this name (case-insensitive)."""
    found = session.scalar(
        select(Sprint).where(
            Sprint.team_id == team_id, Sprint.channel_id == channel_id, func.lower(Sprint.name) == name.lower()
        )
    )
    if found is None:
        raise NotFound(f"there is no sprint called “{name}” in this channel.")
    return found


def previous_sprint(session: Session, *, sprint: Sprint) -> Sprint | None:
    """The channel's sprint that started before this one, if any."""
    return session.scalar(
        select(Sprint)
        .where(Sprint.team_id == sprint.team_id, Sprint.channel_id == sprint.channel_id, Sprint.id != sprint.id,
               Sprint.started_at <= sprint.started_at)
        .order_by(Sprint.started_at.desc(), Sprint.id.desc())
        .limit(1)
    )


def start_sprint(
    session: Session,
    *,
    team_id: str,
    channel_id: str,
    plan: domain.SprintPlan,
    timezone: str,
    starts_on: date,
    by: str,
    now: datetime,
) -> Sprint:
    """Start a sprint; stories estimated since the last one ended become its committed stories."""
    current = running_sprint(session, team_id=team_id, channel_id=channel_id)
    if current is not None:
        raise InvalidInput(f"“{current.name}” is still running here; end it with `/sprint end` first.")
    taken = session.scalar(
        select(Sprint.id).where(
            Sprint.team_id == team_id, Sprint.channel_id == channel_id, func.lower(Sprint.name) == plan.name.lower()
        )
    )
    if taken is not None:
        raise InvalidInput(f"this channel already had a sprint called “{plan.name}”; pick another name.")
    sprint = Sprint(
        team_id=team_id,
        channel_id=channel_id,
        name=plan.name,
        goal=plan.goal,
        timezone=timezone,
        starts_on=starts_on,
        ends_on=plan.ends_on,
        started_at=now,
        started_by=by,
        next_due_at=ends_at(plan.ends_on, timezone),
    )
    session.add(sprint)
    session.flush()
    for story in session.scalars(
        select(SprintStory).where(
            SprintStory.team_id == team_id, SprintStory.channel_id == channel_id, SprintStory.sprint_id.is_(None)
        )
    ):
        story.sprint_id = sprint.id
        story.committed = True
    session.flush()
    return sprint


AUTO_END_BY = "cadence"  # who ended a sprint that ended by itself after its last day
SUMMARY, CHART, PARTICIPATION = "sprint.summary", "sprint.chart", "sprint.participation"


@dataclass(frozen=True)
class Reported:
    """A sprint report queued for the team channel: the summary, its burn-up chart in its thread, the facilitator's
    per-person figures."""

    sprint_id: int
    name: str
    channel_id: str
    summary_key: str


def _queue_report(session: Session, sprint: Sprint, *, at: datetime, suffix: str, now: datetime) -> Reported:
    # Rendered when delivered, always as of `at`: a retry sends the same figures, and the chart waits for its summary.
    args = {"sprint_id": sprint.id, "at": at.isoformat()}
    summary_key = f"{SUMMARY}:{sprint.id}{suffix}"
    common = dict(team_id=sprint.team_id, args=args, now=now)
    outbox.add(session, key=summary_key, kind=SUMMARY, channel=sprint.channel_id, render=SUMMARY, **common)
    outbox.add(session, key=f"{CHART}:{sprint.id}{suffix}", kind=CHART, channel=sprint.channel_id, render=CHART,
               ref_key=summary_key, **common)
    outbox.add(session, key=f"{PARTICIPATION}:{sprint.id}{suffix}", kind=PARTICIPATION, channel=sprint.started_by,
               render=PARTICIPATION, **common)
    return Reported(sprint.id, sprint.name, sprint.channel_id, summary_key)


def end_sprint(session: Session, *, sprint_id: int, by: str, now: datetime) -> Reported | None:
    """End the sprint and queue its final report, together; None when it had ended already (whoever ends it first,
    a person or the end-date job, is the only one)."""
    ended = session.execute(
        update(Sprint).where(Sprint.id == sprint_id, Sprint.ended_at.is_(None))
        .values(ended_at=now, ended_by=by, next_due_at=None)
        .returning(Sprint.id).execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    if ended is None:
        return None
    sprint = session.get(Sprint, sprint_id, populate_existing=True)
    assert sprint is not None
    return _queue_report(session, sprint, at=now, suffix="", now=now)


def end_running_sprint(session: Session, *, team_id: str, channel_id: str, by: str, now: datetime) -> Reported:
    """`/sprint end`: end the channel's running sprint and queue its final report."""
    sprint = running_sprint(session, team_id=team_id, channel_id=channel_id)
    ended = end_sprint(session, sprint_id=sprint.id, by=by, now=now) if sprint is not None else None
    if ended is None:
        raise NotFound("no sprint is running in this channel. Start one with `/sprint start`.")
    return ended


def report_so_far(session: Session, *, team_id: str, channel_id: str, request: str, now: datetime) -> Reported:
    """`/sprint summary`: queue the running sprint's report as of now (once per request, however often it arrives)."""
    sprint = running_sprint(session, team_id=team_id, channel_id=channel_id)
    if sprint is None:
        raise NotFound("no sprint is running in this channel. Start one with `/sprint start`.")
    return _queue_report(session, sprint, at=now, suffix=f":{request}", now=now)


def ends_at(ends_on: date, timezone: str) -> datetime:
    """When a sprint whose last day is `ends_on` ends by itself: the next midnight in its timezone."""
    return local_instant(ends_on + timedelta(days=1), time(0), zone(timezone))


def overdue_sprints(session: Session, *, now: datetime, limit: int = 200) -> list[int]:
    """Running sprints (of installed workspaces) whose last day is over in their timezone: they end by themselves.
    Claimed for this process (storage.due), found by their indexed end moment."""
    return [s.id for s in due.claim(session, Sprint, now=now, limit=limit, where=[Sprint.ended_at.is_(None)])
            if domain.is_over(ends_on=s.ends_on, timezone=s.timezone, now=now)]


def sprint_by_id(session: Session, *, sprint_id: int) -> Sprint | None:
    """The sprint with this id, if it still exists."""
    return session.get(Sprint, sprint_id)


def add_story(
    session: Session,
    *,
    team_id: str,
    channel_id: str,
    key: str | None,
    title: str,
    points: float,
    by: str,
    now: datetime,
    source: str,
) -> SprintStory:
    """Add an estimated story to the running sprint (a scope change) or, with none running, to the next one.

    A story already in that sprint (same key, or same title without a key) gets the new estimate instead.
    """
    sprint = running_sprint(session, team_id=team_id, channel_id=channel_id)
    sprint_id = sprint.id if sprint is not None else None
    existing = _story(session, team_id=team_id, channel_id=channel_id, sprint_id=sprint_id, key=key, title=title)
    if existing is not None and existing.removed_at is None:
        existing.points = points
        session.flush()
        return existing
    story = SprintStory(
        team_id=team_id,
        channel_id=channel_id,
        sprint_id=sprint_id,
        key=key,
        title=title[: domain.STORY_TITLE_LENGTH],
        points=points,
        source=source,
        committed=sprint is None or not domain.is_scope_change(sprint_started_at=sprint.started_at, added_at=now),
        added_at=now,
        added_by=by,
    )
    session.add(story)
    session.flush()
    return story


def add_running_story(session: Session, *, team_id: str, channel_id: str, addition: domain.StoryAddition, by: str,
                      now: datetime) -> SprintStory:
    """`/sprint add`: a story added to the running sprint by hand (a scope change once the sprint started)."""
    if running_sprint(session, team_id=team_id, channel_id=channel_id) is None:
        raise InvalidInput("no sprint is running in this channel. Start one with `/sprint start`.")
    return add_story(session, team_id=team_id, channel_id=channel_id, key=addition.key, title=addition.title,
                     points=addition.points, by=by, now=now, source="manual")


def _story(
    session: Session, *, team_id: str, channel_id: str, sprint_id: int | None, key: str | None, title: str
) -> SprintStory | None:
    query = select(SprintStory).where(SprintStory.team_id == team_id, SprintStory.channel_id == channel_id)
    query = query.where(SprintStory.sprint_id == sprint_id if sprint_id is not None else SprintStory.sprint_id.is_(None))
    if key:
        query = query.where(func.upper(SprintStory.key) == key.upper())
    else:
        query = query.where(SprintStory.key.is_(None), SprintStory.title == title)
    return session.scalars(query.order_by(SprintStory.id.desc())).first()


def running_story(session: Session, *, team_id: str, channel_id: str, key: str) -> SprintStory:
    """A story of the running sprint by its key."""
    sprint = running_sprint(session, team_id=team_id, channel_id=channel_id)
    if sprint is None:
        raise NotFound("no sprint is running in this channel. Start one with `/sprint start`.")
    story = _story(session, team_id=team_id, channel_id=channel_id, sprint_id=sprint.id, key=key, title="")
    if story is None or story.removed_at is not None:
        raise NotFound(f"{key} is not a story of “{sprint.name}”.")
    return story


def complete_story(session: Session, *, team_id: str, channel_id: str, key: str, by: str, now: datetime) -> SprintStory:
    """Mark a story of the running sprint done (doing it twice keeps the first time)."""
    story = running_story(session, team_id=team_id, channel_id=channel_id, key=key)
    if story.completed_at is None:
        story.completed_at = now
        story.completed_by = by
        session.flush()
    return story


def remove_story(session: Session, *, team_id: str, channel_id: str, key: str, by: str, now: datetime) -> SprintStory:
    """Take a story out of the running sprint's scope (a scope change)."""
    story = running_story(session, team_id=team_id, channel_id=channel_id, key=key)
    story.removed_at = now
    story.removed_by = by
    session.flush()
    return story


def stories(session: Session, *, team_id: str, sprint_id: int) -> list[SprintStory]:
    """The sprint's stories in the order they were added."""
    return list(
        session.scalars(
            select(SprintStory)
            .where(SprintStory.team_id == team_id, SprintStory.sprint_id == sprint_id)
            .order_by(SprintStory.added_at, SprintStory.id)
        )
    )


def previous_velocities(session: Session, *, team_id: str, channel_id: str, before: Sprint, limit: int = 3) -> list[float]:
    """Completed points of the channel's ended sprints before `before`, newest first, in one query."""
    done = func.coalesce(
        func.sum(SprintStory.points).filter(SprintStory.completed_at.is_not(None), SprintStory.removed_at.is_(None)),
        0.0,
    )
    rows = session.execute(
        select(Sprint.id, done)
        .outerjoin(SprintStory, SprintStory.sprint_id == Sprint.id)
        .where(
            Sprint.team_id == team_id,
            Sprint.channel_id == channel_id,
            Sprint.ended_at.is_not(None),
            Sprint.starts_on <= before.starts_on,
            Sprint.id != before.id,
        )
        .group_by(Sprint.id, Sprint.starts_on)
        .order_by(Sprint.starts_on.desc(), Sprint.id.desc())
        .limit(limit)
    ).all()
    return [float(points) for _id, points in rows]


def velocity_history(session: Session, *, team_id: str, channel_id: str, limit: int = 26) -> list[tuple[str, float, float]]:
    """(sprint name, committed points, completed points) of the channel's last `limit` sprints, oldest first."""
    committed = func.coalesce(func.sum(SprintStory.points).filter(SprintStory.committed.is_(True)), 0.0)
    done = func.coalesce(
        func.sum(SprintStory.points).filter(SprintStory.completed_at.is_not(None), SprintStory.removed_at.is_(None)),
        0.0,
    )
    rows = session.execute(
        select(Sprint.name, committed, done)
        .outerjoin(SprintStory, SprintStory.sprint_id == Sprint.id)
        .where(Sprint.team_id == team_id, Sprint.channel_id == channel_id)
        .group_by(Sprint.id, Sprint.name, Sprint.starts_on)
        .order_by(Sprint.starts_on.desc(), Sprint.id.desc())
        .limit(limit)
    ).all()
    return [(name, float(c), float(d)) for name, c, d in reversed(rows)]


def facilitator_of(session: Session, *, team_id: str, channel_id: str) -> str | None:
    """Who started the channel's running sprint (for other ceremonies asking who facilitates the team)."""
    sprint = running_sprint(session, team_id=team_id, channel_id=channel_id)
    return sprint.started_by if sprint is not None else None


def earlier_sprints(session: Session, *, sprint: Sprint, limit: int = 6) -> list[tuple[Sprint, list[SprintStory]]]:
    """The channel's ended sprints that started before this one, newest first, each with its stories (two queries)."""
    earlier = list(
        session.scalars(
            select(Sprint)
            .where(Sprint.team_id == sprint.team_id, Sprint.channel_id == sprint.channel_id, Sprint.id != sprint.id,
                   Sprint.ended_at.is_not(None), Sprint.starts_on <= sprint.starts_on)
            .order_by(Sprint.starts_on.desc(), Sprint.id.desc())
            .limit(limit)
        )
    )
    if not earlier:
        return []
    rows = session.scalars(
        select(SprintStory)
        .where(SprintStory.team_id == sprint.team_id, SprintStory.sprint_id.in_([s.id for s in earlier]))
        .order_by(SprintStory.id)
    )
    by_sprint: dict[int, list[SprintStory]] = {s.id: [] for s in earlier}
    for row in rows:
        by_sprint[row.sprint_id or 0].append(row)
    return [(s, by_sprint[s.id]) for s in earlier]


def latest_sprint(session: Session, *, team_id: str, channel_id: str) -> Sprint | None:
    """The channel's most recently started sprint, if any."""
    return session.scalar(select(Sprint).where(Sprint.team_id == team_id, Sprint.channel_id == channel_id)
                          .order_by(Sprint.started_at.desc(), Sprint.id.desc()).limit(1))


# -- for the sprint review (storage/review.py) ------------------------------------------------------------------------
def sprints_to_review(session: Session, *, team_id: str, channel_id: str) -> list[Sprint]:
    """The sprints a review in this channel may be about: the running one, then the one that ended last."""
    running = running_sprint(session, team_id=team_id, channel_id=channel_id)
    ended = session.scalar(
        select(Sprint).where(Sprint.team_id == team_id, Sprint.channel_id == channel_id, Sprint.ended_at.is_not(None))
        .order_by(Sprint.ended_at.desc(), Sprint.id.desc()).limit(1)
    )
    return [s for s in (running, ended) if s is not None]


def add_next_story(session: Session, *, team_id: str, channel_id: str, title: str, by: str, now: datetime,
                   source: str) -> SprintStory:
    """Add a story, not yet estimated, to the backlog of the channel's next sprint (the one `/sprint start` begins
    next): it becomes one of that sprint's committed stories (0 points until it is estimated under the same title)."""
    story = SprintStory(team_id=team_id, channel_id=channel_id, sprint_id=None, key=None,
                        title=title[: domain.STORY_TITLE_LENGTH], points=0.0, source=source, committed=True,
                        added_at=now, added_by=by)
    session.add(story)
    session.flush()
    return story
