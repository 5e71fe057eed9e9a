"""Blockers over HTTP with the fake Slack: every way to flag one, the card's buttons, the stand-up hooks,
escalation (once per step, whatever the number of schedulers) and the daily digest."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot import hooks
from bot.devtools.fakeslack import Message
from bot.devtools.harness import Cadence
from bot.jobs.scheduler import Scheduler
from bot.server.runtime import Runtime
from storage import outbox
from storage.blockers import Blocker
from storage.calendar import add_holiday

TUESDAY_7AM = datetime(2026, 12, 1, 7, 0, tzinfo=UTC)  # the clock fixture's start


@pytest.fixture(autouse=True)
def people(fake: Any) -> None:
    fake.add_user("U1", "ana", tz="UTC", tz_offset=0)
    fake.add_user("U2", "dana", tz="UTC", tz_offset=0)
    fake.add_user("U3", "tess", tz="UTC", tz_offset=0)
    fake.add_user("U8", "gone", deleted=True)


def blockers(cadence: Cadence) -> list[Blocker]:
    with cadence.db.transaction() as session:
        return list(session.scalars(select(Blocker).order_by(Blocker.id)))


def cards(cadence: Cadence, channel: str = "C1") -> list[Message]:
    return [m for m in cadence.fake.messages(channel) if "Blocker #" in m.all_text]


def response_texts(cadence: Cadence) -> str:
    return "\n".join(r.get("text", "") for r in cadence.fake.responses())


def flag(cadence: Cadence, text: str, *, user: str = "U1", channel: str = "C1") -> Blocker:
    cadence.command("/blocker", text, user=user, channel=channel)
    return blockers(cadence)[-1]


def set_settings(cadence: Cadence, *, threshold: str = "1", contact: str | None = "U3", digest_time: str = "09:30",
                 timezone: str = "UTC", channel: str = "C1") -> Any:
    cadence.command("/blocker", "settings", channel=channel)
    view = cadence.fake.last_view()
    values = {
        "blocker.threshold": {"value": {"type": "number_input", "value": threshold}},
        "blocker.contact": {"value": {"type": "users_select", "selected_user": contact}},
        "blocker.digest_time": {"value": {"type": "timepicker", "selected_time": digest_time}},
        "blocker.timezone": {"value": {"type": "plain_text_input", "value": timezone}},
    }
    reply = cadence.slack.view_submission(view, values)
    cadence.settle()
    return reply


# -- flagging with /blocker -----------------------------------------------------------------------------------------


def test_blocker_command_flags_with_an_owner_and_posts_a_card(cadence: Cadence) -> None:
    blocker = flag(cadence, "waiting on <@U2|dana> for the staging API key")
    assert (blocker.reporter_id, blocker.owner_id, blocker.source, blocker.status) == ("U1", "U2", "command", "open")
    assert blocker.created_at == TUESDAY_7AM
    [card] = cards(cadence)
    assert "Blocker #1" in card.all_text
    assert "waiting on <@U2> for the staging API key" in card.all_text
    assert "owner <@U2>" in card.all_text
    buttons = {e["action_id"] for b in card.blocks for e in b.get("elements", []) if "action_id" in e}
    assert buttons == {"blocker.resolve", "blocker.assign", "blocker.help"}
    assert (blocker.message_channel_id, blocker.message_ts) == ("C1", card.ts)
    assert "Blocker #1 flagged" in response_texts(cadence)
    assert cadence.fake.responses()[-1]["response_type"] == "ephemeral"


@pytest.mark.parametrize("owner", ["<@U9>", "<@U8|gone>"])
def test_an_owner_who_is_not_a_member_is_refused_and_nothing_is_stored(cadence: Cadence, owner: str) -> None:
    cadence.command("/blocker", f"waiting on {owner}")
    assert "is not a member of this workspace" in response_texts(cadence)
    assert "Nothing was saved" in response_texts(cadence)
    assert blockers(cadence) == []
    assert cards(cadence) == []


def test_an_empty_blocker_gets_the_usage(cadence: Cadence) -> None:
    reply = cadence.command("/blocker", "   ")
    assert reply.json["response_type"] == "ephemeral"
    assert "Tell me what is blocking you" in reply.text
    assert "/blocker list" in reply.text
    assert blockers(cadence) == []


def test_help_lists_every_use(cadence: Cadence) -> None:
    reply = cadence.command("/blocker", "help")
    for usage in ("/blocker <what is blocking you> [@owner]", "/blocker list", "/blocker resolve <number> [note]",
                  "/blocker settings"):
        assert usage in reply.text
    assert "Flags what blocks you" in cadence.command("/cadence", "help").text


def test_a_blocker_posted_where_the_app_is_not_is_kept_and_the_reporter_told(cadence: Cadence) -> None:
    cadence.fake.add_channel("C7", is_member=False, private=True)
    blocker = flag(cadence, "the deploy is stuck", channel="C7")
    assert blocker.message_ts is None
    assert "couldn't post it in <#C7>" in response_texts(cadence)
    assert "/invite @Cadence" in response_texts(cadence)


def test_list_is_oldest_first_with_working_age_and_owner(cadence: Cadence) -> None:
    flag(cadence, "first: no test data <@U2>")
    cadence.clock.set(TUESDAY_7AM + timedelta(hours=3))
    flag(cadence, "second: CI is red")
    flag(cadence, "elsewhere", channel="C2")
    cadence.clock.set(datetime(2026, 12, 2, 9, 0, tzinfo=UTC))
    reply = cadence.command("/blocker", "list")
    assert reply.json["response_type"] == "ephemeral"
    text = reply.text
    assert text.index("first: no test data") < text.index("second: CI is red")
    assert "elsewhere" not in text
    assert "*#1* · open 1 working day 2 h · owner <@U2>" in text
    assert "*#2* · open 23 h · no owner yet" in text


def test_list_when_nothing_is_open(cadence: Cadence) -> None:
    assert "No open blockers in <#C1>" in cadence.command("/blocker", "list").text


# -- resolving ------------------------------------------------------------------------------------------------------


def test_anyone_resolves_with_a_note_the_card_shows_it_and_the_reporter_hears(cadence: Cadence) -> None:
    blocker = flag(cadence, "no access to prod logs")
    cadence.clock.set(TUESDAY_7AM + timedelta(hours=5))
    cadence.command("/blocker", f"resolve #{blocker.id} ops granted access", user="U2")
    [resolved] = blockers(cadence)
    assert (resolved.status, resolved.resolved_by, resolved.resolution_note) == ("resolved", "U2", "ops granted access")
    assert resolved.resolved_at == TUESDAY_7AM + timedelta(hours=5)
    [card] = cards(cadence)
    assert "resolved by <@U2>" in card.all_text
    assert "unblocked in 5 h" in card.all_text
    assert "ops granted access" in card.all_text
    assert all(b["type"] != "actions" for b in card.blocks)
    assert "<@U2> resolved your blocker #1" in cadence.fake.dms("U1")[-1].text
    assert "Blocker #1 is resolved" in response_texts(cadence)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("resolve 99", "There is no blocker #99"),
        ("resolve soon", "`soon` is not a blocker number"),
        ("resolve 1", "Blocker #1 was already resolved by <@U1>; nothing changed."),
    ],
)
def test_resolving_what_cannot_be_resolved_says_why_and_changes_nothing(cadence: Cadence, text: str, says: str
                                                                        ) -> None:
    blocker = flag(cadence, "flaky test")
    cadence.command("/blocker", f"resolve {blocker.id}")
    updates_before = len(cadence.fake.calls("chat.update"))
    before = blockers(cadence)
    cadence.command("/blocker", text, user="U2")
    assert says in response_texts(cadence)
    assert [(b.status, b.resolved_by, b.resolved_at) for b in blockers(cadence)] == [
        (b.status, b.resolved_by, b.resolved_at) for b in before]
    assert len(cadence.fake.calls("chat.update")) == updates_before


def test_resolve_without_a_number_gets_the_usage(cadence: Cadence) -> None:
    assert "Which blocker?" in cadence.command("/blocker", "resolve").text


def test_the_resolve_button_opens_a_modal_and_records_the_note(cadence: Cadence) -> None:
    flag(cadence, "design review pending")
    [card] = cards(cadence)
    cadence.slack.click(card, "blocker.resolve", user="U3")
    cadence.settle()
    view = cadence.fake.last_view()
    assert view["callback_id"] == "blocker.resolve_modal"
    assert "design review pending" in str(view["blocks"])
    reply = cadence.slack.view_submission(view, {"blocker.note": {"value": {"type": "plain_text_input",
                                                                             "value": "approved in the meeting"}}},
                                          user="U3")
    cadence.settle()
    assert reply.status == 200
    [blocker] = blockers(cadence)
    assert (blocker.status, blocker.resolved_by, blocker.resolution_note) == ("resolved", "U3", "approved in the meeting")
    assert "approved in the meeting" in cadence.fake.message("C1", card.ts).all_text

    again = cadence.slack.view_submission(view, {"blocker.note": {"value": {"type": "plain_text_input", "value": ""}}},
                                          user="U2")
    assert again.json["response_action"] == "errors"
    assert "already resolved by <@U3>" in again.json["errors"]["blocker.note"]
    assert blockers(cadence)[0].resolved_by == "U3"


def test_assign_owner_checks_membership_and_updates_the_card(cadence: Cadence) -> None:
    flag(cadence, "waiting on vendor")
    [card] = cards(cadence)
    block_id = next(b["block_id"] for b in card.blocks if b["type"] == "actions")
    cadence.slack.block_action("blocker.assign", selected_user="U9", channel="C1", message_ts=card.ts,
                               block_id=block_id, user="U3")
    cadence.settle()
    assert "<@U9> is not a member of this workspace" in response_texts(cadence)
    assert blockers(cadence)[0].owner_id is None

    cadence.slack.block_action("blocker.assign", selected_user="U2", channel="C1", message_ts=card.ts,
                               block_id=block_id, user="U3")
    cadence.settle()
    assert blockers(cadence)[0].owner_id == "U2"
    assert "owner <@U2>" in cadence.fake.message("C1", card.ts).all_text


def test_i_can_help_tells_the_reporter_who_offered(cadence: Cadence) -> None:
    flag(cadence, "need a second pair of eyes on the migration")
    [card] = cards(cadence)
    cadence.slack.click(card, "blocker.help", user="U2")
    cadence.settle()
    [dm] = cadence.fake.dms("U1")
    assert "<@U2> offered to help with your blocker #1" in dm.text
    assert "I told <@U1> you offered to help" in response_texts(cadence)


def test_three_clicks_on_i_can_help_send_the_reporter_one_dm(cadence: Cadence) -> None:
    flag(cadence, "the staging database is full")
    [card] = cards(cadence)
    for _ in range(3):
        cadence.slack.click(card, "blocker.help", user="U2")
        cadence.settle()
    cadence.slack.click(card, "blocker.help", user="U3")
    cadence.settle()
    offers = [m.text for m in cadence.fake.dms("U1") if "offered to help" in m.text]
    assert len(offers) == 2
    assert "<@U2>" in offers[0]
    assert "<@U3>" in offers[1]


# -- flagging from a message ----------------------------------------------------------------------------------------


def test_flag_as_blocker_on_a_message_keeps_its_permalink(cadence: Cadence) -> None:
    message = {"ts": "1699999999.000100", "text": "prod deploy is stuck on <@U2|dana>'s approval", "user": "U5"}
    cadence.slack.shortcut("blocker.flag", message=message, user="U1", channel="C1")
    cadence.settle()
    view = cadence.fake.last_view()
    assert view["callback_id"] == "blocker.flag_modal"
    text_input = next(b for b in view["blocks"] if b.get("block_id") == "blocker.text")["element"]
    assert text_input["initial_value"] == message["text"]

    cadence.slack.view_submission(view, {
        "blocker.text": {"value": {"type": "plain_text_input", "value": message["text"]}},
        "blocker.owner": {"value": {"type": "users_select", "selected_user": None}},
    })
    cadence.settle()
    [blocker] = blockers(cadence)
    assert blocker.source == "message"
    assert blocker.link == "https://test.slack.com/archives/C1/p1699999999000100"
    assert blocker.owner_id == "U2"
    [call] = cadence.fake.calls("chat.getPermalink")
    assert call.args["message_ts"] == message["ts"]
    [card] = cards(cadence)
    assert "https://test.slack.com/archives/C1/p1699999999000100" in card.all_text


def test_flagging_an_empty_message_is_refused_inside_the_modal(cadence: Cadence) -> None:
    cadence.slack.shortcut("blocker.flag", message={"ts": "1699999999.000200", "text": ""})
    cadence.settle()
    reply = cadence.slack.view_submission(cadence.fake.last_view(), {
        "blocker.text": {"value": {"type": "plain_text_input", "value": "  "}},
    })
    cadence.settle()
    assert reply.json["response_action"] == "errors"
    assert "Tell me what is blocking you" in reply.json["errors"]["blocker.text"]
    assert blockers(cadence) == []


# -- the stand-up hooks ---------------------------------------------------------------------------------------------


PARENT_KEY = "standup.parent:1"


def standup_answer(text: str | None, *, answer_id: int = 41, is_edit: bool = False) -> hooks.StandupAnswerRecorded:
    return hooks.StandupAnswerRecorded(
        team_id="T1", channel_id="C1", report_channel_id="C1", standup_id=1, run_id=1, answer_id=answer_id,
        user_id="U1", local_date=date(2026, 12, 1), blocker_text=text, report_parent_key=PARENT_KEY,
        answer_key=f"standup.answer:{answer_id}", is_edit=is_edit, now=TUESDAY_7AM,
    )


def hear(cadence: Cadence, event: hooks.StandupAnswerRecorded) -> None:
    """The stand-up announces an answer inside its transaction; what the listeners queued goes out."""
    with cadence.db.transaction() as session:
        hooks.standup_answer_recorded(session, event)
    cadence.settle()


def report_thread(cadence: Cadence) -> str:
    """The day's stand-up report parent, as the stand-up would have posted it (through the outbox)."""
    with cadence.db.transaction() as session:
        outbox.add(session, team_id="T1", key=PARENT_KEY, kind="standup.parent", channel="C1", now=TUESDAY_7AM,
                   text="Stand-up · Tue 1 Dec · 1/3 answered")
    cadence.settle()
    with cadence.db.transaction() as session:
        sent = outbox.sent_message(session, key=PARENT_KEY)
    assert sent is not None
    return sent.ts


def test_a_standup_blocker_answer_opens_a_blocker_in_the_days_thread(cadence: Cadence) -> None:
    thread = report_thread(cadence)
    hear(cadence, standup_answer("waiting on <@U2> for access"))
    [blocker] = blockers(cadence)
    assert (blocker.source, blocker.standup_answer_id, blocker.owner_id) == ("standup", 41, "U2")
    [card] = cadence.fake.messages("C1", thread_ts=thread)
    assert "waiting on <@U2> for access" in card.all_text
    assert "stand-up answer" in card.all_text

    hear(cadence, standup_answer("waiting on <@U3> for access, and a VPN", is_edit=True))
    [edited] = blockers(cadence)
    assert edited.id == blocker.id
    assert (edited.text, edited.owner_id) == ("waiting on <@U3> for access, and a VPN", "U3")
    [card] = cadence.fake.messages("C1", thread_ts=thread)
    assert "and a VPN" in card.all_text
    assert card.edits == 1

    hear(cadence, standup_answer("None.", is_edit=True))
    [gone] = blockers(cadence)
    assert (gone.status, gone.resolved_by) == ("resolved", "U1")


@pytest.mark.parametrize("answer", ["None", "n/a", "-", "No blockers!", "", None])
def test_a_standup_answer_saying_none_opens_nothing(cadence: Cadence, answer: str | None) -> None:
    thread = report_thread(cadence)
    hear(cadence, standup_answer(answer))
    assert blockers(cadence) == []
    assert cadence.fake.messages("C1", thread_ts=thread) == []


def test_the_next_prompt_asks_about_each_open_blocker(cadence: Cadence) -> None:
    flag(cadence, "first")
    flag(cadence, "second")
    flag(cadence, "another team's", channel="C2")
    flag(cadence, "someone else's", user="U2")
    prompt = hooks.PromptContext(team_id="T1", channel_id="C1", standup_id=1, user_id="U1",
                                 local_date=date(2026, 12, 2))
    with cadence.db.reading() as session:
        blocks = hooks.prompt_sections(session, prompt)
    # The stand-up would post these in its prompt DM; do as it does.
    client = cadence.runtime.clients.for_team("T1")
    posted = client.chat_postMessage(channel="U1", text="Good morning! Time for your stand-up.", blocks=[
        {"type": "section", "text": {"type": "mrkdwn", "text": "Good morning!"}}, *blocks])
    prompt_message = cadence.fake.message(posted["channel"], posted["ts"])
    text = prompt_message.all_text
    assert "first" in text
    assert "second" in text
    assert "another team's" not in text
    assert "someone else's" not in text

    buttons = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert [e["text"]["text"] for e in buttons] == ["Resolved", "Still blocked"] * 2

    first_question = next(b for b in prompt_message.blocks if b.get("block_id") == "blocker.prompt:1")
    cadence.slack.block_action("blocker.prompt_resolved", "1", user="U1", channel=posted["channel"],
                               message_ts=posted["ts"], block_id=first_question["block_id"])
    cadence.settle()
    cadence.slack.block_action("blocker.prompt_still_blocked", "2", user="U1", channel=posted["channel"],
                               message_ts=posted["ts"], block_id="blocker.prompt:2")
    cadence.settle()
    first, second = blockers(cadence)[:2]
    assert (first.status, first.resolved_by) == ("resolved", "U1")
    assert second.status == "open"
    answered = cadence.fake.message(posted["channel"], posted["ts"]).all_text
    assert "Blocker #1 marked resolved" in answered
    assert "Still blocked on #2 (open 0 min)" in answered
    assert "Good morning!" in answered
    with cadence.db.reading() as session:
        still_asked = str(hooks.prompt_sections(session, prompt))
    assert "second" in still_asked
    assert "first" not in still_asked


# -- settings -------------------------------------------------------------------------------------------------------


def test_settings_are_saved_per_team_channel(cadence: Cadence) -> None:
    reply = set_settings(cadence, threshold="2", contact="U3", digest_time="10:15", timezone="Europe/Berlin")
    assert reply.status == 200
    [saved] = cadence.fake.responses("U1")  # through the command's response_url
    assert "escalate to <@U3> every 2 working days; digest at 10:15 Europe/Berlin" in saved["text"]
    set_settings(cadence, contact=None)  # the modal opens with what was saved; defaults elsewhere
    cadence.command("/blocker", "settings", channel="C2")
    threshold = next(b for b in cadence.fake.last_view()["blocks"] if b.get("block_id") == "blocker.threshold")
    assert threshold["element"]["initial_value"] == "1"


def test_bad_settings_are_refused_inline_and_nothing_is_saved(cadence: Cadence) -> None:
    reply = set_settings(cadence, threshold="0", timezone="Mars/Olympus")
    assert reply.json["response_action"] == "errors"
    assert set(reply.json["errors"]) == {"blocker.threshold", "blocker.timezone"}
    assert cadence.fake.ephemerals("U1") == []
    assert cadence.fake.responses("U1") == []


# -- escalation -----------------------------------------------------------------------------------------------------


def escalations(cadence: Cadence, user: str = "U3") -> list[Message]:
    return [m for m in cadence.fake.dms(user) if "has been open for" in m.all_text]


def test_escalation_at_the_threshold_once_and_again_at_the_next_step(cadence: Cadence) -> None:
    set_settings(cadence, threshold="1", contact="U3")
    flag(cadence, "waiting on the security review")  # Tuesday 07:00
    cadence.tick(TUESDAY_7AM + timedelta(hours=23, minutes=59))
    assert escalations(cadence) == []

    cadence.tick(TUESDAY_7AM + timedelta(days=1))
    [first] = escalations(cadence)
    assert "*Blocker #1* in <#C1> has been open for *1 working day*" in first.all_text
    assert "waiting on the security review" in first.all_text
    cadence.tick(TUESDAY_7AM + timedelta(days=1, hours=5))
    assert len(escalations(cadence)) == 1

    # A second process with its own engine, sharing the database, at the same minute: nothing is sent twice.
    other = Runtime.from_settings(cadence.runtime.settings, clock=cadence.clock)
    try:
        Scheduler(other).tick(TUESDAY_7AM + timedelta(days=1, hours=5))
        assert len(escalations(cadence)) == 1

        cadence.tick(TUESDAY_7AM + timedelta(days=2))
        Scheduler(other).tick(TUESDAY_7AM + timedelta(days=2))
    finally:
        other.db.dispose()
    first, second = escalations(cadence)
    assert "open for *2 working days* (escalation 2)" in second.all_text
    [blocker] = blockers(cadence)
    assert (blocker.escalation_level, blocker.escalation_count) == (2, 2)
    assert "escalated 2×" in cards(cadence)[0].all_text

    # The Resolve button in the DM resolves it, and nothing escalates afterwards.
    cadence.slack.click(second, "blocker.resolve", user="U3")
    cadence.settle()
    cadence.slack.view_submission(cadence.fake.last_view(), {}, user="U3")
    cadence.settle()
    assert blockers(cadence)[0].resolved_by == "U3"
    cadence.tick(TUESDAY_7AM + timedelta(days=3))
    assert len(escalations(cadence)) == 2


def test_two_schedulers_racing_escalate_once(cadence: Cadence) -> None:
    set_settings(cadence, contact="U3")
    flag(cadence, "waiting on legal")
    due = TUESDAY_7AM + timedelta(days=1)
    cadence.clock.set(due)
    runtimes = [Runtime.from_settings(cadence.runtime.settings, clock=cadence.clock) for _ in range(2)]
    barrier = threading.Barrier(2)

    def run(runtime: Runtime) -> None:
        scheduler = Scheduler(runtime)
        barrier.wait()
        scheduler.tick(due)
        scheduler.outbox.drain()  # and each delivers what is due, as its delivery loop would

    try:
        threads = [threading.Thread(target=run, args=(r,)) for r in runtimes]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        for runtime in runtimes:
            runtime.db.dispose()
    assert len(escalations(cadence)) == 1
    assert blockers(cadence)[0].escalation_count == 1


def test_weekends_and_holidays_delay_escalation(cadence: Cadence) -> None:
    friday = datetime(2026, 12, 4, 15, 0, tzinfo=UTC)
    with cadence.db.transaction() as session:
        add_holiday(session, team_id="T1", day=date(2026, 12, 7), name="Team day", added_by="U1", now=friday)
    set_settings(cadence, contact="U3")
    cadence.clock.set(friday)
    flag(cadence, "waiting on the vendor")
    cadence.tick(datetime(2026, 12, 7, 23, 0, tzinfo=UTC))  # Saturday, Sunday and a holiday Monday later
    assert escalations(cadence) == []
    cadence.tick(datetime(2026, 12, 8, 15, 0, tzinfo=UTC))
    assert len(escalations(cadence)) == 1


def test_without_a_contact_the_owner_is_escalated_to(cadence: Cadence) -> None:
    flag(cadence, "no owner, no contact")
    flag(cadence, "waiting on <@U2>")
    cadence.tick(TUESDAY_7AM + timedelta(days=1))
    assert escalations(cadence, "U3") == []
    [dm] = escalations(cadence, "U2")
    assert "waiting on <@U2>" in dm.all_text


def test_a_failed_escalation_is_retried_later(cadence: Cadence) -> None:
    set_settings(cadence, contact="U3")
    flag(cadence, "waiting on QA")
    cadence.fake.fail("chat.postMessage", error="fatal_error")  # Slack fails it: the outbox tries again later
    cadence.tick(TUESDAY_7AM + timedelta(days=1))
    assert escalations(cadence) == []
    assert blockers(cadence)[0].escalation_count == 0
    cadence.tick(TUESDAY_7AM + timedelta(days=1, minutes=1))
    cadence.tick(TUESDAY_7AM + timedelta(days=1, minutes=5))
    assert len(escalations(cadence)) == 1
    assert blockers(cadence)[0].escalation_count == 1


# -- the daily digest -----------------------------------------------------------------------------------------------


def digests(cadence: Cadence, channel: str = "C1") -> list[Message]:
    return [m for m in cadence.fake.messages(channel, top_level=True) if "open blockers ·" in m.text]


def test_the_digest_goes_out_once_a_working_day_only_when_blockers_are_open(cadence: Cadence) -> None:
    cadence.tick(datetime(2026, 12, 1, 9, 30, tzinfo=UTC))
    assert digests(cadence) == []  # nothing open
    cadence.clock.set(datetime(2026, 12, 1, 10, 0, tzinfo=UTC))
    flag(cadence, "older blocker <@U2>")
    cadence.clock.set(datetime(2026, 12, 1, 11, 0, tzinfo=UTC))
    flag(cadence, "newer blocker")
    cadence.tick(datetime(2026, 12, 1, 12, 0, tzinfo=UTC))
    assert digests(cadence) == []  # flagged after today's digest time: they wait for tomorrow's digest

    cadence.tick(datetime(2026, 12, 2, 9, 29, tzinfo=UTC))
    assert digests(cadence) == []
    cadence.tick(datetime(2026, 12, 2, 9, 30, tzinfo=UTC))
    [digest] = digests(cadence)
    assert "Open blockers · Wed 2 Dec · 2" in digest.all_text
    assert digest.all_text.index("older blocker") < digest.all_text.index("newer blocker")
    assert "*#1* · open 23 h · owner <@U2>" in digest.all_text
    cadence.tick(datetime(2026, 12, 2, 16, 0, tzinfo=UTC))
    assert len(digests(cadence)) == 1

    cadence.tick(datetime(2026, 12, 3, 9, 30, tzinfo=UTC))
    assert len(digests(cadence)) == 2
    cadence.tick(datetime(2026, 12, 5, 9, 30, tzinfo=UTC))  # Saturday (the clock only runs forwards)
    assert len(digests(cadence)) == 2
    for blocker in blockers(cadence):
        cadence.command("/blocker", f"resolve {blocker.id}")
    cadence.tick(datetime(2026, 12, 7, 9, 30, tzinfo=UTC))
    assert len(digests(cadence)) == 2


def test_the_digest_follows_the_teams_time_and_timezone(cadence: Cadence) -> None:
    set_settings(cadence, contact=None, digest_time="10:00", timezone="America/New_York")
    flag(cadence, "waiting on design")
    cadence.tick(datetime(2026, 12, 2, 14, 59, tzinfo=UTC))  # 09:59 in New York
    assert digests(cadence) == []
    cadence.tick(datetime(2026, 12, 2, 15, 0, tzinfo=UTC))
    assert len(digests(cadence)) == 1


def test_flagging_a_message_for_a_non_member_owner_is_refused_inside_the_modal(cadence: Cadence) -> None:
    cadence.slack.shortcut("blocker.flag", message={"ts": "1699999999.000300", "text": "stuck on <@U8|gone>"})
    cadence.settle()
    reply = cadence.slack.view_submission(cadence.fake.last_view(), {
        "blocker.text": {"value": {"type": "plain_text_input", "value": "stuck on <@U8|gone>"}},
    })
    cadence.settle()
    assert "<@U8> is not a member of this workspace" in reply.json["errors"]["blocker.owner"]
    assert blockers(cadence) == []


def test_an_escalation_contact_who_left_is_given_up_not_retried_forever(cadence: Cadence) -> None:
    set_settings(cadence, contact="U8")
    flag(cadence, "waiting on a person who left")
    cadence.tick(TUESDAY_7AM + timedelta(days=1))
    cadence.tick(TUESDAY_7AM + timedelta(days=1, minutes=10))
    attempts = [c for c in cadence.fake.calls("chat.postMessage") if c.args.get("channel") == "U8"]
    assert len(attempts) == 1
    assert blockers(cadence)[0].escalation_count == 0


def test_a_standup_blocker_without_a_daily_thread_goes_to_the_report_channel(cadence: Cadence) -> None:
    event = hooks.StandupAnswerRecorded(
        team_id="T1", channel_id="C1", report_channel_id="C5", standup_id=1, run_id=1, answer_id=7, user_id="U2",
        local_date=date(2026, 12, 1), blocker_text="the test cluster is down", report_parent_key=None,
        answer_key="standup.answer:7", is_edit=False, now=TUESDAY_7AM,
    )
    hear(cadence, event)
    [card] = cards(cadence, "C5")
    assert card.thread_ts is None
    [blocker] = blockers(cadence)
    assert (blocker.channel_id, blocker.message_channel_id, blocker.reporter_id) == ("C1", "C5", "U2")
    assert "the test cluster is down" in cadence.command("/blocker", "list", channel="C1").text
