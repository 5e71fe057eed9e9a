"""Stand-up schedule arithmetic: DST both ways in both hemispheres, many timezones, days off, the catch-up window."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time

from ceremonies import standup as domain
from ceremonies.errors import InvalidInput
from ceremonies.schedule import DateRange, daily_window, local_instant, open_window

BERLIN, NEW_YORK, SYDNEY = ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York"), ZoneInfo("Australia/Sydney")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def config(**overrides: object) -> domain.StandupConfig:
    values: dict[str, object] = dict(channel_id="C1", report_channel_id="C1", participants=("U1",),
                                     questions=domain.default_questions(), days=frozenset(range(7)))
    values.update(overrides)
    return domain.StandupConfig(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(("tz", "day", "expected"), [
    # Europe/Berlin: CET (+1) before the last Sunday of March, CEST (+2) after; back on the last Sunday of October.
    (BERLIN, date(2026, 3, 27), utc(2026, 3, 27, 8, 30)),
    (BERLIN, date(2026, 3, 30), utc(2026, 3, 30, 7, 30)),
    (BERLIN, date(2026, 10, 23), utc(2026, 10, 23, 7, 30)),
    (BERLIN, date(2026, 10, 26), utc(2026, 10, 26, 8, 30)),
    # America/New_York: EST (-5) → EDT (-4) on 8 March 2026, back on 1 November 2026.
    (NEW_YORK, date(2026, 3, 6), utc(2026, 3, 6, 14, 30)),
    (NEW_YORK, date(2026, 3, 9), utc(2026, 3, 9, 13, 30)),
    (NEW_YORK, date(2026, 10, 30), utc(2026, 10, 30, 13, 30)),
    (NEW_YORK, date(2026, 11, 2), utc(2026, 11, 2, 14, 30)),
    # Australia/Sydney (southern hemisphere): AEDT (+11) ends 5 April 2026, AEST (+10) until 4 October 2026.
    (SYDNEY, date(2026, 4, 3), utc(2026, 4, 2, 22, 30)),
    (SYDNEY, date(2026, 4, 6), utc(2026, 4, 5, 23, 30)),
    (SYDNEY, date(2026, 10, 2), utc(2026, 10, 1, 23, 30)),
    (SYDNEY, date(2026, 10, 5), utc(2026, 10, 4, 22, 30)),
])
def test_half_past_nine_stays_half_past_nine_across_dst(tz: ZoneInfo, day: date, expected: datetime) -> None:
    instant = local_instant(day, time(9, 30), tz)
    assert instant == expected
    assert instant.astimezone(tz).time() == time(9, 30)


def test_a_local_time_the_clocks_skip_moves_forward_by_the_gap() -> None:
    # 29 March 2026, 02:00 → 03:00 in Berlin: 02:30 does not exist and becomes 03:30 CEST.
    instant = local_instant(date(2026, 3, 29), time(2, 30), BERLIN)
    assert instant == utc(2026, 3, 29, 1, 30)
    assert instant.astimezone(BERLIN).time() == time(3, 30)


def test_a_local_time_that_happens_twice_means_the_first_one() -> None:
    # 25 October 2026, 03:00 → 02:00 in Berlin: 02:30 happens at 00:30 UTC (CEST) and at 01:30 UTC (CET).
    assert local_instant(date(2026, 10, 25), time(2, 30), BERLIN) == utc(2026, 10, 25, 0, 30)
    # Sydney's clocks go back on 5 April 2026, 03:00 → 02:00: the first 02:30 is still AEDT.
    assert local_instant(date(2026, 4, 5), time(2, 30), SYDNEY) == utc(2026, 4, 4, 15, 30)


def test_a_team_over_three_timezones_is_prompted_at_each_local_half_past_nine() -> None:
    people = [domain.Participant("UB", "Europe/Berlin"), domain.Participant("UN", "America/New_York"),
              domain.Participant("US", "Australia/Sydney")]
    cfg = config(participants=("UB", "UN", "US"))
    # Monday 30 March 2026 (Berlin already on summer time, New York too, Sydney still on daylight time).
    due_times = {}
    minute = utc(2026, 3, 29, 12, 0)
    while minute < utc(2026, 3, 31, 0, 0):
        for prompt in domain.due_prompts(cfg, people, now=minute).prompts:
            due_times.setdefault((prompt.user_id, prompt.local_date), minute)
        minute += timedelta(minutes=15)
    assert due_times[("UB", date(2026, 3, 30))] == utc(2026, 3, 30, 7, 30)
    assert due_times[("UN", date(2026, 3, 30))] == utc(2026, 3, 30, 13, 30)
    assert due_times[("US", date(2026, 3, 30))] == utc(2026, 3, 29, 22, 30)


def test_weekends_get_no_prompt() -> None:
    cfg = config(days=domain.DEFAULT_DAYS)
    person = [domain.Participant("U1", "Europe/Berlin")]
    saturday = utc(2026, 12, 5, 9, 0)
    monday = utc(2026, 12, 7, 9, 0)
    assert domain.due_prompts(cfg, person, now=saturday).prompts == []
    assert [p.local_date for p in domain.due_prompts(cfg, person, now=monday).prompts] == [date(2026, 12, 7)]


def test_a_holiday_gets_no_prompt_and_counts_as_absence() -> None:
    work = domain.due_prompts(config(), [domain.Participant("U1", "Europe/Berlin")], now=utc(2026, 12, 25, 9, 0),
                              holidays={date(2026, 12, 25)})
    assert work.prompts == []
    assert work.absences == [domain.Absence("U1", date(2026, 12, 25), "holiday")]


def test_away_ranges_are_inclusive() -> None:
    away = (DateRange(date(2026, 12, 22), date(2027, 1, 2)),)
    person = [domain.Participant("U1", "Europe/Berlin", away)]
    for day, prompted in [(21, True), (22, False), (31, False)]:
        work = domain.due_prompts(config(), person, now=utc(2026, 12, day, 9, 0))
        assert bool(work.prompts) is prompted
    assert domain.due_prompts(config(), person, now=utc(2027, 1, 2, 9, 0)).prompts == []
    assert domain.due_prompts(config(), person, now=utc(2027, 1, 3, 9, 0)).prompts != []


def test_catch_up_sends_todays_missed_prompt_while_the_window_is_open_and_never_yesterdays() -> None:
    cfg = config()  # 09:30 → 17:00
    person = [domain.Participant("U1", "Europe/Berlin")]
    # Down from 08:00 UTC until 14:00 UTC (15:00 Berlin): today's 09:30 prompt is still due.
    due = domain.due_prompts(cfg, person, now=utc(2026, 12, 1, 14, 0)).prompts
    assert [(p.local_date, p.due_at) for p in due] == [(date(2026, 12, 1), utc(2026, 12, 1, 8, 30))]
    # Back only at 16:30 UTC (17:30 Berlin): the window closed, nothing is sent for today or yesterday.
    assert domain.due_prompts(cfg, person, now=utc(2026, 12, 1, 16, 30)).prompts == []
    # The next morning before 09:30: nothing either (yesterday's window closed at 17:00).
    assert domain.due_prompts(cfg, person, now=utc(2026, 12, 2, 7, 0)).prompts == []


def test_nothing_is_due_before_the_local_time() -> None:
    person = [domain.Participant("U1", "America/New_York")]
    assert domain.due_prompts(config(), person, now=utc(2026, 12, 1, 14, 29)).prompts == []
    assert len(domain.due_prompts(config(), person, now=utc(2026, 12, 1, 14, 30)).prompts) == 1


def test_now_forces_todays_prompt_outside_the_schedule_but_not_for_the_away() -> None:
    people = [domain.Participant("U1", "Europe/Berlin"),
              domain.Participant("U2", "Europe/Berlin", (DateRange(date(2026, 12, 5), date(2026, 12, 5)),))]
    work = domain.due_prompts(config(days=domain.DEFAULT_DAYS), people, now=utc(2026, 12, 5, 20, 0), force=True)
    assert [p.user_id for p in work.prompts] == ["U1"]
    assert work.prompts[0].closes_at > utc(2026, 12, 5, 20, 0)


def test_the_window_open_at_a_time_uses_the_local_day() -> None:
    window = open_window(utc(2026, 12, 1, 23, 0), opens=time(9, 30), closes=time(17, 0), tz=SYDNEY)
    assert window is not None
    assert window.local_date == date(2026, 12, 2)  # 10:00 in Sydney
    assert daily_window(date(2026, 12, 1), opens=time(22, 0), closes=time(2, 0), tz=BERLIN).closes_at == \
        utc(2026, 12, 2, 1, 0)


def test_reminder_after_the_delay_and_only_inside_the_window() -> None:
    cfg = config()
    due, closes = utc(2026, 12, 1, 8, 30), utc(2026, 12, 1, 16, 0)
    assert not domain.reminder_due(cfg, due_at=due, closes_at=closes, now=utc(2026, 12, 1, 10, 29))
    assert domain.reminder_due(cfg, due_at=due, closes_at=closes, now=utc(2026, 12, 1, 10, 30))
    assert not domain.reminder_due(cfg, due_at=due, closes_at=closes, now=closes)
    assert not domain.reminder_due(config(reminder_delay=timedelta(0)), due_at=due, closes_at=closes,
                                   now=utc(2026, 12, 1, 12, 0))


def test_late_means_after_the_window() -> None:
    closes = utc(2026, 12, 1, 16, 0)
    assert not domain.is_late(closes_at=closes, submitted_at=closes - timedelta(seconds=1))
    assert domain.is_late(closes_at=closes, submitted_at=closes)


@freeze_time("2026-12-01 12:00:00")
def test_domain_never_reads_the_clock() -> None:
    """With the wall clock frozen at noon, what is due still depends only on the `now` passed in."""
    person = [domain.Participant("U1", "Europe/Berlin")]
    assert domain.due_prompts(config(), person, now=utc(2026, 12, 1, 6, 0)).prompts == []


def test_answers_need_every_required_question() -> None:
    questions = domain.default_questions()
    assert domain.answer_problems(questions, {0: "x", 1: "y"}) == {}
    assert set(domain.answer_problems(questions, {0: "  ", 1: "y"})) == {0}
    assert set(domain.answer_problems(questions, {0: "x" * 3001, 1: "y"})) == {0}
    assert domain.blocker_text(questions, {2: " waiting on review "}) == "waiting on review"


@pytest.mark.parametrize(("text", "blocking"), [("none", False), ("No.", False), ("n/a", False), ("", False),
                                                ("waiting on the API key", True), ("nothing", False)])
def test_what_counts_as_a_blocker(text: str, blocking: bool) -> None:
    assert domain.is_blocking(text) is blocking


def test_setup_problems_are_reported_by_field() -> None:
    bad = config(participants=(), days=frozenset(), window_end=time(9, 0),
                 timezone_mode=domain.TimezoneMode.TEAM, team_timezone="Mars/Olympus")
    assert set(domain.config_problems(bad)) == {"participants", "days", "window_end", "team_timezone"}
    assert domain.config_problems(config()) == {}


@pytest.mark.parametrize("text", ["tomorrow-ish", "2026-13-01", "2026-12-24 2026-12-01", "", "a b c"])
def test_away_text_that_cannot_be_read_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput):
        domain.parse_away(text)


def test_away_text() -> None:
    assert domain.parse_away("2026-12-22 2027-01-02") == DateRange(date(2026, 12, 22), date(2027, 1, 2))
    assert domain.parse_away("2026-12-24") == DateRange(date(2026, 12, 24), date(2026, 12, 24))


def test_team_timezone_mode_ignores_personal_zones() -> None:
    cfg = config(timezone_mode=domain.TimezoneMode.TEAM, team_timezone="America/New_York")
    assert domain.participant_zone(cfg, "Europe/Berlin", "UTC") == "America/New_York"
    assert domain.participant_zone(config(), None, "UTC") == "UTC"
    assert domain.participant_zone(config(), "Not/AZone", "UTC") == "UTC"
