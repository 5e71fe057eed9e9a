"""Arbitrary bytes, headers and JSON shapes posted to /slack/events: never a 5xx, never an outbound call without a
valid signature, and /healthz keeps answering."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlencode

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.devtools.harness import SIGNING_SECRET, Cadence
from bot.devtools.signed import sign
from tests.test_hostile_edge import outbound, raw_post

LEAVES = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=12),
                   st.sampled_from(["U1", "T1", "C1", "D1", "/blocker", "/retro", "home", "1.1"]))
KEYS = st.sampled_from(["type", "team", "user", "channel", "event", "actions", "view", "command", "text", "user_id",
                        "team_id", "channel_id", "event_id", "callback_id", "action_id", "trigger_id", "container",
                        "message", "state", "values", "id", "value", "tab", "authorizations", "enterprise",
                        "is_enterprise_install", "private_metadata", "block_id", "selected_option", "ts"])
JSON = st.recursive(LEAVES, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                   st.dictionaries(KEYS, inner, max_size=5)), max_leaves=25)
KINDS = ["event_callback", "block_actions", "view_submission", "view_closed", "shortcut", "message_action",
         "block_suggestion", "url_verification", "app_rate_limited", "nonsense"]
EVENTS = ["app_home_opened", "app_mention", "app_uninstalled", "tokens_revoked", "member_joined_channel", "message"]


@st.composite
def shaped(draw: st.DrawFn) -> dict[str, Any]:
    """A payload close to one Slack sends, with any of its values replaced by anything."""
    body = draw(st.dictionaries(KEYS, JSON, max_size=6))
    body["type"] = draw(st.one_of(st.sampled_from(KINDS), JSON))
    if draw(st.booleans()):
        body["event"] = draw(st.one_of(JSON, st.fixed_dictionaries(
            {"type": st.sampled_from(EVENTS)}, optional={"user": JSON, "tab": JSON, "channel": JSON})))
    if draw(st.booleans()):
        body["user"] = draw(st.one_of(JSON, st.fixed_dictionaries({"id": st.sampled_from(["U1", "U2"])})))
    return body


@st.composite
def requests(draw: st.DrawFn) -> tuple[bytes, str]:
    form = "application/x-www-form-urlencoded"
    kind = draw(st.sampled_from(["bytes", "json", "form", "payload"]))
    if kind == "bytes":
        body = draw(st.binary(max_size=200))
    elif kind == "json":
        body = json.dumps(draw(st.one_of(shaped(), JSON))).encode()
    elif kind == "form":
        fields = draw(st.dictionaries(st.sampled_from(["command", "text", "user_id", "team_id", "channel_id",
                                                       "trigger_id", "ssl_check"]), st.text(max_size=20)))
        body = urlencode(fields).encode()
    else:
        body = urlencode({"payload": json.dumps(draw(st.one_of(shaped(), JSON)))}).encode()
    content_type = draw(st.sampled_from(["application/json", form, "text/plain", "", "application/json; charset=x"]))
    return body, content_type


SIGNINGS = ["valid", "missing", "garbage", "wrong", "stale", "abc", "no-timestamp"]


def headers_for(signing: str, body: bytes, content_type: str) -> dict[str, str]:
    now = str(int(time.time()))
    headers = {"Content-Type": content_type} if content_type else {}
    if signing == "valid":
        return {**headers, "X-Slack-Request-Timestamp": now, "X-Slack-Signature": sign(SIGNING_SECRET, now, body)}
    if signing == "missing":
        return headers
    if signing == "garbage":
        return {**headers, "X-Slack-Request-Timestamp": now, "X-Slack-Signature": "v0=zz"}
    if signing == "wrong":
        return {**headers, "X-Slack-Request-Timestamp": now, "X-Slack-Signature": sign("wrong", now, body)}
    if signing == "stale":
        old = str(int(now) - 600)
        return {**headers, "X-Slack-Request-Timestamp": old, "X-Slack-Signature": sign(SIGNING_SECRET, old, body)}
    if signing == "abc":
        return {**headers, "X-Slack-Request-Timestamp": "abc", "X-Slack-Signature": sign(SIGNING_SECRET, "abc", body)}
    return {**headers, "X-Slack-Signature": sign(SIGNING_SECRET, now, body)}


def test_arbitrary_requests_never_fail_the_server_or_act_unsigned(cadence: Cadence) -> None:
    cadence.fake.add_user("U1", "ada")
    cadence.fake.add_channel("C1")

    @settings(max_examples=150, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(request=requests(), signing=st.sampled_from(SIGNINGS))
    def post(request: tuple[bytes, str], signing: str) -> None:
        body, content_type = request
        before = outbound(cadence)
        reply = raw_post(cadence, body, headers_for(signing, body, content_type))
        assert reply.status < 500, (reply.status, body[:200])
        if signing != "valid":
            assert reply.status == 401
            assert outbound(cadence) == before, "an unsigned request made the app call out"

    post()
    cadence.settle()
    assert cadence.slack.get("/healthz").status == 200
