"""What "committed done" counts, over HTTP: only stories committed at the start; work added mid-sprint is scope change,
counted apart, and finishing it never turns health green."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.devtools.fakeslack import text_of
from bot.devtools.harness import Cadence
from storage import sprint as store

MONDAY = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)  # 09:00 in Berlin
# The demo's sprint: six committed stories, 31 points.
COMMITTED = (("PAY-101", 3.0), ("PAY-102", 8.0), ("PAY-103", 5.0), ("PAY-104", 2.0), ("PAY-105", 5.0),
             ("PAY-106", 8.0))


@pytest.fixture
def team(cadence: Cadence) -> Cadence:
    cadence.fake.add_user("U1", "lena", tz="Europe/Berlin")
    cadence.clock.set(MONDAY - timedelta(days=3))
    with cadence.db.transaction() as session:
        for key, points in COMMITTED:
            store.add_story(session, team_id="T1", channel_id="C1", key=key, title=f"story {key}", points=points,
                            by="U1", now=cadence.clock(), source="poker")
    cadence.clock.set(MONDAY)
    reply = cadence.command("/sprint", 'start "Sprint 14" --until 2026-12-11', user="U1")
    assert reply.status == 200
    return cadence


def play_the_demo(team: Cadence) -> None:
    """Every committed story but the 8-point PAY-106 is done; PAY-110 (2 points) is added on day 5 and done."""
    for day, key in ((1, "PAY-101"), (3, "PAY-104"), (4, "ADD"), (7, "PAY-103"), (8, "PAY-102"), (9, "PAY-110"),
                     (10, "PAY-105")):
        team.clock.set(MONDAY + timedelta(days=day, hours=6))
        if key == "ADD":
            team.command("/sprint", "add PAY-110 2 Rounding of totals in the basket", user="U1")
            assert team.fake.responses()[-1]["text"] == "PAY-110 added (2 points, a scope change)."
        else:
            team.command("/sprint", f"done {key}", user="U1")


def test_committed_done_counts_only_the_committed_stories(team: Cadence) -> None:
    play_the_demo(team)
    team.clock.set(MONDAY + timedelta(days=11, hours=8))  # Friday afternoon, the last day
    team.command("/sprint", "end", user="U1")
    [summary] = [m for m in team.fake.messages("C1") if "Sprint 14 · summary" in m.all_text]
    text = summary.all_text
    assert "Points: 23 of 31 committed done (5 of 6 committed stories)" in text
    assert "25 of 31" not in text
    assert "Added mid-sprint: 2 points in 1 story, 2 done (1 of 1)" in text
    assert "Velocity 25 (no earlier sprint to compare)" in text  # velocity is all the work done
    # 23 of 31 is 74%: the added story's 2 points do not lift it over 80% to green.
    assert "Health: amber" in text
    assert "74% of the committed points are done (amber under 80%)" in text


def test_finishing_added_work_never_turns_a_sprint_green(team: Cadence) -> None:
    team.clock.set(MONDAY + timedelta(days=1, hours=6))
    team.command("/sprint", "add PAY-120 13 A big surprise", user="U1")
    team.command("/sprint", "add PAY-121 13 Another surprise", user="U1")
    team.command("/sprint", "done PAY-120 PAY-121", user="U1")
    team.command("/sprint", "", user="U1")
    status = text_of(team.fake.responses()[-1])
    assert "Points: 0 of 31 committed done (0 of 6 committed stories)" in status
    assert "Added mid-sprint: 26 points in 2 stories, 26 done (2 of 2)" in status
    assert "Health: red" in status
    assert "0% of the points expected by now are done (red under 60%)" in status
