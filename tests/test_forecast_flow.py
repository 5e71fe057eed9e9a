"""The forecast over HTTP: `/sprint` shows it mid-sprint from the team's earlier sprints, health uses it, the
facilitator's Home shows it, and a team with one earlier sprint is told there is not enough history."""

from __future__ import annotations

import re
import urllib.request
from datetime import UTC, date, datetime, timedelta

import pytest

from bot.devtools.fakeslack import text_of
from bot.devtools.harness import Cadence
from ceremonies.forecast import working_days_between
from storage import sprint as store

MONDAY = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)  # 09:00 in Berlin
SECOND_MONDAY = datetime(2026, 12, 7, 17, 0, tzinfo=UTC)  # four working days to go: Tue 8 to Fri 11 Dec


def earlier_sprint(cadence: Cadence, number: int, starts_on: date, *, points_a_day: float) -> None:
    """An ended two-week sprint of C1 in which the team finished `points_a_day` every working day."""
    days = working_days_between(starts_on, starts_on + timedelta(days=11))
    begin = datetime.combine(starts_on, datetime.min.time(), tzinfo=UTC)
    with cadence.db.transaction() as session:
        sprint = store.Sprint(team_id="T1", channel_id="C1", name=f"Sprint {number}", goal="", timezone="Europe/Berlin",
                              starts_on=starts_on, ends_on=days[-1], started_at=begin, started_by="U1",
                              ended_at=begin + timedelta(days=12), ended_by="U1")
        session.add(sprint)
        session.flush()
        for index, day in enumerate(days):
            done = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=12)
            session.add(store.SprintStory(team_id="T1", channel_id="C1", sprint_id=sprint.id, key=f"OLD{number}-{index}",
                                          title="", points=points_a_day, source="manual", committed=True,
                                          added_at=begin, added_by="U1", completed_at=done))


def plan(cadence: Cadence, stories: int) -> None:
    """`stories` committed stories of 5 points each, PAY-1 to PAY-n, then the sprint starts."""
    cadence.clock.set(MONDAY - timedelta(days=3))
    with cadence.db.transaction() as session:
        for number in range(1, stories + 1):
            store.add_story(session, team_id="T1", channel_id="C1", key=f"PAY-{number}", title="", points=5.0,
                            by="U1", now=cadence.clock(), source="poker")
    cadence.clock.set(MONDAY)
    cadence.command("/sprint", 'start "Sprint 14" --until 2026-12-11', user="U1", channel="C1")


@pytest.fixture
def team(cadence: Cadence) -> Cadence:
    cadence.fake.add_user("U1", "tess", tz="Europe/Berlin")
    earlier_sprint(cadence, 12, date(2026, 11, 2), points_a_day=5)
    earlier_sprint(cadence, 13, date(2026, 11, 16), points_a_day=5)
    return cadence


def status(cadence: Cadence) -> str:
    cadence.command("/sprint", "", user="U1", channel="C1")
    return text_of(cadence.fake.responses()[-1])


def finish(cadence: Cadence, count: int) -> None:
    cadence.clock.set(SECOND_MONDAY - timedelta(hours=1))
    cadence.command("/sprint", "done " + " ".join(f"PAY-{n}" for n in range(1, count + 1)), user="U1", channel="C1")
    cadence.clock.set(SECOND_MONDAY)


def test_twenty_points_left_at_five_a_day_with_four_days_to_go_land(team: Cadence) -> None:
    plan(team, 8)  # 40 points
    finish(team, 4)  # 20 done, 20 open
    text = status(team)
    assert ("Forecast*: 100% chance the 20 open committed points are done by Fri 11 Dec "
            "(4 working days after today)") in text
    assert "Done with 50% by Fri 11 Dec · 85% by Fri 11 Dec · 95% by Fri 11 Dec" in text
    assert "drawing from 20 working days of the last 2 sprints' throughput in points" in text
    assert "Health: green" in text


def test_thirty_points_left_at_five_a_day_with_four_days_to_go_turn_health_red(team: Cadence) -> None:
    plan(team, 12)  # 60 points
    finish(team, 6)  # 30 done (more than the 36 expected by now × 80%), 30 open
    text = status(team)
    assert "Forecast*: 0% chance the 30 open committed points are done by Fri 11 Dec" in text
    assert "Done with 50% by Tue 15 Dec · 85% by Tue 15 Dec · 95% by Tue 15 Dec" in text
    assert "Health: red" in text
    assert "the forecast gives the open committed work a 0% chance of being done by the end (red under 40%)" in text


def test_the_facilitators_home_shows_the_forecast(team: Cadence) -> None:
    plan(team, 8)
    finish(team, 4)
    team.slack.event({"type": "app_home_opened", "user": "U1", "channel": "DU1", "tab": "home"})
    team.settle()
    home = text_of(team.fake.state.home_views["U1"])
    assert "Forecast: 100% chance of landing the committed work · 85% by Fri 11 Dec" in home


def test_one_earlier_sprint_is_not_enough_history(cadence: Cadence) -> None:
    cadence.fake.add_user("U1", "tess", tz="Europe/Berlin")
    earlier_sprint(cadence, 13, date(2026, 11, 16), points_a_day=5)
    plan(cadence, 8)
    finish(cadence, 4)
    text = status(cadence)
    assert ("Forecast*: not enough history: 1 earlier sprint of this team (the forecast needs 2); "
            "it says nothing rather than guess.") in text
    assert "chance" not in text


def test_the_sprint_report_page_shows_the_forecast_and_its_distribution(team: Cadence) -> None:
    plan(team, 8)
    finish(team, 4)
    team.command("/sprint", "summary", user="U1", channel="C1")
    [summary] = [m for m in team.fake.messages("C1") if "Sprint 14 · so far" in m.all_text]
    assert "Forecast*: 100% chance the 20 open committed points are done by Fri 11 Dec" in summary.all_text
    token = re.search(r"/reports/([A-Za-z0-9_.-]+)\|", summary.all_text)
    assert token is not None
    with urllib.request.urlopen(f"{team.url}/reports/{token.group(1)}", timeout=30) as response:
        html = response.read().decode()
    assert "100% chance the 20 open committed\npoints are done by Fri 11 Dec 2026" in html
    assert ('alt="Forecast distribution: 100% of 10,000 simulated runs finish the 20 open committed points by '
            'Fri 11 Dec') in html
