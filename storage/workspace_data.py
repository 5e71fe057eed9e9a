"""Everything stored for one workspace, exported or purged.

Both are generic: they cover every table of `storage.schema.metadata` that has a `team_id` column (and slack_sdk's
installation tables), so a ceremony's tables are included as soon as its models are in the schema. The one exception:
anonymous health-check answers are exported only as each round's aggregates (`storage.healthcheck.export_rows`).
This module imports the complete schema, so no ceremony's storage module may import it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Table, delete, select
from sqlalchemy.orm import Session

from storage import healthcheck, installations, trackers
from storage.models import WorkClaim, Workspace
from storage.schema import metadata


def workspace_tables() -> list[Table]:
    """Every table holding a workspace's data, parents before children."""
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
        hidden |= set(trackers.SECRET_COLUMNS.get(table.name, ()))  # tracker credentials, even encrypted
        columns = [column for column in table.columns if column.name not in hidden]
        query = select(*columns).where(table.c.team_id == team_id).order_by(*table.primary_key.columns)
        tables[table.name] = [dict(row._mapping) for row in session.execute(query)]
    # Health-check answers are anonymous: exported only as each round's aggregates, never row by row.
    for name in healthcheck.PRIVATE_TABLES:
        tables.pop(name, None)
    tables["health_check_results"] = healthcheck.export_rows(session, team_id=team_id)
    return tables
