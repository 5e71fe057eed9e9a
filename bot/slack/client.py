"""The one Web API client configuration of the whole app."""

from __future__ import annotations

import os
import socket
import threading
from typing import Protocol

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.handler import RetryHandler

from bot.server.metrics import SlackCallCounter
from bot.server.settings import Settings

WEB_API_TIMEOUT_SECONDS = 15
# What a call made before an acknowledgement or a views.open may take, all calls together: Slack waits 3 s for the
# ack, and a trigger_id lasts 3 s from the request that carried it.
QUICK_BUDGET_SECONDS = 2.0
WORKER_HEADER = "X-Cadence-Worker"
# One counter for every client: Bolt copies the handler list (not the handlers) into each request's client.
CALL_COUNTER = SlackCallCounter()


def retry_handlers() -> list[RetryHandler]:
    """Count every call; retry on connection errors, on HTTP 429 after the Retry-After Slack sends, and on 500/503
    with exponential backoff and jitter (slack_sdk's default interval calculator: about 0.5 s, then 1 s)."""
    return [
        CALL_COUNTER,
        ConnectionErrorRetryHandler(max_retry_count=2),
        RateLimitErrorRetryHandler(max_retry_count=5),
        ServerErrorRetryHandler(max_retry_count=2),
    ]


def make_client(settings: Settings, token: str | None = None) -> WebClient:
    """A WebClient against `SLACK_API_URL`, with the app's retry policy."""
    return WebClient(
        token=token if token is not None else settings.slack_bot_token,
        base_url=settings.slack_api_url,
        timeout=WEB_API_TIMEOUT_SECONDS,
        retry_handlers=retry_handlers(),
        # Which process made a call, for the operator reading a proxy's log (and the crash tests).
        headers={WORKER_HEADER: f"{socket.gethostname()}:{os.getpid()}"},
    )


def counting_only(client: WebClient, *, timeout: float | None = None) -> WebClient:
    """A copy of `client` that counts its calls but leaves every retry to the caller (and times out after `timeout`
    seconds, if given).

    bot.slack.fanout paces and retries by itself: one 429 there pauses the whole workspace's stream, instead of each
    thread sleeping on its own and the others running into the same limit. Calls before an ack or a views.open must
    not sleep on a 429 at all (bot.slack.gateway.Slack.quick).
    """
    return WebClient(
        token=client.token,
        base_url=client.base_url,
        timeout=client.timeout if timeout is None else timeout,  # type: ignore[arg-type]
        ssl=client.ssl,
        proxy=client.proxy,
        headers=dict(client.headers),
        team_id=client.default_params.get("team_id"),
        logger=client.logger,
        retry_handlers=[handler for handler in client.retry_handlers if isinstance(handler, SlackCallCounter)],
    )


class Clients:
    """One Web API client a workspace, for work outside a request (the gateway's `for_team`).

    With many workspaces each carries its workspace's bot token (refreshed when it expires soon), and asking for a
    workspace with none raises WorkspaceNotInstalled; with SLACK_BOT_TOKEN there is one token for all.
    """

    def __init__(self, settings: Settings, installations: TokenSource | None) -> None:
        self.settings = settings
        self.installations = installations
        self._clients: dict[str, WebClient] = {}
        self._lock = threading.Lock()

    def for_team(self, team_id: str) -> WebClient:
        token = None if self.installations is None else self.installations.bot_token(team_id)
        key = team_id if token is None else f"{team_id}:{token}"
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                if token is not None:  # drop the client of a token that was rotated away
                    self._clients = {k: c for k, c in self._clients.items() if not k.startswith(team_id + ":")}
                client = self._clients[key] = make_client(self.settings, token)
            return client


class TokenSource(Protocol):
    def bot_token(self, team_id: str) -> str: ...
