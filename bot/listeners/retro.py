"""`/retro`: retrospective boards run by a facilitator, phase by phase, with action items that follow their owners.

On an anonymous board nothing here sends, logs or stores who wrote a card: the author is known only by a keyed hash,
and every reply to an author about their cards goes into their modal, never into a message addressed to them.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session

from bot import hooks
from bot.listeners.commands import SlashCommand, first_word
from bot.listeners.home import refresh_home
from bot.server.runtime import Runtime, runtime_of
from bot.slack import people
from bot.views import retro as views
from bot.views.help import command_usage_blocks, command_usage_text
from ceremonies import retro as domain
from ceremonies.errors import CadenceError, InvalidInput
from ceremonies.retro import Phase
from storage import claims
from storage import people as people_store
from storage import retro as store
from storage import sprint as sprints

log = logging.getLogger("cadence.retro")

REMINDER_RETRY = timedelta(minutes=5)
VOTE_POST = "vote"



def running_sprint_name(session: Session, team_id: str, channel_id: str, today: date) -> str | None:
    """The channel's running sprint's name: a retro is usually that sprint's."""
    sprint = sprints.running_sprint(session, team_id=team_id, channel_id=channel_id)
    return sprint.name if sprint is not None else None


# Where a new retro's default title can come from besides the date: (session, team_id, channel_id, today) -> name.
# The first name offered wins.
TITLE_SOURCES: tuple[Callable[[Session, str, str, date], str | None], ...] = (running_sprint_name,)

_board_locks: dict[int, threading.Lock] = {}
_board_locks_guard = threading.Lock()


# -- the slash command ---------------------------------------------------------------------------------------------
def handle_retro_command(ack: Ack, command: dict, client: WebClient, context: BoltContext) -> None:
    """Runs a retrospective: hidden cards, reveal, grouping, dot voting, discussion and action items."""
    runtime = runtime_of(context)
    team_id, channel_id = command["team_id"], command["channel_id"]
    subcommand, rest = first_word(command.get("text"))
    if subcommand in ("", "start"):
        today = runtime.now().date()
        with runtime.db.transaction() as session:
            if store.active_board(session, team_id=team_id, channel_id=channel_id) is not None:
                ack(text=f":warning: {domain.RetroAlreadyRunning()}", response_type="ephemeral")
                return
            sources = [_bind(source, session, team_id, channel_id) for source in TITLE_SOURCES]
            title = domain.default_title(today, sources=sources)
        ack()
        client.views_open(trigger_id=command["trigger_id"], view=views.setup_modal(channel_id, title))
    elif subcommand == "help":
        ack(text=command_usage_text(RETRO), blocks=command_usage_blocks(RETRO), response_type="ephemeral")
    elif subcommand == "actions":
        with runtime.db.transaction() as session:
            items = store.open_action_items(session, team_id=team_id, channel_id=channel_id)
            lines = [views.ActionLine(i.text, i.owner_id, i.due_date) for i in items]
        ack(text=f"{len(lines)} open action items", blocks=views.actions_list_blocks(lines, channel_id=channel_id),
            response_type="ephemeral")
    elif subcommand == "export":
        ack()
        board_id = _board_id_argument(rest)
        export_board(runtime, client, team_id=team_id, channel_id=channel_id, board_id=board_id)
    else:
        problem = f"I don't know `{subcommand[:50]}`."
        ack(text=command_usage_text(RETRO, problem), blocks=command_usage_blocks(RETRO, problem),
            response_type="ephemeral")


def _bind(source: Callable[[Session, str, str, date], str | None], session: Session, team_id: str, channel_id: str
          ) -> domain.TitleSource:
    return lambda today: source(session, team_id, channel_id, today)


def _board_id_argument(text: str) -> int | None:
    text = text.strip().lstrip("#")
    if not text:
        return None
    if not (text.isascii() and text.isdigit()):
        raise InvalidInput("Give the board's number, e.g. `/retro export 12`, or nothing for the latest board.")
    return int(text)


def export_board(runtime: Runtime, client: WebClient, *, team_id: str, channel_id: str, board_id: int | None) -> None:
    """Post the board (the channel's latest when no id is given) to the channel as a Markdown file."""
    with runtime.db.transaction() as session:
        if board_id is None:
            board = store.latest_board(session, team_id=team_id, channel_id=channel_id)
            if board is None:
                raise domain.NoRetroYet
            board_id = board.id
        board = store.get_board(session, team_id=team_id, board_id=board_id)
        if board.channel_id != channel_id:
            raise domain.BoardNotFound
        export = store.board_export(session, team_id=team_id, board_id=board_id)
    client.files_upload_v2(
        channel=channel_id,
        content=domain.export_markdown(export),
        filename=f"retro-{export.board_id}.md",
        title=f"Retro: {export.title}",
        initial_comment=views.export_comment(export.title),
        request_file_info=False,
    )


# -- starting a board ----------------------------------------------------------------------------------------------
def submit_setup(ack: Ack, body: dict, view: dict, client: WebClient, context: BoltContext) -> None:
    runtime = runtime_of(context)
    setup, problems = domain.validate_setup(**views.parse_setup(view))
    if setup is None:
        ack(response_action="errors", errors=views.errors(problems, views.SETUP_ERROR_BLOCKS))
        return
    team_id, user_id = body["team"]["id"], body["user"]["id"]
    channel_id = views.metadata(view)["channel"]
    now = runtime.now()
    try:
        with runtime.db.transaction() as session:
            board = store.create_board(
                session, team_id=team_id, channel_id=channel_id, setup=setup, facilitator_id=user_id, now=now
            )
            board_id = board.id
            reviews = [(r.id, r.action_item_id) for r in store.start_reviews(session, team_id=team_id, board=board,
                                                                               now=now)]
    except domain.RetroAlreadyRunning as error:
        ack(response_action="errors", errors={views.TITLE_BLOCK: str(error)})
        return
    ack()
    with runtime.db.transaction() as session:
        board = store.get_board(session, team_id=team_id, board_id=board_id)
        state = _state(session, board)
    try:
        posted = client.chat_postMessage(channel=channel_id, text=views.board_text(state),
                                         blocks=views.board_blocks(state))
    except SlackApiError as error:
        # A board nobody can see would block the channel's next retro: take it back and say what to do.
        with runtime.db.transaction() as session:
            store.delete_board(session, team_id=team_id, board_id=board_id)
        if error.response.get("error") in ("not_in_channel", "channel_not_found", "is_archived"):
            raise CannotPost(channel_id) from error
        raise
    with runtime.db.transaction() as session:
        store.set_message_ts(session, team_id=team_id, board_id=board_id, ts=posted["ts"])
    for review_id, item_id in reviews:
        with runtime.db.transaction() as session:
            item = store.get_action_item(session, team_id=team_id, item_id=item_id)
            line = views.ActionLine(item.text, item.owner_id, item.due_date)
            carried = item.carried_count
        blocks = views.review_blocks(review_id, line, carried=carried, outcome=None)
        message = client.chat_postMessage(channel=channel_id, thread_ts=posted["ts"], blocks=blocks,
                                          text=f"From an earlier retro: {line.text}"[:3000])
        with runtime.db.transaction() as session:
            store.set_review_message_ts(session, team_id=team_id, review_id=review_id, ts=message["ts"])


class CannotPost(CadenceError):
    def __init__(self, channel_id: str) -> None:
        super().__init__(f"I can't post in <#{channel_id}>: invite me with `/invite @Cadence`, then start the retro again.")


def _state(session: Session, board: store.RetroBoard) -> views.BoardState:
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


def refresh_board(runtime: Runtime, client: WebClient, *, team_id: str, board_id: int) -> views.BoardState:
    """Redraw the board message from the database (one redraw of a board at a time, so the newest state wins)."""
    with _board_locks_guard:
        lock = _board_locks.setdefault(board_id, threading.Lock())
    with lock:
        with runtime.db.transaction() as session:
            board = store.get_board(session, team_id=team_id, board_id=board_id)
            state = _state(session, board)
            channel_id, ts = board.channel_id, board.message_ts
        if ts:
            client.chat_update(channel=channel_id, ts=ts, text=views.board_text(state),
                               blocks=views.board_blocks(state))
    return state


def _numbers(value: str) -> list[int]:
    try:
        return [int(part) for part in value.split(":")]
    except ValueError:
        raise InvalidInput("That button is out of date.") from None


def _author(runtime: Runtime, board: store.RetroBoard, user_id: str) -> tuple[str | None, str | None]:
    """How a card's author is stored: the user id on a named board, a keyed hash on an anonymous one."""
    if board.anonymous:
        key = domain.author_key(runtime.settings.retro_anonymity_secret, team_id=board.team_id, board_id=board.id,
                                user_id=user_id)
        return None, key
    return user_id, None


# -- collecting cards ----------------------------------------------------------------------------------------------
def open_add_card(ack: Ack, body: dict, action: dict, client: WebClient, context: BoltContext) -> None:
    ack()
    runtime = runtime_of(context)
    (board_id,) = _numbers(action["value"])
    with runtime.db.transaction() as session:
        board = store.get_board(session, team_id=body["team"]["id"], board_id=board_id)
        domain.require_phase(board.current_phase, [Phase.COLLECT], "Adding a card")
        columns = store.board_columns(session, team_id=board.team_id, board_id=board_id)
    client.views_open(trigger_id=body["trigger_id"], view=views.card_modal(board_id, columns))


def submit_card(ack: Ack, body: dict, view: dict, client: WebClient, context: BoltContext) -> None:
    """Add or edit one's own card; every refusal is an inline error in the modal (no message names the author)."""
    runtime = runtime_of(context)
    team_id, user_id = body["team"]["id"], body["user"]["id"]
    board_id, card_id, column, text = views.parse_card(view)
    now = runtime.now()
    try:
        with runtime.db.transaction() as session:
            board = store.get_board(session, team_id=team_id, board_id=board_id)
            author_id, key = _author(runtime, board, user_id)
            if card_id is None:
                store.add_card(session, team_id=team_id, board_id=board_id, column=column, text=text,
                               author_id=author_id, author_key=key, now=now)
            else:
                card = store.own_card(session, team_id=team_id, board_id=board_id, card_id=card_id,
                                      author_id=author_id, author_key=key)
                columns = store.board_columns(session, team_id=team_id, board_id=board_id)
                store.edit_card(session, card=card, column=column, text=text, columns=len(columns), now=now)
    except CadenceError as error:
        ack(response_action="errors", errors={views.CARD_TEXT_BLOCK: str(error)})
        return
    ack()
    refresh_board(runtime, client, team_id=team_id, board_id=board_id)


def open_my_cards(ack: Ack, body: dict, action: dict, client: WebClient, context: BoltContext) -> None:
    ack()
    runtime = runtime_of(context)
    (board_id,) = _numbers(action["value"])
    view = _my_cards_view(runtime, team_id=body["team"]["id"], board_id=board_id, user_id=body["user"]["id"])
    client.views_open(trigger_id=body["trigger_id"], view=view)


def _my_cards_view(runtime: Runtime, *, team_id: str, board_id: int, user_id: str) -> dict[str, Any]:
    with runtime.db.transaction() as session:
        board = store.get_board(session, team_id=team_id, board_id=board_id)
        domain.require_phase(board.current_phase, [Phase.COLLECT], "Changing your cards")
        author_id, key = _author(runtime, board, user_id)
        mine = store.own_cards(session, team_id=team_id, board_id=board_id, author_id=author_id, author_key=key)
        columns = store.board_columns(session, team_id=team_id, board_id=board_id)
        return views.my_cards_modal(board_id, columns, [(c.id, c.column, c.text) for c in mine])


def edit_own_card(ack: Ack, body: dict, action: dict, client: WebClient, context: BoltContext) -> None:
    """Turn the My cards modal into the edit form of one card; a refusal shows in the modal itself."""
    ack()
    runtime = runtime_of(context)
    team_id, user_id = body["team"]["id"], body["user"]["id"]
    board_id, card_id = _numbers(action["value"])
    try:
        with runtime.db.transaction() as session:
            board = store.get_board(session, team_id=team_id, board_id=board_id)
            author_id, key = _author(runtime, board, user_id)
            card = store.own_card(session, team_id=team_id, board_id=board_id, card_id=card_id,
                                  author_id=author_id, author_key=key)
            columns = store.board_columns(session, team_id=team_id, board_id=board_id)
            view = views.card_modal(board_id, columns, card_id=card.id, column=card.column, text=card.text)
    except CadenceError as error:
        view = views.notice_modal("My cards", str(error))
    client.views_update(view_id=body["view"]["id"], view=view)


def delete_own_card(ack: Ack, body: dict, action: dict, client: WebClient, context: BoltContext) -> None:
    ack()
    runtime = runtime_of(context)
    team_id, user_id = body["team"]["id"], body["user"]["id"]
    board_id, card_id = _numbers(action["value"])
    try:
        with runtime.db.transaction() as session:
            board = store.get_board(session, team_id=team_id, board_id=board_id)
            author_id, key = _author(runtime, board, user_id)
            card = store.own_card(session, team_id=team_id, board_id=board_id, card_id=card_id,
                                  author_id=author_id, author_key=key)
            store.delete_card(session, card=card)
        view = _my_cards_view(runtime, team_id=team_id, board_id=board_id, user_id=user_id)
    except CadenceError as error:
        view = views.notice_modal("My cards", str(error))
    client.views_update(view_id=body["view"]["id"], view=view)
    refresh_board(runtime, client, team_id=team_id, board_id=board_id)


# -- phases --------------------------------------------------------------------------------------------------------
def advance_phase(ack: Ack, body: dict, action: dict, client: WebClient, context: BoltContext) -> None:
    """Move the board on (facilitator only) and post what the new phase shows in the board's thread."""
    ack()
    runtime = runtime_of(context)
    team_id, user_id = body["team"]["id"], body["user"]["id"]
    board_part, _, target_part = action["value"].partition(":")
    (board_id,) = _numbers(board_part)
    try:
        target = Phase(target_part)
    except ValueError:
        raise InvalidInput("That button is out of date.") from None
    with runtime.db.transaction() as session:
        moved = store.advance(session, team_id=team_id, board_id=board_id, target=target, user_id=user_id,
                              now=runtime.now())
    if not moved:
        return
    state = refresh_board(runtime, client, team_id=team_id, board_id=board_id)
    _post_phase(runtime, client, team_id=team_id, board_id=board_id, state=state)


def _post_phase(runtime: Runtime, client: WebClient, *, team_id: str, board_id: int, state: views.BoardState) -> None:
    with runtime.db.transaction() as session:
        board = store.get_board(session, team_id=team_id, board_id=board_id)
        channel_id, thread_ts = board.channel_id, board.message_ts
        groups = domain.group_cards(store.domain_cards(session, board=board))
        columns = store.board_columns(session, team_id=team_id, board_id=board_id)
    if state.phase in (Phase.REVEAL, Phase.VOTE):
        vote = state.phase is Phase.VOTE
        for blocks in views.card_messages(board_id, columns, groups, vote_buttons=vote, anonymous=state.anonymous,
                                          title=state.title):
            posted = client.chat_postMessage(channel=channel_id, thread_ts=thread_ts, blocks=blocks,
                                             text="Vote on the cards" if vote else "The cards")
            if vote:
                with runtime.db.transaction() as session:
                    store.add_post(session, team_id=team_id, board_id=board_id, kind=VOTE_POST, ts=posted["ts"])
    elif state.phase is Phase.DISCUSS:
        # Voting is over: the vote messages lose their buttons and show the counts.
        with runtime.db.transaction() as session:
            vote_posts = store.posts(session, team_id=team_id, board_id=board_id, kind=VOTE_POST)
        redrawn = views.card_messages(board_id, columns, groups, vote_buttons=False, anonymous=state.anonymous,
                                      title=state.title, show_votes=True)
        for ts, blocks in zip(vote_posts, redrawn, strict=False):
            client.chat_update(channel=channel_id, ts=ts, blocks=blocks, text="The votes")
        for rank, group in enumerate(domain.to_discuss(groups), 1):
            column = columns[group.column] if group.column < len(columns) else ""
            client.chat_postMessage(
                channel=channel_id, thread_ts=thread_ts,
                blocks=views.discussion_blocks(board_id, rank, group, column, anonymous=state.anonymous),
                text=f"To discuss #{rank}: {group.lead.text}"[:3000],
            )
    elif state.phase is Phase.CLOSED:
        client.chat_postMessage(channel=channel_id, thread_ts=thread_ts, reply_broadcast=True,
                                text=views.summary_text(state))


# -- grouping ------------------------------------------------------------------------------------------------------
def open_merge(ack: Ack, body: dict, action: dict, client: WebClient, context: BoltContext) -> None:
    ack()
    runtime = runtime_of(context)
    (board_id,) = _numbers(action["value"])
    with runtime.db.transaction() as session:
        board = store.get_board(session, team_id=body["team"]["id"], board_id=board_id)
        domain.require_phase(board.current_phase, [Phase.GROUP], "Merging cards")
        if body["user"]["id"] != board.facilitator_id:
            raise domain.NotFacilitator
        groups = domain.group_cards(store.domain_cards(session, board=board))
        columns = store.board_columns(session, team_id=board.team_id, board_id=board_id)
    client.views_open(trigger_id=body["trigger_id"], view=views.merge_modal(board_id, columns, groups))


def submit_merge(ack: Ack, body: dict, view: dict, client: WebClient, context: BoltContext) -> None:
    runtime = runtime_of(context)
    team_id = body["team"]["id"]
    board_id, source_id, target_id = views.parse_merge(view)
    try:
        with runtime.db.transaction() as session:
            store.merge_cards(session, team_id=team_id, board_id=board_id, source_id=source_id, target_id=target_id,
                              user_id=body["user"]["id"])
            board = store.get_board(session, team_id=team_id, board_id=board_id)
            texts = {c.id: c.text for c in store.cards(session, team_id=team_id, board_id=board_id)}
            channel_id, thread_ts = board.channel_id, board.message_ts
    except CadenceError as error:
        ack(response_action="errors", errors={views.MERGE_SOURCE_BLOCK: str(error)})
        return
    ack()
    client.chat_postMessage(channel=channel_id, thread_ts=thread_ts,
                            text=views.merged_text(texts.get(source_id, ""), texts.get(target_id, "")))


# -- voting --------------------------------------------------------------------------------------------------------
def vote(ack: Ack, body: dict, action: dict, respond: Respond, client: WebClient, context: BoltContext) -> None:
    """One vote on a card; the budget is enforced in the database, and a repeated delivery counts once."""
    ack()
    runtime = runtime_of(context)
    team_id, user_id = body["team"]["id"], body["user"]["id"]
    board_id, card_id = _numbers(action["value"])
    click_id = views.click_id(body, action)
    with runtime.db.transaction() as session:
        left = store.cast_vote(session, team_id=team_id, board_id=board_id, card_id=card_id, voter_id=user_id,
                               click_id=click_id, now=runtime.now())
    respond(text=views.votes_left_text(left), response_type="ephemeral", replace_original=False)
    refresh_board(runtime, client, team_id=team_id, board_id=board_id)


def reset_votes(ack: Ack, body: dict, action: dict, respond: Respond, client: WebClient, context: BoltContext
                ) -> None:
    ack()
    runtime = runtime_of(context)
    team_id = body["team"]["id"]
    (board_id,) = _numbers(action["value"])
    with runtime.db.transaction() as session:
        budget = store.reset_votes(session, team_id=team_id, board_id=board_id, voter_id=body["user"]["id"])
    respond(text=views.votes_left_text(budget, reset=True), response_type="ephemeral", replace_original=False)
    refresh_board(runtime, client, team_id=team_id, board_id=board_id)


# -- action items --------------------------------------------------------------------------------------------------
def open_add_action(ack: Ack, body: dict, action: dict, client: WebClient, context: BoltContext) -> None:
    ack()
    runtime = runtime_of(context)
    numbers = _numbers(action["value"])
    board_id, card_id = numbers[0], (numbers[1] if len(numbers) > 1 else None)
    with runtime.db.transaction() as session:
        board = store.get_board(session, team_id=body["team"]["id"], board_id=board_id)
        domain.require_phase(board.current_phase, [Phase.DISCUSS, Phase.ACTIONS], "Adding an action item")
        groups = domain.discussion_order(domain.group_cards(store.domain_cards(session, board=board)))
    client.views_open(trigger_id=body["trigger_id"], view=views.action_modal(board_id, groups, card_id=card_id))


def submit_action(ack: Ack, body: dict, view: dict, client: WebClient, context: BoltContext) -> None:
    runtime = runtime_of(context)
    team_id, user_id = body["team"]["id"], body["user"]["id"]
    fields = views.parse_action(view)
    now = runtime.now()
    item, problems = domain.validate_action_item(
        text=fields["text"], owner_id=fields["owner_id"], due=fields["due"], card_id=fields["card_id"],
        today=now.date(),
    )
    if item is None:
        ack(response_action="errors", errors=views.errors(problems, views.ACTION_ERROR_BLOCKS))
        return
    board_id = fields["board_id"]
    try:
        with runtime.db.transaction() as session:
            store.add_action_item(session, team_id=team_id, board_id=board_id, item=item, created_by=user_id, now=now)
            board = store.get_board(session, team_id=team_id, board_id=board_id)
            title, channel_id = board.title, board.channel_id
    except CadenceError as error:
        ack(response_action="errors", errors={views.ACTION_TEXT_BLOCK: str(error)})
        return
    ack()
    line = views.ActionLine(item.text, item.owner_id, item.due)
    client.chat_postMessage(channel=item.owner_id, text=views.owner_dm_text(line, title=title, channel_id=channel_id))
    refresh_board(runtime, client, team_id=team_id, board_id=board_id)


def answer_review(ack: Ack, body: dict, action: dict, client: WebClient, context: BoltContext) -> None:
    """Done / Not done / Drop on an item brought up from an earlier retro (its owner or the facilitator)."""
    ack()
    runtime = runtime_of(context)
    team_id, user_id = body["team"]["id"], body["user"]["id"]
    (review_id,) = _numbers(action["value"])
    outcome = views.REVIEW_ACTIONS[action["action_id"]]
    with runtime.db.transaction() as session:
        answered = store.answer_review(session, team_id=team_id, review_id=review_id, outcome=outcome,
                                       user_id=user_id, now=runtime.now())
        item, review = answered.item, answered.review
        line = views.ActionLine(item.text, item.owner_id, item.due_date)
        channel_id, ts, carried = answered.board.channel_id, review.message_ts, item.carried_count
        decided_by = review.decided_by
    if answered.changed and ts:
        blocks = views.review_blocks(review_id, line, carried=carried, outcome=outcome, decided_by=decided_by)
        client.chat_update(channel=channel_id, ts=ts, blocks=blocks,
                           text=f"From an earlier retro: {line.text}"[:3000])
    if answered.changed:
        refresh_home(runtime, client, team_id=team_id, user_id=user_id)


# -- scheduled work ------------------------------------------------------------------------------------------------
def remind_due_action_items(runtime: Runtime, now: datetime) -> None:
    """DM each owner on an open item's due date (09:00 their time), exactly once per item and due date."""
    with runtime.db.transaction() as session:
        due = [
            (i.id, i.team_id, i.channel_id, i.owner_id, i.text, i.due_date)
            for i in store.action_items_due_by(session, through=domain.reminder_window(now))
        ]
    for item_id, team_id, channel_id, owner_id, text, due_date in due:
        assert due_date is not None
        key = domain.reminder_key(item_id, due_date)
        with runtime.db.transaction() as session:
            if claims.is_done(session, key=key):
                continue
        client = runtime.client_for(team_id)
        profile = people.profile(runtime, client, team_id=team_id, user_id=owner_id)
        timezone = profile.timezone if profile is not None and profile.timezone else runtime.settings.default_timezone
        remind_at = domain.reminder_at(due_date, timezone)
        if now < remind_at:
            continue
        with runtime.db.transaction() as session:
            if not claims.claim(session, team_id=team_id, kind="retro.action_due", key=key, now=now, due_at=remind_at):
                continue
        try:
            client.chat_postMessage(channel=owner_id, text=views.reminder_text(
                views.ActionLine(text, owner_id, due_date), channel_id=channel_id))
        except SlackApiError as error:
            log.warning("could not remind the owner of retro action item %s: %s", item_id,
                        error.response.get("error"))
            with runtime.db.transaction() as session:
                claims.release(session, key=key, now=now, retry_after=REMINDER_RETRY,
                               error=str(error.response.get("error")))
            continue
        with runtime.db.transaction() as session:
            claims.finish(session, key=key, now=now)


# -- the App Home --------------------------------------------------------------------------------------------------
def home_section(runtime: Runtime, context: hooks.HomeContext) -> hooks.Blocks:
    """The open action items the person owns, by due date, overdue ones marked."""
    with runtime.db.reading() as session:
        items = [views.HomeActionItem(i.text, i.channel_id, i.due_date)
                 for i in store.open_action_items_for_user(session, team_id=context.team_id, user_id=context.user_id)]
        if not items:
            return []
        person = people_store.get_person(session, team_id=context.team_id, user_id=context.user_id)
        timezone = person.timezone if person is not None and person.timezone else runtime.settings.default_timezone
    return views.home_blocks(items, today=context.now.astimezone(ZoneInfo(timezone)).date())


def home_teams(runtime: Runtime, context: hooks.HomeContext) -> set[str]:
    """The team channels where the person facilitated a retro, wrote a named card or owns an action item."""
    with runtime.db.reading() as session:
        return store.channels_of(session, team_id=context.team_id, user_id=context.user_id)


RETRO = SlashCommand(
    "/retro",
    handle_retro_command,
    ("/retro", "/retro actions", "/retro export [board number]", "/retro help"),
)
SLASH_COMMANDS = (RETRO,)
JOBS = (remind_due_action_items,)


def register(app: App) -> None:
    app.command(RETRO.name)(handle_retro_command)
    app.view(views.START)(submit_setup)
    app.action(views.ADD_CARD)(open_add_card)
    app.view(views.CARD_VIEW)(submit_card)
    app.action(views.MY_CARDS)(open_my_cards)
    app.action(views.EDIT_CARD)(edit_own_card)
    app.action(views.DELETE_CARD)(delete_own_card)
    app.action(views.ADVANCE)(advance_phase)
    app.action(views.MERGE)(open_merge)
    app.view(views.MERGE_VIEW)(submit_merge)
    app.action(views.VOTE)(vote)
    app.action(views.RESET_VOTES)(reset_votes)
    app.action(views.ADD_ACTION)(open_add_action)
    app.view(views.ACTION_VIEW)(submit_action)
    for action_id in views.REVIEW_ACTIONS:
        app.action(action_id)(answer_review)
    hooks.add_home_section(home_section)
    hooks.add_team_finder(home_teams)
