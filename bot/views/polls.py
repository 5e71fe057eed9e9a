"""Quick polls in Block Kit: the poll message with live counts, the create modal, and private notes to voters."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import CheckboxesElement, InputBlock, Option, PlainTextInputElement
from slack_sdk.models.views import View

from bot.views.common import (
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
    fit_message,
    section,
)
from ceremonies import polls
from ceremonies.errors import InvalidInput
from ceremonies.numbers import button_ids
from storage.polls import OpenPoll, PollState

CREATE = "poll.create"
VOTE = "poll.vote"  # each option's button is `poll.vote.<index>`
CLEAR = "poll.clear"
CLOSE = "poll.close"
QUESTION_BLOCK = "poll.question"
OPTIONS_BLOCK = "poll.options"
FLAGS_BLOCK = "poll.flags"
CLOSE_AFTER_BLOCK = "poll.close_after"
MULTI = "multi"
ANONYMOUS = "anonymous"
BAR_WIDTH = 10


def vote_action_id(index: int) -> str:
    return f"{VOTE}.{index}"


def vote_value(poll_id: int, option_id: int) -> str:
    return f"{poll_id}:{option_id}"


def parse_poll_value(value: str) -> int:
    """The poll a "Withdraw my vote" or "Close poll" button is for."""
    return button_ids(value, 1)[0]


def parse_vote_value(value: str) -> tuple[int, int]:
    poll_id, option_id = button_ids(value, 2)
    return poll_id, option_id


def _bar(votes: int, voters: int) -> str:
    filled = round(BAR_WIDTH * votes / voters) if voters else 0
    return "▓" * filled + "░" * (BAR_WIDTH - filled)


def _when(moment: datetime) -> str:
    stamp = int(moment.timestamp())
    return f"<!date^{stamp}^{{date_short_pretty}} at {{time}}|{moment:%Y-%m-%d %H:%M} UTC>"


def poll_message(state: PollState) -> tuple[str, list[Block]]:
    """The poll with live counts (and voters' names unless anonymous); closed, the final result without buttons."""
    tally = state.tally
    blocks: list[Block] = [section(f":bar_chart: *{escape(state.question)}*")]
    about = [f"by <@{state.creator_id}>"]
    if state.anonymous:
        about.append(":bust_in_silhouette: anonymous")
    about.append("several choices allowed" if state.multi else "one choice")
    if state.closes_at is not None and not state.closed:
        about.append("closes " + _when(state.closes_at))
    blocks.append(context(" · ".join(about)))
    for index, (option, option_id) in enumerate(zip(tally.options, state.option_ids, strict=True)):
        share = polls.percent(option.votes, tally.voters)
        line = f"*{escape(option.text)}*\n`{_bar(option.votes, tally.voters)}` {option.votes} ({share}%)"
        if option.voters:  # by count: 300 voters would not fit, and a mention cut in half shows as garbage
            line += "\n" + fit_list([f"<@{u}>" for u in option.voters], limit=SECTION_TEXT_LIMIT - len(line) - 1)
        accessory = None if state.closed else button(option.text, vote_action_id(index),
                                                      vote_value(state.poll_id, option_id))
        blocks.append(section(line, accessory=accessory))
    people = f"{tally.voters} {'person' if tally.voters == 1 else 'people'} voted"
    if state.closed:
        leaders = tally.leaders
        result = (
            "No votes." if not leaders
            else f"Result: *{escape(', '.join(leaders))}*" + (" (tie)" if len(leaders) > 1 else "")
        )
        blocks.append(section(f":lock: Poll closed · {people}. {result}"))
        text = f"Poll closed: {escape(state.question)} — {people}"
    else:
        blocks.append(context(people))
        value = str(state.poll_id)
        blocks.append(actions(button("Withdraw my vote", CLEAR, value), button("Close poll", CLOSE, value),
                              block_id="poll.controls"))
        text = f"Poll: {escape(state.question)} — {people}"
    return fallback_text(text), fit_message(blocks)


def your_choices(choices: list[str], *, anonymous: bool) -> str:
    """The private note after voting."""
    if not choices:
        return "You have no vote in this poll now."
    listed = ", ".join(f"*{escape(c)}*" for c in choices)
    note = " Your vote is anonymous: nobody, not even the poll's creator, can see it." if anonymous else ""
    return f"You voted for {listed}.{note}"


def create_modal(channel_id: str) -> dict[str, Any]:
    """The modal `/poll` opens without arguments."""
    flags = [
        Option(text="Allow several choices per person", value=MULTI),
        Option(text="Anonymous: nobody sees who voted for what", value=ANONYMOUS),
    ]
    view = View(
        type="modal",
        callback_id=CREATE,
        title="Quick poll",
        submit="Post poll",
        close="Cancel",
        private_metadata=channel_id,
        blocks=[
            InputBlock(
                block_id=QUESTION_BLOCK,
                label="Question",
                element=PlainTextInputElement(action_id=QUESTION_BLOCK, max_length=polls.QUESTION_MAX_LENGTH),
            ),
            InputBlock(
                block_id=OPTIONS_BLOCK,
                label=f"Options, one per line ({polls.OPTIONS_MIN} to {polls.OPTIONS_MAX})",
                element=PlainTextInputElement(action_id=OPTIONS_BLOCK, multiline=True, max_length=1000),
            ),
            InputBlock(block_id=FLAGS_BLOCK, label="Settings", optional=True,
                       element=CheckboxesElement(action_id=FLAGS_BLOCK, options=flags)),
            InputBlock(
                block_id=CLOSE_AFTER_BLOCK,
                label="Close automatically after",
                optional=True,
                hint="e.g. 30m, 2h or 1d; leave empty to close it yourself.",
                element=PlainTextInputElement(action_id=CLOSE_AFTER_BLOCK, max_length=20),
            ),
        ],
    )
    return view.to_dict()


def _state(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    return ((view.get("state") or {}).get("values") or {}).get(block_id, {}).get(block_id, {})


def parse_create(view: dict[str, Any]) -> dict[str, Any]:
    flags = {o.get("value") for o in _state(view, FLAGS_BLOCK).get("selected_options") or []}
    return {
        "channel_id": view.get("private_metadata") or "",
        "question": _state(view, QUESTION_BLOCK).get("value") or "",
        "options": (_state(view, OPTIONS_BLOCK).get("value") or "").splitlines(),
        "multi": MULTI in flags,
        "anonymous": ANONYMOUS in flags,
        "close_after": (_state(view, CLOSE_AFTER_BLOCK).get("value") or "").strip(),
    }


def checked_create(answers: dict[str, Any]) -> tuple[polls.PollDraft | None, dict[str, str]]:
    """The poll the modal describes, or None and its problems by block."""
    errors = {
        {"question": QUESTION_BLOCK, "options": OPTIONS_BLOCK}[name]: problem
        for name, problem in polls.problems_of(answers["question"], answers["options"]).items()
    }
    close_after = None
    if answers["close_after"]:
        try:
            close_after = polls.parse_duration(answers["close_after"])
        except InvalidInput as problem:
            errors[CLOSE_AFTER_BLOCK] = str(problem)
    if errors:
        return None, errors
    return polls.validate(answers["question"], answers["options"], multi=answers["multi"],
                          anonymous=answers["anonymous"], close_after=close_after), {}


HOME_POLLS = 6


def home_blocks(found: list[tuple[OpenPoll, str | None]], *, total: int) -> list[Block]:
    """Open polls in someone's teams they have not voted in (the first few, linked to the poll) for their Home."""
    if not found:
        return []
    blocks = [divider(), section(f"*Polls waiting for your vote* ({total})")]
    for poll, link in found:
        about = [f"in <#{poll.channel_id}>"]
        if poll.anonymous:
            about.append("anonymous")
        if poll.closes_at is not None:
            about.append("closes " + _when(poll.closes_at))
        if link:
            about.append(f"<{link}|Vote>")
        blocks.append(section(f":bar_chart: *{escape(cut(poll.question, 500))}*\n" + " · ".join(about)))
    if total > len(found):
        blocks.append(context(f"…and {total - len(found)} more polls waiting for your vote."))
    return blocks


def usage_lines() -> tuple[str, ...]:
    return (polls.USAGE, "/poll", "/poll help")


def not_posted(question: str, channel_id: str) -> str:
    """What the creator of a poll that Slack refused to post is told, with what to do."""
    return (f":warning: I could not post your poll “{question}” in <#{channel_id}>. Invite me there "
            "(`/invite @Cadence`) and run `/poll` again.")
