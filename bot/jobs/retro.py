"""The retrospective's messages the app sends on its own: the board and its thread, owner DMs and due-date reminders.

The board message, review messages and card messages are drawn here from the current state when the outbox delivers
them (their rows carry only ids); a board Slack refuses to post is taken back and its facilitator told.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bot.jobs import outbox as outbox_jobs
from bot.jobs.outbox import Delivered, Message, Undelivered
from bot.server.runtime import Runtime
from bot.slack import people
from bot.slack.gateway import SlackFailure, Verdict
from bot.views import retro as views
from ceremonies import retro as domain
from ceremonies.retro import Phase
from storage import outbox
from storage import retro as store
from storage import retro_cases as cases

log = logging.getLogger("cadence.retro")

BATCH = 100  # action items claimed a transaction


def board_state(session: Session, board: store.RetroBoard) -> views.BoardState:
    """Everything the board message shows now."""
    team_id = board.team_id
    phase = board.current_phase
    contributor_ids, contributor_count = store.contributors(session, team_id=team_id, board_id=board.id)
    votes_visible = phase in (Phase.DISCUSS, Phase.ACTIONS, Phase.CLOSED)
    groups = tuple(domain.group_cards(store.domain_cards(session, board=board))) if votes_visible else ()
    items = store.board_action_items(session, team_id=team_id, board_id=board.id)
    return views.BoardState(
        board_id=board.id,
        title=board.title,
        phase=phase,
        facilitator_id=board.facilitator_id,
        anonymous=board.anonymous,
        columns=store.board_columns(session, team_id=team_id, board_id=board.id),
        votes_per_person=board.votes_per_person,
        multiple_votes_per_card=board.multiple_votes_per_card,
        counts=store.column_counts(session, team_id=team_id, board_id=board.id),
        contributor_ids=() if board.anonymous else tuple(contributor_ids),
        contributor_count=contributor_count,
        voter_count=store.voter_count(session, team_id=team_id, board_id=board.id),
        groups=groups,
        actions=tuple(views.ActionLine(i.text, i.owner_id, i.due_date, domain.ActionStatus(i.status)) for i in items),
    )


def _card_messages(session: Session, board: store.RetroBoard, phase: Phase) -> list[list[dict[str, Any]]]:
    groups = domain.group_cards(store.domain_cards(session, board=board))
    columns = store.board_columns(session, team_id=board.team_id, board_id=board.id)
    return views.card_messages(board.id, columns, groups, vote_buttons=phase is Phase.VOTE,
                               anonymous=board.anonymous, title=board.title, show_votes=phase is Phase.DISCUSS)


def queue_phase_messages(session: Session, *, team_id: str, board_id: int, now: datetime) -> None:
    """Queue what the board's new phase shows in its thread (in the transaction that moved it)."""
    board = store.get_board(session, team_id=team_id, board_id=board_id)
    phase, channel, parent = board.current_phase, board.channel_id, cases.board_key(board_id)
    if phase in (Phase.REVEAL, Phase.VOTE):
        for index in range(len(_card_messages(session, board, phase))):
            outbox.add(session, team_id=team_id, key=cases.cards_key(board_id, phase, index), kind=cases.CARDS,
                       channel=channel, render=cases.CARDS, ref_key=parent, now=now,
                       args={**cases.board_args(team_id, board_id), "phase": phase.value, "index": index})
    elif phase is Phase.DISCUSS:
        # Voting is over: the vote messages lose their buttons and show the counts.
        for index in range(len(_card_messages(session, board, Phase.VOTE))):
            voted = cases.cards_key(board_id, Phase.VOTE, index)
            outbox.redraw(session, team_id=team_id, key=f"redraw:{voted}", kind=cases.CARDS + "_redraw",
                          render=cases.CARDS, ref_key=voted, now=now,
                          args={**cases.board_args(team_id, board_id), "phase": phase.value, "index": index})
        groups = domain.group_cards(store.domain_cards(session, board=board))
        columns = store.board_columns(session, team_id=team_id, board_id=board_id)
        for rank, group in enumerate(domain.to_discuss(groups), 1):
            column = columns[group.column] if group.column < len(columns) else ""
            outbox.add(session, team_id=team_id, key=f"retro.discuss:{board_id}:{rank}", kind=cases.NOTE,
                       channel=channel, ref_key=parent, now=now, text=views.discussion_text(rank, group),
                       blocks=views.discussion_blocks(board_id, rank, group, column, anonymous=board.anonymous))
    elif phase is Phase.CLOSED:
        outbox.add(session, team_id=team_id, key=f"retro.summary:{board_id}", kind=cases.NOTE, channel=channel,
                   ref_key=parent, now=now, text=views.summary_text(board_state(session, board)), reply_broadcast=True)


# -- renderers -----------------------------------------------------------------------------------------------------
@outbox_jobs.renderer(cases.BOARD)
def render_board(runtime: Runtime, args: dict[str, Any]) -> Message | None:
    """The board message as the board stands now (nothing once the board is gone)."""
    with runtime.db.reading() as session:
        try:
            board = store.get_board(session, team_id=args["team_id"], board_id=args["board_id"])
        except domain.BoardNotFound:
            return None
        state = board_state(session, board)
    return Message(text=views.board_text(state), blocks=views.board_blocks(state))


@outbox_jobs.renderer(cases.CARDS)
def render_cards(runtime: Runtime, args: dict[str, Any]) -> Message | None:
    """One message of the board's cards: revealed, to vote on, or with their votes."""
    phase = Phase(args["phase"])
    with runtime.db.reading() as session:
        try:
            board = store.get_board(session, team_id=args["team_id"], board_id=args["board_id"])
        except domain.BoardNotFound:
            return None
        messages = _card_messages(session, board, phase)
    index = int(args["index"])
    if index >= len(messages):
        return None
    return Message(text=views.cards_text(phase, title=board.title, part=index + 1, parts=len(messages)),
                   blocks=messages[index])


@outbox_jobs.renderer(cases.REVIEW)
def render_review(runtime: Runtime, args: dict[str, Any]) -> Message | None:
    """An open item from an earlier retro, with its buttons until it is answered."""
    with runtime.db.reading() as session:
        shown = cases.review_shown(session, team_id=args["team_id"], review_id=args["review_id"])
    if shown is None:
        return None
    line = views.ActionLine(shown.text, shown.owner_id, shown.due)
    blocks = views.review_blocks(shown.review_id, line, carried=shown.carried, outcome=shown.outcome,
                                 decided_by=shown.decided_by)
    return Message(text=views.review_text(line), blocks=blocks)


# -- hooks -----------------------------------------------------------------------------------------------------------
@outbox_jobs.after_sent(cases.BOARD)
def board_posted(session: Session, sent: Delivered) -> None:
    store.set_message_ts(session, team_id=sent.team_id, board_id=int(sent.payload["board_id"]), ts=sent.ts)


@outbox_jobs.after_sent(cases.REVIEW)
def review_posted(session: Session, sent: Delivered) -> None:
    store.set_review_message_ts(session, team_id=sent.team_id, review_id=int(sent.payload["review_id"]), ts=sent.ts)


@outbox_jobs.on_failed(cases.BOARD)
def board_refused(session: Session, failed: Undelivered) -> None:
    """A board nobody can see would block the channel's next retro: take it back and tell the facilitator."""
    board_id = int(failed.payload["board_id"])
    facilitator_id = cases.forget_unposted_board(session, team_id=failed.team_id, board_id=board_id)
    if facilitator_id is None:
        return
    unreachable = failed.answer.verdict is Verdict.UNREACHABLE
    outbox.add(session, team_id=failed.team_id, key=cases.cannot_post_key(board_id), kind=cases.CANNOT_POST,
               channel=facilitator_id, now=failed.now,
               text=views.cannot_post_text(failed.channel, invite=unreachable, error=failed.answer.error))


# -- scheduled work ------------------------------------------------------------------------------------------------
def remind_due_action_items(runtime: Runtime, now: datetime) -> None:
    """DM each owner on an open item's due date (09:00 their time), exactly once per item and due date: the items
    whose moment has come are claimed by index, and their reminders queued in the same transaction."""
    while True:
        with runtime.db.transaction() as session:
            found = cases.due_reminders(session, now=now, default_timezone=runtime.settings.default_timezone,
                                        limit=BATCH)
            for item in found.remind:
                line = views.ActionLine(item.text, item.owner_id, item.due)
                outbox.add(session, team_id=item.team_id, key=item.reminder_key, kind=cases.ACTION_DUE,
                           channel=item.owner_id, text=views.reminder_text(line, channel_id=item.channel_id), now=now)
        for team_id, user_id in found.unknown_owners:  # off the tick: Slack is not called here
            runtime.background.submit(("profile", team_id, user_id),
                                      lambda team=team_id, user=user_id: _look_up(runtime, team, user))
        if found.claimed < BATCH:
            return


def _look_up(runtime: Runtime, team_id: str, user_id: str) -> None:
    try:
        people.profile(runtime, runtime.gateway.for_team(team_id), team_id=team_id, user_id=user_id)
    except SlackFailure as failure:  # the reminder goes at 09:00 in the workspace's default timezone after all
        log.warning("no profile for an action item's owner: %s", failure.error,
                    extra={"team": team_id, "user": user_id})


JOBS = (remind_due_action_items,)
