"""The health check's rules as plain functions: dimensions, set-up, schedules across DST, k-anonymity, trends."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from ceremonies import healthcheck as domain
from ceremonies.errors import InvalidInput
from ceremonies.healthcheck import Answer, Cadence, Dimension, Rating, Trend


def test_dimensions_read_from_lines_and_back() -> None:
    text = domain.format_dimensions(domain.DEFAULT_DIMENSIONS)
    assert len(domain.DEFAULT_DIMENSIONS) == 10
    assert domain.parse_dimensions(text) == domain.DEFAULT_DIMENSIONS
    assert domain.parse_dimensions("Speed\n\n Fun | yay ") == (Dimension("Speed"), Dimension("Fun", "yay"))


@pytest.mark.parametrize(("text", "problem"), [
    ("", "at least one dimension"),
    ("A | b | c | d", "Line 1 has more than three parts"),
    ("Speed\n | awesome", "Line 2 has no name"),
    ("Speed\nspeed", "Line 2: speed is there twice"),
    ("x" * 41, "at most 40 characters"),
    ("Speed | " + "y" * 151, "an example can have at most 150"),
    ("\n".join(f"D{i}" for i in range(16)), "at most 15 dimensions"),
])
def test_bad_dimensions_say_which_line(text: str, problem: str) -> None:
    with pytest.raises(InvalidInput, match=problem):
        domain.parse_dimensions(text)


def valid(**changes: object) -> dict[str, object]:
    values: dict[str, object] = dict(dimensions_text="Speed\nFun", cadence="biweekly", participants=["U1", "U2", "U3"],
                                     weekday="4", local_time=time(10), timezone="Europe/Berlin", window_hours="24",
                                     k="3")
    return {**values, **changes}


def test_set_up_defaults_and_limits() -> None:
    setup, problems = domain.validate_setup(**valid(window_hours="", k=""))  # type: ignore[arg-type]
    assert problems == {}
    assert setup is not None
    assert (setup.cadence, setup.window_hours, setup.k, setup.weekday) == (Cadence.BIWEEKLY, 24, 3, 4)
    _none, problems = domain.validate_setup(**valid(k="2", window_hours="0", timezone="Mars/Olympus",  # type: ignore[arg-type]
                                                    weekday=None, participants=["U1", "U1", "U2"]))
    assert set(problems) == {"k", "window", "timezone", "weekday", "participants"}  # two different people
    _none, problems = domain.validate_setup(**valid(k="5"))  # type: ignore[arg-type]
    assert problems == {"participants": "Pick at least 5 participants: results are shown only when that many answer."}


def test_schedules_keep_the_local_time_across_daylight_saving() -> None:
    # Fridays 10:00 Berlin: before and after the clocks go back on 25 October 2026.
    before = domain.next_biweekly(weekday=4, local_time=time(10), timezone="Europe/Berlin",
                                  after=datetime(2026, 10, 20, tzinfo=UTC))
    after = domain.next_biweekly(weekday=4, local_time=time(10), timezone="Europe/Berlin", after=before)
    assert before == datetime(2026, 10, 23, 8, 0, tzinfo=UTC)
    assert after == datetime(2026, 10, 30, 9, 0, tzinfo=UTC)
    at_the_time = domain.next_biweekly(weekday=4, local_time=time(10), timezone="Europe/Berlin", after=before)
    assert at_the_time > before  # strictly after: a round that just opened does not open again
    assert domain.sprint_round_at(ends_on=date(2026, 12, 11), local_time=time(10), timezone="America/New_York") \
        == datetime(2026, 12, 11, 15, 0, tzinfo=UTC)
    span = domain.window(datetime(2026, 12, 1, 9, 0, tzinfo=UTC), 5)
    assert (span.remind_at.hour, span.remind_at.minute, span.closes_at.hour) == (11, 30, 14)


def answers(*rows: tuple[Rating, ...], comments: tuple[str, ...] = ()) -> list[Answer]:
    return [Answer(tuple((r, Trend.SAME) for r in row), comments[i] if i < len(comments) else "")
            for i, row in enumerate(rows)]


def test_below_k_a_result_carries_the_count_only() -> None:
    two = answers((Rating.GREEN,), (Rating.RED,), comments=("a", "b"))
    result = domain.aggregate(round_id=1, channel_id="C1", opened_at=datetime(2026, 12, 1, tzinfo=UTC),
                              closed_at=None, participants=5, k=3, dimensions=["Speed"], answers=two)
    assert (result.shown, result.answers, result.dimensions, result.comments) == (False, 2, (), ())
    assert domain.means(two, ["Speed"], 3) == {}
    assert not domain.results_shown(5, 6)
    assert not domain.results_shown(2, 1)  # never under three, whatever is stored


def test_distribution_trend_and_comment_order() -> None:
    three = answers((Rating.GREEN, Rating.RED), (Rating.GREEN, Rating.AMBER), (Rating.AMBER, Rating.RED),
                    comments=("zebra crossing", "", "Apples"))
    result = domain.aggregate(round_id=2, channel_id="C1", opened_at=datetime(2026, 12, 1, tzinfo=UTC),
                              closed_at=None, participants=4, k=3, dimensions=["Speed", "Fun"], answers=three,
                              previous_means={"Speed": 2.0, "Fun": 1.5})
    speed, fun = result.dimensions
    assert (speed.green, speed.amber, speed.red, speed.same) == (2, 1, 0, 3)
    assert speed.mean == pytest.approx(8 / 3)
    assert speed.trend is Trend.BETTER
    assert fun.trend is Trend.SAME  # 1.33 against 1.5: less than a quarter step
    assert result.comments == ("Apples", "zebra crossing")
    assert domain.trend_between(2.5, 2.2) is Trend.WORSE
    assert domain.trend_between(None, 2.2) is None
    assert [domain.colour_of(m) for m in (2.5, 2.0, 1.49)] == [Rating.GREEN, Rating.AMBER, Rating.RED]


def test_a_missing_rating_is_named_by_its_dimension() -> None:
    answer, problems = domain.validate_answer(dimensions=3, ratings={0: "green", 2: "red"}, trends={0: "sideways"},
                                              comment="x" * 1001)
    assert answer is None
    assert problems == {("trend", 0): "Pick better, the same or worse.", ("rating", 1): "Pick green, amber or red.",
                        ("comment", 0): "A comment can have at most 1000 characters."}


def test_the_responder_key_differs_by_round_and_needs_the_secret() -> None:
    key = domain.responder_key("s" * 20, team_id="T1", round_id=1, user_id="U1")
    assert key != domain.responder_key("s" * 20, team_id="T1", round_id=2, user_id="U1")
    assert key != domain.responder_key("t" * 20, team_id="T1", round_id=1, user_id="U1")
    assert "U1" not in key
    assert len(key) == 64
