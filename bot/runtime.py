"""What a listener or a scheduled job needs besides the Slack payload: settings, database, clock, clients."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from slack_sdk import WebClient

from bot.settings import Settings
from bot.slack import make_client
from storage.db import Database


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Runtime:
    """The app's shared services, built once per process and handed to listeners through Bolt's context."""

    settings: Settings
    db: Database
    clock: Callable[[], datetime] = utc_now
    _clients: dict[str, WebClient] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Settings, *, clock: Callable[[], datetime] = utc_now) -> Runtime:
        return cls(settings=settings, db=Database(settings.database_url), clock=clock)

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        return self.clock()

    def client_for(self, team_id: str) -> WebClient:
        """The Web API client that acts in workspace `team_id` (outside a request, e.g. in scheduled work)."""
        client = self._clients.get(team_id)
        if client is None:
            client = self._clients[team_id] = make_client(self.settings)
        return client
