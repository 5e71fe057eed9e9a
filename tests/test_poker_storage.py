"""Poker storage on SQLite and Postgres: what later reports read, scoped to one workspace and channel."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ceremonies import poker
from ceremonies.errors import NotAllowed, NotFound
from storage import poker as store
from storage.db import Database

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
FIB = poker.standard_deck(poker.DeckName.FIBONACCI)


def new_session(db: Database, *, team_id: str = "T1", channel_id: str = "C1", stories: str = "PAY-1 One, PAY-2 Two",
                participants: tuple[str, ...] = ()) -> list[int]:
    with db.transaction() as session:
        created = store.create_session(
            session, team_id=team_id, channel_id=channel_id, facilitator_id="UF", deck=FIB,
            stories=poker.parse_command_stories(stories), participants=participants, now=NOW,
        )
        return [s.id for s in store.stories_of(session, team_id=team_id, session_id=created.id)]


def estimate(db: Database, story_id: int, rounds: list[list[str]], accept: str | None, *, team_id: str = "T1",
             at: datetime = NOW) -> None:
    for number, cards in enumerate(rounds, start=1):
        with db.transaction() as session:
            if number > 1:
                assert store.revote(session, team_id=team_id, story_id=story_id, round=number - 1, user_id="UF")
            for i, card in enumerate(cards):
                store.record_vote(session, team_id=team_id, story_id=story_id, round=number, user_id=f"U{i}",
                                  card=card, now=at)
            assert store.reveal(session, team_id=team_id, story_id=story_id, round=number, user_id="UF")
    with db.transaction() as session:
        decision = store.decide(session, team_id=team_id, story_id=story_id, round=len(rounds), user_id="UF",
                                estimate=accept, now=at)
        assert decision.decided


def test_accepted_estimates_and_stats_for_a_sprint(db: Database) -> None:
    first, second = new_session(db)
    estimate(db, first, [["3", "5"]], "5")
    estimate(db, second, [["1", "13"], ["8", "8"]], "8", at=NOW + timedelta(days=1))
    other_channel = new_session(db, channel_id="C2", stories="X-1 Elsewhere")[0]
    estimate(db, other_channel, [["2"]], "2")
    other_team = new_session(db, team_id="T2", stories="Y-1 Other workspace")[0]
    estimate(db, other_team, [["2"]], "2", team_id="T2")

    with db.transaction() as session:
        window = dict(start=NOW - timedelta(days=1), end=NOW + timedelta(days=7))
        found = store.accepted_estimates(session, team_id="T1", channel_id="C1", **window)
        stats = store.estimation_stats(session, team_id="T1", channel_id="C1", **window)
        first_day = store.accepted_estimates(session, team_id="T1", channel_id="C1", start=NOW,
                                             end=NOW + timedelta(hours=1))
    assert [(e.story_key, e.estimate, e.points, e.rounds) for e in found] == [("PAY-1", "5", 5.0, 1),
                                                                             ("PAY-2", "8", 8.0, 2)]
    assert stats == store.EstimationStats(stories_accepted=2, stories_skipped=0, first_round_consensus=1, revoted=1,
                                          total_points=13.0)
    assert stats.first_round_consensus_rate == 0.5
    assert [e.story_key for e in first_day] == ["PAY-1"]


def test_stories_awaiting_a_vote_of_a_listed_participant(db: Database) -> None:
    first, _second = new_session(db, participants=("U0", "U9"))
    with db.transaction() as session:
        assert [a.story_id for a in store.stories_awaiting_vote(session, team_id="T1", user_id="U9")] == [first]
        assert store.stories_awaiting_vote(session, team_id="T2", user_id="U9") == []
        assert store.stories_awaiting_vote(session, team_id="T1", user_id="U5") == []
        store.record_vote(session, team_id="T1", story_id=first, round=1, user_id="U9", card="3", now=NOW)
    with db.transaction() as session:
        assert store.stories_awaiting_vote(session, team_id="T1", user_id="U9") == []


def test_a_vote_is_refused_outside_its_round_or_workspace(db: Database) -> None:
    first, second = new_session(db)
    with db.transaction() as session:
        with pytest.raises(NotAllowed, match="Voting on this story is closed"):
            store.record_vote(session, team_id="T1", story_id=second, round=1, user_id="U1", card="3", now=NOW)
        with pytest.raises(NotAllowed, match="not in this session's deck"):
            store.record_vote(session, team_id="T1", story_id=first, round=1, user_id="U1", card="4", now=NOW)
    with db.transaction() as session, pytest.raises(NotFound, match="no longer exists"):
        store.record_vote(session, team_id="T2", story_id=first, round=1, user_id="U1", card="3", now=NOW)
