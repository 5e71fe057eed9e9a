"""The risk register over HTTP with the fake Slack, on SQLite and Postgres: raise a risk in the modal (bad input
refused inline), the register posted by score with its heat map, rescore / mitigate / close / occurred (a blocker
flagged), who may change a risk, the owner's review reminder (exactly once), staleness, the App Home and the sprint
summary's Risks section."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.devtools.fakeslack import Message
from bot.devtools.harness import Cadence
from bot.devtools.signed import form
from bot.jobs.scheduler import Scheduler
from bot.listeners.home import publish_home
from bot.server.runtime import Runtime
from bot.views import reports
from storage import blockers, sprint_figures
from storage import risks as store
from storage import sprint as sprints
from storage.risks import Risk

TUESDAY_7AM = datetime(2026, 12, 1, 7, 0, tzinfo=UTC)  # the clock fixture's start


@pytest.fixture(autouse=True)
def people(fake: Any) -> None:
    fake.add_user("U1", "ana", tz="UTC", tz_offset=0)   # raises the risks
    fake.add_user("U2", "dana", tz="UTC", tz_offset=0)  # owns them
    fake.add_user("U3", "tess", tz="UTC", tz_offset=0)  # neither owner nor facilitator
    fake.add_user("U8", "gone", deleted=True)


def risks(cadence: Cadence) -> list[Risk]:
    with cadence.db.reading() as session:
        return list(session.scalars(select(Risk).order_by(Risk.id)))


def add_risk(cadence: Cadence, *, title: str = "Payments API may slip", likelihood: str = "4", impact: str = "5",
             owner: str = "U2", review_on: str = "2026-12-15", mitigation: str = "", user: str = "U1",
             channel: str = "C1", **more: dict[str, Any]) -> Any:
    cadence.command("/risk", "add", user=user, channel=channel)
    view = cadence.fake.last_view()
    assert view["callback_id"] == "risk.add_modal"
    values = form(view, **{
        "risk.title": {"value": title}, "risk.likelihood": {"value": likelihood}, "risk.impact": {"value": impact},
        "risk.owner": {"selected_user": owner}, "risk.review": {"selected_date": review_on},
        "risk.mitigation": {"value": mitigation}, **more})
    reply = cadence.slack.view_submission(view, values, user=user)
    cadence.settle()
    return reply


def registers(cadence: Cadence) -> list[Message]:
    return [m for m in cadence.fake.messages("C1", top_level=True) if "Risk register" in m.all_text]


def post_register(cadence: Cadence, *, user: str = "U1") -> Message:
    cadence.command("/risk", "", user=user)
    return registers(cadence)[-1]


def heat_maps(cadence: Cadence) -> list[dict[str, Any]]:
    return [u for u in cadence.fake.state.uploads.values() if u.get("channel") and "heat-map" in u["filename"]]


def submit(cadence: Cadence, changes: dict[str, dict[str, Any]], *, user: str) -> Any:
    view = cadence.fake.last_view()
    reply = cadence.slack.view_submission(view, form(view, **changes), user=user)
    cadence.settle()
    return reply


def click(cadence: Cadence, message: Message, action_id: str, risk_id: int, *, user: str) -> Any:
    block = next(b for b in message.blocks if b.get("block_id", "").endswith(f":{risk_id}") and b["type"] == "actions")
    button = next(e for e in block["elements"] if e["action_id"] == action_id)
    reply = cadence.slack.block_action(action_id, button["value"], user=user, channel=message.channel,
                                       message_ts=message.ts, block_id=block["block_id"])
    cadence.settle()
    return reply


def responses(cadence: Cadence) -> str:
    return "\n".join(r.get("text", "") for r in cadence.fake.responses())


def test_the_life_of_a_risk(cadence: Cadence) -> None:
    assert add_risk(cadence).status == 200
    add_risk(cadence, title="Key <!channel> engineer away in Jan", likelihood="3", impact="3")
    first, second = risks(cadence)
    assert (first.title, first.likelihood, first.impact, first.owner_id, first.raised_by, first.status) == (
        "Payments API may slip", 4, 5, "U2", "U1", "open")
    assert first.next_review_on == date(2026, 12, 15)
    raised = [m for m in cadence.fake.messages("C1") if "raised risk #1" in m.all_text]
    assert len(raised) == 1
    assert "raised risk #1 in <#C1> and made you its owner" in cadence.fake.dms("U2")[0].all_text
    assert "<!channel>" not in "".join(m.all_text for m in cadence.fake.messages("C1"))  # user text is escaped

    register = post_register(cadence)
    assert register.all_text.index("#1 Payments API may slip") < register.all_text.index("#2 Key")
    assert "*20* (L4×I5, critical)" in register.all_text
    [heat_map] = heat_maps(cadence)
    assert heat_map["thread_ts"] == register.ts
    assert heat_map["alt_txt"].startswith("Risk heat map, likelihood by impact on a 5 by 5 grid: 2 open risks")
    assert "likelihood 4, impact 5: 1" in heat_map["alt_txt"]
    assert cadence.fake.state.uploads[next(k for k, u in cadence.fake.state.uploads.items() if u is heat_map)][
        "content"].startswith(b"\x89PNG")

    click(cadence, register, "risk.rescore", first.id, user="U2")
    submit(cadence, {"risk.likelihood": {"value": "2"}, "risk.note": {"value": "vendor confirmed"}}, user="U2")
    # The register is redrawn, showing where the score went.
    assert "*10* (L2×I5, high) :small_red_triangle_down: from 20" in cadence.fake.message("C1", register.ts).all_text

    click(cadence, register, "risk.mitigate", first.id, user="U2")
    submit(cadence, {"risk.mitigation": {"value": "a fallback provider is ready"}}, user="U2")
    assert "Mitigation: a fallback provider is ready" in cadence.fake.message("C1", register.ts).all_text

    click(cadence, register, "risk.occurred", second.id, user="U2")
    assert "Risk #2 marked as occurred; blocker #1 is flagged" in responses(cadence)
    [card] = [m for m in cadence.fake.messages("C1") if "Blocker #1" in m.all_text]
    assert "Risk #2 occurred: Key &lt;!channel&gt; engineer away in Jan" in card.all_text
    with cadence.db.reading() as session:
        blocker = blockers.get_blocker(session, team_id="T1", blocker_id=1)
        assert (blocker.source, blocker.owner_id, blocker.status) == ("risk", "U2", "open")

    click(cadence, register, "risk.close", first.id, user="U2")
    assert "Risk #1 closed" in responses(cadence)
    history = cadence.command("/risk", "history 1", user="U3")
    assert history.status == 200
    told = cadence.fake.responses()[-1]
    assert told["response_type"] == "ephemeral"
    lines = [t for t in Message("", "", "", told["blocks"]).all_text.splitlines() if "<!date^" in t]
    assert [line.split(" · ", 1)[1] for line in lines] == [
        "<@U1> raised it · 20 (L4×I5)",
        "<@U2> rescored it · 20 → 10 (L2×I5) · vendor confirmed",
        "<@U2> updated the mitigation · 10 (L2×I5) · a fallback provider is ready",
        "<@U2> closed it · 10 (L2×I5)",
    ]
    cadence.command("/risk", "history 99", user="U3")
    assert "There is no risk #99 in this workspace" in cadence.fake.responses()[-1]["text"]
    first, second = risks(cadence)
    assert (first.status, first.closed_by, second.status, second.blocker_id) == ("closed", "U2", "occurred", 1)
    assert "No open risks" in cadence.fake.message("C1", register.ts).all_text
    with cadence.db.reading() as session:
        changes = [(e.change, e.by, e.old_likelihood, e.new_likelihood, e.new_status)
                   for e in store.history(session, team_id="T1", risk_id=first.id)]
    assert changes == [("raised", "U1", None, 4, "open"), ("rescored", "U2", 4, 2, "open"),
                       ("mitigated", "U2", 2, 2, "open"), ("closed", "U2", 2, 2, "closed")]
    # A second click on the register as someone still sees it (redrawn meanwhile on Slack's side).
    cadence.slack.block_action("risk.close", str(first.id), user="U2", channel="C1", message_ts=register.ts,
                               block_id=f"risk.register:{first.id}")
    cadence.settle()
    assert "Risk #1 is already closed; nothing changed." in responses(cadence)


@pytest.mark.parametrize(("changes", "block", "message"), [
    ({"likelihood": "0"}, "risk.likelihood", "Pick a likelihood from 1 to 5."),
    ({"likelihood": "6"}, "risk.likelihood", "Pick a likelihood from 1 to 5."),
    ({"impact": "6"}, "risk.impact", "Pick a impact from 1 to 5."),
    ({"title": "   "}, "risk.title", "Give the risk a short title."),
    ({"review_on": "2026-11-30"}, "risk.review", "The next review can't be in the past"),
    ({"owner": "U8"}, "risk.owner", "is not a member of this workspace"),
])
def test_bad_input_is_refused_inline_and_nothing_is_stored(cadence: Cadence, changes: dict[str, str], block: str,
                                                           message: str) -> None:
    reply = add_risk(cadence, **changes)
    assert reply.json["response_action"] == "errors"
    assert message in reply.json["errors"][block]
    assert risks(cadence) == []
    assert cadence.fake.messages("C1") == []


def test_only_the_owner_the_facilitator_or_an_admin_may_change_a_risk(cadence: Cadence) -> None:
    add_risk(cadence)
    register = post_register(cadence)
    click(cadence, register, "risk.close", 1, user="U3")
    assert "Only its owner (<@U2>) or a workspace admin can change risk #1." in responses(cadence)
    click(cadence, register, "risk.rescore", 1, user="U3")
    assert [v for v in cadence.fake.views() if v["callback_id"] == "risk.rescore_modal"] == []
    assert risks(cadence)[0].status == "open"
    # The sprint's facilitator may; so may a workspace admin.
    cadence.command("/sprint", 'start "Sprint 1" --until 2026-12-11', user="U1")
    click(cadence, register, "risk.rescore", 1, user="U1")
    submit(cadence, {"risk.impact": {"value": "3"}}, user="U1")
    cadence.fake.add_user("U4", "boss", tz="UTC", tz_offset=0, is_admin=True)
    click(cadence, register, "risk.close", 1, user="U4")
    [risk] = risks(cadence)
    assert (risk.impact, risk.reviewed_by, risk.status, risk.closed_by) == (3, "U1", "closed", "U4")


def test_a_modal_submitted_by_someone_who_may_not_is_refused_inline(cadence: Cadence) -> None:
    add_risk(cadence)
    register = post_register(cadence)
    click(cadence, register, "risk.mitigate", 1, user="U2")
    view = cadence.fake.last_view()
    reply = cadence.slack.view_submission(view, form(view, **{"risk.mitigation": {"value": "x"}}), user="U3")
    assert "Only its owner (<@U2>)" in reply.json["errors"]["risk.review"]
    assert risks(cadence)[0].mitigation == ""


def reminders(cadence: Cadence, user: str = "U2") -> list[Message]:
    return [m for m in cadence.fake.dms(user) if "is due for review today" in m.all_text]


def test_the_owner_is_reminded_once_per_review_date(cadence: Cadence) -> None:
    add_risk(cadence, review_on="2026-12-08")
    cadence.tick(datetime(2026, 12, 8, 8, 59, tzinfo=UTC))
    assert reminders(cadence) == []
    cadence.tick(datetime(2026, 12, 8, 9, 0, tzinfo=UTC))
    cadence.tick(datetime(2026, 12, 8, 15, 0, tzinfo=UTC))
    cadence.tick(datetime(2026, 12, 10, 9, 0, tzinfo=UTC))
    [reminder] = reminders(cadence)
    assert "Risk #1 in <#C1>" in reminder.all_text
    publish_home(cadence.runtime, cadence.runtime.gateway.for_team("T1"), team_id="T1", user_id="U2")
    home = cadence.fake.home("U2")
    assert home is not None
    assert "Your risks due for review" in str(home["blocks"])
    # Reviewing it from the reminder sets the next review (the same period again by default: 7 days from today).
    click(cadence, reminder, "risk.rescore", 1, user="U2")
    submit(cadence, {}, user="U2")
    [risk] = risks(cadence)
    assert (risk.next_review_on, risk.reviewed_at) == (date(2026, 12, 17), datetime(2026, 12, 10, 9, 0, tzinfo=UTC))
    cadence.tick(datetime(2026, 12, 17, 9, 0, tzinfo=UTC))
    cadence.tick(datetime(2026, 12, 17, 9, 1, tzinfo=UTC))
    assert len(reminders(cadence)) == 2


def test_a_risk_not_reviewed_for_two_periods_is_stale(cadence: Cadence) -> None:
    add_risk(cadence, review_on="2026-12-08")  # raised on Tuesday 1 Dec: a 7-day period
    cadence.clock.set(datetime(2026, 12, 15, 6, 59, tzinfo=UTC))
    assert "stale" not in post_register(cadence).all_text
    cadence.clock.set(datetime(2026, 12, 15, 7, 0, tzinfo=UTC))
    register = post_register(cadence)
    assert "1 stale" in register.all_text
    assert "*stale*: not reviewed for two review periods" in register.all_text


def test_the_sprint_summary_has_a_risks_section(cadence: Cadence) -> None:
    cadence.clock.set(TUESDAY_7AM - timedelta(days=1))
    add_risk(cadence, title="before the sprint", likelihood="2", impact="2")  # score 4, open all along
    cadence.clock.set(TUESDAY_7AM)
    cadence.command("/sprint", 'start "Sprint 1" --until 2026-12-11', user="U1")
    cadence.clock.set(TUESDAY_7AM + timedelta(days=1))
    add_risk(cadence, title="closed in the sprint", likelihood="3", impact="3")
    add_risk(cadence, title="happened in the sprint", likelihood="4", impact="4")
    add_risk(cadence, title="still open, highest", likelihood="5", impact="5")
    register = post_register(cadence)
    click(cadence, register, "risk.close", 2, user="U2")
    click(cadence, register, "risk.occurred", 3, user="U2")
    cadence.clock.set(TUESDAY_7AM + timedelta(days=3))
    cadence.command("/sprint", "end", user="U1")
    [summary] = [m for m in cadence.fake.messages("C1") if "Sprint 1 · summary" in m.all_text]
    text = summary.all_text
    assert "*Risks* · 2 open · 3 raised · 1 closed · 1 occurred · open score 4 → 29" in text
    assert text.index("#4 still open, highest · 25 (critical)") < text.index("#1 before the sprint · 4 (low)")
    with cadence.db.reading() as session:
        sprint = sprints.sprint_named(session, team_id="T1", channel_id="C1", name="Sprint 1")
        report = sprint_figures.report(session, sprint_id=sprint.id, at=cadence.clock())
    assert report is not None
    markdown = reports.to_markdown(report)
    assert "## Risks" in markdown
    assert "- Open score: 4 at the start, 29 at the end (+25)" in markdown
    assert "| 4 | still open, highest | 25 (L5×I5, critical) | U2 |" in markdown
    assert reports.figures(report)["risks"]["open_score_at_end"] == 29


def test_a_risk_may_threaten_an_open_blocker_or_a_sprint_story(cadence: Cadence) -> None:
    cadence.command("/blocker", "waiting on the staging database", user="U1")
    with cadence.db.transaction() as session:
        sprints.add_story(session, team_id="T1", channel_id="C1", key="PAY-7", title="Refund flow", points=5,
                          by="U1", now=cadence.clock(), source="manual")
    cadence.command("/sprint", 'start "Sprint 1" --until 2026-12-11', user="U1")
    cadence.command("/risk", "add", user="U1")
    [link] = [b for b in cadence.fake.last_view()["blocks"] if b["block_id"] == "risk.link"]
    groups = {g["label"]["text"]: [o["value"] for o in g["options"]] for g in link["element"]["option_groups"]}
    assert groups == {"Open blockers": ["blocker:1"], "Sprint stories": ["story:1"]}
    add_risk(cadence, **{"risk.link": {"selected_option": {"value": "story:1", "text": {"type": "plain_text",
                                                                                        "text": "PAY-7"}}}})
    add_risk(cadence, title="another", **{"risk.link": {"selected_option": {
        "value": "blocker:1", "text": {"type": "plain_text", "text": "#1"}}}})
    first, second = risks(cadence)
    assert (first.linked_story_id, second.linked_blocker_id) == (1, 1)
    register = post_register(cadence)
    assert "Threatens story PAY-7 Refund flow" in register.all_text
    assert "Threatens blocker #1" in register.all_text
    # A blocker resolved while the modal was open is refused inline, and nothing is stored.
    cadence.command("/risk", "add", user="U1")
    view = cadence.fake.last_view()
    cadence.command("/blocker", "resolve 1", user="U1")
    values = form(view, **{"risk.title": {"value": "too late"}, "risk.likelihood": {"value": "2"},
                           "risk.impact": {"value": "2"}, "risk.link": {"selected_option": {
                               "value": "blocker:1", "text": {"type": "plain_text", "text": "#1"}}}})
    reply = cadence.slack.view_submission(view, values, user="U1")
    assert "no longer open in this channel" in reply.json["errors"]["risk.link"]
    assert len(risks(cadence)) == 2


def test_two_schedulers_racing_remind_once(cadence: Cadence) -> None:
    add_risk(cadence, review_on="2026-12-08")
    due = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)
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
    cadence.settle()
    assert len(reminders(cadence)) == 1


def test_an_empty_register_is_told_only_to_who_asked(cadence: Cadence) -> None:
    cadence.command("/risk", "", user="U3")
    assert "No open risks in <#C1>. Raise one with `/risk add`." in cadence.fake.responses()[-1]["text"]
    assert cadence.fake.messages("C1") == []
    assert heat_maps(cadence) == []
    reply = cadence.command("/risk", "frobnicate")
    assert "I don't know `frobnicate`" in reply.text
    assert "/risk history <number>" in reply.text
