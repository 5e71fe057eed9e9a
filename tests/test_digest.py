"""The executive digest over HTTP: an admin sets it up, it goes out once a week (also with two processes) rolling up
three team channels with different health, and its report page (and a sprint's) is served by signed links that
expire, can be revoked, and never open another workspace's report."""

from __future__ import annotations

import re
import threading
import urllib.error
import urllib.request
from datetime import UTC, date, datetime, timedelta

import pytest

from bot.devtools.fakeslack import FakeSlack, Message, text_of
from bot.devtools.harness import Cadence, FrozenClock, start_cadence
from bot.devtools.signed import form
from bot.views import digest as views
from ceremonies import risks as risk_rules
from ceremonies.blockers import Source
from storage import blockers, outbox, risks
from storage import digest as store
from storage import sprint as sprints

MONDAY = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)  # 09:00 in Berlin
NEXT_MONDAY = MONDAY + timedelta(days=7)
EXEC_CHANNEL = "CEXEC"
TEAMS = {"C1": "checkout", "C2": "search", "C3": "mobile"}


def seed_sprint(cadence: Cadence, channel: str, name: str, stories: list[tuple[str, float, bool]],
                *, added: list[tuple[str, float]] = (), team: str = "T1") -> None:
    """A sprint started Monday 23 Nov (until Fri 4 Dec) with (key, points, done by now) committed stories."""
    start = MONDAY - timedelta(days=7)
    with cadence.db.transaction() as session:
        sprint = sprints.Sprint(team_id=team, channel_id=channel, name=name, goal="", timezone="Europe/Berlin",
                                starts_on=start.date(), ends_on=date(2026, 12, 4), started_at=start, started_by="U1")
        session.add(sprint)
        session.flush()
        for key, points, done in stories:
            session.add(sprints.SprintStory(team_id=team, channel_id=channel, sprint_id=sprint.id, key=key, title="",
                                            points=points, source="manual", committed=True, added_at=start,
                                            added_by="U1", completed_at=start + timedelta(days=1) if done else None))
        for key, points in added:
            session.add(sprints.SprintStory(team_id=team, channel_id=channel, sprint_id=sprint.id, key=key, title="",
                                            points=points, source="manual", committed=False,
                                            added_at=start + timedelta(days=2), added_by="U1"))


@pytest.fixture
def workspace(cadence: Cadence) -> Cadence:
    return arrange(cadence)


def arrange(cadence: Cadence) -> Cadence:
    """Three team channels of T1 and an admin; the leadership channel and a VP to send the digest to."""
    fake = cadence.fake
    fake.add_user("UADMIN", "ada", is_admin=True)
    fake.add_user("U1", "tess")
    fake.add_user("UBOSS", "vp")
    fake.add_channel(EXEC_CHANNEL, "leadership")
    for channel, name in TEAMS.items():
        fake.add_channel(channel, name)
    cadence.clock.set(MONDAY - timedelta(hours=2))
    # checkout: green (everything expected by now is done); search: amber (scope grew 15%); mobile: red (nothing
    # done, a blocker open for a week, a risk of score 20).
    seed_sprint(cadence, "C1", "Checkout 7", [("PAY-1", 5, True), ("PAY-2", 5, True), ("PAY-3", 5, True),
                                              ("PAY-4", 5, False)])
    seed_sprint(cadence, "C2", "Search 3", [("SRC-1", 10, True), ("SRC-2", 10, True)], added=[("SRC-9", 3)])
    seed_sprint(cadence, "C3", "Mobile <b>2</b>", [("MOB-1", 8, False), ("MOB-2", 8, False)])
    with cadence.db.transaction() as session:
        blockers.open_blocker(session, team_id="T1", channel_id="C3", reporter_id="U1", text="App store review stuck",
                              source=Source.COMMAND, now=MONDAY - timedelta(days=7))
        draft = risk_rules.RiskDraft(title="Payment SDK <deprecated> in Q1", description="", likelihood=4, impact=5,
                                     owner_id="U1", mitigation="Upgrade in sprint 3", review_on=date(2026, 12, 10))
        risks.raise_risk(session, team_id="T1", channel_id="C3", draft=draft, owner_timezone="Europe/Berlin",
                         by="U1", now=MONDAY - timedelta(days=3))
    return cadence


def set_up_digest(cadence: Cadence, user: str = "UADMIN") -> None:
    cadence.command("/cadence", "digest", user=user, channel="C1")
    view = cadence.fake.last_view()
    assert view["callback_id"] == views.SETTINGS_VIEW
    values = form(view, **{
        views.B_CHANNELS: {"type": "multi_conversations_select", "selected_conversations": [EXEC_CHANNEL]},
        views.B_PEOPLE: {"type": "multi_users_select", "selected_users": ["UBOSS"]},
        views.B_TIMEZONE: {"value": "Europe/Berlin"},
    })
    reply = cadence.slack.view_submission(view, values, user=user)
    assert reply.status == 200
    assert not reply.body, reply.text
    cadence.settle()


def digests(cadence: Cadence) -> list[Message]:
    found = [m for m in cadence.fake.messages(EXEC_CHANNEL, top_level=True) if "Weekly digest" in m.all_text]
    return found + [m for m in cadence.fake.dms("UBOSS") if "Weekly digest" in m.all_text]


def page_token(message: Message) -> str:
    found = re.search(r"/reports/([A-Za-z0-9_.-]+)\|", message.all_text)
    assert found, message.all_text
    return found.group(1)


def fetch(cadence: Cadence, token: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"{cadence.url}/reports/{token}", timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_the_weekly_digest_rolls_up_three_teams_once_a_week(workspace: Cadence) -> None:
    set_up_digest(workspace)
    [saved] = workspace.fake.ephemerals("UADMIN")
    assert saved["text"].startswith(":white_check_mark: The executive digest goes to <#CEXEC>, <@UBOSS> every Monday "
                                    "at 09:00 (Europe/Berlin); the next on Mon 30 Nov.")
    assert "/reports/" in saved["text"]
    workspace.tick(MONDAY - timedelta(minutes=1))  # 08:59 in Berlin: not yet
    assert digests(workspace) == []
    workspace.tick(MONDAY)
    workspace.tick(MONDAY + timedelta(minutes=1))
    sent = digests(workspace)
    assert len(sent) == 2  # the channel and the person's DM, once each
    text = sent[0].all_text
    assert len(sent[0].blocks) <= 50
    # Red first, then amber, then green, each with its reasons.
    assert text.index("<#C3>") < text.index("<#C2>") < text.index("<#C1>")
    assert "3 teams: 1 red · 1 amber · 1 green" in text
    assert "*Mobile &lt;b&gt;2&lt;/b&gt;* · *red*" in text
    assert "a blocker has been open" in text
    assert "scope changed by 15% (amber above 10%)" in text
    assert "Top risks: *20* Payment SDK &lt;deprecated&gt; in Q1" in text
    assert "1 blocker older than 1 working day (oldest #1" in text
    assert "Progress 15/20 committed points" in text
    assert "Velocity 15 so far" in text  # the running sprint is no finished velocity yet
    assert "+3 added" in text
    # The velocity chart, 1000 px wide with its alt text, in each digest's thread.
    uploads = [u for u in workspace.fake.state.uploads.values() if u.get("title") == "Velocity trend across teams"]
    assert len(uploads) == 2
    assert {u["thread_ts"] for u in uploads} == {m.ts for m in sent}
    assert uploads[0]["content"][:8] == b"\x89PNG\r\n\x1a\n"
    assert int.from_bytes(uploads[0]["content"][16:20], "big") == 1000
    workspace.tick(MONDAY + timedelta(days=1))
    assert len(digests(workspace)) == 2  # nothing more until next Monday
    workspace.tick(NEXT_MONDAY)
    assert len(digests(workspace)) == 4


def test_two_processes_send_the_digest_once(workspace: Cadence, fake: FakeSlack, db_url: str) -> None:
    set_up_digest(workspace)
    other = start_cadence(fake, db_url, FrozenClock(MONDAY))
    try:
        workspace.clock.set(MONDAY)
        barrier = threading.Barrier(2)

        def tick(app: Cadence) -> None:
            barrier.wait()
            app.scheduler.tick()

        threads = [threading.Thread(target=tick, args=(app,)) for app in (workspace, other)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        workspace.settle()
        other.settle()
    finally:
        other.stop()
    assert len(digests(workspace)) == 2
    with workspace.db.reading() as session:
        [(schedule_id, due)] = [(s.id, s.next_due_at) for s in session.query(store.DigestSchedule)]
        assert due == NEXT_MONDAY
        assert outbox.state_of(session, key=f"digest:{schedule_id}:{MONDAY.isoformat()}:{EXEC_CHANNEL}") == "sent"


def test_only_admins_set_up_the_digest(workspace: Cadence) -> None:
    workspace.command("/cadence", "digest", user="U1", channel="C1")
    assert "Only a workspace admin can set up the executive digest" in workspace.fake.responses()[-1]["text"]
    with workspace.db.reading() as session:
        assert store.schedule_of(session, team_id="T1") is None


def test_a_digest_without_recipients_is_refused_in_the_modal(workspace: Cadence) -> None:
    workspace.command("/cadence", "digest", user="UADMIN", channel="C1")
    view = workspace.fake.last_view()
    reply = workspace.slack.view_submission(view, form(view, **{views.B_TIMEZONE: {"value": "Mars/Olympus"}}),
                                            user="UADMIN")
    assert reply.json["response_action"] == "errors"
    assert reply.json["errors"] == {views.B_CHANNELS: "Pick at least one channel or person to send the digest to.",
                                    views.B_TIMEZONE: "Write a timezone such as Europe/Berlin or America/New_York."}


def test_the_report_page_shows_every_team_escaped_with_its_chart(workspace: Cadence) -> None:
    set_up_digest(workspace)
    workspace.tick(MONDAY)
    status, html = fetch(workspace, page_token(digests(workspace)[0]))
    assert status == 200
    assert "#checkout" in html
    assert "#search" in html
    assert "#mobile" in html
    assert "Mobile &lt;b&gt;2&lt;/b&gt;" in html
    assert "<b>2</b>" not in html
    assert "Payment SDK &lt;deprecated&gt; in Q1" in html
    assert "tess" in html  # the risk's owner by name, for readers outside Slack
    assert html.count('src="data:image/png;base64,') == 1
    assert "<script" not in html
    assert "@media print" in html


def test_expired_revoked_and_forged_links_get_a_clear_page(workspace: Cadence) -> None:
    set_up_digest(workspace)
    workspace.tick(MONDAY)
    token = page_token(digests(workspace)[0])
    # Another workspace's sprint and link: its id under this workspace's signature opens nothing.
    seed_sprint(workspace, "C9", "Secret roadmap", [("SEC-1", 3, False)], team="T2")
    with workspace.db.transaction() as session:
        theirs = store.create_link(session, team_id="T2", kind=store.DIGEST, sprint_id=None, by="U9",
                                   now=workspace.clock(), days=30)
        their_token = store.token_of(workspace.runtime.settings.report_key, theirs)
    forged = theirs.public_id + "." + token.split(".")[1]
    assert fetch(workspace, forged)[0] == 404
    assert "This link does not work" in fetch(workspace, forged)[1]
    ours = fetch(workspace, token)[1]
    assert "Secret roadmap" not in ours
    assert "Secret roadmap" in fetch(workspace, their_token)[1]
    assert "#checkout" not in fetch(workspace, their_token)[1]
    # Revoked by an admin: 403 with a clear page; the other workspace's link still works.
    workspace.command("/cadence", "digest revoke", user="UADMIN", channel="C1")
    assert "report links revoked" in workspace.fake.responses()[-1]["text"]
    status, html = fetch(workspace, token)
    assert (status, "This link was revoked" in html) == (403, True)
    assert fetch(workspace, their_token)[0] == 200
    # Expired after 30 days: 410.
    workspace.clock.set(workspace.clock() + timedelta(days=31))
    status, html = fetch(workspace, their_token)
    assert (status, "This link has expired" in html) == (410, True)


def test_a_sprint_summary_links_its_report_page(workspace: Cadence) -> None:
    workspace.command("/sprint", "summary", user="U1", channel="C1")
    [summary] = [m for m in workspace.fake.messages("C1") if "Checkout 7 · so far" in m.all_text]
    status, html = fetch(workspace, page_token(summary))
    assert status == 200
    assert "Checkout 7" in html
    assert "#checkout" in html
    assert "15 of 20 points" in html
    assert html.count('src="data:image/png;base64,') >= 1


def test_sprint_export_sends_the_file_to_the_persons_dm(workspace: Cadence) -> None:
    for kind, needle in (("md", b"# Checkout 7"), ("csv", b"section,metric,value"), ("json", b'"committed_done": 15')):
        workspace.command("/sprint", f"export {kind}", user="U1", channel="C1")
        assert workspace.fake.responses()[-1]["text"] == f"The {kind.upper()} report of Checkout 7 is in your DM with Cadence."
        upload = list(workspace.fake.state.uploads.values())[-1]
        assert upload["filename"] == f"checkout-7-report.{kind}"
        assert upload["channel"].startswith("D")
        assert needle in upload["content"]
    workspace.command("/sprint", "export pdf", user="U1", channel="C1")
    assert "say which format" in workspace.fake.responses()[-1]["text"]
    workspace.command("/sprint", 'export md "Sprint 99"', user="U1", channel="C1")
    assert "there is no sprint called “Sprint 99”" in workspace.fake.responses()[-1]["text"]
    assert text_of(workspace.fake.responses()[-1])


def test_revoking_one_link_by_its_address_leaves_the_others(workspace: Cadence) -> None:
    set_up_digest(workspace)
    workspace.tick(MONDAY)
    token = page_token(digests(workspace)[0])
    workspace.command("/sprint", "summary", user="U1", channel="C1")
    [summary] = [m for m in workspace.fake.messages("C1") if "Checkout 7 · so far" in m.all_text]
    workspace.command("/cadence", f"digest revoke {workspace.url}/reports/{token}", user="UADMIN", channel="C1")
    assert workspace.fake.responses()[-1]["text"].startswith(":no_entry: 1 report link revoked")
    assert fetch(workspace, token)[0] == 403
    assert fetch(workspace, page_token(summary))[0] == 200
    workspace.command("/cadence", "digest revoke not-a-link!", user="UADMIN", channel="C1")
    assert "paste a report link" in workspace.fake.responses()[-1]["text"]
