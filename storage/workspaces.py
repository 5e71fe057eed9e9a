"""Workspaces installing and uninstalling Cadence, and everything stored for one: export and purge.

Purge and export are generic: they cover every table of `storage.schema.metadata` that has a `team_id` column (and
slack_sdk's installation tables), so a ceremony's tables are included as soon as its models are in the schema.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Table, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storage import installations
from storage.models import WorkClaim, Workspace


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


def workspace_tables() -> list[Table]:
    """Every table holding a workspace's data, parents before children."""
    # Imported here so that a ceremony's storage module may import this one while storage.schema is loading.
    from storage.schema import metadata

    ours = [table for table in metadata.sorted_tables if "team_id" in table.columns]
    return [*ours, *installations.WORKSPACE_TABLES]


def purge(session: Session, *, team_id: str, keep_claim: str | None = None) -> dict[str, int]:
    """Delete everything stored for a workspace, children before parents; rows deleted per table.

    `keep_claim` spares the claim of the retention job doing the purge, which stays as the record that it was done.
    """
    deleted: dict[str, int] = {}
    for table in reversed(workspace_tables()):
        statement = delete(table).where(table.c.team_id == team_id)
        if keep_claim is not None and table is WorkClaim.__table__:
            statement = statement.where(table.c.key != keep_claim)
        key = next(iter(table.primary_key.columns))
        count = len(session.execute(statement.returning(key)).all())
        if count:
            deleted[table.name] = count
    return deleted


def purge_expired(
    session: Session, *, team_id: str, uninstalled_before: datetime, keep_claim: str | None = None
) -> dict[str, int] | None:
    """Purge a workspace only if it is still uninstalled since before the cut-off; None when it came back."""
    workspace = session.get(Workspace, team_id)
    if workspace is None or workspace.uninstalled_at is None or workspace.uninstalled_at >= uninstalled_before:
        return None
    return purge(session, team_id=team_id, keep_claim=keep_claim)


def export(session: Session, *, team_id: str) -> dict[str, list[dict[str, Any]]]:
    """Every row stored for a workspace, table by table (secrets such as tokens left out), in primary-key order."""
    tables: dict[str, list[dict[str, Any]]] = {}
    for table in workspace_tables():
        hidden = set(installations.SECRET_COLUMNS.get(table.name, ()))
        columns = [column for column in table.columns if column.name not in hidden]
        query = select(*columns).where(table.c.team_id == team_id).order_by(*table.primary_key.columns)
        tables[table.name] = [dict(row._mapping) for row in session.execute(query)]
    return tables
