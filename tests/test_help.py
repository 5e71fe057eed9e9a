"""The whole path: a signed request over HTTP into the real app, and what the person sees."""

from __future__ import annotations

import json
import time

import pytest

from bot.devtools.harness import SIGNING_SECRET, Cadence
from bot.devtools.signed import sign


def test_cadence_help_lists_every_command(cadence: Cadence) -> None:
    from bot.listeners import all_commands

    reply = cadence.command("/cadence", "help")
    assert reply.status == 200
    assert reply.json["response_type"] == "ephemeral"
    for command in all_commands():
        assert command.name in reply.text
        assert command.summary in reply.text
        for usage in command.usage:
            assert usage in reply.text


def test_cadence_alone_answers_help(cadence: Cadence) -> None:
    reply = cadence.command("/cadence")
    assert "/cadence help" in reply.text
    assert "Lists every Cadence command" in reply.text


def test_text_it_does_not_understand_gets_the_usage(cadence: Cadence) -> None:
    reply = cadence.command("/cadence", "dance please")
    assert reply.status == 200
    assert "I don't know `dance`." in reply.text
    assert "/cadence help" in reply.text


def test_an_unsigned_request_is_refused(cadence: Cadence) -> None:
    reply = cadence.slack.command("/cadence", "help", signature="v0=" + "0" * 64)
    assert reply.status == 401
    assert cadence.fake.calls("chat.postMessage") == []


def test_a_five_minute_old_request_is_refused(cadence: Cadence) -> None:
    stale = int(time.time()) - 5 * 60 - 1
    reply = cadence.slack.command("/cadence", "help", timestamp=stale)
    assert reply.status == 401


def test_a_request_signed_with_another_secret_is_refused(cadence: Cadence) -> None:
    body = b"command=%2Fcadence&text=help"
    ts = str(int(time.time()))
    reply = cadence.slack.post(body, "application/x-www-form-urlencoded", timestamp=int(ts),
                               signature=sign("not-" + SIGNING_SECRET, ts, body))
    assert reply.status == 401


def test_health_answers_when_the_database_does(cadence: Cadence) -> None:
    reply = cadence.slack.get("/healthz")
    assert reply.status == 200
    assert json.loads(reply.body) == {"status": "ok"}


def test_health_is_503_when_the_database_is_gone(cadence: Cadence, monkeypatch: pytest.MonkeyPatch) -> None:
    from storage.db import Database

    # Given back after the test: the harness drains the outbox from the real database when it stops.
    monkeypatch.setattr(cadence.runtime, "db", Database("postgresql+psycopg://nobody@127.0.0.1:1/none"))
    reply = cadence.slack.get("/healthz")
    assert reply.status == 503
    assert json.loads(reply.body) == {"status": "database unavailable"}


def test_a_failing_listener_tells_the_user_briefly(cadence: Cadence) -> None:
    """Bolt's global error handler, not a try/except in the listener: an ephemeral line, nothing more."""

    def explode(ack, command):  # type: ignore[no-untyped-def]
        ack()
        raise RuntimeError("database exploded: secret details")

    cadence.app.command("/explode")(explode)
    reply = cadence.command("/explode")
    assert reply.status == 200
    responses = cadence.fake.responses()
    assert [r["text"] for r in responses] == [":warning: Something went wrong on our side. Please try again."]
    assert responses[0]["response_type"] == "ephemeral"
    assert "secret details" not in json.dumps(responses)


def test_a_refusal_after_ack_answers_slack_at_once_with_200(cadence: Cadence) -> None:
    """Bolt would wait out 3 s and answer 404 when an acknowledged listener raises; Cadence answers 200 at once."""
    import time as clock

    from ceremonies.errors import InvalidInput

    def refuse(ack, command):  # type: ignore[no-untyped-def]
        ack()
        raise InvalidInput("that week is already planned.")

    cadence.app.command("/refuse")(refuse)
    started = clock.monotonic()
    reply = cadence.command("/refuse")
    assert reply.status == 200
    assert clock.monotonic() - started < 2.5
    assert [r["text"] for r in cadence.fake.responses()] == [":warning: that week is already planned."]


def test_a_failure_before_ack_is_acknowledged_and_the_user_is_told(cadence: Cadence) -> None:
    def broken(ack, command):  # type: ignore[no-untyped-def]
        raise RuntimeError("before ack")

    cadence.app.command("/broken")(broken)
    reply = cadence.command("/broken")
    assert reply.status == 200
    assert [r["text"] for r in cadence.fake.responses()] == [
        ":warning: Something went wrong on our side. Please try again."
    ]


def test_listeners_are_found_by_name_and_by_pattern(cadence: Cadence) -> None:
    """The quick name check in front of Bolt's matchers passes over others, never a listener that should run."""
    import re

    heard: list[str] = []

    def by_name(ack, body):  # type: ignore[no-untyped-def]
        ack()
        heard.append("name:" + body["actions"][0]["action_id"])

    def by_pattern(ack, body):  # type: ignore[no-untyped-def]
        ack()
        heard.append("pattern:" + body["actions"][0]["action_id"])

    cadence.app.action("probe.exact")(by_name)
    cadence.app.action(re.compile(r"probe\.pattern\.\d+"))(by_pattern)
    for action_id in ("probe.exact", "probe.pattern.7", "probe.unknown"):
        assert cadence.slack.block_action(action_id, "v").status in (200, 404)
    cadence.settle()
    assert heard == ["name:probe.exact", "pattern:probe.pattern.7"]
