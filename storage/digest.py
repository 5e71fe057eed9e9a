"""The executive digest's rows and use cases: its weekly schedule and recipients, the figures it rolls up across a
workspace's team channels, and the signed, expiring, revocable links of the read-only report pages."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, String, Time, UniqueConstraint, delete, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from ceremonies import digest as domain
from storage import blockers, outbox, risks, sprint_figures, workspaces
from storage import sprint as sprints
from storage.models import SLACK_ID_LENGTH, Base, Workspace

KIND_LENGTH = 16
PUBLIC_ID_LENGTH = 32
DIGEST, CHART = "digest", "digest.chart"


class DigestSchedule(Base):
    """A workspace's weekly digest: when it goes out next (`next_due_at`, indexed: "what is due now?")."""

    __tablename__ = "digest_schedules"
    __table_args__ = (UniqueConstraint("team_id"), Index("ix_digest_schedules_due", "next_due_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    weekday: Mapped[int] = mapped_column(Integer)
    send_time: Mapped[time] = mapped_column(Time)
    timezone: Mapped[str] = mapped_column(String(domain.TIMEZONE_LIMIT))
    next_due_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    updated_at: Mapped[datetime]


class DigestRecipient(Base):
    """A channel or a person the digest goes to."""

    __tablename__ = "digest_recipients"
    __table_args__ = (UniqueConstraint("schedule_id", "conversation_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    schedule_id: Mapped[int] = mapped_column(ForeignKey("digest_schedules.id", ondelete="CASCADE"))
    conversation_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))


class ReportLink(Base):
    """A link to a read-only report page: the workspace's digest, or one sprint's report. Only its id travels in the
    URL, with a signature over the id, the workspace, the page and the expiry; revoking sets `revoked_at`."""

    __tablename__ = "report_links"
    __table_args__ = (UniqueConstraint("public_id"), Index("ix_report_links_team", "team_id", "revoked_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(PUBLIC_ID_LENGTH))
    team_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    kind: Mapped[str] = mapped_column(String(KIND_LENGTH))
    sprint_id: Mapped[int | None] = mapped_column(ForeignKey("sprints.id", ondelete="CASCADE"))
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    revoked_by: Mapped[str | None] = mapped_column(String(SLACK_ID_LENGTH))


# -- the schedule ---------------------------------------------------------------------------------------------------


def schedule_of(session: Session, *, team_id: str) -> tuple[DigestSchedule, list[str]] | None:
    """The workspace's digest schedule and its recipients (channels and people), if it has one."""
    row = session.scalar(select(DigestSchedule).where(DigestSchedule.team_id == team_id))
    if row is None:
        return None
    recipients = session.scalars(select(DigestRecipient.conversation_id).where(DigestRecipient.schedule_id == row.id)
                                 .order_by(DigestRecipient.id))
    return row, list(recipients)


def save_schedule(session: Session, *, team_id: str, settings: domain.DigestSettings, by: str, now: datetime
                  ) -> DigestSchedule:
    """Store who gets the digest and when; the next one is due at the next such weekday and time."""
    found = schedule_of(session, team_id=team_id)
    row = found[0] if found is not None else DigestSchedule(team_id=team_id)
    row.weekday = settings.weekday
    row.send_time = settings.at
    row.timezone = settings.timezone
    row.next_due_at = domain.next_due(weekday=settings.weekday, at=settings.at, timezone=settings.timezone, after=now)
    row.updated_by = by
    row.updated_at = now
    session.add(row)
    session.flush()
    session.execute(delete(DigestRecipient).where(DigestRecipient.schedule_id == row.id))
    for conversation in settings.recipients:
        session.add(DigestRecipient(team_id=team_id, schedule_id=row.id, conversation_id=conversation))
    session.flush()
    return row


def due_schedules(session: Session, *, now: datetime, limit: int = 200) -> list[tuple[int, datetime]]:
    """(schedule id, due time) of digests due now, of installed workspaces (by the indexed next_due_at)."""
    rows = session.execute(
        select(DigestSchedule.id, DigestSchedule.next_due_at)
        .where(DigestSchedule.next_due_at <= now, workspaces.active_clause(DigestSchedule.team_id))
        .order_by(DigestSchedule.next_due_at).limit(limit)
    )
    return [(schedule_id, due) for schedule_id, due in rows]


@dataclass(frozen=True)
class QueuedDigest:
    team_id: str
    link_public_id: str
    keys: tuple[str, ...]


def queue_due_digest(session: Session, *, schedule_id: int, due_at: datetime, now: datetime, link_days: int
                     ) -> QueuedDigest | None:
    """Send one due digest: move the schedule on a week (only one process wins that), create the week's page link
    and queue the message and its chart for every recipient, in this one transaction. None when another process
    already took this week's digest."""
    row = session.get(DigestSchedule, schedule_id)
    if row is None:
        return None
    following = domain.next_due(weekday=row.weekday, at=row.send_time, timezone=row.timezone, after=max(now, due_at))
    taken = session.execute(
        update(DigestSchedule).where(DigestSchedule.id == schedule_id, DigestSchedule.next_due_at == due_at)
        .values(next_due_at=following).returning(DigestSchedule.id).execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    if taken is None:
        return None
    found = schedule_of(session, team_id=row.team_id)
    recipients = found[1] if found is not None else []
    link = create_link(session, team_id=row.team_id, kind=DIGEST, sprint_id=None, by="cadence", now=now,
                       days=link_days)
    week = due_at.isoformat()
    keys = []
    for conversation in recipients:
        key = f"{DIGEST}:{schedule_id}:{week}:{conversation}"
        args = {"team_id": row.team_id, "at": now.isoformat(), "link": link.public_id}
        outbox.add(session, team_id=row.team_id, key=key, kind=DIGEST, channel=conversation, render=DIGEST,
                   args=args, now=now)
        outbox.add(session, team_id=row.team_id, key=f"{CHART}:{schedule_id}:{week}:{conversation}", kind=CHART,
                   channel=conversation, render=CHART, ref_key=key, args=args, now=now)
        keys.append(key)
    return QueuedDigest(row.team_id, link.public_id, tuple(keys))


# -- links ----------------------------------------------------------------------------------------------------------


class LinkState(StrEnum):
    OK = "ok"
    UNKNOWN = "unknown"  # no such link, or a signature that does not match (forged, or another workspace's)
    EXPIRED = "expired"
    REVOKED = "revoked"


def _signature(secret: bytes, link: ReportLink) -> str:
    expires = int(link.expires_at.timestamp())
    message = f"{link.public_id}|{link.team_id}|{link.kind}|{link.sprint_id or ''}|{expires}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()[:32]


def token_of(secret: bytes, link: ReportLink) -> str:
    """The URL token of a link: its public id and its signature."""
    return f"{link.public_id}.{_signature(secret, link)}"


def create_link(session: Session, *, team_id: str, kind: str, sprint_id: int | None, by: str, now: datetime,
                days: int) -> ReportLink:
    """A new page link of this workspace, valid for `days`."""
    link = ReportLink(public_id=secrets.token_urlsafe(16), team_id=team_id, kind=kind, sprint_id=sprint_id,
                      created_at=now, created_by=by, expires_at=now + timedelta(days=days))
    session.add(link)
    session.flush()
    return link


def link_by_public_id(session: Session, *, public_id: str) -> ReportLink | None:
    return session.scalar(select(ReportLink).where(ReportLink.public_id == public_id))


def check_token(session: Session, *, secret: bytes, token: str, now: datetime) -> tuple[LinkState, ReportLink | None]:
    """Whether a page token opens its page: its link exists, the signature matches, it is not revoked or expired."""
    public_id, _, signature = token.partition(".")
    if not public_id or len(public_id) > PUBLIC_ID_LENGTH or not signature:
        return LinkState.UNKNOWN, None
    link = link_by_public_id(session, public_id=public_id)
    if link is None or not hmac.compare_digest(_signature(secret, link), signature):
        return LinkState.UNKNOWN, None
    if link.revoked_at is not None:
        return LinkState.REVOKED, link
    if link.expires_at <= now:
        return LinkState.EXPIRED, link
    return LinkState.OK, link


def revoke(session: Session, *, team_id: str, by: str, now: datetime, public_id: str | None = None) -> int:
    """Revoke one of the workspace's links (by its public id) or every live one; how many were revoked. Another
    workspace's link is never touched."""
    query = update(ReportLink).where(ReportLink.team_id == team_id, ReportLink.revoked_at.is_(None))
    if public_id is not None:
        query = query.where(ReportLink.public_id == public_id)
    result = session.execute(query.values(revoked_at=now, revoked_by=by).returning(ReportLink.id)
                             .execution_options(synchronize_session=False))
    return len(result.all())


def sprint_link(session: Session, *, team_id: str, sprint_id: int, by: str, now: datetime, days: int) -> ReportLink:
    """A live link to a sprint's report page: the newest one still valid for a week, or a new one."""
    existing = session.scalar(
        select(ReportLink).where(ReportLink.team_id == team_id, ReportLink.kind == "sprint",
                                 ReportLink.sprint_id == sprint_id, ReportLink.revoked_at.is_(None),
                                 ReportLink.expires_at > now + timedelta(days=7))
        .order_by(ReportLink.expires_at.desc()).limit(1)
    )
    return existing or create_link(session, team_id=team_id, kind="sprint", sprint_id=sprint_id, by=by, now=now,
                                   days=days)


# -- the figures ----------------------------------------------------------------------------------------------------


def team_sprints(session: Session, *, team_id: str, now: datetime) -> list[sprints.Sprint]:
    """Each team channel's sprint for the digest: the running one, or one that ended in the last two weeks."""
    recent = now - timedelta(days=domain.RECENT_SPRINT_DAYS)
    rows = session.scalars(
        select(sprints.Sprint).where(sprints.Sprint.team_id == team_id,
                                     (sprints.Sprint.ended_at.is_(None)) | (sprints.Sprint.ended_at >= recent),
                                     sprints.Sprint.started_at <= now)
        .order_by(sprints.Sprint.channel_id, sprints.Sprint.started_at.desc(), sprints.Sprint.id.desc())
    )
    chosen: dict[str, sprints.Sprint] = {}
    for sprint in rows:
        current = chosen.get(sprint.channel_id)
        if current is None or (current.ended_at is not None and sprint.ended_at is None):
            chosen[sprint.channel_id] = sprint
    return list(chosen.values())


def team_status(session: Session, *, sprint: sprints.Sprint, now: datetime, default_timezone: str
                ) -> domain.TeamStatus:
    """One team channel's line of the digest."""
    team_id, channel_id = sprint.team_id, sprint.channel_id
    summary = sprint_figures.summary(session, sprint=sprint, now=now)
    history = sprints.velocity_history(session, team_id=team_id, channel_id=channel_id,
                                       limit=domain.VELOCITY_SPRINTS)
    tracker = blockers.tracker_settings(session, team_id=team_id, channel_id=channel_id,
                                        default_timezone=default_timezone)
    aged = blockers.aged(session, blockers.open_blockers(session, team_id=team_id, channel_id=channel_id),
                         team_id=team_id, timezone=tracker.timezone, now=now)
    old = sorted((a for a in aged if a.age / timedelta(days=1) > tracker.threshold_days),
                 key=lambda a: a.age, reverse=True)
    return domain.TeamStatus(
        channel_id=channel_id,
        summary=summary,
        velocities=tuple((name, done) for name, _committed, done in history),
        risks=tuple(risks.top_open(session, team_id=team_id, channel_id=channel_id, limit=domain.TOP_RISKS, now=now)),
        old_blockers=tuple(domain.AgedBlockerLine(a.blocker.id, a.blocker.text, a.age / timedelta(days=1))
                           for a in old),
        blocker_threshold_days=tracker.threshold_days,
    )


def digest(session: Session, *, team_id: str, now: datetime, default_timezone: str) -> domain.Digest:
    """The roll-up of every team channel of the workspace as of `now` (red teams first)."""
    workspace = session.get(Workspace, team_id)
    teams = [team_status(session, sprint=s, now=now, default_timezone=default_timezone)
             for s in team_sprints(session, team_id=team_id, now=now)]
    return domain.Digest(team_id=team_id, workspace_name=workspace.name if workspace is not None else "",
                         as_of=now, teams=tuple(sorted(teams, key=lambda t: t.rank)))
