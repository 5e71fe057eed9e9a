"""Workspaces installing and uninstalling Cadence (export and purge of their data: storage/workspace_data.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storage.models import Workspace


def record_installation(session: Session, *, team_id: str, name: str, now: datetime) -> Workspace:
    """Remember that `team_id` installed (or reinstalled) Cadence: its schedules run again.

    Several processes starting at once all record the same workspace, so the row is created with an insert that
    ignores a row another process just created.
    """
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    created = session.execute(
        insert(Workspace).values(team_id=team_id, name=name[:255], installed_at=now)
        .on_conflict_do_nothing(index_elements=["team_id"]).returning(Workspace.team_id)
    ).first()
    workspace = session.get(Workspace, team_id, populate_existing=True)
    assert workspace is not None
    if created is None and workspace.uninstalled_at is not None:
        workspace.installed_at = now
    if name:
        workspace.name = name[:255]
    workspace.uninstalled_at = None
    session.flush()
    return workspace


def record_uninstall(session: Session, *, team_id: str, now: datetime) -> Workspace:
    """Remember that `team_id` uninstalled Cadence (or revoked its token): every schedule of it stops."""
    workspace = session.get(Workspace, team_id)
    if workspace is None:
        workspace = Workspace(team_id=team_id, name="", installed_at=now)
        session.add(workspace)
    if workspace.uninstalled_at is None:
        workspace.uninstalled_at = now
    session.flush()
    return workspace


def is_active(session: Session, *, team_id: str) -> bool:
    """False when the workspace uninstalled Cadence; True otherwise (also when it was never recorded)."""
    uninstalled_at = session.scalar(select(Workspace.uninstalled_at).where(Workspace.team_id == team_id))
    return uninstalled_at is None


def active_team_ids(session: Session) -> list[str]:
    """The workspaces recorded as installed, in id order."""
    query = select(Workspace.team_id).where(Workspace.uninstalled_at.is_(None)).order_by(Workspace.team_id)
    return list(session.scalars(query))


def uninstalled_team_ids(session: Session) -> set[str]:
    """The workspaces that uninstalled Cadence and whose data is not deleted yet."""
    return set(session.scalars(select(Workspace.team_id).where(Workspace.uninstalled_at.is_not(None))))


def active_clause(team_id_column: Any) -> ColumnElement[bool]:
    """A WHERE clause keeping rows of active workspaces, for a scheduled job's "what is due?" query.

    `select(Standup).where(..., workspaces.active_clause(Standup.team_id))` skips uninstalled workspaces in SQL.
    """
    uninstalled = select(Workspace.team_id).where(Workspace.uninstalled_at.is_not(None))
    return team_id_column.not_in(uninstalled)


def expired(session: Session, *, uninstalled_before: datetime) -> list[tuple[str, datetime]]:
    """Workspaces uninstalled before the cut-off, with when: their data is due for deletion."""
    query = (
        select(Workspace.team_id, Workspace.uninstalled_at)
        .where(Workspace.uninstalled_at.is_not(None), Workspace.uninstalled_at < uninstalled_before)
        .order_by(Workspace.uninstalled_at)
    )
    return [(team_id, when) for team_id, when in session.execute(query) if when is not None]
