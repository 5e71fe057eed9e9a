"""What a listener or a scheduled job needs besides the Slack payload: settings, database, clock, clients."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from slack_sdk import WebClient

from bot.server.background import BackgroundWork
from bot.server.settings import Settings
from bot.slack.client import make_client
from bot.slack.gateway import Gateway, Slack
from storage import outbox, workspaces
from storage.db import Database

if TYPE_CHECKING:
    from bot.slack.oauth import Installations


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Runtime:
    """The app's shared services, built once per process and handed to listeners through Bolt's context."""

    settings: Settings
    db: Database
    clock: Callable[[], datetime] = utc_now
    # Multi-workspace mode only: installations and their (encrypted) tokens; None with SLACK_BOT_TOKEN.
    installations: Installations | None = None
    # Work nobody waits for (Home refreshes), apart from the listeners' threads.
    background: BackgroundWork = field(default_factory=BackgroundWork)
    _clients: dict[str, WebClient] = field(default_factory=dict)
    _clients_lock: threading.Lock = field(default_factory=threading.Lock)
    # Wakes the outbox's delivery loop (bot.jobs.outbox) when a transaction that queued a message commits.
    kick_outbox: Callable[[], None] = lambda: None
    gateway: Gateway = field(init=False)

    def __post_init__(self) -> None:
        self.gateway = Gateway(self.client_for, on_workspace_gone=self.workspace_gone)
        outbox.on_commit(self.db.sessions, lambda: self.kick_outbox())

    @classmethod
    def from_settings(cls, settings: Settings, *, clock: Callable[[], datetime] = utc_now) -> Runtime:
        db = Database(settings.database_url)
        installations = None
        if settings.multi_workspace:
            from bot.slack.oauth import Installations

            installations = Installations(settings, db.engine)
        return cls(settings=settings, db=db, clock=clock, installations=installations)

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        return self.clock()

    def client_for(self, team_id: str) -> WebClient:
        """The Web API client that acts in workspace `team_id` (outside a request, e.g. in scheduled work).

        With many workspaces it carries that workspace's bot token (refreshed when it expires soon), and raises
        bot.slack.oauth.WorkspaceNotInstalled when there is none: skip uninstalled workspaces first
        (storage.workspaces.active_clause / is_active).
        """
        token = None if self.installations is None else self.installations.bot_token(team_id)
        key = team_id if token is None else f"{team_id}:{token}"
        with self._clients_lock:
            client = self._clients.get(key)
            if client is None:
                if token is not None:  # drop the client of a token that was rotated away
                    self._clients = {k: c for k, c in self._clients.items() if not k.startswith(team_id + ":")}
                client = self._clients[key] = make_client(self.settings, token)
            return client

    def workspace_gone(self, team_id: str, error: str) -> None:
        """Slack says the workspace's token is dead: mark it uninstalled, which stops its scheduled work until it
        installs Cadence again."""
        with self.db.transaction() as session:
            workspaces.record_uninstall(session, team_id=team_id, now=self.now())

    def is_active(self, team_id: str) -> bool:
        """False once the workspace uninstalled Cadence: scheduled work for it stops."""
        with self.db.transaction() as session:
            return workspaces.is_active(session, team_id=team_id)


def runtime_of(context: Mapping[str, Any]) -> Runtime:
    """The runtime a listener works with (put in every request's context by the app's middleware)."""
    return context["runtime"]


def slack_of(context: Mapping[str, Any]) -> Slack:
    """The Web API, through the gateway, for the workspace a request came from (with that request's token)."""
    return runtime_of(context).gateway.for_client(context["client"], team_id=context.get("team_id"))
