"""Sprint rules: parsing, scope, figures and the health verdict at its edges."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from ceremonies import sprint as domain
from ceremonies.errors import InvalidInput

TODAY = date(2026, 11, 25)
START = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def test_start_parses_name_until_and_goal_with_curly_quotes() -> None:
    plan = domain.parse_start("“Sprint 14” --until 2026-12-09 --goal “Checkout v2”", today=TODAY)
    assert plan == domain.SprintPlan(name="Sprint 14", ends_on=date(2026, 12, 9), goal="Checkout v2")


def test_start_name_may_be_unquoted_words() -> None:
    assert domain.parse_start("Sprint 15 --until 2026-12-01", today=TODAY).name == "Sprint 15"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "give the sprint a name"),
        ('"Sprint 1"', "--until YYYY-MM-DD"),
        ('"Sprint 1" --until tomorrow', "is not a date"),
        ('"Sprint 1" --until 2026-11-24', "is in the past"),
        ('"Sprint 1" --until 2027-06-01', "at most 60 days"),
        ('"Sprint 1 --until 2026-12-01', "quote is not closed"),
        ('"Sprint 1" --until', "needs a value"),
        ('"Sprint 1" --until 2026-12-01 --colour red', "I don't know the option `--colour`"),
        ('"' + "x" * 81 + '" --until 2026-12-01', "longer than 80"),
    ],
)
def test_start_refuses_bad_text_clearly(text: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message.replace("(", r"\(")):
        domain.parse_start(text, today=TODAY)


def test_story_keys() -> None:
    assert domain.parse_story_key("pay-123") == "PAY-123"
    with pytest.raises(InvalidInput, match="not a story key"):
        domain.parse_story_key("123")


def test_scope_change_is_anything_added_after_the_start() -> None:
    assert not domain.is_scope_change(sprint_started_at=START, added_at=START)
    assert domain.is_scope_change(sprint_started_at=START, added_at=START + timedelta(seconds=1))


def verdict(**overrides: float | None) -> domain.HealthVerdict:
    values: dict = dict(committed_points=20, completed_points=20, scope_change_share=0.0,
                        oldest_open_blocker_working_days=0.0, participation_rate=1.0, elapsed_share=1.0)
    values.update(overrides)
    return domain.health(**values)


def test_health_green_when_nothing_fires() -> None:
    assert verdict().status is domain.Health.GREEN


@pytest.mark.parametrize(
    ("overrides", "status"),
    [
        ({"scope_change_share": 0.20}, domain.Health.AMBER),
        ({"scope_change_share": 0.2001}, domain.Health.RED),
        ({"scope_change_share": 0.10}, domain.Health.GREEN),
        ({"scope_change_share": 0.11}, domain.Health.AMBER),
        ({"oldest_open_blocker_working_days": 3.0}, domain.Health.AMBER),
        ({"oldest_open_blocker_working_days": 3.1}, domain.Health.RED),
        ({"oldest_open_blocker_working_days": 1.0}, domain.Health.GREEN),
        ({"completed_points": 12}, domain.Health.AMBER),
        ({"completed_points": 11.9}, domain.Health.RED),
        ({"completed_points": 16}, domain.Health.GREEN),
        ({"completed_points": 15.9}, domain.Health.AMBER),
        ({"participation_rate": 0.69}, domain.Health.AMBER),
        ({"participation_rate": None}, domain.Health.GREEN),
        ({"completed_points": 5, "elapsed_share": 0.25}, domain.Health.GREEN),
        ({"completed_points": 0, "elapsed_share": 0.0}, domain.Health.GREEN),
    ],
)
def test_health_rules_at_their_edges(overrides: dict, status: domain.Health) -> None:
    assert verdict(**overrides).status is status


def test_red_lists_every_reason_that_fired() -> None:
    result = verdict(scope_change_share=0.5, oldest_open_blocker_working_days=4, participation_rate=0.5)
    assert result.status is domain.Health.RED
    assert result.reasons == (
        "scope changed by 50% (red above 20%)",
        "a blocker has been open 4.0 working days (red above 3)",
        "stand-up participation is 50% (amber under 70%)",
    )


def test_working_days_skip_weekends_and_holidays() -> None:
    days = domain.working_days(date(2026, 12, 21), date(2026, 12, 27), {date(2026, 12, 25)})
    assert days == [date(2026, 12, 21), date(2026, 12, 22), date(2026, 12, 23), date(2026, 12, 24)]


def story(key: str, points: float, *, added: datetime = START, committed: bool = True,
          done: datetime | None = None, removed: datetime | None = None) -> domain.Story:
    return domain.Story(key=key, title=key.lower(), points=points, added_at=added, added_by="U1", committed=committed,
                        completed_at=done, removed_at=removed)


def test_a_small_sprint_by_hand() -> None:
    """Committed 5+3+8=16; PAY-4 (2) added on day 2, PAY-3 (8) removed on day 3; PAY-1 and PAY-4 done."""
    day = timedelta(days=1)
    info = domain.SprintInfo(name="S1", goal="g", starts_on=date(2026, 11, 30), ends_on=date(2026, 12, 4),
                             started_at=START, ended_at=START + 4 * day, facilitator_id="U1")
    stories = [
        story("PAY-1", 5, done=START + day),
        story("PAY-2", 3),
        story("PAY-3", 8, removed=START + 2 * day),
        story("PAY-4", 2, added=START + day, committed=False, done=START + 3 * day),
    ]
    result = domain.summarize(
        sprint=info, stories=stories, previous_velocities=[10, 14, 6, 99],
        participation_days=[domain.ParticipationDay(date(2026, 11, 30), 3, 4),
                            domain.ParticipationDay(date(2026, 12, 1), 4, 4)],
        participation_people=[], blockers=domain.BlockerFigures(oldest_open_working_days=0.5),
        planning=domain.PlanningFigures(), retro=domain.RetroFigures(), today=date(2026, 12, 4),
    )
    assert result.committed_points == 16
    assert result.committed_stories == 3
    assert result.completed_points == 7
    assert result.completed_stories == 2
    assert result.added_points == 2
    assert result.removed_points == 8
    assert result.scope_change_points == 10
    assert result.scope_change_share == pytest.approx(10 / 16)
    assert result.velocity == 7
    assert result.average_velocity == pytest.approx(10)
    assert result.participation_rate == pytest.approx(7 / 8)
    assert result.health.status is domain.Health.RED
    assert [(p.day.day, p.scope, p.done) for p in result.burn_up] == [
        (30, 16, 0), (1, 18, 5), (2, 10, 5), (3, 10, 7), (4, 10, 7),
    ]
