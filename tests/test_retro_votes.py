"""The vote budget holds under fast clicks and repeated deliveries: many requests at once over HTTP, on both databases."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import func, select

from bot.devtools.harness import Cadence
from bot.views import retro as views
from storage import retro as store
from tests.test_retro_steps import CHANNEL, add_card, advance, board, start_retro, thread, vote_button_value

BURST = 8
CARDS = ["Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot"]


def voting_board(cadence: Cadence, *, multiple: bool) -> dict[str, str]:
    for user in ("U1", "U2", "U3", "U4"):
        cadence.fake.add_user(user)
    start_retro(cadence, user="U1", votes="3", multiple=multiple)
    for index, text in enumerate(CARDS):
        add_card(cadence, "U1", index % 3, text)
    for _ in range(3):
        advance(cadence, "U1")
    return {text: vote_button_value(cadence, text) for text in CARDS}


def votes_by_voter(cadence: Cadence) -> dict[str, int]:
    with cadence.db.transaction() as session:
        rows = session.execute(
            select(store.RetroVote.voter_id, func.count(store.RetroVote.id)).group_by(store.RetroVote.voter_id)
        )
        return dict(rows.all())


def click_all(cadence: Cadence, clicks: list[tuple[str, str]]) -> None:
    """Send the (user, vote button value) clicks in bursts of eight released at the same instant."""
    message_ts = thread(cadence)[0].ts
    for start in range(0, len(clicks), BURST):
        burst = clicks[start : start + BURST]
        barrier = threading.Barrier(len(burst))

        def send(click: tuple[str, str], barrier: threading.Barrier = barrier) -> object:
            user, value = click
            barrier.wait()
            return cadence.slack.block_action(views.VOTE, value, user=user, channel=CHANNEL, message_ts=message_ts)

        # The test server's listen backlog is small; eight at once already race for one voter's budget.
        with ThreadPoolExecutor(max_workers=len(burst)) as pool:
            list(pool.map(send, burst))
    cadence.settle()


def test_fast_clicks_never_spend_more_than_the_budget(cadence: Cadence) -> None:
    buttons = voting_board(cadence, multiple=True)
    # Each voter clicks six cards at once, twice over: eighteen clicks a voter for a budget of three.
    clicks = [(user, buttons[text]) for user in ("U2", "U3", "U4") for _ in range(2) for text in CARDS]
    click_all(cadence, clicks)
    assert votes_by_voter(cadence) == {"U2": 3, "U3": 3, "U4": 3}
    answers = [r["text"] for r in cadence.fake.responses()]
    assert sum(a.startswith("Vote counted.") for a in answers) == 9
    assert sum("used all 3 of your votes" in a for a in answers) == len(clicks) - 9


def test_one_vote_per_card_holds_under_fast_clicks(cadence: Cadence) -> None:
    buttons = voting_board(cadence, multiple=False)
    click_all(cadence, [("U2", buttons["Alpha"])] * 8)
    with cadence.db.transaction() as session:
        assert session.scalar(select(func.count(store.RetroVote.id))) == 1


def test_a_click_delivered_twice_counts_once(cadence: Cadence) -> None:
    buttons = voting_board(cadence, multiple=True)
    sent: list[dict[str, Any]] = []
    original = cadence.slack.interaction

    def recording(payload: dict[str, Any], **kwargs: Any) -> Any:
        sent.append(payload)
        return original(payload, **kwargs)

    cadence.slack.interaction = recording  # type: ignore[method-assign]
    cadence.slack.block_action(views.VOTE, buttons["Alpha"], user="U2", channel=CHANNEL, message_ts=thread(cadence)[0].ts)
    cadence.settle()
    cadence.slack.interaction = original  # type: ignore[method-assign]
    with ThreadPoolExecutor(max_workers=3) as pool:
        list(pool.map(lambda _: original(sent[0]), range(3)))
    cadence.settle()
    assert votes_by_voter(cadence) == {"U2": 1}
    assert cadence.fake.responses()[-1]["text"] == "Vote counted. You have 2 votes left."


def test_reset_gives_the_votes_back(cadence: Cadence) -> None:
    buttons = voting_board(cadence, multiple=False)
    click_all(cadence, [("U2", buttons[text]) for text in ("Alpha", "Bravo", "Charlie")])
    cadence.slack.click(board(cadence), views.RESET_VOTES, user="U2")
    cadence.settle()
    assert cadence.fake.responses()[-1]["text"] == "Your votes are back. You have 3 votes left."
    assert votes_by_voter(cadence) == {}
    click_all(cadence, [("U2", buttons["Delta"])])
    assert votes_by_voter(cadence) == {"U2": 1}


def test_voting_is_refused_outside_the_vote_phase(cadence: Cadence) -> None:
    buttons = voting_board(cadence, multiple=False)
    advance(cadence, "U1")  # discuss
    click_all(cadence, [("U2", buttons["Alpha"])])
    assert cadence.fake.responses()[-1]["text"] == ":warning: Voting is not possible now: the retro is at “Discussing”."
    assert votes_by_voter(cadence) == {}
