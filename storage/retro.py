"""Retro boards, their columns, cards, votes and action items (with every review of an item) as rows.

On an anonymous board a card's author is stored only as a keyed hash (`author_key`), never as a user id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from ceremonies import retro as domain
from ceremonies.retro import ActionStatus, Phase, ReviewOutcome
from storage import due
from storage import people as people_store
from storage.models import SLACK_ID_LENGTH, Base

TS_LENGTH = 32
CLICK_ID_LENGTH = 64


class RetroBoard(Base):
    """One retrospective of a team channel; the person who started it is its facilitator."""

    __tablename__ = "retro_boards"
    __table_args__ = (Index("ix_retro_boards_team_channel", "team_id", "channel_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    channel_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    title: Mapped[str] = mapped_column(String(domain.TITLE_MAX))
    template: Mapped[str] = mapped_column(String(32))
    anonymous: Mapped[bool] = mapped_column(Boolean)
    votes_per_person: Mapped[int] = mapped_column(Integer)
    multiple_votes_per_card: Mapped[bool] = mapped_column(Boolean)
    facilitator_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    phase: Mapped[str] = mapped_column(String(16))
    message_ts: Mapped[str | None] = mapped_column(String(TS_LENGTH))
    created_at: Mapped[datetime]
    phase_changed_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]

    @property
    def current_phase(self) -> Phase:
        return Phase(self.phase)


class RetroColumn(Base):
    __tablename__ = "retro_columns"
    __table_args__ = (UniqueConstraint("board_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    board_id: Mapped[int] = mapped_column(ForeignKey("retro_boards.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(domain.COLUMN_NAME_MAX))


class RetroCard(Base):
    """A card. `author_id` is set on a named board, `author_key` (an HMAC) on an anonymous one, never both."""

    __tablename__ = "retro_cards"
    __table_args__ = (
        Index("ix_retro_cards_board", "board_id"),
        CheckConstraint("author_id IS NULL OR author_key IS NULL", name="one_author_kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    board_id: Mapped[int] = mapped_column(ForeignKey("retro_boards.id", ondelete="CASCADE"))
    column: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(String(domain.CARD_TEXT_MAX))
    author_id: Mapped[str | None] = mapped_column(String(SLACK_ID_LENGTH))
    author_key: Mapped[str | None] = mapped_column(String(domain.AUTHOR_KEY_LENGTH))
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("retro_cards.id"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class RetroVote(Base):
    """One dot of a person's budget: slot 0 … budget-1, so the database itself refuses a vote over the budget."""

    __tablename__ = "retro_votes"
    __table_args__ = (
        UniqueConstraint("board_id", "voter_id", "slot", name="uq_retro_votes_slot"),
        UniqueConstraint("board_id", "voter_id", "click_id", name="uq_retro_votes_click"),
        Index("ix_retro_votes_card", "card_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    board_id: Mapped[int] = mapped_column(ForeignKey("retro_boards.id", ondelete="CASCADE"))
    card_id: Mapped[int] = mapped_column(ForeignKey("retro_cards.id", ondelete="CASCADE"))
    voter_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    slot: Mapped[int] = mapped_column(Integer)
    click_id: Mapped[str] = mapped_column(String(CLICK_ID_LENGTH))
    cast_at: Mapped[datetime]


class RetroActionItem(due.Scheduled, Base):
    """An action item: who does what by when, and how it ended (done or dropped, and when).

    `next_due_at`: the owner's reminder (09:00 on the due date, their time) while the item is open and unreminded;
    due at once when the item is added, and its job (bot/jobs/retro.py) computes the moment from the owner's
    timezone."""

    __tablename__ = "retro_action_items"
    __due_kind__ = "action_item_reminders"
    __table_args__ = (
        Index("ix_retro_action_items_channel", "team_id", "channel_id", "status"),
        Index("ix_retro_action_items_owner", "team_id", "owner_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    channel_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    board_id: Mapped[int] = mapped_column(ForeignKey("retro_boards.id", ondelete="CASCADE"))
    card_id: Mapped[int | None] = mapped_column(ForeignKey("retro_cards.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(String(domain.ACTION_TEXT_MAX))
    owner_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    due_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    created_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(String(SLACK_ID_LENGTH))
    carried_count: Mapped[int] = mapped_column(Integer, default=0)


class RetroActionReview(Base):
    """An open item brought up at a later retro, and what its owner or the facilitator answered (if anything)."""

    __tablename__ = "retro_action_reviews"
    __table_args__ = (UniqueConstraint("action_item_id", "board_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    action_item_id: Mapped[int] = mapped_column(ForeignKey("retro_action_items.id", ondelete="CASCADE"))
    board_id: Mapped[int] = mapped_column(ForeignKey("retro_boards.id", ondelete="CASCADE"))
    outcome: Mapped[str | None] = mapped_column(String(16))
    message_ts: Mapped[str | None] = mapped_column(String(TS_LENGTH))
    asked_at: Mapped[datetime]
    decided_by: Mapped[str | None] = mapped_column(String(SLACK_ID_LENGTH))
    decided_at: Mapped[datetime | None]


# -- boards --------------------------------------------------------------------------------------------------------
def create_board(
    session: Session, *, team_id: str, channel_id: str, setup: domain.RetroSetup, facilitator_id: str, now: datetime
) -> RetroBoard:
    """Start a board in the collect phase; refuses a second running board in the channel."""
    if active_board(session, team_id=team_id, channel_id=channel_id) is not None:
        raise domain.RetroAlreadyRunning
    board = RetroBoard(
        team_id=team_id,
        channel_id=channel_id,
        title=setup.title,
        template=setup.template.value,
        anonymous=setup.anonymous,
        votes_per_person=setup.votes_per_person,
        multiple_votes_per_card=setup.multiple_votes_per_card,
        facilitator_id=facilitator_id,
        phase=Phase.COLLECT.value,
        created_at=now,
        phase_changed_at=now,
    )
    session.add(board)
    session.flush()
    for position, name in enumerate(setup.columns):
        session.add(RetroColumn(team_id=team_id, board_id=board.id, position=position, name=name))
    session.flush()
    return board


def delete_board(session: Session, *, team_id: str, board_id: int) -> None:
    """Remove a board and everything on it (a board that could not be posted)."""
    session.execute(delete(RetroBoard).where(RetroBoard.team_id == team_id, RetroBoard.id == board_id))


def get_board(session: Session, *, team_id: str, board_id: int, lock: bool = False) -> RetroBoard:
    """The board, locked for the rest of the transaction when `lock` (SQLite's writer lock already covers it)."""
    query = select(RetroBoard).where(RetroBoard.team_id == team_id, RetroBoard.id == board_id)
    if lock:
        query = query.with_for_update()
    board = session.scalar(query)
    if board is None:
        raise domain.BoardNotFound
    if lock:
        session.refresh(board)
    return board


def active_board(session: Session, *, team_id: str, channel_id: str) -> RetroBoard | None:
    """The channel's board that is not closed yet, if any."""
    return session.scalar(
        select(RetroBoard)
        .where(RetroBoard.team_id == team_id, RetroBoard.channel_id == channel_id, RetroBoard.phase != Phase.CLOSED)
        .order_by(RetroBoard.id.desc())
        .limit(1)
    )


def latest_board(session: Session, *, team_id: str, channel_id: str) -> RetroBoard | None:
    """The channel's most recent board, closed or not."""
    return session.scalar(
        select(RetroBoard)
        .where(RetroBoard.team_id == team_id, RetroBoard.channel_id == channel_id)
        .order_by(RetroBoard.id.desc())
        .limit(1)
    )


def board_columns(session: Session, *, team_id: str, board_id: int) -> tuple[str, ...]:
    rows = session.scalars(
        select(RetroColumn.name)
        .where(RetroColumn.team_id == team_id, RetroColumn.board_id == board_id)
        .order_by(RetroColumn.position)
    )
    return tuple(rows)


def set_message_ts(session: Session, *, team_id: str, board_id: int, ts: str) -> None:
    session.execute(
        update(RetroBoard).where(RetroBoard.team_id == team_id, RetroBoard.id == board_id).values(message_ts=ts)
    )


def advance(session: Session, *, team_id: str, board_id: int, target: Phase, user_id: str, now: datetime) -> bool:
    """Move the board to `target` (the facilitator only, one step at a time); False when it was there already."""
    board = get_board(session, team_id=team_id, board_id=board_id, lock=True)
    moved = domain.check_advance(
        phase=board.current_phase, target=target, facilitator_id=board.facilitator_id, user_id=user_id
    )
    if moved:
        board.phase = target.value
        board.phase_changed_at = now
        if target is Phase.CLOSED:
            board.closed_at = now
        session.flush()
    return moved


# -- cards ---------------------------------------------------------------------------------------------------------
def add_card(
    session: Session,
    *,
    team_id: str,
    board_id: int,
    column: int,
    text: str,
    author_id: str | None,
    author_key: str | None,
    now: datetime,
) -> RetroCard:
    """Store a card during collection. Exactly one of `author_id` (named board) and `author_key` (anonymous) is given.
    The same card from the same author in the same column again (a form submitted twice) is the card already stored."""
    board = get_board(session, team_id=team_id, board_id=board_id, lock=True)  # repeated submissions queue here
    domain.require_phase(board.current_phase, [Phase.COLLECT], "Adding a card")
    if board.anonymous and author_id is not None:
        raise ValueError("an anonymous board never stores an author's user id")
    if (author_id is None) == (author_key is None):
        raise ValueError("give exactly one of author_id and author_key")
    columns = board_columns(session, team_id=team_id, board_id=board_id)
    if not 0 <= column < len(columns):
        raise domain.InvalidInput("Choose one of the board's columns.")
    text = domain.validate_card_text(text)
    same = session.scalar(select(RetroCard).where(
        RetroCard.team_id == team_id, RetroCard.board_id == board_id, RetroCard.column == column, RetroCard.text == text,
        RetroCard.author_id == author_id if author_id is not None else RetroCard.author_key == author_key))
    if same is not None:
        return same
    card = RetroCard(
        team_id=team_id,
        board_id=board_id,
        column=column,
        text=text,
        author_id=author_id,
        author_key=author_key,
        created_at=now,
        updated_at=now,
    )
    session.add(card)
    session.flush()
    return card


def cards(session: Session, *, team_id: str, board_id: int) -> list[RetroCard]:
    return list(
        session.scalars(
            select(RetroCard)
            .where(RetroCard.team_id == team_id, RetroCard.board_id == board_id)
            .order_by(RetroCard.column, RetroCard.id)
        )
    )


def own_cards(
    session: Session, *, team_id: str, board_id: int, author_id: str | None, author_key: str | None
) -> list[RetroCard]:
    """The cards one person wrote on a board (found by user id on a named board, by keyed hash on an anonymous one)."""
    query = select(RetroCard).where(RetroCard.team_id == team_id, RetroCard.board_id == board_id)
    if author_key is not None:
        query = query.where(RetroCard.author_key == author_key)
    else:
        query = query.where(RetroCard.author_id == author_id)
    return list(session.scalars(query.order_by(RetroCard.id)))


def own_card(
    session: Session, *, team_id: str, board_id: int, card_id: int, author_id: str | None, author_key: str | None
) -> RetroCard:
    """One of the person's own cards on a board still collecting; refuses other people's cards."""
    board = get_board(session, team_id=team_id, board_id=board_id)
    domain.require_phase(board.current_phase, [Phase.COLLECT], "Changing a card")
    card = session.scalar(
        select(RetroCard).where(RetroCard.team_id == team_id, RetroCard.board_id == board_id, RetroCard.id == card_id)
    )
    if card is None:
        raise domain.CardNotFound
    mine = card.author_key == author_key if author_key is not None else card.author_id == author_id
    if not mine:
        raise domain.NotYourCard
    return card


def edit_card(session: Session, *, card: RetroCard, column: int, text: str, columns: int, now: datetime) -> None:
    if not 0 <= column < columns:
        raise domain.InvalidInput("Choose one of the board's columns.")
    card.text = domain.validate_card_text(text)
    card.column = column
    card.updated_at = now
    session.flush()


def delete_card(session: Session, *, card: RetroCard) -> None:
    session.delete(card)
    session.flush()


def contributors(session: Session, *, team_id: str, board_id: int) -> tuple[list[str], int]:
    """Who has written cards: user ids on a named board (empty on an anonymous one) and how many people in all."""
    named = list(
        session.scalars(
            select(RetroCard.author_id)
            .where(RetroCard.team_id == team_id, RetroCard.board_id == board_id, RetroCard.author_id.is_not(None))
            .group_by(RetroCard.author_id)
            .order_by(func.min(RetroCard.id))
        )
    )
    hashed = session.scalar(
        select(func.count(func.distinct(RetroCard.author_key))).where(
            RetroCard.team_id == team_id, RetroCard.board_id == board_id
        )
    )
    return [n for n in named if n], len(named) + int(hashed or 0)


def column_counts(session: Session, *, team_id: str, board_id: int) -> dict[int, int]:
    rows = session.execute(
        select(RetroCard.column, func.count(RetroCard.id))
        .where(RetroCard.team_id == team_id, RetroCard.board_id == board_id)
        .group_by(RetroCard.column)
    )
    return {column: count for column, count in rows}


def merge_cards(
    session: Session, *, team_id: str, board_id: int, source_id: int, target_id: int, user_id: str
) -> None:
    """Merge card `source_id` (and its group) into `target_id`'s group: the facilitator only, while grouping."""
    board = get_board(session, team_id=team_id, board_id=board_id, lock=True)
    domain.require_phase(board.current_phase, [Phase.GROUP], "Merging cards")
    if user_id != board.facilitator_id:
        raise domain.NotFacilitator
    domain.check_merge(domain_cards(session, board=board), source_id=source_id, target_id=target_id)
    session.execute(
        update(RetroCard)
        .where(RetroCard.team_id == team_id, RetroCard.board_id == board_id, RetroCard.merged_into_id == source_id)
        .values(merged_into_id=target_id)
    )
    session.execute(
        update(RetroCard)
        .where(RetroCard.team_id == team_id, RetroCard.board_id == board_id, RetroCard.id == source_id)
        .values(merged_into_id=target_id)
    )


def vote_counts(session: Session, *, team_id: str, board_id: int) -> dict[int, int]:
    rows = session.execute(
        select(RetroVote.card_id, func.count(RetroVote.id))
        .where(RetroVote.team_id == team_id, RetroVote.board_id == board_id)
        .group_by(RetroVote.card_id)
    )
    return {card_id: count for card_id, count in rows}


def domain_cards(session: Session, *, board: RetroBoard) -> list[domain.Card]:
    """The board's cards as the domain sees them, with their votes; authors only on a named board."""
    votes = vote_counts(session, team_id=board.team_id, board_id=board.id)
    return [
        domain.Card(
            id=card.id,
            column=card.column,
            text=card.text,
            votes=votes.get(card.id, 0),
            merged_into=card.merged_into_id,
            author_id=None if board.anonymous else card.author_id,
        )
        for card in cards(session, team_id=board.team_id, board_id=board.id)
    ]


# -- votes ---------------------------------------------------------------------------------------------------------
def cast_vote(
    session: Session, *, team_id: str, board_id: int, card_id: int, voter_id: str, click_id: str, now: datetime
) -> int:
    """Put one of the voter's dots on a card's group; returns the votes the voter has left.

    The board row is locked for the transaction (Postgres `FOR UPDATE`; SQLite takes its writer lock at BEGIN), so two
    clicks of one person are counted one after the other; the unique (board, voter, slot) constraint refuses any dot
    past the budget whatever happens, and a delivery seen before (same click id) is not counted again.
    """
    board = get_board(session, team_id=team_id, board_id=board_id, lock=True)
    domain.require_phase(board.current_phase, [Phase.VOTE], "Voting")
    card = session.scalar(
        select(RetroCard).where(RetroCard.team_id == team_id, RetroCard.board_id == board_id, RetroCard.id == card_id)
    )
    if card is None:
        raise domain.CardNotFound
    # A vote on a merged card goes to its group's lead (merging re-points a whole group, so one step is enough).
    lead = card.merged_into_id if card.merged_into_id is not None else card.id
    mine = list(
        session.scalars(
            select(RetroVote).where(
                RetroVote.team_id == team_id, RetroVote.board_id == board_id, RetroVote.voter_id == voter_id
            )
        )
    )
    budget = board.votes_per_person
    if any(vote.click_id == click_id for vote in mine):
        return budget - len(mine)
    domain.check_vote(
        used=len(mine),
        budget=budget,
        on_this_card=sum(1 for vote in mine if vote.card_id == lead),
        multiple_per_card=board.multiple_votes_per_card,
    )
    slot = domain.free_slot((vote.slot for vote in mine), budget)
    session.add(
        RetroVote(
            team_id=team_id, board_id=board_id, card_id=lead, voter_id=voter_id, slot=slot, click_id=click_id,
            cast_at=now,
        )
    )
    session.flush()
    return budget - len(mine) - 1


def reset_votes(session: Session, *, team_id: str, board_id: int, voter_id: str) -> int:
    """Take back all of a person's votes while voting is on; returns their budget."""
    board = get_board(session, team_id=team_id, board_id=board_id, lock=True)
    domain.require_phase(board.current_phase, [Phase.VOTE], "Changing votes")
    session.execute(
        delete(RetroVote).where(
            RetroVote.team_id == team_id, RetroVote.board_id == board_id, RetroVote.voter_id == voter_id
        )
    )
    return board.votes_per_person


def votes_of(session: Session, *, team_id: str, board_id: int, voter_id: str) -> int:
    return int(
        session.scalar(
            select(func.count(RetroVote.id)).where(
                RetroVote.team_id == team_id, RetroVote.board_id == board_id, RetroVote.voter_id == voter_id
            )
        )
        or 0
    )


def voter_count(session: Session, *, team_id: str, board_id: int) -> int:
    return int(
        session.scalar(
            select(func.count(func.distinct(RetroVote.voter_id))).where(
                RetroVote.team_id == team_id, RetroVote.board_id == board_id
            )
        )
        or 0
    )


# -- action items --------------------------------------------------------------------------------------------------
def add_action_item(
    session: Session, *, team_id: str, board_id: int, item: domain.NewActionItem, created_by: str, now: datetime
) -> RetroActionItem:
    """Record an action item on a board that is discussing or collecting actions."""
    board = get_board(session, team_id=team_id, board_id=board_id)
    domain.require_phase(board.current_phase, [Phase.DISCUSS, Phase.ACTIONS], "Adding an action item")
    card_id = item.card_id
    if card_id is not None and session.scalar(
        select(RetroCard.id).where(RetroCard.team_id == team_id, RetroCard.board_id == board_id, RetroCard.id == card_id)
    ) is None:
        raise domain.CardNotFound
    row = RetroActionItem(
        team_id=team_id,
        channel_id=board.channel_id,
        board_id=board_id,
        card_id=card_id,
        text=item.text,
        owner_id=item.owner_id,
        due_date=item.due,
        status=ActionStatus.OPEN.value,
        created_by=created_by,
        created_at=now,
        carried_count=0,
        next_due_at=now if item.due is not None else None,
    )
    session.add(row)
    session.flush()
    return row


def board_action_items(session: Session, *, team_id: str, board_id: int) -> list[RetroActionItem]:
    """Items created at this board, oldest first."""
    return list(
        session.scalars(
            select(RetroActionItem)
            .where(RetroActionItem.team_id == team_id, RetroActionItem.board_id == board_id)
            .order_by(RetroActionItem.id)
        )
    )


def open_action_items(session: Session, *, team_id: str, channel_id: str) -> list[RetroActionItem]:
    """The channel's action items not done nor dropped, by due date (undated last)."""
    return list(
        session.scalars(
            select(RetroActionItem)
            .where(
                RetroActionItem.team_id == team_id,
                RetroActionItem.channel_id == channel_id,
                RetroActionItem.status == ActionStatus.OPEN,
            )
            .order_by(RetroActionItem.due_date.is_(None), RetroActionItem.due_date, RetroActionItem.id)
        )
    )


def open_action_items_for_user(session: Session, *, team_id: str, user_id: str) -> list[RetroActionItem]:
    """The open action items a person owns, in every channel, by due date (undated last). For the App Home."""
    return list(
        session.scalars(
            select(RetroActionItem)
            .where(
                RetroActionItem.team_id == team_id,
                RetroActionItem.owner_id == user_id,
                RetroActionItem.status == ActionStatus.OPEN,
            )
            .order_by(RetroActionItem.due_date.is_(None), RetroActionItem.due_date, RetroActionItem.id)
        )
    )


def get_action_item(session: Session, *, team_id: str, item_id: int) -> RetroActionItem:
    item = session.scalar(
        select(RetroActionItem).where(RetroActionItem.team_id == team_id, RetroActionItem.id == item_id)
    )
    if item is None:
        raise domain.ActionItemNotFound
    return item


def start_reviews(session: Session, *, team_id: str, board: RetroBoard, now: datetime) -> list[RetroActionReview]:
    """Bring the channel's open items from earlier retros to this board, each to be answered Done / Not done / Drop."""
    items = [
        item
        for item in open_action_items(session, team_id=team_id, channel_id=board.channel_id)
        if item.board_id != board.id
    ]
    reviews = []
    for item in items:
        review = RetroActionReview(team_id=team_id, action_item_id=item.id, board_id=board.id, asked_at=now)
        session.add(review)
        reviews.append(review)
    session.flush()
    return reviews


def set_review_message_ts(session: Session, *, team_id: str, review_id: int, ts: str) -> None:
    session.execute(
        update(RetroActionReview)
        .where(RetroActionReview.team_id == team_id, RetroActionReview.id == review_id)
        .values(message_ts=ts)
    )


@dataclass(frozen=True)
class ReviewAnswered:
    review: RetroActionReview
    item: RetroActionItem
    board: RetroBoard
    changed: bool


def answer_review(
    session: Session, *, team_id: str, review_id: int, outcome: ReviewOutcome, user_id: str, now: datetime
) -> ReviewAnswered:
    """Record Done / Not done / Drop for an item brought to a retro; not done leaves it open to come up next time.

    The owner or the facilitator answers, once; the same answer delivered again changes nothing.
    """
    review = session.scalar(
        select(RetroActionReview).where(RetroActionReview.team_id == team_id, RetroActionReview.id == review_id)
    )
    if review is None:
        raise domain.ActionItemNotFound
    board = get_board(session, team_id=team_id, board_id=review.board_id, lock=True)
    session.refresh(review)
    item = get_action_item(session, team_id=team_id, item_id=review.action_item_id)
    if board.current_phase is Phase.CLOSED:
        raise domain.BoardClosed
    domain.check_reviewer(user_id=user_id, owner_id=item.owner_id, facilitator_id=board.facilitator_id)
    if review.outcome is not None:
        if review.outcome == outcome.value:
            return ReviewAnswered(review, item, board, changed=False)
        raise domain.ActionItemSettled
    if item.status != ActionStatus.OPEN:
        raise domain.ActionItemSettled
    review.outcome = outcome.value
    review.decided_by = user_id
    review.decided_at = now
    status = domain.status_after(outcome)
    item.status = status.value
    if status is ActionStatus.OPEN:
        item.carried_count += 1
    else:
        item.resolved_at = now
        item.resolved_by = user_id
        item.next_due_at = None  # nobody is reminded of a settled item
    session.flush()
    return ReviewAnswered(review, item, board, changed=True)


# -- queries for the sprint summary and exports ------------------------------------------------------------------
def retro_stats(session: Session, *, team_id: str, channel_id: str, start: datetime, end: datetime) -> domain.RetroStats:
    """What a channel's retros produced between `start` (inclusive) and `end` (exclusive), for a sprint report.

    - boards: retros started in the period;
    - top_cards: up to five (text, votes) of those retros' most voted groups;
    - action items created / done / dropped in the period, and carried over (answered “Not done” in the period);
    - previous items reviewed / done: the items the period's last retro brought up from earlier retros and how many
      of them were answered Done (their ratio is `completion_rate`).
    """
    boards = list(
        session.scalars(
            select(RetroBoard)
            .where(
                RetroBoard.team_id == team_id,
                RetroBoard.channel_id == channel_id,
                RetroBoard.created_at >= start,
                RetroBoard.created_at < end,
            )
            .order_by(RetroBoard.id)
        )
    )
    groups: list[domain.CardGroup] = []
    for board in boards:
        groups.extend(domain.group_cards(domain_cards(session, board=board)))
    top = tuple((g.lead.text, g.votes) for g in domain.discussion_order(groups) if g.votes > 0)[:5]

    def count(*conditions: object) -> int:
        return int(
            session.scalar(
                select(func.count(RetroActionItem.id)).where(
                    RetroActionItem.team_id == team_id, RetroActionItem.channel_id == channel_id, *conditions
                )
            )
            or 0
        )

    created = count(RetroActionItem.created_at >= start, RetroActionItem.created_at < end)
    resolved_in = (RetroActionItem.resolved_at >= start, RetroActionItem.resolved_at < end)
    done = count(RetroActionItem.status == ActionStatus.DONE, *resolved_in)
    dropped = count(RetroActionItem.status == ActionStatus.DROPPED, *resolved_in)
    carried = int(
        session.scalar(
            select(func.count(RetroActionReview.id))
            .join(RetroActionItem, RetroActionItem.id == RetroActionReview.action_item_id)
            .where(
                RetroActionReview.team_id == team_id,
                RetroActionItem.channel_id == channel_id,
                RetroActionReview.outcome == ReviewOutcome.NOT_DONE,
                RetroActionReview.decided_at >= start,
                RetroActionReview.decided_at < end,
            )
        )
        or 0
    )
    reviewed = reviewed_done = 0
    if boards:
        outcomes = list(
            session.scalars(
                select(RetroActionReview.outcome).where(
                    RetroActionReview.team_id == team_id, RetroActionReview.board_id == boards[-1].id
                )
            )
        )
        reviewed = len(outcomes)
        reviewed_done = sum(1 for o in outcomes if o == ReviewOutcome.DONE)
    return domain.RetroStats(
        boards=len(boards),
        top_cards=top,
        action_items_created=created,
        action_items_done=done,
        action_items_dropped=dropped,
        action_items_carried_over=carried,
        previous_items_reviewed=reviewed,
        previous_items_done=reviewed_done,
    )


def board_for_export(
    session: Session, *, channel_id: str, board_id: int | None = None, team_id: str | None = None
) -> RetroBoard:
    """The board the command line exports: by number, else the channel's latest.

    Without `team_id` (the command line knows only the channel) the workspace is the one whose boards the channel
    has; a channel id found in two workspaces needs `team_id`.
    """
    if team_id is None:
        teams = list(session.scalars(
            select(RetroBoard.team_id).where(RetroBoard.channel_id == channel_id).group_by(RetroBoard.team_id)
        ))
        if len(teams) > 1:
            raise domain.InvalidInput("That channel has retros in several workspaces; give the workspace id too.")
        if not teams:
            raise domain.NoRetroYet
        team_id = teams[0]
    if board_id is None:
        board = latest_board(session, team_id=team_id, channel_id=channel_id)
        if board is None:
            raise domain.NoRetroYet
        return board
    board = get_board(session, team_id=team_id, board_id=board_id)
    if board.channel_id != channel_id:
        raise domain.BoardNotFound
    return board


def board_export(session: Session, *, team_id: str, board_id: int) -> domain.BoardExport:
    """The board as exported; names come from the people cache (user ids where unknown), and none when anonymous."""
    board = get_board(session, team_id=team_id, board_id=board_id)
    card_list = domain_cards(session, board=board)
    items = board_action_items(session, team_id=team_id, board_id=board_id)
    wanted = {i.owner_id for i in items} | ({c.author_id for c in card_list if c.author_id} if not board.anonymous else set())
    known = people_store.people(session, team_id=team_id, user_ids=sorted(wanted))

    def name(user_id: str) -> str:
        person = known.get(user_id)
        return person.display_name if person is not None and person.display_name else user_id

    authors = {} if board.anonymous else {c.id: name(c.author_id) for c in card_list if c.author_id}
    return domain.BoardExport(
        board_id=board.id,
        title=board.title,
        created_at=board.created_at,
        phase=board.current_phase,
        anonymous=board.anonymous,
        columns=board_columns(session, team_id=team_id, board_id=board_id),
        groups=tuple(domain.group_cards(card_list)),
        votes_visible=board.current_phase in (Phase.DISCUSS, Phase.ACTIONS, Phase.CLOSED),
        authors=authors,
        actions=tuple(
            domain.ExportedAction(i.text, name(i.owner_id), i.due_date, ActionStatus(i.status)) for i in items
        ),
    )


def channels_of(session: Session, *, team_id: str, user_id: str) -> set[str]:
    """The team channels where `user_id` facilitated a retro, wrote a named card, or owns an action item.

    Cards on anonymous boards name nobody, so they tell nothing about who belongs where.
    """
    facilitated = select(RetroBoard.channel_id).where(RetroBoard.team_id == team_id,
                                                      RetroBoard.facilitator_id == user_id)
    wrote = (select(RetroBoard.channel_id).join(RetroCard, RetroCard.board_id == RetroBoard.id)
             .where(RetroBoard.team_id == team_id, RetroCard.team_id == team_id, RetroCard.author_id == user_id))
    owns = select(RetroActionItem.channel_id).where(RetroActionItem.team_id == team_id,
                                                    RetroActionItem.owner_id == user_id)
    return set(session.scalars(facilitated.union(wrote, owns)))
