"""Planning poker in Block Kit: the start modal, the session's parent message, story messages and the summary."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import (
    CheckboxesElement,
    InputBlock,
    Option,
    PlainTextInputElement,
    RadioButtonsElement,
    StaticSelectElement,
    UserMultiSelectElement,
)
from slack_sdk.models.views import View

from bot.views.common import (
    CONTEXT_TEXT_LIMIT,
    Block,
    actions,
    button,
    context,
    cut,
    divider,
    escape,
    fallback_text,
    fit_list,
    fit_message,
    header,
    section,
)
from ceremonies import poker, trackers
from ceremonies.errors import InvalidInput
from ceremonies.numbers import button_ids
from storage.poker import AwaitingVote, StoryState

# Action, block and callback ids, defined once.
START = "poker.start"
VOTE = "poker.vote"  # each card's button is `poker.vote.<index>`: ids must differ within a block
REVEAL = "poker.reveal"
ACCEPT = "poker.accept"
REVOTE = "poker.revote"
SKIP = "poker.skip"
REASON = "poker.reason"
ACCEPT_MODAL = "poker.accept_value"
REASON_MODAL = "poker.reason_modal"
STORIES_BLOCK = "poker.stories"
DECK_BLOCK = "poker.deck"
CUSTOM_DECK_BLOCK = "poker.custom_deck"
PARTICIPANTS_BLOCK = "poker.participants"
OPTIONS_BLOCK = "poker.options"
REVEAL_POLICY_BLOCK = "poker.reveal_policy"
ESTIMATE_BLOCK = "poker.estimate"
REASON_BLOCK = "poker.reason_text"
SOURCE_BLOCK = "poker.source"  # a connected tracker to import the stories from (bot/listeners/trackers.py)
SEARCH_BLOCK = "poker.search"
AUTO_REVEAL = "auto_reveal"
CARDS_PER_ROW = 5


def vote_action_id(index: int) -> str:
    return f"{VOTE}.{index}"


def story_value(story_id: int, round: int) -> str:
    return f"{story_id}:{round}"


def parse_story_value(value: str) -> tuple[int, int]:
    story_id, round = button_ids(value, 2)
    return story_id, round


def vote_value(story_id: int, round: int, card: str) -> str:
    return f"{story_id}:{round}:{card}"


def parse_vote_value(value: str) -> tuple[int, int, str]:
    story, round, card = [*value.split(":", 2), "", ""][:3]
    story_id, round_number = button_ids(f"{story}:{round}", 2)
    return story_id, round_number, card


def _option(text: str, value: str) -> Option:
    return Option(text=cut(text, 75), value=value)


# -- the start modal -----------------------------------------------------------------------------------------------


def start_modal(channel_id: str, sources: Sequence[trackers.Kind] = ()) -> dict[str, Any]:
    """The modal `/poker` opens: stories (typed, or from a connected tracker), deck, participants, auto-reveal and
    who may reveal."""
    decks = [_option(label, name.value) for name, label in poker.DECK_LABELS.items()]
    policies = [
        _option("Only me (the facilitator)", poker.RevealPolicy.FACILITATOR.value),
        _option("Anyone", poker.RevealPolicy.ANYONE.value),
    ]
    auto = _option("Reveal automatically when every participant has voted", AUTO_REVEAL)
    blocks = [
        InputBlock(
            block_id=STORIES_BLOCK,
            label="Stories, one per line",
            hint="A line may start with an issue key (PAY-123 Pay by card) or be a link.",
            element=PlainTextInputElement(action_id=STORIES_BLOCK, multiline=True, max_length=3000),
            optional=bool(sources),
        ),
        *_source_blocks(sources),
        InputBlock(
            block_id=DECK_BLOCK,
            label="Deck",
            element=StaticSelectElement(action_id=DECK_BLOCK, options=decks, initial_option=decks[0]),
        ),
        InputBlock(
            block_id=CUSTOM_DECK_BLOCK,
            label="Custom cards (for the custom deck)",
            optional=True,
            hint="2 to 25 different cards, separated by commas: 1, 2, 3, 5, 8, ?",
            element=PlainTextInputElement(action_id=CUSTOM_DECK_BLOCK, max_length=poker_deck_text_limit()),
        ),
        InputBlock(
            block_id=PARTICIPANTS_BLOCK,
            label="Participants",
            optional=True,
            hint="Leave empty to let whoever votes take part.",
            element=UserMultiSelectElement(action_id=PARTICIPANTS_BLOCK),
        ),
        InputBlock(
            block_id=OPTIONS_BLOCK,
            label="Reveal",
            optional=True,
            element=CheckboxesElement(action_id=OPTIONS_BLOCK, options=[auto], initial_options=[auto]),
        ),
        InputBlock(
            block_id=REVEAL_POLICY_BLOCK,
            label="Who may reveal the votes",
            element=RadioButtonsElement(action_id=REVEAL_POLICY_BLOCK, options=policies, initial_option=policies[0]),
        ),
    ]
    view = View(
        type="modal",
        callback_id=START,
        title="Planning poker",
        submit="Start",
        close="Cancel",
        private_metadata=channel_id,
        blocks=blocks,
    )
    return view.to_dict()


def _source_blocks(sources: Sequence[trackers.Kind]) -> list[InputBlock]:
    """Import the stories from a connected tracker instead of typing them."""
    if not sources:
        return []
    options = [_option(trackers.LABELS[kind], kind.value) for kind in sources]
    return [
        InputBlock(block_id=SOURCE_BLOCK, label="Or import the stories from", optional=True,
                   element=StaticSelectElement(action_id=SOURCE_BLOCK, options=options, initial_option=options[0])),
        InputBlock(block_id=SEARCH_BLOCK, label="Search", optional=True,
                   hint="Jira: JQL, e.g. project = PROJ AND sprint in futureSprints() · GitHub: owner/repo and words",
                   element=PlainTextInputElement(action_id=SEARCH_BLOCK, max_length=trackers.JQL_MAX)),
    ]


def poker_deck_text_limit() -> int:
    return poker.DECK_MAX_CARDS * (poker.CARD_MAX_LENGTH + 2)


def _state(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    return ((view.get("state") or {}).get("values") or {}).get(block_id, {}).get(block_id, {})


def parse_start(view: dict[str, Any]) -> dict[str, Any]:
    """The start modal's answers as plain data."""
    deck = (_state(view, DECK_BLOCK).get("selected_option") or {}).get("value") or poker.DeckName.FIBONACCI.value
    options = [o.get("value") for o in _state(view, OPTIONS_BLOCK).get("selected_options") or []]
    policy = (_state(view, REVEAL_POLICY_BLOCK).get("selected_option") or {}).get("value")
    return {
        "channel_id": view.get("private_metadata") or "",
        "stories": _state(view, STORIES_BLOCK).get("value") or "",
        "deck": deck,
        "custom_deck": _state(view, CUSTOM_DECK_BLOCK).get("value") or "",
        "participants": list(_state(view, PARTICIPANTS_BLOCK).get("selected_users") or []),
        "auto_reveal": AUTO_REVEAL in options,
        "reveal_policy": policy or poker.RevealPolicy.FACILITATOR.value,
        "source": (_state(view, SOURCE_BLOCK).get("selected_option") or {}).get("value") or "",
        "search": (_state(view, SEARCH_BLOCK).get("value") or "").strip(),
    }


def checked_start(answers: dict[str, Any]) -> tuple[list[poker.StoryDraft], poker.Deck, dict[str, str]]:
    """The start modal's stories and deck, and its problems by block (empty when it can start)."""
    errors: dict[str, str] = {}
    stories: list[poker.StoryDraft] = []
    deck = poker.standard_deck(poker.DeckName.FIBONACCI)
    try:
        if answers.get("search"):  # the stories come from the tracker, after the modal closes
            trackers.parse_search(trackers.parse_kind(answers.get("source") or ""), answers["search"])
        else:
            stories = poker.parse_stories(answers["stories"])
    except InvalidInput as problem:
        errors[SEARCH_BLOCK if answers.get("search") else STORIES_BLOCK] = str(problem)
    try:
        deck = poker.deck_from(answers["deck"], answers["custom_deck"])
    except InvalidInput as problem:
        errors[CUSTOM_DECK_BLOCK] = str(problem)
    return stories, deck, errors


# -- messages ------------------------------------------------------------------------------------------------------


def parent_message(
    *, facilitator_id: str, deck: poker.Deck, stories: int, summary: list[poker.SummaryLine] | None = None
) -> tuple[str, list[Block]]:
    """The session's message in the channel; its thread holds the stories."""
    about = (
        f"Facilitated by <@{facilitator_id}> · {escape(poker.DECK_LABELS[deck.name])} · "
        f"{stories} {'story' if stories == 1 else 'stories'}"
    )
    blocks = [header("Planning poker"), section(about)]
    if summary is None:
        blocks.append(context(":thread: Estimate in the thread: one message per story, one button per card."))
        return fallback_text(f"Planning poker by <@{facilitator_id}>: vote in the thread"), blocks
    blocks.extend(summary_blocks(summary)[1:])
    return fallback_text("Planning poker ended: " + _total_line(summary)), fit_message(blocks)


def _story_heading(state: StoryState) -> str:
    title = escape(state.title)
    label = f"*{escape(state.key)}* {title}" if state.key else f"*{title}*"
    where = f"Story {state.position + 1} of {state.stories_in_session}"
    if state.round > 1:
        where += f" · round {state.round}"
    return f"{where}\n{label}"


def _voters(state: StoryState) -> str:
    """Who voted (and who the story waits for), each list cut by count to share the context block's room."""
    voters = [v.user_id for v in state.votes]
    waiting = [p for p in state.participants if p not in voters] if state.status is poker.StoryStatus.VOTING else []
    room = CONTEXT_TEXT_LIMIT // 2 if waiting else CONTEXT_TEXT_LIMIT
    line = (fit_list([f"<@{u}>" for u in voters], prefix=f"*Votes ({len(voters)})*: ", limit=room) if voters
            else "*Votes (0)*: nobody yet")
    if waiting:
        line += fit_list([f"<@{u}>" for u in waiting], prefix=" · waiting for ", limit=CONTEXT_TEXT_LIMIT - len(line))
    return line


def _earlier_rounds(state: StoryState) -> list[Block]:
    blocks = []
    for number, votes in state.earlier_rounds:
        result = poker.round_result(state.deck, votes)
        cards = " · ".join(f"<@{v.user_id}> {escape(v.card)}" for v in votes) or "no votes"
        agreed = "consensus" if result.consensus else "no consensus"
        blocks.append(context(f"Round {number}: {cards} ({agreed})"))
    return blocks


def story_message(state: StoryState, *, tracker_line: Block | None = None) -> tuple[str, list[Block]]:
    """A story's message: the voters (never their cards) while voting; every vote and the statistics after reveal
    (and, for a story from Jira or GitHub, where its estimate went)."""
    blocks: list[Block] = [section(_story_heading(state))]
    blocks.extend(_earlier_rounds(state))
    value = story_value(state.story_id, state.round)
    status = state.status
    if status is poker.StoryStatus.VOTING:
        blocks.append(context(_voters(state)))
        cards = [
            button(card, vote_action_id(index), vote_value(state.story_id, state.round, card))
            for index, card in enumerate(state.deck.cards)
        ]
        for start in range(0, len(cards), CARDS_PER_ROW):
            blocks.append(actions(*cards[start : start + CARDS_PER_ROW], block_id=f"{VOTE}.row{start}"))
        blocks.append(
            actions(button("Reveal votes", REVEAL, value, style="primary"), button("Skip story", SKIP, value),
                    block_id="poker.controls")
        )
        text = f"Vote on {escape(state.label)}: {len(state.votes)} voted"
    elif status is poker.StoryStatus.REVEALED:
        blocks.extend(result_blocks(state.deck, state.result()))
        blocks.append(
            actions(
                button("Accept…", ACCEPT, value, style="primary"),
                button("Re-vote", REVOTE, value),
                button("Skip story", SKIP, value),
                block_id="poker.decide",
            )
        )
        text = f"Votes revealed for {escape(state.label)}"
    elif status is poker.StoryStatus.ACCEPTED:
        blocks.append(section(f":white_check_mark: Estimate: *{escape(state.estimate or '')}*"))
        if state.votes:
            blocks.extend(result_blocks(state.deck, state.result()))
        text = f"{escape(state.label)}: estimated {escape(state.estimate or '')}"
    else:
        blocks.append(section(":fast_forward: Skipped without an estimate."))
        text = f"{escape(state.label)}: skipped"
    if tracker_line is not None:
        blocks.append(tracker_line)
    return fallback_text(text), fit_message(blocks)


def result_blocks(deck: poker.Deck, result: poker.RoundResult) -> list[Block]:
    """Every vote with its voter and reason, the statistics, consensus, and who voted highest and lowest."""
    lines = []
    for vote in result.votes:
        line = f"<@{vote.user_id}>: *{escape(vote.card)}*"
        if vote.reason:
            line += f" — _{escape(vote.reason)}_"
        lines.append(line)
    blocks = [section("\n".join(lines) or "No votes.")]
    facts = []
    if result.average is not None and result.median is not None and result.spread is not None:
        facts.append(
            f"Average *{poker.format_number(result.average)}* · median *{poker.format_number(result.median)}* · "
            f"spread *{poker.format_number(result.spread)}*"
        )
    if result.consensus:
        facts.append(":handshake: Consensus")
    elif result.counted:
        high = ", ".join(f"<@{u}>" for u in result.highest)
        low = ", ".join(f"<@{u}>" for u in result.lowest)
        facts.append(f":speech_balloon: No consensus — highest {high}, lowest {low}: tell the team why.")
    if facts:
        blocks.append(section("\n".join(facts)))
    return blocks


def accept_modal(state: StoryState) -> dict[str, Any]:
    """Choose the estimate to accept, preselected with the median rounded up to a card."""
    options = [_option(card, card) for card in state.deck.estimates]
    suggestion = state.result().suggestion
    initial = next((o for o in options if o.value == suggestion), None)
    select = StaticSelectElement(action_id=ESTIMATE_BLOCK, options=options, initial_option=initial)
    view = View(
        type="modal",
        callback_id=ACCEPT_MODAL,
        title="Accept an estimate",
        submit="Accept",
        close="Cancel",
        private_metadata=story_value(state.story_id, state.round),
        blocks=[
            section(_story_heading(state)),
            InputBlock(block_id=ESTIMATE_BLOCK, label="Estimate", element=select),
        ],
    )
    return view.to_dict()


def parse_accept(view: dict[str, Any]) -> tuple[int, int, str]:
    story_id, round = parse_story_value(view.get("private_metadata") or "")
    estimate = (_state(view, ESTIMATE_BLOCK).get("selected_option") or {}).get("value") or ""
    return story_id, round, estimate


def reason_modal(story_id: int, round: int, label: str) -> dict[str, Any]:
    """A short reason for your vote, shown to the team only after reveal."""
    view = View(
        type="modal",
        callback_id=REASON_MODAL,
        title="Why this card?",
        submit="Save",
        close="Cancel",
        private_metadata=story_value(story_id, round),
        blocks=[
            section(f"*{escape(label)}*"),
            InputBlock(
                block_id=REASON_BLOCK,
                label="Your reason (shown after reveal)",
                element=PlainTextInputElement(action_id=REASON_BLOCK, max_length=poker.REASON_MAX_LENGTH),
            ),
        ],
    )
    return view.to_dict()


def parse_reason(view: dict[str, Any]) -> tuple[int, int, str]:
    story_id, round = parse_story_value(view.get("private_metadata") or "")
    return story_id, round, _state(view, REASON_BLOCK).get("value") or ""


def your_vote(card: str, story_id: int, round: int, label: str) -> tuple[str, list[Block]]:
    """The private note after voting: your current card, and a way to add a reason."""
    text = f"Your vote on {escape(label)}: {escape(card)}"
    blocks = [
        section(
            f"Your vote on *{escape(cut(label, 200))}*: *{escape(card)}*. Only you see this; click another card to change it.",
            accessory=button("Add a reason", REASON, story_value(story_id, round)),
        )
    ]
    return fallback_text(text), blocks


def _total_line(summary: list[poker.SummaryLine]) -> str:
    estimated = [line for line in summary if line.estimate is not None]
    total = poker.format_number(poker.total_points(summary))
    return f"{len(estimated)} of {len(summary)} stories estimated · total *{total}* points"


def summary_blocks(summary: list[poker.SummaryLine]) -> list[Block]:
    """Each story's estimate and the total."""
    lines = [
        f"• {escape(line.label)} — *{escape(line.estimate)}*" if line.estimate else f"• {escape(line.label)} — _skipped_"
        for line in summary
    ]
    blocks = [header("Planning poker summary")]
    chunk: list[str] = []
    for line in lines:
        if sum(len(x) + 1 for x in chunk) + len(line) > 2900:
            blocks.append(section("\n".join(chunk)))
            chunk = []
        chunk.append(line)
    if chunk:
        blocks.append(section("\n".join(chunk)))
    blocks.append(section(_total_line(summary)))
    return fit_message(blocks)


def summary_message(summary: list[poker.SummaryLine]) -> tuple[str, list[Block]]:
    return fallback_text("Planning poker summary: " + _total_line(summary)), summary_blocks(summary)


HOME_STORIES = 6


def home_blocks(stories: list[tuple[AwaitingVote, str | None]], *, total: int) -> list[Block]:
    """Stories waiting for someone's vote (the first few, each with a link to its message) for their Home."""
    if not stories:
        return []
    blocks = [divider(), section(f"*Stories waiting for your vote* ({total})")]
    for story, link in stories:
        where = f" · <{link}|Vote in the thread>" if link else ""
        blocks.append(section(f":black_joker: *{escape(cut(story.label, 300))}* in <#{story.channel_id}>{where}"))
    if total > len(stories):
        blocks.append(context(f"…and {total - len(stories)} more waiting for your vote."))
    return blocks


def usage_lines() -> tuple[str, ...]:
    return ("/poker", "/poker PAY-1 Title, PAY-2 Title", "/poker jira <JQL>", "/poker github <owner/repo> [words]",
            "/poker end", "/poker help")

