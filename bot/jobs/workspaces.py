"""Workspaces that left: their data is deleted WORKSPACE_RETENTION_DAYS after they uninstalled Cadence.

The purge sends nothing, so it is not outbox work: a claim makes exactly one process do it, and the claim stays as
the record that it was done.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from bot.server.dedup import REMEMBER_EVENTS_FOR
from bot.server.runtime import Runtime
from storage import claims, dedup, workspace_data, workspaces

log = logging.getLogger("cadence.workspaces")

RETENTION_CLAIM_KIND = "workspace.retention"


def delete_expired_workspaces(runtime: Runtime, now: datetime) -> None:
    """Delete the data of workspaces uninstalled longer than WORKSPACE_RETENTION_DAYS ago, each exactly once."""
    retention = timedelta(days=runtime.settings.workspace_retention_days)
    cutoff = now - retention
    with runtime.db.transaction() as session:
        due = workspaces.expired(session, uninstalled_before=cutoff)
    for team_id, uninstalled_at in due:
        key = f"{RETENTION_CLAIM_KIND}:{team_id}:{uninstalled_at.isoformat()}"
        with runtime.db.transaction() as session:
            claimed = claims.claim(session, team_id=team_id, kind=RETENTION_CLAIM_KIND, key=key, now=now,
                                   due_at=uninstalled_at + retention)
        if not claimed:
            continue
        with runtime.db.transaction() as session:
            deleted = workspace_data.purge_expired(session, team_id=team_id, uninstalled_before=cutoff, keep_claim=key)
            claims.finish(session, key=key, now=now)
        if deleted is not None:
            log.info("deleted the data of a workspace uninstalled on %s: %s", uninstalled_at.date(), deleted,
                     extra={"team": team_id})


def forget_old_events(runtime: Runtime, now: datetime) -> None:
    """Forget the ids of events older than Slack's redelivery window (the duplicate check needs no more)."""
    with runtime.db.transaction() as session:
        dedup.forget_before(session, before=now - REMEMBER_EVENTS_FOR)


JOBS = (delete_expired_workspaces, forget_old_events)
