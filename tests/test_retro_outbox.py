"""What the retro sends on its own goes through the outbox: coalesced board redraws, owner DMs delivered once after a
refusal, and rows that never tie an anonymous card to its author."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from bot.devtools.harness import Cadence
from bot.views import retro as views
from storage import outbox
from tests.test_retro_steps import (
    CHANNEL,
    add_action,
    add_card,
    advance,
    board,
    start_retro,
    thread,
    vote_button_value,
)

AUTHOR = "U2"


def people(cadence: Cadence) -> None:
    for user in ("U1", AUTHOR, "U3"):
        cadence.fake.add_user(user)


def board_updates(cadence: Cadence) -> int:
    ts = board(cadence).ts
    return sum(1 for call in cadence.fake.calls("chat.update") if call.args.get("ts") == ts)


def test_a_burst_of_votes_redraws_the_board_once_with_every_vote(cadence: Cadence) -> None:
    people(cadence)
    start_retro(cadence, user="U1", votes="3")
    for text in ("Alpha", "Bravo", "Charlie"):
        add_card(cadence, AUTHOR, 0, text)
    for _ in range(3):
        advance(cadence, "U1")  # reveal, group, vote
    buttons = {text: vote_button_value(cadence, text) for text in ("Alpha", "Bravo", "Charlie")}
    before = board_updates(cadence)
    vote_ts = thread(cadence)[-1].ts
    # The clicks are answered before anything is delivered: their redraws wait in one outbox row.
    for user, text in (("U1", "Alpha"), ("U3", "Alpha"), (AUTHOR, "Bravo"), ("U3", "Charlie")):
        cadence.slack.block_action(views.VOTE, buttons[text], user=user, channel=CHANNEL, message_ts=vote_ts)
    cadence.executor.settle()
    cadence.settle()
    assert board_updates(cadence) == before + 1
    assert "3 people have voted" in board(cadence).all_text


def test_an_owner_dm_refused_by_slack_is_delivered_exactly_once_later(cadence: Cadence) -> None:
    people(cadence)
    start_retro(cadence, user="U1", anonymous=False)
    add_card(cadence, AUTHOR, 0, "Slow builds")
    for _ in range(4):
        advance(cadence, "U1")  # reveal, group, vote, discuss
    cadence.fake.fail("chat.postMessage", status=500)
    add_action(cadence, board(cadence), "U1", text="Cache the builds", owner="U3", due=None)
    assert cadence.fake.dms("U3") == []
    cadence.clock.advance(timedelta(seconds=6))
    cadence.settle()
    cadence.clock.advance(timedelta(minutes=5))
    cadence.settle()
    [dm] = cadence.fake.dms("U3")
    assert dm.text.startswith("You own an action item from the retro")
    assert dm.text.endswith("in <#CTEAM>: Cache the builds.")


def test_outbox_rows_of_an_anonymous_board_never_name_a_cards_author(cadence: Cadence) -> None:
    people(cadence)
    start_retro(cadence, user="U1", anonymous=True)
    add_card(cadence, AUTHOR, 0, "Deploys are calm")
    add_card(cadence, "U3", 1, "Reviews take days")
    for _ in range(4):
        advance(cadence, "U1")  # reveal, group, vote, discuss
    assert any("Deploys are calm" in m.all_text for m in thread(cadence))
    with cadence.db.reading() as session:
        rows = list(session.scalars(select(outbox.OutboxMessage)))
    assert rows
    for row in rows:
        stored = json.dumps([row.key, row.channel, row.payload, row.last_error])
        assert AUTHOR not in stored
        if row.render is not None:  # drawn when delivered: ids only, no card text
            assert "Deploys are calm" not in stored

