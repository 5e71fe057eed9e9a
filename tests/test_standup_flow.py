"""Stand-ups end to end over HTTP with the fake Slack: setup, prompts, answers, the report, reminders, edits, late."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from bot.devtools.fakeslack import text_of
from bot.devtools.harness import Cadence
from bot.devtools.signed import form as form_values
from bot.views import standup as views
from storage import outbox
from storage import standup as store

TUESDAY = date(2026, 12, 1)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def team(cadence: Cadence) -> None:
    fake = cadence.fake
    fake.add_user("U1", "ada", tz="Europe/Berlin")
    fake.add_user("U2", "bob", tz="Europe/Berlin")
    fake.add_user("U3", "cy", tz="America/New_York", tz_offset=-18000)
    fake.add_channel("C1", "team")


def set_up(cadence: Cadence, *, users: tuple[str, ...] = ("U1", "U2", "U3"), **changes: dict[str, Any]) -> Any:
    reply = cadence.command("/standup", "setup", user="U1", channel="C1")
    assert reply.status == 200
    view = cadence.fake.last_view()
    assert view["callback_id"] == views.SETUP_VIEW
    changes.setdefault(views.B_PARTICIPANTS, {"selected_users": list(users)})
    reply = cadence.slack.view_submission(view, form_values(view, **changes), user="U1")
    cadence.settle()
    return reply


def prompt_of(cadence: Cadence, user: str) -> Any:
    prompts = [m for m in cadence.fake.dms(user) if "Time for the" in m.text]
    assert prompts, f"no prompt for {user}"
    return prompts[-1]


def answer(cadence: Cadence, user: str, texts: list[str], *, message: Any = None, action: str = views.WRITE) -> Any:
    message = message or prompt_of(cadence, user)
    cadence.slack.click(message, action, user=user)
    cadence.settle()
    view = cadence.fake.last_view()
    assert view["callback_id"] == views.ANSWER_VIEW
    changes = {views.answer_block(i): {"value": text} for i, text in enumerate(texts)}
    reply = cadence.slack.view_submission(view, form_values(view, **changes), user=user)
    cadence.settle()
    return reply


def parent(cadence: Cadence) -> Any:
    tops = [m for m in cadence.fake.messages("C1", top_level=True) if m.text.startswith("Stand-up ·")]
    assert len(tops) == 1, [m.text for m in tops]
    return tops[0]


def test_the_whole_day(cadence: Cadence) -> None:
    team(cadence)
    reply = set_up(cadence)
    assert reply.status == 200
    assert not reply.body, reply.text
    assert "Stand-up saved" in cadence.fake.responses("U1")[-1]["text"]  # through the command's response_url

    cadence.tick(utc(2026, 12, 1, 8, 29))  # 09:29 in Berlin
    assert cadence.fake.calls("chat.postMessage") == []
    cadence.tick(utc(2026, 12, 1, 8, 30))  # 09:30 in Berlin; 03:30 in New York
    assert "Time for the" in prompt_of(cadence, "U1").text
    assert prompt_of(cadence, "U2")
    assert cadence.fake.dms("U3") == []
    assert cadence.fake.calls("conversations.open") == []
    assert parent(cadence).text == "Stand-up · Tue 1 Dec · 0/3 answered"
    prompt_buttons = [e["text"]["text"] for b in prompt_of(cadence, "U1").blocks for e in b.get("elements", [])
                      if e.get("type") == "button"]
    assert prompt_buttons == ["Write stand-up", "Skip today", "I'm away…"]

    # An empty required answer is refused inline, and nothing is stored.
    refused = answer(cadence, "U1", ["", "review PRs", ""])
    assert refused.json["response_action"] == "errors"
    assert views.answer_block(0) in refused.json["errors"]
    with cadence.db.transaction() as session:
        assert session.scalars(select(store.StandupAnswer)).all() == []

    long_text = "x" * 2990
    answer(cadence, "U1", ["shipped the login page " + long_text[:100], "review PRs", "waiting on the API key"])
    everything = cadence.fake.messages("C1", thread_ts=parent(cadence).ts)
    thread = [m for m in everything if m.text.endswith("stand-up")]
    assert len(thread) == 1
    # the blocker tracker heard the answer and posted the blocker in the same thread
    [card] = [m for m in everything if m not in thread]
    assert "waiting on the API key" in card.all_text
    assert "ada" in thread[0].all_text
    assert "waiting on the API key" in thread[0].all_text
    assert ":rotating_light:" in thread[0].all_text
    assert parent(cadence).text == "Stand-up · Tue 1 Dec · 1/3 answered"
    assert parent(cadence).edits >= 1
    confirmation = cadence.fake.dms("U1")[-1]
    assert "Thanks!" in confirmation.text

    # The reminder, once, after two hours, to who has not answered: U2 only (U3 was not prompted yet).
    cadence.tick(utc(2026, 12, 1, 10, 30))
    cadence.tick(utc(2026, 12, 1, 10, 31))
    reminders = [m for m in cadence.fake.calls("chat.postMessage") if "A reminder" in (m.args.get("text") or "")]
    assert [r.args["channel"] for r in reminders] == ["U2"]

    # Berlin's window closes at 16:00 UTC, but the day is not over: New York has not even been prompted.
    cadence.tick(utc(2026, 12, 1, 16, 0))
    assert "Did not answer" not in parent(cadence).all_text

    # New York's 09:30.
    cadence.tick(utc(2026, 12, 1, 14, 30))
    assert prompt_of(cadence, "U3")
    answer(cadence, "U3", ["tests", "more tests", "none"])
    assert parent(cadence).text == "Stand-up · Tue 1 Dec · 2/3 answered"

    # An edit updates the reply in place and keeps the old text.
    answer(cadence, "U1", ["shipped the login page", "review PRs and pair with bob", "waiting on the API key"],
           message=confirmation, action=views.EDIT)
    thread = [m for m in cadence.fake.messages("C1", thread_ts=parent(cadence).ts) if m.text.endswith("stand-up")]
    assert len(thread) == 2
    assert "pair with bob" in thread[0].all_text
    assert thread[0].edits == 1
    assert "edited" in thread[0].all_text
    with cadence.db.transaction() as session:
        history = session.scalars(select(store.StandupAnswerEdit)).all()
        assert [h.previous_text for h in history] == ["shipped the login page " + "x" * 100, "review PRs"]

    # The window closes at 17:00 in New York (22:00 UTC): the parent names who did not answer.
    cadence.tick(utc(2026, 12, 1, 22, 0))
    assert "Did not answer: <@U2>" in parent(cadence).all_text

    # A late answer is still recorded and posted, marked late.
    cadence.tick(utc(2026, 12, 1, 22, 30))
    answer(cadence, "U2", ["catching up", "tomorrow", ""])
    assert parent(cadence).text == "Stand-up · Tue 1 Dec · 3/3 answered"
    late = cadence.fake.messages("C1", thread_ts=parent(cadence).ts)[-1]
    assert "bob" in late.all_text
    assert "late" in late.all_text
    with cadence.db.transaction() as session:
        figures = store.participation(session, team_id="T1", channel_id="C1", start=TUESDAY, end=TUESDAY)
    assert [(d.prompted, d.answered, d.late) for d in figures.days] == [(3, 3, 1)]
    assert {p.user_id: p.reminded for p in figures.people} == {"U1": 0, "U2": 1, "U3": 0}


def test_hooks_hear_each_answer_with_the_blocker(cadence: Cadence, monkeypatch: Any) -> None:
    from bot import hooks

    heard: list[hooks.StandupAnswerRecorded] = []
    monkeypatch.setattr(hooks, "_answer_listeners", [lambda session, event: heard.append(event)])
    monkeypatch.setattr(hooks, "_prompt_sections", [
        lambda session, ctx: [{"type": "section", "text": {"type": "mrkdwn", "text": f"still blocked, {ctx.user_id}?"}}]])
    team(cadence)
    set_up(cadence, users=("U1",))
    cadence.tick(utc(2026, 12, 1, 8, 30))
    assert "still blocked, U1?" in prompt_of(cadence, "U1").all_text
    answer(cadence, "U1", ["a", "b", "the build is red"])
    assert len(heard) == 1
    event = heard[0]
    assert (event.blocker_text, event.is_edit, event.local_date) == ("the build is red", False, TUESDAY)
    assert event.now == utc(2026, 12, 1, 8, 30)
    with cadence.db.transaction() as session:  # the keys name the day's parent and the answer's post, both sent
        parent_sent = outbox.sent_message(session, key=event.report_parent_key or "")
        answer_sent = outbox.sent_message(session, key=event.answer_key)
    assert parent_sent is not None
    assert parent_sent.ts == parent(cadence).ts
    assert answer_sent is not None
    assert cadence.fake.message("C1", answer_sent.ts).thread_ts == parent(cadence).ts


def test_setup_refuses_a_report_channel_without_the_bot(cadence: Cadence) -> None:
    team(cadence)
    cadence.fake.add_channel("C9", "elsewhere", is_member=False, private=True)
    reply = set_up(cadence, **{views.B_REPORT_CHANNEL: {"selected_conversation": "C9"}})
    assert reply.json["response_action"] == "errors"
    assert "/invite @Cadence" in reply.json["errors"][views.B_REPORT_CHANNEL]
    with cadence.db.transaction() as session:
        assert session.scalars(select(store.Standup)).all() == []


def test_setup_takes_a_user_group(cadence: Cadence) -> None:
    team(cadence)
    cadence.fake.usergroups["S1"] = ["U2", "U3"]
    set_up(cadence, users=("U1",), **{views.B_USERGROUP: {"selected_option": {"value": "S1"}}})
    with cadence.db.transaction() as session:
        standup = store.get_standup(session, team_id="T1", channel_id="C1")
        assert standup is not None
        assert store.config_of(session, standup).participants == ("U1", "U2", "U3")
    cadence.fake.usergroups["S1"] = ["U3", "U1", "U5"]  # U2 left the group, U5 joined; U1 was chosen by hand
    cadence.fake.add_user("U5", "eve")
    cadence.tick(utc(2026, 12, 2, 6, 0))
    with cadence.db.transaction() as session:
        standup = store.get_standup(session, team_id="T1", channel_id="C1")
        assert standup is not None
        assert sorted(store.config_of(session, standup).participants) == ["U1", "U3", "U5"]
    cadence.fake.usergroups["S1"] = []
    cadence.tick(utc(2026, 12, 2, 6, 1))  # once a day only
    cadence.tick(utc(2026, 12, 3, 6, 0))
    with cadence.db.transaction() as session:
        standup = store.get_standup(session, team_id="T1", channel_id="C1")
        assert standup is not None
        assert store.config_of(session, standup).participants == ("U1",)


def test_away_holidays_and_skip(cadence: Cadence) -> None:
    team(cadence)
    set_up(cadence)
    assert "away" in cadence.command("/standup", "away 2026-12-01", user="U2").text
    assert "holiday" in cadence.command("/standup", "holidays add 2026-12-02 Founders day", user="U1").text
    assert "2026-12-02 Founders day" in cadence.command("/standup", "holidays list", user="U1").text
    cadence.tick(utc(2026, 12, 1, 8, 30))
    assert cadence.fake.dms("U2") == []
    cadence.slack.click(prompt_of(cadence, "U1"), views.SKIP, user="U1")
    cadence.settle()
    cadence.tick(utc(2026, 12, 1, 10, 30))
    assert not [c for c in cadence.fake.calls("chat.postMessage") if "A reminder" in (c.args.get("text") or "")]
    cadence.tick(utc(2026, 12, 1, 22, 0))
    assert "Away: <@U2>" in parent(cadence).all_text
    assert "Skipped: <@U1>" in parent(cadence).all_text
    cadence.tick(utc(2026, 12, 2, 8, 30))  # the holiday
    prompts = [c for c in cadence.fake.calls("chat.postMessage")
               if c.args.get("channel") == "U1" and "Time for the" in c.args.get("text", "")]
    assert len(prompts) == 1
    assert "Skipped the stand-up" in cadence.fake.dms("U1")[0].text
    assert "removed" not in cadence.command("/standup", "holidays remove 2026-12-02", user="U1").text


def test_malformed_text_gets_the_usage(cadence: Cadence) -> None:
    reply = cadence.command("/standup", "away tomorrow-ish")
    assert "YYYY-MM-DD" in reply.text
    assert "/standup away 2026-12-22 2027-01-02" in reply.text
    assert "/standup setup" in cadence.command("/standup", "dance").text
    assert "/standup holidays add" in cadence.command("/standup", "help").text
    cadence.command("/standup")
    assert "no stand-up in this channel" in cadence.fake.responses()[-1]["text"]


def test_status_pause_resume_delete_now(cadence: Cadence) -> None:
    team(cadence)
    set_up(cadence)
    assert cadence.command("/standup", "", channel="C1").text == ""  # acknowledged before reading the database
    status = text_of(cadence.fake.responses()[-1])  # what the person reads, in its blocks
    assert "Mon–Fri at 09:30" in status
    assert "<@U3>" in status
    cadence.command("/standup", "pause", channel="C1")
    cadence.tick(utc(2026, 12, 1, 8, 30))
    assert cadence.fake.dms("U1") == []
    cadence.command("/standup", "resume", channel="C1")
    cadence.clock.set(utc(2026, 12, 1, 8, 0))  # before anybody's local time
    cadence.command("/standup", "now", channel="C1")
    assert [bool(cadence.fake.dms(u)) for u in ("U1", "U2", "U3")] == [True, True, True]
    assert "3 prompts sent" in cadence.fake.responses()[-1]["text"]
    cadence.tick(utc(2026, 12, 1, 8, 30))
    assert len(cadence.fake.calls("chat.postMessage")) == 4  # 3 prompts and 1 parent, nothing twice
    cadence.command("/standup", "", channel="C1")
    assert "pending" in cadence.fake.responses()[-1]["text"]
    confirm = cadence.command("/standup", "delete", channel="C1")
    assert views.DELETE_CONFIRM in str(confirm.json)
    cadence.slack.block_action(views.DELETE_CONFIRM, confirm.json["blocks"][1]["elements"][0]["value"], user="U1")
    cadence.settle()
    with cadence.db.transaction() as session:
        assert session.scalars(select(store.Standup)).all() == []


def test_a_departed_participant_is_skipped_and_the_owner_told_once(cadence: Cadence) -> None:
    team(cadence)
    cadence.fake.add_user("U4", "gone", deleted=True)
    set_up(cadence, users=("U1", "U4"))
    cadence.tick(utc(2026, 12, 1, 8, 30))
    cadence.tick(utc(2026, 12, 2, 8, 30))
    told = [m for m in cadence.fake.dms("U1") if "<@U4> has left" in m.text]
    assert len(told) == 1
    assert not [c for c in cadence.fake.calls("chat.postMessage") if c.args.get("channel") == "U4"]


def test_a_slack_error_leaves_the_prompt_for_a_later_attempt(cadence: Cadence) -> None:
    team(cadence)
    set_up(cadence, users=("U1",))
    cadence.tick(utc(2026, 12, 1, 8, 29))
    # The parent, then the prompt: Slack fails both (a 5xx-like error: retried later, never lost).
    cadence.fake.fail("chat.postMessage", error="fatal_error", times=2)
    cadence.tick(utc(2026, 12, 1, 8, 30))
    assert cadence.fake.dms("U1") == []
    with cadence.db.transaction() as session:
        row = session.scalar(select(outbox.OutboxMessage).where(outbox.OutboxMessage.kind == "standup.prompt"))
        assert row is not None
        assert (row.key, row.state, row.last_error) == (
            f"standup.prompt:{store.get_standup(session, team_id='T1', channel_id='C1').id}:U1:2026-12-01",
            "pending", "fatal_error")
    cadence.tick(utc(2026, 12, 1, 8, 32))
    cadence.tick(utc(2026, 12, 1, 8, 33))
    assert len(cadence.fake.dms("U1")) == 1
    assert parent(cadence)


def test_rate_limits_are_waited_out(cadence: Cadence) -> None:
    team(cadence)
    set_up(cadence, users=("U1",))
    cadence.fake.fail("chat.postMessage", status=429, retry_after=0, times=2)
    cadence.tick(utc(2026, 12, 1, 8, 30))
    assert len(cadence.fake.dms("U1")) == 1


def test_restart_catches_up_on_todays_prompts_only(cadence: Cadence) -> None:
    team(cadence)
    set_up(cadence, users=("U1",))
    cadence.tick(utc(2026, 12, 1, 15, 59))  # first tick after an outage from 08:00: 16:59 in Berlin
    assert len(cadence.fake.dms("U1")) == 1, [m.text for m in cadence.fake.dms("U1")]
    cadence.tick(utc(2026, 12, 3, 16, 5))  # down all of 2 December and back after the 3rd's window
    assert len(cadence.fake.dms("U1")) == 1


def test_per_answer_report_style(cadence: Cadence) -> None:
    team(cadence)
    set_up(cadence, users=("U1", "U2"), **{views.B_STYLE: {"selected_option": {"value": "per_answer"}}})
    cadence.tick(utc(2026, 12, 1, 8, 30))
    assert cadence.fake.messages("C1") == []
    answer(cadence, "U1", ["a", "b", ""])
    top = cadence.fake.messages("C1", top_level=True)
    assert len(top) == 1
    assert "ada* · Tue 1 Dec" in top[0].all_text
    cadence.tick(utc(2026, 12, 1, 16, 0))
    summary = cadence.fake.messages("C1", top_level=True)[-1]
    assert summary.text == "Stand-up · Tue 1 Dec · 1/2 answered"
    assert "<@U2>" in summary.all_text


def test_a_long_answer_is_stored_whole_and_posted_cut(cadence: Cadence) -> None:
    team(cadence)
    set_up(cadence, users=("U1",))
    cadence.tick(utc(2026, 12, 1, 8, 30))
    long = "word " * 599 + "end"
    answer(cadence, "U1", [long, "b", ""])
    reply = cadence.fake.messages("C1", thread_ts=parent(cadence).ts)[0]
    assert "…" in reply.all_text
    assert "end" not in reply.all_text
    with cadence.db.transaction() as session:
        texts = [i.text for i in session.scalars(select(store.StandupAnswerItem))]
    assert long in texts


def test_an_answer_slack_refused_is_posted_on_a_later_tick(cadence: Cadence) -> None:
    team(cadence)
    set_up(cadence, users=("U1", "U2"))
    cadence.tick(utc(2026, 12, 1, 8, 30))
    cadence.fake.fail("chat.postMessage", error="fatal_error", times=2)  # the answer's post and the thanks DM
    answer(cadence, "U1", ["a", "b", ""])
    assert cadence.fake.messages("C1", thread_ts=parent(cadence).ts) == []
    with cadence.db.transaction() as session:
        assert [a.report_ts for a in session.scalars(select(store.StandupAnswer))] == [None]
    cadence.tick(utc(2026, 12, 1, 8, 40))
    cadence.tick(utc(2026, 12, 1, 8, 41))
    assert len(cadence.fake.messages("C1", thread_ts=parent(cadence).ts)) == 1
    assert parent(cadence).text == "Stand-up · Tue 1 Dec · 1/2 answered"


def test_a_day_when_everyone_is_away_stays_quiet(cadence: Cadence) -> None:
    team(cadence)
    set_up(cadence, users=("U1",))
    cadence.command("/standup", "away 2026-12-01 2026-12-01", user="U1")
    cadence.tick(utc(2026, 12, 1, 8, 30))
    assert cadence.fake.dms("U1") == []
    assert cadence.fake.messages("C1") == []


def test_prompts_follow_berlin_across_the_spring_change(cadence: Cadence) -> None:
    team(cadence)
    cadence.clock.set(utc(2026, 3, 27, 8, 0))  # set up before the change (the clock never runs backwards)
    set_up(cadence, users=("U1",))
    cadence.tick(utc(2026, 3, 27, 8, 29))
    assert cadence.fake.dms("U1") == []
    cadence.tick(utc(2026, 3, 27, 8, 30))  # Friday, 09:30 CET
    cadence.tick(utc(2026, 3, 30, 7, 29))
    assert len(cadence.fake.dms("U1")) == 1
    cadence.tick(utc(2026, 3, 30, 7, 30))  # Monday, 09:30 CEST
    assert [m.text for m in cadence.fake.dms("U1")][-1].endswith("(Mon 30 Mar).")


def test_setup_problems_are_shown_inline_and_nothing_is_saved(cadence: Cadence) -> None:
    team(cadence)
    reply = set_up(cadence, users=(), **{views.B_DAYS: {"selected_options": []},
                                         views.question_block(2): {"value": ""}})
    errors = reply.json["errors"]
    assert set(errors) == {views.B_PARTICIPANTS, views.B_DAYS, views.B_BLOCKER}
    with cadence.db.transaction() as session:
        assert session.scalars(select(store.Standup)).all() == []


def test_participation_counts_skips_away_and_reminders(db: Any) -> None:
    from ceremonies.schedule import DateRange
    from ceremonies.standup import StandupConfig, default_questions

    now = utc(2026, 12, 1, 8, 30)
    with db.transaction() as session:
        standup = store.save_standup(session, team_id="T1", channel_id="C1", owner_id="U1", now=now, config=StandupConfig(
            channel_id="C1", report_channel_id="C1", participants=("U1", "U2", "U3"), questions=default_questions()))
        run = store.open_run(session, team_id="T1", standup=standup, local_date=TUESDAY, closes_at=now, now=now)
        for user in ("U1", "U2"):
            prompt = store.record_prompt(session, team_id="T1", standup_id=standup.id, run_id=run.id, user_id=user,
                                         local_date=TUESDAY, timezone="Europe/Berlin", due_at=now, closes_at=now,
                                         sent_at=now, dm_channel_id="D", dm_ts="1.1")
        store.mark_reminded(session, team_id="T1", prompt_id=prompt.id, now=now)
        store.record_answer(session, team_id="T1", run=run, user_id="U1", questions=default_questions(),
                            answers={0: "a", 1: "b"}, late=True, now=now)
        store.record_skip(session, team_id="T1", standup_id=standup.id, user_id="U2", local_date=TUESDAY, now=now)
        store.add_away(session, team_id="T1", user_id="U3", away=DateRange(TUESDAY, TUESDAY), now=now)
        store.add_away(session, team_id="T2", user_id="U1", away=DateRange(TUESDAY, TUESDAY), now=now)  # elsewhere
    with db.transaction() as session:
        figures = store.participation(session, team_id="T1", channel_id="C1", start=TUESDAY, end=TUESDAY)
        assert store.participation(session, team_id="T2", channel_id="C1", start=TUESDAY, end=TUESDAY).days == []
    assert figures.days == [store.DayParticipation(TUESDAY, prompted=2, answered=1, late=1, skipped=1, away=1)]
    assert figures.people == [
        store.PersonParticipation("U1", prompted=1, answered=1, late=1, skipped=0, reminded=0, away_days=0),
        store.PersonParticipation("U2", prompted=1, answered=0, late=0, skipped=1, reminded=1, away_days=0),
        store.PersonParticipation("U3", prompted=0, answered=0, late=0, skipped=0, reminded=0, away_days=1),
    ]
    assert figures.answer_rate == 0.5


def test_away_from_the_prompt_button_stops_the_reminder(cadence: Cadence) -> None:
    team(cadence)
    set_up(cadence, users=("U1",))
    cadence.tick(utc(2026, 12, 1, 8, 30))
    cadence.slack.click(prompt_of(cadence, "U1"), views.AWAY, user="U1")
    cadence.settle()
    view = cadence.fake.last_view()
    assert view["callback_id"] == views.AWAY_VIEW
    refused = cadence.slack.view_submission(view, form_values(view, **{views.B_AWAY_TO: {"selected_date": "2026-11-30"}}),
                                            user="U1")
    assert "before the first" in refused.json["errors"][views.B_AWAY_TO]
    cadence.slack.view_submission(view, form_values(view, **{views.B_AWAY_TO: {"selected_date": "2026-12-02"}}),
                                  user="U1")
    cadence.settle()
    assert "you're away from Tue 1 Dec to Wed 2 Dec" in cadence.fake.dms("U1")[-1].text
    cadence.tick(utc(2026, 12, 1, 10, 30))
    cadence.tick(utc(2026, 12, 2, 8, 30))
    assert len(cadence.fake.dms("U1")) == 2  # the prompt and the confirmation: no reminder, no prompt on the 2nd


def test_the_prompt_recalls_yesterdays_plan(cadence: Cadence) -> None:
    team(cadence)
    set_up(cadence, users=("U1",))
    cadence.tick(utc(2026, 12, 1, 8, 30))
    answer(cadence, "U1", ["did things", "write the migration", ""])
    cadence.tick(utc(2026, 12, 2, 8, 30))
    assert "Last time you planned: write the migration" in prompt_of(cadence, "U1").all_text


def test_prompts_rendered_together_each_recall_their_own_persons_last_plan(cadence: Cadence) -> None:
    team(cadence)
    cadence.fake.add_user("U4", "dee", tz="Europe/Berlin")
    set_up(cadence, users=("U1", "U2", "U4"))
    cadence.tick(utc(2026, 12, 1, 8, 30))
    answer(cadence, "U1", ["did things", "write the migration", ""])
    answer(cadence, "U2", ["tests", "review the PR", ""])
    cadence.tick(utc(2026, 12, 2, 8, 30))  # three prompts in one workspace's batch
    assert "Last time you planned: write the migration" in prompt_of(cadence, "U1").all_text
    assert "Last time you planned: review the PR" in prompt_of(cadence, "U2").all_text
    assert "Last time you planned" not in prompt_of(cadence, "U4").all_text
    answer(cadence, "U2", ["reviewed", "ship it", ""])
    cadence.tick(utc(2026, 12, 3, 8, 30))
    assert "Last time you planned: write the migration" in prompt_of(cadence, "U1").all_text  # their latest
    assert "Last time you planned: ship it" in prompt_of(cadence, "U2").all_text
    with cadence.db.reading() as session:  # where each prompt landed was recorded, together
        landed = {(p.user_id, p.local_date.day): (p.dm_channel_id, p.dm_ts)
                  for p in session.scalars(select(store.StandupPrompt))}
    for user in ("U1", "U2", "U4"):
        for day in (1, 2, 3):
            channel, ts = landed[(user, day)]
            assert channel
            assert ts
            assert cadence.fake.message(channel, ts) is not None


def test_an_edit_slack_refused_reaches_the_report_on_a_later_tick(cadence: Cadence) -> None:
    team(cadence)
    set_up(cadence, users=("U1",))
    cadence.tick(utc(2026, 12, 1, 8, 30))
    answer(cadence, "U1", ["a", "b", ""])
    confirmation = cadence.fake.dms("U1")[-1]
    cadence.fake.fail("chat.update", error="fatal_error", times=2)  # the answer's update and the parent's
    answer(cadence, "U1", ["a", "b, then c", ""], message=confirmation, action=views.EDIT)
    reply = cadence.fake.messages("C1", thread_ts=parent(cadence).ts)[0]
    assert "then c" not in reply.all_text
    cadence.tick(utc(2026, 12, 1, 9, 0))
    assert "then c" in cadence.fake.message("C1", reply.ts).all_text
    updates = len(cadence.fake.calls("chat.update"))
    cadence.tick(utc(2026, 12, 1, 9, 1))
    assert len(cadence.fake.calls("chat.update")) == updates  # done: not updated again


def test_a_prompt_slack_refuses_because_the_person_left_tells_the_owner_once(cadence: Cadence) -> None:
    team(cadence)
    cadence.fake.add_user("U4", "leaving")
    set_up(cadence, users=("U1", "U4"))
    cadence.clock.set(utc(2026, 12, 1, 8, 30))
    cadence.scheduler.tick()  # the prompts are queued...
    cadence.fake.add_user("U4", "leaving", deleted=True)  # ...and U4's account is deactivated before they go out
    cadence.settle()
    assert not cadence.fake.dms("U4")
    told = [m for m in cadence.fake.dms("U1") if "<@U4> has left" in m.text]
    assert len(told) == 1
    with cadence.db.transaction() as session:
        standup = store.get_standup(session, team_id="T1", channel_id="C1")
        assert standup is not None
        gone = {p.user_id for p in store.participants_of(session, team_id="T1", standup_id=standup.id)
                if p.gone_since is not None}
    assert gone == {"U4"}
    cadence.tick(utc(2026, 12, 2, 8, 30))
    assert len([m for m in cadence.fake.dms("U1") if "<@U4> has left" in m.text]) == 1
    assert [c.args["channel"] for c in cadence.fake.calls("chat.postMessage")].count("U4") == 1


def test_a_deleted_stand_up_prompts_nobody_and_a_new_one_in_its_place_prompts_everyone(cadence: Cadence) -> None:
    team(cadence)
    set_up(cadence)
    cadence.fake.fail("chat.postMessage", status=500, times=3)  # the prompts wait in the outbox for a retry
    cadence.tick(utc(2026, 12, 1, 8, 30))
    assert not [m for u in ("U1", "U2") for m in cadence.fake.dms(u) if "Time for the" in m.text]
    confirm = cadence.command("/standup", "delete", channel="C1", user="U1")
    cadence.slack.block_action(views.DELETE_CONFIRM, confirm.json["blocks"][1]["elements"][0]["value"], user="U1")
    cadence.settle()
    cadence.clock.advance(timedelta(minutes=1))
    cadence.settle()
    assert not [m for u in ("U1", "U2") for m in cadence.fake.dms(u) if "Time for the" in m.text]
    # Set up again the same morning (on SQLite it may get the deleted one's id): its prompts go out, once each.
    set_up(cadence, users=("U1", "U2"))
    cadence.tick(utc(2026, 12, 1, 8, 32))
    assert [len([m for m in cadence.fake.dms(u) if "Time for the" in m.text]) for u in ("U1", "U2")] == [1, 1]
