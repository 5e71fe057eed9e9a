"""Blocker rules as plain functions: what says "no blocker", owners from mentions, working-time aging, escalation
steps, the digest day and the sprint summary's numbers."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from freezegun import freeze_time

from ceremonies import blockers as rules
from ceremonies.blockers import BlockerRecord, TrackerSettings
from ceremonies.errors import InvalidInput

NO_HOLIDAYS: frozenset[date] = frozenset()


@pytest.mark.parametrize(
    "answer",
    ["none", "None.", "NO", "no!", "Nope", "nothing", "Nothing.", "n/a", "N/A", "-", "--", " - ",
     "No blockers", "no blockers!", "No Blockers.", "", "   ", None],
)
def test_answers_that_say_there_is_no_blocker(answer: str | None) -> None:
    assert rules.says_no_blocker(answer) is True


@pytest.mark.parametrize(
    "answer",
    ["waiting on the API key", "no access to prod", "None of the tests pass", "nope, the build is red", "blocked",
     "n/a until ops answers"],
)
def test_answers_that_name_a_blocker(answer: str) -> None:
    assert rules.says_no_blocker(answer) is False


@pytest.mark.parametrize(
    ("typed", "owner"),
    [
        ("waiting on <@U123> for the key", "U123"),
        ("waiting on <@U123|dana> for the key", "U123"),
        ("needs <@W42ABC|ops> then <@U9>", "W42ABC"),
        ("nobody to ask", None),
        ("an email like a@b.c is not a mention", None),
    ],
)
def test_the_owner_is_the_first_mention_in_slacks_escaped_form(typed: str, owner: str | None) -> None:
    flagged = rules.parse_blocker_text(typed)
    assert flagged.owner_id == owner
    assert flagged.text == typed


def test_empty_and_too_long_blocker_text_is_refused_clearly() -> None:
    with pytest.raises(InvalidInput, match="what is blocking you"):
        rules.parse_blocker_text("   ")
    with pytest.raises(InvalidInput, match="at most 2000 characters"):
        rules.parse_blocker_text("x" * 2001)
    assert rules.parse_blocker_text("x" * 2000).text == "x" * 2000


def test_blocker_numbers_accept_a_hash_and_refuse_words() -> None:
    assert rules.parse_blocker_id("12") == 12
    assert rules.parse_blocker_id("#12") == 12
    with pytest.raises(InvalidInput, match="not a blocker number"):
        rules.parse_blocker_id("twelve")
    with pytest.raises(InvalidInput, match="not a blocker number"):
        rules.parse_blocker_id("²")  # a digit to str.isdigit(), not to int() (found by the command fuzzer)


# -- working-time aging (2026-12-04 is a Friday) --------------------------------------------------------------------

FRIDAY_3PM = datetime(2026, 12, 4, 15, 0, tzinfo=UTC)


@freeze_time("2030-01-01 12:00:00")  # the wall clock is irrelevant: time is a parameter
def test_a_weekend_does_not_count() -> None:
    monday_3pm = FRIDAY_3PM + timedelta(days=3)
    assert rules.working_time_between(FRIDAY_3PM, monday_3pm, holidays=NO_HOLIDAYS, timezone="UTC") == timedelta(hours=24)
    saturday_noon = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
    assert rules.working_time_between(FRIDAY_3PM, saturday_noon, holidays=NO_HOLIDAYS, timezone="UTC") == timedelta(
        hours=9)


@freeze_time("2030-01-01 12:00:00")
def test_a_holiday_does_not_count() -> None:
    thursday_10am = datetime(2026, 12, 24, 10, 0, tzinfo=UTC)
    monday_10am = datetime(2026, 12, 28, 10, 0, tzinfo=UTC)
    christmas = {date(2026, 12, 25)}
    assert rules.working_time_between(thursday_10am, monday_10am, holidays=christmas, timezone="UTC") == timedelta(
        hours=24)
    assert rules.working_time_between(thursday_10am, monday_10am, holidays=NO_HOLIDAYS, timezone="UTC") == timedelta(
        hours=48)


def test_the_weekend_is_the_teams_local_weekend() -> None:
    # 22:00 UTC on Friday is 23:00 in Berlin: one working hour is left before the Berlin weekend starts.
    start = datetime(2026, 12, 4, 22, 0, tzinfo=UTC)
    monday_1am_berlin = datetime(2026, 12, 7, 0, 0, tzinfo=UTC)
    assert rules.working_time_between(start, monday_1am_berlin, holidays=NO_HOLIDAYS, timezone="Europe/Berlin") == (
        timedelta(hours=2))
    assert rules.working_time_between(start, monday_1am_berlin, holidays=NO_HOLIDAYS, timezone="UTC") == timedelta(
        hours=2)


def test_a_blocker_flagged_on_a_weekend_starts_aging_on_monday() -> None:
    saturday = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)
    monday_9am = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    assert rules.working_time_between(saturday, monday_9am, holidays=NO_HOLIDAYS, timezone="UTC") == timedelta(hours=9)
    assert rules.working_time_between(monday_9am, saturday, holidays=NO_HOLIDAYS, timezone="UTC") == timedelta(0)


def test_each_threshold_step_is_a_new_escalation_level() -> None:
    day = timedelta(days=1)
    assert rules.escalation_level(day - timedelta(seconds=1), threshold_days=1) == 0
    assert rules.escalation_level(day, threshold_days=1) == 1
    assert rules.escalation_level(2 * day, threshold_days=1) == 2
    assert rules.escalation_level(3 * day, threshold_days=2) == 1
    assert rules.escalation_level(4 * day, threshold_days=2) == 2


def test_ages_read_at_a_glance() -> None:
    assert rules.describe_age(timedelta(minutes=40)) == "40 min"
    assert rules.describe_age(timedelta(hours=5, minutes=59)) == "5 h"
    assert rules.describe_age(timedelta(hours=24)) == "1 working day"
    assert rules.describe_age(timedelta(hours=51)) == "2 working days 3 h"


# -- settings and the digest ----------------------------------------------------------------------------------------


def test_settings_from_the_form() -> None:
    settings, problems = rules.validate_settings(threshold="2", contact_id="U3", digest_time="10:15",
                                                 timezone="Europe/Berlin")
    assert problems == {}
    assert settings == TrackerSettings(threshold_days=2, contact_id="U3", digest_time=time(10, 15),
                                       timezone="Europe/Berlin")


def test_bad_settings_are_named_field_by_field() -> None:
    settings, problems = rules.validate_settings(threshold="0", contact_id=None, digest_time="25:99",
                                                 timezone="Mars/Olympus")
    assert settings is None
    assert set(problems) == {"threshold", "digest_time", "timezone"}
    _, problems = rules.validate_settings(threshold="a day", contact_id=None, digest_time=None, timezone="UTC")
    assert problems == {"threshold": "Enter a whole number of working days, e.g. 1."}


def test_the_digest_is_due_on_working_days_from_its_local_time() -> None:
    berlin = TrackerSettings(timezone="Europe/Berlin", digest_time=time(9, 30))
    tuesday = date(2026, 12, 1)
    # 09:30 in Berlin is 08:30 UTC in December.
    assert rules.digest_day(datetime(2026, 12, 1, 8, 29, tzinfo=UTC), settings=berlin, holidays=NO_HOLIDAYS) is None
    assert rules.digest_day(datetime(2026, 12, 1, 8, 30, tzinfo=UTC), settings=berlin, holidays=NO_HOLIDAYS) == tuesday
    assert rules.digest_day(datetime(2026, 12, 1, 20, 0, tzinfo=UTC), settings=berlin, holidays=NO_HOLIDAYS) == tuesday
    assert rules.digest_day(datetime(2026, 12, 1, 9, 0, tzinfo=UTC), settings=berlin, holidays={tuesday}) is None
    saturday = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)
    assert rules.digest_day(saturday, settings=berlin, holidays=NO_HOLIDAYS) is None


# -- records --------------------------------------------------------------------------------------------------------


def test_the_summary_counts_a_range_in_working_time() -> None:
    start, end = datetime(2026, 11, 30, tzinfo=UTC), datetime(2026, 12, 14, tzinfo=UTC)
    records = [
        BlockerRecord(datetime(2026, 11, 25, 9, tzinfo=UTC), datetime(2026, 11, 26, 9, tzinfo=UTC)),  # before
        BlockerRecord(datetime(2026, 11, 27, 9, tzinfo=UTC), datetime(2026, 12, 1, 9, tzinfo=UTC)),  # across start
        BlockerRecord(datetime(2026, 12, 1, 9, tzinfo=UTC), datetime(2026, 12, 1, 13, tzinfo=UTC)),  # 4 h
        BlockerRecord(datetime(2026, 12, 4, 12, tzinfo=UTC), datetime(2026, 12, 7, 12, tzinfo=UTC)),  # weekend: 24 h
        BlockerRecord(datetime(2026, 12, 10, 9, tzinfo=UTC), None),  # still open
        BlockerRecord(datetime(2026, 12, 11, 9, tzinfo=UTC), datetime(2026, 12, 15, 9, tzinfo=UTC)),  # after end
    ]
    stats = rules.summarize(records, start=start, end=end, escalations=3, holidays=NO_HOLIDAYS, timezone="UTC")
    assert stats.opened == 4
    assert stats.resolved == 3
    assert stats.still_open == 2
    # Fri 27 Nov 09:00 → Tue 1 Dec 09:00 is two working days.
    assert stats.times_to_unblock == (timedelta(hours=4), timedelta(hours=24), timedelta(hours=48))
    assert stats.median_time_to_unblock == timedelta(hours=24)
    assert stats.longest_time_to_unblock == timedelta(hours=48)
    assert stats.escalations == 3


def test_an_empty_range_has_no_times() -> None:
    stats = rules.summarize([], start=FRIDAY_3PM, end=FRIDAY_3PM + timedelta(days=1), escalations=0,
                            holidays=NO_HOLIDAYS, timezone="UTC")
    assert (stats.opened, stats.resolved, stats.still_open) == (0, 0, 0)
    assert stats.median_time_to_unblock is None
    assert stats.longest_time_to_unblock is None
