"""The health check in the sprint cycle, over HTTP on both databases: a round on the sprint's last day, its results in
the next retro's opening and in the sprint summary; rounds every two weeks; the App Home; the workspace purge."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from bot.devtools.harness import Cadence
from bot.views import healthcheck as views
from storage import healthcheck as store
from storage import sprint as sprints
from storage import workspace_data
from storage.schema import metadata
from tests.test_healthcheck_flow import TEAM, answer, results, set_up
from tests.test_retro_steps import start_retro, thread

MONDAY = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)  # 09:00 in Berlin
LAST_DAY_10_BERLIN = datetime(2026, 12, 11, 9, 0, tzinfo=UTC)
MIDNIGHT_AFTER_LAST_DAY = datetime(2026, 12, 11, 23, 0, tzinfo=UTC)


def rounds(cadence: Cadence) -> int:
    with cadence.db.reading() as session:
        return session.scalar(select(func.count()).select_from(store.HealthRound)) or 0


def test_a_round_on_the_sprints_last_day_opens_the_retro_and_the_sprint_summary(cadence: Cadence) -> None:
    cadence.clock.set(MONDAY - timedelta(days=3))
    with cadence.db.transaction() as session:
        sprints.add_story(session, team_id="T1", channel_id="C1", key="PAY-1", title="story", points=5.0, by="U1",
                          now=cadence.clock(), source="poker")
    cadence.clock.set(MONDAY)
    set_up(cadence, how="sprint", window="4")
    cadence.command("/sprint", 'start "Sprint 14" --until 2026-12-11', user="U1")

    cadence.tick(LAST_DAY_10_BERLIN - timedelta(days=1))
    cadence.tick(LAST_DAY_10_BERLIN - timedelta(minutes=1))
    assert rounds(cadence) == 0
    cadence.tick(LAST_DAY_10_BERLIN)
    cadence.tick(LAST_DAY_10_BERLIN + timedelta(minutes=5))
    assert rounds(cadence) == 1
    for person in TEAM[1:]:
        answer(cadence, person, ["amber", "green", "red"], comment=f"from {person}")
    cadence.tick(LAST_DAY_10_BERLIN + timedelta(hours=4))
    assert "3 of 4 answered" in results(cadence)[0].all_text

    # The retro that afternoon starts from it: first in the board's thread, lowest dimension first.
    cadence.clock.set(LAST_DAY_10_BERLIN + timedelta(hours=6))
    start_retro(cadence, channel="C1")
    opening = thread(cadence, "C1")[0].all_text
    assert "Where the team stands: health check of Fri 11 Dec" in opening
    assert opening.index("*Teamwork*") < opening.index("*Speed*") < opening.index("*Fun*")
    # Only once: the next retro has no round it has not seen.
    with cadence.db.transaction() as session:
        assert store.queue_retro_opener(session, team_id="T1", channel_id="C1", board_key="x", now=cadence.clock()) \
            is False

    # The sprint ends by itself at midnight: its summary has the health check.
    cadence.tick(MIDNIGHT_AFTER_LAST_DAY)
    [summary] = [m for m in cadence.fake.messages("C1") if "Sprint 14 · summary" in m.all_text]
    assert "*Team health check* · 3 of 4 answered\nSpeed 🟢 0 🟡 3 🔴 0" in summary.all_text
    # No sprint runs any more: nothing more opens, however many days go by.
    for day in range(1, 20):
        cadence.tick(LAST_DAY_10_BERLIN + timedelta(days=day))
    assert rounds(cadence) == 1

    # Purged with the workspace: every health-check table is empty.
    with cadence.db.transaction() as session:
        workspace_data.purge(session, team_id="T1")
    with cadence.db.reading() as session:
        left = {t.name: session.scalar(select(func.count()).select_from(t)) for t in metadata.sorted_tables
                if t.name.startswith("health_")}
    assert len(left) == 8
    assert set(left.values()) == {0}


def test_rounds_every_two_weeks_and_the_answer_button_on_the_home(cadence: Cadence) -> None:
    thursday = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
    friday_10_berlin = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
    cadence.clock.set(thursday)
    set_up(cadence, how="biweekly")  # Fridays at 10:00 Berlin
    assert "Next round:" in cadence.fake.ephemerals("U1")[-1]["text"]
    cadence.tick(friday_10_berlin - timedelta(minutes=1))
    assert rounds(cadence) == 0
    cadence.tick(friday_10_berlin)
    cadence.tick(friday_10_berlin + timedelta(minutes=1))
    assert rounds(cadence) == 1

    cadence.slack.event({"type": "app_home_opened", "user": "U2", "tab": "home"})
    cadence.settle()
    home = json.dumps(cadence.fake.home("U2"))
    assert "waiting for your answer" in home
    assert views.ANSWER in home
    answer(cadence, "U2", ["green", "green", "green"])
    assert "you answered; you can change it" in json.dumps(cadence.fake.home("U2"))  # refreshed after answering
    cadence.slack.event({"type": "app_home_opened", "user": "U9", "tab": "home"})
    cadence.settle()
    assert "Team health check" not in json.dumps(cadence.fake.home("U9"))

    cadence.tick(friday_10_berlin + timedelta(days=7))
    assert rounds(cadence) == 1
    cadence.tick(friday_10_berlin + timedelta(days=14))
    cadence.tick(friday_10_berlin + timedelta(days=14, minutes=1))
    assert rounds(cadence) == 2
