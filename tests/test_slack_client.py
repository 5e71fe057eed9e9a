"""The one Web API client configuration: retries on 5xx, 429 and connection errors, kept by Bolt's request clients."""

from __future__ import annotations

import socket
import urllib.error

import pytest
from prometheus_client import REGISTRY
from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.devtools.fakeslack import FakeSlack
from bot.devtools.harness import Cadence
from bot.server.settings import Settings
from bot.slack.client import make_client


def settings_for(api_url: str) -> Settings:
    return Settings(_env_file=None, slack_bot_token="xoxb-client", slack_api_url=api_url)  # type: ignore[call-arg]


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_a_server_error_and_a_rate_limit_are_retried_and_the_message_arrives_once(fake: FakeSlack) -> None:
    fake.fail("chat.postMessage", status=500)
    fake.fail("chat.postMessage", status=429, retry_after=0)
    errors_before = sample("cadence_slack_api_errors_total", method="chat.postMessage", error="http_500")
    calls_before = sample("cadence_slack_api_calls_total", method="chat.postMessage")

    response = make_client(settings_for(fake.api_url)).chat_postMessage(channel="C1", text="the daily report")

    assert response["ok"]
    assert [m.text for m in fake.messages("C1")] == ["the daily report"]
    assert len(fake.calls("chat.postMessage")) == 3
    assert sample("cadence_slack_api_calls_total", method="chat.postMessage") - calls_before == 3
    assert sample("cadence_slack_api_errors_total", method="chat.postMessage", error="http_500") - errors_before == 1


def test_connection_errors_are_retried_then_raised_and_counted() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    before = sample("cadence_slack_api_errors_total", method="auth.test", error="connection_error")

    with pytest.raises(urllib.error.URLError):
        make_client(settings_for(f"http://127.0.0.1:{port}/api/")).auth_test()

    assert sample("cadence_slack_api_errors_total", method="auth.test", error="connection_error") - before == 3


def test_bolt_request_clients_keep_the_base_url_and_the_retries(cadence: Cadence) -> None:
    seen: list[WebClient] = []

    def probe(ack: Ack, client: WebClient, context: BoltContext) -> None:
        ack()
        seen.append(client)
        client.chat_postMessage(channel=context.channel_id, text="posted from a listener")

    cadence.app.command("/probe")(probe)
    cadence.fake.fail("chat.postMessage", status=503)
    cadence.fake.fail("chat.postMessage", status=429, retry_after=0)

    assert cadence.command("/probe", channel="C7").status == 200

    (client,) = seen
    assert client is not cadence.app.client
    assert client.base_url == cadence.fake.api_url
    assert [type(h) for h in client.retry_handlers] == [type(h) for h in make_client(cadence.runtime.settings)
                                                         .retry_handlers]
    assert [m.text for m in cadence.fake.messages("C7")] == ["posted from a listener"]
