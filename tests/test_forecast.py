"""The Monte Carlo forecast on hand-made throughput histories with known answers, and health's forecast edges."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from ceremonies import forecast as fc
from ceremonies import sprint as domain

MONDAY = date(2026, 11, 30)
THURSDAY = date(2026, 12, 3)  # four working days to go until Wednesday 9 Dec: Fri, Mon, Tue, Wed
LAST_DAY = date(2026, 12, 9)


def steady(points_a_day: float, *, start: date, days: int = 10) -> fc.PastSprint:
    """A sprint of `days` working days in which the team finished `points_a_day` every working day."""
    working = fc.working_days_between(start, start + timedelta(days=20))[:days]
    return fc.PastSprint(working[0], working[-1], tuple((d, points_a_day) for d in working))


HISTORY = [steady(5, start=MONDAY - timedelta(days=14)), steady(5, start=MONDAY - timedelta(days=28))]


def test_a_team_that_always_finishes_five_a_day_lands_twenty_points_in_four_days() -> None:
    result = fc.forecast(past=HISTORY, remaining_points=20, remaining_stories=4, today=THURSDAY, last_day=LAST_DAY)
    assert result.unit is fc.Unit.POINTS
    assert result.days_left == 4
    assert result.probability == pytest.approx(1.0)
    assert result.dates == ((0.50, LAST_DAY), (0.85, LAST_DAY), (0.95, LAST_DAY))
    assert result.finish_days[3] == fc.RUNS  # every run finishes on the fourth working day


def test_thirty_points_at_five_a_day_cannot_land_in_four_days() -> None:
    result = fc.forecast(past=HISTORY, remaining_points=30, remaining_stories=6, today=THURSDAY, last_day=LAST_DAY)
    assert result.probability == pytest.approx(0.0)
    # Six working days after Thursday: Fri 4, Mon 7, Tue 8, Wed 9, Thu 10, Fri 11.
    assert result.dates == ((0.50, date(2026, 12, 11)), (0.85, date(2026, 12, 11)), (0.95, date(2026, 12, 11)))


def test_holidays_move_the_dates() -> None:
    result = fc.forecast(past=HISTORY, remaining_points=20, remaining_stories=4, today=THURSDAY, last_day=LAST_DAY,
                         holidays={date(2026, 12, 7)})
    assert result.days_left == 3
    assert result.probability == pytest.approx(0.0)
    assert result.date_at(0.85) == date(2026, 12, 10)


@pytest.mark.parametrize("earlier", [0, 1])
def test_fewer_than_two_earlier_sprints_is_not_enough_history(earlier: int) -> None:
    result = fc.forecast(past=HISTORY[:earlier], remaining_points=20, remaining_stories=4, today=THURSDAY,
                         last_day=LAST_DAY)
    assert result.probability is None
    assert not result.enough_history
    assert result.dates == ()
    assert result.reason.startswith("not enough history")


def test_a_mixed_history_gives_a_probability_between_and_is_the_same_every_time() -> None:
    """Half the days 10 points, half nothing: 20 points in 4 days needs at least two good days of four (11/16)."""
    days = fc.working_days_between(MONDAY - timedelta(days=28), MONDAY - timedelta(days=1))
    alternating = tuple((d, 10.0 if i % 2 else 0.0) for i, d in enumerate(days))
    past = [fc.PastSprint(days[0], days[9], alternating[:10]), fc.PastSprint(days[10], days[-1], alternating[10:])]
    first = fc.forecast(past=past, remaining_points=20, remaining_stories=3, today=THURSDAY, last_day=LAST_DAY)
    again = fc.forecast(past=past, remaining_points=20, remaining_stories=3, today=THURSDAY, last_day=LAST_DAY)
    assert first == again  # seeded
    assert first.probability == pytest.approx(11 / 16, abs=0.02)


def test_stories_are_counted_when_the_team_does_not_estimate() -> None:
    past = [fc.PastSprint(s.starts_on, s.last_day, tuple((d, 0.0) for d, _p in s.finished)) for s in HISTORY]
    result = fc.forecast(past=past, remaining_points=0, remaining_stories=3, today=THURSDAY, last_day=LAST_DAY)
    assert result.unit is fc.Unit.STORIES
    assert result.remaining == 3
    assert result.probability == pytest.approx(1.0)
    assert result.date_at(0.5) == date(2026, 12, 8)  # one story a day: Fri, Mon, Tue


def test_work_marked_done_on_a_weekend_counts_for_the_next_working_day() -> None:
    sprint = fc.PastSprint(MONDAY, MONDAY + timedelta(days=4), ((date(2026, 11, 29), 3.0), (MONDAY, 2.0)))
    assert fc.daily_throughput(sprint, fc.Unit.POINTS) == [5.0, 0.0, 0.0, 0.0, 0.0]


def verdict(probability: float | None) -> domain.HealthVerdict:
    return domain.health(committed_points=20, completed_points=20, scope_change_share=0.0,
                         oldest_open_blocker_working_days=0.0, participation_rate=1.0, elapsed_share=0.5,
                         forecast_probability=probability)


@pytest.mark.parametrize(
    ("probability", "status"),
    [(0.70, domain.Health.GREEN), (0.69, domain.Health.AMBER), (0.40, domain.Health.AMBER),
     (0.39, domain.Health.RED), (None, domain.Health.GREEN), (1.0, domain.Health.GREEN), (0.0, domain.Health.RED)],
)
def test_health_turns_amber_under_70_and_red_under_40_percent(probability: float | None, status: domain.Health
                                                              ) -> None:
    assert verdict(probability).status is status


def test_each_forecast_reason_is_written_out() -> None:
    assert verdict(0.699).reasons == (
        "the forecast gives the open committed work a 69% chance of being done by the end (amber under 70%)",)
    assert verdict(0.39).reasons == (
        "the forecast gives the open committed work a 39% chance of being done by the end (red under 40%)",)
