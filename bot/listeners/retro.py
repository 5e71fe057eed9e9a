"""`/retro`: retrospective boards run by a facilitator, phase by phase, with action items that follow their owners.

Every listener answers the person who acted (a modal, an ephemeral, an error in the form); whatever the board shows to
everyone — the board message, its thread, owners' DMs — is queued in the outbox with the change (bot/jobs/retro.py).
On an anonymous board nothing here sends, logs or stores who wrote a card: the author is known only by a keyed hash,
and every reply to an author about their cards goes into their modal, never into a message addressed to them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from zoneinfo import ZoneInfo

from slack_bolt import Ack, App, BoltContext, Respond
from sqlalchemy.orm import Session

from bot import hooks
from bot.jobs import retro as messages
from bot.listeners.commands import SlashCommand, first_word
from bot.listeners.home import refresh_home
from bot.server.errors import cannot_work_in
from bot.server.runtime import Runtime, runtime_of, slack_of
from bot.slack.gateway import Slack
from bot.views import retro as views
from bot.views import trackers as tracker_views
from bot.views.help import command_usage_blocks, command_usage_text
from ceremonies import retro as domain
from ceremonies.errors import CadenceError
from ceremonies.retro import Phase
from storage import outbox, trackers
from storage import people as people_store
from storage import retro as store
from storage import retro_cases as cases
from storage import sprint as sprints


def running_sprint_name(session: Session, team_id: str, channel_id: str, today: date) -> str | None:
    """The channel's running sprint's name: a retro is usually that sprint's."""
    sprint = sprints.running_sprint(session, team_id=team_id, channel_id=channel_id)
    return sprint.name if sprint is not None else None


# Where a new retro's default title can come from besides the date: (session, team_id, channel_id, today) -> name.
# The first name offered wins.
TITLE_SOURCES: tuple[Callable[[Session, str, str, date], str | None], ...] = (running_sprint_name,)


# -- the slash command ---------------------------------------------------------------------------------------------
def handle_retro_command(ack: Ack, command: dict, context: BoltContext) -> None:
    """Runs a retrospective: hidden cards, reveal, grouping, dot voting, discussion and action items."""
    runtime = runtime_of(context)
    team_id, channel_id = command["team_id"], command["channel_id"]
    subcommand, rest = first_word(command.get("text"))
    if subcommand in ("", "start"):
        with runtime.db.reading() as session:
            if store.active_board(session, team_id=team_id, channel_id=channel_id) is not None:
                ack(text=f":warning: {domain.RetroAlreadyRunning()}", response_type="ephemeral")
                return
            sources = [_bind(source, session, team_id, channel_id) for source in TITLE_SOURCES]
            title = domain.default_title(runtime.now().date(), sources=sources)
        ack()
        slack_of(context).open_view(trigger_id=command["trigger_id"], view=views.setup_modal(channel_id, title))
    elif subcommand == "help":
        ack(text=command_usage_text(RETRO), blocks=command_usage_blocks(RETRO), response_type="ephemeral")
    elif subcommand == "actions":
        with runtime.db.reading() as session:
            items = store.open_action_items(session, team_id=team_id, channel_id=channel_id)
            lines = [views.ActionLine(i.text, i.owner_id, i.due_date) for i in items]
        ack(text=f"{len(lines)} open action items", blocks=views.actions_list_blocks(lines, channel_id=channel_id),
            response_type="ephemeral")
    elif subcommand == "export":
        ack()
        export_board(runtime, slack_of(context), team_id=team_id, channel_id=channel_id,
                     board_id=views.board_number(rest))
    else:
        problem = f"I don't know `{subcommand[:50]}`."
        ack(text=command_usage_text(RETRO, problem), blocks=command_usage_blocks(RETRO, problem),
            response_type="ephemeral")


def _bind(source: Callable[[Session, str, str, date], str | None], session: Session, team_id: str, channel_id: str
          ) -> domain.TitleSource:
    return lambda today: source(session, team_id, channel_id, today)


def export_board(runtime: Runtime, slack: Slack, *, team_id: str, channel_id: str, board_id: int | None) -> None:
    """Share the board (the channel's latest when no id is given) in the channel as a Markdown file."""
    with runtime.db.reading() as session:
        board = store.board_for_export(session, team_id=team_id, channel_id=channel_id, board_id=board_id)
        export = store.board_export(session, team_id=team_id, board_id=board.id)
    slack.upload(channel=channel_id, content=domain.export_markdown(export).encode(),
                 filename=f"retro-{export.board_id}.md", title=f"Retro: {export.title}",
                 initial_comment=views.export_comment(export.title))


# -- starting a board ----------------------------------------------------------------------------------------------
def submit_setup(ack: Ack, body: dict, view: dict, context: BoltContext) -> None:
    """Start the board; it appears in the channel with the open items of earlier retros in its thread."""
    runtime = runtime_of(context)
    setup, problems = domain.validate_setup(**views.parse_setup(view))
    if setup is None:
        ack(response_action="errors", errors=views.errors(problems, views.SETUP_ERROR_BLOCKS))
        return
    if refusal := cannot_work_in(slack_of(context), channel_id=views.metadata(view)["channel"]):
        ack(response_action="errors", errors={views.TITLE_BLOCK: refusal})
        return
    try:
        with runtime.db.transaction() as session:
            cases.start(session, team_id=body["team"]["id"], channel_id=views.metadata(view)["channel"], setup=setup,
                        facilitator_id=body["user"]["id"], now=runtime.now())
    except domain.RetroAlreadyRunning as error:
        ack(response_action="errors", errors={views.TITLE_BLOCK: str(error)})
        return
    ack()


# -- collecting cards ----------------------------------------------------------------------------------------------
def open_add_card(ack: Ack, body: dict, action: dict, context: BoltContext) -> None:
    ack()
    runtime = runtime_of(context)
    (board_id,) = views.numbers(action["value"])
    with runtime.db.reading() as session:
        board = store.get_board(session, team_id=body["team"]["id"], board_id=board_id)
        domain.require_phase(board.current_phase, [Phase.COLLECT], "Adding a card")
        columns = store.board_columns(session, team_id=board.team_id, board_id=board_id)
    slack_of(context).open_view(trigger_id=body["trigger_id"], view=views.card_modal(board_id, columns))


def submit_card(ack: Ack, body: dict, view: dict, context: BoltContext) -> None:
    """Add or edit one's own card; every refusal is an inline error in the modal (no message names the author)."""
    runtime = runtime_of(context)
    board_id, card_id, column, text = views.parse_card(view)
    try:
        with runtime.db.transaction() as session:
            cases.write_card(session, team_id=body["team"]["id"], board_id=board_id, card_id=card_id, column=column,
                             text=text, user_id=body["user"]["id"], secret=runtime.settings.retro_anonymity_secret,
                             now=runtime.now())
    except CadenceError as error:
        ack(response_action="errors", errors={views.CARD_TEXT_BLOCK: str(error)})
        return
    ack()


def open_my_cards(ack: Ack, body: dict, action: dict, context: BoltContext) -> None:
    ack()
    (board_id,) = views.numbers(action["value"])
    view = _my_cards_view(runtime_of(context), team_id=body["team"]["id"], board_id=board_id,
                          user_id=body["user"]["id"])
    slack_of(context).open_view(trigger_id=body["trigger_id"], view=view)


def _my_cards_view(runtime: Runtime, *, team_id: str, board_id: int, user_id: str) -> dict:
    with runtime.db.reading() as session:
        mine = cases.own_cards(session, team_id=team_id, board_id=board_id, user_id=user_id,
                               secret=runtime.settings.retro_anonymity_secret)
    return views.my_cards_modal(board_id, mine.columns, mine.cards)


def edit_own_card(ack: Ack, body: dict, action: dict, context: BoltContext) -> None:
    ack()
    runtime = runtime_of(context)
    board_id, card_id = views.numbers(action["value"])
    try:
        with runtime.db.reading() as session:
            mine = cases.own_cards(session, team_id=body["team"]["id"], board_id=board_id,
                                   user_id=body["user"]["id"], secret=runtime.settings.retro_anonymity_secret,
                                   card_id=card_id)
        ((card_id, column, text),) = mine.cards
        view = views.card_modal(board_id, mine.columns, card_id=card_id, column=column, text=text)
    except CadenceError as error:
        view = views.notice_modal("My cards", str(error))
    slack_of(context).update_view(view_id=body["view"]["id"], view=view)


def delete_own_card(ack: Ack, body: dict, action: dict, context: BoltContext) -> None:
    ack()
    runtime = runtime_of(context)
    team_id, user_id = body["team"]["id"], body["user"]["id"]
    board_id, card_id = views.numbers(action["value"])
    try:
        with runtime.db.transaction() as session:
            cases.remove_card(session, team_id=team_id, board_id=board_id, card_id=card_id, user_id=user_id,
                              secret=runtime.settings.retro_anonymity_secret, now=runtime.now())
        view = _my_cards_view(runtime, team_id=team_id, board_id=board_id, user_id=user_id)
    except CadenceError as error:
        view = views.notice_modal("My cards", str(error))
    slack_of(context).update_view(view_id=body["view"]["id"], view=view)


# -- phases --------------------------------------------------------------------------------------------------------
def advance_phase(ack: Ack, body: dict, action: dict, context: BoltContext) -> None:
    """Move the board on (facilitator only); the new phase shows in the board's thread."""
    ack()
    runtime = runtime_of(context)
    team_id, now = body["team"]["id"], runtime.now()
    board_id, target = views.parse_advance(action["value"])
    with runtime.db.transaction() as session:
        if cases.advance(session, team_id=team_id, board_id=board_id, target=target, user_id=body["user"]["id"],
                         now=now):
            messages.queue_phase_messages(session, team_id=team_id, board_id=board_id, now=now)


# -- grouping ------------------------------------------------------------------------------------------------------
def open_merge(ack: Ack, body: dict, action: dict, context: BoltContext) -> None:
    ack()
    runtime = runtime_of(context)
    (board_id,) = views.numbers(action["value"])
    with runtime.db.reading() as session:
        board = store.get_board(session, team_id=body["team"]["id"], board_id=board_id)
        domain.require_phase(board.current_phase, [Phase.GROUP], "Merging cards")
        if body["user"]["id"] != board.facilitator_id:
            raise domain.NotFacilitator
        groups = domain.group_cards(store.domain_cards(session, board=board))
        columns = store.board_columns(session, team_id=board.team_id, board_id=board_id)
    slack_of(context).open_view(trigger_id=body["trigger_id"], view=views.merge_modal(board_id, columns, groups))


def submit_merge(ack: Ack, body: dict, view: dict, context: BoltContext) -> None:
    """Merge a card into another's group (facilitator, while grouping); the thread says what was merged."""
    runtime = runtime_of(context)
    team_id, now = body["team"]["id"], runtime.now()
    board_id, source_id, target_id = views.parse_merge(view)
    try:
        with runtime.db.transaction() as session:
            merged = cases.merge(session, team_id=team_id, board_id=board_id, source_id=source_id,
                                 target_id=target_id, user_id=body["user"]["id"])
            outbox.add(session, team_id=team_id, key=f"retro.merged:{board_id}:{source_id}", kind=cases.NOTE,
                       channel=merged.channel_id, ref_key=cases.board_key(board_id), now=now,
                       text=views.merged_text(merged.source_text, merged.target_text))
    except CadenceError as error:
        ack(response_action="errors", errors={views.MERGE_SOURCE_BLOCK: str(error)})
        return
    ack()


# -- voting --------------------------------------------------------------------------------------------------------
def vote(ack: Ack, body: dict, action: dict, respond: Respond, context: BoltContext) -> None:
    """One vote on a card; the budget is enforced in the database, and a repeated delivery counts once."""
    ack()
    runtime = runtime_of(context)
    board_id, card_id = views.numbers(action["value"])
    with runtime.db.transaction() as session:
        left = cases.vote(session, team_id=body["team"]["id"], board_id=board_id, card_id=card_id,
                          voter_id=body["user"]["id"], click_id=views.click_id(body, action), now=runtime.now())
    respond(text=views.votes_left_text(left), response_type="ephemeral", replace_original=False)


def reset_votes(ack: Ack, body: dict, action: dict, respond: Respond, context: BoltContext) -> None:
    ack()
    runtime = runtime_of(context)
    (board_id,) = views.numbers(action["value"])
    with runtime.db.transaction() as session:
        budget = cases.reset_votes(session, team_id=body["team"]["id"], board_id=board_id,
                                   voter_id=body["user"]["id"], now=runtime.now())
    respond(text=views.votes_left_text(budget, reset=True), response_type="ephemeral", replace_original=False)


# -- action items --------------------------------------------------------------------------------------------------
def open_add_action(ack: Ack, body: dict, action: dict, context: BoltContext) -> None:
    ack()
    runtime = runtime_of(context)
    numbers = views.numbers(action["value"])
    board_id, card_id = numbers[0], (numbers[1] if len(numbers) > 1 else None)
    with runtime.db.reading() as session:
        board = store.get_board(session, team_id=body["team"]["id"], board_id=board_id)
        domain.require_phase(board.current_phase, [Phase.DISCUSS, Phase.ACTIONS], "Adding an action item")
        groups = domain.discussion_order(domain.group_cards(store.domain_cards(session, board=board)))
    slack_of(context).open_view(trigger_id=body["trigger_id"],
                                view=views.action_modal(board_id, groups, card_id=card_id))


def submit_action(ack: Ack, body: dict, view: dict, context: BoltContext) -> None:
    """Record an action item; its owner gets a DM."""
    runtime = runtime_of(context)
    team_id, now = body["team"]["id"], runtime.now()
    fields = views.parse_action(view)
    item, problems = domain.validate_action_item(text=fields["text"], owner_id=fields["owner_id"], due=fields["due"],
                                                 card_id=fields["card_id"], today=now.date())
    if item is None:
        ack(response_action="errors", errors=views.errors(problems, views.ACTION_ERROR_BLOCKS))
        return
    try:
        with runtime.db.transaction() as session:
            added = cases.add_action_item(session, team_id=team_id, board_id=fields["board_id"], item=item,
                                          created_by=body["user"]["id"], now=now)
            line = views.ActionLine(added.text, added.owner_id, added.due)
            dm = views.owner_dm_text(line, title=added.title, channel_id=added.channel_id)
            outbox.add(session, team_id=team_id, key=f"{cases.OWNER_DM}:{added.item_id}", kind=cases.OWNER_DM,
                       channel=added.owner_id, now=now, text=dm,
                       # "Create issue" in each connected tracker (bot/listeners/trackers.py)
                       blocks=tracker_views.create_issue_blocks(dm, trackers.connected_kinds(
                           session, team_id=team_id, channel_id=added.channel_id), item_id=added.item_id))
    except CadenceError as error:
        ack(response_action="errors", errors={views.ACTION_TEXT_BLOCK: str(error)})
        return
    ack()


def answer_review(ack: Ack, body: dict, action: dict, context: BoltContext) -> None:
    """Done / Not done / Drop on an item brought up from an earlier retro (its owner or the facilitator)."""
    ack()
    runtime = runtime_of(context)
    team_id, user_id = body["team"]["id"], body["user"]["id"]
    (review_id,) = views.numbers(action["value"])
    with runtime.db.transaction() as session:
        changed = cases.answer_review(session, team_id=team_id, review_id=review_id, user_id=user_id,
                                      outcome=views.REVIEW_ACTIONS[action["action_id"]], now=runtime.now())
    if changed:
        refresh_home(runtime, slack_of(context), team_id=team_id, user_id=user_id)


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
