"""The App Home, section by section, over HTTP with the fake Slack: what is waiting for a person, their buttons,
and the Home refreshed after their own actions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.devtools.fakeslack import text_of
from bot.devtools.harness import Cadence
from bot.views import blockers as blocker_views
from bot.views import standup as standup_views
from bot.views.common import VIEW_BLOCK_LIMIT
from tests.test_poker import card_button
from tests.test_polls import choose
from tests.test_retro_actions import retro_with_actions
from tests.test_standup_flow import form_values, set_up

PROMPT_TIME = datetime(2026, 12, 1, 8, 30, tzinfo=UTC)  # 09:30 in Berlin, a Tuesday


def open_home(cadence: Cadence, user: str) -> dict[str, Any]:
    reply = cadence.slack.event({"type": "app_home_opened", "user": user, "channel": "D" + user, "tab": "home"})
    assert reply.status == 200
    cadence.settle()
    return home(cadence, user)


def home(cadence: Cadence, user: str) -> dict[str, Any]:
    """The Home as last published for `user`, checked against Slack's limits."""
    view = cadence.fake.home(user)
    assert view is not None, f"no Home was published for {user}"
    assert len(view["blocks"]) <= VIEW_BLOCK_LIMIT
    assert cadence.fake.violations == []
    return {**view, "id": f"VH{user}"}


def buttons(view: dict[str, Any], action_id: str) -> list[dict[str, Any]]:
    found = []
    for block in view["blocks"]:
        for element in [*block.get("elements", []), block.get("accessory") or {}]:
            if element.get("action_id") == action_id:
                found.append(element)
    return found


def click_on_home(cadence: Cadence, view: dict[str, Any], element: dict[str, Any], *, user: str) -> None:
    """Click a button of a Home: the payload has a view container, no channel, no message and no response_url."""
    reply = cadence.slack.block_action(element["action_id"], element.get("value"), user=user, view=view)
    assert reply.status == 200
    cadence.settle()


def start_poker(cadence: Cadence, *, user: str, channel: str, stories: str, participants: list[str]) -> None:
    cadence.command("/poker", "", user=user, channel=channel)
    modal = cadence.fake.last_view()
    values = {
        "poker.stories": {"poker.stories": {"type": "plain_text_input", "value": stories}},
        "poker.deck": {"poker.deck": {"type": "static_select", "selected_option": {"value": "fibonacci"}}},
        "poker.custom_deck": {"poker.custom_deck": {"type": "plain_text_input", "value": None}},
        "poker.participants": {"poker.participants": {"type": "multi_users_select", "selected_users": participants}},
        "poker.options": {"poker.options": {"type": "checkboxes", "selected_options": []}},
        "poker.reveal_policy": {"poker.reveal_policy": {"type": "radio_buttons",
                                                        "selected_option": {"value": "facilitator"}}},
    }
    assert cadence.slack.view_submission(modal, values, user=user).status == 200
    cadence.settle()


def a_busy_morning(cadence: Cadence) -> None:
    """U1 and U2 work in C1 (and U1 owns retro actions from CTEAM); U3 is busy elsewhere, in C3."""
    fake = cadence.fake
    fake.add_user("U1", "ada", tz="Europe/Berlin")
    fake.add_user("U2", "bob", tz="Europe/Berlin")
    fake.add_user("U3", "cy", tz="America/New_York", tz_offset=-18000)
    fake.add_channel("C1", "team")
    retro_with_actions(cadence, [("Write the runbook", "U1", "2026-12-10"), ("Fix the flaky test", "U3", None)])

    set_up(cadence, users=("U1", "U2"))
    cadence.tick(PROMPT_TIME)
    start_poker(cadence, user="U2", channel="C1", stories="PAY-1 Login with SSO", participants=["U1", "U2"])
    start_poker(cadence, user="U3", channel="C3", stories="PAY-77 Secret pricing", participants=["U3"])
    cadence.command("/poll", '"Lunch at noon?" "Pizza" "Sushi"', user="U2", channel="C1")
    cadence.command("/poll", '"Rate the sprint" "Good" "Bad" --anonymous', user="U2", channel="C1")
    cadence.command("/poll", '"Offsite in C3?" "Yes" "No"', user="U3", channel="C3")
    cadence.command("/blocker", "waiting on the API key", user="U1", channel="C1")
    cadence.command("/blocker", "need a review from <@U1>", user="U2", channel="C1")
    cadence.command("/blocker", "my private trouble", user="U3", channel="C3")
    cadence.command("/sprint", 'start "Sprint 14" --until 2026-12-11', user="U2", channel="C1")


def test_my_home_shows_everything_waiting_for_me_and_nothing_of_anyone_else(cadence: Cadence) -> None:
    a_busy_morning(cadence)
    view = open_home(cadence, "U1")
    text = text_of(view)

    assert "<#C1> · Tue 1 Dec · *waiting for you*" in text
    [write] = buttons(view, standup_views.WRITE)
    [skip] = buttons(view, standup_views.SKIP)
    assert write["value"] == skip["value"]

    assert "*PAY-1 Login with SSO* in <#C1> · <https://test.slack.com/archives/C1/p" in text
    assert "|Vote in the thread>" in text
    assert "*Lunch at noon?*" in text
    assert "*Rate the sprint*\nin <#C1> · anonymous" in text

    assert "*Your open blockers* (2)" in text
    assert "*#1* in <#C1> · open 0 min · you reported it · no owner yet\nwaiting on the API key" in text
    assert "*#2* in <#C1> · open 0 min · reported by <@U2> · you own it\nneed a review from <@U1>" in text
    assert [b["value"] for b in buttons(view, blocker_views.RESOLVE)] == ["1", "2"]

    assert "• Write the runbook — <#CTEAM> · due 2026-12-10" in text
    assert "<#C1> *Sprint 14* · health" in text

    for theirs in ("PAY-77", "Offsite", "my private trouble", "Fix the flaky test"):
        assert theirs not in text
    order = [text.index(marker) for marker in ("Today's stand-up", "Your open blockers", "Stories waiting",
                                               "Polls waiting", "Your retro action items", "*Sprints*")]
    assert order == sorted(order)
    assert all(len(b.get("text", {}).get("text", "")) <= 3000 for b in view["blocks"])

    other = text_of(open_home(cadence, "U3"))
    assert "PAY-77 Secret pricing" in other
    assert "Offsite in C3?" in other
    assert "my private trouble" in other
    assert "Fix the flaky test" in other
    for mine in ("PAY-1", "Lunch at noon?", "waiting on the API key", "Write the runbook", "Today's stand-up"):
        assert mine not in other


def test_writing_the_stand_up_from_home_opens_the_prompts_modal_and_refreshes_the_home(cadence: Cadence) -> None:
    a_busy_morning(cadence)
    view = open_home(cadence, "U1")
    [write] = buttons(view, standup_views.WRITE)
    click_on_home(cadence, view, write, user="U1")
    modal = cadence.fake.last_view()
    assert modal["callback_id"] == standup_views.ANSWER_VIEW
    answers = {standup_views.answer_block(i): {"value": t} for i, t in enumerate(["shipped SSO", "reviews", "none"])}
    reply = cadence.slack.view_submission(modal, form_values(modal, **answers), user="U1")
    assert reply.status == 200
    cadence.settle()

    assert ":white_check_mark: <#C1> · Tue 1 Dec · written" in text_of(home(cadence, "U1"))
    # The answer reaches the report through the outbox; the Home links to it once it is there.
    text = text_of(open_home(cadence, "U1"))
    assert ":white_check_mark: <#C1> · Tue 1 Dec · written · <https://test.slack.com/archives/C1/p" in text
    assert "*waiting for you*" not in text
    assert buttons(home(cadence, "U1"), standup_views.WRITE) == []
    assert [b["value"] for b in buttons(home(cadence, "U1"), standup_views.EDIT)] != []
    report = [m for m in cadence.fake.messages("C1") if m.text.endswith("stand-up") and "shipped SSO" in m.all_text]
    assert len(report) == 1

    # Skipping from the Home has no prompt message to replace: it is recorded and the Home says so.
    view = open_home(cadence, "U2")
    [skip] = buttons(view, standup_views.SKIP)
    click_on_home(cadence, view, skip, user="U2")
    assert ":fast_forward: <#C1> · Tue 1 Dec · skipped" in text_of(home(cadence, "U2"))


def test_resolving_a_blocker_from_home_removes_it_from_my_refreshed_home(cadence: Cadence) -> None:
    a_busy_morning(cadence)
    view = open_home(cadence, "U1")
    [mine, _owned] = buttons(view, blocker_views.RESOLVE)
    click_on_home(cadence, view, mine, user="U1")
    modal = cadence.fake.last_view()
    assert modal["callback_id"] == blocker_views.RESOLVE_MODAL
    note = {blocker_views.NOTE_BLOCK: {blocker_views.VALUE: {"type": "plain_text_input", "value": "got the key"}}}
    assert cadence.slack.view_submission(modal, note, user="U1").status == 200
    cadence.settle()

    text = text_of(home(cadence, "U1"))
    assert "waiting on the API key" not in text
    assert "*Your open blockers* (1)" in text
    assert [b["value"] for b in buttons(home(cadence, "U1"), blocker_views.RESOLVE)] == ["2"]
    card = next(m for m in cadence.fake.messages("C1") if "Blocker #1" in m.all_text)
    assert "resolved by <@U1>" in card.all_text


def test_voting_refreshes_my_home_without_what_i_voted_on(cadence: Cadence) -> None:
    a_busy_morning(cadence)
    open_home(cadence, "U1")
    parent = next(m for m in cadence.fake.messages("C1", top_level=True) if "Planning poker" in m.all_text)
    [story] = cadence.fake.messages("C1", thread_ts=parent.ts)
    element, block_id = card_button(story, "5")
    cadence.slack.block_action(element["action_id"], element["value"], user="U1", channel="C1",
                               message_ts=story.ts, block_id=block_id)
    cadence.settle()
    assert "PAY-1" not in text_of(home(cadence, "U1"))

    lunch = next(m for m in cadence.fake.messages("C1", top_level=True) if "Lunch at noon?" in m.all_text)
    choose(cadence, lunch, "Pizza", user="U1")
    text = text_of(home(cadence, "U1"))
    assert "Lunch at noon?" not in text
    assert "Rate the sprint" in text  # still waiting for my (anonymous) vote

    # An anonymous vote does not publish the voter's Home (that would tie them to the vote); opened, it is gone.
    published = len(cadence.fake.calls("views.publish"))
    rate = next(m for m in cadence.fake.messages("C1", top_level=True) if "Rate the sprint" in m.all_text)
    choose(cadence, rate, "Good", user="U1")
    assert len(cadence.fake.calls("views.publish")) == published
    assert "Rate the sprint" not in text_of(open_home(cadence, "U1"))
    assert "Nothing is waiting" not in text_of(home(cadence, "U1"))


def test_a_long_list_stays_short_on_the_home(cadence: Cadence) -> None:
    cadence.fake.add_user("U1", "ada")
    for number in range(1, 9):
        cadence.command("/blocker", f"blocked {number} " + "x" * 1900, user="U1", channel="C1")
    view = open_home(cadence, "U1")
    text = text_of(view)
    assert "*Your open blockers* (8)" in text
    assert [b["value"] for b in buttons(view, blocker_views.RESOLVE)] == ["1", "2", "3", "4", "5", "6"]
    assert "…and 2 more, newer than these" in text
    assert all(len(b["text"]["text"]) < 600 for b in view["blocks"] if b["type"] == "section")
