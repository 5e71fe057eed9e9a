"""Sprints over HTTP: start, scope, done, status, the summary with its chart, the end (once), and exports."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.devtools.fakeslack import text_of
from bot.devtools.harness import Cadence
from storage import sprint as store

ROOT = Path(__file__).resolve().parent.parent
MONDAY = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)  # 09:00 in Berlin


@pytest.fixture
def team(cadence: Cadence) -> Cadence:
    cadence.fake.add_user("U1", "tess", tz="Europe/Berlin")
    cadence.fake.add_user("U2", "omar", tz="America/New_York", tz_offset=-18000)
    cadence.clock.set(MONDAY - timedelta(days=3))
    # Stories estimated in planning before the sprint: they become its committed stories.
    with cadence.db.transaction() as session:
        for key, points in (("PAY-1", 5.0), ("PAY-2", 3.0), ("PAY-3", 8.0)):
            store.add_story(session, team_id="T1", channel_id="C1", key=key, title=f"story {key}", points=points,
                            by="U1", now=cadence.clock(), source="poker")
    cadence.clock.set(MONDAY)
    return cadence


def start(cadence: Cadence) -> None:
    reply = cadence.command("/sprint", 'start "Sprint 14" --until 2026-12-11 --goal "Checkout v2"', user="U1")
    assert reply.status == 200


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_start_announces_the_sprint_with_its_committed_stories(team: Cadence) -> None:
    start(team)
    [message] = team.fake.messages("C1")
    assert "*Sprint 14* started · until Fri 11 Dec" in message.all_text
    assert "Goal: Checkout v2" in message.all_text
    assert "3 committed stories · 16 points" in message.all_text
    with team.db.transaction() as session:
        sprint = store.running_sprint(session, team_id="T1", channel_id="C1")
        assert sprint is not None
        assert sprint.timezone == "Europe/Berlin"
        assert [s.committed for s in store.stories(session, team_id="T1", sprint_id=sprint.id)] == [True] * 3


def test_a_second_start_is_refused_while_one_runs(team: Cadence) -> None:
    start(team)
    team.command("/sprint", 'start "Sprint 15" --until 2026-12-20', user="U1")
    assert "“Sprint 14” is still running here" in team.fake.responses()[-1]["text"]


def test_bad_start_text_gets_a_clear_message_and_stores_nothing(team: Cadence) -> None:
    team.command("/sprint", 'start "Sprint 14" --until next-week', user="U1")
    assert "`next-week` is not a date; write it as YYYY-MM-DD." in team.fake.responses()[-1]["text"]
    with team.db.transaction() as session:
        assert store.running_sprint(session, team_id="T1", channel_id="C1") is None


def test_unknown_subcommand_answers_usage(team: Cadence) -> None:
    reply = team.command("/sprint", "launch")
    assert "I don't know `launch`." in reply.text
    assert '/sprint start "Sprint 14" --until 2026-12-09 --goal "Checkout v2"' in reply.text
    assert "/sprint done PAY-123" in team.command("/sprint", "help").text


def test_scope_changes_and_done_stories_show_in_the_status(team: Cadence) -> None:
    start(team)
    team.clock.advance(timedelta(days=1))
    team.command("/sprint", "add PAY-9 2 Refund flow", user="U2")
    assert team.fake.responses()[-1]["text"] == "PAY-9 added (2 points, a scope change)."
    team.command("/sprint", "done pay-1", user="U2")
    assert team.fake.responses()[-1]["text"] == ":white_check_mark: PAY-1 done (5 points)."
    team.command("/sprint", "remove PAY-3", user="U1")
    team.command("/sprint", "", user="U1")
    status = team.fake.responses()[-1]
    text = text_of(status)
    assert "Points: 5 of 16 committed done (1 of 3 committed stories)" in text
    assert "Scope change: 10 points (62%) — +2 added, −8 removed" in text
    assert "Health: red" in text
    with team.db.transaction() as session:
        sprint = store.running_sprint(session, team_id="T1", channel_id="C1")
        rows = {s.key: s for s in store.stories(session, team_id="T1", sprint_id=sprint.id)}
    assert rows["PAY-9"].committed is False
    assert rows["PAY-9"].added_by == "U2"
    assert rows["PAY-3"].removed_by == "U1"
    assert rows["PAY-1"].completed_by == "U2"


def test_done_button_on_the_status_marks_the_story(team: Cadence) -> None:
    start(team)
    reply = team.slack.block_action("sprint.done", "PAY-2", user="U2", channel="C1")
    assert reply.status == 200
    team.settle()
    assert "PAY-2 done." in team.fake.responses()[-1]["text"]
    with team.db.transaction() as session:
        story = store.running_story(session, team_id="T1", channel_id="C1", key="PAY-2")
        assert story.completed_by == "U2"


def test_done_of_an_unknown_story_is_refused_and_changes_nothing(team: Cadence) -> None:
    start(team)
    team.command("/sprint", "done PAY-77", user="U1")
    assert team.fake.responses()[-1]["text"] == ":warning: PAY-77 is not a story of “Sprint 14”."


def test_end_posts_the_summary_with_the_chart_and_dms_the_facilitator(team: Cadence) -> None:
    start(team)
    team.command("/sprint", "done PAY-1 PAY-2", user="U2")
    team.clock.set(MONDAY + timedelta(days=11))
    team.command("/sprint", "end", user="U1")
    summary = [m for m in team.fake.messages("C1") if "Sprint 14 · summary" in m.all_text]
    assert len(summary) == 1
    text = summary[0].all_text
    assert "Points: 8 of 16 committed done (2 of 3 committed stories)" in text
    assert "Velocity 8 (no earlier sprint to compare)" in text
    assert "Health: red" in text
    assert "50% of the committed points are done (red under 60%)" in text
    [upload] = [u for u in team.fake.state.uploads.values() if "content" in u]
    assert upload["channel"] == "C1"
    assert upload["thread_ts"] == summary[0].ts
    assert png_size(upload["content"]) == (1000, 600)
    [dm] = team.fake.dms("U1")
    assert "stand-up participation per person (only you see this)" in dm.all_text
    # the end-date job finds the sprint already ended: nothing is posted twice
    team.tick(MONDAY + timedelta(days=12))
    assert len([m for m in team.fake.messages("C1") if "summary" in m.all_text]) == 1


def test_a_sprint_ends_by_itself_after_its_last_day_once(team: Cadence) -> None:
    start(team)
    team.tick(datetime(2026, 12, 11, 22, 59, tzinfo=UTC))  # 23:59 in Berlin on the last day
    assert not [m for m in team.fake.messages("C1") if "summary" in m.all_text]
    team.tick(datetime(2026, 12, 11, 23, 0, tzinfo=UTC))  # midnight in Berlin
    team.tick(datetime(2026, 12, 11, 23, 1, tzinfo=UTC))
    assert len([m for m in team.fake.messages("C1") if "Sprint 14 · summary" in m.all_text]) == 1
    with team.db.transaction() as session:
        assert store.running_sprint(session, team_id="T1", channel_id="C1") is None
        assert store.sprint_named(session, team_id="T1", channel_id="C1", name="sprint 14").ended_by == "cadence"


def test_velocity_compares_with_the_last_three_sprints(team: Cadence) -> None:
    for number, done in ((11, 10.0), (12, 20.0), (13, 0.0)):
        with team.db.transaction() as session:
            sprint = store.Sprint(team_id="T1", channel_id="C1", name=f"Sprint {number}", goal="",
                                  timezone="Europe/Berlin", starts_on=(MONDAY - timedelta(days=60 - number)).date(),
                                  ends_on=(MONDAY - timedelta(days=50 - number)).date(),
                                  started_at=MONDAY - timedelta(days=60), started_by="U1",
                                  ended_at=MONDAY - timedelta(days=50), ended_by="U1")
            session.add(sprint)
            session.flush()
            session.add(store.SprintStory(team_id="T1", channel_id="C1", sprint_id=sprint.id, key=f"OLD-{number}",
                                          title="", points=done, source="manual", committed=True,
                                          added_at=MONDAY - timedelta(days=60), added_by="U1",
                                          completed_at=MONDAY - timedelta(days=55) if done else None))
    start(team)
    team.command("/sprint", "done PAY-3", user="U1")
    team.command("/sprint", "summary", user="U1")
    [summary] = [m for m in team.fake.messages("C1") if "Sprint 14 · so far" in m.all_text]
    assert "Velocity 8 vs 10 average of the last 3 sprints" in summary.all_text


def test_cli_report_in_every_format(team: Cadence, tmp_path: Path) -> None:
    start(team)
    team.command("/sprint", "done PAY-1", user="U1")
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "DATABASE_URL": team.db.url}

    def report(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "bot", "report", "--team", "C1", "--sprint", "Sprint 14", *args],
                              cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)

    markdown = report("--format", "md")
    assert markdown.returncode == 0, markdown.stderr
    assert markdown.stdout.startswith("# Sprint 14\n")
    assert "**Goal:** Checkout v2" in markdown.stdout
    assert "| Committed points | 16 (3 stories) |" in markdown.stdout
    assert "| Completed points | 5 (1 stories) |" in markdown.stdout
    figures = json.loads(report("--format", "json").stdout)
    assert figures["points"]["committed"] == 16
    assert figures["points"]["completed"] == 5
    assert [s["key"] for s in figures["stories"]] == ["PAY-1", "PAY-2", "PAY-3"]
    csv_text = report("--format", "csv").stdout
    assert "points,committed,16.0" in csv_text
    out = tmp_path / "chart.png"
    assert report("--format", "png", "--out", str(out)).returncode == 0
    assert png_size(out.read_bytes()) == (1000, 600)
    missing = report("--format", "md", "--workspace", "T9")
    assert missing.returncode == 2
    assert "no sprint in that channel" in missing.stderr
