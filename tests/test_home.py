"""The App Home tab: built from every ceremony's section when opened, valid by Slack's rules."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot import hooks
from bot.devtools.fakeslack import text_of
from bot.devtools.harness import Cadence

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
