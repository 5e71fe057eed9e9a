"""Retro rows on SQLite and Postgres: boards, cards, the vote budget in the database, stats for the sprint report."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from ceremonies import retro as domain
from ceremonies.retro import Phase, ReviewOutcome
from storage import retro as store
from storage.db import Database

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
SETUP = domain.RetroSetup("Sprint 7", domain.Template.MAD_SAD_GLAD, ("Mad", "Sad", "Glad"), False, 2, False)


def new_board(db: Database, *, setup: domain.RetroSetup = SETUP, channel: str = "C1", now: datetime = NOW) -> int:
    with db.transaction() as session:
        return store.create_board(session, team_id="T1", channel_id=channel, setup=setup, facilitator_id="U1",
                                  now=now).id


def move_to(db: Database, board_id: int, phase: Phase, now: datetime = NOW) -> None:
    with db.transaction() as session:
        board = store.get_board(session, team_id="T1", board_id=board_id)
        while board.current_phase is not phase:
            target = domain.next_phase(board.current_phase)
            assert target is not None
            store.advance(session, team_id="T1", board_id=board_id, target=target, user_id="U1", now=now)


def card(db: Database, board_id: int, text: str, column: int = 0, author: str = "U2") -> int:
    with db.transaction() as session:
        return store.add_card(session, team_id="T1", board_id=board_id, column=column, text=text, author_id=author,
                              author_key=None, now=NOW).id


def test_a_board_and_its_columns(db: Database) -> None:
    board_id = new_board(db)
    with db.transaction() as session:
        assert store.board_columns(session, team_id="T1", board_id=board_id) == ("Mad", "Sad", "Glad")
        assert store.active_board(session, team_id="T1", channel_id="C1").id == board_id
        assert store.active_board(session, team_id="T2", channel_id="C1") is None
        with pytest.raises(domain.RetroAlreadyRunning):
            store.create_board(session, team_id="T1", channel_id="C1", setup=SETUP, facilitator_id="U2", now=NOW)
    with db.transaction() as session, pytest.raises(domain.BoardNotFound):
        store.get_board(session, team_id="T2", board_id=board_id)


def test_cards_only_while_collecting_and_in_a_real_column(db: Database) -> None:
    board_id = new_board(db)
    card(db, board_id, "Slow CI", column=2)
    with db.transaction() as session, pytest.raises(domain.InvalidInput, match="columns"):
        store.add_card(session, team_id="T1", board_id=board_id, column=3, text="x", author_id="U2",
                       author_key=None, now=NOW)
    move_to(db, board_id, Phase.REVEAL)
    with db.transaction() as session, pytest.raises(domain.WrongPhase):
        store.add_card(session, team_id="T1", board_id=board_id, column=0, text="late", author_id="U2",
                       author_key=None, now=NOW)


def test_an_anonymous_board_refuses_a_user_id(db: Database) -> None:
    board_id = new_board(db, setup=domain.RetroSetup("t", domain.Template.MAD_SAD_GLAD, ("Mad",), True, 3, False))
    with db.transaction() as session, pytest.raises(ValueError, match="never stores"):
        store.add_card(session, team_id="T1", board_id=board_id, column=0, text="x", author_id="U2",
                       author_key=None, now=NOW)
    with db.transaction() as session:
        for key in ("k1", "k1", "k2"):
            store.add_card(session, team_id="T1", board_id=board_id, column=0, text="x", author_id=None,
                           author_key=key, now=NOW)
        assert store.contributors(session, team_id="T1", board_id=board_id) == ([], 2)


def test_merging_moves_the_whole_group(db: Database) -> None:
    board_id = new_board(db)
    a, b, c = card(db, board_id, "a"), card(db, board_id, "b"), card(db, board_id, "c")
    move_to(db, board_id, Phase.GROUP)
    with db.transaction() as session:
        with pytest.raises(domain.NotFacilitator):
            store.merge_cards(session, team_id="T1", board_id=board_id, source_id=b, target_id=a, user_id="U2")
        store.merge_cards(session, team_id="T1", board_id=board_id, source_id=b, target_id=a, user_id="U1")
        store.merge_cards(session, team_id="T1", board_id=board_id, source_id=a, target_id=c, user_id="U1")
        board = store.get_board(session, team_id="T1", board_id=board_id)
        groups = domain.group_cards(store.domain_cards(session, board=board))
        assert [(g.id, sorted(x.id for x in g.cards)) for g in groups] == [(c, sorted([a, b, c]))]
    move_to(db, board_id, Phase.VOTE)
    with db.transaction() as session:
        store.cast_vote(session, team_id="T1", board_id=board_id, card_id=b, voter_id="U3", click_id="1", now=NOW)
        assert store.vote_counts(session, team_id="T1", board_id=board_id) == {c: 1}
        with pytest.raises(domain.AlreadyVotedOnCard):  # the group is one card to vote on
            store.cast_vote(session, team_id="T1", board_id=board_id, card_id=a, voter_id="U3", click_id="2", now=NOW)


def test_the_budget_is_held_by_the_database(db: Database) -> None:
    board_id = new_board(db)
    a, b, c = card(db, board_id, "a"), card(db, board_id, "b"), card(db, board_id, "c")
    move_to(db, board_id, Phase.VOTE)
    with db.transaction() as session:
        assert store.cast_vote(session, team_id="T1", board_id=board_id, card_id=a, voter_id="U3", click_id="1",
                               now=NOW) == 1
        assert store.cast_vote(session, team_id="T1", board_id=board_id, card_id=a, voter_id="U3", click_id="1",
                               now=NOW) == 1  # the same click again
        with pytest.raises(domain.AlreadyVotedOnCard):
            store.cast_vote(session, team_id="T1", board_id=board_id, card_id=a, voter_id="U3", click_id="2", now=NOW)
        assert store.cast_vote(session, team_id="T1", board_id=board_id, card_id=b, voter_id="U3", click_id="3",
                               now=NOW) == 0
        with pytest.raises(domain.VoteBudgetExceeded):
            store.cast_vote(session, team_id="T1", board_id=board_id, card_id=c, voter_id="U3", click_id="4", now=NOW)
    # Even a writer that skipped the rules cannot put a third dot in a two-vote budget's slots twice.
    with db.transaction() as session:
        session.add(store.RetroVote(team_id="T1", board_id=board_id, card_id=c, voter_id="U3", slot=1, click_id="5",
                                    cast_at=NOW))
        with pytest.raises(IntegrityError):
            session.flush()
        session.rollback()
    with db.transaction() as session:
        assert store.reset_votes(session, team_id="T1", board_id=board_id, voter_id="U3") == 2
        assert store.votes_of(session, team_id="T1", board_id=board_id, voter_id="U3") == 0


def test_retro_stats_for_the_sprint_report(db: Database) -> None:
    first = new_board(db)
    a, b = card(db, first, "Slow CI"), card(db, first, "Good demos", column=2)
    move_to(db, first, Phase.VOTE)
    with db.transaction() as session:
        for voter, card_id in (("U2", a), ("U3", a), ("U3", b)):
            store.cast_vote(session, team_id="T1", board_id=first, card_id=card_id, voter_id=voter,
                            click_id=voter + str(card_id), now=NOW)
    move_to(db, first, Phase.ACTIONS)
    with db.transaction() as session:
        items = [
            store.add_action_item(session, team_id="T1", board_id=first, created_by="U1", now=NOW,
                                  item=domain.NewActionItem(text, "U3", date(2026, 12, 10), a))
            for text in ("Cache deps", "Split tests", "Drop the nightly")
        ]
    move_to(db, first, Phase.CLOSED)

    later = NOW + timedelta(days=14)
    second = new_board(db, now=later)
    with db.transaction() as session:
        board = store.get_board(session, team_id="T1", board_id=second)
        reviews = {r.action_item_id: r.id for r in store.start_reviews(session, team_id="T1", board=board, now=later)}
        for item, outcome in zip(items, (ReviewOutcome.DONE, ReviewOutcome.NOT_DONE, ReviewOutcome.DROPPED),
                                 strict=True):
            store.answer_review(session, team_id="T1", review_id=reviews[item.id], outcome=outcome, user_id="U1",
                                now=later)

    with db.transaction() as session:
        stats = store.retro_stats(session, team_id="T1", channel_id="C1", start=NOW, end=later + timedelta(days=1))
        assert stats == domain.RetroStats(
            boards=2, top_cards=(("Slow CI", 2), ("Good demos", 1)), action_items_created=3, action_items_done=1,
            action_items_dropped=1, action_items_carried_over=1, previous_items_reviewed=3, previous_items_done=1,
        )
        assert stats.completion_rate == pytest.approx(1 / 3)
        first_sprint = store.retro_stats(session, team_id="T1", channel_id="C1", start=NOW, end=later)
        assert (first_sprint.boards, first_sprint.action_items_done, first_sprint.completion_rate) == (1, 0, None)
        assert store.retro_stats(session, team_id="T2", channel_id="C1", start=NOW, end=later).boards == 0
        open_items = store.open_action_items(session, team_id="T1", channel_id="C1")
        assert [(i.text, i.carried_count) for i in open_items] == [("Split tests", 1)]
