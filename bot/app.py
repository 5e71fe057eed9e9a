"""The Bolt app factory."""

from __future__ import annotations

from concurrent.futures import Executor, ThreadPoolExecutor
from typing import Any

from slack_bolt import App, BoltContext

from bot import acks, errors, requestlog
from bot.listeners import register_all
from bot.runtime import Runtime
from bot.slack import make_client

# Threads running listeners: each request's ack waits for one, so Bolt's default of 5 would queue acks behind slow
# work after other acks (Web API calls); the database pool (10 + 20 overflow) bounds what they can use at once.
LISTENER_THREADS = 32


def create_app(runtime: Runtime, *, listener_executor: Executor | None = None) -> App:
    """A Bolt app wired to Cadence's listeners, with the runtime in every listener's context."""
    settings = runtime.settings
    settings.require_slack()
    app = App(
        client=make_client(settings),
        signing_secret=settings.slack_signing_secret or "socket-mode-has-no-signing-secret",
        process_before_response=False,
        listener_executor=requestlog.ContextCarryingExecutor(
            listener_executor or ThreadPoolExecutor(max_workers=LISTENER_THREADS, thread_name_prefix="listener")
        ),
        request_verification_enabled=not settings.socket_mode,
    )

    @app.middleware
    def attach_runtime(context: BoltContext, next: Any) -> Any:
        context["runtime"] = runtime
        return next()

    app.middleware(acks.keep_acks)
    app.middleware(requestlog.bind_request)
    errors.register(app)
    register_all(app)
    return app


def runtime_of(context: BoltContext) -> Runtime:
    """The runtime a listener works with."""
    return context["runtime"]
