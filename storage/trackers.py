"""Jira and GitHub connections and what Cadence keeps of the trackers, as rows.

- `tracker_connections`: a workspace's connection to Jira or GitHub; its credentials and webhook secret are stored
  encrypted (the bot encrypts them with CADENCE_ENCRYPTION_KEY before they get here) and never exported;
- `tracker_stories`: the issue behind a poker story imported from a tracker;
- `tracker_writes`: the tracker's own outbox — estimates to write back and issues to create, each claimed by one
  worker (`claim_writes`, SKIP LOCKED on Postgres), retried with backoff or the tracker's Retry-After, never lost;
- `tracker_sprints`: a sprint that follows a Jira sprint or a GitHub milestone, synced when `next_sync_at` is due;
- `tracker_action_issues`: the issue created for a retro action item, whose closing marks the item done.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint, and_, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from ceremonies import trackers as domain
from storage import workspaces
from storage.models import CLAIM_KEY_LENGTH, SLACK_ID_LENGTH, Base

CIPHERTEXT_LENGTH = 4000  # a Fernet ciphertext of credentials up to ~2,800 characters
ERROR_LENGTH = 500
# Columns an export leaves out (storage/workspace_data.py): credentials, even encrypted, never leave the database.
SECRET_COLUMNS: dict[str, tuple[str, ...]] = {"tracker_connections": ("secret", "webhook_secret")}
PENDING, WRITTEN, FAILED = "pending", "written", "failed"
ESTIMATE, ISSUE, FOLLOW_UP = "estimate", "issue", "follow_up"


WORKSPACE = ""  # the channel_id of a connection for the whole workspace


class TrackerConnection(Base):
    """A workspace (or one team channel) connected to Jira or GitHub: where, as whom, and the encrypted
    credentials. A team channel's own connection wins over the workspace's there."""

    __tablename__ = "tracker_connections"
    __table_args__ = (UniqueConstraint("team_id", "kind", "channel_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    kind: Mapped[str] = mapped_column(String(16))
    channel_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH), default=WORKSPACE)
    site_url: Mapped[str] = mapped_column(String(domain.URL_MAX), default="")
    account: Mapped[str] = mapped_column(String(domain.ACCOUNT_MAX), default="")  # who the token is, for people
    secret: Mapped[str] = mapped_column(String(CIPHERTEXT_LENGTH))  # encrypted credentials
    webhook_secret: Mapped[str] = mapped_column(String(CIPHERTEXT_LENGTH))  # encrypted
    project: Mapped[str] = mapped_column(String(domain.PROJECT_MAX), default="")
    connected_by: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    connected_at: Mapped[datetime]


class TrackerStory(Base):
    """The tracker issue a poker story was imported from."""

    __tablename__ = "tracker_stories"
    __table_args__ = (UniqueConstraint("story_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    story_id: Mapped[int] = mapped_column(ForeignKey("poker_stories.id", ondelete="CASCADE"))
    channel_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))  # the session's: whose connection writes back
    kind: Mapped[str] = mapped_column(String(16))
    ref: Mapped[str] = mapped_column(String(200))  # the Jira key, or owner/repo#number
    issue_key: Mapped[str] = mapped_column(String(64))
    url: Mapped[str] = mapped_column(String(domain.URL_MAX), default="")


class TrackerWrite(Base):
    """One change to make in a tracker (an estimate, a new issue), delivered by bot/jobs/trackers.py."""

    __tablename__ = "tracker_writes"
    __table_args__ = (
        Index("ix_tracker_writes_key", "key", unique=True),
        Index("ix_tracker_writes_due", "state", "due_at"),
        Index("ix_tracker_writes_target", "team_id", "what", "target_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    key: Mapped[str] = mapped_column(String(CLAIM_KEY_LENGTH))
    what: Mapped[str] = mapped_column(String(16))  # estimate or issue
    kind: Mapped[str] = mapped_column(String(16))  # jira or github
    target_id: Mapped[int] = mapped_column(Integer)  # the poker story or the retro action item
    args: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(16), default=PENDING)
    due_at: Mapped[datetime]
    created_at: Mapped[datetime]
    lease_until: Mapped[datetime | None]
    claim_token: Mapped[str | None] = mapped_column(String(32))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(ERROR_LENGTH))
    done_at: Mapped[datetime | None]


class TrackerSprint(Base):
    """A sprint following a Jira sprint or a GitHub milestone; synced whenever `next_sync_at` is due."""

    __tablename__ = "tracker_sprints"
    __table_args__ = (UniqueConstraint("sprint_id"), Index("ix_tracker_sprints_due", "next_sync_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    sprint_id: Mapped[int] = mapped_column(ForeignKey("sprints.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    board_id: Mapped[int] = mapped_column(Integer, default=0)
    tracker_sprint_id: Mapped[int] = mapped_column(Integer, default=0)
    repo: Mapped[str] = mapped_column(String(200), default="")
    milestone: Mapped[int] = mapped_column(Integer, default=0)
    next_sync_at: Mapped[datetime | None]  # None once the sprint ended
    last_synced_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(ERROR_LENGTH))

    def link(self) -> domain.SprintLink:
        return domain.SprintLink(domain.Kind(self.kind), self.board_id, self.tracker_sprint_id, self.repo,
                                 self.milestone)


class TrackerActionIssue(Base):
    """The tracker issue created for a retro action item; its closing marks the item done."""

    __tablename__ = "tracker_action_issues"
    __table_args__ = (UniqueConstraint("action_item_id"), Index("ix_tracker_action_issues_due", "next_sync_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    action_item_id: Mapped[int] = mapped_column(ForeignKey("retro_action_items.id", ondelete="CASCADE"))
    channel_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))  # the item's team channel
    kind: Mapped[str] = mapped_column(String(16))
    ref: Mapped[str] = mapped_column(String(200))
    issue_key: Mapped[str] = mapped_column(String(64))
    url: Mapped[str] = mapped_column(String(domain.URL_MAX), default="")
    closed: Mapped[bool] = mapped_column(Boolean, default=False)
    next_sync_at: Mapped[datetime | None]  # None once closed


def _insert(session: Session) -> Any:
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


# -- connections ------------------------------------------------------------------------------------------------------
def connection(session: Session, *, team_id: str, kind: domain.Kind, channel_id: str = WORKSPACE
               ) -> TrackerConnection | None:
    """The connection that serves `channel_id`: its own, else the workspace's."""
    return session.scalars(
        select(TrackerConnection)
        .where(TrackerConnection.team_id == team_id, TrackerConnection.kind == kind.value,
               TrackerConnection.channel_id.in_({channel_id, WORKSPACE}))
        .order_by(TrackerConnection.channel_id.desc())  # the channel's own ("C…") before the workspace's ("")
    ).first()


def own_connection(session: Session, *, team_id: str, kind: domain.Kind, channel_id: str) -> TrackerConnection | None:
    """The connection made for exactly this scope (a channel, or WORKSPACE)."""
    return session.scalar(select(TrackerConnection).where(
        TrackerConnection.team_id == team_id, TrackerConnection.kind == kind.value,
        TrackerConnection.channel_id == channel_id))


def connected_kinds(session: Session, *, team_id: str, channel_id: str = WORKSPACE) -> list[domain.Kind]:
    """The trackers that serve the channel (its own connections and the workspace's)."""
    return [domain.Kind(k) for k in sorted(set(session.scalars(
        select(TrackerConnection.kind).where(TrackerConnection.team_id == team_id,
                                             TrackerConnection.channel_id.in_({channel_id, WORKSPACE})))))]


def save_connection(session: Session, *, team_id: str, kind: domain.Kind, channel_id: str, site_url: str,
                    account: str, secret: str, webhook_secret: str, project: str, by: str,
                    now: datetime) -> TrackerConnection:
    """Connect the workspace (WORKSPACE) or one team channel to the tracker, replacing an earlier connection of that
    scope (its webhook secret is kept, so the tracker's webhook keeps working)."""
    row = own_connection(session, team_id=team_id, kind=kind, channel_id=channel_id)
    if row is None:
        row = TrackerConnection(team_id=team_id, kind=kind.value, channel_id=channel_id,
                                webhook_secret=webhook_secret)
        session.add(row)
    row.site_url, row.account, row.secret, row.project = site_url, account[: domain.ACCOUNT_MAX], secret, project
    row.connected_by, row.connected_at = by, now
    session.flush()
    return row


def delete_connection(session: Session, *, team_id: str, kind: domain.Kind, channel_id: str) -> str | None:
    """Remove the connection serving the channel (its own, else the workspace's); the scope removed, or None."""
    row = connection(session, team_id=team_id, kind=kind, channel_id=channel_id)
    if row is None:
        return None
    scope = row.channel_id
    session.delete(row)
    session.flush()
    return scope


# -- poker stories from a tracker -------------------------------------------------------------------------------------
def link_stories(session: Session, *, team_id: str, channel_id: str, kind: domain.Kind, story_ids: list[int],
                 issues: tuple[domain.TrackerIssue, ...]) -> None:
    """Remember the issue behind each imported story (same order)."""
    for story_id, issue in zip(story_ids, issues, strict=True):
        session.add(TrackerStory(team_id=team_id, story_id=story_id, channel_id=channel_id, kind=kind.value,
                                 ref=issue.ref,
                                 issue_key=issue.key[:64], url=issue.url[: domain.URL_MAX]))
    session.flush()


def story_issue(session: Session, *, team_id: str, story_id: int) -> TrackerStory | None:
    return session.scalar(select(TrackerStory).where(TrackerStory.team_id == team_id,
                                                     TrackerStory.story_id == story_id))


def estimate_key(story_id: int) -> str:
    return f"tracker.estimate:{story_id}"


def queue_estimate(session: Session, *, team_id: str, story_id: int, estimate: str, now: datetime) -> bool:
    """An estimate accepted for a story imported from a tracker goes back to it (through `tracker_writes`, so an
    outage or a refusal only delays it); False for a story typed by hand."""
    linked = story_issue(session, team_id=team_id, story_id=story_id)
    if linked is None:
        return False
    return add_write(session, team_id=team_id, key=estimate_key(story_id), what=ESTIMATE,
                     kind=domain.Kind(linked.kind), target_id=story_id,
                     args={"ref": linked.ref, "issue_key": linked.issue_key, "estimate": estimate,
                           "channel_id": linked.channel_id}, now=now)


def estimate_write(session: Session, *, team_id: str, story_id: int) -> domain.EstimateWrite | None:
    """How the story's estimate is doing on its way to the tracker (None when it goes nowhere)."""
    row = session.scalar(select(TrackerWrite).where(TrackerWrite.team_id == team_id,
                                                    TrackerWrite.key == estimate_key(story_id)))
    if row is None:
        return None
    return domain.EstimateWrite(str(row.args.get("issue_key") or ""), row.state, row.last_error)


# -- the tracker outbox -------------------------------------------------------------------------------------------------
def add_write(session: Session, *, team_id: str, key: str, what: str, kind: domain.Kind, target_id: int,
              args: dict[str, Any], now: datetime) -> bool:
    """Queue a change for the tracker; False when one with this key was queued before."""
    inserted = session.execute(
        _insert(session)(TrackerWrite).values(
            team_id=team_id, key=key, what=what, kind=kind.value, target_id=target_id, args=args, state=PENDING,
            due_at=now, created_at=now, attempts=0,
        ).on_conflict_do_nothing(index_elements=["key"]).returning(TrackerWrite.id)
    ).scalar_one_or_none()
    return inserted is not None


@dataclass(frozen=True)
class ClaimedWrite:
    id: int
    team_id: str
    key: str
    what: str
    kind: domain.Kind
    target_id: int
    args: dict[str, Any]
    attempts: int
    claim_token: str


def claim_writes(session: Session, *, now: datetime, lease: timedelta, limit: int = 50) -> list[ClaimedWrite]:
    """Take up to `limit` due writes for `lease` (SKIP LOCKED on Postgres: processes split them)."""
    token = uuid.uuid4().hex
    query = (
        select(TrackerWrite)
        .where(TrackerWrite.state == PENDING, TrackerWrite.due_at <= now,
               or_(TrackerWrite.lease_until.is_(None), TrackerWrite.lease_until <= now),
               workspaces.active_clause(TrackerWrite.team_id))
        .order_by(TrackerWrite.due_at, TrackerWrite.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    claimed = []
    for row in session.scalars(query):
        row.attempts += 1
        row.lease_until = now + lease
        row.claim_token = token
        claimed.append(ClaimedWrite(row.id, row.team_id, row.key, row.what, domain.Kind(row.kind), row.target_id,
                                    dict(row.args or {}), row.attempts, token))
    session.flush()
    return claimed


def _owned(write: ClaimedWrite) -> Any:
    return and_(TrackerWrite.id == write.id, TrackerWrite.state == PENDING, TrackerWrite.claim_token == write.claim_token)


def write_done(session: Session, write: ClaimedWrite, *, now: datetime, result: dict[str, Any] | None = None) -> bool:
    """Record that the tracker took the write; False when this worker no longer held it."""
    args = {**write.args, **(result or {})}
    done = session.execute(
        update(TrackerWrite).where(_owned(write))
        .values(state=WRITTEN, done_at=now, lease_until=None, last_error=None, args=args)
        .returning(TrackerWrite.id).execution_options(synchronize_session=False)
    ).first()
    return done is not None


def write_retry(session: Session, write: ClaimedWrite, *, at: datetime, error: str) -> None:
    """Give the write back, to be tried again at `at`, with the tracker's reason shown meanwhile."""
    session.execute(
        update(TrackerWrite).where(_owned(write))
        .values(due_at=at, lease_until=None, last_error=domain.short_error(error, ERROR_LENGTH))
        .execution_options(synchronize_session=False)
    )


def write_failed(session: Session, write: ClaimedWrite, *, now: datetime, error: str) -> None:
    """Stop trying (after many days of refusals): the reason stays shown where the write was asked for."""
    session.execute(
        update(TrackerWrite).where(_owned(write))
        .values(state=FAILED, done_at=now, lease_until=None, last_error=domain.short_error(error, ERROR_LENGTH))
        .execution_options(synchronize_session=False)
    )


def write_state(session: Session, *, key: str) -> TrackerWrite | None:
    return session.scalar(select(TrackerWrite).where(TrackerWrite.key == key))


# -- sprints following a tracker --------------------------------------------------------------------------------------
def link_sprint(session: Session, *, team_id: str, sprint_id: int, link: domain.SprintLink,
                now: datetime) -> TrackerSprint:
    """The sprint follows the tracker from now: its first sync is due at once."""
    row = TrackerSprint(team_id=team_id, sprint_id=sprint_id, kind=link.kind.value, board_id=link.board_id,
                        tracker_sprint_id=link.sprint_id, repo=link.repo, milestone=link.milestone, next_sync_at=now)
    session.add(row)
    session.flush()
    return row


def sprint_link(session: Session, *, sprint_id: int) -> TrackerSprint | None:
    return session.scalar(select(TrackerSprint).where(TrackerSprint.sprint_id == sprint_id))


def claim_due_sprints(session: Session, *, now: datetime, every: timedelta, limit: int = 50) -> list[int]:
    """Ids of linked sprints whose sync is due, each pushed to `now + every` as it is taken (a second process then
    does not take it; a crash only delays it to then)."""
    query = (select(TrackerSprint).where(TrackerSprint.next_sync_at <= now,
                                         workspaces.active_clause(TrackerSprint.team_id))
             .order_by(TrackerSprint.next_sync_at).limit(limit))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    taken = []
    for row in session.scalars(query):
        row.next_sync_at = now + every
        taken.append(row.id)
    session.flush()
    return taken


def tracker_sprint(session: Session, *, link_id: int) -> TrackerSprint | None:
    return session.get(TrackerSprint, link_id, populate_existing=True)


def sprint_links_of(session: Session, *, team_id: str, kind: domain.Kind) -> list[TrackerSprint]:
    """The workspace's sprints still following this tracker (for a webhook)."""
    return list(session.scalars(select(TrackerSprint).where(
        TrackerSprint.team_id == team_id, TrackerSprint.kind == kind.value, TrackerSprint.next_sync_at.is_not(None))))


# -- action items as issues -------------------------------------------------------------------------------------------
def issue_key_for_item(item_id: int) -> str:
    return f"tracker.issue:{item_id}"


def action_issue(session: Session, *, team_id: str, item_id: int) -> TrackerActionIssue | None:
    return session.scalar(select(TrackerActionIssue).where(TrackerActionIssue.team_id == team_id,
                                                           TrackerActionIssue.action_item_id == item_id))


def record_action_issue(session: Session, *, team_id: str, item_id: int, channel_id: str, kind: domain.Kind,
                        issue: domain.TrackerIssue, now: datetime, every: timedelta) -> None:
    session.execute(
        _insert(session)(TrackerActionIssue).values(
            team_id=team_id, action_item_id=item_id, channel_id=channel_id, kind=kind.value, ref=issue.ref, issue_key=issue.key[:64],
            url=issue.url[: domain.URL_MAX], closed=issue.done, next_sync_at=None if issue.done else now + every,
        ).on_conflict_do_nothing(index_elements=["action_item_id"])
    )


def claim_due_action_issues(session: Session, *, now: datetime, every: timedelta, limit: int = 100
                            ) -> list[TrackerActionIssue]:
    query = (select(TrackerActionIssue)
             .where(TrackerActionIssue.next_sync_at <= now, workspaces.active_clause(TrackerActionIssue.team_id))
             .order_by(TrackerActionIssue.next_sync_at).limit(limit))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = list(session.scalars(query))
    for row in rows:
        row.next_sync_at = now + every
    session.flush()
    return rows


def action_issues_by_ref(session: Session, *, team_id: str, kind: domain.Kind, ref: str) -> list[TrackerActionIssue]:
    return list(session.scalars(select(TrackerActionIssue).where(
        TrackerActionIssue.team_id == team_id, TrackerActionIssue.kind == kind.value, TrackerActionIssue.ref == ref)))
