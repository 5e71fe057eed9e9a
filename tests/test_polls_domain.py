"""Quick poll rules as plain functions: the `/poll` argument syntax, limits and durations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ceremonies import polls
from ceremonies.errors import InvalidInput, NotAllowed


def test_quoted_arguments_and_flags() -> None:
    draft = polls.parse_command('"Where do we eat?" "Pizza place" "Sushi" --multi --anonymous --close 2h')
    assert draft == polls.PollDraft(
        question="Where do we eat?",
        options=("Pizza place", "Sushi"),
        multi=True,
        anonymous=True,
        close_after=timedelta(hours=2),
    )
    assert draft.closes_at(datetime(2026, 1, 1, tzinfo=UTC)) == datetime(2026, 1, 1, 2, tzinfo=UTC)


def test_curly_quotes_from_phones_work_and_apostrophes_are_letters() -> None:
    draft = polls.parse_command("“Don't we ship Friday?” “Yes” „No‟ “Can't say”")
    assert draft.question == "Don't we ship Friday?"
    assert draft.options == ("Yes", "No", "Can't say")


def test_single_words_need_no_quotes() -> None:
    assert polls.split_arguments('Lunch? Pizza "Thai food"') == ["Lunch?", "Pizza", "Thai food"]
    assert polls.split_arguments('a"b c"') == ["a", "b c"]
    assert polls.split_arguments('""') == [""]


def test_an_unbalanced_quote_is_refused_with_the_usage() -> None:
    with pytest.raises(InvalidInput, match=r"not closed.*Usage"):
        polls.parse_command('"Question? "A" "B"')


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('"Q?" "A"', "at least 2 options"),
        ('"Q?" ' + " ".join(f'"{i}"' for i in range(11)), "at most 10 options"),
        ('"Q?" "A" "' + "b" * 76 + '"', "at most 75 characters"),
        ('"' + "q" * 501 + '" "A" "B"', "at most 500 characters"),
        ('"Q?" "A" "a"', "must be different"),
        ('"Q?" "A" "B" --close', "needs a duration"),
        ('"Q?" "A" "B" --close soon', "not a duration"),
        ('"Q?" "A" "B" --close 31d', "at most 30 days"),
        ('"Q?" "A" "B" --secret', "don't know the option"),
        ("--multi", "Give a question"),
    ],
)
def test_limits_are_enforced_with_a_clear_error(text: str, problem: str) -> None:
    with pytest.raises(InvalidInput, match=problem):
        polls.parse_command(text)


def test_ten_options_of_75_characters_fit() -> None:
    options = [f"{i}" + "o" * 74 for i in range(10)]
    draft = polls.validate("Q?", options)
    assert len(draft.options) == 10


@pytest.mark.parametrize(
    ("text", "minutes"), [("30m", 30), ("2h", 120), ("1d", 1440), ("1h30m", 90), ("45min", 45), ("2H", 120)]
)
def test_durations(text: str, minutes: int) -> None:
    assert polls.parse_duration(text) == timedelta(minutes=minutes)


def test_zero_is_not_a_duration() -> None:
    with pytest.raises(InvalidInput, match="at least a minute"):
        polls.parse_duration("0m")


def test_only_the_creator_closes() -> None:
    polls.check_may_close(user_id="U1", creator_id="U1")
    with pytest.raises(NotAllowed, match="Only <@U1> can close"):
        polls.check_may_close(user_id="U2", creator_id="U1")


def test_the_tally_names_the_leaders() -> None:
    tally = polls.Tally((polls.OptionTally("A", 2), polls.OptionTally("B", 2), polls.OptionTally("C", 0)), voters=4)
    assert tally.leaders == ("A", "B")
    assert polls.Tally((polls.OptionTally("A", 0),), voters=0).leaders == ()
    assert polls.percent(1, 3) == 33
