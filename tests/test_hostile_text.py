"""User text cannot ping a channel or hide a link: every `text` and every mrkdwn field the app sends escapes it, over
HTTP into the running app, whatever the ceremony."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.devtools.harness import Cadence
from bot.views.common import escape
from tests.tenancy import choose
from tests.test_poker import vote
from tests.test_retro_steps import add_card, start_retro
from tests.test_standup_flow import answer, set_up, team

TRAP = "<!channel> <!here> <!everyone> <!subteam^S1> <http://evil.example|click> & <b>"
RAW = ("<!channel", "<!here", "<!everyone", "<!subteam", "<http", "<b>")


def formatted(node: Any) -> list[str]:
    """Every text Slack formats in a payload: a top-level `text` and each mrkdwn text (plain_text shows as typed)."""
    if isinstance(node, dict):
        found = [node["text"]] if isinstance(node.get("text"), str) and node.get("type") != "plain_text" else []
        return found + [t for key, value in node.items() if key != "text" or not isinstance(value, str)
                        for t in formatted(value)]
    if isinstance(node, list):
        return [text for item in node for text in formatted(item)]
    return []


def everything_sent(cadence: Cadence) -> list[str]:
    """Every formatted text in what the app sent: posts, updates, ephemerals, DMs, views, response_url answers."""
    cadence.settle()
    sent = ["\n".join(formatted(call.args)) for call in cadence.fake.calls()
            if call.method in ("chat.postMessage", "chat.update", "chat.postEphemeral", "views.open",
                               "views.update", "views.push", "views.publish")]
    return sent + ["\n".join(formatted(response)) for response in cadence.fake.responses()]


def assert_no_raw_tokens(cadence: Cadence, *, expected: str) -> None:
    texts = everything_sent(cadence)
    assert any(expected in text for text in texts), f"{expected!r} was never sent"
    for text in texts:
        for token in RAW:
            assert token not in text, f"raw {token!r} in {text!r}"


def test_a_blocker_keeps_the_owner_mention_and_neutralises_the_rest(cadence: Cadence) -> None:
    team(cadence)
    cadence.command("/blocker", f"waiting on <@U2|bob> {TRAP} db down", user="U1", channel="C1")
    [card] = [m for m in cadence.fake.messages("C1") if "Blocker #1" in m.text]
    assert "<@U2>" in card.text, card.text  # the owner picked with @bob stays a mention, in the text too
    assert "&lt;!channel&gt;" in card.text
    cadence.slack.click(card, "blocker.help", user="U3")
    cadence.settle()
    cadence.command("/blocker", "list", user="U1", channel="C1")
    cadence.command("/blocker", "resolve 1", user="U2", channel="C1")
    assert_no_raw_tokens(cadence, expected="db down")


def test_poker_poll_sprint_and_retro_escape_every_text(cadence: Cadence) -> None:
    team(cadence)
    cadence.fake.add_channel("C2", "planning")
    cadence.command("/poker", f"PAY-1 {TRAP} login", user="U1", channel="C2")
    parent = next(m for m in cadence.fake.messages("C2", top_level=True) if "Planning poker" in m.all_text)
    story = cadence.fake.messages("C2", thread_ts=parent.ts)[0]
    vote(cadence, story, "5", user="U2")
    cadence.command("/poll", f'"{TRAP} lunch?" "<!here> pizza" "sushi"', user="U1", channel="C2")
    poll = next(m for m in cadence.fake.messages("C2", top_level=True) if "lunch?" in m.all_text)
    choose(cadence, poll, "sushi", user="U2")
    cadence.command("/sprint", f'start "<!channel> <http://evil.example|click> sprint" --until 2026-12-04 --goal "{TRAP} goal"', user="U1",
                    channel="C1")
    cadence.command("/sprint", f"add PAY-7 3 {TRAP} checkout", user="U1", channel="C1")
    cadence.command("/sprint", "status", user="U1", channel="C1")
    start_retro(cadence, user="U1", channel="C1", anonymous=False, title=f"{TRAP} retro")
    add_card(cadence, "U2", 0, f"{TRAP} deploys", channel="C1")
    assert_no_raw_tokens(cadence, expected="lunch?")
    assert any("started" in text and "&lt;!channel&gt;" in text for text in everything_sent(cadence))


def test_a_standup_blocker_answer_escapes_the_report_and_the_blocker_card(cadence: Cadence) -> None:
    team(cadence)
    set_up(cadence, users=("U1", "U2"))
    cadence.tick(datetime(2026, 12, 1, 8, 30, tzinfo=UTC))
    reply = answer(cadence, "U1", ["shipped", f"{TRAP} today", f"{TRAP} staging is down"])
    assert reply.status == 200
    cadence.tick(datetime(2026, 12, 1, 9, 30, tzinfo=UTC))
    assert any("Blocker #" in m.text for m in cadence.fake.messages("C1")), "no blocker card"
    assert_no_raw_tokens(cadence, expected="staging is down")


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("<>&!|@^ hUS1x:/")), max_size=40))
def test_escaped_text_holds_no_angle_brackets_and_reads_back_the_same(text: str) -> None:
    escaped = escape(text)
    assert "<" not in escaped
    assert ">" not in escaped
    unescaped = escaped.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    assert unescaped == text


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("<>&!|@^ hUS1x:/")), max_size=40), st.sampled_from(["U1", "W2AB"]))
def test_kept_mentions_are_only_the_people_mentioned(text: str, user: str) -> None:
    escaped = escape(f"{text} <@{user}|dana> {text}", mentions=True)
    assert f"<@{user}>" in escaped
    assert "<" not in escaped.replace(f"<@{user}>", "")
    assert ">" not in escaped.replace(f"<@{user}>", "")
