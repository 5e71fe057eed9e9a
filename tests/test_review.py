"""The sprint review over HTTP, on both databases: `/review` by the facilitator, the modal, a message per story,
verdicts with who gave them, questions for the presenter, follow-ups in the next sprint, the closing message, the
review in the sprint summary and on the App Home; refusals in one clear line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.devtools.fakeslack import Message
from bot.devtools.harness import Cadence
from bot.devtools.signed import Reply, form
from bot.views import review as views
from storage import review as store
from storage import sprint as sprints
from storage import workspace_data

MONDAY = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)  # 09:00 in Berlin
LAST_DAY = datetime(2026, 12, 11, 13, 0, tzinfo=UTC)  # Friday 14:00 in Berlin, the sprint's last day
FACILITATOR, DEV, STAKEHOLDER, SPONSOR = "U1", "U2", "U3", "U4"


@pytest.fixture
def team(cadence: Cadence) -> Cadence:
    """Sprint 14 in C1 with three stories: PAY-1 done by the developer, PAY-2 done by the facilitator, PAY-3 not."""
    for user, name in ((FACILITATOR, "tess"), (DEV, "dev"), (STAKEHOLDER, "sam"), (SPONSOR, "sue")):
        cadence.fake.add_user(user, name, tz="Europe/Berlin")
    cadence.fake.add_channel("C1", "checkout-team")
    cadence.fake.add_channel("C2", "stakeholders")
    cadence.clock.set(MONDAY - timedelta(days=3))
    with cadence.db.transaction() as session:
        for key, points, title in (("PAY-1", 3.0, "Checkout page"), ("PAY-2", 5.0, "Card payments"),
                                   ("PAY-3", 2.0, "Refund flow <!channel>")):
            sprints.add_story(session, team_id="T1", channel_id="C1", key=key, title=title, points=points,
                              by=FACILITATOR, now=cadence.clock(), source="poker")
    cadence.clock.set(MONDAY)
    cadence.command("/sprint", 'start "Sprint 14" --until 2026-12-11', user=FACILITATOR)
    cadence.clock.set(MONDAY + timedelta(days=2))
    cadence.command("/sprint", "done PAY-1", user=DEV)
    cadence.command("/sprint", "done PAY-2", user=FACILITATOR)
    cadence.clock.set(LAST_DAY)
    return cadence


def told(cadence: Cadence) -> str:
    return "\n".join(r.get("text", "") for r in cadence.fake.responses())


def start_review(cadence: Cadence, *, user: str = FACILITATOR, **changes: dict[str, Any]) -> Reply:
    views_before = len(cadence.fake.views())
    cadence.command("/review", "", user=user)
    assert len(cadence.fake.views()) == views_before + 1, told(cadence)
    view = cadence.fake.last_view()
    assert view["callback_id"] == views.START_MODAL
    values = {views.STAKEHOLDERS_BLOCK: {"selected_users": [STAKEHOLDER, SPONSOR]},
              views.CHANNEL_BLOCK: {"selected_conversation": "C2"},
              views.NOTE_BLOCK: {"value": "Demo in the big room at 15:00"}, **changes}
    reply = cadence.slack.view_submission(view, form(view, **values), user=user)
    cadence.settle()
    return reply


def story(cadence: Cadence, key: str) -> Message:
    [found] = [m for m in cadence.fake.messages("C1", top_level=True)
               if f"*{key} " in m.all_text and "Presented by" in m.all_text]
    return found


def react(cadence: Cadence, key: str, action_id: str, user: str, text: str | None = None) -> Reply | None:
    reply = cadence.slack.click(story(cadence, key), action_id, user=user)
    cadence.settle()
    if text is None:
        return reply
    view = cadence.fake.last_view()
    submitted = cadence.slack.view_submission(view, form(view, **{views.TEXT_BLOCK: {"value": text}}), user=user)
    cadence.settle()
    return submitted


def buttons(message: Message) -> list[str]:
    return [e.get("action_id", "") for b in message.blocks for e in [*b.get("elements", []), b.get("accessory") or {}]
            if e.get("type") == "button"]


def test_a_review_from_start_to_close_with_every_outcome(team: Cadence) -> None:
    reply = start_review(team)
    assert reply.status == 200
    assert not reply.body
    [header] = [m for m in team.fake.messages("C1", top_level=True) if "Sprint 14 · sprint review" in m.all_text]
    assert "*Finished (2)*" in header.all_text
    assert "*Not finished (1)*" in header.all_text
    assert f"<@{STAKEHOLDER}>, <@{SPONSOR}>" in header.all_text
    assert "<#C2>" in header.all_text
    # Presenters: who marked the story done, else the facilitator; the unfinished story is marked so.
    assert f"Presented by <@{DEV}>" in story(team, "PAY-1").all_text
    assert f"Presented by <@{FACILITATOR}>" in story(team, "PAY-2").all_text
    assert "not finished" in story(team, "PAY-3").all_text
    # Stakeholders get the link to the header; their channel gets an invitation.
    link = f"https://test.slack.com/archives/C1/p{header.ts.replace('.', '')}"
    for user in (STAKEHOLDER, SPONSOR):
        [dm] = team.fake.dms(user)
        assert link in dm.text
        assert "Sprint 14" in dm.text
    [invitation] = team.fake.messages("C2")
    assert "Stakeholders are invited" in invitation.text
    assert link in invitation.text

    react(team, "PAY-1", views.ACCEPT, STAKEHOLDER)
    react(team, "PAY-1", views.ACCEPT, SPONSOR)
    react(team, "PAY-2", views.ACCEPT, STAKEHOLDER)
    react(team, "PAY-2", views.NEEDS_CHANGES, SPONSOR, "Show the card's last four digits")
    react(team, "PAY-1", views.ASK, STAKEHOLDER, "Does it work on mobile?")

    pay1, pay2 = story(team, "PAY-1"), story(team, "PAY-2")
    assert "*Accepted*" in pay1.all_text
    assert f"accepted by <@{STAKEHOLDER}>, <@{SPONSOR}>" in pay1.all_text
    assert "1 question (1 open)" in pay1.all_text
    assert "*Needs changes*" in pay2.all_text
    assert f"changes asked by <@{SPONSOR}>" in pay2.all_text
    assert "Show the card's last four digits" in pay2.all_text
    assert views.FOLLOW_UP in buttons(pay2)
    # The question: in the story's thread, and in its presenter's DM.
    [question] = team.fake.messages("C1", thread_ts=pay1.ts)
    assert "Does it work on mobile?" in question.all_text
    assert f"asks <@{DEV}>" in question.all_text
    assert any("Does it work on mobile?" in m.text for m in team.fake.dms(DEV))

    # The note becomes a story of the next sprint, once however often it is clicked.
    team.slack.click(pay2, views.FOLLOW_UP, user=FACILITATOR)
    team.slack.click(pay2, views.FOLLOW_UP, user=FACILITATOR)
    team.settle()
    assert "Added to the next sprint's backlog" in told(team)
    assert "Follow-up for the next sprint" in story(team, "PAY-2").all_text
    assert views.FOLLOW_UP not in buttons(story(team, "PAY-2"))

    team.command("/review", "close", user=FACILITATOR)
    [closing] = [m for m in team.fake.messages("C1", top_level=True) if "Sprint 14 · review closed" in m.all_text]
    assert "1 accepted · 1 need changes · 1 undecided" in closing.all_text
    assert "*Undecided (1)*" in closing.all_text
    assert "PAY-3 Refund flow &lt;!channel&gt;" in closing.all_text
    assert "*Questions still open (1)*" in closing.all_text
    assert f"Took part: <@{STAKEHOLDER}>, <@{SPONSOR}>" in closing.all_text
    for key in ("PAY-1", "PAY-2", "PAY-3"):
        assert [b for b in buttons(story(team, key)) if b in (views.ACCEPT, views.NEEDS_CHANGES, views.ASK)] == []

    # The follow-up is committed in the next sprint.
    team.command("/sprint", "end", user=FACILITATOR)
    team.clock.advance(timedelta(days=3))
    team.command("/sprint", 'start "Sprint 15" --until 2026-12-25', user=FACILITATOR)
    with team.db.reading() as session:
        sprint = sprints.running_sprint(session, team_id="T1", channel_id="C1")
        assert sprint is not None
        assert sprint.name == "Sprint 15"
        [follow_up] = sprints.stories(session, team_id="T1", sprint_id=sprint.id)
    assert follow_up.title == "Follow-up to PAY-2: Show the card's last four digits"
    assert follow_up.committed
    assert follow_up.source == "review"


def test_the_review_is_in_the_sprint_summary_and_the_report(team: Cadence) -> None:
    start_review(team)
    react(team, "PAY-1", views.ACCEPT, STAKEHOLDER)
    react(team, "PAY-2", views.NEEDS_CHANGES, SPONSOR, "Needs a retry button")
    team.slack.click(story(team, "PAY-2"), views.FOLLOW_UP, user=DEV)  # not the presenter: refused
    team.settle()
    assert "Only the review's facilitator" in told(team)
    team.slack.click(story(team, "PAY-2"), views.FOLLOW_UP, user=FACILITATOR)
    team.command("/sprint", "summary", user=FACILITATOR)
    [summary] = [m for m in team.fake.messages("C1") if "Sprint 14 · so far" in m.all_text]
    assert ("*Review* (still open) · 1 accepted · 1 need changes · 1 undecided · 1 follow-up created · "
            "0 of 0 questions open · 2 took part") in summary.all_text
    team.command("/review", "close", user=FACILITATOR)
    team.command("/sprint", "end", user=FACILITATOR)
    [final] = [m for m in team.fake.messages("C1") if "Sprint 14 · summary" in m.all_text]
    assert "*Review* · 1 accepted · 1 need changes · 1 undecided · 1 follow-up created" in final.all_text


def test_redraws_show_each_persons_latest_verdict(team: Cadence) -> None:
    start_review(team)
    react(team, "PAY-3", views.NEEDS_CHANGES, STAKEHOLDER, "Refunds of partial orders are missing")
    assert "*Needs changes*" in story(team, "PAY-3").all_text
    react(team, "PAY-3", views.ACCEPT, STAKEHOLDER)  # talked through: the stakeholder accepts after all
    pay3 = story(team, "PAY-3")
    assert "*Accepted*" in pay3.all_text
    assert f"accepted by <@{STAKEHOLDER}>" in pay3.all_text
    assert "changes asked by" not in pay3.all_text
    assert "partial orders" not in pay3.all_text
    react(team, "PAY-3", views.ACCEPT, STAKEHOLDER)  # a double click changes nothing
    with team.db.reading() as session:
        assert session.scalar(select(func.count()).select_from(store.ReviewVerdict)) == 1
    assert "&lt;!channel&gt;" in pay3.all_text
    assert "<!channel>" not in pay3.all_text


def test_needs_changes_without_a_note_is_refused_inline(team: Cadence) -> None:
    start_review(team)
    reply = react(team, "PAY-1", views.NEEDS_CHANGES, STAKEHOLDER, "   ")
    assert reply is not None
    assert reply.json["response_action"] == "errors"
    assert "Say what needs to change" in reply.json["errors"][views.TEXT_BLOCK]
    with team.db.reading() as session:
        assert session.scalar(select(func.count()).select_from(store.ReviewVerdict)) == 0
    assert "*Undecided*" in story(team, "PAY-1").all_text


def test_only_the_facilitator_starts_the_review(team: Cadence) -> None:
    team.command("/review", "", user=DEV)
    assert "Only the team's facilitator (<@U1>) or a workspace admin can start the sprint review." in told(team)
    assert team.fake.views() == []
    start_review(team)
    team.command("/review", "close", user=DEV)
    assert "Only the team's facilitator (<@U1>) or a workspace admin can close the sprint review." in told(team)
    assert not [m for m in team.fake.messages("C1") if "Sprint 14 · review closed" in m.all_text]


def test_no_sprint_and_too_early_are_one_clear_line(team: Cadence) -> None:
    team.command("/review", "", user=FACILITATOR, channel="C9")
    assert "No sprint is running or just ended in this channel" in told(team)
    team.clock.set(MONDAY + timedelta(days=1))
    team.command("/review", "", user=FACILITATOR)
    assert "its review can start from Tue 8 Dec" in told(team)
    assert "Something went wrong" not in told(team)
    assert team.fake.views() == []


def test_the_review_closes_by_itself_once_and_lists_the_undecided(team: Cadence) -> None:
    start_review(team, **{views.WINDOW_BLOCK: {"selected_option": {"value": "4h"}}})
    react(team, "PAY-1", views.ACCEPT, STAKEHOLDER)
    team.tick(LAST_DAY + timedelta(hours=3))
    assert not [m for m in team.fake.messages("C1") if "Sprint 14 · review closed" in m.all_text]
    team.tick(LAST_DAY + timedelta(hours=4))
    team.tick(LAST_DAY + timedelta(hours=5))
    [closing] = [m for m in team.fake.messages("C1") if "Sprint 14 · review closed" in m.all_text]
    assert "*Undecided (2)*" in closing.all_text
    assert "PAY-2" in closing.all_text
    assert "PAY-3 Refund flow &lt;!channel&gt; — <@U1> · not finished" in closing.all_text
    reply = team.slack.block_action(views.ACCEPT, str(_story_id(team, "PAY-2")), user=SPONSOR, channel="C1")
    team.settle()
    assert reply.status == 200
    assert "This review is closed." in told(team)


def _story_id(cadence: Cadence, key: str) -> int:
    with cadence.db.reading() as session:
        return int(session.scalar(select(store.ReviewStory.id).where(store.ReviewStory.key == key)))


def test_questions_and_notes_wait_on_the_home_of_who_must_act(team: Cadence) -> None:
    start_review(team)
    react(team, "PAY-1", views.ASK, STAKEHOLDER, "Which browsers?")
    react(team, "PAY-2", views.NEEDS_CHANGES, SPONSOR, "Declined cards need a clearer message")
    team.slack.event({"type": "app_home_opened", "user": DEV, "tab": "home"})
    team.slack.event({"type": "app_home_opened", "user": FACILITATOR, "tab": "home"})
    team.settle()
    dev_home = "\n".join(str(b) for b in (team.fake.home(DEV) or {}).get("blocks", []))
    assert "Which browsers?" in dev_home
    assert "Follow-up to triage" not in dev_home
    facilitator_home = "\n".join(str(b) for b in (team.fake.home(FACILITATOR) or {}).get("blocks", []))
    assert "Follow-up to triage" in facilitator_home
    assert "Declined cards need a clearer message" in facilitator_home
    # Answered: it leaves the presenter's Home.
    [question] = team.fake.messages("C1", thread_ts=story(team, "PAY-1").ts)
    team.slack.click(question, views.ANSWERED, user=DEV)
    team.settle()
    assert "Answered (marked by <@U2>)" in team.fake.message("C1", question.ts).all_text
    assert "Which browsers?" not in "\n".join(str(b) for b in (team.fake.home(DEV) or {}).get("blocks", []))


def test_the_review_is_exported_and_purged_with_the_workspace(team: Cadence) -> None:
    start_review(team)
    react(team, "PAY-1", views.ASK, STAKEHOLDER, "Which browsers?")
    react(team, "PAY-2", views.NEEDS_CHANGES, SPONSOR, "Clearer errors")
    with team.db.transaction() as session:
        exported = workspace_data.export(session, team_id="T1")
        assert len(exported["reviews"]) == 1
        assert len(exported["review_stories"]) == 3
        assert len(exported["review_stakeholders"]) == 2
        assert exported["review_verdicts"][0]["note"] == "Clearer errors"
        assert exported["review_questions"][0]["text"] == "Which browsers?"
        deleted = workspace_data.purge(session, team_id="T1")
    assert {"reviews", "review_stories", "review_verdicts", "review_questions", "review_stakeholders"} <= set(deleted)


def test_a_header_the_channel_refuses_takes_the_review_back_and_tells_the_facilitator(team: Cadence) -> None:
    team.command("/review", "", user=FACILITATOR)
    view = team.fake.last_view()
    team.fake.add_channel("C1", is_member=False, private=True)  # someone removed Cadence while the modal was open
    reply = team.slack.view_submission(view, form(view, **{views.STAKEHOLDERS_BLOCK: {"selected_users": [SPONSOR]}}),
                                       user=FACILITATOR)
    team.settle()
    assert reply.status == 200
    [told_dm] = [m for m in team.fake.dms(FACILITATOR) if "could not post the sprint review" in m.text]
    assert "channel_not_found" in told_dm.text
    assert "`/review` again" in told_dm.text
    assert team.fake.dms(SPONSOR) == []
    with team.db.reading() as session:
        assert session.scalar(select(func.count()).select_from(store.Review)) == 0
        assert session.scalar(select(func.count()).select_from(store.ReviewStory)) == 0
    team.fake.add_channel("C1", "checkout-team")  # invited again: the review can start afresh
    start_review(team)
    assert story(team, "PAY-1").channel == "C1"


def test_many_stories_are_a_message_each_and_the_header_cuts_them_by_count(team: Cadence) -> None:
    with team.db.transaction() as session:
        for number in range(4, 34):
            sprints.add_story(session, team_id="T1", channel_id="C1", key=f"PAY-{number}", title=f"Story {number}",
                              points=1.0, by=FACILITATOR, now=team.clock(), source="manual")
    start_review(team)
    presenters = [b for b in team.fake.last_view()["blocks"]
                  if b.get("block_id", "").startswith(views.PRESENTER_BLOCK)]
    assert len(presenters) == 33
    [header] = [m for m in team.fake.messages("C1", top_level=True) if "Sprint 14 · sprint review" in m.all_text]
    assert "*Not finished (31)*" in header.all_text
    assert "+19 more" in header.all_text
    assert "PAY-33" not in header.all_text
    posted = [m for m in team.fake.messages("C1", top_level=True) if "Presented by" in m.all_text]
    assert len(posted) == 33
    assert "*PAY-33 Story 33*" in posted[-1].all_text


def test_notes_and_questions_are_escaped_everywhere(team: Cadence) -> None:
    start_review(team, **{views.NOTE_BLOCK: {"value": "<!here> demo <https://evil.example|click>"}})
    react(team, "PAY-1", views.NEEDS_CHANGES, STAKEHOLDER, "<!channel> please <@U4> fix")
    react(team, "PAY-1", views.ASK, STAKEHOLDER, "<!subteam^S1> why?")
    texts = [m.all_text for m in team.fake.messages("C1")]
    texts += [m.text for user in (DEV, SPONSOR) for m in team.fake.dms(user)]
    texts += [m.text for m in team.fake.messages("C2")]
    joined = "\n".join(texts)
    assert "&lt;!channel&gt; please" in joined
    assert "&lt;!subteam^S1&gt; why?" in joined
    assert "&lt;!here&gt; demo" in joined
    for raw in ("<!channel>", "<!here>", "<!subteam^S1>", "<https://evil.example|click>"):
        assert raw not in joined


def test_one_review_per_sprint(team: Cadence) -> None:
    start_review(team)
    team.command("/review", "", user=FACILITATOR)
    assert "The review of “Sprint 14” is open" in told(team).splitlines()[-1]
    team.command("/review", "close", user=FACILITATOR)
    team.command("/review", "", user=FACILITATOR)
    assert "“Sprint 14” has been reviewed already" in told(team).splitlines()[-1]
    team.command("/review", "close", user=FACILITATOR)
    assert "No review is open in this channel." in told(team).splitlines()[-1]
    assert len(team.fake.views()) == 1


def test_the_sprint_that_just_ended_is_reviewed_when_the_next_one_started_already(team: Cadence) -> None:
    team.command("/sprint", "end", user=FACILITATOR)
    team.clock.set(LAST_DAY + timedelta(days=3))  # Monday: Sprint 15 starts before the review
    team.command("/sprint", 'start "Sprint 15" --until 2026-12-25', user=FACILITATOR)
    start_review(team)
    headers = [m for m in team.fake.messages("C1", top_level=True) if "· sprint review" in m.all_text]
    assert len(headers) == 1
    assert "Sprint 14 · sprint review" in headers[0].all_text
    assert "PAY-1" in headers[0].all_text


@pytest.mark.parametrize(("action_id", "value"), [
    (views.ACCEPT, "2147483648"), (views.NEEDS_CHANGES, "99999999999999999999"), (views.ASK, "x"),
    (views.ANSWERED, "2147483648"), (views.FOLLOW_UP, "1:2"), (views.ACCEPT, "2147483647"),
])
def test_a_review_button_no_row_can_have_is_out_of_date(team: Cadence, action_id: str, value: str) -> None:
    reply = team.slack.block_action(action_id, value, user=STAKEHOLDER, channel="C1", message_ts="1796108400.000001")
    team.settle()
    assert reply.status == 200
    said = told(team)
    assert "Something went wrong" not in said
    assert "out of date" in said or "no longer here" in said
