"""The sprint review's rules as plain functions: when a sprint may be reviewed, what verdicts add up to, notes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from ceremonies import review as domain
from ceremonies.errors import InvalidInput, NotAllowed
from ceremonies.review import Outcome, ReviewOutcome, StoryResult, Verdict

LAST_DAY = date(2026, 12, 11)


def at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def test_a_running_sprint_is_reviewed_from_three_days_before_its_last_day() -> None:
    for day in (LAST_DAY - timedelta(days=3), LAST_DAY):
        domain.check_reviewable(name="S", ends_on=LAST_DAY, timezone="Europe/Berlin", ended_at=None, now=at(day))
    with pytest.raises(InvalidInput, match="can start from Tue 8 Dec"):
        domain.check_reviewable(name="S", ends_on=LAST_DAY, timezone="Europe/Berlin", ended_at=None,
                                now=at(LAST_DAY - timedelta(days=4)))
    # 23:30 UTC on the 7th is already the 8th in Berlin: the sprint's own calendar decides.
    domain.check_reviewable(name="S", ends_on=LAST_DAY, timezone="Europe/Berlin", ended_at=None,
                            now=datetime(2026, 12, 7, 23, 30, tzinfo=UTC))


def test_an_ended_sprint_is_reviewed_until_a_week_after_it_ended() -> None:
    ended = at(LAST_DAY + timedelta(days=1), 0)
    domain.check_reviewable(name="S", ends_on=LAST_DAY, timezone="UTC", ended_at=ended, now=ended + timedelta(days=7))
    with pytest.raises(InvalidInput, match="ended more than 7 days ago"):
        domain.check_reviewable(name="S", ends_on=LAST_DAY, timezone="UTC", ended_at=ended,
                                now=ended + timedelta(days=7, seconds=1))


def test_anyone_asking_for_changes_decides_a_story() -> None:
    assert domain.story_outcome([]) is Outcome.UNDECIDED
    assert domain.story_outcome([Verdict.ACCEPTED, Verdict.ACCEPTED]) is Outcome.ACCEPTED
    assert domain.story_outcome([Verdict.ACCEPTED, Verdict.NEEDS_CHANGES]) is Outcome.NEEDS_CHANGES


def test_the_outcome_counts_stories_questions_and_follow_ups() -> None:
    stories = (
        StoryResult("P-1", "a", True, "U1", accepted_by=("U2",), questions=2, questions_open=1),
        StoryResult("P-2", "b", True, "U1", accepted_by=("U2",), needs_changes_by=("U3",), follow_ups=1),
        StoryResult("P-3", "c", False, "U1"),
    )
    outcome = ReviewOutcome(stories, ("U2", "U3"), closed=True)
    assert (outcome.accepted, outcome.needs_changes, outcome.undecided) == (1, 1, 1)
    assert (outcome.questions, outcome.questions_open, outcome.follow_ups) == (2, 1, 1)
    assert [s.key for s in outcome.with_open_questions] == ["P-1"]


def test_a_needs_changes_note_is_required_and_bounded() -> None:
    assert domain.clean_note("  Show the last four digits \n") == "Show the last four digits"
    with pytest.raises(InvalidInput, match="Say what needs to change"):
        domain.clean_note(" \n\t ")
    with pytest.raises(InvalidInput, match=str(domain.NOTE_LIMIT)):
        domain.clean_note("x" * (domain.NOTE_LIMIT + 1))
    with pytest.raises(InvalidInput):
        domain.clean_question("")


def test_follow_up_titles_fit_the_story_title_column() -> None:
    title = domain.follow_up_title(key="PAY-2", title="Cards", note="Show\nthe   digits", limit=200)
    assert title == "Follow-up to PAY-2: Show the digits"
    long = domain.follow_up_title(key=None, title="Cards", note="x" * 500, limit=200)
    assert len(long) == 200
    assert long.startswith("Follow-up to Cards: ")
    assert long.endswith("…")


def test_ids_from_outside_are_slack_ids_or_dropped() -> None:
    assert domain.slack_users(["U1", "<!channel>", None, "U1", "W2", "u3"]) == ["U1", "W2"]
    assert domain.slack_channel("C0AB") == "C0AB"
    assert domain.slack_channel("<!here>") is None
    assert domain.default_presenter(owner_id=None, facilitator_id="U9") == "U9"
    assert domain.default_presenter(owner_id="U2", facilitator_id="U9") == "U2"


def test_a_story_link_is_the_first_web_link_in_its_key_or_title() -> None:
    assert domain.story_link("PAY-1", "Fix https://jira.example.com/browse/PAY-1 now") == \
        "https://jira.example.com/browse/PAY-1"
    assert domain.story_link("PAY-1", "no link") is None
    assert domain.story_link(None, "see <https://x.example|x>") == "https://x.example"


def test_who_may_triage_and_answer() -> None:
    domain.check_may_triage(user_id="U1", facilitator_id="U1", presenter_id="U2")
    domain.check_may_triage(user_id="U2", facilitator_id="U1", presenter_id="U2")
    with pytest.raises(NotAllowed):
        domain.check_may_triage(user_id="U3", facilitator_id="U1", presenter_id="U2")
    domain.check_may_answer(user_id="U3", asker_id="U3", presenter_id="U2", facilitator_id="U1")
    with pytest.raises(NotAllowed):
        domain.check_may_answer(user_id="U4", asker_id="U3", presenter_id="U2", facilitator_id="U1")
