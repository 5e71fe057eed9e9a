"""Who may administer a stand-up or a team: its owner, the team's facilitator, a workspace admin or owner."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.devtools.harness import Cadence
from bot.listeners.roles import may_administer, require_admin
from bot.server.runtime import slack_of
from bot.slack.gateway import SlackFailure, Verdict
from bot.slack.people import profile
from ceremonies.errors import NotAllowed

ACTION = "change this stand-up's settings"


@pytest.fixture
def people(cadence: Cadence) -> Cadence:
    cadence.fake.add_user("UOWNER", "olga")
    cadence.fake.add_user("UFAC", "fred")
    cadence.fake.add_user("UADMIN", "ada", is_admin=True)
    cadence.fake.add_user("UBOSS", "bo", is_owner=True)
    cadence.fake.add_user("UDEV", "dev")
    cadence.fake.add_user("UGONE", "gone", is_admin=True, deleted=True)
    return cadence


def allowed(cadence: Cadence, user_id: str) -> bool:
    return may_administer(cadence.runtime, cadence.runtime.gateway.for_team("T1"), team_id="T1", user_id=user_id,
                          owner_id="UOWNER", facilitator_ids={"UFAC"})


def test_owner_facilitator_admin_and_workspace_owner_may(people: Cadence) -> None:
    assert [allowed(people, u) for u in ("UOWNER", "UFAC", "UADMIN", "UBOSS")] == [True] * 4


def test_anyone_else_may_not_nor_a_deactivated_admin(people: Cadence) -> None:
    assert [allowed(people, u) for u in ("UDEV", "UGONE", "UNOBODY")] == [False] * 3


def test_owner_and_facilitator_need_no_call_to_slack(people: Cadence) -> None:
    allowed(people, "UOWNER")
    allowed(people, "UFAC")
    assert people.fake.calls("users.info") == []
    allowed(people, "UADMIN")
    allowed(people, "UADMIN")  # cached in the people table for a day
    assert [c.args["user"] for c in people.fake.calls("users.info")] == ["UADMIN"]


def test_the_refusal_is_one_clear_line_naming_who_may(people: Cadence) -> None:
    with pytest.raises(NotAllowed) as refusal:
        require_admin(people.runtime, people.runtime.gateway.for_team("T1"), team_id="T1", user_id="UDEV", action=ACTION,
                      owner_id="UOWNER", facilitator_ids=["UFAC"], owner_label="the stand-up's owner")
    assert str(refusal.value) == (
        "Only the stand-up's owner (<@UOWNER>), the team's facilitator (<@UFAC>) or a workspace admin can "
        "change this stand-up's settings."
    )
    with pytest.raises(NotAllowed, match=r"^Only a workspace admin can purge this workspace\.$"):
        require_admin(people.runtime, people.runtime.gateway.for_team("T1"), team_id="T1", user_id="UDEV",
                      action="purge this workspace")
    require_admin(people.runtime, people.runtime.gateway.for_team("T1"), team_id="T1", user_id="UADMIN", action=ACTION)


def test_a_refusal_reaches_the_user_as_an_ephemeral_line(people: Cadence) -> None:
    """Raised in a listener after ack, NotAllowed goes through the global error handler to the user."""
    from slack_bolt import Ack, BoltContext

    def guarded(ack: Ack, context: BoltContext) -> None:
        ack()
        require_admin(people.runtime, slack_of(context), team_id=context.team_id or "", user_id=context.user_id or "",
                      action=ACTION, owner_id="UOWNER")

    people.app.command("/guarded")(guarded)
    reply = people.command("/guarded", "", user="UDEV")
    assert reply.status == 200
    assert [r["text"] for r in people.fake.responses()] == [
        ":warning: Only its owner (<@UOWNER>) or a workspace admin can change this stand-up's settings."
    ]


def test_slack_unable_to_answer_falls_back_to_the_cached_profile_else_the_person_is_told(people: Cadence) -> None:
    slack = people.runtime.gateway.for_team("T1")
    assert profile(people.runtime, slack, team_id="T1", user_id="UADMIN") is not None  # cached now
    people.clock.advance(timedelta(days=2))  # the cache is stale: Slack is asked again, and refuses
    people.fake.fail("users.info", error="fatal_error")
    cached = profile(people.runtime, slack, team_id="T1", user_id="UADMIN")
    assert cached is not None
    assert cached.can_administer
    people.fake.fail("users.info", error="fatal_error")
    with pytest.raises(SlackFailure) as failure:  # nothing cached: the global error handler tells the person
        profile(people.runtime, slack, team_id="T1", user_id="UDEV")
    assert failure.value.verdict is Verdict.RETRY_LATER


def test_a_person_slack_does_not_know_has_no_profile(people: Cadence) -> None:
    slack = people.runtime.gateway.for_team("T1")
    assert profile(people.runtime, slack, team_id="T1", user_id="UNOBODY") is None
    people.fake.fail("users.info", error="user_not_visible")
    assert profile(people.runtime, slack, team_id="T1", user_id="UDEV") is None
