"""The outbox: every message the app sends on its own, written in the same transaction as the change causing it.

A use case that changes state and must tell someone adds an outbox row in its own transaction (`add`), so the change
and its message are stored together or not at all. Workers (bot.jobs.outbox) claim due rows (`claim_due`: one
statement, `FOR UPDATE SKIP LOCKED` on Postgres, so several processes split the rows and never take the same one),
send them through the Slack gateway and record the outcome (`mark_sent`, `retry`, `give_up`).

A row's `key` is unique: adding a message whose key exists does nothing, so jobs that several processes run at once,
or that run again after a restart, never queue a message twice. The key also travels with the post (Slack message
metadata), so a row whose lease ran out after a crash is looked for in Slack before it is sent again.

Shared messages that are redrawn (a poker story, a poll, the retro board, the stand-up parent) use `redraw`: one row
per message, rendered from the current state when it is delivered; a burst of changes while a redraw waits costs
nothing more, and a change while it is being sent queues exactly one more redraw.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, Boolean, Index, Integer, String, and_, case, delete, event, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage.models import CLAIM_KEY_LENGTH, SLACK_ID_LENGTH, Base, Workspace

PENDING, SENT, FAILED = "pending", "sent", "failed"
POST, UPDATE, UPLOAD, REDRAW = "post", "update", "upload", "redraw"
ACTIONS = (POST, UPDATE, UPLOAD, REDRAW)
ERROR_LENGTH = 500


class OutboxMessage(Base):
    """One message to send, or one shared message to redraw; see the module docstring."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_key", "key", unique=True),
        Index("ix_outbox_due", "state", "due_at"),
        Index("ix_outbox_team", "team_id", "kind"),
        Index("ix_outbox_sent", "sent_at"),  # pruning what was delivered long ago, without reading the rest
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    key: Mapped[str] = mapped_column(String(CLAIM_KEY_LENGTH))
    kind: Mapped[str] = mapped_column(String(64))  # e.g. standup.prompt: what after_sent / on_failed hooks match
    action: Mapped[str] = mapped_column(String(16))  # post, update, upload, redraw
    channel: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))  # a conversation, or a user id for their DM
    ts: Mapped[str | None] = mapped_column(String(32))  # update / redraw: the message to change
    thread_ts: Mapped[str | None] = mapped_column(String(32))
    # The key of another row whose message this one threads under (post) or changes (update / redraw); it is
    # delivered once that row was sent.
    ref_key: Mapped[str | None] = mapped_column(String(CLAIM_KEY_LENGTH))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # text and blocks, or render arguments
    render: Mapped[str | None] = mapped_column(String(64))  # a renderer that builds the message when it is sent
    state: Mapped[str] = mapped_column(String(16), default=PENDING)
    due_at: Mapped[datetime]
    created_at: Mapped[datetime]
    lease_until: Mapped[datetime | None]
    claim_token: Mapped[str | None] = mapped_column(String(32))  # which claim holds it (renewed while sending)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    dirty: Mapped[bool] = mapped_column(Boolean, default=False)  # a redraw was asked for while one was in flight
    last_error: Mapped[str | None] = mapped_column(String(ERROR_LENGTH))
    sent_at: Mapped[datetime | None]
    sent_channel: Mapped[str | None] = mapped_column(String(SLACK_ID_LENGTH))
    sent_ts: Mapped[str | None] = mapped_column(String(32))


@dataclass(frozen=True)
class Claimed:
    """A row a worker took: what to send, and whether an earlier attempt may already have reached Slack."""

    id: int
    team_id: str
    key: str
    kind: str
    action: str
    channel: str
    ts: str | None
    thread_ts: str | None
    ref_key: str | None
    payload: dict[str, Any]
    render: str | None
    attempts: int  # counting this one
    created_at: datetime
    due_at: datetime
    lease_until: datetime
    last_error: str | None
    claim_token: str

    @property
    def maybe_sent_before(self) -> bool:
        """True when an earlier attempt ended without a recorded outcome, or with one that may hide a post (a
        timeout, a 5xx): then the message is looked for in Slack before being sent again."""
        return self.attempts > 1 and self.action in (POST, UPLOAD)


@dataclass(frozen=True)
class Sent:
    """Where a delivered row's message is in Slack."""

    key: str
    channel: str
    ts: str


QUEUED = "cadence.outbox_queued"


def on_commit(sessions: Any, callback: Any) -> None:
    """Call `callback()` after each commit of a session (from `sessions`, a sessionmaker) that queued a row."""

    @event.listens_for(sessions, "after_commit")
    def _after_commit(session: Session) -> None:
        if session.info.pop(QUEUED, False):
            callback()


def _queued(session: Session) -> None:
    session.info[QUEUED] = True


def _insert(session: Session) -> Any:
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def add(
    session: Session,
    *,
    team_id: str,
    key: str,
    kind: str,
    channel: str,
    now: datetime,
    text: str | None = None,
    blocks: list[dict[str, Any]] | None = None,
    render: str | None = None,
    args: dict[str, Any] | None = None,
    action: str = POST,
    ts: str | None = None,
    thread_ts: str | None = None,
    ref_key: str | None = None,
    due_at: datetime | None = None,
    reply_broadcast: bool = False,
) -> bool:
    """Queue one message (or upload, or update); False when a message with this key was queued before.

    Give either the message (`text`, optional `blocks`) or a `render` name and its `args`: the renderer then builds
    the message from the current state when it is sent (bot.jobs.outbox), which is how charts and redraws work.
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown outbox action {action!r}")
    if render is None and text is None:
        raise ValueError("an outbox message needs a text or a renderer")
    payload = dict(args or {}) if render is not None else {"text": text, **({"blocks": blocks} if blocks else {})}
    if reply_broadcast:  # a thread reply also shown in the channel
        payload["reply_broadcast"] = True
    inserted = session.execute(
        _insert(session)(OutboxMessage).values(
            team_id=team_id, key=key, kind=kind, action=action, channel=channel, ts=ts, thread_ts=thread_ts,
            ref_key=ref_key, payload=payload, render=render, state=PENDING, due_at=due_at or now, created_at=now,
            attempts=0, dirty=False,
        ).on_conflict_do_nothing(index_elements=["key"]).returning(OutboxMessage.id)
    )
    _queued(session)
    return inserted.scalar_one_or_none() is not None


@dataclass(frozen=True)
class Queued:
    """One message for `add_many`: a rendered-when-sent post (`render` and its `args`) to `channel`."""

    team_id: str
    key: str
    kind: str
    channel: str
    render: str
    args: dict[str, Any]
    due_at: datetime


def add_many(session: Session, messages: Iterable[Queued], *, now: datetime) -> set[str]:
    """Queue many posts in one statement (a stand-up's prompts), each as `add` would; the keys newly queued (a key
    queued before is left alone)."""
    values = [dict(team_id=m.team_id, key=m.key, kind=m.kind, action=POST, channel=m.channel, ts=None, thread_ts=None,
                   ref_key=None, payload=dict(m.args), render=m.render, state=PENDING, due_at=m.due_at, created_at=now,
                   attempts=0, dirty=False) for m in messages]
    if not values:
        return set()
    # The table's insert, run for many parameter sets: SQLAlchemy sends them as one multi-row statement, compiled
    # once and cached (the ORM's insert with a list of values built and compiled one bind parameter per value).
    table = OutboxMessage.__table__
    inserted = session.execute(
        _insert(session)(table).on_conflict_do_nothing(index_elements=["key"]).returning(table.c.key), values)
    _queued(session)
    return set(inserted.scalars())


def redraw(
    session: Session,
    *,
    team_id: str,
    key: str,
    kind: str,
    render: str,
    args: dict[str, Any],
    now: datetime,
    channel: str = "",
    ts: str | None = None,
    ref_key: str | None = None,
) -> None:
    """Ask for a shared message to be redrawn from the current state: once, however many ask before it is sent.

    The message is either named (`channel` and `ts`) or is the one another row sent (`ref_key`). A request while a
    redraw is being sent marks the row dirty, and it is drawn once more right after.
    """
    values = dict(team_id=team_id, key=key, kind=kind, action=REDRAW, channel=channel, ts=ts, ref_key=ref_key,
                  payload=dict(args), render=render, state=PENDING, due_at=now, created_at=now, attempts=0,
                  dirty=False)
    inserted = session.execute(
        _insert(session)(OutboxMessage).values(**values).on_conflict_do_nothing(index_elements=["key"])
        .returning(OutboxMessage.id)
    ).scalar_one_or_none()
    _queued(session)
    if inserted is not None:
        return
    in_flight = and_(OutboxMessage.state == PENDING, OutboxMessage.lease_until.is_not(None),
                     OutboxMessage.lease_until > now)
    # In flight: draw once more after it. Waiting: nothing to do. Done (or given up): wake it again.
    session.execute(
        update(OutboxMessage).where(OutboxMessage.key == key, in_flight).values(dirty=True)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.key == key, OutboxMessage.state != PENDING)
        .values(state=PENDING, due_at=now, lease_until=None, attempts=0, dirty=False, last_error=None,
                payload=dict(args), channel=channel or OutboxMessage.channel, ts=ts or OutboxMessage.ts,
                # Named by channel and ts now, the message no longer depends on the row that first sent it.
                ref_key=None if ts else ref_key or OutboxMessage.ref_key)
        .execution_options(synchronize_session=False)
    )


def claim_due(
    session: Session, *, now: datetime, lease: timedelta, limit: int = 200, per_team: int = 50,
    skip_teams: Collection[str] = (), max_teams: int | None = None,
) -> list[Claimed]:
    """Take up to `limit` due rows (at most `per_team` of one workspace, of at most `max_teams` workspaces, none of
    `skip_teams`: those the caller is still serving), oldest first, for `lease`.

    Rows of uninstalled workspaces wait (they resume on reinstall); rows whose lease ran out are taken again. On
    Postgres the rows are locked with SKIP LOCKED, so processes claiming at once split the work between them. The
    claim's token (the same for the whole batch) names its holder: `renew` extends the lease while it works, and
    only the holder records an outcome.
    """
    token = uuid.uuid4().hex
    due = and_(
        OutboxMessage.state == PENDING,
        OutboxMessage.due_at <= now,
        or_(OutboxMessage.lease_until.is_(None), OutboxMessage.lease_until <= now),
    )
    active = ~select(Workspace.team_id).where(
        Workspace.team_id == OutboxMessage.team_id, Workspace.uninstalled_at.is_not(None)
    ).exists()
    serving = [OutboxMessage.team_id.not_in(list(skip_teams))] if skip_teams else []
    ranked = (
        select(OutboxMessage.id, func.row_number().over(
            partition_by=OutboxMessage.team_id, order_by=(OutboxMessage.due_at, OutboxMessage.id)).label("rank"))
        .where(due, active, *serving)
        .subquery()
    )
    # Two statements, not a subquery: right after a burst (the morning rush queues thousands of rows into an outbox
    # whose statistics say it is empty) Postgres would plan the subquery as a nested loop run once per row.
    candidates = list(session.scalars(select(ranked.c.id).where(ranked.c.rank <= per_team).limit(limit * 2)))
    if not candidates:
        return []
    query = (
        select(OutboxMessage)
        .where(OutboxMessage.id.in_(candidates), due)
        .order_by(OutboxMessage.due_at, OutboxMessage.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = list(session.scalars(query))
    claimed = []
    teams: set[str] = set()
    for row in rows:
        if max_teams is not None and row.team_id not in teams:
            if len(teams) >= max_teams:
                continue  # left unclaimed (and unlocked at commit) for the next free worker
            teams.add(row.team_id)
        row.attempts += 1
        row.lease_until = now + lease
        row.claim_token = token
        claimed.append(Claimed(
            id=row.id, team_id=row.team_id, key=row.key, kind=row.kind, action=row.action, channel=row.channel,
            ts=row.ts, thread_ts=row.thread_ts, ref_key=row.ref_key, payload=dict(row.payload or {}),
            render=row.render, attempts=row.attempts, created_at=row.created_at, due_at=row.due_at,
            lease_until=row.lease_until, last_error=row.last_error, claim_token=token))
    session.flush()
    return claimed


def _owned(row: Claimed) -> Any:
    # Only the claim holding the row records an outcome: a process that lost its lease (it was slow, another one
    # took the row over) must not overwrite the newer attempt.
    return and_(OutboxMessage.key == row.key, OutboxMessage.state == PENDING,
                OutboxMessage.claim_token == row.claim_token)


def renew(session: Session, *, token: str, now: datetime, lease: timedelta) -> int:
    """Extend the lease of every row the claim `token` still holds (a worker does this while it sends, so that a
    short lease frees a dead worker's rows in seconds without taking a live worker's rows away)."""
    result = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.claim_token == token, OutboxMessage.state == PENDING,
               OutboxMessage.lease_until.is_not(None))
        .values(lease_until=now + lease)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)


def mark_sent(session: Session, row: Claimed, *, now: datetime, channel: str, ts: str) -> bool:
    """Record that `row` reached Slack; False when this worker no longer owned it. A dirty redraw goes again."""
    return row.key in mark_sent_many(session, [Landed(row, channel, ts)], now=now)


@dataclass(frozen=True)
class Landed:
    """One row that reached Slack, for `mark_sent_many`: where its message is."""

    row: Claimed
    channel: str
    ts: str


def mark_sent_many(session: Session, delivered: Collection[Landed], *, now: datetime) -> set[str]:
    """Record, in one statement, that every row of `delivered` reached Slack; the keys recorded (a row this worker no
    longer owned is left alone, exactly as `mark_sent` would leave it). A dirty redraw goes again."""
    if not delivered:
        return set()
    by_token: dict[str, list[str]] = {}
    for d in delivered:
        by_token.setdefault(d.row.claim_token, []).append(d.row.key)
    # `_owned` for each row: its key, still pending, still held by the claim that sent it.
    owned = or_(*(and_(OutboxMessage.key.in_(keys), OutboxMessage.state == PENDING,
                       OutboxMessage.claim_token == token) for token, keys in by_token.items()))
    channels = {d.row.key: d.channel for d in delivered}
    stamps = {d.row.key: d.ts for d in delivered}
    recorded = session.execute(
        update(OutboxMessage).where(owned)
        .values(state=SENT, sent_at=now, sent_channel=case(channels, value=OutboxMessage.key),
                sent_ts=case(stamps, value=OutboxMessage.key), lease_until=None, last_error=None)
        .returning(OutboxMessage.key, OutboxMessage.dirty)
        .execution_options(synchronize_session=False)
    ).all()
    dirty = sorted(key for key, is_dirty in recorded if is_dirty)
    if dirty:
        session.execute(
            update(OutboxMessage).where(OutboxMessage.key.in_(dirty))
            .values(state=PENDING, dirty=False, due_at=now, attempts=0)
            .execution_options(synchronize_session=False)
        )
        _queued(session)
    return {key for key, _dirty in recorded}


def retry(session: Session, row: Claimed, *, at: datetime, error: str) -> None:
    """Give `row` back, to be sent again at `at`."""
    session.execute(
        update(OutboxMessage).where(_owned(row))
        .values(due_at=at, lease_until=None, last_error=error[:ERROR_LENGTH])
        .execution_options(synchronize_session=False)
    )


def postpone(session: Session, row: Claimed, *, at: datetime, reason: str) -> None:
    """Give `row` back untried (it waits for its parent message): the claim does not count as an attempt."""
    session.execute(
        update(OutboxMessage).where(_owned(row))
        .values(due_at=at, lease_until=None, attempts=OutboxMessage.attempts - 1, last_error=reason[:ERROR_LENGTH])
        .execution_options(synchronize_session=False)
    )


def release(session: Session, rows: Iterable[Claimed]) -> int:
    """Give back claimed rows that were never tried (their worker was cancelled as the process stopped): due again
    at once, for this process or another, instead of after their lease; the claim does not count as an attempt."""
    released = 0
    for row in rows:
        result = session.execute(
            update(OutboxMessage).where(_owned(row), OutboxMessage.lease_until.is_not(None))
            .values(lease_until=None, attempts=OutboxMessage.attempts - 1)
            .execution_options(synchronize_session=False)
        )
        released += int(result.rowcount or 0)
    return released


def give_up(session: Session, row: Claimed, *, now: datetime, error: str) -> bool:
    """Stop trying `row` for good (the conversation or person is gone, or Slack calls it our bug)."""
    result = session.execute(
        update(OutboxMessage).where(_owned(row))
        .values(state=FAILED, sent_at=now, lease_until=None, dirty=False, last_error=error[:ERROR_LENGTH])
        .returning(OutboxMessage.id)
        .execution_options(synchronize_session=False)
    ).first()
    return result is not None


def sent_message(session: Session, *, key: str) -> Sent | None:
    """Where the message queued under `key` is in Slack, once it was sent."""
    row = session.execute(
        select(OutboxMessage.sent_channel, OutboxMessage.sent_ts)
        .where(OutboxMessage.key == key, OutboxMessage.sent_ts.is_not(None))
    ).first()
    return Sent(key, row[0], row[1]) if row is not None else None


def state_of(session: Session, *, key: str) -> str | None:
    """`pending`, `sent` or `failed` for the row `key`; None when there is none."""
    return session.scalar(select(OutboxMessage.state).where(OutboxMessage.key == key))


def next_due(session: Session) -> datetime | None:
    """When the earliest waiting row falls due (None when nothing waits), for the delivery loop's sleep."""
    return session.scalar(select(func.min(OutboxMessage.due_at)).where(OutboxMessage.state == PENDING))


@dataclass(frozen=True)
class Backlog:
    waiting: int
    oldest_due_at: datetime | None


def backlog(session: Session, *, now: datetime) -> Backlog:
    """How many rows are due now and not yet sent, and the oldest one's due time (for /metrics)."""
    count, oldest = session.execute(
        select(func.count(), func.min(OutboxMessage.due_at))
        .where(OutboxMessage.state == PENDING, OutboxMessage.due_at <= now)
    ).one()
    return Backlog(int(count or 0), oldest)


def forget(session: Session, *, team_id: str, keys: Iterable[str] = (), prefixes: Iterable[str] = ()) -> int:
    """Drop every row (waiting or done) under `keys` or starting with `prefixes`, with their redraws: for a thing
    that is deleted, whose messages must not go out any more and whose keys a new thing may take (SQLite gives a
    deleted row's id to the next row)."""
    keys = [*keys]
    keys += [f"redraw:{key}" for key in keys]
    prefixes = [*prefixes]
    prefixes += [f"redraw:{prefix}" for prefix in prefixes]
    conditions = [OutboxMessage.key.in_(keys)] if keys else []
    conditions += [OutboxMessage.key.startswith(prefix, autoescape=True) for prefix in prefixes]
    if not conditions:
        return 0
    result = session.execute(
        delete(OutboxMessage).where(OutboxMessage.team_id == team_id, or_(*conditions))
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)


def prune(session: Session, *, before: datetime) -> int:
    """Delete rows sent or given up before `before` (their keys no longer need to block a repeat)."""
    result = session.execute(
        delete(OutboxMessage).where(OutboxMessage.state != PENDING, OutboxMessage.sent_at < before)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)
