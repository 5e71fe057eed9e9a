"""The Bolt app factory."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import Any

from slack_bolt import App, BoltContext

from bot import dedup, errors, oauth, redact, requestlog
from bot.runtime import Runtime

GUARD_ARGS = ("ack", "body", "context")


def guarded(listener: Callable[..., Any]) -> Callable[..., Any]:
    """`listener`, with any failure handed to the global error handler instead of raised.

    Bolt clears the acknowledgement when an acknowledged listener raises, so the request would wait out Slack's
    3 seconds and answer 404 although the listener had acknowledged; and a listener failing before its ack gets a
    500, which Slack shows as an error of its own. Instead, a failure is acknowledged (if it was not yet) and the
    person is told in one ephemeral line by the global handler.
    """
    names = inspect.getfullargspec(inspect.unwrap(listener)).args
    extra = [name for name in GUARD_ARGS if name not in names]

    def run(**kwargs: Any) -> Any:
        try:
            return listener(**{name: kwargs[name] for name in names})
        except Exception as error:
            if kwargs["ack"].response is None:
                kwargs["ack"]()
            errors.handle_error(error, kwargs["body"], kwargs["context"])
            return None

    run.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD) for name in [*names, *extra]]
    )
    run.__name__ = getattr(listener, "__name__", "listener")
    run.__qualname__ = getattr(listener, "__qualname__", run.__name__)
    return run


class CadenceApp(App):
    """Bolt's App, with every listener guarded (see `guarded`)."""

    def _register_listener(  # type: ignore[override]
        self, functions: Sequence[Callable[..., Any]], *args: Any, **kwargs: Any
    ) -> Callable[..., Any] | None:
        functions = list(functions)
        super()._register_listener([guarded(f) for f in functions], *args, **kwargs)
        return functions[0] if len(functions) == 1 else None


# Threads running listeners: each request's ack waits for one, so Bolt's default of 5 would queue acks behind slow
# work after other acks (Web API calls); the database pool (10 + 20 overflow) bounds what they can use at once.
LISTENER_THREADS = 32


def create_app(runtime: Runtime, *, listener_executor: Executor | None = None) -> App:
    """A Bolt app wired to Cadence's listeners, with the runtime in every listener's context."""
    settings = runtime.settings
    settings.require_slack()
    redact.install(settings)
    app = CadenceApp(
        signing_secret=settings.slack_signing_secret or "socket-mode-has-no-signing-secret",
        process_before_response=False,
        listener_executor=requestlog.ContextCarryingExecutor(
            listener_executor or ThreadPoolExecutor(max_workers=LISTENER_THREADS, thread_name_prefix="listener")
        ),
        request_verification_enabled=not settings.socket_mode,
        **oauth.app_options(runtime),
    )

    @app.middleware
    def drop_nul_characters(body: dict[str, Any], next: Any) -> Any:
        # Postgres text cannot hold NUL; nobody means one, so it goes before any listener sees the payload.
        _drop_nul(body)
        return next()

    @app.middleware
    def attach_runtime(context: BoltContext, next: Any) -> Any:
        context["runtime"] = runtime
        return next()

    # Imported here because listener modules import this one (for runtime_of).
    from bot.listeners import register_all

    dedup.register(app)
    app.middleware(requestlog.bind_request)
    errors.register(app)
    register_all(app)
    return app


def _drop_nul(node: Any) -> Any:
    """Remove NUL characters from every string inside a payload, in place."""
    if isinstance(node, dict):
        for key, value in node.items():
            node[key] = value.replace("\x00", "") if isinstance(value, str) else _drop_nul(value)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            node[index] = value.replace("\x00", "") if isinstance(value, str) else _drop_nul(value)
    return node


def runtime_of(context: BoltContext) -> Runtime:
    """The runtime a listener works with."""
    return context["runtime"]
