"""Workspaces leaving: `app_uninstalled` and `tokens_revoked` stop their schedules at once; their data is deleted
WORKSPACE_RETENTION_DAYS later by a scheduled job (bot/jobs/workspaces.py)."""

from __future__ import annotations

import logging

from slack_bolt import App, BoltContext

from bot.server.runtime import Runtime, runtime_of
from storage import installations, workspaces

log = logging.getLogger("cadence.workspaces")


def uninstall(runtime: Runtime, team_id: str) -> None:
    """Mark the workspace uninstalled and forget its tokens: no scheduled work runs for it from now on."""
    with runtime.db.transaction() as session:
        workspaces.record_uninstall(session, team_id=team_id, now=runtime.now())
        forgotten = installations.delete_installations(session, team_id=team_id)
    log.info("workspace uninstalled Cadence; %d installation rows deleted, data kept %d days", forgotten,
             runtime.settings.workspace_retention_days, extra={"team": team_id})


def handle_app_uninstalled(body: dict, context: BoltContext) -> None:
    uninstall(runtime_of(context), context.team_id or body["team_id"])


def handle_tokens_revoked(body: dict, event: dict, context: BoltContext) -> None:
    runtime = runtime_of(context)
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


def register(app: App) -> None:
    app.event("app_uninstalled")(handle_app_uninstalled)
    app.event("tokens_revoked")(handle_tokens_revoked)
