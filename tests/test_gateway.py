"""The gateway's one classification of Slack's answers, from the fake Slack's real answers over HTTP.

Retry later (429 with its Retry-After, 5xx), conversation unreachable, person gone, workspace gone (the workspace
is marked uninstalled at once and its scheduled work stops), our bug (logged at ERROR, never retried).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.devtools.harness import Cadence
from bot.slack.client import counting_only, make_client
from bot.slack.gateway import Slack, SlackFailure, Verdict
from storage import outbox, workspaces

TEAM = "T1"


def raw(cadence: Cadence) -> Slack:
    """The workspace's handle without slack_sdk's own retries (as the outbox worker calls): Slack's first answer."""
    return cadence.runtime.gateway.for_client(counting_only(cadence.runtime.clients.for_team(TEAM)), team_id=TEAM)


def failure_of(call: Callable[[], Any]) -> SlackFailure:
    with pytest.raises(SlackFailure) as failed:
        call()
    return failed.value


def test_429_is_retry_later_after_slacks_retry_after(cadence: Cadence) -> None:
    cadence.fake.fail("chat.postMessage", status=429, retry_after=7)
    failed = failure_of(lambda: raw(cadence).post(channel="C1", text="hello"))
    assert (failed.verdict, failed.error, failed.answer.retry_after) == (Verdict.RETRY_LATER, "ratelimited", 7.0)
    assert failed.answer.retryable
    assert cadence.fake.messages("C1") == []


def test_a_server_error_is_retry_later(cadence: Cadence) -> None:
    cadence.fake.fail("chat.postMessage", status=500)
    failed = failure_of(lambda: raw(cadence).post(channel="C1", text="hello"))
    assert (failed.verdict, failed.error) == (Verdict.RETRY_LATER, "internal_error")
    assert failed.answer.retry_after is None


def test_a_channel_the_bot_is_not_in_is_unreachable(cadence: Cadence) -> None:
    cadence.fake.add_channel("C9", is_member=False, private=True)
    failed = failure_of(lambda: cadence.runtime.gateway.for_team(TEAM).post(channel="C9", text="hello"))
    assert (failed.verdict, failed.error, failed.channel) == (Verdict.UNREACHABLE, "channel_not_found", "C9")  # private: the bot cannot see it


def test_a_channel_that_does_not_exist_is_unreachable(cadence: Cadence) -> None:
    failed = failure_of(lambda: cadence.runtime.gateway.for_team(TEAM).post(channel="general", text="hello"))
    assert (failed.verdict, failed.error) == (Verdict.UNREACHABLE, "channel_not_found")


def test_an_archived_channel_is_unreachable(cadence: Cadence) -> None:
    cadence.fake.add_channel("C8")
    cadence.fake.channels["C8"]["archived"] = True  # the fake has no archive call: someone archived it in Slack
    failed = failure_of(lambda: cadence.runtime.gateway.for_team(TEAM).post(channel="C8", text="hello"))
    assert (failed.verdict, failed.error) == (Verdict.UNREACHABLE, "is_archived")


def test_a_person_slack_does_not_know_is_gone(cadence: Cadence) -> None:
    cadence.fake.add_user("U1", "tess")
    failed = failure_of(lambda: cadence.runtime.gateway.for_team(TEAM).user_info(user="U404"))
    assert (failed.verdict, failed.error) == (Verdict.PERSON_GONE, "user_not_found")
    assert cadence.runtime.gateway.for_team(TEAM).user_info(user="U1")["name"] == "tess"


def test_blocks_slack_refuses_are_our_bug_logged_at_error(cadence: Cadence, caplog: pytest.LogCaptureFixture) -> None:
    bad = [{"type": "divider"}] * 51  # Slack allows 50 blocks in a message
    failed = failure_of(lambda: cadence.runtime.gateway.for_team(TEAM).post(channel="C1", text="hi", blocks=bad))
    assert (failed.verdict, failed.error) == (Verdict.OUR_BUG, "invalid_blocks")
    assert [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "cadence.slack"] == [
        ("ERROR", "Slack refused chat.postMessage as a bug of ours: invalid_blocks")
    ]
    assert cadence.fake.violations  # the fake recorded what it refused: this test sent it on purpose
    cadence.fake.state.violations.clear()
    assert cadence.runtime.is_active(TEAM)


def sprint_ending_tomorrow(cadence: Cadence) -> None:
    cadence.fake.add_user("U1", "tess", tz="Europe/Berlin")
    reply = cadence.command("/sprint", 'start "Sprint 14" --until 2026-12-02', user="U1", channel="C1")
    assert reply.status == 200
    with cadence.db.transaction() as session:
        outbox.add(session, team_id=TEAM, key="gateway:note", kind="test.note", channel="C1", text="a note later",
                   now=datetime(2026, 12, 2, 9, 0, tzinfo=UTC))


def work_after_the_sprint(cadence: Cadence) -> list[str]:
    since = len(cadence.fake.calls())
    for hour in (8, 12, 18):
        cadence.tick(datetime(2026, 12, 3, hour, 0, tzinfo=UTC))
    return [f"{c.method} {c.args.get('text') or ''}" for c in cadence.fake.calls()[since:]]


def test_with_a_live_token_the_scheduled_work_goes_out(cadence: Cadence) -> None:
    sprint_ending_tomorrow(cadence)
    sent = "\n".join(work_after_the_sprint(cadence))
    assert "Sprint 14: health green" in sent
    assert "a note later" in sent


@pytest.mark.parametrize("how", ["token_revoked", "invalid_auth", "account_inactive"])
def test_a_dead_token_marks_the_workspace_uninstalled_and_its_scheduled_work_stops(
    cadence: Cadence, how: str, caplog: pytest.LogCaptureFixture
) -> None:
    sprint_ending_tomorrow(cadence)
    if how == "invalid_auth":  # a token Slack does not know at all: the fake's own answer
        slack = cadence.runtime.gateway.for_client(make_client(cadence.runtime.settings, "bogus"), team_id=TEAM)
    else:
        cadence.fake.fail("users.info", error=how)
        slack = cadence.runtime.gateway.for_team(TEAM)
    failed = failure_of(lambda: slack.user_info(user="U1"))
    assert (failed.verdict, failed.error) == (Verdict.WORKSPACE_GONE, how)
    with cadence.db.reading() as session:
        assert not workspaces.is_active(session, team_id=TEAM)
        assert workspaces.uninstalled_team_ids(session) == {TEAM}
    assert f"Slack says the workspace's token is dead ({how} on users.info)" in caplog.text

    assert work_after_the_sprint(cadence) == []
    with cadence.db.reading() as session:
        assert outbox.sent_message(session, key="gateway:note") is None


def test_a_workspace_marked_gone_works_again_once_it_reinstalls(cadence: Cadence) -> None:
    cadence.fake.fail("chat.postMessage", error="token_revoked")
    with pytest.raises(SlackFailure):
        cadence.runtime.gateway.for_team(TEAM).post(channel="C1", text="hello")
    assert not cadence.runtime.is_active(TEAM)
    with cadence.db.transaction() as session:
        workspaces.record_installation(session, team_id=TEAM, name="Test Team", now=cadence.clock())
    assert cadence.runtime.is_active(TEAM)
    cadence.runtime.gateway.for_team(TEAM).post(channel="C1", text="hello again")
    assert [m.text for m in cadence.fake.messages("C1")] == ["hello again"]


def test_the_classification_is_logged_quietly_for_what_is_not_a_bug(
    cadence: Cadence, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    cadence.fake.add_channel("C9", is_member=False, private=True)
    with pytest.raises(SlackFailure):
        cadence.runtime.gateway.for_team(TEAM).post(channel="C9", text="hello")
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
