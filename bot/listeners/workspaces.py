"""Workspaces leaving: `app_uninstalled` and `tokens_revoked` stop their schedules at once; their data is deleted
WORKSPACE_RETENTION_DAYS later by a scheduled job (claimed, so exactly one process does it)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from slack_bolt import App, BoltContext

from bot.server.dedup import REMEMBER_EVENTS_FOR
from bot.server.runtime import Runtime, runtime_of
from storage import claims, dedup, installations, workspace_data, workspaces

log = logging.getLogger("cadence.workspaces")

RETENTION_CLAIM_KIND = "workspace.retention"


def _runtime(context: BoltContext) -> Runtime:
    return runtime_of(context)


def uninstall(runtime: Runtime, team_id: str) -> None:
    """Mark the workspace uninstalled and forget its tokens: no scheduled work runs for it from now on."""
    with runtime.db.transaction() as session:
        workspaces.record_uninstall(session, team_id=team_id, now=runtime.now())
        forgotten = installations.delete_installations(session, team_id=team_id)
    log.info("workspace uninstalled Cadence; %d installation rows deleted, data kept %d days", forgotten,
             runtime.settings.workspace_retention_days, extra={"team": team_id})


def handle_app_uninstalled(body: dict, context: BoltContext) -> None:
    uninstall(_runtime(context), context.team_id or body["team_id"])


def handle_tokens_revoked(body: dict, event: dict, context: BoltContext) -> None:
    runtime = _runtime(context)
    team_id = context.team_id or body["team_id"]
    tokens = event.get("tokens") or {}
    if tokens.get("bot"):
        uninstall(runtime, team_id)
        return
    store = runtime.installations.store if runtime.installations is not None else None
    for user_id in tokens.get("oauth") or ():
        if store is not None:
            store.delete_installation(enterprise_id=None, team_id=team_id, user_id=user_id)
    log.info("user tokens revoked: %s", ",".join(tokens.get("oauth") or ()), extra={"team": team_id})


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
    with runtime.db.transaction() as session:
        dedup.forget_before(session, before=now - REMEMBER_EVENTS_FOR)


JOBS = (delete_expired_workspaces,)


def register(app: App) -> None:
    app.event("app_uninstalled")(handle_app_uninstalled)
    app.event("tokens_revoked")(handle_tokens_revoked)
