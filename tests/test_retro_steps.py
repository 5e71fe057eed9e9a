"""What people do in a retro, as steps over HTTP against the real app and the fake Slack (shared by the retro tests)."""

from __future__ import annotations

from typing import Any

from bot.devtools.fakeslack import Message
from bot.devtools.harness import Cadence
from bot.devtools.signed import Reply
from bot.views import retro as views

CHANNEL = "CTEAM"


def text_input(value: str) -> dict[str, Any]:
    return {views.VALUE: {"type": "plain_text_input", "value": value}}


def select(value: str) -> dict[str, Any]:
    return {views.VALUE: {"type": "static_select", "selected_option": {"value": value}}}


def start_retro(cadence: Cadence, *, user: str = "U1", channel: str = CHANNEL, anonymous: bool = True,
                template: str = "well_improve_ideas", columns: str = "", votes: str = "3", multiple: bool = False,
                title: str | None = None) -> Reply:
    """`/retro`, then the start modal submitted with these choices."""
    cadence.command("/retro", "", user=user, channel=channel)
    view = cadence.fake.last_view()
    assert view["callback_id"] == views.START
    options = [{"value": views.ANONYMOUS_OPTION}] if anonymous else []
    if multiple:
        options.append({"value": views.MULTIPLE_OPTION})
    default_title = view["blocks"][0]["element"]["initial_value"]
    values = {
        views.TITLE_BLOCK: text_input(default_title if title is None else title),
        views.TEMPLATE_BLOCK: select(template),
        views.COLUMNS_BLOCK: text_input(columns),
        views.OPTIONS_BLOCK: {views.VALUE: {"type": "checkboxes", "selected_options": options}},
        views.VOTES_BLOCK: text_input(votes),
    }
    reply = cadence.slack.view_submission(view, values, user=user)
    cadence.settle()
    return reply


def board(cadence: Cadence, channel: str = CHANNEL) -> Message:
    """The newest board message of the channel, as it stands now."""
    boards = [m for m in cadence.fake.messages(channel, top_level=True) if m.text.startswith("Retro “")]
    assert boards, "no board message was posted"
    return boards[-1]


def thread(cadence: Cadence, channel: str = CHANNEL) -> list[Message]:
    return cadence.fake.messages(channel, thread_ts=board(cadence, channel).ts)


def click(cadence: Cadence, message: Message, action_id: str, user: str) -> Reply:
    reply = cadence.slack.click(message, action_id, user=user)
    cadence.settle()
    return reply


def add_card(cadence: Cadence, user: str, column: int, text: str, channel: str = CHANNEL) -> Reply:
    click(cadence, board(cadence, channel), views.ADD_CARD, user)
    view = cadence.fake.last_view()
    assert view["callback_id"] == views.CARD_VIEW
    reply = cadence.slack.view_submission(
        view, {views.CARD_COLUMN_BLOCK: select(str(column)), views.CARD_TEXT_BLOCK: text_input(text)}, user=user
    )
    cadence.settle()
    return reply


def advance(cadence: Cadence, user: str, channel: str = CHANNEL) -> Reply:
    return click(cadence, board(cadence, channel), views.ADVANCE, user)


def vote_on(cadence: Cadence, text: str, user: str, channel: str = CHANNEL) -> Reply:
    """Click Vote next to the card group whose text contains `text`."""
    for message in thread(cadence, channel):
        for block in message.blocks:
            accessory = block.get("accessory") or {}
            if accessory.get("action_id") == views.VOTE and text in block["text"]["text"]:
                reply = cadence.slack.block_action(views.VOTE, accessory["value"], user=user, channel=message.channel,
                                                   message_ts=message.ts)
                cadence.settle()
                return reply
    raise AssertionError(f"no Vote button next to {text!r}")


def vote_button_value(cadence: Cadence, text: str, channel: str = CHANNEL) -> str:
    for message in thread(cadence, channel):
        for block in message.blocks:
            accessory = block.get("accessory") or {}
            if accessory.get("action_id") == views.VOTE and text in block["text"]["text"]:
                return accessory["value"]
    raise AssertionError(f"no Vote button next to {text!r}")


def card_value(view: dict[str, Any], text: str, block_id: str) -> str:
    """The option value of the card `text` in a select of a modal."""
    for block in view["blocks"]:
        if block.get("block_id") == block_id:
            for option in block["element"]["options"]:
                if text in option["text"]["text"]:
                    return option["value"]
    raise AssertionError(f"no option {text!r} in {block_id}")


def merge(cadence: Cadence, user: str, source: str, target: str, channel: str = CHANNEL) -> Reply:
    click(cadence, board(cadence, channel), views.MERGE, user)
    view = cadence.fake.last_view()
    values = {
        views.MERGE_SOURCE_BLOCK: select(card_value(view, source, views.MERGE_SOURCE_BLOCK)),
        views.MERGE_TARGET_BLOCK: select(card_value(view, target, views.MERGE_TARGET_BLOCK)),
    }
    reply = cadence.slack.view_submission(view, values, user=user)
    cadence.settle()
    return reply


def add_action(cadence: Cadence, message: Message, user: str, *, text: str, owner: str, due: str | None) -> Reply:
    click(cadence, message, views.ADD_ACTION, user)
    view = cadence.fake.last_view()
    assert view["callback_id"] == views.ACTION_VIEW
    values: dict[str, Any] = {
        views.ACTION_TEXT_BLOCK: text_input(text),
        views.ACTION_OWNER_BLOCK: {views.VALUE: {"type": "users_select", "selected_user": owner}},
        views.ACTION_DUE_BLOCK: {views.VALUE: {"type": "datepicker", "selected_date": due}},
    }
    card_block = next((b for b in view["blocks"] if b.get("block_id") == views.ACTION_CARD_BLOCK), None)
    if card_block is not None and card_block["element"].get("initial_option"):
        values[views.ACTION_CARD_BLOCK] = {views.VALUE: {
            "type": "static_select", "selected_option": card_block["element"]["initial_option"]}}
    reply = cadence.slack.view_submission(view, values, user=user)
    cadence.settle()
    return reply


def last_response_text(cadence: Cadence) -> str:
    responses = cadence.fake.responses()
    assert responses, "the app answered nothing through the response_url"
    return responses[-1].get("text", "")
