"""A sprint's end and its report go through the outbox: refused once, lost answers and unreachable channels."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.devtools.fakeslack import Message
from bot.devtools.harness import Cadence
from storage import outbox
from storage import sprint as store

MONDAY = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)  # 09:00 in Berlin
MIDNIGHT_AFTER_LAST_DAY = datetime(2026, 12, 11, 23, 0, tzinfo=UTC)  # 00:00 on Saturday in Berlin


@pytest.fixture
def team(cadence: Cadence) -> Cadence:
    cadence.fake.add_user("U1", "tess", tz="Europe/Berlin")
    cadence.clock.set(MONDAY - timedelta(days=3))
    with cadence.db.transaction() as session:
        for key, points in (("PAY-1", 5.0), ("PAY-2", 3.0)):
            store.add_story(session, team_id="T1", channel_id="C1", key=key, title=f"story {key}", points=points,
                            by="U1", now=cadence.clock(), source="poker")
    cadence.clock.set(MONDAY)
    cadence.command("/sprint", 'start "Sprint 14" --until 2026-12-11 --goal "Checkout v2"', user="U1")
    cadence.command("/sprint", "done PAY-1", user="U1")
    return cadence


def summaries(cadence: Cadence) -> list[Message]:
    return [m for m in cadence.fake.messages("C1") if "Sprint 14 · summary" in m.all_text]


def charts(cadence: Cadence) -> list[dict[str, Any]]:
    """Files shared in a conversation (an upload whose completion Slack refused was never shared)."""
    return [u for u in cadence.fake.state.uploads.values() if u.get("channel")]


def participation_dms(cadence: Cadence) -> list[Message]:
    return [m for m in cadence.fake.dms("U1") if "stand-up participation per person" in m.all_text]


def end_by_command(cadence: Cadence) -> None:
    cadence.clock.set(MONDAY + timedelta(days=11))
    cadence.command("/sprint", "end", user="U1")


def end_by_itself(cadence: Cadence) -> None:
    cadence.tick(MIDNIGHT_AFTER_LAST_DAY)


def assert_reported_once(cadence: Cadence) -> None:
    [summary] = summaries(cadence)
    assert "Points: 5 of 8 committed done (1 of 2 committed stories)" in summary.all_text
    [chart] = charts(cadence)
    assert (chart["channel"], chart["thread_ts"]) == ("C1", summary.ts)
    assert chart["title"] == "Sprint 14 burn-up"
    assert len(participation_dms(cadence)) == 1


@pytest.mark.parametrize("end", [end_by_command, end_by_itself])
@pytest.mark.parametrize("refusal", [{"status": 500}, {"error": "service_unavailable"}])
def test_a_summary_slack_refuses_once_goes_out_after_the_backoff_with_its_chart(
    team: Cadence, end: Any, refusal: dict[str, Any]
) -> None:
    # The end queues two posts at once (the summary, the facilitator's DM): Slack refuses both, once.
    team.fake.fail("chat.postMessage", times=2, **refusal)
    end(team)
    assert summaries(team) == []
    assert charts(team) == []  # the chart waits for its summary
    assert participation_dms(team) == []
    with team.db.reading() as session:
        # The sprint has ended all the same: nothing asks for a second end, nothing is lost.
        assert store.running_sprint(session, team_id="T1", channel_id="C1") is None
        assert outbox.state_of(session, key=f"sprint.summary:{sprint_id(team)}") == "pending"
    team.command("/sprint", "end", user="U1")
    assert "no sprint is running in this channel" in team.fake.responses()[-1]["text"]
    team.clock.advance(timedelta(seconds=6))
    team.settle()
    assert_reported_once(team)
    team.tick(team.clock() + timedelta(days=1))  # the end-date job finds nothing more to do
    team.clock.advance(timedelta(minutes=20))
    team.settle()
    assert_reported_once(team)


def sprint_id(cadence: Cadence) -> int:
    with cadence.db.reading() as session:
        return store.sprint_named(session, team_id="T1", channel_id="C1", name="Sprint 14").id


def test_a_lost_answer_does_not_double_the_summary(team: Cadence) -> None:
    team.fake.fail("chat.postMessage", status=500, after_doing=True, times=2)  # the summary's and the DM's answers
    end_by_command(team)
    assert len(summaries(team)) == 1
    assert charts(team) == []
    team.clock.advance(timedelta(seconds=6))
    team.settle()
    assert_reported_once(team)
    with team.db.reading() as session:
        sent = outbox.sent_message(session, key=f"sprint.summary:{sprint_id(team)}")
    assert sent is not None
    assert sent.ts == summaries(team)[0].ts


def test_a_chart_upload_refused_once_is_shared_later_once(team: Cadence) -> None:
    team.fake.fail("files.completeUploadExternal", status=500)
    end_by_command(team)
    assert len(summaries(team)) == 1
    assert charts(team) == []
    # Its second attempt (the first waited for the summary in the same round): backs off 10 s.
    team.clock.advance(timedelta(seconds=11))
    team.settle()
    assert_reported_once(team)


def test_a_summary_the_channel_refuses_for_good_is_told_to_the_facilitator(team: Cadence) -> None:
    team.fake.add_channel("C1", is_member=False, private=True)  # someone removed the app from the channel
    end_by_command(team)
    assert summaries(team) == []
    assert charts(team) == []
    warnings = [m for m in team.fake.dms("U1") if "I could not post the summary of Sprint 14" in m.all_text]
    assert len(warnings) == 1
    assert "channel_not_found" in warnings[0].all_text
    assert len(participation_dms(team)) == 1


def test_the_report_so_far_goes_to_the_channel_once_per_request(team: Cadence) -> None:
    team.fake.fail("chat.postMessage", status=500, times=2)
    team.command("/sprint", "summary", user="U1")
    assert "The summary of Sprint 14 so far is on its way" in team.fake.responses()[-1]["text"]
    team.clock.advance(timedelta(seconds=6))
    team.settle()
    [report] = [m for m in team.fake.messages("C1") if "Sprint 14 · so far" in m.all_text]
    [chart] = charts(team)
    assert chart["thread_ts"] == report.ts
    with team.db.reading() as session:
        assert store.running_sprint(session, team_id="T1", channel_id="C1") is not None


def test_a_report_so_far_delivered_after_the_end_still_reads_so_far(team: Cadence) -> None:
    team.fake.fail("chat.postMessage", status=500, times=2)
    team.command("/sprint", "summary", user="U1")
    end_by_command(team)
    team.clock.advance(timedelta(seconds=30))
    team.settle()
    assert len([m for m in team.fake.messages("C1") if "Sprint 14 · so far" in m.all_text]) == 1
    assert len(summaries(team)) == 1
    assert len(charts(team)) == 2
