"""Events API deliveries are handled once: a retry (X-Slack-Retry-Num) or a repeat of an `event_id` is only acked;
and a signed request replayed as it was is answered without acting."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from slack_bolt import App, BoltContext, BoltRequest, BoltResponse

from storage import dedup as store

if TYPE_CHECKING:
    from bot.server.runtime import Runtime

log = logging.getLogger("cadence.dedup")

# Slack retries a delivery three times within about an hour; remembering ids for two days is ample.
REMEMBER_EVENTS_FOR = timedelta(days=2)
# A signature is valid while its timestamp is within 5 minutes of now, in either direction.
SIGNATURE_VALIDITY = timedelta(minutes=5)
PRUNE_EVERY_SECONDS = 60.0
_next_prune = 0.0


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


def first_signature(runtime: Runtime, *, signature: str, sent_at: int, now: float) -> bool:
    """True the first time a signed request arrives; False for a replay of it within its 5 minutes of validity.

    On Postgres every process shares the record: a row per signature, dropped once its timestamp is too old to pass
    verification (now and then a request drops the expired ones). SQLite serves from one process (`cadence serve`
    refuses more workers), whose memory is then the shared record: a row per request there would take the database's
    one write lock on every acknowledgement. Slack's own retries of an event carry a new timestamp and signature:
    they pass here and `skip_repeated_events` knows them by their `event_id`.
    """
    if runtime.db.dialect == "sqlite":
        return _seen_here.first(signature, expires=sent_at + SIGNATURE_VALIDITY.total_seconds(), now=now)
    global _next_prune
    with runtime.db.transaction() as session:
        first = store.first_signature(session, signature=signature, sent_at=datetime.fromtimestamp(sent_at, UTC))
        if now >= _next_prune:
            _next_prune = now + PRUNE_EVERY_SECONDS
            store.forget_signatures_before(session, before=datetime.fromtimestamp(now, UTC) - SIGNATURE_VALIDITY)
    return first


class SeenSignatures:
    """Signatures seen by this process, each until it could no longer verify."""

    def __init__(self) -> None:
        self._expiry: dict[str, float] = {}
        self._lock = threading.Lock()
        self._next_prune = 0.0

    def first(self, signature: str, *, expires: float, now: float) -> bool:
        with self._lock:
            if now >= self._next_prune:
                self._next_prune = now + PRUNE_EVERY_SECONDS
                self._expiry = {s: at for s, at in self._expiry.items() if at >= now}
            if signature in self._expiry:
                return False
            self._expiry[signature] = expires
            return True


_seen_here = SeenSignatures()
