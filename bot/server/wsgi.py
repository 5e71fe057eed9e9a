"""The WSGI application Slack talks to, and the production server around it."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from gunicorn.app.base import BaseApplication
from slack_bolt import App
from sqlalchemy.exc import SQLAlchemyError

from bot.jobs.scheduler import Scheduler
from bot.reports.web import PREFIX as REPORTS_PREFIX
from bot.reports.web import ReportPages
from bot.server import metrics
from bot.server.app import create_app
from bot.server.edge import SlackEdge
from bot.server.requestlog import ObservedRequests
from bot.server.runtime import Runtime
from bot.slack.oauth import record_single_workspace
from bot.trackers.webhooks import PREFIX as WEBHOOKS_PREFIX
from bot.trackers.webhooks import TrackerWebhooks
from storage import due, outbox

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIEnvironment

log = logging.getLogger("cadence.server")

SERVER_THREADS = 16


class CadenceWSGI:
    """`POST /slack/events` for Slack (checked at the edge, see `bot.server.edge`), `GET /healthz` for the platform,
    `GET /metrics` for Prometheus, `POST /trackers/jira|github` for the trackers' webhooks (bot.trackers.webhooks),
    `GET /reports/<token>` for report pages (a signed link, not a Slack signature)."""

    def __init__(self, runtime: Runtime, app: App) -> None:
        self.runtime = runtime
        self.app = app
        self.slack = ObservedRequests(SlackEdge(runtime, app))
        self.trackers = TrackerWebhooks(runtime)
        self.reports = ReportPages(runtime)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/healthz":
            return self._health(start_response)
        if environ.get("PATH_INFO") == "/metrics":
            return self._metrics(start_response)
        if str(environ.get("PATH_INFO") or "").startswith(WEBHOOKS_PREFIX):  # Jira and GitHub (bot/trackers)
            return self.trackers(environ, start_response)
        if str(environ.get("PATH_INFO", "")).startswith(REPORTS_PREFIX):
            return self.reports(environ, start_response)
        return self.slack(environ, start_response)

    def _metrics(self, start_response: StartResponse) -> Iterable[bytes]:
        body, content_type = metrics.exposition(self.runtime.settings.prometheus_multiproc_dir)
        body += self._backlog()
        start_response("200 OK", [("Content-Type", content_type), ("Content-Length", str(len(body)))])
        return [body]

    def _backlog(self) -> bytes:
        """The scheduler's and the outbox's backlog, from the database (nothing when it is down)."""
        now = self.runtime.now()
        try:
            with self.runtime.db.reading() as session:
                found = [metrics.Backlog(b.kind, b.waiting, b.oldest_due_at) for b in due.backlog(session, now=now)]
                sending = outbox.backlog(session, now=now)
        except SQLAlchemyError as error:
            log.warning("/metrics without the scheduler backlog: database unavailable (%s)", type(error).__name__)
            return b""
        found.append(metrics.Backlog("outbox", sending.waiting, sending.oldest_due_at))
        return metrics.backlog_exposition(found, now)

    def _health(self, start_response: StartResponse) -> Iterable[bytes]:
        healthy = self.runtime.db.ping()
        body = json.dumps({"status": "ok" if healthy else "database unavailable"}).encode()
        status = "200 OK" if healthy else "503 Service Unavailable"
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]


def build_wsgi(runtime: Runtime) -> CadenceWSGI:
    app = create_app(runtime)
    record_single_workspace(runtime.settings, runtime.installations, db=runtime.db, now=runtime.now)
    return CadenceWSGI(runtime, app)


class GunicornServer(BaseApplication):  # type: ignore[misc]
    """Gunicorn with threaded workers; each worker builds its own app and runs its own scheduler tick.

    Several workers (or machines) are safe because every scheduled action is claimed in the database first.
    """

    def __init__(self, runtime_factory: Any, options: dict[str, Any]) -> None:
        self.runtime_factory = runtime_factory
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> CadenceWSGI:
        runtime = self.runtime_factory()
        wsgi = build_wsgi(runtime)
        Scheduler(runtime).start()
        return wsgi


def serve_http(runtime_factory: Any, *, port: int, workers: int, log_level: str) -> None:
    """Run the app under gunicorn until stopped."""
    GunicornServer(
        runtime_factory,
        {
            "bind": f"0.0.0.0:{port}",
            "workers": workers,
            "worker_class": "gthread",
            "threads": SERVER_THREADS,
            "timeout": 30,
            "graceful_timeout": 20,
            "loglevel": log_level.lower(),
            "accesslog": None,
        },
    ).run()


def serve_socket_mode(runtime: Runtime) -> None:
    """Run the app over Socket Mode (no public URL needed) until stopped."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    app = create_app(runtime)
    record_single_workspace(runtime.settings, runtime.installations, db=runtime.db, now=runtime.now)
    scheduler = Scheduler(runtime)
    scheduler.start()
    try:
        SocketModeHandler(app, runtime.settings.slack_app_token).start()
    finally:
        scheduler.shutdown()
