"""The retrospective's use cases: each changes the board in the caller's transaction and queues what Slack must show.

The board message, the review messages and the card messages in the board's thread are rows of the outbox drawn by
renderers (bot/jobs/retro.py) from the current state when they are delivered, so their payload holds only ids: no
card text and, on an anonymous board, never anything that ties a card to its author. Every change of the board asks
for one redraw of its message (`outbox.redraw`, coalesced however many people click at once).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ceremonies import retro as domain
from ceremonies.retro import Phase, ReviewOutcome
from storage import due, healthcheck, outbox, people
from storage import retro as store

# Outbox kinds, which are also the names of their renderers.
BOARD = "retro.board"  # the board message, posted when the board starts
BOARD_REDRAW = "retro.board_redraw"
REVIEW = "retro.review"  # an open item from an earlier retro, in the new board's thread
CARDS = "retro.cards"  # one message of the cards (revealed, to vote on, or with their votes)
NOTE = "retro.note"  # a plain message in the board's thread (merges, discussion, the closing summary)
OWNER_DM = "retro.owner_dm"
ACTION_DUE = "retro.action_due"
CANNOT_POST = "retro.cannot_post"


def board_key(board_id: int) -> str:
    return f"retro.board:{board_id}"


def review_key(review_id: int) -> str:
    return f"retro.review:{review_id}"


def cards_key(board_id: int, phase: Phase, index: int) -> str:
    return f"retro.cards:{board_id}:{phase.value}:{index}"


def cannot_post_key(board_id: int) -> str:
    return f"{CANNOT_POST}:{board_id}"


def board_args(team_id: str, board_id: int) -> dict[str, object]:
    return {"team_id": team_id, "board_id": board_id}


@dataclass(frozen=True)
class Started:
    board_id: int
    channel_id: str


def start(session: Session, *, team_id: str, channel_id: str, setup: domain.RetroSetup, facilitator_id: str,
          now: datetime) -> Started:
    """Start a board: post it, and in its thread every open item of earlier retros to be answered."""
    board = store.create_board(session, team_id=team_id, channel_id=channel_id, setup=setup,
                               facilitator_id=facilitator_id, now=now)
    outbox.add(session, team_id=team_id, key=board_key(board.id), kind=BOARD, channel=channel_id, render=BOARD,
               args=board_args(team_id, board.id), now=now)
    # The latest team health check opens the board's thread, so the retro starts from it.
    healthcheck.queue_retro_opener(session, team_id=team_id, channel_id=channel_id, board_key=board_key(board.id),
                                   now=now)
    for review in store.start_reviews(session, team_id=team_id, board=board, now=now):
        outbox.add(session, team_id=team_id, key=review_key(review.id), kind=REVIEW, channel=channel_id,
                   render=REVIEW, args={"team_id": team_id, "review_id": review.id}, ref_key=board_key(board.id),
                   now=now)
    return Started(board.id, channel_id)


def redraw_board(session: Session, *, team_id: str, board_id: int, now: datetime) -> None:
    """Ask for the board message to show the board as it is once this transaction commits."""
    outbox.redraw(session, team_id=team_id, key=f"redraw:{board_key(board_id)}", kind=BOARD_REDRAW, render=BOARD,
                  args=board_args(team_id, board_id), ref_key=board_key(board_id), now=now)


def forget_unposted_board(session: Session, *, team_id: str, board_id: int) -> str | None:
    """Remove a board whose message Slack refused (it would block the channel's next retro), with everything queued
    for it; its facilitator, who is told in a DM queued here too.

    Its queued rows go as well: SQLite gives a deleted board's id (and its reviews' ids) to the next board, whose
    messages must not find these keys taken.
    """
    board = session.scalar(select(store.RetroBoard).where(store.RetroBoard.team_id == team_id,
                                                          store.RetroBoard.id == board_id))
    if board is None:
        return None
    facilitator_id = board.facilitator_id
    review_ids = session.scalars(select(store.RetroActionReview.id).where(
        store.RetroActionReview.team_id == team_id, store.RetroActionReview.board_id == board_id))
    keys = [board_key(board_id), *(review_key(r) for r in review_ids), cannot_post_key(board_id)]
    # Nobody saw the board, so nothing else (cards, votes, notes) was queued for it.
    outbox.forget(session, team_id=team_id, keys=keys)
    store.delete_board(session, team_id=team_id, board_id=board_id)
    return facilitator_id


# -- cards ---------------------------------------------------------------------------------------------------------
def author_of(board: store.RetroBoard, *, user_id: str, secret: str) -> tuple[str | None, str | None]:
    """How a card's author is stored: the user id on a named board, a keyed hash on an anonymous one."""
    if board.anonymous:
        return None, domain.author_key(secret, team_id=board.team_id, board_id=board.id, user_id=user_id)
    return user_id, None


def write_card(session: Session, *, team_id: str, board_id: int, card_id: int | None, column: int, text: str,
               user_id: str, secret: str, now: datetime) -> None:
    """Add a card, or change one of the person's own cards; the board shows the new counts."""
    board = store.get_board(session, team_id=team_id, board_id=board_id)
    author_id, key = author_of(board, user_id=user_id, secret=secret)
    if card_id is None:
        store.add_card(session, team_id=team_id, board_id=board_id, column=column, text=text, author_id=author_id,
                       author_key=key, now=now)
    else:
        card = store.own_card(session, team_id=team_id, board_id=board_id, card_id=card_id, author_id=author_id,
                              author_key=key)
        columns = store.board_columns(session, team_id=team_id, board_id=board_id)
        store.edit_card(session, card=card, column=column, text=text, columns=len(columns), now=now)
    redraw_board(session, team_id=team_id, board_id=board_id, now=now)


def remove_card(session: Session, *, team_id: str, board_id: int, card_id: int, user_id: str, secret: str,
                now: datetime) -> None:
    """Delete one of the person's own cards."""
    board = store.get_board(session, team_id=team_id, board_id=board_id)
    author_id, key = author_of(board, user_id=user_id, secret=secret)
    card = store.own_card(session, team_id=team_id, board_id=board_id, card_id=card_id, author_id=author_id,
                          author_key=key)
    store.delete_card(session, card=card)
    redraw_board(session, team_id=team_id, board_id=board_id, now=now)


@dataclass(frozen=True)
class OwnCards:
    board_id: int
    columns: tuple[str, ...]
    cards: tuple[tuple[int, int, str], ...]  # (card id, column, text)


def own_cards(session: Session, *, team_id: str, board_id: int, user_id: str, secret: str,
              card_id: int | None = None) -> OwnCards:
    """The person's own cards on a board still collecting (only `card_id` when given, refusing other people's)."""
    board = store.get_board(session, team_id=team_id, board_id=board_id)
    author_id, key = author_of(board, user_id=user_id, secret=secret)
    if card_id is not None:  # own_card refuses a board that stopped collecting
        mine = [store.own_card(session, team_id=team_id, board_id=board_id, card_id=card_id, author_id=author_id,
                               author_key=key)]
    else:
        domain.require_phase(board.current_phase, [Phase.COLLECT], "Changing your cards")
        mine = store.own_cards(session, team_id=team_id, board_id=board_id, author_id=author_id, author_key=key)
    return OwnCards(board_id, store.board_columns(session, team_id=team_id, board_id=board_id),
                    tuple((c.id, c.column, c.text) for c in mine))


# -- phases, grouping, votes ---------------------------------------------------------------------------------------
def advance(session: Session, *, team_id: str, board_id: int, target: Phase, user_id: str, now: datetime) -> bool:
    """Move the board to `target` (the facilitator, one step); False when it was there already."""
    moved = store.advance(session, team_id=team_id, board_id=board_id, target=target, user_id=user_id, now=now)
    if moved:
        redraw_board(session, team_id=team_id, board_id=board_id, now=now)
    return moved


@dataclass(frozen=True)
class Merged:
    board_id: int
    channel_id: str
    source_id: int
    source_text: str
    target_text: str


def merge(session: Session, *, team_id: str, board_id: int, source_id: int, target_id: int, user_id: str) -> Merged:
    """Merge a card (and its group) into another's group: the facilitator only, while grouping."""
    store.merge_cards(session, team_id=team_id, board_id=board_id, source_id=source_id, target_id=target_id,
                      user_id=user_id)
    board = store.get_board(session, team_id=team_id, board_id=board_id)
    texts = {c.id: c.text for c in store.cards(session, team_id=team_id, board_id=board_id)}
    return Merged(board_id, board.channel_id, source_id, texts.get(source_id, ""), texts.get(target_id, ""))


def vote(session: Session, *, team_id: str, board_id: int, card_id: int, voter_id: str, click_id: str,
         now: datetime) -> int:
    """One of the voter's dots on a card; the votes they have left."""
    left = store.cast_vote(session, team_id=team_id, board_id=board_id, card_id=card_id, voter_id=voter_id,
                           click_id=click_id, now=now)
    redraw_board(session, team_id=team_id, board_id=board_id, now=now)
    return left


def reset_votes(session: Session, *, team_id: str, board_id: int, voter_id: str, now: datetime) -> int:
    """Take back all of a person's votes; their budget."""
    budget = store.reset_votes(session, team_id=team_id, board_id=board_id, voter_id=voter_id)
    redraw_board(session, team_id=team_id, board_id=board_id, now=now)
    return budget


# -- action items --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ActionAdded:
    item_id: int
    owner_id: str
    text: str
    due: date | None
    title: str
    channel_id: str


def add_action_item(session: Session, *, team_id: str, board_id: int, item: domain.NewActionItem, created_by: str,
                    now: datetime) -> ActionAdded:
    """Record an action item; the board lists it."""
    row = store.add_action_item(session, team_id=team_id, board_id=board_id, item=item, created_by=created_by, now=now)
    board = store.get_board(session, team_id=team_id, board_id=board_id)
    redraw_board(session, team_id=team_id, board_id=board_id, now=now)
    return ActionAdded(row.id, row.owner_id, row.text, row.due_date, board.title, board.channel_id)


def answer_review(session: Session, *, team_id: str, review_id: int, outcome: ReviewOutcome, user_id: str,
                  now: datetime) -> bool:
    """Done / Not done / Drop for an item brought to a retro; True when it changed (its message is redrawn)."""
    answered = store.answer_review(session, team_id=team_id, review_id=review_id, outcome=outcome, user_id=user_id,
                                   now=now)
    if answered.changed:
        outbox.redraw(session, team_id=team_id, key=f"redraw:{review_key(review_id)}", kind=REVIEW + "_redraw",
                      render=REVIEW, args={"team_id": team_id, "review_id": review_id},
                      ref_key=review_key(review_id), now=now)
    return answered.changed


@dataclass(frozen=True)
class ReviewShown:
    """What a review message shows."""

    review_id: int
    text: str
    owner_id: str
    due: date | None
    carried: int
    outcome: ReviewOutcome | None
    decided_by: str | None


def review_shown(session: Session, *, team_id: str, review_id: int) -> ReviewShown | None:
    """A review as its message shows it now; None once its board is gone."""
    row = session.execute(
        select(store.RetroActionReview, store.RetroActionItem)
        .join(store.RetroActionItem, store.RetroActionItem.id == store.RetroActionReview.action_item_id)
        .where(store.RetroActionReview.team_id == team_id, store.RetroActionReview.id == review_id)
    ).first()
    if row is None:
        return None
    review, item = row
    return ReviewShown(review.id, item.text, item.owner_id, item.due_date, item.carried_count,
                       ReviewOutcome(review.outcome) if review.outcome else None, review.decided_by)


@dataclass(frozen=True)
class DueItem:
    item_id: int
    team_id: str
    channel_id: str
    owner_id: str
    text: str
    due: date

    @property
    def reminder_key(self) -> str:
        return domain.reminder_key(self.item_id, self.due)


@dataclass(frozen=True)
class DueReminders:
    """What the reminder job found due: the items whose owner is reminded now, and the owners whose timezone is not
    known yet (looked up off the tick; their items are looked at again in a minute)."""

    remind: list[DueItem]
    unknown_owners: list[tuple[str, str]]  # (team_id, user_id)
    claimed: int  # items looked at: fewer than the limit means nothing more is due now


# When nobody knows an owner's timezone, 09:00 has passed everywhere on Earth by 09:00 at UTC-12.
LATEST_ZONE = "Etc/GMT+12"


def due_reminders(session: Session, *, now: datetime, default_timezone: str, limit: int = 100) -> DueReminders:
    """Claim the open action items whose reminder moment has come (the indexed `next_due_at`, storage.due) and
    decide each: remind its owner now (09:00 on the due date in their timezone has come, within a week), wait for
    that moment (stored as the item's next due moment), or wait a minute for their timezone to be looked up.

    The caller queues the reminders (outbox, key per item and due date) in this same transaction."""
    remind: list[DueItem] = []
    unknown: list[tuple[str, str]] = []
    claimed = due.claim(session, store.RetroActionItem, now=now, limit=limit,
                        where=[store.RetroActionItem.status == domain.ActionStatus.OPEN.value])
    for item in claimed:
        if item.due_date is None:
            due.set_next(item, at=None, now=now)
            continue
        person = people.get_person(session, team_id=item.team_id, user_id=item.owner_id)
        timezone = person.timezone if person is not None and person.timezone else None
        if timezone is None and now < domain.reminder_at(item.due_date, LATEST_ZONE):
            unknown.append((item.team_id, item.owner_id))
            due.set_next(item, at=now, now=now)  # again after due.RETRY, once the profile is cached
            continue
        at = domain.reminder_at(item.due_date, timezone or default_timezone)
        if now < at:
            due.set_next(item, at=at, now=now)
            continue
        due.set_next(item, at=None, now=now)
        if now - at <= domain.REMINDER_CATCH_UP:  # older ones were missed during a long outage: not sent now
            remind.append(DueItem(item.id, item.team_id, item.channel_id, item.owner_id, item.text, item.due_date))
    return DueReminders(remind, sorted(set(unknown)), len(claimed))
