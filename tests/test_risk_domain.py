"""The risk register's rules on plain values: score and band, the modal's validation, review periods, staleness and
the open score replayed from the history."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from ceremonies import risks as domain
from ceremonies.risks import Change, OpenRisk, RiskEvent, Status

TODAY = date(2026, 12, 1)
NOON = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def draft(**changes: str | None) -> tuple[domain.RiskDraft | None, dict[str, str]]:
    fields: dict[str, str | None] = dict(title="Payments API may slip", description="", likelihood="4", impact="5",
                                         owner_id="U2", mitigation="", review_on="2026-12-15", link=None)
    fields.update(changes)
    return domain.validate_draft(**fields, today=TODAY)  # type: ignore[arg-type]


def test_score_is_likelihood_times_impact_with_the_usual_bands() -> None:
    assert domain.score(4, 5) == 20
    assert [domain.band(s) for s in (1, 4, 5, 9, 10, 16, 20, 25)] == [
        "low", "low", "medium", "medium", "high", "high", "critical", "critical"]


def test_a_valid_draft() -> None:
    found, problems = draft(title="  Payments   API may slip ", link="story:7")
    assert problems == {}
    assert found == domain.RiskDraft("Payments API may slip", "", 4, 5, "U2", "", date(2026, 12, 15),
                                     domain.Link("story", 7))


@pytest.mark.parametrize(("changes", "field"), [
    ({"likelihood": "0"}, "likelihood"), ({"likelihood": "6"}, "likelihood"), ({"impact": "2.5"}, "impact"),
    ({"impact": None}, "impact"), ({"title": "   "}, "title"), ({"title": "x" * 151}, "title"),
    ({"review_on": "2026-11-30"}, "review"), ({"review_on": None}, "review"), ({"review_on": "2028-01-01"}, "review"),
    ({"owner_id": None}, "owner"), ({"mitigation": "m" * 1001}, "mitigation"),
])
def test_bad_input_names_its_field(changes: dict[str, str | None], field: str) -> None:
    found, problems = draft(**changes)
    assert found is None
    assert list(problems) == [field]


def test_today_is_a_valid_review_date() -> None:
    assert draft(review_on=TODAY.isoformat())[1] == {}


def test_review_period_and_staleness_after_two_periods() -> None:
    assert domain.review_period_days(reviewed_on=TODAY, next_review_on=TODAY + timedelta(days=14)) == 14
    assert domain.review_period_days(reviewed_on=TODAY, next_review_on=TODAY) == 1
    assert domain.default_next_review(today=TODAY, period_days=14) == date(2026, 12, 15)
    stale_at = NOON + timedelta(days=28)
    assert not domain.is_stale(status=Status.OPEN, reviewed_at=NOON, period_days=14, now=stale_at - timedelta(seconds=1))
    assert domain.is_stale(status=Status.OPEN, reviewed_at=NOON, period_days=14, now=stale_at)
    assert not domain.is_stale(status=Status.CLOSED, reviewed_at=NOON, period_days=14, now=stale_at)


def test_the_reminder_is_at_nine_in_the_owners_timezone() -> None:
    assert domain.review_moment(TODAY, "Europe/Berlin") == datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    assert domain.review_moment(TODAY, "Not/AZone") == datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def risk(risk_id: int, likelihood: int, impact: int, *, age_days: int = 0, stale: bool = False) -> OpenRisk:
    return OpenRisk(risk_id, "C1", f"risk {risk_id}", likelihood, impact, "U1", "", TODAY,
                    NOON - timedelta(days=age_days), stale)


def test_by_score_then_oldest_first() -> None:
    ordered = domain.by_score([risk(1, 2, 2), risk(2, 4, 5, age_days=1), risk(3, 5, 4, age_days=3), risk(4, 3, 3)])
    assert [r.id for r in ordered] == [3, 2, 4, 1]
    assert domain.heat_counts([risk(1, 2, 2), risk(2, 2, 2), risk(3, 5, 4)]) == {(2, 2): 2, (5, 4): 1}


def test_figures_replay_the_open_score_at_both_ends() -> None:
    start, end = NOON, NOON + timedelta(days=10)

    def event(risk_id: int, days: int, change: Change, score: int, status: Status) -> RiskEvent:
        return RiskEvent(risk_id, NOON + timedelta(days=days), change, None, score, None, status)

    events = [
        event(1, -5, Change.RAISED, 12, Status.OPEN),      # open all along, rescored down
        event(1, 3, Change.RESCORED, 6, Status.OPEN),
        event(2, -2, Change.RAISED, 20, Status.OPEN),      # closed during the sprint
        event(2, 4, Change.CLOSED, 20, Status.CLOSED),
        event(3, 2, Change.RAISED, 9, Status.OPEN),        # raised, then occurred
        event(3, 6, Change.OCCURRED, 9, Status.OCCURRED),
        event(4, 8, Change.RAISED, 4, Status.OPEN),        # raised and still open
        event(5, 11, Change.RAISED, 25, Status.OPEN),      # after the end
    ]
    found = domain.figures(open_risks=[risk(1, 2, 3), risk(4, 2, 2, stale=True)], events=events, start=start, end=end)
    assert (found.raised, found.closed, found.occurred) == (2, 1, 1)
    assert (found.score_at_start, found.score_at_end, found.trend) == (32, 10, -22)
    assert [r.id for r in found.open] == [1, 4]
    assert found.stale == 1
