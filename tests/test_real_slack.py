"""Issue 14, what the strict fake Slack catches that a kind one would not: confirmations through the response_url,
nothing slow before an ack or a views.open, dead tokens, uploads where the bot is not a member, lists cut by count,
every message's text, and Socket Mode."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy import text

from bot.devtools.fakeslack import FakeSlack, text_of
from bot.devtools.harness import Cadence, FrozenClock
from bot.devtools.signed import SocketModeSender, form
from bot.views import polls as poll_views
from bot.views import retro as retro_views
from bot.views import standup as standup_views
from bot.views.common import SLACK_SLOW, fit_list
from ceremonies.polls import OptionTally, Tally
from storage.polls import PollState
from tests.platform import install, start_multi
from tests.tenancy import utc
from tests.test_poker import vote
from tests.test_retro_steps import add_card, advance, start_retro

ROOT = Path(__file__).resolve().parent.parent
T = TypeVar("T")
IN, OUT = "CIN", "COUT"
TOKEN_A = "xoxb-1111-aaaaaaaaaaaaaaaaaaaaaaaa"
TOKEN_B = "xoxb-2222-bbbbbbbbbbbbbbbbbbbbbbbb"


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    """Strict: only the conversations declared here exist for the bot."""
    server = FakeSlack().start()
    for user in ("U1", "U2", "U3"):
        server.add_user(user, user.lower())
    server.add_channel(IN, "team")
    server.add_channel(OUT, "general", is_member=False)
    yield server
    server.stop()
    assert server.violations == []


def rows(cadence: Cadence, table: str) -> int:
    with cadence.db.reading() as session:
        return int(session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def said_to(cadence: Cadence, user: str) -> str:
    """Everything `user` read privately: response_url answers, ephemerals and their DM."""
    said = [text_of(r) + "\n" + r.get("text", "") for r in cadence.fake.responses(user)]
    said += [e.get("text", "") for e in cadence.fake.ephemerals(user)]
    said += [m.all_text for m in cadence.fake.dms(user)]
    return "\n".join(said)


# -- 1. confirmations through the response_url (issue items 1 and 5) -----------------------------------------------


def test_a_vote_where_the_bot_is_no_longer_a_member_is_confirmed_and_the_story_redrawn(cadence: Cadence) -> None:
    cadence.command("/poker", "PAY-1 Checkout", channel=OUT)  # the bot joins the public channel to post the story
    story = next(m for m in cadence.fake.messages(OUT) if "PAY-1" in m.all_text)
    cadence.fake.channels[OUT]["is_member"] = False  # and someone removed it since
    vote(cadence, story, "5", user="U2")
    assert [r["text"] for r in cadence.fake.responses("U2")] == ["Your vote on PAY-1 Checkout: 5"]
    assert cadence.fake.calls("chat.postEphemeral") == []
    assert "*Votes (1)*: <@U2>" in cadence.fake.message(OUT, story.ts).all_text  # redrawn at once
    assert "Something went wrong" not in said_to(cadence, "U2")


def test_the_standup_saved_confirmation_reaches_a_person_in_a_channel_the_bot_is_not_in(cadence: Cadence) -> None:
    cadence.command("/standup", "setup", channel=OUT)
    modal = cadence.fake.last_view()
    cadence.fake.channels[OUT]["is_member"] = False
    values = form(modal, participants={"selected_users": ["U1"]},
                  report_channel={"selected_conversation": IN})
    reply = cadence.slack.view_submission(modal, values)
    cadence.settle()
    assert reply.body in (b"", b"null")
    assert "Stand-up saved" in cadence.fake.responses("U1")[-1]["text"]  # the command's response_url
    assert cadence.fake.calls("chat.postEphemeral") == []
    assert cadence.fake.dms("U1") == []


def test_blocker_settings_are_confirmed_through_the_commands_response_url(cadence: Cadence) -> None:
    cadence.command("/blocker", "settings", channel=IN)
    modal = cadence.fake.last_view()
    cadence.fake.channels[IN]["is_member"] = False
    cadence.slack.view_submission(modal, form(modal))
    cadence.settle()
    assert "Blocker settings for <#CIN> saved" in said_to(cadence, "U1")
    assert cadence.fake.calls("chat.postEphemeral") == []


# -- 2. nothing slow before an ack or a views.open (issue item 4) ---------------------------------------------------


def test_standup_setup_opens_its_modal_while_slack_takes_more_than_3_s_for_users_and_groups(cadence: Cadence) -> None:
    cadence.command("/standup", "setup", channel=IN, user="U2")
    modal = cadence.fake.last_view()
    cadence.slack.view_submission(modal, form(modal, participants={"selected_users": ["U2"]}), user="U2")
    cadence.settle()
    cadence.fake.usergroups["S1"] = ["U1"]
    cadence.fake.latency.update({"users.info": 3.2, "usergroups.list": 3.2})
    opened = len(cadence.fake.views())
    cadence.command("/standup", "setup", channel=IN, user="U1")  # not the owner: users.info says whether an admin
    assert len(cadence.fake.views()) == opened + 1
    assert [c.method for c in cadence.fake.calls() if c.method.startswith("views.")][-2:] == ["views.open",
                                                                                              "views.update"]
    assert "Only the stand-up's owner (<@U2>)" in text_of(cadence.fake.last_view())


def test_blocker_settings_open_at_once_while_slack_takes_more_than_3_s_to_say_who_is_an_admin(
        cadence: Cadence) -> None:
    cadence.command("/standup", "setup", channel=IN, user="U2")  # U2 facilitates the team of CIN
    modal = cadence.fake.last_view()
    cadence.slack.view_submission(modal, form(modal, participants={"selected_users": ["U2"]}), user="U2")
    cadence.settle()
    cadence.fake.latency["users.info"] = 3.2
    cadence.command("/blocker", "settings", channel=IN, user="U1")
    methods = [c.method for c in cadence.fake.calls() if c.method.startswith("views.")]
    assert methods[-2:] == ["views.open", "views.update"]
    assert "Only the team's facilitator (<@U2>)" in text_of(cadence.fake.last_view())


def test_a_modal_checked_with_slack_before_its_ack_never_sleeps_on_a_429(cadence: Cadence) -> None:
    cadence.command("/retro", channel=OUT)
    modal = cadence.fake.last_view()
    cadence.fake.fail("conversations.info", status=429, retry_after=30)
    reply = cadence.slack.view_submission(modal, form(modal))
    cadence.settle()
    assert reply.json["response_action"] == "errors"
    assert SLACK_SLOW in str(reply.json["errors"])
    assert len(cadence.fake.calls("conversations.info")) == 1  # Slack's first answer, no retry after 30 s
    assert rows(cadence, "retro_boards") == 0
    reply = cadence.slack.view_submission(modal, form(modal))  # pressed again once Slack answers
    cadence.settle()
    assert rows(cadence, "retro_boards") == 1


def test_a_modal_whose_slack_check_runs_past_its_budget_says_so_and_saves_nothing(cadence: Cadence) -> None:
    cadence.slack.shortcut("blocker.flag", message={"ts": "1796108000.000100", "text": "CI is red", "user": "U1"},
                           channel=IN)
    cadence.settle()
    modal = cadence.fake.last_view()
    cadence.fake.latency["users.info"] = 2.6  # past the 2 s the checks before an ack may take
    reply = cadence.slack.view_submission(modal, form(modal, **{"blocker.owner": {"selected_user": "U3"}}))
    cadence.settle()
    assert reply.json["response_action"] == "errors"
    assert SLACK_SLOW in str(reply.json["errors"])
    assert rows(cadence, "blockers") == 0


# -- 5. lists cut by count; the setup modal keeps who it cannot show (issue item 10) ---------------------------------


def participants(cadence: Cadence) -> list[str]:
    from storage import standup as store

    with cadence.db.reading() as session:
        standup = store.get_standup(session, team_id="T1", channel_id=IN)
        assert standup is not None
        return list(store.config_of(session, standup).participants)


def test_the_setup_modal_keeps_every_participant_beyond_the_100_it_can_show(cadence: Cadence) -> None:
    everyone = [f"U{n:03d}" for n in range(100, 250)]
    cadence.command("/standup", "setup", channel=IN)
    modal = cadence.fake.last_view()
    cadence.slack.view_submission(modal, form(modal, participants={"selected_users": everyone}))
    cadence.settle()
    assert sorted(participants(cadence)) == everyone

    cadence.command("/standup", "setup", channel=IN)  # opened again: Slack pre-fills at most 100
    modal = cadence.fake.last_view()
    field = next(b for b in modal["blocks"] if b.get("block_id") == standup_views.B_PARTICIPANTS)
    assert len(field["element"]["initial_users"]) == 100
    assert "Showing 100 of 150: the other 50 stay on the stand-up" in text_of(field)
    reply = cadence.slack.view_submission(modal, form(modal))  # saved as it opened
    cadence.settle()
    assert reply.body in (b"", b"null")
    assert sorted(participants(cadence)) == everyone

    shown = field["element"]["initial_users"]
    cadence.command("/standup", "setup", channel=IN)
    modal = cadence.fake.last_view()
    cadence.slack.view_submission(modal, form(modal, participants={"selected_users": shown[1:]}))  # one removed
    cadence.settle()
    assert sorted(participants(cadence)) == sorted(set(everyone) - {shown[0]})


# -- 3. a dead token without an app_uninstalled event (issue item 7) ------------------------------------------------


@pytest.fixture
def multi(fake: FakeSlack, db_url: str, clock: FrozenClock) -> Iterator[Cadence]:
    app = start_multi(fake, db_url, clock)
    yield app
    app.stop()


def standup_in(cadence: Cadence, team: str) -> None:
    cadence.command("/standup", "setup", channel=IN, team=team)
    modal = cadence.fake.last_view()
    reply = cadence.slack.view_submission(modal, form(modal, participants={"selected_users": ["U1", "U2"]}),
                                          team=team)
    cadence.settle()
    assert reply.body in (b"", b"null"), reply.text


def prompted(cadence: Cadence, token: str, since: int) -> set[str]:
    return {str(c.args.get("channel")) for c in cadence.fake.calls("chat.postMessage")[since:]
            if c.token == token and "Time for the" in str(c.args.get("text"))}


@pytest.mark.parametrize("how", ["token_revoked", "invalid_auth", "account_inactive"])
def test_a_token_slack_refuses_uninstalls_at_the_next_tick_and_a_reinstall_resumes_the_schedule(
        multi: Cadence, how: str) -> None:
    install(multi, "TA", TOKEN_A)
    install(multi, "TB", TOKEN_B)
    standup_in(multi, "TA")
    standup_in(multi, "TB")
    multi.fake.revoke(TOKEN_A, how)  # no app_uninstalled event comes

    multi.tick(utc(2026, 12, 1, 8, 30))  # 09:30 in Berlin: the prompts are due
    assert not multi.runtime.is_active("TA")
    assert multi.runtime.is_active("TB")
    refused = len([c for c in multi.fake.calls() if c.token == TOKEN_A])

    since = len(multi.fake.calls("chat.postMessage"))
    for day in (2, 3):
        multi.tick(utc(2026, 12, day, 8, 30))
        multi.tick(utc(2026, 12, day, 12, 0))
    assert len([c for c in multi.fake.calls() if c.token == TOKEN_A]) == refused  # no call with the dead token
    assert prompted(multi, TOKEN_B, since) == {"U1", "U2"}

    install(multi, "TA", "xoxb-1111-again")
    since = len(multi.fake.calls("chat.postMessage"))
    multi.tick(utc(2026, 12, 4, 8, 30))
    # Nobody was taken for gone (account_inactive is the app's bot user, not a participant): both are prompted.
    assert prompted(multi, "xoxb-1111-again", since) == {"U1", "U2"}
    assert not [m for m in multi.fake.calls("chat.postMessage") if "no longer" in str(m.args.get("text"))]


# -- 4. files where the bot is not a member (issue item 3) ----------------------------------------------------------


def shared(cadence: Cadence, channel: str) -> list[dict[str, object]]:
    """Files shared in `channel` (an upload whose completion Slack refused was never shared)."""
    return [u for u in cadence.fake.state.uploads.values() if u.get("channel") == channel]


def retro_in(cadence: Cadence, channel: str) -> None:
    cadence.command("/retro", channel=channel)
    modal = cadence.fake.last_view()
    cadence.slack.view_submission(modal, form(modal))
    cadence.settle()
    assert rows(cadence, "retro_boards") == 1


def test_retro_export_joins_a_public_channel_it_was_removed_from_before_sharing(cadence: Cadence) -> None:
    retro_in(cadence, OUT)
    cadence.fake.channels[OUT]["is_member"] = False
    cadence.command("/retro", "export", channel=OUT)
    assert [c.args["channel"] for c in cadence.fake.calls("conversations.join")][-1] == OUT
    [export] = shared(cadence, OUT)
    assert export["content"].startswith(b"# ")  # type: ignore[union-attr]
    assert "Something went wrong" not in said_to(cadence, "U1")


def test_retro_export_in_a_private_channel_it_was_removed_from_says_invite_in_one_line(cadence: Cadence) -> None:
    cadence.fake.add_channel("GSECRET", "secret", private=True)
    retro_in(cadence, "GSECRET")
    cadence.fake.channels["GSECRET"]["is_member"] = False
    cadence.command("/retro", "export", channel="GSECRET")
    assert shared(cadence, "GSECRET") == []
    [told] = [r["text"] for r in cadence.fake.responses("U1")]
    assert "/invite @Cadence" in told
    assert "\n" not in told


def sprint_until_friday(cadence: Cadence, channel: str) -> None:
    cadence.clock.set(utc(2026, 11, 30, 8, 0))
    cadence.command("/sprint", 'start "Sprint 14" --until 2026-12-04', user="U1", channel=channel)
    assert rows(cadence, "sprints") == 1


def participation_dms(cadence: Cadence) -> list[str]:
    return [m.all_text for m in cadence.fake.dms("U1") if "stand-up participation per person" in m.all_text]


def test_the_sprint_chart_joins_a_public_channel_it_was_removed_from_and_carries_alt_text(cadence: Cadence) -> None:
    sprint_until_friday(cadence, OUT)
    cadence.fake.channels[OUT]["is_member"] = False  # the summary still goes (chat:write.public), the chart can't
    cadence.tick(utc(2026, 12, 4, 23, 0))  # midnight after the last day in Berlin
    [summary] = [m for m in cadence.fake.messages(OUT) if "Sprint 14 · summary" in m.all_text]
    [chart] = shared(cadence, OUT)
    assert chart["thread_ts"] == summary.ts
    assert str(chart["alt_txt"]).startswith("Burn-up of Sprint 14: ")  # what a screen reader says
    assert cadence.fake.conversation(OUT)["is_member"]  # type: ignore[index]
    assert len(participation_dms(cadence)) == 1


def test_a_sprint_chart_slack_refuses_never_stops_the_facilitators_participation_dm(cadence: Cadence) -> None:
    cadence.fake.add_channel("GSECRET", "secret", private=True)
    sprint_until_friday(cadence, "GSECRET")
    cadence.fake.fail("files.completeUploadExternal", error="channel_not_found", times=50)
    cadence.tick(utc(2026, 12, 4, 23, 0))
    assert [m for m in cadence.fake.messages("GSECRET") if "Sprint 14 · summary" in m.all_text]
    assert shared(cadence, "GSECRET") == []
    assert len(participation_dms(cadence)) == 1


# -- 6. Socket Mode end to end ---------------------------------------------------------------------------------------


def eventually(found: Callable[[], T | None], process: subprocess.Popen[str], what: str, limit: float = 30.0) -> T:
    """What `found` returns once the served process did it (bounded); its output if it died or never did."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if (result := found()) is not None:
            return result
        if process.poll() is not None:
            break
        time.sleep(0.05)  # waiting for another process to act, not for time to pass
    process.terminate()
    output = process.communicate(timeout=30)[0]
    raise AssertionError(f"cadence serve never {what}:\n{output[-3000:]}")


def test_cadence_serve_over_socket_mode_answers_a_command_and_a_button(fake: FakeSlack, db_url: str,
                                                                       tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "SLACK_BOT_TOKEN": "xoxb-socket",
           "SLACK_APP_TOKEN": "xapp-1-A1-socket", "CADENCE_ANONYMITY_SECRET": "socket-test-anonymity-secret",
           "SLACK_API_URL": fake.api_url, "DATABASE_URL": db_url}
    process = subprocess.Popen([sys.executable, "-m", "bot", "serve"], cwd=tmp_path, env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        eventually(lambda: fake.socket_mode().connections or None, process, "connected")
        [opened] = fake.calls("apps.connections.open")
        assert opened.token == "xapp-1-A1-socket"  # the app-level token, never the bot's
        slack = SocketModeSender(fake)

        reply = slack.command("/poll", '"Lunch?" "Pizza" "Sushi"', channel=IN)  # acknowledged over the socket
        assert reply.status == 200
        poll = eventually(lambda: next((m for m in fake.messages(IN) if "Lunch?" in m.all_text), None), process,
                          "posted the poll")
        assert poll.text  # says what it is to a screen reader
        pizza = next(b["accessory"] for b in poll.blocks if (b.get("accessory") or {}).get("text", {}).get("text")
                     == "Pizza")
        slack.block_action(pizza["action_id"], pizza["value"], channel=IN, message_ts=poll.ts, user="U2")
        eventually(lambda: fake.responses("U2") or None, process, "confirmed the vote")
        eventually(lambda: "<@U2>" in fake.message(IN, poll.ts).all_text or None, process, "redrew the poll")
    finally:
        process.terminate()
        process.wait(timeout=30)


MENTION = re.compile(r"<@U\d+>")


def test_a_list_is_cut_by_count_with_how_many_more_never_inside_an_item() -> None:
    people = [f"<@U{n:08d}>" for n in range(300)]
    line = fit_list(people, prefix="*Votes (300)*: ", limit=200)
    assert len(line) <= 200
    shown = line.removeprefix("*Votes (300)*: ").split(", ")
    assert shown[-1] == f"+{300 - len(shown[:-1])} more"
    assert shown[:-1] == people[: len(shown) - 1]  # whole mentions, in order
    assert fit_list(people[:3], limit=200) == "<@U00000000>, <@U00000001>, <@U00000002>"
    assert fit_list(people, limit=200, max_items=2) == "<@U00000000>, <@U00000001>, +298 more"


def test_a_300_voter_poll_names_whole_voters_and_how_many_more() -> None:
    voters = tuple(f"U{n:08d}" for n in range(300))
    state = PollState(poll_id=1, team_id="T1", channel_id=IN, creator_id="U1", question="Lunch?", multi=False,
                      anonymous=False, closes_at=None, closed=False, message_ts="1.1", option_ids=(1, 2),
                      tally=Tally(options=(OptionTally("Pizza", 300, voters), OptionTally("Sushi", 0)), voters=300))
    text, blocks = poll_views.poll_message(state)
    pizza = next(b["text"]["text"] for b in blocks if "Pizza" in (b.get("text") or {}).get("text", ""))
    assert len(pizza) <= 3000
    names = pizza.split("\n")[-1]
    assert re.fullmatch(r"(<@U\d{8}>, )+\+\d+ more", names)
    assert int(names.rsplit("+", 1)[1].split()[0]) == 300 - len(MENTION.findall(names))
    assert "Lunch?" in text


def test_retro_actions_keeps_its_own_and_n_more_however_long_the_items() -> None:
    items = [retro_views.ActionLine("&" * 200, f"U{n:08d}", None) for n in range(25)]  # & escapes to &amp;
    blocks = retro_views.actions_list_blocks(items, channel_id=IN)
    listed = blocks[-1]["text"]["text"]
    assert len(listed) <= 3000
    lines = listed.split("\n")
    assert lines[-1] == f"…and {25 - len(lines[:-1])} more."
    assert all(line.endswith(">") for line in lines[:-1])  # every shown item whole, its owner's mention too


PLACEHOLDERS = {"the cards", "vote on the cards", "the votes", "message", "cadence", "new message", "update"}
RAW = ("<!channel", "<!here", "<!everyone", "<http", "<b>")
TRAP = "<!channel> <!here> <http://evil.example|click> & <b>"


def test_every_message_says_what_it_is_in_its_text(cadence: Cadence) -> None:
    cadence.command("/standup", "setup", channel=IN)
    modal = cadence.fake.last_view()
    cadence.slack.view_submission(modal, form(modal, participants={"selected_users": ["U1", "U2"]}))
    cadence.settle()
    cadence.tick(utc(2026, 12, 1, 8, 30))
    cadence.command("/poker", f"PAY-1 {TRAP} login", channel=IN)
    story = next(m for m in cadence.fake.messages(IN) if "PAY-1" in m.all_text)
    vote(cadence, story, "5", user="U2")
    cadence.command("/poll", f'"{TRAP} lunch?" "pizza" "sushi"', channel=IN)
    cadence.command("/blocker", f"{TRAP} the deploy is stuck", channel=IN)
    cadence.command("/sprint", f'start "{TRAP} sprint" --until 2026-12-04', channel=IN)
    start_retro(cadence, channel=IN, anonymous=False, title=f"{TRAP} retro")
    add_card(cadence, "U2", 0, f"{TRAP} deploys", channel=IN)
    advance(cadence, "U1", channel=IN)  # the cards are revealed in the board's thread
    cadence.tick(utc(2026, 12, 4, 23, 0))  # the sprint ends: summary, chart, the facilitator's DM
    cadence.settle()

    sent = [(c.method, c.args) for c in cadence.fake.calls()
            if c.method in ("chat.postMessage", "chat.update", "chat.postEphemeral")]
    sent += [("response_url", r) for r in cadence.fake.responses() if not r.get("delete_original")]
    assert len(sent) >= 15
    for method, args in sent:
        said = str(args.get("text") or "").strip()
        assert len(said) >= 8, f"{method} with text {said!r}: {text_of(args)[:200]}"
        assert said.lower().rstrip(".") not in PLACEHOLDERS, f"{method} says only {said!r}"
        assert not [token for token in RAW if token in said], f"{method} sent raw user text: {said!r}"
    assert any("Retro" in str(args.get("text")) and "the cards" in str(args.get("text")) for _m, args in sent)


# -- 9. the manifest asks for what is used (issue item 9) -----------------------------------------------------------


def test_the_messages_tab_is_read_only_and_no_reply_event_is_asked_for() -> None:
    import yaml

    manifest = yaml.safe_load((ROOT / "manifest.yml").read_text(encoding="utf-8"))
    assert manifest["features"]["app_home"]["messages_tab_read_only_enabled"] is True
    assert not [e for e in manifest["settings"]["event_subscriptions"]["bot_events"] if e.startswith("message")]
    # im:write is asked for because the outbox opens the app's DM with a person (conversations.open) to look for a
    # DM it may already have sent; no other write scope on DMs.
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert "mpim:write" not in scopes
    assert "open_dm(" in (ROOT / "bot" / "jobs" / "outbox.py").read_text(encoding="utf-8")
