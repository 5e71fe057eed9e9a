"""The Bolt app factory."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import Any

from slack_bolt import App, BoltContext, BoltRequest, BoltResponse
from slack_bolt.listener_matcher import ListenerMatcher

from bot.listeners import register_all
from bot.server import acks, dedup, errors, redact, requestlog
from bot.server.edge import VERIFIED
from bot.server.runtime import Runtime
from bot.slack import oauth

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


class KeyedMatcher(ListenerMatcher):
    """Bolt's matcher for a listener registered with a plain name, behind a cheap comparison of names.

    Bolt asks every registered listener's matcher in turn, and each one builds its keyword arguments first: with
    every ceremony's listeners that was most of the CPU an acknowledgement costs. A request whose kind and name
    (command, action id, view callback id, shortcut callback id, event type) differ from the listener's is passed over
    at once; anything else is left to Bolt's own matcher, so what matches is unchanged.
    """

    def __init__(self, inner: ListenerMatcher, key: tuple[str, str]) -> None:
        self.inner = inner
        self.key = key

    def matches(self, req: BoltRequest, resp: BoltResponse) -> bool:
        key = req.context.get(REQUEST_KEY)
        if key is None:
            key = req.context[REQUEST_KEY] = request_key(req.body) or ("", "")
        if key[0] and key != self.key:
            return False
        return self.inner.matches(req, resp)


REQUEST_KEY = "cadence.request_key"


def request_key(body: dict[str, Any]) -> tuple[str, str] | None:
    """The kind and name a request is routed by, or None for a shape Bolt alone should judge."""
    kind = body.get("type")
    if isinstance(body.get("command"), str):
        return ("command", body["command"])
    if kind == "block_actions" and body.get("actions"):
        return ("action", str(body["actions"][0].get("action_id", "")))
    if kind in ("view_submission", "view_closed"):
        return ("view", str((body.get("view") or {}).get("callback_id", "")))
    if kind in ("shortcut", "message_action"):
        return ("shortcut", str(body.get("callback_id", "")))
    if kind == "event_callback":
        return ("event", str((body.get("event") or {}).get("type", "")))
    return None


class CadenceApp(App):
    """Bolt's App, with every listener guarded (see `guarded`) and found quickly (see `KeyedMatcher`)."""

    _registering: tuple[str, str] | None = None

    def dispatch(self, req: BoltRequest) -> BoltResponse:
        """Bolt's dispatch, with an `ack` that answers Slack the moment it is given (see `bot.server.acks`)."""
        acks.expect_ack(req.context)
        try:
            return super().dispatch(req)
        finally:
            acks.dispatched()

    def _keyed(self, kind: str, name: Any, register: Callable[..., Any]) -> Callable[..., Any]:
        if not isinstance(name, str):
            return register

        def keyed_register(*args: Any, **kwargs: Any) -> Any:
            self._registering = (kind, name)
            try:
                return register(*args, **kwargs)
            finally:
                self._registering = None

        return keyed_register

    def command(self, command: Any, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        return self._keyed("command", command, super().command(command, *args, **kwargs))

    def action(self, constraints: Any, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        return self._keyed("action", constraints, super().action(constraints, *args, **kwargs))

    def view(self, constraints: Any, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        return self._keyed("view", constraints, super().view(constraints, *args, **kwargs))

    def shortcut(self, constraints: Any, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        return self._keyed("shortcut", constraints, super().shortcut(constraints, *args, **kwargs))

    def event(self, event: Any, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        return self._keyed("event", event, super().event(event, *args, **kwargs))

    def _register_listener(  # type: ignore[override]
        self, functions: Sequence[Callable[..., Any]], primary_matcher: ListenerMatcher, *args: Any, **kwargs: Any
    ) -> Callable[..., Any] | None:
        functions = list(functions)
        if self._registering is not None:
            primary_matcher = KeyedMatcher(primary_matcher, self._registering)
        super()._register_listener([guarded(f) for f in functions], primary_matcher, *args, **kwargs)
        return functions[0] if len(functions) == 1 else None


# Threads running listeners. A listener acks and then goes on working on the same thread (Web API calls, which wait
# for Slack), and each new request's ack needs a free thread: with 32, a Slack slow for a few seconds let 32 clicks
# hold every thread, and the next clicks were never acked. Threads start only when none is idle, so this is a
# ceiling for bad moments, not a cost; the database pool (10 + 20 overflow) still bounds database work at once.
LISTENER_THREADS = 256


def create_app(runtime: Runtime, *, listener_executor: Executor | None = None) -> App:
    """A Bolt app wired to Cadence's listeners, with the runtime in every listener's context.

    Over HTTP it must be served behind `bot.server.edge.SlackEdge` (as `CadenceWSGI` does), which verifies every
    request before Bolt sees it: Bolt's own verification is off, because it logs the whole body of a refused request.
    """
    settings = runtime.settings
    settings.require_serving()
    redact.install(settings)
    app = CadenceApp(
        signing_secret=settings.slack_signing_secret or "socket-mode-has-no-signing-secret",
        process_before_response=False,
        listener_executor=acks.AckAwaitingExecutor(requestlog.ContextCarryingExecutor(
            listener_executor or ThreadPoolExecutor(max_workers=LISTENER_THREADS, thread_name_prefix="listener")
        )),
        request_verification_enabled=False,
        **oauth.app_options(runtime.settings, runtime.installations, db=runtime.db, now=runtime.now),
    )

    socket_mode = settings.socket_mode

    @app.middleware
    def prepare_request(body: dict[str, Any], context: BoltContext, next: Any) -> Any:
        # One middleware rather than two: each one costs Bolt a round of building keyword arguments.
        # Postgres text cannot hold NUL; nobody means one, so it goes before any listener sees the payload.
        _drop_nul(body)
        context["runtime"] = runtime
        if socket_mode:  # unsigned, but it came over the socket Slack authenticated with the app token
            context[VERIFIED] = True
        return next()

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
