"""bot/server/app.py and acks.py lean on Bolt internals for their speed-up; slack-bolt is pinned to the minor version
tested, and these tests fail loudly, naming what changed, when an upgrade moves any of them."""

from __future__ import annotations

import inspect
import re
import tomllib
from importlib.metadata import version
from pathlib import Path

from slack_bolt import Ack, App, BoltContext, BoltRequest
from slack_bolt.listener.thread_runner import ThreadListenerRunner
from slack_bolt.listener_matcher import ListenerMatcher

ROOT = Path(__file__).resolve().parent.parent


def test_the_installed_bolt_is_the_pinned_minor_version() -> None:
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    pin = next(d for d in dependencies if d.startswith("slack-bolt"))
    low, high = re.fullmatch(r"slack-bolt>=(\d+\.\d+),<(\d+\.\d+)", pin).groups()  # type: ignore[union-attr]
    installed = tuple(int(p) for p in version("slack-bolt").split(".")[:2])
    assert tuple(map(int, low.split("."))) <= installed < tuple(map(int, high.split("."))), (
        f"slack-bolt {version('slack-bolt')} is outside {pin}: re-check bot/server/app.py's overrides first"
    )


def test_register_listener_takes_what_cadence_app_passes_on() -> None:
    names = list(inspect.signature(App._register_listener).parameters)
    assert names == ["self", "functions", "primary_matcher", "matchers", "middleware", "auto_acknowledgement",
                     "ack_timeout"], f"App._register_listener changed: {names}; CadenceApp overrides it"
    for method in ("command", "action", "view", "shortcut", "event", "dispatch"):
        assert callable(getattr(App, method)), f"App.{method} is gone; CadenceApp overrides it"


def test_a_listener_matcher_is_asked_with_request_and_response() -> None:
    assert list(inspect.signature(ListenerMatcher.matches).parameters) == ["self", "req", "resp"], (
        "ListenerMatcher.matches changed; KeyedMatcher wraps it"
    )


def test_bolt_uses_the_ack_put_in_the_context_and_polls_its_response() -> None:
    context = BoltContext()
    ack = Ack()
    context["ack"] = ack
    assert context.ack is ack, "BoltContext.ack no longer returns context['ack']; acks.expect_ack relies on it"
    source = inspect.getsource(ThreadListenerRunner.run)
    assert "request.context.ack" in source, "the listener runner no longer takes the ack from the request context"
    assert "ack.response is None" in source, "the listener runner no longer polls ack.response; acks.py waits on it"
    assert "response" in inspect.signature(Ack.__call__).parameters or hasattr(Ack(), "response")


def test_a_request_built_from_a_string_exposes_body_and_context() -> None:
    request = BoltRequest(body='{"type": "event_callback", "team_id": "T1", "event": {"type": "x", "user": "U1"}}',
                          headers={"content-type": "application/json"})
    assert request.body["team_id"] == "T1"
    assert request.context.team_id == "T1"
    assert request.context.user_id == "U1"
    request.context["cadence.verified"] = True
    assert request.context.get("cadence.verified") is True
