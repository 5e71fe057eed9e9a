"""Planning poker sessions, stories, votes and accepted estimates, as rows.

Every vote is one row, unique per (story, round, voter), written with an upsert under a lock on the story row, so a
storm of clicks counts each person once and a double click changes nothing twice. The use cases that change these rows
and queue the messages the change causes are in storage/poker_cases.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    and_,
    func,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from ceremonies import poker
from ceremonies.errors import NotAllowed, NotFound
from storage import workspaces
from storage.models import SLACK_ID_LENGTH, Base

TS_LENGTH = 32
DECK_NAME_LENGTH = 32
DECK_CARDS_LENGTH = 2000  # at most 25 cards of at most 75 characters, one per line
CARD_SEPARATOR = "\n"


class PokerSession(Base):
    """A planning poker session: one parent message in a channel, its stories in the thread."""

    __tablename__ = "poker_sessions"
    __table_args__ = (Index("ix_poker_sessions_team_channel", "team_id", "channel_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    channel_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    facilitator_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    deck_name: Mapped[str] = mapped_column(String(DECK_NAME_LENGTH))
    deck_cards: Mapped[str] = mapped_column(String(DECK_CARDS_LENGTH))
    auto_reveal: Mapped[bool] = mapped_column(Boolean, default=True)
    reveal_policy: Mapped[str] = mapped_column(String(16), default=poker.RevealPolicy.FACILITATOR.value)
    parent_ts: Mapped[str | None] = mapped_column(String(TS_LENGTH))
    created_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]

    @property
    def deck(self) -> poker.Deck:
        return poker.Deck(poker.DeckName(self.deck_name), tuple(self.deck_cards.split(CARD_SEPARATOR)))


class PokerParticipant(Base):
    """Someone listed as a participant of a session (auto-reveal waits for all of them)."""

    __tablename__ = "poker_participants"
    __table_args__ = (UniqueConstraint("session_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    session_id: Mapped[int] = mapped_column(ForeignKey("poker_sessions.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))


class PokerStory(Base):
    """A story estimated in a session: its threaded message, its current round and its accepted estimate."""

    __tablename__ = "poker_stories"
    __table_args__ = (
        UniqueConstraint("session_id", "position"),
        Index("ix_poker_stories_team_status", "team_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    session_id: Mapped[int] = mapped_column(ForeignKey("poker_sessions.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    key: Mapped[str | None] = mapped_column(String(poker.STORY_KEY_MAX_LENGTH))
    title: Mapped[str] = mapped_column(String(poker.STORY_TITLE_MAX_LENGTH))
    status: Mapped[str] = mapped_column(String(16), default=poker.StoryStatus.PENDING.value)
    round: Mapped[int] = mapped_column(Integer, default=1)
    message_ts: Mapped[str | None] = mapped_column(String(TS_LENGTH))
    estimate: Mapped[str | None] = mapped_column(String(poker.CARD_MAX_LENGTH))
    points: Mapped[float | None] = mapped_column(Float)
    accepted_by: Mapped[str | None] = mapped_column(String(SLACK_ID_LENGTH))
    decided_at: Mapped[datetime | None]
    first_round_consensus: Mapped[bool | None] = mapped_column(Boolean)


class PokerVote(Base):
    """One person's card in one round of a story; changing your vote updates the row."""

    __tablename__ = "poker_votes"
    __table_args__ = (UniqueConstraint("story_id", "round", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    story_id: Mapped[int] = mapped_column(ForeignKey("poker_stories.id", ondelete="CASCADE"))
    round: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    card: Mapped[str] = mapped_column(String(poker.CARD_MAX_LENGTH))
    reason: Mapped[str | None] = mapped_column(String(poker.REASON_MAX_LENGTH))
    voted_at: Mapped[datetime]


# -- plain objects handed to the bot and to later reports -------------------------------------------------------------


@dataclass(frozen=True)
class StoryState:
    """Everything the story's message shows, read in one transaction."""

    story_id: int
    session_id: int
    team_id: str
    channel_id: str
    facilitator_id: str
    deck: poker.Deck
    reveal_policy: poker.RevealPolicy
    auto_reveal: bool
    participants: tuple[str, ...]
    position: int
    stories_in_session: int
    key: str | None
    title: str
    status: poker.StoryStatus
    round: int
    message_ts: str | None
    parent_ts: str | None
    estimate: str | None
    votes: tuple[poker.Vote, ...]  # this round's, in voting order
    earlier_rounds: tuple[tuple[int, tuple[poker.Vote, ...]], ...]  # (round, votes) of the rounds before
    session_ended: bool

    @property
    def label(self) -> str:
        return poker.StoryDraft(self.key, self.title).label

    def result(self) -> poker.RoundResult:
        return poker.round_result(self.deck, self.votes)


@dataclass(frozen=True)
class VoteOutcome:
    changed: bool  # False: the same card again (a double click or a retried delivery)
    revealed: bool  # this vote completed the listed participants and revealed the story
    card: str
    label: str
    channel_id: str
    parent_ts: str | None
    message_ts: str | None


@dataclass(frozen=True)
class Decision:
    decided: bool  # False: the story was accepted or skipped already (a double click)
    next_story_id: int | None  # the story now open for voting; None when this was the last


@dataclass(frozen=True)
class AcceptedEstimate:
    """An accepted estimate, for the sprint's committed points."""

    team_id: str
    channel_id: str
    session_id: int
    story_id: int
    story_key: str | None
    title: str
    estimate: str
    points: float | None  # None for T-shirt sizes and other non-numeric decks
    rounds: int
    accepted_by: str | None
    accepted_at: datetime


@dataclass(frozen=True)
class EstimationStats:
    """How estimation went over a period: how often the team agreed at once, how often it re-voted."""

    stories_accepted: int
    stories_skipped: int
    first_round_consensus: int  # accepted stories whose first round was a consensus
    revoted: int  # accepted stories that needed more than one round
    total_points: float

    @property
    def first_round_consensus_rate(self) -> float | None:
        return self.first_round_consensus / self.stories_accepted if self.stories_accepted else None


@dataclass(frozen=True)
class AwaitingVote:
    """A story open for voting that a person has not voted on yet."""

    team_id: str
    channel_id: str
    session_id: int
    story_id: int
    message_ts: str | None
    parent_ts: str | None
    label: str


# -- sessions --------------------------------------------------------------------------------------------------------


def create_session(
    session: Session,
    *,
    team_id: str,
    channel_id: str,
    facilitator_id: str,
    deck: poker.Deck,
    stories: Sequence[poker.StoryDraft],
    participants: Sequence[str] = (),
    auto_reveal: bool = True,
    reveal_policy: poker.RevealPolicy = poker.RevealPolicy.FACILITATOR,
    now: datetime,
) -> PokerSession:
    """A new session whose first story is open for voting."""
    row = PokerSession(
        team_id=team_id,
        channel_id=channel_id,
        facilitator_id=facilitator_id,
        deck_name=deck.name.value,
        deck_cards=CARD_SEPARATOR.join(deck.cards),
        auto_reveal=auto_reveal,
        reveal_policy=reveal_policy.value,
        created_at=now,
    )
    session.add(row)
    session.flush()
    for user_id in dict.fromkeys(participants):
        session.add(PokerParticipant(team_id=team_id, session_id=row.id, user_id=user_id))
    for position, draft in enumerate(stories):
        status = poker.StoryStatus.VOTING if position == 0 else poker.StoryStatus.PENDING
        session.add(
            PokerStory(
                team_id=team_id,
                session_id=row.id,
                position=position,
                key=draft.key,
                title=draft.title,
                status=status.value,
                round=1,
            )
        )
    session.flush()
    return row


def get_session(session: Session, *, team_id: str, session_id: int) -> PokerSession:
    row = session.scalar(select(PokerSession).where(PokerSession.team_id == team_id, PokerSession.id == session_id))
    if row is None:
        raise NotFound("That poker session no longer exists.")
    return row


def open_session_in(session: Session, *, team_id: str, channel_id: str) -> PokerSession | None:
    """The most recent session of the channel that has not ended."""
    return session.scalar(
        select(PokerSession)
        .where(PokerSession.team_id == team_id, PokerSession.channel_id == channel_id, PokerSession.ended_at.is_(None))
        .order_by(PokerSession.id.desc())
        .limit(1)
    )


def set_parent_ts(session: Session, *, team_id: str, session_id: int, ts: str) -> None:
    session.execute(
        update(PokerSession)
        .where(PokerSession.team_id == team_id, PokerSession.id == session_id)
        .values(parent_ts=ts)
        .execution_options(synchronize_session=False)
    )


def set_story_message_ts(session: Session, *, team_id: str, story_id: int, ts: str) -> None:
    session.execute(
        update(PokerStory)
        .where(PokerStory.team_id == team_id, PokerStory.id == story_id)
        .values(message_ts=ts)
        .execution_options(synchronize_session=False)
    )


def end_session(session: Session, *, team_id: str, session_id: int, now: datetime) -> bool:
    """End the session; True only for the one caller that ended it (who then posts the summary)."""
    ended = session.execute(
        update(PokerSession)
        .where(PokerSession.team_id == team_id, PokerSession.id == session_id, PokerSession.ended_at.is_(None))
        .values(ended_at=now)
        .returning(PokerSession.id)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    if ended is None:
        return False
    # Stories still open are closed without an estimate; their messages lose their buttons.
    session.execute(
        update(PokerStory)
        .where(
            PokerStory.team_id == team_id,
            PokerStory.session_id == session_id,
            PokerStory.status.in_([poker.StoryStatus.VOTING.value, poker.StoryStatus.REVEALED.value]),
        )
        .values(status=poker.StoryStatus.SKIPPED.value, decided_at=now)
        .execution_options(synchronize_session=False)
    )
    return True


def summary(session: Session, *, team_id: str, session_id: int) -> list[poker.SummaryLine]:
    """Each story of the session with its accepted estimate (None when skipped or never reached)."""
    stories = session.scalars(
        select(PokerStory)
        .where(PokerStory.team_id == team_id, PokerStory.session_id == session_id)
        .order_by(PokerStory.position)
    )
    return [
        poker.SummaryLine(
            label=poker.StoryDraft(s.key, s.title).label,
            estimate=s.estimate if s.status == poker.StoryStatus.ACCEPTED else None,
            points=s.points if s.status == poker.StoryStatus.ACCEPTED else None,
        )
        for s in stories
    ]


# -- stories ---------------------------------------------------------------------------------------------------------


def _locked_story(session: Session, *, team_id: str, story_id: int) -> PokerStory:
    """The story row, locked until commit on Postgres (SQLite's writers are serialized already)."""
    story = session.scalar(
        select(PokerStory)
        .where(PokerStory.team_id == team_id, PokerStory.id == story_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if story is None:
        raise NotFound("That story no longer exists.")
    return story


def story_state(session: Session, *, team_id: str, story_id: int) -> StoryState:
    """The story as its message should show it now."""
    story = session.scalar(
        select(PokerStory)
        .where(PokerStory.team_id == team_id, PokerStory.id == story_id)
        .execution_options(populate_existing=True)
    )
    if story is None:
        raise NotFound("That story no longer exists.")
    parent = get_session(session, team_id=team_id, session_id=story.session_id)
    rounds: dict[int, list[poker.Vote]] = {number: [] for number in range(1, story.round + 1)}
    for vote in session.scalars(
        select(PokerVote)
        .where(PokerVote.team_id == team_id, PokerVote.story_id == story_id, PokerVote.round <= story.round)
        .order_by(PokerVote.round, PokerVote.voted_at, PokerVote.id)
    ):
        rounds[vote.round].append(poker.Vote(vote.user_id, vote.card, vote.reason))
    count = session.scalar(
        select(func.count()).select_from(PokerStory).where(
            PokerStory.team_id == team_id, PokerStory.session_id == story.session_id
        )
    )
    return StoryState(
        story_id=story.id,
        session_id=parent.id,
        team_id=team_id,
        channel_id=parent.channel_id,
        facilitator_id=parent.facilitator_id,
        deck=parent.deck,
        reveal_policy=poker.RevealPolicy(parent.reveal_policy),
        auto_reveal=parent.auto_reveal,
        participants=participants(session, team_id=team_id, session_id=parent.id),
        position=story.position,
        stories_in_session=count or 0,
        key=story.key,
        title=story.title,
        status=poker.StoryStatus(story.status),
        round=story.round,
        message_ts=story.message_ts,
        parent_ts=parent.parent_ts,
        estimate=story.estimate,
        votes=tuple(rounds[story.round]),
        earlier_rounds=tuple((number, tuple(rounds[number])) for number in range(1, story.round)),
        session_ended=parent.ended_at is not None,
    )


def participants(session: Session, *, team_id: str, session_id: int) -> tuple[str, ...]:
    return tuple(
        session.scalars(
            select(PokerParticipant.user_id)
            .where(PokerParticipant.team_id == team_id, PokerParticipant.session_id == session_id)
            .order_by(PokerParticipant.id)
        )
    )


def stories_of(session: Session, *, team_id: str, session_id: int) -> list[PokerStory]:
    return list(
        session.scalars(
            select(PokerStory)
            .where(PokerStory.team_id == team_id, PokerStory.session_id == session_id)
            .order_by(PokerStory.position)
        )
    )


def _upsert(session: Session) -> Any:
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def record_vote(
    session: Session, *, team_id: str, story_id: int, round: int, user_id: str, card: str, now: datetime
) -> VoteOutcome:
    """Record (or change) `user_id`'s card in the story's current round; the same card again changes nothing."""
    story = _locked_story(session, team_id=team_id, story_id=story_id)
    parent = get_session(session, team_id=team_id, session_id=story.session_id)
    if parent.ended_at is not None or story.status != poker.StoryStatus.VOTING or story.round != round:
        raise NotAllowed("Voting on this story is closed.")
    if card not in parent.deck.cards:
        raise NotAllowed("That card is not in this session's deck.")
    insert = _upsert(session)(PokerVote).values(
        team_id=team_id, story_id=story_id, round=round, user_id=user_id, card=card, voted_at=now
    )
    changed = session.execute(
        insert.on_conflict_do_update(
            index_elements=["story_id", "round", "user_id"],
            set_={"card": insert.excluded.card},
            where=PokerVote.__table__.c.card != insert.excluded.card,
        ).returning(PokerVote.id)
    ).scalar_one_or_none()
    if changed is None:
        return VoteOutcome(False, False, card, poker.StoryDraft(story.key, story.title).label, parent.channel_id,
                           parent.parent_ts, story.message_ts)
    revealed = False
    listed = set(participants(session, team_id=team_id, session_id=parent.id))
    if parent.auto_reveal and listed:
        voted = set(
            session.scalars(
                select(PokerVote.user_id).where(
                    PokerVote.team_id == team_id, PokerVote.story_id == story_id, PokerVote.round == round
                )
            )
        )
        if listed <= voted:
            _reveal(session, story, parent.deck)
            revealed = True
    session.flush()
    return VoteOutcome(True, revealed, card, poker.StoryDraft(story.key, story.title).label, parent.channel_id,
                       parent.parent_ts, story.message_ts)


def set_reason(session: Session, *, team_id: str, story_id: int, round: int, user_id: str, reason: str) -> None:
    """Attach a short reason to `user_id`'s vote in that round (shown only after reveal)."""
    story = _locked_story(session, team_id=team_id, story_id=story_id)
    if story.status != poker.StoryStatus.VOTING or story.round != round:
        raise NotAllowed("Voting on this story is closed; the reason was not saved.")
    vote = session.scalar(
        select(PokerVote).where(
            PokerVote.team_id == team_id,
            PokerVote.story_id == story_id,
            PokerVote.round == round,
            PokerVote.user_id == user_id,
        )
    )
    if vote is None:
        raise NotFound("Vote first, then add your reason.")
    vote.reason = reason or None


def my_vote(session: Session, *, team_id: str, story_id: int, round: int, user_id: str) -> str | None:
    return session.scalar(
        select(PokerVote.card).where(
            PokerVote.team_id == team_id,
            PokerVote.story_id == story_id,
            PokerVote.round == round,
            PokerVote.user_id == user_id,
        )
    )


def _reveal(session: Session, story: PokerStory, deck: poker.Deck) -> None:
    story.status = poker.StoryStatus.REVEALED.value
    if story.round == 1:
        votes = session.scalars(
            select(PokerVote).where(
                PokerVote.team_id == story.team_id, PokerVote.story_id == story.id, PokerVote.round == 1
            )
        )
        result = poker.round_result(deck, [poker.Vote(v.user_id, v.card) for v in votes])
        story.first_round_consensus = result.consensus


def reveal(session: Session, *, team_id: str, story_id: int, round: int, user_id: str) -> bool:
    """Reveal the round's votes; False when it was revealed already (a double click)."""
    story = _locked_story(session, team_id=team_id, story_id=story_id)
    parent = get_session(session, team_id=team_id, session_id=story.session_id)
    poker.check_may_reveal(
        user_id=user_id, facilitator_id=parent.facilitator_id, policy=poker.RevealPolicy(parent.reveal_policy)
    )
    if story.status != poker.StoryStatus.VOTING or story.round != round:
        return False
    if my_vote_count(session, team_id=team_id, story_id=story_id, round=round) == 0:
        raise NotAllowed("Nobody has voted yet.")
    _reveal(session, story, parent.deck)
    return True


def my_vote_count(session: Session, *, team_id: str, story_id: int, round: int) -> int:
    return session.scalar(
        select(func.count()).select_from(PokerVote).where(
            PokerVote.team_id == team_id, PokerVote.story_id == story_id, PokerVote.round == round
        )
    ) or 0


def revote(session: Session, *, team_id: str, story_id: int, round: int, user_id: str) -> bool:
    """Start a new round of a revealed story; earlier rounds stay stored. False when already done."""
    story = _locked_story(session, team_id=team_id, story_id=story_id)
    parent = get_session(session, team_id=team_id, session_id=story.session_id)
    poker.check_is_facilitator(user_id=user_id, facilitator_id=parent.facilitator_id, what="start a re-vote")
    if story.status != poker.StoryStatus.REVEALED or story.round != round or parent.ended_at is not None:
        return False
    story.round = round + 1
    story.status = poker.StoryStatus.VOTING.value
    return True


def decide(
    session: Session,
    *,
    team_id: str,
    story_id: int,
    round: int,
    user_id: str,
    estimate: str | None,
    now: datetime,
) -> Decision:
    """Accept `estimate` (or skip with None) for a revealed story and open the next one."""
    story = _locked_story(session, team_id=team_id, story_id=story_id)
    parent = get_session(session, team_id=team_id, session_id=story.session_id)
    what = "accept an estimate" if estimate is not None else "skip a story"
    poker.check_is_facilitator(user_id=user_id, facilitator_id=parent.facilitator_id, what=what)
    allowed = {poker.StoryStatus.REVEALED.value} if estimate is not None else {
        poker.StoryStatus.REVEALED.value, poker.StoryStatus.VOTING.value
    }
    if story.status not in allowed or story.round != round or parent.ended_at is not None:
        return Decision(decided=False, next_story_id=None)
    if estimate is not None:
        if estimate not in parent.deck.estimates:
            raise NotAllowed("That value is not a card of this deck.")
        story.status = poker.StoryStatus.ACCEPTED.value
        story.estimate = estimate
        story.points = parent.deck.points(estimate)
        story.accepted_by = user_id
    else:
        story.status = poker.StoryStatus.SKIPPED.value
    story.decided_at = now
    following = session.scalar(
        select(PokerStory)
        .where(
            PokerStory.team_id == team_id,
            PokerStory.session_id == parent.id,
            PokerStory.status == poker.StoryStatus.PENDING.value,
        )
        .order_by(PokerStory.position)
        .limit(1)
    )
    if following is None:
        return Decision(decided=True, next_story_id=None)
    following.status = poker.StoryStatus.VOTING.value
    session.flush()
    return Decision(decided=True, next_story_id=following.id)


# -- catching up ------------------------------------------------------------------------------------------------------


def unposted_stories(session: Session, *, limit: int = 50) -> list[tuple[str, int]]:
    """(team_id, story id) of stories open for voting whose message was never posted."""
    rows = session.execute(
        select(PokerStory.team_id, PokerStory.id)
        .join(PokerSession, PokerSession.id == PokerStory.session_id)
        .where(
            PokerStory.status == poker.StoryStatus.VOTING.value,
            PokerStory.message_ts.is_(None),
            PokerSession.parent_ts.is_not(None),
            PokerSession.ended_at.is_(None),
            workspaces.active_clause(PokerStory.team_id),
        )
        .limit(limit)
    )
    return [(team_id, story_id) for team_id, story_id in rows]


# -- for the sprint report and the App Home ------------------------------------------------------------------------


def accepted_estimates(
    session: Session, *, team_id: str, channel_id: str, start: datetime, end: datetime
) -> list[AcceptedEstimate]:
    """Estimates accepted in the channel's sessions with `start <= accepted_at < end`, oldest first."""
    rows = session.execute(
        select(PokerStory, PokerSession.channel_id)
        .join(PokerSession, PokerSession.id == PokerStory.session_id)
        .where(
            PokerStory.team_id == team_id,
            PokerSession.team_id == team_id,
            PokerSession.channel_id == channel_id,
            PokerStory.status == poker.StoryStatus.ACCEPTED.value,
            PokerStory.decided_at >= start,
            PokerStory.decided_at < end,
        )
        .order_by(PokerStory.decided_at, PokerStory.id)
    )
    found = []
    for story, channel in rows:
        assert story.estimate is not None
        assert story.decided_at is not None
        found.append(
            AcceptedEstimate(
                team_id=team_id,
                channel_id=channel,
                session_id=story.session_id,
                story_id=story.id,
                story_key=story.key,
                title=story.title,
                estimate=story.estimate,
                points=story.points,
                rounds=story.round,
                accepted_by=story.accepted_by,
                accepted_at=story.decided_at,
            )
        )
    return found


def estimation_stats(
    session: Session, *, team_id: str, channel_id: str, start: datetime, end: datetime
) -> EstimationStats:
    """First-round consensus and re-vote figures of the stories decided in the channel in [start, end)."""
    accepted = accepted_estimates(session, team_id=team_id, channel_id=channel_id, start=start, end=end)
    consensus_ids = set(
        session.scalars(
            select(PokerStory.id).where(
                PokerStory.team_id == team_id,
                PokerStory.id.in_([a.story_id for a in accepted] or [-1]),
                PokerStory.first_round_consensus.is_(True),
            )
        )
    )
    skipped = session.scalar(
        select(func.count())
        .select_from(PokerStory)
        .join(PokerSession, PokerSession.id == PokerStory.session_id)
        .where(
            PokerStory.team_id == team_id,
            PokerSession.channel_id == channel_id,
            PokerStory.status == poker.StoryStatus.SKIPPED.value,
            and_(PokerStory.decided_at >= start, PokerStory.decided_at < end),
        )
    )
    return EstimationStats(
        stories_accepted=len(accepted),
        stories_skipped=skipped or 0,
        first_round_consensus=len(consensus_ids),
        revoted=len([a for a in accepted if a.rounds > 1]),
        total_points=sum(a.points for a in accepted if a.points is not None),
    )


def stories_awaiting_vote(session: Session, *, team_id: str, user_id: str) -> list[AwaitingVote]:
    """Stories open for voting in sessions listing `user_id` as a participant, where they have not voted yet."""
    rows = session.execute(
        select(PokerStory, PokerSession)
        .join(PokerSession, PokerSession.id == PokerStory.session_id)
        .join(
            PokerParticipant,
            and_(PokerParticipant.session_id == PokerSession.id, PokerParticipant.user_id == user_id),
        )
        .where(
            PokerStory.team_id == team_id,
            PokerSession.ended_at.is_(None),
            PokerStory.status == poker.StoryStatus.VOTING.value,
        )
        .order_by(PokerStory.id)
    )
    found = []
    for story, parent in rows:
        if my_vote(session, team_id=team_id, story_id=story.id, round=story.round, user_id=user_id) is None:
            found.append(
                AwaitingVote(
                    team_id=team_id,
                    channel_id=parent.channel_id,
                    session_id=parent.id,
                    story_id=story.id,
                    message_ts=story.message_ts,
                    parent_ts=parent.parent_ts,
                    label=poker.StoryDraft(story.key, story.title).label,
                )
            )
    return found


def channels_of(session: Session, *, team_id: str, user_id: str) -> set[str]:
    """The team channels of poker sessions `user_id` facilitated, was listed in, or voted in."""
    facilitated = select(PokerSession.channel_id).where(PokerSession.team_id == team_id,
                                                        PokerSession.facilitator_id == user_id)
    listed = (select(PokerSession.channel_id)
              .join(PokerParticipant, PokerParticipant.session_id == PokerSession.id)
              .where(PokerSession.team_id == team_id, PokerParticipant.user_id == user_id))
    voted = (select(PokerSession.channel_id)
             .join(PokerStory, PokerStory.session_id == PokerSession.id)
             .join(PokerVote, PokerVote.story_id == PokerStory.id)
             .where(PokerSession.team_id == team_id, PokerVote.team_id == team_id, PokerVote.user_id == user_id))
    return set(session.scalars(facilitated.union(listed, voted)))
