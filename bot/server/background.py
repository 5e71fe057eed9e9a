"""Work nobody waits for (refreshing App Homes), kept out of the way of work somebody does wait for.

A vote storm showed why: each vote republished its voter's Home (about 20 ms of CPU to build), and with every voter's
Home being built at once on the listener threads, the story's own message, which the whole room was watching, showed
the final count 3 s after the last vote. Here such work runs on two threads of its own, after whatever is queued
before it, and a refresh already waiting for the same person is not queued twice: it will read the latest state when
it runs.
"""

from __future__ import annotations

import contextvars
import logging
import threading
from collections.abc import Callable, Hashable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import TypeVar

log = logging.getLogger("cadence.background")

BACKGROUND_THREADS = 2
T = TypeVar("T")


class BackgroundWork:
    """A small pool for deferred work, with at most one waiting task per key."""

    def __init__(self, threads: int = BACKGROUND_THREADS) -> None:
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="background")
        self._lock = threading.Lock()
        self._waiting: set[Hashable] = set()
        self._futures: list[Future[None]] = []

    def submit(self, key: Hashable, work: Callable[[], None]) -> None:
        """Run `work` soon, unless work for `key` is already waiting to start (it will do the same, later)."""
        with self._lock:
            if key in self._waiting:
                return
            self._waiting.add(key)

        def run() -> None:
            with self._lock:  # from here on, a new change needs a run of its own
                self._waiting.discard(key)
            try:
                work()
            except Exception:  # nobody waits for this work, so its failure is logged here or nowhere
                log.exception("background work %s failed", key)

        future = self._pool.submit(contextvars.copy_context().run, run)  # logs keep the request's ids
        with self._lock:
            self._futures = [f for f in self._futures if not f.done()]
            self._futures.append(future)

    def settle(self, timeout: float = 30.0) -> None:
        """Wait until everything submitted so far (and anything it submitted) has run."""
        while True:
            with self._lock:
                pending = [f for f in self._futures if not f.done()]
            if not pending:
                return
            _done, not_done = wait(pending, timeout=timeout)
            if not_done:
                raise TimeoutError(f"{len(not_done)} background tasks still running after {timeout}s")

    def shutdown(self) -> None:
        """Run what is queued, then let the threads go."""
        self._pool.shutdown(wait=True)


def within(seconds: float, work: Callable[[], T]) -> Future[T]:
    """Start `work` on a thread of its own and wait for it at most `seconds`: the caller answers at once when it is
    done (`done()`), otherwise acknowledges with a "still working" answer and then waits for `result()`.

    For a listener whose answer needs a slow call (a tracker checking a token) and whose acknowledgement Slack wants
    within 3 s; its own thread, so a busy pool can never hold it past its moment."""
    future: Future[T] = Future()
    future.set_running_or_notify_cancel()

    def run() -> None:
        try:
            future.set_result(work())
        except BaseException as error:  # re-raised by result(), in the listener's thread
            future.set_exception(error)

    threading.Thread(target=contextvars.copy_context().run, args=(run,), name="within", daemon=True).start()
    wait([future], timeout=seconds)
    return future
