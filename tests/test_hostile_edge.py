"""`/slack/events` against a hostile internet, over HTTP into the running app: unverified requests cause nothing,
malformed ones get 400 with one short line, oversized ones 413 unread, replays do nothing."""

from __future__ import annotations

import http.client
import json
import logging
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode, urlsplit

import pytest
from slack_bolt import Ack, BoltContext, BoltRequest

from bot.devtools.fakeslack import FakeSlack
from bot.devtools.harness import SIGNING_SECRET, Cadence, FrozenClock, start_cadence
from bot.devtools.signed import Reply, sign
from bot.server import errors
from bot.server.dedup import SeenSignatures
from bot.server.edge import MAX_BODY_BYTES, VERIFIED
from storage import dedup
from storage.db import Database


def raw_post(cadence: Cadence, body: bytes, headers: dict[str, str]) -> Reply:
    """POST exactly these headers (none added) to /slack/events."""
    where = urlsplit(cadence.url)
    connection = http.client.HTTPConnection(where.hostname, where.port, timeout=30)
    try:
        connection.request("POST", "/slack/events", body=body, headers={"Content-Length": str(len(body)), **headers})
        response = connection.getresponse()
        return Reply(response.status, response.read())
    finally:
        connection.close()


def outbound(cadence: Cadence) -> int:
    """Everything the app sent anywhere: Web API calls and POSTs to response_urls."""
    cadence.settle()
    return len(cadence.fake.calls()) + len(cadence.fake.responses())


def command_body(cadence: Cadence, command: str = "/blocker", text: str = "db down") -> bytes:
    return urlencode({"team_id": "T1", "channel_id": "C1", "user_id": "U1", "command": command, "text": text,
                      "response_url": cadence.fake.response_url(), "trigger_id": "t.1"}).encode()


def home_opened_body() -> bytes:
    return json.dumps({"type": "event_callback", "team_id": "T1", "event_id": "EvHOME", "api_app_id": "A1",
                       "event": {"type": "app_home_opened", "user": "U1", "tab": "home", "channel": "D1"}}).encode()


FORM = "application/x-www-form-urlencoded"
NOW = str(int(time.time()))


@pytest.mark.parametrize(("content_type", "headers"), [
    (FORM, {"X-Slack-Request-Timestamp": "abc", "X-Slack-Signature": "v0=" + "0" * 64}),
    (FORM, {"X-Slack-Signature": "v0=" + "0" * 64}),  # no timestamp
    (FORM, {"X-Slack-Request-Timestamp": NOW}),  # no signature
    (FORM, {"X-Slack-Request-Timestamp": NOW, "X-Slack-Signature": "garbage"}),
    (FORM, {"X-Slack-Request-Timestamp": NOW, "X-Slack-Signature": "v0=" + "f" * 64}),
    (FORM, {"X-Slack-Request-Timestamp": "1e9", "X-Slack-Signature": "v0=" + "0" * 64}),
    ("application/json", {"X-Slack-Request-Timestamp": "abc", "X-Slack-Signature": "v0=1"}),
    ("application/json", {"X-Slack-Request-Timestamp": NOW, "X-Slack-Signature": "v0=" + "a" * 64}),
], ids=["ts-abc", "no-ts", "no-sig", "sig-garbage", "sig-wrong", "ts-float", "json-ts-abc", "json-sig-wrong"])
def test_an_unverified_request_gets_401_and_makes_the_app_do_nothing(
    cadence: Cadence, content_type: str, headers: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    cadence.fake.add_user("U1", "ada")
    body = home_opened_body() if content_type == "application/json" else command_body(cadence)
    before = outbound(cadence)
    reply = raw_post(cadence, body, {"Content-Type": content_type, **headers})
    assert reply.status == 401
    assert outbound(cadence) == before, "an unverified request made the app call out"
    assert cadence.fake.messages() == []
    refused = [r for r in caplog.records if r.name == "cadence.edge"]
    assert len(refused) == 1
    assert "db down" not in caplog.text
    assert "Traceback" not in caplog.text


def test_a_stale_or_wrongly_signed_request_is_refused_and_a_good_one_acts(cadence: Cadence) -> None:
    old = int(time.time()) - 301
    before = outbound(cadence)
    assert cadence.slack.post(command_body(cadence), FORM, timestamp=old).status == 401
    body = command_body(cadence)
    wrong = sign("not-the-secret", NOW, body)
    assert cadence.slack.post(body, FORM, timestamp=int(NOW), signature=wrong).status == 401
    assert outbound(cadence) == before
    assert cadence.slack.post(command_body(cadence), FORM).status == 200
    cadence.settle()
    assert any("db down" in m.all_text for m in cadence.fake.messages("C1"))


def signed(cadence: Cadence, body: bytes, content_type: str) -> Reply:
    ts = str(int(time.time()))
    return raw_post(cadence, body, {"Content-Type": content_type, "X-Slack-Request-Timestamp": ts,
                                    "X-Slack-Signature": sign(SIGNING_SECRET, ts, body)})


def _event(event: object) -> bytes:
    return json.dumps({"type": "event_callback", "team_id": "T1", "event_id": "EvX", "event": event}).encode()


def _action(**changes: object) -> bytes:
    payload = {"type": "block_actions", "team": {"id": "T1"}, "user": {"id": "U1"}, "trigger_id": "t",
               "actions": [{"action_id": "blocker.resolve", "value": "1"}], **changes}
    return urlencode({"payload": json.dumps(payload)}).encode()


MALFORMED = [
    ("application/json", b"{x"),
    ("application/json", b"command=%2Fblocker&text=x&user_id=U1&team_id=T1"),
    (FORM, b"command=%2Fblocker&text=\xff\xfe&user_id=U1&team_id=T1"),
    ("application/json", b'{"type": "event_callback", "event": {"type": "app_mention", "text": "\xff"}}'),
    (FORM, b"payload=%5B%5D"),
    (FORM, b"payload=null"),
    (FORM, b"payload=%7Bx"),
    (FORM, b"payload=3"),
    (FORM, _action(actions=None)),
    (FORM, _action(actions=[])),
    (FORM, _action(actions=[5])),
    (FORM, _action(user=None)),
    (FORM, _action(team=5)),
    (FORM, _action(view=None)),
    (FORM, urlencode({"payload": json.dumps({"type": "view_submission", "user": {"id": "U1"}, "view": None})}).encode()),
    (FORM, urlencode({"payload": json.dumps({"type": "view_submission", "user": {"id": "U1"},
                                             "view": {"callback_id": "x", "state": {"values": []}}})}).encode()),
    ("application/json", json.dumps({"type": "event_callback", "team_id": "T1", "event_id": "E", "event": None}).encode()),
    ("application/json", _event({"type": "app_home_opened", "user": 123, "tab": "home"})),
    ("application/json", _event({"type": "app_home_opened", "user": ["U1"], "tab": "home"})),
    ("application/json", _event({"user": "U1"})),
    ("application/json", json.dumps({"type": "event_callback", "team_id": "T1", "event_id": "E",
                                     "authorizations": [None], "event": {"type": "app_mention"}}).encode()),
    ("application/json", b"[1, 2]"),
    ("application/json", b"null"),
    ("application/json", b"[" * 5000 + b"]" * 5000),
    ("application/json", json.dumps({"type": "nonsense"}).encode()),
    (FORM, b""),
    (FORM, b"command=blocker&user_id=U1&team_id=T1"),
    ("application/json", json.dumps({"command": None, "user_id": "U1", "team_id": "T1"}).encode()),
    ("application/json", json.dumps({"command": "/blocker", "user_id": 5, "team_id": "T1"}).encode()),
]


@pytest.mark.parametrize(("content_type", "body"), MALFORMED)
def test_a_malformed_verified_request_gets_400_and_one_short_log_line(
    cadence: Cadence, content_type: str, body: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    cadence.fake.add_user("U1", "ada")
    before = outbound(cadence)
    reply = signed(cadence, body, content_type)
    assert reply.status == 400
    assert outbound(cadence) == before
    lines = [r for r in caplog.records if r.levelno >= logging.INFO and r.name.startswith(("cadence", "slack"))]
    assert [r.name for r in lines] == ["cadence.edge"]
    assert len(lines[0].getMessage()) < 120
    assert not lines[0].exc_info
    assert "Traceback" not in caplog.text


def test_a_body_over_the_limit_gets_413_before_it_is_read(cadence: Cadence, caplog: pytest.LogCaptureFixture) -> None:
    before = outbound(cadence)
    where = urlsplit(cadence.url)
    connection = http.client.HTTPConnection(where.hostname, where.port, timeout=30)
    try:
        # Claims ten megabytes, sends a few bytes: the app answers at once instead of waiting for the rest.
        connection.putrequest("POST", "/slack/events")
        connection.putheader("Content-Type", "application/json")
        connection.putheader("Content-Length", str(10 * MAX_BODY_BYTES))
        connection.putheader("X-Slack-Request-Timestamp", NOW)
        connection.putheader("X-Slack-Signature", "v0=" + "0" * 64)
        connection.endheaders(b'{"type": "event_callback"')
        response = connection.getresponse()
        assert response.status == 413
    finally:
        connection.close()
    assert outbound(cadence) == before
    assert "event_callback" not in caplog.text


def test_a_large_unsigned_body_is_refused_in_one_short_line(cadence: Cadence, caplog: pytest.LogCaptureFixture
                                                           ) -> None:
    caplog.set_level(logging.DEBUG)
    body = b"payload=" + b"A" * (MAX_BODY_BYTES - 100)
    assert cadence.slack.post(body, FORM, signature="v0=" + "0" * 64).status == 401
    assert len(caplog.text) < 2000, "a refused request's body reached the log"


def test_a_replayed_request_is_answered_without_acting(cadence: Cadence) -> None:
    body = command_body(cadence, text="replayed outage")
    ts = int(time.time())
    replies = [cadence.slack.post(body, FORM, timestamp=ts) for _ in range(5)]
    cadence.settle()
    assert [r.status for r in replies] == [200] * 5
    flagged = [m for m in cadence.fake.messages("C1") if "replayed outage" in m.all_text]
    assert len(flagged) == 1
    # The same command sent again by Slack (a new timestamp, so a new signature) is a new request.
    assert cadence.slack.post(body, FORM, timestamp=ts + 1).status == 200
    cadence.settle()
    assert len([m for m in cadence.fake.messages("C1") if "replayed outage" in m.all_text]) == 2


def test_a_retried_event_with_a_new_signature_still_acts_once(cadence: Cadence) -> None:
    seen: list[str] = []
    cadence.app.event("app_mention")(lambda event: seen.append(event["text"]))
    event = {"type": "app_mention", "user": "U1", "text": "hi", "channel": "C1", "ts": "1.1"}
    assert cadence.slack.event(event, event_id="EvRetry", timestamp=int(time.time())).status == 200
    assert cadence.slack.event(event, event_id="EvRetry", timestamp=int(time.time()) - 1,
                               headers={"X-Slack-Retry-Num": "1"}).status == 200
    cadence.settle()
    assert seen == ["hi"]


def test_seen_signatures_are_forgotten_once_they_could_no_longer_verify(db: Database) -> None:
    sent = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    with db.transaction() as session:
        assert dedup.first_signature(session, signature="a" * 64, sent_at=sent)
        assert not dedup.first_signature(session, signature="a" * 64, sent_at=sent)
        assert dedup.first_delivery(session, team_id="T1", event_id="Ev1", now=sent)
    with db.transaction() as session:
        assert dedup.forget_signatures_before(session, before=sent) == 0
        assert dedup.forget_signatures_before(session, before=sent + timedelta(seconds=1)) == 1
    with db.transaction() as session:
        assert dedup.first_signature(session, signature="a" * 64, sent_at=sent)
        assert not dedup.first_delivery(session, team_id="T1", event_id="Ev1", now=sent)  # events are kept


def test_health_answers_after_the_hostile_requests(cadence: Cadence) -> None:
    for content_type, body in MALFORMED[:5]:
        signed(cadence, body, content_type)
        raw_post(cadence, body, {"Content-Type": content_type})
    assert cadence.slack.get("/healthz").status == 200


def test_the_error_handler_never_answers_an_unverified_request(cadence: Cadence) -> None:
    before = outbound(cadence)
    body = {"command": "/blocker", "response_url": cadence.fake.response_url(), "user_id": "U1", "channel_id": "C1"}
    unverified = BoltContext({"user_id": "U1", "channel_id": "C1", "client": cadence.runtime.clients.for_team("T1")})
    errors.handle_error(RuntimeError("boom"), body, unverified)
    assert outbound(cadence) == before
    errors.handle_error(RuntimeError("boom"), body, BoltContext({**unverified, VERIFIED: True}))
    assert [r["text"] for r in cadence.fake.responses()] == [errors.SOMETHING_WENT_WRONG]


def test_one_sqlite_process_remembers_signatures_until_they_could_no_longer_verify() -> None:
    seen = SeenSignatures()
    assert seen.first("a", expires=1300.0, now=1000.0)
    assert not seen.first("a", expires=1300.0, now=1200.0)
    assert seen.first("b", expires=1600.0, now=1301.0)  # pruning drops "a" now…
    assert seen.first("a", expires=1700.0, now=1400.0)  # …though its timestamp would be refused anyway


def test_socket_mode_requests_come_unsigned_and_are_still_answered(fake: FakeSlack, db_url: str, clock: FrozenClock
                                                                  ) -> None:
    cadence = start_cadence(fake, db_url, clock, slack_app_token="xapp-1-socket")
    try:
        def broken(ack: Ack) -> None:
            ack()
            raise RuntimeError("boom")

        cadence.app.command("/broken")(broken)
        body = urlencode({"team_id": "T1", "channel_id": "C1", "user_id": "U1", "command": "/broken", "text": "",
                          "response_url": fake.response_url()})
        assert cadence.app.dispatch(BoltRequest(body=body, mode="socket_mode")).status == 200
        cadence.settle()
        assert [r["text"] for r in fake.responses()] == [errors.SOMETHING_WENT_WRONG]
    finally:
        cadence.stop()
