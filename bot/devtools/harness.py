"""The integration harness: the real app over HTTP, a fake Slack, a frozen clock, and a way to wait for work."""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from slack_bolt import App

from bot.devtools.fakeslack import FakeSlack
from bot.devtools.signed import SlackSender
from bot.jobs.scheduler import Scheduler
from bot.server.app import LISTENER_THREADS, create_app
from bot.server.runtime import Runtime
from bot.server.settings import Settings
from bot.server.wsgi import CadenceWSGI
from storage.db import Database

SIGNING_SECRET = "test-signing-secret"
BOT_TOKEN = "xoxb-test-token"
# The app refuses to serve with the public development default (see Settings.require_serving).
ANONYMITY_SECRET = "harness-anonymity-secret-4b1d"


class FrozenClock:
    """The app's clock in tests: it moves only when the test moves it."""

    def __init__(self, now: datetime) -> None:
        self._now = now
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, now: datetime) -> None:
        assert now.tzinfo is not None, "use timezone-aware times"
        with self._lock:
            self._now = now.astimezone(UTC)

    def advance(self, delta: timedelta) -> datetime:
        with self._lock:
            self._now += delta
            return self._now


class TrackingExecutor(ThreadPoolExecutor):
    """Bolt's listener executor, remembering every task so that a test can wait for the work after an ack."""

    def __init__(self) -> None:
        super().__init__(max_workers=LISTENER_THREADS, thread_name_prefix="listener")
        self._futures: list[Future[Any]] = []
        self._lock = threading.Lock()

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        future = super().submit(fn, *args, **kwargs)
        with self._lock:
            self._futures.append(future)
        return future

    def settle(self, timeout: float = 30.0) -> None:
        """Wait until every listener, including those started by listeners, has finished."""
        while True:
            with self._lock:
                pending = [f for f in self._futures if not f.done()]
                self._futures = pending
            if not pending:
                return
            _done, not_done = wait(pending, timeout=timeout)
            if not_done:
                raise TimeoutError(f"{len(not_done)} listener tasks still running after {timeout}s")


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    request_queue_size = 128  # a storm of simultaneous clicks must queue, not be reset (gunicorn's backlog is 2048)


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *_args: Any) -> None:
        return


@dataclass
class Cadence:
    """One running app: send it what Slack sends, read what it sent to the fake Slack and stored."""

    fake: FakeSlack
    runtime: Runtime
    app: App
    slack: SlackSender
    executor: TrackingExecutor
    url: str
    _server: WSGIServer
    _thread: threading.Thread
    scheduler: Scheduler = field(init=False)

    def __post_init__(self) -> None:
        self.scheduler = Scheduler(self.runtime)

    @property
    def db(self) -> Database:
        return self.runtime.db

    @property
    def clock(self) -> FrozenClock:
        clock = self.runtime.clock
        assert isinstance(clock, FrozenClock)
        return clock

    def settle(self) -> None:
        """Wait for the work the app does after acknowledging, in the background too."""
        self.executor.settle()
        self.runtime.background.settle()
        self.executor.settle()
        # What the listeners and jobs queued goes out now (what is due later waits for the clock to move).
        while self.scheduler.outbox.drain():
            self.executor.settle()
            self.runtime.background.settle()

    def tick(self, now: datetime | None = None) -> None:
        """Move the clock to `now` (if given) and run every scheduled job once, as the scheduler would."""
        if now is not None:
            self.clock.set(now)
        self.settle()
        self.scheduler.tick()
        self.settle()

    def command(self, command: str, text: str = "", **kwargs: Any) -> Any:
        reply = self.slack.command(command, text, **kwargs)
        self.settle()
        return reply

    def stop(self) -> None:
        self.settle()
        self._server.shutdown()
        self._server.server_close()
        self.executor.shutdown(wait=True)
        self.runtime.background.shutdown()
        self.runtime.db.dispose()


def start_cadence(fake: FakeSlack, database_url: str, clock: FrozenClock, **setting_overrides: Any) -> Cadence:
    """The real app, wired to `fake` and the database, served over HTTP on a free local port."""
    values: dict[str, Any] = {
        "slack_bot_token": BOT_TOKEN,
        "slack_signing_secret": SIGNING_SECRET,
        "slack_api_url": fake.api_url,
        "database_url": database_url,
        # The clock is frozen but the pace is real time: a second between two messages in a channel, or four a
        # second for a workspace, would make every test wait. Tests of pacing set these (and the fake's limits).
        "slack_channel_interval_seconds": 0.05,
        "slack_fanout_per_second": 50.0,
        **setting_overrides,
    }
    if "retro_anonymity_secret" not in values:  # its former name, which a caller may still use
        values.setdefault("cadence_anonymity_secret", ANONYMITY_SECRET)
    settings = Settings(_env_file=None, **values)  # type: ignore[call-arg]
    runtime = Runtime.from_settings(settings, clock=clock)
    fake.clock = lambda: clock().timestamp()
    executor = TrackingExecutor()
    app = create_app(runtime, listener_executor=executor)
    server = make_server("127.0.0.1", 0, CadenceWSGI(runtime, app), server_class=_ThreadingWSGIServer,
                         handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), name="cadence-http", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    sender = SlackSender(url, SIGNING_SECRET, fake, team_id=fake.team_id)
    return Cadence(fake, runtime, app, sender, executor, url, server, thread)
