"""Quick polls, their options and votes, as rows.

A vote row is unique per (poll, voter, option). In an anonymous poll the voter column holds a keyed hash of the
person (never their user id), so each person still votes once and nothing stored names them.

The use cases at the end change these rows and queue the poll's post and redraws through the outbox in the caller's
transaction; the poll's message is rendered from the current rows when it is delivered (bot/jobs/polls.py).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from ceremonies import polls
from ceremonies.errors import NotAllowed, NotFound
from storage import due, outbox
from storage.models import SLACK_ID_LENGTH, Base

TS_LENGTH = 32
POLL = "polls.poll"  # the kind of a poll's post, and the renderer of its message
POLL_REDRAW = "polls.poll.redraw"

VOTER_LENGTH = 64  # a user id, or the hex SHA-256 keyed hash of one in anonymous polls


class Poll(due.Scheduled, Base):
    """A quick poll posted in a channel; `next_due_at` is its closing time while it is open (storage.due)."""

    __tablename__ = "polls"
    __due_kind__ = "poll"
    __table_args__ = (Index("ix_polls_team_channel", "team_id", "channel_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    channel_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    creator_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    question: Mapped[str] = mapped_column(String(polls.QUESTION_MAX_LENGTH))
    multi: Mapped[bool] = mapped_column(Boolean, default=False)
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
    closes_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    message_ts: Mapped[str | None] = mapped_column(String(TS_LENGTH))


class PollOption(Base):
    __tablename__ = "poll_options"
    __table_args__ = (UniqueConstraint("poll_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(String(polls.OPTION_MAX_LENGTH))


class PollVote(Base):
    __tablename__ = "poll_votes"
    __table_args__ = (UniqueConstraint("poll_id", "voter", "option_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"))
    option_id: Mapped[int] = mapped_column(ForeignKey("poll_options.id", ondelete="CASCADE"))
    voter: Mapped[str] = mapped_column(String(VOTER_LENGTH))
    voted_at: Mapped[datetime]


@dataclass(frozen=True)
class PollState:
    """Everything the poll's message shows, read in one transaction."""

    poll_id: int
    team_id: str
    channel_id: str
    creator_id: str
    question: str
    multi: bool
    anonymous: bool
    closes_at: datetime | None
    closed: bool
    message_ts: str | None
    option_ids: tuple[int, ...]
    tally: polls.Tally


def voter_key(*, secret: str, team_id: str, poll_id: int, user_id: str, anonymous: bool) -> str:
    """What a vote row stores for its voter: the user id, or in anonymous polls a keyed hash nobody can reverse."""
    if not anonymous:
        return user_id
    message = f"{team_id}:{poll_id}:{user_id}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def create_poll(
    session: Session, *, team_id: str, channel_id: str, creator_id: str, draft: polls.PollDraft, now: datetime
) -> Poll:
    poll = Poll(
        team_id=team_id,
        channel_id=channel_id,
        creator_id=creator_id,
        question=draft.question,
        multi=draft.multi,
        anonymous=draft.anonymous,
        created_at=now,
        closes_at=draft.closes_at(now),
        next_due_at=draft.closes_at(now),
    )
    session.add(poll)
    session.flush()
    for position, text in enumerate(draft.options):
        session.add(PollOption(team_id=team_id, poll_id=poll.id, position=position, text=text))
    session.flush()
    return poll


def set_message_ts(session: Session, *, team_id: str, poll_id: int, ts: str) -> None:
    session.execute(
        update(Poll)
        .where(Poll.team_id == team_id, Poll.id == poll_id)
        .values(message_ts=ts)
        .execution_options(synchronize_session=False)
    )


def get_poll(session: Session, *, team_id: str, poll_id: int, lock: bool = False) -> Poll:
    query = select(Poll).where(Poll.team_id == team_id, Poll.id == poll_id).execution_options(populate_existing=True)
    poll = session.scalar(query.with_for_update() if lock else query)
    if poll is None:
        raise NotFound("That poll no longer exists.")
    return poll


def _upsert(session: Session) -> Any:
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def vote(
    session: Session, *, team_id: str, poll_id: int, option_id: int, voter: str, now: datetime
) -> bool:
    """Choose an option; in a single-choice poll this replaces the voter's earlier choice. False: nothing changed."""
    poll = get_poll(session, team_id=team_id, poll_id=poll_id, lock=True)
    if poll.closed_at is not None:
        raise NotAllowed("This poll is closed.")
    option = session.scalar(
        select(PollOption.id).where(
            PollOption.team_id == team_id, PollOption.poll_id == poll_id, PollOption.id == option_id
        )
    )
    if option is None:
        raise NotFound("That option is not part of this poll.")
    removed = []
    if not poll.multi:
        removed = list(
            session.scalars(
                delete(PollVote)
                .where(
                    PollVote.team_id == team_id,
                    PollVote.poll_id == poll_id,
                    PollVote.voter == voter,
                    PollVote.option_id != option_id,
                )
                .returning(PollVote.id)
                .execution_options(synchronize_session=False)
            )
        )
    added = session.execute(
        _upsert(session)(PollVote)
        .values(team_id=team_id, poll_id=poll_id, option_id=option_id, voter=voter, voted_at=now)
        .on_conflict_do_nothing(index_elements=["poll_id", "voter", "option_id"])
        .returning(PollVote.id)
    ).scalar_one_or_none()
    return bool(removed) or added is not None


def clear_votes(session: Session, *, team_id: str, poll_id: int, voter: str) -> bool:
    """Withdraw all of a voter's choices. False: there were none."""
    poll = get_poll(session, team_id=team_id, poll_id=poll_id, lock=True)
    if poll.closed_at is not None:
        raise NotAllowed("This poll is closed.")
    removed = list(
        session.scalars(
            delete(PollVote)
            .where(PollVote.team_id == team_id, PollVote.poll_id == poll_id, PollVote.voter == voter)
            .returning(PollVote.id)
            .execution_options(synchronize_session=False)
        )
    )
    return bool(removed)


def choices_of(session: Session, *, team_id: str, poll_id: int, voter: str) -> list[str]:
    """The option texts a voter has chosen, in the poll's order."""
    return list(
        session.scalars(
            select(PollOption.text)
            .join(PollVote, PollVote.option_id == PollOption.id)
            .where(PollVote.team_id == team_id, PollVote.poll_id == poll_id, PollVote.voter == voter)
            .order_by(PollOption.position)
        )
    )


def close(session: Session, *, team_id: str, poll_id: int, now: datetime, user_id: str | None = None) -> bool:
    """Close the poll (by its creator, or by the clock when `user_id` is None). False: it was closed already."""
    poll = get_poll(session, team_id=team_id, poll_id=poll_id, lock=True)
    if user_id is not None:
        polls.check_may_close(user_id=user_id, creator_id=poll.creator_id)
    if poll.closed_at is not None:
        return False
    poll.closed_at = now
    poll.next_due_at = None
    return True


def due_to_close(session: Session, *, now: datetime, limit: int = 100) -> list[tuple[str, int]]:
    """(team_id, poll id) of open polls whose closing time has come, claimed for this process (storage.due)."""
    return [(p.team_id, p.id) for p in due.claim(session, Poll, now=now, limit=limit,
                                                 where=[Poll.closed_at.is_(None)])]


def poll_state(session: Session, *, team_id: str, poll_id: int) -> PollState:
    """The poll as its message should show it now."""
    poll = get_poll(session, team_id=team_id, poll_id=poll_id)
    options = list(
        session.scalars(
            select(PollOption)
            .where(PollOption.team_id == team_id, PollOption.poll_id == poll_id)
            .order_by(PollOption.position)
        )
    )
    votes = session.execute(
        select(PollVote.option_id, PollVote.voter)
        .where(PollVote.team_id == team_id, PollVote.poll_id == poll_id)
        .order_by(PollVote.voted_at, PollVote.id)
    ).all()
    by_option: dict[int, list[str]] = {o.id: [] for o in options}
    for option_id, voter in votes:
        by_option.setdefault(option_id, []).append(voter)
    tally = polls.Tally(
        options=tuple(
            polls.OptionTally(
                text=o.text,
                votes=len(by_option[o.id]),
                voters=() if poll.anonymous else tuple(by_option[o.id]),
            )
            for o in options
        ),
        voters=len({voter for _option, voter in votes}),
    )
    return PollState(
        poll_id=poll.id,
        team_id=team_id,
        channel_id=poll.channel_id,
        creator_id=poll.creator_id,
        question=poll.question,
        multi=poll.multi,
        anonymous=poll.anonymous,
        closes_at=poll.closes_at,
        closed=poll.closed_at is not None,
        message_ts=poll.message_ts,
        option_ids=tuple(o.id for o in options),
        tally=tally,
    )


@dataclass(frozen=True)
class OpenPoll:
    """An open poll someone has not voted in yet, for their App Home."""

    poll_id: int
    channel_id: str
    question: str
    anonymous: bool
    closes_at: datetime | None
    message_ts: str


def open_polls_not_voted(
    session: Session, *, team_id: str, channel_ids: set[str], user_id: str, secret: str, now: datetime
) -> list[OpenPoll]:
    """Open polls of these channels in which `user_id` has not voted, oldest first.

    In an anonymous poll the person is looked for by the same keyed hash their vote would carry (see `voter_key`),
    so nothing stored or logged ties them to the poll.
    """
    if not channel_ids:
        return []
    polls_open = list(
        session.scalars(
            select(Poll)
            .where(
                Poll.team_id == team_id,
                Poll.channel_id.in_(channel_ids),
                Poll.closed_at.is_(None),
                Poll.message_ts.is_not(None),
                or_(Poll.closes_at.is_(None), Poll.closes_at > now),
            )
            .order_by(Poll.created_at, Poll.id)
        )
    )
    if not polls_open:
        return []
    keys = {
        poll.id: voter_key(secret=secret, team_id=team_id, poll_id=poll.id, user_id=user_id, anonymous=poll.anonymous)
        for poll in polls_open
    }
    voted = {
        (poll_id, voter)
        for poll_id, voter in session.execute(
            select(PollVote.poll_id, PollVote.voter)
            .where(PollVote.team_id == team_id, PollVote.poll_id.in_(keys), PollVote.voter.in_(set(keys.values())))
            .distinct()
        )
    }
    return [
        OpenPoll(poll.id, poll.channel_id, poll.question, poll.anonymous, poll.closes_at, poll.message_ts or "")
        for poll in polls_open
        if (poll.id, keys[poll.id]) not in voted
    ]


# -- use cases: the change and the messages it causes, in one transaction ------------------------------------------


def poll_key(poll_id: int) -> str:
    """The outbox key of a poll's message in its channel."""
    return f"{POLL}:{poll_id}"


@dataclass(frozen=True)
class Voted:
    """A vote (or its withdrawal) recorded; what the voter is told privately."""

    changed: bool  # False: nothing changed (a double click or a retried delivery)
    choices: tuple[str, ...]  # the voter's choices now
    anonymous: bool


def post(session: Session, *, team_id: str, channel_id: str, creator_id: str, draft: polls.PollDraft,
         now: datetime) -> int:
    """Store a poll and queue its message in the channel (drawn when delivered); its id."""
    poll = create_poll(session, team_id=team_id, channel_id=channel_id, creator_id=creator_id, draft=draft, now=now)
    outbox.add(session, team_id=team_id, key=poll_key(poll.id), kind=POLL, channel=channel_id, render=POLL,
               args={"team_id": team_id, "poll_id": poll.id}, now=now)
    return poll.id


def redraw(session: Session, *, team_id: str, poll_id: int, now: datetime) -> None:
    """Queue a redraw of the poll's message from its current counts (once, however many votes come first)."""
    poll = get_poll(session, team_id=team_id, poll_id=poll_id)
    if poll.message_ts is None:  # not posted yet: `posted` redraws it once it is
        return
    outbox.redraw(session, team_id=team_id, key=f"redraw:{POLL}:{poll_id}", kind=POLL_REDRAW, render=POLL,
                  args={"team_id": team_id, "poll_id": poll_id}, channel=poll.channel_id, ts=poll.message_ts,
                  now=now)


def posted(session: Session, *, team_id: str, poll_id: int, ts: str, now: datetime) -> None:
    """Remember where the poll's message is, and redraw it once: a vote cast while it was on its way to Slack (after
    it was drawn, before its ts was stored) then shows too."""
    set_message_ts(session, team_id=team_id, poll_id=poll_id, ts=ts)
    state = poll_state(session, team_id=team_id, poll_id=poll_id)
    if state.tally.voters or state.closed:  # else it shows as drawn
        redraw(session, team_id=team_id, poll_id=poll_id, now=now)


def voter_of(session: Session, *, secret: str, team_id: str, poll_id: int, user_id: str) -> tuple[str, bool]:
    """What the poll's vote rows store for `user_id` (see `voter_key`), and whether the poll is anonymous."""
    anonymous = get_poll(session, team_id=team_id, poll_id=poll_id).anonymous
    return voter_key(secret=secret, team_id=team_id, poll_id=poll_id, user_id=user_id, anonymous=anonymous), anonymous


def choose(session: Session, *, secret: str, team_id: str, poll_id: int, option_id: int, user_id: str,
           now: datetime) -> Voted:
    """An option clicked: record the vote once and redraw the counts."""
    voter, anonymous = voter_of(session, secret=secret, team_id=team_id, poll_id=poll_id, user_id=user_id)
    changed = vote(session, team_id=team_id, poll_id=poll_id, option_id=option_id, voter=voter, now=now)
    if changed:
        redraw(session, team_id=team_id, poll_id=poll_id, now=now)
    return Voted(changed, tuple(choices_of(session, team_id=team_id, poll_id=poll_id, voter=voter)), anonymous)


def withdraw(session: Session, *, secret: str, team_id: str, poll_id: int, user_id: str, now: datetime) -> Voted:
    """Withdraw all of the person's choices and redraw the counts."""
    voter, anonymous = voter_of(session, secret=secret, team_id=team_id, poll_id=poll_id, user_id=user_id)
    changed = clear_votes(session, team_id=team_id, poll_id=poll_id, voter=voter)
    if changed:
        redraw(session, team_id=team_id, poll_id=poll_id, now=now)
    return Voted(changed, (), anonymous)


def close_and_redraw(session: Session, *, team_id: str, poll_id: int, now: datetime,
                     user_id: str | None = None) -> bool:
    """Close the poll (by its creator, or by the clock) and show the final counts; False: it was closed already."""
    closed = close(session, team_id=team_id, poll_id=poll_id, now=now, user_id=user_id)
    if closed:
        redraw(session, team_id=team_id, poll_id=poll_id, now=now)
    return closed


def delete_poll(session: Session, *, team_id: str, poll_id: int) -> None:
    """Forget a poll whose message could never be posted."""
    session.execute(delete(Poll).where(Poll.team_id == team_id, Poll.id == poll_id)
                    .execution_options(synchronize_session=False))
