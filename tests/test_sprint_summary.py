"""A small sprint computed by hand, seeded through every ceremony's repository: every figure of the report checked."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.views import reports
from ceremonies import poker, retro
from ceremonies import sprint as sprint_rules
from ceremonies.blockers import Source
from ceremonies.schedule import DateRange
from ceremonies.standup import StandupConfig, default_questions
from storage import blockers, sprint_figures, standup
from storage import poker as poker_store
from storage import retro as retro_store
from storage import sprint as sprints
from storage.db import Database

T, C = "T1", "C1"
MONDAY = date(2026, 11, 30)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def weekday(offset: int) -> date:
    return MONDAY + timedelta(days=offset)


def estimate(db: Database) -> None:
    """Friday's planning: PAY-1 agreed at once (3), PAY-2 after a re-vote (5), PAY-3 on neighbouring cards (8)."""
    now = at(date(2026, 11, 27), 10)
    deck = poker.standard_deck(poker.DeckName.FIBONACCI)
    drafts = [poker.StoryDraft("PAY-1", "Login"), poker.StoryDraft("PAY-2", "Logout"), poker.StoryDraft("PAY-3", "SSO")]
    with db.transaction() as session:
        parent = poker_store.create_session(session, team_id=T, channel_id=C, facilitator_id="U1", deck=deck,
                                            stories=drafts, now=now)
        stories = poker_store.stories_of(session, team_id=T, session_id=parent.id)
        ids = [s.id for s in stories]
    rounds = {ids[0]: [("3", "3")], ids[1]: [("2", "8"), ("5", "5")], ids[2]: [("5", "8")]}
    for story_id, votes in rounds.items():
        for number, (first, second) in enumerate(votes, start=1):
            with db.transaction() as session:
                for user, card in (("U1", first), ("U2", second)):
                    poker_store.record_vote(session, team_id=T, story_id=story_id, round=number, user_id=user,
                                            card=card, now=now)
                poker_store.reveal(session, team_id=T, story_id=story_id, round=number, user_id="U1")
                if number < len(votes):
                    poker_store.revote(session, team_id=T, story_id=story_id, round=number, user_id="U1")
        accepted = votes[-1][1]
        with db.transaction() as session:
            poker_store.decide(session, team_id=T, story_id=story_id, round=len(votes), user_id="U1",
                               estimate=accepted, now=now)
            state = poker_store.story_state(session, team_id=T, story_id=story_id)
            sprints.add_story(session, team_id=T, channel_id=C, key=state.key, title=state.title,
                              points=float(accepted), by="U1", now=now, source="poker")


def run_sprint(db: Database) -> sprints.Sprint:
    with db.transaction() as session:
        plan = sprint_rules.SprintPlan(name="Sprint 7", ends_on=weekday(4), goal="Ship SSO")
        sprint = sprints.start_sprint(session, team_id=T, channel_id=C, plan=plan, timezone="UTC",
                                      starts_on=MONDAY, by="U1", now=at(MONDAY, 8))
        sprints.add_story(session, team_id=T, channel_id=C, key="PAY-4", title="Audit log", points=2.0, by="U2",
                          now=at(weekday(2), 10), source="manual")
        for key, when in (("PAY-1", at(weekday(1), 12)), ("PAY-2", at(weekday(3), 12)), ("PAY-4", at(weekday(4), 9))):
            sprints.complete_story(session, team_id=T, channel_id=C, key=key, by="U2", now=when)
        return sprint


def stand_up(db: Database) -> None:
    """Four people, Monday to Friday; U4 away Wednesday and Thursday; U3 misses Tuesday, U2 Thursday; U1 late Friday."""
    people = ("U1", "U2", "U3", "U4")
    missing = {(weekday(1), "U3"), (weekday(3), "U2")}
    with db.transaction() as session:
        config = StandupConfig(channel_id=C, report_channel_id=C, participants=people, questions=default_questions())
        meeting = standup.save_standup(session, team_id=T, channel_id=C, owner_id="U1", config=config,
                                       now=at(date(2026, 11, 27), 9))
        standup.add_away(session, team_id=T, user_id="U4", away=DateRange(weekday(2), weekday(3)),
                         now=at(date(2026, 11, 27), 9))
        for offset in range(5):
            day = weekday(offset)
            run = standup.open_run(session, team_id=T, standup=meeting, local_date=day, closes_at=at(day, 16),
                                   now=at(day, 9))
            for user in people:
                if user == "U4" and offset in (2, 3):
                    continue
                standup.record_prompt(session, team_id=T, standup_id=meeting.id, run_id=run.id, user_id=user,
                                      local_date=day, timezone="UTC", due_at=at(day, 9), closes_at=at(day, 16),
                                      sent_at=at(day, 9), dm_channel_id="D" + user, dm_ts=f"{offset}.{user}")
                if (day, user) in missing:
                    continue
                late = offset == 4 and user == "U1"
                standup.record_answer(session, team_id=T, run=run, user_id=user, questions=default_questions(),
                                      answers={0: "worked", 1: "more work", 2: ""}, late=late,
                                      now=at(day, 17 if late else 10))


def block(db: Database) -> None:
    """B1: Monday 10:00 → Tuesday 16:00 (30 h). B2: Wednesday 09:00, still open, escalated once. B3: 4 h Thursday."""
    with db.transaction() as session:
        one = blockers.open_blocker(session, team_id=T, channel_id=C, reporter_id="U2", text="no test data",
                                    source=Source.COMMAND, now=at(MONDAY, 10))
        two = blockers.open_blocker(session, team_id=T, channel_id=C, reporter_id="U3", text="waiting for legal",
                                    source=Source.COMMAND, now=at(weekday(2), 9))
        three = blockers.open_blocker(session, team_id=T, channel_id=C, reporter_id="U1", text="VPN down",
                                      source=Source.COMMAND, now=at(weekday(3), 10))
        blockers.resolve_blocker(session, team_id=T, blocker_id=one.id, user_id="U1", note="", now=at(weekday(1), 16))
        blockers.resolve_blocker(session, team_id=T, blocker_id=three.id, user_id="U1", note="", now=at(weekday(3), 14))
        blockers.record_escalation(session, team_id=T, blocker_id=two.id, level=1, contact_id="U1",
                                   now=at(weekday(3), 9))


def retrospect(db: Database) -> None:
    """Last retro left A1 and A2; this one marks A1 done, A2 not done, adds A3; cards get 3, 1 and 0 votes."""
    setup = retro.RetroSetup(title="Sprint 7", template=retro.Template.WELL_IMPROVE_IDEAS,
                             columns=retro.TEMPLATE_COLUMNS[retro.Template.WELL_IMPROVE_IDEAS], anonymous=False,
                             votes_per_person=3, multiple_votes_per_card=True)
    earlier = at(date(2026, 11, 20), 15)
    with db.transaction() as session:
        previous = retro_store.create_board(session, team_id=T, channel_id=C, setup=setup, facilitator_id="U1",
                                            now=earlier)
        for target in list(retro.Phase)[1:6]:  # up to Actions
            retro_store.advance(session, team_id=T, board_id=previous.id, target=target, user_id="U1", now=earlier)
        for text, owner in (("Fix flaky tests", "U1"), ("Write runbook", "U2")):
            retro_store.add_action_item(session, team_id=T, board_id=previous.id,
                                        item=retro.NewActionItem(text, owner, None), created_by="U1", now=earlier)
        retro_store.advance(session, team_id=T, board_id=previous.id, target=retro.Phase.CLOSED, user_id="U1",
                            now=earlier)
    now = at(weekday(4), 15)
    with db.transaction() as session:
        board = retro_store.create_board(session, team_id=T, channel_id=C, setup=setup, facilitator_id="U1", now=now)
        reviews = retro_store.start_reviews(session, team_id=T, board=board, now=now)
        for review, outcome in zip(reviews, (retro.ReviewOutcome.DONE, retro.ReviewOutcome.NOT_DONE), strict=True):
            retro_store.answer_review(session, team_id=T, review_id=review.id, outcome=outcome, user_id="U1", now=now)
        cards = [retro_store.add_card(session, team_id=T, board_id=board.id, column=1, text=text, author_id="U2",
                                      author_key=None, now=now) for text in ("CI is slow", "Great pairing", "Docs")]
        for target in (retro.Phase.REVEAL, retro.Phase.GROUP, retro.Phase.VOTE):
            retro_store.advance(session, team_id=T, board_id=board.id, target=target, user_id="U1", now=now)
    clicks = [(cards[0].id, "U1"), (cards[0].id, "U2"), (cards[0].id, "U3"), (cards[1].id, "U1")]
    for number, (card_id, voter) in enumerate(clicks):
        with db.transaction() as session:
            retro_store.cast_vote(session, team_id=T, board_id=board.id, card_id=card_id, voter_id=voter,
                                  click_id=f"click-{number}", now=now)
    with db.transaction() as session:
        for target in (retro.Phase.DISCUSS, retro.Phase.ACTIONS):
            retro_store.advance(session, team_id=T, board_id=board.id, target=target, user_id="U1", now=now)
        retro_store.add_action_item(session, team_id=T, board_id=board.id,
                                    item=retro.NewActionItem("Speed up CI", "U3", weekday(9)), created_by="U1", now=now)


@pytest.fixture
def figures(db: Database) -> dict:
    estimate(db)
    sprint = run_sprint(db)
    stand_up(db)
    block(db)
    retrospect(db)
    with db.transaction() as session:
        sprint = session.get(sprints.Sprint, sprint.id)
        summary = sprint_figures.summary(session, sprint=sprint, now=at(weekday(4), 18))
    return reports.figures(summary)


def test_every_figure_of_a_hand_computed_sprint(figures: dict) -> None:
    assert figures["sprint"] == {"name": "Sprint 7", "goal": "Ship SSO", "starts_on": "2026-11-30",
                                 "ends_on": "2026-12-04", "ended": False}
    # 3 + 5 + 8 committed from planning; PAY-4 (2) added on Wednesday; PAY-1, PAY-2 and PAY-4 done.
    # Committed done counts PAY-1 and PAY-2 only (8 of 16); PAY-4 is added scope, done apart; velocity counts all.
    assert figures["points"] == {"committed": 16.0, "completed": 10.0, "committed_stories": 3, "completed_stories": 3,
                                 "committed_done": 8.0, "committed_done_stories": 2, "added": 2.0, "added_stories": 1,
                                 "added_done": 2.0, "added_done_stories": 1,
                                 "velocity": 10.0, "average_velocity_last_3": None, "previous_velocities": []}
    assert figures["scope_change"] == {"added_points": 2.0, "removed_points": 0, "points": 2.0, "percent": 12.5}
    # 18 prompts (U4 away two days), 16 answers.
    assert figures["standup"] == {
        "participation_percent": 88.9,
        "days": [{"day": "2026-11-30", "answered": 4, "expected": 4}, {"day": "2026-12-01", "answered": 3, "expected": 4},
                 {"day": "2026-12-02", "answered": 3, "expected": 3}, {"day": "2026-12-03", "answered": 2, "expected": 3},
                 {"day": "2026-12-04", "answered": 4, "expected": 4}],
    }
    # B1 30 h and B3 4 h to unblock: median 17 h; B2 open since Wednesday 09:00: 57 h = 2.4 working days.
    assert figures["blockers"] == {"opened": 3, "resolved": 2, "still_open": 1, "median_hours_to_unblock": 17.0,
                                   "longest_hours_to_unblock": 30.0, "escalations": 1, "oldest_open_working_days": 2.4}
    assert figures["planning"] == {"stories_estimated": 3, "first_round_consensus_percent": 66.7, "revotes": 1}
    assert figures["retro"] == {"top_cards": [{"text": "CI is slow", "votes": 3}, {"text": "Great pairing", "votes": 1}],
                                "actions_created": 1, "actions_done": 1, "actions_carried_over": 1,
                                "previous_completion_percent": 50.0}
    # 8 of 16 committed points done is 50%: red (the added PAY-4 no longer counts as committed work done).
    assert figures["health"] == {"status": "red", "reasons": [
        "50% of the committed points are done (red under 60%)",
        "scope changed by 12% (amber above 10%)",
        "a blocker has been open 2.4 working days (amber above 1)",
    ]}
    assert figures["forecast"]["enough_history"] is False  # the channel's first sprint
    assert [(p["day"], p["scope"], p["done"]) for p in figures["burn_up"]] == [
        ("2026-11-30", 16.0, 0), ("2026-12-01", 16.0, 3.0), ("2026-12-02", 18.0, 3.0), ("2026-12-03", 18.0, 8.0),
        ("2026-12-04", 18.0, 10.0),
    ]


def test_participation_names_people_from_their_cached_profiles(db: Database) -> None:
    from storage import people

    stand_up(db)
    with db.transaction() as session:
        people.save_person(session, team_id=T, user_id="U2", display_name="omar", timezone="UTC", is_deleted=False,
                           is_bot=False, is_admin=False, is_owner=False, fetched_at=at(MONDAY, 8))
    with db.transaction() as session:
        _days, persons = sprint_figures.participation(session, team_id=T, channel_id=C, start=MONDAY, end=weekday(4))
    assert [(p.user_id, p.name, p.answered, p.expected) for p in persons] == [
        ("U1", "U1", 5, 5), ("U2", "omar", 4, 5), ("U3", "U3", 4, 5), ("U4", "U4", 3, 3)]
