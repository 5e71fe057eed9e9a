"""Answer Slack the moment a listener acknowledges, not on Bolt's next poll.

With `process_before_response=False` Bolt runs each listener on the listener executor and the request thread looks
every 10 ms whether `ack()` has been called, so every acknowledgement waited up to 10 ms more than it needed. Here
each request's `ack` is a `SignallingAck` (`CadenceApp.dispatch` puts it in the context before Bolt makes its own),
and the executor holds the request thread in `submit` until it is given (or the listener ends, or Slack's 3 s are
up); Bolt's poll then finds the ack given and answers at once.
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
    """Bolt's `ack`, which also tells the request thread waiting for it that it has been given."""

    def __init__(self) -> None:
        super().__init__()
        self.given = threading.Event()
        self.created = time.monotonic()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().__call__(*args, **kwargs)
        finally:
            self.given.set()


# The ack the current request thread will wait for: set when the request is dispatched, taken by the next submit.
_awaited: contextvars.ContextVar[SignallingAck | None] = contextvars.ContextVar("cadence_awaited_ack", default=None)


def expect_ack(context: BoltContext) -> SignallingAck:
    """Before Bolt dispatches a request: its `ack` becomes a `SignallingAck` this thread will wait for."""
    ack = SignallingAck()
    context["ack"] = ack
    _awaited.set(ack)
    return ack


def dispatched() -> None:
    """After Bolt dispatched the request, whatever happened: this thread waits for nothing any more."""
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
