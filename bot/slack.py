"""The one Web API client configuration of the whole app."""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler
from slack_sdk.http_retry.handler import RetryHandler

from bot.settings import Settings

WEB_API_TIMEOUT_SECONDS = 15


def retry_handlers() -> list[RetryHandler]:
    """Retry on connection errors and on HTTP 429 after the Retry-After Slack sends."""
    return [ConnectionErrorRetryHandler(max_retry_count=2), RateLimitErrorRetryHandler(max_retry_count=5)]


def make_client(settings: Settings, token: str | None = None) -> WebClient:
    """A WebClient against `SLACK_API_URL`, with the app's retry policy."""
    return WebClient(
        token=token if token is not None else settings.slack_bot_token,
        base_url=settings.slack_api_url,
        timeout=WEB_API_TIMEOUT_SECONDS,
        retry_handlers=retry_handlers(),
    )
