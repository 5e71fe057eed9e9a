"""Block Kit for retro boards: the board message, the cards in its thread, the modals, and parsing them back."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from slack_sdk.models.blocks import (
    CheckboxesElement,
    DatePickerElement,
    InputBlock,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    StaticSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.views.common import (
    MESSAGE_BLOCK_LIMIT,
    SECTION_TEXT_LIMIT,
    Block,
    actions,
    button,
    context,
    cut,
    divider,
    escape,
    fallback_text,
    fit_list,
    header,
    section,
)
from ceremonies import retro as domain
from ceremonies.errors import InvalidInput
from ceremonies.numbers import button_ids, parse_id
from ceremonies.retro import CardGroup, Phase

# Action ids, block ids and modal callback ids, defined once.
START = "retro.setup"
ADD_CARD = "retro.add_card"
CARD_VIEW = "retro.card"
MY_CARDS = "retro.my_cards"
MY_CARDS_VIEW = "retro.my_cards_view"
EDIT_CARD = "retro.edit_card"
DELETE_CARD = "retro.delete_card"
ADVANCE = "retro.advance"
MERGE = "retro.merge"
MERGE_VIEW = "retro.merge_view"
VOTE = "retro.vote"
RESET_VOTES = "retro.reset_votes"
ADD_ACTION = "retro.add_action"
ACTION_VIEW = "retro.action_view"
REVIEW_DONE = "retro.review_done"
REVIEW_NOT_DONE = "retro.review_not_done"
REVIEW_DROP = "retro.review_drop"
REVIEW_ACTIONS = {
    REVIEW_DONE: domain.ReviewOutcome.DONE,
    REVIEW_NOT_DONE: domain.ReviewOutcome.NOT_DONE,
    REVIEW_DROP: domain.ReviewOutcome.DROPPED,
}

TITLE_BLOCK = "retro.title"
TEMPLATE_BLOCK = "retro.template"
COLUMNS_BLOCK = "retro.columns"
OPTIONS_BLOCK = "retro.options"
VOTES_BLOCK = "retro.votes"
CARD_COLUMN_BLOCK = "retro.card_column"
CARD_TEXT_BLOCK = "retro.card_text"
MERGE_SOURCE_BLOCK = "retro.merge_source"
MERGE_TARGET_BLOCK = "retro.merge_target"
ACTION_TEXT_BLOCK = "retro.action_text"
ACTION_OWNER_BLOCK = "retro.action_owner"
ACTION_DUE_BLOCK = "retro.action_due"
ACTION_CARD_BLOCK = "retro.action_card"
VALUE = "value"
ANONYMOUS_OPTION = "anonymous"
MULTIPLE_OPTION = "multiple"
SELECT_OPTION_LIMIT = 100
MY_CARDS_SHOWN = 49  # two blocks a card and a note: within a modal's 100 blocks
OPTION_TEXT_LIMIT = 75

NEXT_LABELS = {
    Phase.REVEAL: "Reveal cards →",
    Phase.GROUP: "Start grouping →",
    Phase.VOTE: "Start voting →",
    Phase.DISCUSS: "End voting, discuss →",
    Phase.ACTIONS: "On to action items →",
    Phase.CLOSED: "Close the retro",
}


@dataclass(frozen=True)
class ActionLine:
    text: str
    owner_id: str
    due: date | None
    status: domain.ActionStatus = domain.ActionStatus.OPEN


@dataclass(frozen=True)
class BoardState:
    """Everything the board message shows. `contributor_ids` is empty on an anonymous board."""

    board_id: int
    title: str
    phase: Phase
    facilitator_id: str
    anonymous: bool
    columns: tuple[str, ...]
    votes_per_person: int
    multiple_votes_per_card: bool
    counts: dict[int, int] = field(default_factory=dict)
    contributor_ids: tuple[str, ...] = ()
    contributor_count: int = 0
    voter_count: int = 0
    groups: tuple[CardGroup, ...] = ()
    actions: tuple[ActionLine, ...] = ()


# -- the board message ---------------------------------------------------------------------------------------------
def board_blocks(board: BoardState) -> list[Block]:
    """The board message for the board's phase; in collection it shows counts, never the cards."""
    mode = "anonymous cards" if board.anonymous else "named cards"
    blocks = [
        header(board.title),
        context(f"Retro · {domain.PHASE_LABELS[board.phase]} · facilitated by <@{board.facilitator_id}> · {mode}"),
    ]
    buttons: list[dict[str, Any]] = []
    if board.phase is Phase.COLLECT:
        lines = [
            f"*{escape(name)}* — {_cards(board.counts.get(index, 0))}" for index, name in enumerate(board.columns)
        ]
        blocks.append(section("Add your cards; nobody sees them until the facilitator reveals them.\n" + "\n".join(lines)))
        if board.anonymous:
            who = f"{board.contributor_count} {'person has' if board.contributor_count == 1 else 'people have'} added cards."
        elif board.contributor_ids:
            who = "Cards from " + ", ".join(f"<@{u}>" for u in board.contributor_ids)
        else:
            who = "No cards yet."
        blocks.append(context(who))
        buttons += [button("Add card", ADD_CARD, str(board.board_id), style="primary"),
                    button("My cards", MY_CARDS, str(board.board_id))]
    elif board.phase is Phase.REVEAL:
        blocks.append(section(f"{_cards(sum(board.counts.values()))} revealed in the thread, by column."))
    elif board.phase is Phase.GROUP:
        blocks.append(section("The facilitator merges duplicates: a merged card joins the other's group and their "
                              "votes add up."))
        buttons.append(button("Merge cards", MERGE, str(board.board_id)))
    elif board.phase is Phase.VOTE:
        many = "several on one card" if board.multiple_votes_per_card else "one per card"
        blocks.append(section(f"Vote on the cards in the thread: {board.votes_per_person} votes each ({many}). "
                              "Counts stay hidden until voting ends."))
        blocks.append(context(f"{board.voter_count} {'person has' if board.voter_count == 1 else 'people have'} voted."))
        buttons.append(button("Reset my votes", RESET_VOTES, str(board.board_id)))
    elif board.phase in (Phase.DISCUSS, Phase.ACTIONS, Phase.CLOSED):
        blocks.append(section("*Top cards*\n" + (_top_lines(board) or "_No cards._")))
        if board.phase is not Phase.DISCUSS or board.actions:
            blocks.append(section("*Action items*\n" + (_action_lines(board.actions) or "_None yet._")))
        if board.phase is not Phase.CLOSED:
            buttons.append(button("Add action item", ADD_ACTION, str(board.board_id)))
    target = domain.next_phase(board.phase)
    if target is not None:
        buttons.append(button(NEXT_LABELS[target], ADVANCE, f"{board.board_id}:{target.value}",
                              style="danger" if target is Phase.CLOSED else None))
        blocks.append(actions(*buttons, block_id=f"retro.board.{board.board_id}"))
    return blocks


def board_text(board: BoardState) -> str:
    return fallback_text(f"Retro “{escape(board.title)}”: {domain.PHASE_LABELS[board.phase]}")


def _cards(count: int) -> str:
    return f"{count} card{'s' if count != 1 else ''}"


def _top_lines(board: BoardState) -> str:
    ordered = domain.discussion_order(board.groups)[: domain.DISCUSS_TOP]
    return "\n".join(f"{i}. {escape(cut(g.lead.text, 200))} — *{_votes(g.votes)}*" for i, g in enumerate(ordered, 1))


def _votes(count: int) -> str:
    return f"{count} vote{'s' if count != 1 else ''}"


def _action_lines(items: Sequence[ActionLine]) -> str:
    """One line an item, at most 20, cut by count to fit a section under its heading (escaping can make a line
    several times longer), with its own "…and N more." always shown."""
    lines = []
    for item in items:
        due = f", due {item.due.isoformat()}" if item.due else ""
        lines.append(f"• {escape(cut(item.text, 200))} — <@{item.owner_id}>{due}")
    return fit_list(lines, separator="\n", more="…and {n} more.", max_items=20, limit=SECTION_TEXT_LIMIT - 100)


# -- cards in the thread -------------------------------------------------------------------------------------------
def card_messages(
    board_id: int, columns: Sequence[str], groups: Sequence[CardGroup], *, vote_buttons: bool, anonymous: bool,
    title: str, show_votes: bool = False,
) -> list[list[Block]]:
    """The cards by column, split over as many messages as Slack's 50-block limit needs (the same split each time)."""
    blocks: list[Block] = []
    for index, name in enumerate(columns):
        blocks.append(header(name))
        column_groups = [g for g in groups if g.column == index]
        if not column_groups:
            blocks.append(context("No cards."))
        for group in column_groups:
            accessory = button("Vote", VOTE, f"{board_id}:{group.id}") if vote_buttons else None
            blocks.append(section(_group_text(group, anonymous=anonymous, votes=show_votes), accessory=accessory))
    purpose = "vote here" if vote_buttons else "the votes" if show_votes else "the cards"
    intro = context(f"“{escape(title)}” — {purpose}")
    return _split([intro, *blocks])


CARDS_PURPOSE = {Phase.REVEAL: "the cards", Phase.VOTE: "vote on the cards", Phase.DISCUSS: "the cards and their votes"}


def cards_text(phase: Phase, *, title: str, part: int, parts: int) -> str:
    """What a message of cards is, for notifications and screen readers: "Retro “Sprint 8”: vote on the cards (2/3)"."""
    of = f" ({part}/{parts})" if parts > 1 else ""
    return fallback_text(f"Retro “{escape(cut(title, 200))}”: {CARDS_PURPOSE.get(phase, 'the cards')}{of}")


def _group_text(group: CardGroup, *, anonymous: bool, votes: bool = False) -> str:
    def line(card: domain.Card) -> str:
        by = f" — <@{card.author_id}>" if card.author_id and not anonymous else ""
        return escape(card.text) + by

    text = line(group.lead)
    if votes:
        text = f"*{_votes(group.votes)}* · " + text
    for member in group.members:
        text += "\n↳ " + line(member)
    return cut(text)


def _split(blocks: list[Block]) -> list[list[Block]]:
    return [blocks[i : i + MESSAGE_BLOCK_LIMIT] for i in range(0, len(blocks), MESSAGE_BLOCK_LIMIT)] or [[]]


def discussion_blocks(board_id: int, rank: int, group: CardGroup, column: str, *, anonymous: bool) -> list[Block]:
    """One card (group) to discuss, with a button to turn it into an action item."""
    return [
        section(f"*#{rank} · {escape(column)}*\n" + _group_text(group, anonymous=anonymous, votes=True)),
        actions(button("Add action item", ADD_ACTION, f"{board_id}:{group.id}")),
    ]


def discussion_text(rank: int, group: CardGroup) -> str:
    return f"To discuss #{rank}: {group.lead.text}"[:3000]


def review_blocks(review_id: int, item: ActionLine, *, carried: int, outcome: domain.ReviewOutcome | None,
                  decided_by: str | None = None) -> list[Block]:
    """An open item from an earlier retro, with Done / Not done / Drop until it is answered."""
    due = f" · due {item.due.isoformat()}" if item.due else ""
    again = f" · carried over {carried}×" if carried else ""
    blocks = [section(f"*From an earlier retro:* {escape(item.text)}\nOwner <@{item.owner_id}>{due}{again}")]
    if outcome is None:
        blocks.append(actions(
            button("Done", REVIEW_DONE, str(review_id), style="primary"),
            button("Not done", REVIEW_NOT_DONE, str(review_id)),
            button("Drop", REVIEW_DROP, str(review_id), style="danger"),
        ))
    else:
        by = f" by <@{decided_by}>" if decided_by else ""
        carry = " It carries forward to the next retro." if outcome is domain.ReviewOutcome.NOT_DONE else ""
        blocks.append(context(f"*{domain.OUTCOME_LABELS[outcome]}*{by}.{carry}"))
    return blocks


def actions_list_blocks(items: Sequence[ActionLine], *, channel_id: str) -> list[Block]:
    """The channel's open action items, for `/retro actions`."""
    if not items:
        return [section(f"No open action items in <#{channel_id}>. :tada:")]
    blocks = [section(f"*Open action items in <#{channel_id}>*")]
    text = _action_lines(items)
    blocks.append(section(text))
    return blocks


def review_text(item: ActionLine) -> str:
    """The notification text of an open item from an earlier retro."""
    return fallback_text(f"From an earlier retro: {escape(cut(item.text, 3000))}")


def owner_dm_text(item: ActionLine, *, title: str, channel_id: str) -> str:
    due = f" Due {item.due.isoformat()}." if item.due else ""
    return fallback_text(f"You own an action item from the retro “{escape(title)}” in <#{channel_id}>: "
                         f"{escape(item.text)}.{due}")


def cannot_post_text(channel_id: str, *, invite: bool, error: str | None) -> str:
    """Why a new board did not appear in its channel, told to its facilitator."""
    if invite:
        return f":warning: I can't post in <#{channel_id}>: invite me with `/invite @Cadence`, then start the retro again."
    return f":warning: Slack refused the retro board in <#{channel_id}> ({error}); please start the retro again."


def export_comment(title: str) -> str:
    return fallback_text(f"The retro board “{escape(title)}” as Markdown.")


def reminder_text(item: ActionLine, *, channel_id: str) -> str:
    return fallback_text(f":alarm_clock: Your retro action item from <#{channel_id}> is due today: "
                         f"{escape(item.text)}. Mark it at the next retro, or see `/retro actions`.")


def summary_text(board: BoardState) -> str:
    """The closing summary posted in the thread: top cards with votes, action items with owners and due dates."""
    return fallback_text(
        f"*Retro “{escape(board.title)}” is closed.*\n*Top cards*\n{_top_lines(board) or '_No cards._'}\n"
        f"*Action items*\n{_action_lines(board.actions) or '_None._'}"
    )


# -- modals --------------------------------------------------------------------------------------------------------
def _option(text: str, value: str) -> Option:
    return Option(text=PlainTextObject(text=cut(text or " ", OPTION_TEXT_LIMIT)), value=value)


def _modal(callback_id: str, title: str, blocks: list[Block], metadata: dict[str, Any], submit: str | None = "Save"
           ) -> dict[str, Any]:
    view = View(
        type="modal",
        callback_id=callback_id,
        title=PlainTextObject(text=cut(title, 24)),
        submit=PlainTextObject(text=submit) if submit else None,
        close=PlainTextObject(text="Cancel" if submit else "Close"),
        blocks=blocks,
        private_metadata=json.dumps(metadata),
    )
    return view.to_dict()


def setup_modal(channel_id: str, default_title: str) -> dict[str, Any]:
    """The start modal: title, template, custom columns, anonymity, votes per person, several votes per card."""
    templates = [_option(domain.TEMPLATE_LABELS[t], t.value) for t in domain.Template]
    default = next(o for o in templates if o.value == domain.DEFAULT_TEMPLATE.value)
    anonymous = _option("Anonymous cards (nobody, not even the facilitator, sees who wrote what)", ANONYMOUS_OPTION)
    multiple = _option("Several votes may go on one card", MULTIPLE_OPTION)
    blocks = [
        InputBlock(block_id=TITLE_BLOCK, label="Title", element=PlainTextInputElement(
            action_id=VALUE, initial_value=default_title, max_length=domain.TITLE_MAX)).to_dict(),
        InputBlock(block_id=TEMPLATE_BLOCK, label="Template", element=StaticSelectElement(
            action_id=VALUE, options=templates, initial_option=default)).to_dict(),
        InputBlock(block_id=COLUMNS_BLOCK, label="Custom columns", optional=True,
                   hint=f"For “Custom columns”: one per line, up to {domain.MAX_COLUMNS}.",
                   element=PlainTextInputElement(action_id=VALUE, multiline=True)).to_dict(),
        InputBlock(block_id=OPTIONS_BLOCK, label="Options", optional=True, element=CheckboxesElement(
            action_id=VALUE, options=[anonymous, multiple], initial_options=[anonymous])).to_dict(),
        InputBlock(block_id=VOTES_BLOCK, label="Votes per person", element=PlainTextInputElement(
            action_id=VALUE, initial_value=str(domain.DEFAULT_VOTES), max_length=2)).to_dict(),
    ]
    return _modal(START, "Start a retro", blocks, {"channel": channel_id}, submit="Start")


def _values(view: dict[str, Any]) -> dict[str, Any]:
    return {block: entry.get(VALUE, {}) for block, entry in (view.get("state") or {}).get("values", {}).items()}


def metadata(view: dict[str, Any]) -> dict[str, Any]:
    return json.loads(view.get("private_metadata") or "{}")


def parse_setup(view: dict[str, Any]) -> dict[str, Any]:
    """The start modal's answers as keyword arguments of `ceremonies.retro.validate_setup`."""
    values = _values(view)
    checked = {o.get("value") for o in values.get(OPTIONS_BLOCK, {}).get("selected_options") or []}
    return {
        "title": values.get(TITLE_BLOCK, {}).get("value") or "",
        "template": (values.get(TEMPLATE_BLOCK, {}).get("selected_option") or {}).get("value") or "",
        "custom_columns": values.get(COLUMNS_BLOCK, {}).get("value") or "",
        "anonymous": ANONYMOUS_OPTION in checked,
        "votes_per_person": values.get(VOTES_BLOCK, {}).get("value") or "",
        "multiple_votes_per_card": MULTIPLE_OPTION in checked,
    }


SETUP_ERROR_BLOCKS = {"title": TITLE_BLOCK, "template": TEMPLATE_BLOCK, "columns": COLUMNS_BLOCK, "votes": VOTES_BLOCK}
ACTION_ERROR_BLOCKS = {"text": ACTION_TEXT_BLOCK, "owner": ACTION_OWNER_BLOCK, "due": ACTION_DUE_BLOCK}


def errors(problems: dict[str, str], blocks: dict[str, str]) -> dict[str, str]:
    """Domain problems by field turned into Slack's inline modal errors by block id."""
    return {blocks[name]: text for name, text in problems.items()}


def card_modal(board_id: int, columns: Sequence[str], *, card_id: int | None = None, column: int = 0,
               text: str = "") -> dict[str, Any]:
    """Add a card, or edit one of your own (`card_id`)."""
    options = [_option(name, str(i)) for i, name in enumerate(columns)]
    initial = options[column] if 0 <= column < len(options) else options[0]
    blocks = [
        InputBlock(block_id=CARD_COLUMN_BLOCK, label="Column", element=StaticSelectElement(
            action_id=VALUE, options=options, initial_option=initial)).to_dict(),
        InputBlock(block_id=CARD_TEXT_BLOCK, label="Card", hint=f"Up to {domain.CARD_TEXT_MAX} characters.",
                   element=PlainTextInputElement(action_id=VALUE, multiline=True, initial_value=text or None,
                                                 max_length=domain.CARD_TEXT_MAX)).to_dict(),
    ]
    title = "Edit your card" if card_id else "Add a card"
    return _modal(CARD_VIEW, title, blocks, {"board": board_id, "card": card_id}, submit="Save")


def parse_card(view: dict[str, Any]) -> tuple[int, int | None, int, str]:
    """(board id, card id or None for a new card, column index, text)."""
    meta = metadata(view)
    values = _values(view)
    column = (values.get(CARD_COLUMN_BLOCK, {}).get("selected_option") or {}).get("value") or "-1"
    return int(meta["board"]), meta.get("card"), int(column), values.get(CARD_TEXT_BLOCK, {}).get("value") or ""


CARD_ERROR_BLOCKS = {"column": CARD_COLUMN_BLOCK, "text": CARD_TEXT_BLOCK}


def my_cards_modal(board_id: int, columns: Sequence[str], cards: Sequence[tuple[int, int, str]]) -> dict[str, Any]:
    """Your own cards (id, column, text), each with Edit and Delete; nobody else's."""
    blocks: list[Block] = [context("Only you see these. Others see them once the facilitator reveals the board.")]
    if not cards:
        blocks.append(section("You have not added any cards yet."))
    shown = MY_CARDS_SHOWN if len(cards) <= MY_CARDS_SHOWN else MY_CARDS_SHOWN - 1
    for card_id, column, text in cards[:shown]:
        name = columns[column] if column < len(columns) else ""
        blocks.append(section(f"*{escape(name)}*\n{escape(text)}"))
        blocks.append(actions(button("Edit", EDIT_CARD, f"{board_id}:{card_id}"),
                              button("Delete", DELETE_CARD, f"{board_id}:{card_id}", style="danger")))
    if len(cards) > shown:
        blocks.append(context(f"…and {len(cards) - shown} more; delete some to see the rest."))
    return _modal(MY_CARDS_VIEW, "My cards", blocks, {"board": board_id}, submit=None)


def merge_modal(board_id: int, columns: Sequence[str], groups: Sequence[CardGroup]) -> dict[str, Any]:
    """Choose a card and the card whose group it joins (up to 100 cards each, Slack's select limit)."""
    options = [_option(f"[{columns[g.column] if g.column < len(columns) else ''}] {g.lead.text}", str(g.id))
               for g in groups][:SELECT_OPTION_LIMIT]
    if len(options) < 2:
        return _modal(MERGE_VIEW, "Merge cards", [section("There are fewer than two cards to merge.")],
                      {"board": board_id}, submit=None)
    blocks = [
        InputBlock(block_id=MERGE_SOURCE_BLOCK, label="Merge this card", element=StaticSelectElement(
            action_id=VALUE, options=options)).to_dict(),
        InputBlock(block_id=MERGE_TARGET_BLOCK, label="into this one", element=StaticSelectElement(
            action_id=VALUE, options=options)).to_dict(),
    ]
    return _modal(MERGE_VIEW, "Merge cards", blocks, {"board": board_id}, submit="Merge")


def parse_merge(view: dict[str, Any]) -> tuple[int, int, int]:
    values = _values(view)
    source = (values.get(MERGE_SOURCE_BLOCK, {}).get("selected_option") or {}).get("value") or "0"
    target = (values.get(MERGE_TARGET_BLOCK, {}).get("selected_option") or {}).get("value") or "0"
    return int(metadata(view)["board"]), int(source), int(target)


def action_modal(board_id: int, groups: Sequence[CardGroup], *, card_id: int | None) -> dict[str, Any]:
    """A new action item: text, owner, due date, and the card it comes from (optional)."""
    options = [_option(g.lead.text, str(g.id)) for g in groups][:SELECT_OPTION_LIMIT]
    initial = next((o for o in options if o.value == str(card_id)), None)
    blocks = [
        InputBlock(block_id=ACTION_TEXT_BLOCK, label="What is to be done", element=PlainTextInputElement(
            action_id=VALUE, multiline=True, max_length=domain.ACTION_TEXT_MAX)).to_dict(),
        InputBlock(block_id=ACTION_OWNER_BLOCK, label="Owner", element=UserSelectElement(action_id=VALUE)).to_dict(),
        InputBlock(block_id=ACTION_DUE_BLOCK, label="Due date", optional=True,
                   element=DatePickerElement(action_id=VALUE)).to_dict(),
    ]
    if options:
        blocks.append(InputBlock(block_id=ACTION_CARD_BLOCK, label="From card", optional=True,
                                 element=StaticSelectElement(action_id=VALUE, options=options,
                                                             initial_option=initial)).to_dict())
    return _modal(ACTION_VIEW, "Add an action item", blocks, {"board": board_id}, submit="Add")


def parse_action(view: dict[str, Any]) -> dict[str, Any]:
    values = _values(view)
    due = values.get(ACTION_DUE_BLOCK, {}).get("selected_date")
    card = (values.get(ACTION_CARD_BLOCK, {}).get("selected_option") or {}).get("value")
    return {
        "board_id": int(metadata(view)["board"]),
        "text": values.get(ACTION_TEXT_BLOCK, {}).get("value") or "",
        "owner_id": values.get(ACTION_OWNER_BLOCK, {}).get("selected_user"),
        "due": date.fromisoformat(due) if due else None,
        "card_id": int(card) if card else None,
    }


def notice_modal(title: str, text: str) -> dict[str, Any]:
    """A modal that only says something (a refusal shown where the person is, not in a message)."""
    return _modal(MY_CARDS_VIEW, title, [section(f":warning: {escape(text)}")], {}, submit=None)


def merged_text(source: str, target: str) -> str:
    return fallback_text(f"Merged “{escape(cut(source, 300))}” into “{escape(cut(target, 300))}”; their votes add up.")


def numbers(value: str) -> list[int]:
    """The ids a button carries (`12` or `12:34`)."""
    return button_ids(value)


def parse_advance(value: str) -> tuple[int, Phase]:
    """The board and the phase an advance button moves it to."""
    board_part, _, target_part = value.partition(":")
    (board_id,) = numbers(board_part)
    try:
        return board_id, Phase(target_part)
    except ValueError:
        raise InvalidInput("That button is out of date.") from None


def board_number(text: str) -> int | None:
    """The board number given to `/retro export` (None: the channel's latest)."""
    text = text.strip().lstrip("#")
    if not text:
        return None
    return parse_id(text, invalid="Give the board's number, e.g. `/retro export 12`, or nothing for the latest board.",
                    missing=domain.BoardNotFound)


def votes_left_text(left: int, *, reset: bool = False) -> str:
    prefix = "Your votes are back." if reset else "Vote counted."
    return f"{prefix} You have {left} vote{'s' if left != 1 else ''} left."


def click_id(body: dict[str, Any], action: dict[str, Any]) -> str:
    """The same for a click delivered twice, different for two clicks: a hash of its trigger id and action time."""
    raw = f"{body.get('trigger_id', '')}|{action.get('action_ts', '')}"
    return hashlib.sha256(raw.encode()).hexdigest()


# -- the App Home ----------------------------------------------------------------------------------------------------
HOME_ACTION_ITEMS = 6


@dataclass(frozen=True)
class HomeActionItem:
    """An open action item someone owns, as their Home lists it."""

    text: str
    channel_id: str
    due: date | None


def home_blocks(items: Sequence[HomeActionItem], *, today: date) -> list[Block]:
    """The open action items someone owns, by due date, overdue ones marked (settled at the team's next retro)."""
    if not items:
        return []
    lines = []
    for item in items[:HOME_ACTION_ITEMS]:
        if item.due is None:
            due = "no due date"
        elif item.due < today:
            due = f":warning: *overdue* since {item.due.isoformat()}"
        elif item.due == today:
            due = "*due today*"
        else:
            due = f"due {item.due.isoformat()}"
        lines.append(f"• {escape(cut(item.text, 300))} — <#{item.channel_id}> · {due}")
    blocks = [divider(), section(f"*Your retro action items* ({len(items)})"), section("\n".join(lines))]
    more = f"…and {len(items) - HOME_ACTION_ITEMS} more. " if len(items) > HOME_ACTION_ITEMS else ""
    blocks.append(context(f"{more}Each is settled at the team's next retro; `/retro actions` lists a channel's items."))
    return blocks
