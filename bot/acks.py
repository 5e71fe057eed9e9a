"""Answer Slack the moment a listener acknowledges, not on Bolt's next poll.

With `process_before_response=False` Bolt runs each listener on the listener executor and the request thread looks
every 10 ms whether `ack()` has been called, so every acknowledgement waited up to 10 ms more than it needed, and
longer when the interpreter was busy at the moment the poll woke up. Here the request's `ack` is one that signals, and
the executor holds the request thread in `submit` until that signal (or the listener's end, or Bolt's 3 s timeout);
Bolt's poll then finds the ack already given and answers at once. Nothing else about the ack changes.
"""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any

from slack_bolt import Ack, BoltContext

# Slack waits 3 seconds for an acknowledgement; Bolt's runner gives up at the same moment.
ACK_TIMEOUT_SECONDS = 3.0


class SignallingAck(Ack):
    """Bolt's `ack`, which also tells whoever waits for it that it has been given."""

    def __init__(self) -> None:
        super().__init__()
        self.given = threading.Event()
        self.created = time.monotonic()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().__call__(*args, **kwargs)
        finally:
            self.given.set()


# The ack the current request thread will wait for: set by the middleware, taken by the next submit.
_awaited: contextvars.ContextVar[SignallingAck | None] = contextvars.ContextVar("cadence_awaited_ack", default=None)


def expect_ack(context: BoltContext) -> None:
    """Called by the first middleware: the request's `ack` becomes a `SignallingAck` its request thread waits for."""
    # Bolt has already made its own `ack` while building the middleware's arguments; nobody keeps that one, and an
    # ack already given (a built-in middleware answered) is left alone.
    existing = context.get("ack")
    if existing is None or existing.response is None:
        ack = SignallingAck()
        context["ack"] = ack
        _awaited.set(ack)
    else:
        _awaited.set(None)


class AckAwaitingExecutor(Executor):
    """Runs listeners on `inner`; a submit from a request thread returns once the listener has acknowledged."""

    def __init__(self, inner: Executor) -> None:
        self.inner = inner

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        ack = _awaited.get()
        _awaited.set(None)  # one wait per request: a later submit from this thread (a lazy listener) does not wait
        future = self.inner.submit(fn, *args, **kwargs)
        if ack is not None and ack.response is None:
            future.add_done_callback(lambda _: ack.given.set())  # a listener that ends without acking
            ack.given.wait(max(0.0, ack.created + ACK_TIMEOUT_SECONDS - time.monotonic()))
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self.inner.shutdown(wait=wait, cancel_futures=cancel_futures)
