"""Prometheus metrics: request latency by listener, Slack Web API calls and errors, scheduled-work lag.

`GET /metrics` serves them (bot/server.py). Under several gunicorn workers set `PROMETHEUS_MULTIPROC_DIR` to an
empty directory in the environment before start: every worker then writes its numbers there and `/metrics`, whichever
worker answers, adds them up (prometheus_client's multiprocess mode).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

LABEL_LIMIT = 100

REQUEST_SECONDS = Histogram(
    "cadence_request_duration_seconds",
    "Time from a Slack request's arrival to Cadence's answer (the acknowledgement), by listener",
    ["kind", "listener"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0),
)
SLACK_CALLS = Counter(
    "cadence_slack_api_calls",
    "Web API requests sent to Slack, every attempt (retries included), by method",
    ["method"],
)
SLACK_ERRORS = Counter(
    "cadence_slack_api_errors",
    "Web API attempts that failed, by method and error (a Slack error code, http_NNN, ratelimited, connection_error)",
    ["method", "error"],
)
WORK_LAG = Histogram(
    "cadence_scheduled_work_lag_seconds",
    "Time from when scheduled work fell due to when it was done, by kind of work",
    ["kind"],
    buckets=(1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200),
)
JOB_FAILURES = Counter(
    "cadence_scheduled_job_failures",
    "Scheduler ticks on which a job failed (it runs again on the next tick), by job",
    ["job"],
)


def _label(value: str | None) -> str:
    return (value or "")[:LABEL_LIMIT]


def observe_request(kind: str, listener: str | None, seconds: float) -> None:
    """Record how long the app took to answer one Slack request."""
    REQUEST_SECONDS.labels(_label(kind), _label(listener)).observe(seconds)


def observe_lag(kind: str, due_at: datetime, done_at: datetime) -> None:
    """Record that scheduled work of `kind` (e.g. "standup.prompt") due at `due_at` was done at `done_at`.

    Ceremonies call this when they finish a claim; early work counts as no lag.
    """
    WORK_LAG.labels(_label(kind)).observe(max(0.0, (done_at - due_at).total_seconds()))


def job_failed(job: str) -> None:
    JOB_FAILURES.labels(_label(job)).inc()


class SlackCallCounter(RetryHandler):
    """Counts every Web API attempt and its failure by method; never retries itself.

    It rides in the client's retry handlers (first in the list) because slack_sdk shows them every response and
    every connection error, and Bolt copies a client's retry handlers into each request's client, which a WebClient
    subclass would not survive.
    """

    def __init__(self) -> None:
        super().__init__(max_retry_count=0)

    def can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        method = _label(request.url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1])
        SLACK_CALLS.labels(method).inc()
        failure = _failure(response, error)
        if failure is not None:
            SLACK_ERRORS.labels(method, _label(failure)).inc()
        return False

    def _can_retry(self, **_kwargs: Any) -> bool:
        return False


def _failure(response: HttpResponse | None, error: Exception | None) -> str | None:
    if response is None:
        return "connection_error" if error is not None else None
    if response.status_code == 429:
        return "ratelimited"
    if response.status_code != 200:
        return f"http_{response.status_code}"
    body = response.body if isinstance(response.body, dict) else {}
    if body.get("ok") is False:
        return str(body.get("error") or "unknown_error")
    return None


def exposition(multiprocess_dir: str | None = None) -> tuple[bytes, str]:
    """The metrics in Prometheus text format, and its content type.

    With `multiprocess_dir` (PROMETHEUS_MULTIPROC_DIR), the sum over every worker process; else this process's own.
    """
    if multiprocess_dir:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=multiprocess_dir)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST



@dataclass(frozen=True)
class Backlog:
    """Scheduled work of one kind that is due and not done yet (a schedule kind of storage.due, or the outbox)."""

    kind: str
    waiting: int
    oldest_due_at: datetime | None


class _BacklogCollector:
    def __init__(self, backlogs: Iterable[Backlog], now: datetime) -> None:
        self.backlogs, self.now = list(backlogs), now

    def collect(self) -> Iterator[Metric]:
        waiting = GaugeMetricFamily(
            "cadence_scheduler_backlog",
            "Scheduled work due now and not done yet, by kind (stand-ups, blockers, sprints and polls due; outbox "
            "rows due and not sent); read from the database, the same whichever process answers",
            labels=["kind"])
        lag = GaugeMetricFamily(
            "cadence_scheduler_oldest_due_seconds",
            "How long the oldest due item of each kind has waited (0 when nothing waits)",
            labels=["kind"])
        for item in self.backlogs:
            waiting.add_metric([_label(item.kind)], item.waiting)
            age = (self.now - item.oldest_due_at).total_seconds() if item.oldest_due_at is not None else 0.0
            lag.add_metric([_label(item.kind)], max(0.0, age))
        yield waiting
        yield lag


def backlog_exposition(backlogs: Iterable[Backlog], now: datetime) -> bytes:
    """The scheduler's backlog gauges in Prometheus text format (appended to `exposition`'s)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_BacklogCollector(backlogs, now))  # type: ignore[arg-type]
    return generate_latest(registry)
