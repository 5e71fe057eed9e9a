"""Two installed workspaces whose channel and user ids collide on purpose, each running every ceremony.

Shared by the isolation and the uninstall tests. Each workspace writes its own word ("Aardvark" in TA, "Zebra" in
TB) into everything it stores, so that any text of one found in what the other was sent is a leak.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bot.devtools.fakeslack import Message
from bot.devtools.harness import Cadence
from bot.devtools.signed import Reply
from tests.platform import install
from tests.test_poker import vote
from tests.test_retro_steps import add_action, add_card, advance, start_retro, thread, vote_on
from tests.test_standup_flow import answer, set_up

TOKENS = {"TA": "xoxb-1111-aaaaaaaaaaaaaaaaaaaaaaaa", "TB": "xoxb-2222-bbbbbbbbbbbbbbbbbbbbbbbb"}
TEAM_OF_TOKEN = {token: team for team, token in TOKENS.items()}
WORDS = {"TA": "Aardvark", "TB": "Zebra"}
KEYS = {"TA": "AAR", "TB": "ZEB"}
OTHER = {"TA": "TB", "TB": "TA"}
STANDUP, POKER, RETRO = "C1", "C2", "C3"  # the same ids in both workspaces


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@dataclass
class Seen:
    """What each workspace's people were answered over HTTP and through response_urls (not tied to a token)."""

    texts: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    team: str | None = None


def two_workspaces(cadence: Cadence) -> Seen:
    """Install TA and TB (both with U1, U2, C1…) and record every reply the app gives, per workspace."""
    for team, token in TOKENS.items():
        page = install(cadence, team, token)
        assert page.status == 200, page.body
    cadence.fake.add_user("U1", "ada")
    cadence.fake.add_user("U2", "bob")
    for channel in (STANDUP, POKER, RETRO):
        cadence.fake.add_channel(channel)
    seen = Seen()
    post = cadence.slack.post

    def recording_post(*args: Any, **kwargs: Any) -> Reply:
        reply = post(*args, **kwargs)
        seen.texts[cadence.slack.team_id].append(reply.body.decode("utf-8", "replace"))
        return reply

    cadence.slack.post = recording_post  # type: ignore[method-assign]
    return seen


@contextmanager
def acting_in(cadence: Cadence, seen: Seen, team: str) -> Iterator[None]:
    """Everything sent to the app in the block comes from workspace `team`; responses meanwhile are its own."""
    cadence.settle()
    before = len(cadence.fake.responses())
    previous, cadence.slack.team_id = cadence.slack.team_id, team
    try:
        yield
    finally:
        cadence.settle()
        cadence.slack.team_id = previous
        seen.texts[team].extend(json.dumps(r, ensure_ascii=False) for r in cadence.fake.responses()[before:])


def messages_of(cadence: Cadence, team: str, channel: str, *, thread_ts: str | None = None,
                top_level: bool = False) -> list[Message]:
    return [m for m in cadence.fake.messages(channel, thread_ts=thread_ts, top_level=top_level) if m.team == team]


def prompt_in(cadence: Cadence, team: str, user: str) -> Message:
    prompts = [m for m in messages_of(cadence, team, cadence.fake.dm_channel(user)) if "Time for the" in m.text]
    assert prompts, f"no prompt for {user} in {team}"
    return prompts[-1]


def run_ceremonies(cadence: Cadence, seen: Seen, team: str) -> None:
    """In `team`: a stand-up set up, a blocker, a poker session with votes, a poll with votes, a retro with cards
    voted and an action item due tomorrow, and a sprint with a story; all texts carry the workspace's word."""
    word, key = WORDS[team], KEYS[team]
    with acting_in(cadence, seen, team):
        assert set_up(cadence, users=("U1", "U2")).status == 200

        cadence.command("/blocker", f"{word} staging is down, waiting on <@U1|ada>", user="U2", channel=STANDUP)

        cadence.command("/poker", f"{key}-1 {word} login, {key}-2 {word} logout", user="U1", channel=POKER)
        parent = next(m for m in messages_of(cadence, team, POKER, top_level=True) if "Planning poker" in m.all_text)
        story = messages_of(cadence, team, POKER, thread_ts=parent.ts)[0]
        vote(cadence, story, "5", user="U2")
        vote(cadence, story, "8", user="U1")

        cadence.command("/poll", f'"{word} lunch?" "{word} pizza" "{word} sushi" --close 2h', user="U1",
                        channel=POKER)
        poll = next(m for m in messages_of(cadence, team, POKER, top_level=True) if f"{word} lunch?" in m.all_text)
        choose(cadence, poll, f"{word} pizza", user="U2")

        start_retro(cadence, user="U1", channel=RETRO, anonymous=False, title=f"{word} retro", votes="2")
        add_card(cadence, "U2", 0, f"{word} deploys are calm", channel=RETRO)
        add_card(cadence, "U1", 1, f"{word} reviews are slow", channel=RETRO)
        advance(cadence, "U1", RETRO)  # reveal
        advance(cadence, "U1", RETRO)  # group
        advance(cadence, "U1", RETRO)  # vote
        vote_on(cadence, f"{word} reviews are slow", "U2", RETRO)
        advance(cadence, "U1", RETRO)  # discuss
        discussion = [m for m in thread(cadence, RETRO) if m.text.startswith("To discuss")]
        assert discussion, "nothing to discuss"
        add_action(cadence, discussion[0], "U1", text=f"{word} review rota", owner="U2", due="2026-12-02")

        cadence.command("/sprint", f'start "{word} sprint" --until 2026-12-04 --goal "{word} goal"', user="U1",
                        channel=STANDUP)
        cadence.command("/sprint", f"add {key}-7 3 {word} checkout", user="U1", channel=STANDUP)


def answer_standup(cadence: Cadence, seen: Seen, team: str) -> None:
    word = WORDS[team]
    with acting_in(cadence, seen, team):
        for user in ("U1", "U2"):
            reply = answer(cadence, user, [f"{word} yesterday {user}", f"{word} today {user}", ""],
                           message=prompt_in(cadence, team, user))
            assert reply.status == 200


def choose(cadence: Cadence, message: Message, option: str, *, user: str) -> None:
    for block in message.blocks:
        accessory = block.get("accessory") or {}
        if accessory.get("action_id", "").startswith("poll.vote.") and accessory["text"]["text"] == option:
            cadence.slack.block_action(accessory["action_id"], accessory["value"], user=user,
                                       channel=message.channel, message_ts=message.ts)
            cadence.settle()
            return
    raise AssertionError(f"no option {option!r} on the poll: {message.all_text}")


def calls_by_workspace(cadence: Cadence, since: int = 0) -> dict[str, list[str]]:
    """Every Web API call's arguments as text, by the workspace whose token made it."""
    found: dict[str, list[str]] = defaultdict(list)
    for call in cadence.fake.calls()[since:]:
        if call.method == "oauth.v2.access":
            continue
        assert call.token in TEAM_OF_TOKEN, f"{call.method} with a token of no workspace: {call.token!r}"
        found[TEAM_OF_TOKEN[call.token]].append(f"{call.method} {json.dumps(call.args, ensure_ascii=False)}")
    return found
