"""Block Kit building blocks and Slack's limits, defined once."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

Block = dict[str, Any]

SECTION_TEXT_LIMIT = 3000
HEADER_TEXT_LIMIT = 150
CONTEXT_TEXT_LIMIT = 2000
BUTTON_TEXT_LIMIT = 75
BUTTON_VALUE_LIMIT = 2000
MESSAGE_TEXT_LIMIT = 4000
MESSAGE_BLOCK_LIMIT = 50
VIEW_BLOCK_LIMIT = 100
ACTIONS_ELEMENT_LIMIT = 25
ELLIPSIS = "…"
# A modal's inline error when Slack did not answer the checks made before the ack within their budget.
SLACK_SLOW = "Slack was too slow to answer just now; press the button again in a moment (nothing you typed is lost)."


def cut(text: str, limit: int = SECTION_TEXT_LIMIT) -> str:
    """`text` shortened to `limit` characters, ending in an ellipsis when something was cut."""
    if len(text) <= limit:
        return text
    return text[: limit - len(ELLIPSIS)] + ELLIPSIS


def fit_list(items: Sequence[str], *, limit: int = SECTION_TEXT_LIMIT, prefix: str = "", separator: str = ", ",
             more: str = "+{n} more", max_items: int | None = None) -> str:
    """`prefix` and as many whole `items` as fit in `limit` characters (and at most `max_items`), joined by
    `separator`, then `more` (with {n}, how many were left out) for the rest.

    A list is cut by count, never inside an item: a mention, an escape or a link cut in half shows as garbage, and a
    "+N more" cut off says nothing. An item is expected to fit on its own (callers shorten long texts first)."""
    cap = len(items) if max_items is None else min(max_items, len(items))
    best, length = 0, len(prefix)
    for count in range(cap + 1):
        if count:
            length += (len(separator) if count > 1 else 0) + len(items[count - 1])
        left = len(items) - count
        tail = (separator if count else "") + more.format(n=left) if left else ""
        if length + len(tail) > limit:
            break
        best = count
    left = len(items) - best
    text = prefix + separator.join(items[:best])
    if left:
        text += (separator if best else "") + more.format(n=left)
    return cut(text, limit)


_ESCAPED_PERSON = re.compile(r"&lt;@([UW][A-Z0-9]+)(?:\|[^&<>]*)?&gt;")


def escape(text: str, *, mentions: bool = False) -> str:
    """User text made safe for `text` and mrkdwn alike: no broadcast (`<!channel>`, `<!here>`, `<!subteam^…>`), no
    link, no markup survives. With `mentions`, a person Slack formatted as a mention (`<@U123|dana>`) stays one."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _ESCAPED_PERSON.sub(r"<@\1>", escaped) if mentions else escaped


def section(text: str, *, accessory: dict[str, Any] | None = None) -> Block:
    block = SectionBlock(text=MarkdownTextObject(text=cut(text or " ")), accessory=accessory)
    return block.to_dict()


def header(text: str) -> Block:
    return HeaderBlock(text=PlainTextObject(text=cut(text, HEADER_TEXT_LIMIT))).to_dict()


def context(text: str) -> Block:
    return ContextBlock(elements=[MarkdownTextObject(text=cut(text or " ", CONTEXT_TEXT_LIMIT))]).to_dict()


def divider() -> Block:
    return DividerBlock().to_dict()


def button(text: str, action_id: str, value: str = "", *, style: str | None = None) -> dict[str, Any]:
    element = ButtonElement(
        text=PlainTextObject(text=cut(text, BUTTON_TEXT_LIMIT)),
        action_id=action_id,
        value=value[:BUTTON_VALUE_LIMIT] or None,
        style=style,
    )
    return element.to_dict()


def actions(*elements: dict[str, Any], block_id: str | None = None) -> Block:
    return ActionsBlock(elements=list(elements)[:ACTIONS_ELEMENT_LIMIT], block_id=block_id).to_dict()


def fit_message(blocks: list[Block], *, overflow_note: str = "…and more; see the thread.") -> list[Block]:
    """At most 50 blocks, the last replaced by a note when some had to go."""
    if len(blocks) <= MESSAGE_BLOCK_LIMIT:
        return blocks
    return [*blocks[: MESSAGE_BLOCK_LIMIT - 1], context(overflow_note)]


def fallback_text(text: str) -> str:
    """The notification text of a message, within Slack's limit."""
    return cut(text, MESSAGE_TEXT_LIMIT)
