"""The App Home tab: built from every ceremony's section when opened, valid by Slack's rules."""

from __future__ import annotations

from collections import OrderedDict
from datetime import UTC, datetime

import pytest

from bot import hooks
from bot.devtools.fakeslack import text_of
from bot.devtools.harness import Cadence
from bot.listeners import home as home_listener
from bot.listeners.home import message_link, refresh_home

MONDAY = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def open_home(cadence: Cadence, user: str) -> dict:
    reply = cadence.slack.event({"type": "app_home_opened", "user": user, "channel": "D" + user, "tab": "home"})
    assert reply.status == 200
    cadence.settle()
    view = cadence.fake.home(user)
    assert view is not None
    return view


def test_an_empty_home_says_nothing_is_waiting(cadence: Cadence) -> None:
    cadence.fake.add_user("U1", "tess")
    view = open_home(cadence, "U1")
    assert view["type"] == "home"
    assert "Nothing is waiting for you." in text_of(view)


def test_home_shows_the_health_of_my_teams_sprints(cadence: Cadence) -> None:
    cadence.fake.add_user("U1", "tess")
    cadence.fake.add_user("U2", "omar")
    cadence.clock.set(MONDAY)
    cadence.command("/sprint", 'start "Sprint 14" --until 2026-12-11', user="U1", channel="C1")
    cadence.command("/sprint", 'start "Other team" --until 2026-12-11', user="U2", channel="C2")
    text = text_of(open_home(cadence, "U1"))
    assert "<#C1> *Sprint 14* · health green · 0/0 points done · ends Fri 11 Dec" in text
    assert "Other team" not in text


@pytest.fixture
def extra_section(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hooks, "_home_sections", list(hooks._home_sections))

    def many(runtime, context):  # type: ignore[no-untyped-def]
        return [{"type": "section", "text": {"type": "mrkdwn", "text": f"item {i}"}} for i in range(150)]

    hooks.add_home_section(many)


@pytest.mark.usefixtures("extra_section")
def test_a_crowded_home_stays_within_100_blocks(cadence: Cadence) -> None:
    cadence.fake.add_user("U1", "tess")
    view = open_home(cadence, "U1")
    assert len(view["blocks"]) == 100
    assert "more than fits here" in text_of(view["blocks"][-1])


def test_a_refresh_slack_refuses_is_logged_and_the_next_one_publishes(
    cadence: Cadence, caplog: pytest.LogCaptureFixture
) -> None:
    """A refresh follows an action that already succeeded: Slack refusing it is logged, never raised at the person."""
    cadence.fake.add_user("U1", "tess")
    cadence.fake.fail("views.publish", error="internal_error")
    refresh_home(cadence.runtime, team_id="T1", user_id="U1")  # no handle: the workspace's, from the gateway
    cadence.settle()
    assert cadence.fake.home("U1") is None
    assert "the Home was not refreshed (views.publish): retry_later, internal_error" in caplog.text
    refresh_home(cadence.runtime, cadence.runtime.gateway.for_team("T1"), team_id="T1", user_id="U1")
    cadence.settle()
    assert "Nothing is waiting for you." in text_of(cadence.fake.home("U1") or {})


def test_a_message_link_is_asked_once_and_missing_when_slack_cannot_give_it(
    cadence: Cadence, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(home_listener, "_permalinks", OrderedDict())  # remembered per process: start empty
    cadence.fake.fail("chat.getPermalink", error="channel_not_found")
    assert message_link(cadence.runtime, team_id="T1", channel_id="C404", ts="1.000001") is None
    for _ in range(2):
        link = message_link(cadence.runtime, team_id="T1", channel_id="C1", ts="1.000002")
        assert link == "https://test.slack.com/archives/C1/p1000002"
    assert [c.args["channel"] for c in cadence.fake.calls("chat.getPermalink")] == ["C404", "C1"]
