"""Events API deliveries are handled once: a retry (X-Slack-Retry-Num) or a repeat of an `event_id` is only acked."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from slack_bolt import App, BoltContext, BoltRequest, BoltResponse

from storage import dedup as store

log = logging.getLogger("cadence.dedup")

# Slack retries a delivery three times within about an hour; remembering ids for two days is ample.
REMEMBER_EVENTS_FOR = timedelta(days=2)


def skip_repeated_events(
    body: dict, context: BoltContext, request: BoltRequest, next: Callable[[], BoltResponse]
) -> BoltResponse:
    """Pass an event on the first time its `event_id` arrives; ack every later delivery without doing anything."""
    event_id = body.get("event_id") if body.get("type") == "event_callback" else None
    if not event_id:
        return next()
    runtime = context["runtime"]
    team_id = body.get("team_id") or context.team_id or ""
    with runtime.db.transaction() as session:
        first = store.first_delivery(session, team_id=team_id, event_id=str(event_id), now=runtime.now())
    if first:
        return next()
    retry = (request.headers.get("x-slack-retry-num") or ["-"])[0]
    log.info("event %s was already handled; acknowledged delivery (retry %s) without acting", event_id, retry,
             extra={"team": team_id})
    return BoltResponse(status=200, body="")


def register(app: App) -> None:
    app.middleware(skip_repeated_events)
