"""Every entry point, in every kind of conversation, against the strict fake Slack: it works, or the person is told
in one line to `/invite @Cadence` and nothing is half-saved (issue 14)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import text

from bot.devtools.fakeslack import FakeSlack, text_of
from bot.devtools.harness import Cadence
from bot.devtools.signed import form
from tests.test_poker import vote

IN, OUT, PRIVATE, DM = "CIN", "COUT", "GPRIVATE", "DPEOPLE"
CELLS = [IN, OUT, PRIVATE, DM]
WORKS = {IN, OUT}  # the bot is in the first and joins the second (channels:join)
INVITE = "/invite @Cadence"


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    """Strict: only the conversations declared here exist for the bot."""
    server = FakeSlack().start()
    server.add_user("U1", "ana")
    server.add_channel(IN, "team")
    server.add_channel(OUT, "general", is_member=False)
    server.add_channel(PRIVATE, "secret", private=True, is_member=False)
    server.add_channel(DM, kind="im", is_member=False)  # a DM between two people, the bot not in it
    yield server
    server.stop()
    assert server.violations == []


def rows(cadence: Cadence, table: str) -> int:
    with cadence.db.reading() as session:
        return int(session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def told(cadence: Cadence, reply: object = None) -> str:
    """Everything the person read: the reply, response_url answers, ephemerals and their DM."""
    said = [getattr(reply, "text", "")] if reply is not None else []
    said += [text_of(r) + r.get("text", "") for r in cadence.fake.responses()]
    said += [e.get("text", "") for e in cadence.fake.ephemerals("U1")]
    said += [m.all_text for m in cadence.fake.dms("U1")]
    return "\n".join(said)


def posted(cadence: Cadence, channel: str) -> str:
    return "\n".join(m.all_text for m in cadence.fake.messages(channel))


@pytest.mark.parametrize("channel", CELLS)
def test_cadence_help_answers_everywhere(cadence: Cadence, channel: str) -> None:
    reply = cadence.command("/cadence", "help", channel=channel)
    assert "/standup" in reply.text
    assert cadence.fake.calls("chat.postMessage") == []


@pytest.mark.parametrize("channel", CELLS)
def test_poll(cadence: Cadence, channel: str) -> None:
    reply = cadence.command("/poll", '"Lunch?" "Pizza" "Sushi"', channel=channel)
    if channel in WORKS:
        assert "Lunch?" in posted(cadence, channel)
        assert rows(cadence, "polls") == 1
    else:
        assert INVITE in told(cadence, reply)
        assert rows(cadence, "polls") == 0


@pytest.mark.parametrize("channel", CELLS)
def test_poker_and_its_vote_confirmations(cadence: Cadence, channel: str) -> None:
    reply = cadence.command("/poker", "PAY-1 Checkout", channel=channel)
    if channel not in WORKS:
        assert INVITE in told(cadence, reply)
        assert rows(cadence, "poker_sessions") == 0
        return
    assert rows(cadence, "poker_sessions") == 1
    story = next(m for m in cadence.fake.messages(channel) if "PAY-1" in m.all_text)
    vote(cadence, story, "5", user="U1")
    assert [r["text"] for r in cadence.fake.responses("U1")] == ["Your vote on PAY-1 Checkout: 5"]  # privately
    assert cadence.fake.ephemerals("U1") == []
    assert "Something went wrong" not in told(cadence)


@pytest.mark.parametrize("channel", CELLS)
def test_sprint_start_and_end(cadence: Cadence, channel: str) -> None:
    reply = cadence.command("/sprint", 'start "Sprint 14" --until 2026-12-09', channel=channel)
    if channel not in WORKS:
        assert INVITE in told(cadence, reply)
        assert rows(cadence, "sprints") == 0
        cadence.command("/sprint", "end", channel=channel)
        assert rows(cadence, "sprints") == 0
        return
    assert "Sprint 14" in posted(cadence, channel)
    cadence.command("/sprint", "end", channel=channel)
    assert "Sprint 14" in told(cadence)
    with cadence.db.reading() as session:
        assert session.execute(text("SELECT ended_at IS NOT NULL FROM sprints")).scalar_one()
    assert "Something went wrong" not in told(cadence)


@pytest.mark.parametrize("channel", CELLS)
def test_retro(cadence: Cadence, channel: str) -> None:
    cadence.command("/retro", channel=channel)
    modal = cadence.fake.last_view()  # a modal opens anywhere: the trigger needs no membership
    reply = cadence.slack.view_submission(modal, form(modal))
    cadence.settle()
    if channel in WORKS:
        assert rows(cadence, "retro_boards") == 1
        assert cadence.fake.messages(channel)
    else:
        assert INVITE in str(reply.json["errors"])
        assert rows(cadence, "retro_boards") == 0


@pytest.mark.parametrize("channel", CELLS)
def test_blocker_is_kept_and_posted_or_the_reporter_told(cadence: Cadence, channel: str) -> None:
    reply = cadence.command("/blocker", "the deploy is stuck", channel=channel)
    assert rows(cadence, "blockers") == 1  # a blocker is the person's, kept even where it cannot be shown
    if channel in WORKS:
        assert "the deploy is stuck" in posted(cadence, channel)
    else:
        assert INVITE in told(cadence, reply)


@pytest.mark.parametrize("channel", CELLS)
def test_flag_as_blocker(cadence: Cadence, channel: str) -> None:
    cadence.slack.shortcut("blocker.flag", message={"ts": "1796108000.000100", "text": "CI is red", "user": "U1"},
                           channel=channel)
    cadence.settle()
    modal = cadence.fake.last_view()
    cadence.slack.view_submission(modal, form(modal))
    cadence.settle()
    assert rows(cadence, "blockers") == 1
    if channel in WORKS:
        assert "CI is red" in posted(cadence, channel)
    else:
        assert INVITE in told(cadence)
    assert "Something went wrong" not in told(cadence)


@pytest.mark.parametrize("channel", CELLS)
def test_standup_setup_opens_its_modal_first(cadence: Cadence, channel: str) -> None:
    cadence.fake.usergroups["S1"] = ["U1"]
    cadence.command("/standup", "setup", channel=channel)
    methods = [c.method for c in cadence.fake.calls() if c.method in ("views.open", "usergroups.list", "views.update")]
    assert methods == ["views.open", "usergroups.list", "views.update"]
    assert "@s1" in text_of(cadence.fake.last_view())


@pytest.mark.parametrize("channel", CELLS)
def test_standup_now_without_a_standup_says_so(cadence: Cadence, channel: str) -> None:
    reply = cadence.command("/standup", "now", channel=channel)
    assert told(cadence, reply).strip()
    assert "Something went wrong" not in told(cadence, reply)
    assert rows(cadence, "standup_runs") == 0


@pytest.mark.parametrize("channel", CELLS)
def test_standup_setup_saved_or_refused_inline(cadence: Cadence, channel: str) -> None:
    cadence.command("/standup", "setup", channel=channel)
    modal = cadence.fake.last_view()
    reply = cadence.slack.view_submission(modal, form(modal, participants={"selected_users": ["U1"]}))
    cadence.settle()
    if channel in WORKS:  # the report goes to the channel itself: the bot joins a public one
        assert reply.body in (b"", b"null")
        assert rows(cadence, "standups") == 1
        assert cadence.fake.conversation(channel)["is_member"]
        assert "Stand-up saved" in told(cadence)
    else:
        assert INVITE in str(reply.json["errors"])
        assert rows(cadence, "standups") == 0


@pytest.mark.parametrize("channel", CELLS)
def test_blocker_list_answers_everywhere(cadence: Cadence, channel: str) -> None:
    reply = cadence.command("/blocker", "list", channel=channel)
    assert told(cadence, reply).strip()
    assert "Something went wrong" not in told(cadence, reply)
