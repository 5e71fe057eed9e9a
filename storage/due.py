"""Scheduled work as a row with a time: every schedule keeps its next due moment in an indexed column.

A schedule's model mixes in `Scheduled` (a nullable, indexed, UTC `next_due_at`; None: nothing ever due, e.g. a
paused stand-up). Its job asks "what is due now?" with `claim` — one indexed query over the rows whose moment has
come, in active workspaces, locked with `FOR UPDATE SKIP LOCKED` on Postgres so that several processes split the
rows — does the work, and stores the next moment with `set_next`. A change that may move a schedule (its settings,
the workspace's holidays, someone's time away or timezone) calls `reschedule` (or `reschedule_team`): the row is due
at once, and the job, which knows the rules, computes the real next moment after its run. So a tick with nothing due
costs one query per kind, whatever is installed.

`claim` moves the claimed rows' moment a lease ahead before returning them: a process that dies mid-run leaves them
due again after the lease, and the work itself keeps its own exactly-once keys (outbox rows, storage.claims), so a
second process taking them over never doubles a message.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar, TypeVar

from sqlalchemy import func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage import workspaces

LEASE = timedelta(minutes=2)
RETRY = timedelta(minutes=1)  # work that stayed due after its run (Slack did not answer, say) is looked at again

_KINDS: dict[str, type[Scheduled]] = {}

Row = TypeVar("Row", bound="Scheduled")


class Scheduled:
    """Mixin for a schedule's model: `next_due_at`, and the kind's name (`__due_kind__`) for metrics.

    The model needs a `team_id` column (every Cadence table has one).
    """

    __due_kind__: ClassVar[str]
    next_due_at: Mapped[datetime | None] = mapped_column(index=True)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        kind = cls.__dict__.get("__due_kind__")
        if kind:
            _KINDS[kind] = cls


def kinds() -> dict[str, type[Scheduled]]:
    """Every schedule kind by name (those whose storage module was imported)."""
    return dict(_KINDS)


def claim(session: Session, model: type[Row], *, now: datetime, limit: int = 100, lease: timedelta = LEASE,
          where: Iterable[Any] = ()) -> list[Row]:
    """Take up to `limit` rows of `model` due at `now` (earliest first) in active workspaces, for `lease`.

    The caller commits right after, then works on the rows and stores their next moment (`set_next`). On Postgres
    the rows are locked with SKIP LOCKED while claimed, so processes claiming at once get disjoint rows; SQLite (one
    process) runs the same statement without the lock.
    """
    column = model.next_due_at
    query = (select(model)
             .where(column <= now, workspaces.active_clause(model.team_id), *where)  # type: ignore[attr-defined]
             .order_by(column).limit(limit))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=model)
    rows = list(session.scalars(query))
    for row in rows:
        row.next_due_at = now + lease
    session.flush()
    return rows


def set_next(row: Scheduled, *, at: datetime | None, now: datetime) -> None:
    """Store a row's next due moment after its run; a moment not after `now` means the run left work undone, which
    is looked at again a little later rather than on every tick."""
    row.next_due_at = None if at is None else max(at, now + RETRY) if at <= now else at


def reschedule(session: Session, model: type[Scheduled], *, now: datetime, where: Iterable[Any]) -> int:
    """Make the rows of `model` matching `where` due at once (their next moment is recomputed by their job)."""
    result = session.execute(
        update(model).where(*where, model.next_due_at.is_not(None), model.next_due_at > now)
        .values(next_due_at=now).execution_options(synchronize_session=False))
    return int(result.rowcount or 0)


def reschedule_team(session: Session, *, team_id: str, now: datetime) -> None:
    """Every schedule of a workspace is due at once (its calendar changed)."""
    for model in _KINDS.values():
        reschedule(session, model, now=now, where=[model.team_id == team_id])  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Backlog:
    """Due rows of one kind not yet done, and the oldest one's moment."""

    kind: str
    waiting: int
    oldest_due_at: datetime | None


def backlog(session: Session, *, now: datetime) -> list[Backlog]:
    """Per kind, how many rows are due and not claimed, and since when (for /metrics): one query per kind."""
    found = []
    for kind, model in sorted(_KINDS.items()):
        count, oldest = session.execute(
            select(func.count(), func.min(model.next_due_at))
            .where(model.next_due_at <= now, workspaces.active_clause(model.team_id))  # type: ignore[attr-defined]
        ).one()
        found.append(Backlog(kind, int(count or 0), oldest))
    return found
