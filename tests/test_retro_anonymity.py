"""Anonymity is a promise: a whole anonymous retro, then a search of everything Slack, the logs and the database saw."""

from __future__ import annotations

import json
import logging

import pytest
from sqlalchemy import select, text

from bot.devtools.harness import Cadence
from bot.views import retro as views
from ceremonies import retro as domain
from storage import retro as store
from storage.schema import metadata
from tests.test_retro_steps import (
    CHANNEL,
    add_action,
    add_card,
    advance,
    board,
    click,
    start_retro,
    text_input,
    thread,
    vote_on,
)

AUTHOR, AUTHOR_NAME = "U2", "bobby"


def leaks(haystack: str, needles: tuple[str, ...] = (AUTHOR, AUTHOR_NAME, AUTHOR_NAME.title())) -> list[str]:
    return [needle for needle in needles if needle in haystack]


def test_an_anonymous_retro_never_reveals_who_wrote_a_card(cadence: Cadence, caplog: pytest.LogCaptureFixture
                                                           ) -> None:
    caplog.set_level(logging.DEBUG)
    cadence.fake.add_user("U1", "alice")
    cadence.fake.add_user(AUTHOR, AUTHOR_NAME)
    cadence.fake.add_user("U3", "carol")
    start_retro(cadence, user="U1", anonymous=True)
    assert "anonymous cards" in board(cadence).all_text

    # The author writes, rereads, edits and deletes cards; refused input comes back in the modal.
    add_card(cadence, AUTHOR, 0, "Deploys are calm now")
    add_card(cadence, AUTHOR, 1, "Reviews take days")
    add_card(cadence, AUTHOR, 2, "A typo card")
    assert add_card(cadence, AUTHOR, 1, "").json["response_action"] == "errors"
    add_card(cadence, "U3", 1, "Flaky tests")
    click(cadence, board(cadence), views.MY_CARDS, AUTHOR)
    mine = cadence.fake.last_view()
    assert "Flaky tests" not in json.dumps(mine)
    delete = [e for b in mine["blocks"] if b["type"] == "actions" for e in b["elements"]
              if e["action_id"] == views.DELETE_CARD][-1]
    cadence.slack.block_action(views.DELETE_CARD, delete["value"], user=AUTHOR, view=mine, channel=None)
    cadence.settle()
    mine = cadence.fake.last_view()
    assert "A typo card" not in json.dumps(mine)
    assert "Reviews take days" in json.dumps(mine)
    edit = [e for b in mine["blocks"] if b["type"] == "actions" for e in b["elements"]
            if e["action_id"] == views.EDIT_CARD][-1]
    cadence.slack.block_action(views.EDIT_CARD, edit["value"], user=AUTHOR, view=mine, channel=None)
    cadence.settle()
    cadence.slack.view_submission(cadence.fake.last_view(), {
        views.CARD_COLUMN_BLOCK: {views.VALUE: {"type": "static_select", "selected_option": {"value": "1"}}},
        views.CARD_TEXT_BLOCK: text_input("Reviews take three days"),
    }, user=AUTHOR)
    cadence.settle()

    # Someone else cannot touch the author's card.
    click(cadence, board(cadence), views.MY_CARDS, "U3")
    assert "Reviews take" not in json.dumps(cadence.fake.last_view())

    collecting = board(cadence).all_text
    assert "2 people have added cards." in collecting
    assert "*To improve* — 2 cards" in collecting

    # The facilitator runs the whole retro; the others vote; the author's cards are discussed and exported.
    advance(cadence, "U1")
    revealed = "\n".join(m.all_text for m in thread(cadence))
    assert "Reviews take three days" in revealed
    assert "Deploys are calm now" in revealed
    assert "A typo card" not in revealed
    advance(cadence, "U1")
    advance(cadence, "U1")
    vote_on(cadence, "Reviews take three days", "U1")
    vote_on(cadence, "Reviews take three days", "U3")
    advance(cadence, "U1")
    discussion = [m for m in thread(cadence) if m.text.startswith("To discuss")]
    assert "*2 votes* · Reviews take three days" in discussion[0].all_text
    add_action(cadence, discussion[0], "U1", text="Review within a day", owner="U3", due=None)
    advance(cadence, "U1")
    advance(cadence, "U1")
    cadence.command("/retro", "export", user="U1", channel=CHANNEL)
    exported = [u["content"].decode() for u in cadence.fake.state.uploads.values() if "content" in u]
    assert "Reviews take three days" in exported[0]

    # Now search everything. The same search finds U3 (who voted and owns an action item) everywhere it looks.
    assert search(cadence, caplog, exported, ("U3",)) != []
    assert {place.split(" ")[0] for place in search(cadence, caplog, exported, ("U3",))} >= {"Web", "log", "table"}
    assert search(cadence, caplog, exported, (AUTHOR, AUTHOR_NAME, AUTHOR_NAME.title())) == []

    # The link that lets the author edit is the keyed hash, nothing else.
    with cadence.db.transaction() as session:
        cards = session.scalars(select(store.RetroCard)).all()
        assert all(card.author_id is None for card in cards)
        secret = cadence.runtime.settings.retro_anonymity_secret
        key = domain.author_key(secret, team_id="T1", board_id=cards[0].board_id, user_id=AUTHOR)
        assert sorted(c.text for c in cards if c.author_key == key) == ["Deploys are calm now", "Reviews take three days"]


def search(cadence: Cadence, caplog: pytest.LogCaptureFixture, exported: list[str], needles: tuple[str, ...]
           ) -> list[str]:
    """Every place among Slack calls, response_url replies, exports, log records and table rows naming a needle."""
    found = []
    for call in cadence.fake.calls():
        if hit := leaks(json.dumps(call.args), needles):
            found.append(f"Web API {call.method}: {hit}")
    for response in cadence.fake.responses():
        if hit := leaks(json.dumps(response), needles):
            found.append(f"response_url: {hit}")
    for content in exported:
        if hit := leaks(content, needles):
            found.append(f"export: {hit}")
    for record in caplog.records:
        if hit := leaks(record.getMessage() + " " + repr(vars(record)), needles):
            found.append(f"log {record.name}: {hit}")
    with cadence.db.transaction() as session:
        for table in metadata.sorted_tables:
            for row in session.execute(text(f'SELECT * FROM "{table.name}"')):
                if hit := leaks(repr(tuple(row)), needles):
                    found.append(f"table {table.name}: {hit}")
    return found
