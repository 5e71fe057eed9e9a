"""What a listener or a scheduled job needs besides the Slack payload: settings, database, clock, clients."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from bot.server.background import BackgroundWork
from bot.server.settings import Settings
from bot.slack.client import Clients
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
    clients: Clients = field(init=False)
    # Wakes the outbox's delivery loop (bot.jobs.outbox) when a transaction that queued a message commits.
    kick_outbox: Callable[[], None] = lambda: None
    gateway: Gateway = field(init=False)

    def __post_init__(self) -> None:
        self.clients = Clients(self.settings, self.installations)
        self.gateway = Gateway(self.clients.for_team, on_workspace_gone=self.workspace_gone)
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
