"""Where a participant's stand-up stands today (for their App Home): plain data, frozen time."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from ceremonies import standup as domain
from ceremonies.schedule import DateRange

TUESDAY = date(2026, 12, 1)
WEEKDAYS = frozenset(range(5))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def config() -> domain.StandupConfig:
    return domain.StandupConfig(channel_id="C1", report_channel_id="C1", participants=("U1",),
                                questions=domain.default_questions(), days=WEEKDAYS)


def today(now: datetime, *, tz: str = "Europe/Berlin", paused: bool = False, holidays: tuple[date, ...] = (),
          away: tuple[DateRange, ...] = (), prompted: tuple[date, ...] = (), answered: tuple[date, ...] = (),
          skipped: tuple[date, ...] = ()) -> domain.Today | None:
    return domain.today_of(config(), timezone=tz, now=now, paused=paused, holidays=holidays, away=away,
                           prompted=set(prompted), answered=set(answered), skipped=set(skipped))


def test_before_the_prompt_it_is_upcoming_at_the_local_time() -> None:
    found = today(utc(2026, 12, 1, 6, 0))  # 07:00 in Berlin
    assert found is not None
    assert found.state is domain.TodayState.UPCOMING
    assert (found.day, found.opens_at, found.closes_at) == (TUESDAY, utc(2026, 12, 1, 8, 30), utc(2026, 12, 1, 16, 0))


@pytest.mark.parametrize(("done", "state"), [
    ({"prompted": (TUESDAY,)}, domain.TodayState.WAITING),
    ({"prompted": (TUESDAY,), "answered": (TUESDAY,)}, domain.TodayState.WRITTEN),
    ({"prompted": (TUESDAY,), "skipped": (TUESDAY,)}, domain.TodayState.SKIPPED),
    ({"away": (DateRange(date(2026, 11, 30), date(2026, 12, 4)),)}, domain.TodayState.AWAY),
])
def test_what_happened_today_decides_the_state(done: dict, state: domain.TodayState) -> None:
    found = today(utc(2026, 12, 1, 9, 0), **done)
    assert found is not None
    assert found.state is state


def test_the_local_date_is_the_participants_own() -> None:
    # 03:00 UTC on Tuesday is still Monday evening in New York: Monday's prompt is the one waiting.
    monday = date(2026, 11, 30)
    found = today(utc(2026, 12, 1, 3, 0), tz="America/New_York", prompted=(monday,))
    assert found is not None
    assert (found.day, found.state) == (monday, domain.TodayState.WAITING)
    assert found.is_late(utc(2026, 12, 1, 3, 0))  # New York's window closed at 17:00 local


def test_no_stand_up_on_days_off_holidays_paused_or_after_a_window_without_a_prompt() -> None:
    assert today(utc(2026, 12, 5, 9, 0)) is None  # a Saturday
    assert today(utc(2026, 12, 1, 9, 0), holidays=(TUESDAY,)) is None
    assert today(utc(2026, 12, 1, 9, 0), paused=True) is None
    assert today(utc(2026, 12, 1, 17, 0)) is None  # 18:00 in Berlin, never prompted


def test_what_happened_shows_even_on_a_day_off() -> None:
    saturday = date(2026, 12, 5)
    found = today(utc(2026, 12, 5, 9, 0), answered=(saturday,))  # `/standup now` on a Saturday
    assert found is not None
    assert found.state is domain.TodayState.WRITTEN
