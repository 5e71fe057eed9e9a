"""The Bolt app factory."""

from __future__ import annotations

from concurrent.futures import Executor
from typing import Any

from slack_bolt import App, BoltContext

from bot import dedup, errors, oauth, redact
from bot.listeners import register_all
from bot.runtime import Runtime


def create_app(runtime: Runtime, *, listener_executor: Executor | None = None) -> App:
    """A Bolt app wired to Cadence's listeners, with the runtime in every listener's context."""
    settings = runtime.settings
    settings.require_slack()
    redact.install(settings)
    app = App(
        signing_secret=settings.slack_signing_secret or "socket-mode-has-no-signing-secret",
        process_before_response=False,
        listener_executor=listener_executor,
        request_verification_enabled=not settings.socket_mode,
        **oauth.app_options(runtime),
    )

    @app.middleware
    def attach_runtime(context: BoltContext, next: Any) -> Any:
        context["runtime"] = runtime
        return next()

    dedup.register(app)
    errors.register(app)
    register_all(app)
    return app


def runtime_of(context: BoltContext) -> Runtime:
    """The runtime a listener works with."""
    return context["runtime"]
