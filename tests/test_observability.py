"""Structured logs that name the request, and /metrics in Prometheus format, over HTTP like an operator sees them."""

from __future__ import annotations

import io
import json
import logging
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
from prometheus_client.parser import text_string_to_metric_families
from slack_bolt import Ack, BoltContext

from bot.devtools.harness import SIGNING_SECRET, Cadence
from bot.devtools.signed import sign
from bot.server import logs, metrics
from bot.server.requestlog import REQUEST_ID_HEADER, listener_of

probe_log = logging.getLogger("cadence.probe")


@pytest.fixture
def json_logs() -> Iterator[io.StringIO]:
    """The app's log lines as LOG_FORMAT=json writes them."""
    stream = io.StringIO()
    handler = logs.make_handler("json", stream)
    root = logging.getLogger()
    root.addHandler(handler)
    probe_log.setLevel(logging.INFO)
    yield stream
    root.removeHandler(handler)
    probe_log.setLevel(logging.NOTSET)


def records(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def scrape(cadence: Cadence) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample /metrics serves, by name and labels."""
    reply = cadence.slack.get("/metrics")
    assert reply.status == 200
    samples = {}
    for family in text_string_to_metric_families(reply.body.decode()):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def signed_command(cadence: Cadence, command: str, text: str) -> tuple[int, str]:
    """A slash command sent by hand, to read the response headers too."""
    body = urlencode({"team_id": "T1", "channel_id": "C1", "user_id": "U1", "command": command, "text": text,
                      "response_url": cadence.fake.response_url(), "trigger_id": "t.1"}).encode()
    ts = str(int(time.time()))
    request = urllib.request.Request(cadence.url + "/slack/events", data=body, method="POST", headers={
        "Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": sign(SIGNING_SECRET, ts, body)})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, response.headers[REQUEST_ID_HEADER]


def add_probe(cadence: Cadence) -> None:
    def probe(ack: Ack, context: BoltContext) -> None:
        probe_log.info("acknowledging")
        ack()
        probe_log.info("after the ack")  # runs on as listener work after Slack got its answer

    def click(ack: Ack, client, context: BoltContext) -> None:
        ack()
        client.chat_postMessage(channel=context.channel_id, text="clicked")

    cadence.app.command("/probe")(probe)
    cadence.app.action("probe.click")(click)


def test_every_log_record_of_a_request_names_its_workspace_channel_user_and_request(
    cadence: Cadence, json_logs: io.StringIO
) -> None:
    add_probe(cadence)

    status, request_id = signed_command(cadence, "/probe", "")
    cadence.settle()
    second_status, second_id = signed_command(cadence, "/probe", "")
    cadence.settle()

    assert (status, second_status) == (200, 200)
    assert len(request_id) == len(second_id) == 16
    assert request_id != second_id
    mine = [r for r in records(json_logs) if r["logger"] == "cadence.probe" and r["request_id"] == request_id]
    assert [r["message"] for r in mine] == ["acknowledging", "after the ack"]
    for record in mine:
        assert (record["team"], record["channel"], record["user"], record["listener"]) == ("T1", "C1", "U1", "/probe")


def test_the_error_handler_logs_with_the_request_id(cadence: Cadence, json_logs: io.StringIO) -> None:
    def broken(ack: Ack) -> None:
        ack()
        raise RuntimeError("a bug")

    cadence.app.command("/broken")(broken)

    _status, request_id = signed_command(cadence, "/broken", "")
    cadence.settle()

    (failure,) = [r for r in records(json_logs) if r["logger"] == "cadence.errors"]
    assert failure["request_id"] == request_id
    assert failure["level"] == "ERROR"
    assert "RuntimeError: a bug" in failure["exception"]


def test_metrics_count_requests_by_listener_and_slack_calls_by_method(cadence: Cadence) -> None:
    add_probe(cadence)
    before = scrape(cadence)

    cadence.command("/cadence", "help")
    cadence.command("/cadence", "help")
    cadence.slack.block_action("probe.click", "v", channel="C9")
    cadence.settle()
    cadence.fake.fail("chat.postMessage", status=429, retry_after=0)
    cadence.slack.block_action("probe.click", "v", channel="C9")
    cadence.settle()

    after = scrape(cadence)
    count = "cadence_request_duration_seconds_count"

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta(count, kind="command", listener="/cadence") == 2
    assert delta(count, kind="action", listener="probe.click") == 2
    assert delta("cadence_request_duration_seconds_bucket", kind="command", listener="/cadence", le="3.0") == 2
    assert delta("cadence_slack_api_calls_total", method="chat.postMessage") == 3
    assert delta("cadence_slack_api_errors_total", method="chat.postMessage", error="ratelimited") == 1
    assert len(cadence.fake.messages("C9")) == 2


def test_scheduled_work_lag_shows_on_metrics(cadence: Cadence) -> None:
    before = scrape(cadence)
    due = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

    metrics.observe_lag("standup.prompt", due, due + timedelta(seconds=42))
    metrics.observe_lag("standup.prompt", due, due - timedelta(seconds=5))  # early counts as on time

    after = scrape(cadence)
    name = "cadence_scheduled_work_lag_seconds"
    assert value(after, name + "_count", kind="standup.prompt") - value(before, name + "_count",
                                                                        kind="standup.prompt") == 2
    assert value(after, name + "_sum", kind="standup.prompt") - value(before, name + "_sum",
                                                                      kind="standup.prompt") == 42
    assert value(after, name + "_bucket", kind="standup.prompt", le="60.0") - value(
        before, name + "_bucket", kind="standup.prompt", le="60.0") == 2


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"command": "/standup", "text": "x"}, ("command", "/standup")),
        ({"type": "block_actions", "actions": [{"action_id": "poker.vote"}]}, ("action", "poker.vote")),
        ({"type": "view_submission", "view": {"callback_id": "standup.answer"}}, ("view", "standup.answer")),
        ({"type": "message_action", "callback_id": "blocker.flag"}, ("shortcut", "blocker.flag")),
        ({"type": "block_suggestion", "action_id": "retro.pick"}, ("options", "retro.pick")),
        ({"type": "event_callback", "event": {"type": "app_home_opened"}}, ("event", "app_home_opened")),
    ],
)
def test_each_kind_of_request_is_named_by_its_listener(body: dict, expected: tuple[str, str]) -> None:
    assert listener_of(body) == expected


def test_a_listener_failing_right_after_its_ack_still_answers_slack(cadence: Cadence) -> None:
    def broken(ack: Ack) -> None:
        ack()
        raise RuntimeError("fails at once, like a query on a database that is down")

    cadence.app.command("/broken")(broken)

    statuses = [cadence.command("/broken").status for _ in range(5)]

    assert statuses == [200] * 5  # Bolt alone would answer some of these 404 after 3 s (bot/acks.py)
    assert len(cadence.fake.responses()) == 5


def test_without_the_http_layer_each_request_gets_its_own_id(cadence: Cadence) -> None:
    """Socket Mode hands Bolt requests with no WSGI layer in front; a thread must not reuse an earlier request's id."""
    from slack_bolt.request import BoltRequest

    from bot.server import requestlog

    seen: list[str] = []

    def probe(ack: Ack) -> None:
        ack()
        info = requestlog.current()
        assert info is not None
        seen.append(info.request_id)

    cadence.app.command("/probe")(probe)
    for _ in range(2):
        body = urlencode({"team_id": "T1", "channel_id": "C1", "user_id": "U1", "command": "/probe", "text": ""})
        response = cadence.app.dispatch(BoltRequest(body=body, mode="socket_mode"))
        assert response.status == 200
    cadence.settle()

    assert len(set(seen)) == 2


def test_a_missing_metrics_directory_stops_the_program_naming_the_variable(tmp_path) -> None:
    from bot.server.settings import ConfigError, load_settings

    with pytest.raises(ConfigError, match="PROMETHEUS_MULTIPROC_DIR is invalid: no such directory"):
        load_settings(_env_file=None, prometheus_multiproc_dir=str(tmp_path / "missing"))
    assert load_settings(_env_file=None, prometheus_multiproc_dir=str(tmp_path)).prometheus_multiproc_dir == str(
        tmp_path)
