"""Roles over HTTP: only a stand-up's owner, the team's facilitator or a workspace admin changes settings or deletes.

Everyone else is told in one ephemeral line who may, and nothing changes.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.devtools.fakeslack import text_of
from bot.devtools.harness import Cadence
from bot.listeners import MODULES
from bot.views import blockers as blocker_views
from bot.views import standup as views
from storage import blockers as blocker_store
from storage import standup as store
from storage.models import Workspace
from tests.test_blockers import set_settings
from tests.test_standup_flow import form_values, set_up

OWNER_ONLY = "Only the stand-up's owner (<@U1>) or a workspace admin can"


def people(cadence: Cadence) -> None:
    fake = cadence.fake
    fake.add_user("U1", "olga")  # sets up the stand-up: its owner
    fake.add_user("U2", "dev")
    fake.add_user("U3", "cy")
    fake.add_user("UADMIN", "ada", is_admin=True)
    fake.add_user("UBOSS", "bo", is_owner=True)
    fake.add_channel("C1", "team")


def told(cadence: Cadence, reply: Any) -> str:
    """What the person read: the reply (with a modal's inline errors) and the ephemeral responses to its response_url."""
    errors = (reply.json or {}).get("errors", {}) if reply.body[:1] == b"{" else {}
    return "\n".join([reply.text, *errors.values(), *(r.get("text", "") for r in cadence.fake.responses())])


def standup(cadence: Cadence) -> store.Standup:
    with cadence.db.transaction() as session:
        found = store.get_standup(session, team_id="T1", channel_id="C1")
        assert found is not None
        session.expunge(found)
        return found


def test_a_member_cannot_pause_resume_delete_or_reconfigure_someone_elses_standup(cadence: Cadence) -> None:
    people(cadence)
    set_up(cadence, users=("U1", "U2"))
    before = standup(cadence)
    for action in ("pause", "resume", "delete"):
        cadence.fake.state.responses.clear()
        reply = cadence.command("/standup", action, user="U2", channel="C1")
        assert reply.status == 200
        assert f"{OWNER_ONLY} {action} this stand-up." in told(cadence, reply), action
        assert views.DELETE_CONFIRM not in str(reply.json)
    # The setup modal opens at once (its trigger lasts 3 s) and turns into the refusal once the admin check answers.
    cadence.command("/standup", "setup", user="U2", channel="C1")
    shown = cadence.fake.last_view()
    assert shown.get("callback_id") != views.SETUP_VIEW
    assert f"{OWNER_ONLY} change this stand-up's settings." in text_of(shown)

    after = standup(cadence)
    assert (after.paused, after.days, after.local_time_minute) == (before.paused, before.days, before.local_time_minute)


def test_a_member_cannot_save_the_setup_modal_nor_confirm_a_delete(cadence: Cadence) -> None:
    people(cadence)
    set_up(cadence, users=("U1", "U2"))
    cadence.command("/standup", "setup", user="U1", channel="C1")
    view = cadence.fake.last_view()  # the owner's modal for C1, submitted by someone else
    values = form_values(view, **{views.B_PARTICIPANTS: {"selected_users": ["U2"]}})
    reply = cadence.slack.view_submission(view, values, user="U2")
    cadence.settle()
    assert reply.json["response_action"] == "errors"
    assert f"{OWNER_ONLY} change this stand-up's settings." in told(cadence, reply)

    cadence.fake.state.responses.clear()
    cadence.slack.block_action(views.DELETE_CONFIRM, str(standup(cadence).id), user="U2")
    cadence.settle()
    assert f"{OWNER_ONLY} delete this stand-up." in told(cadence, reply)
    with cadence.db.transaction() as session:
        participants = [p.user_id for p in store.participants_of(session, team_id="T1", standup_id=standup(cadence).id)]
    assert sorted(participants) == ["U1", "U2"]


def test_the_owner_and_workspace_admins_or_owners_may(cadence: Cadence) -> None:
    people(cadence)
    set_up(cadence, users=("U1", "U2"))
    cadence.command("/standup", "pause", user="UADMIN", channel="C1")
    assert standup(cadence).paused
    cadence.command("/standup", "resume", user="U1", channel="C1")
    assert not standup(cadence).paused

    cadence.command("/standup", "setup", user="UADMIN", channel="C1")
    view = cadence.fake.last_view()
    reply = cadence.slack.view_submission(view, form_values(view, **{views.B_PARTICIPANTS: {"selected_users": ["U2"]}}),
                                          user="UADMIN")
    cadence.settle()
    assert reply.json is None or reply.json.get("response_action") != "errors", reply.text
    assert standup(cadence).owner_id == "U1"  # an admin's edit keeps the owner

    confirm = cadence.command("/standup", "delete", user="UBOSS", channel="C1")
    assert views.DELETE_CONFIRM in str(confirm.json)
    cadence.slack.block_action(views.DELETE_CONFIRM, confirm.json["blocks"][1]["elements"][0]["value"], user="UBOSS")
    cadence.settle()
    with cadence.db.transaction() as session:
        assert session.scalars(select(store.Standup)).all() == []


def test_anyone_may_set_up_a_standup_in_a_channel_that_has_none(cadence: Cadence) -> None:
    people(cadence)
    reply = set_up(cadence, users=("U1",))
    assert reply.status == 200
    assert standup(cadence).owner_id == "U1"


# -- /blocker settings: the team's facilitator (stand-up owner, sprint facilitator, else who configured them) --------


def saved_threshold(cadence: Cadence, channel: str) -> int | None:
    with cadence.db.transaction() as session:
        row = session.scalar(select(blocker_store.BlockerSettingsRow).where(
            blocker_store.BlockerSettingsRow.channel_id == channel))
        return None if row is None else row.threshold_days


def blocker_settings_as(cadence: Cadence, user: str, channel: str, threshold: str) -> str:
    """U-`user` runs `/blocker settings` and, if the modal stays the settings (it opens at once, and turns into the
    refusal once Slack said who is an admin), saves it; what they were told."""
    cadence.fake.state.responses.clear()
    opened = len(cadence.fake.calls("views.open"))
    reply = cadence.command("/blocker", "settings", user=user, channel=channel)
    text = told(cadence, reply)
    if len(cadence.fake.calls("views.open")) > opened:
        view = cadence.fake.last_view()
        if view.get("callback_id") != blocker_views.SETTINGS_MODAL:
            return text + "\n" + text_of(view)
        values = {
            "blocker.threshold": {"value": {"type": "number_input", "value": threshold}},
            "blocker.contact": {"value": {"type": "users_select", "selected_user": None}},
            "blocker.digest_time": {"value": {"type": "timepicker", "selected_time": "09:30"}},
            "blocker.timezone": {"value": {"type": "plain_text_input", "value": "UTC"}},
        }
        submitted = cadence.slack.view_submission(view, values, user=user)
        cadence.settle()
        text += "\n" + told(cadence, submitted)
    return text


def test_blocker_settings_belong_to_the_standup_owner_of_the_channel_or_an_admin(cadence: Cadence) -> None:
    people(cadence)
    set_up(cadence, users=("U1", "U2"))
    told_u2 = blocker_settings_as(cadence, "U2", "C1", "3")
    assert "Only the team's facilitator (<@U1>) or a workspace admin can change the blocker settings of <#C1>." \
        in told_u2
    assert saved_threshold(cadence, "C1") is None
    blocker_settings_as(cadence, "U1", "C1", "2")
    assert saved_threshold(cadence, "C1") == 2
    blocker_settings_as(cadence, "UADMIN", "C1", "4")
    assert saved_threshold(cadence, "C1") == 4


def test_blocker_settings_of_a_sprint_team_belong_to_its_facilitator(cadence: Cadence) -> None:
    people(cadence)
    cadence.command("/sprint", 'start "Sprint 1" --until 2027-01-29', user="U3", channel="C3")
    assert "Only the team's facilitator (<@U3>)" in blocker_settings_as(cadence, "U2", "C3", "3")
    assert saved_threshold(cadence, "C3") is None
    blocker_settings_as(cadence, "U3", "C3", "5")
    assert saved_threshold(cadence, "C3") == 5


def test_in_a_channel_without_facilitator_whoever_configured_the_settings_keeps_them(cadence: Cadence) -> None:
    people(cadence)
    blocker_settings_as(cadence, "U2", "C2", "2")  # nobody facilitates C2 yet: U2 may set it up
    assert saved_threshold(cadence, "C2") == 2
    assert "Only the team's facilitator (<@U2>)" in blocker_settings_as(cadence, "U3", "C2", "7")
    assert saved_threshold(cadence, "C2") == 2
    blocker_settings_as(cadence, "UBOSS", "C2", "6")
    assert saved_threshold(cadence, "C2") == 6


def test_a_refused_settings_modal_is_refused_inline(cadence: Cadence) -> None:
    people(cadence)
    set_settings(cadence, threshold="2", channel="C2")  # U1 configures C2 first
    cadence.command("/blocker", "settings", user="U1", channel="C2")
    view = cadence.fake.last_view()
    values = {"blocker.threshold": {"value": {"type": "number_input", "value": "9"}},
              "blocker.contact": {"value": {"type": "users_select", "selected_user": None}},
              "blocker.digest_time": {"value": {"type": "timepicker", "selected_time": "09:30"}},
              "blocker.timezone": {"value": {"type": "plain_text_input", "value": "UTC"}}}
    reply = cadence.slack.view_submission(view, values, user="U3")
    assert reply.json["response_action"] == "errors"
    assert "Only the team's facilitator (<@U1>)" in told(cadence, reply)
    assert saved_threshold(cadence, "C2") == 2


def test_purging_a_workspace_is_for_the_operator_only(cadence: Cadence) -> None:
    people(cadence)
    set_up(cadence, users=("U1",))
    for text in ("workspace purge T1", "purge T1", "purge"):
        reply = cadence.command("/cadence", text, user="UBOSS", channel="C1")
        assert reply.status == 200
        assert "I don't know" in reply.text  # the usage, not a purge
    assert not any("purge" in line for module in MODULES for command in getattr(module, "SLASH_COMMANDS", ())
                   for line in command.usage)
    with cadence.db.transaction() as session:
        assert session.scalars(select(store.Standup.team_id)).all() == ["T1"]
        assert session.get(Workspace, "T1") is None or session.get(Workspace, "T1").uninstalled_at is None
