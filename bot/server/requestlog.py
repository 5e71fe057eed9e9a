"""Which Slack request is being handled: a request id, workspace, channel, user and listener on every log record.

The WSGI layer opens a `RequestInfo` for each HTTP request (and times it for /metrics); a Bolt middleware fills in
who and where once Bolt has verified and parsed the request; the listener executor carries it into the threads that
run listeners after the ack; `ContextFilter` copies it onto every log record.
"""

from __future__ import annotations

import contextvars
import logging
import time
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from slack_bolt import BoltContext

from bot.server import metrics

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

REQUEST_ID_HEADER = "X-Cadence-Request-Id"
FIELDS = ("team", "channel", "user", "listener", "request_id")


@dataclass
class RequestInfo:
    request_id: str
    kind: str = "unverified"
    listener: str | None = None
    team: str | None = None
    channel: str | None = None
    user: str | None = None
    bound: bool = False  # named by bind_request; a bound one left in a thread belongs to an earlier request


_current: contextvars.ContextVar[RequestInfo | None] = contextvars.ContextVar("cadence_request", default=None)


def current() -> RequestInfo | None:
    """The request being handled in this thread, if any."""
    return _current.get()


def new_request_id() -> str:
    return uuid.uuid4().hex[:16]


def listener_of(body: dict[str, Any]) -> tuple[str, str]:
    """The kind of a Slack request and the name of its listener: a command, action_id, callback_id or event type."""
    if body.get("command"):
        return "command", str(body["command"])
    kind = str(body.get("type") or "unknown")
    if kind in ("block_actions", "block_suggestion"):
        actions = body.get("actions") or [body]
        first = actions[0] if isinstance(actions[0], dict) else {}
        return ("action" if kind == "block_actions" else "options"), str(first.get("action_id") or "")
    if kind in ("view_submission", "view_closed"):
        return "view", str((body.get("view") or {}).get("callback_id") or "")
    if kind in ("shortcut", "message_action"):
        return "shortcut", str(body.get("callback_id") or "")
    if kind == "event_callback":
        return "event", str((body.get("event") or {}).get("type") or "")
    return kind, ""


def bind_request(body: dict[str, Any], context: BoltContext, next: Callable[[], Any]) -> Any:
    """Bolt middleware: name the request's workspace, channel, user and listener for logs and metrics."""
    info = _current.get()
    if info is None or info.bound:  # Socket Mode: no WSGI layer in front of Bolt opened one for this request
        info = RequestInfo(new_request_id())
        _current.set(info)
    info.bound = True
    info.kind, info.listener = listener_of(body)
    info.team, info.channel, info.user = context.team_id, context.channel_id, context.user_id
    return next()


class ContextFilter(logging.Filter):
    """Adds the current request's fields to a log record (fields passed with `extra=` win)."""

    def filter(self, record: logging.LogRecord) -> bool:
        info = _current.get()
        if info is not None:
            for name in FIELDS:
                if getattr(record, name, None) is None:
                    setattr(record, name, getattr(info, name))
        return True


class ContextCarryingExecutor(Executor):
    """Runs each task in a copy of the submitting thread's context, so work after the ack logs as its request."""

    def __init__(self, inner: Executor) -> None:
        self.inner = inner

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        return self.inner.submit(contextvars.copy_context().run, fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self.inner.shutdown(wait=wait, cancel_futures=cancel_futures)


class ObservedRequests:
    """WSGI middleware: one RequestInfo per request, its id in a response header, its latency in /metrics."""

    def __init__(self, inner: WSGIApplication) -> None:
        self.inner = inner

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        info = RequestInfo(new_request_id())
        token = _current.set(info)
        started = time.perf_counter()

        def start_with_id(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            return start_response(status, [*headers, (REQUEST_ID_HEADER, info.request_id)], exc_info)

        try:
            # Bolt's WSGI adapter answers with a finished body, so this is the time until Slack gets the ack.
            return self.inner(environ, start_with_id)
        finally:
            metrics.observe_request(info.kind, info.listener, time.perf_counter() - started)
            _current.reset(token)
