"""Block Kit validation with slack_sdk's own models, walking into every element, text and option."""

from __future__ import annotations

from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.basic_objects import JsonObject
from slack_sdk.models.blocks import Block, BlockElement, Option, TextObject
from slack_sdk.models.views import View

MESSAGE_BLOCK_LIMIT = 50
VIEW_BLOCK_LIMIT = 100
MESSAGE_TEXT_LIMIT = 40_000
TEXT_TYPES = {"plain_text", "mrkdwn"}


def message_problems(text: str | None, blocks: Any) -> list[str]:
    """Everything wrong with a message's text and blocks, by Slack's rules."""
    problems: list[str] = []
    if blocks in (None, "", []):
        if not text:
            problems.append("message has neither text nor blocks")
        blocks = []
    if not isinstance(blocks, list):
        return [f"blocks must be a list, got {type(blocks).__name__}"]
    if len(blocks) > MESSAGE_BLOCK_LIMIT:
        problems.append(f"message has {len(blocks)} blocks; Slack allows {MESSAGE_BLOCK_LIMIT}")
    if text and len(text) > MESSAGE_TEXT_LIMIT:
        problems.append(f"message text has {len(text)} characters; Slack allows {MESSAGE_TEXT_LIMIT}")
    problems.extend(blocks_problems(blocks))
    return problems


def view_problems(view: Any) -> list[str]:
    """Everything wrong with a modal or Home tab view."""
    if not isinstance(view, dict):
        return [f"view must be an object, got {type(view).__name__}"]
    problems: list[str] = []
    blocks = view.get("blocks") or []
    if len(blocks) > VIEW_BLOCK_LIMIT:
        problems.append(f"view has {len(blocks)} blocks; Slack allows {VIEW_BLOCK_LIMIT}")
    try:
        View(**view).validate_json()
    except (SlackObjectFormationError, TypeError, ValueError) as error:
        problems.append(f"view: {error}")
    if view.get("type") == "modal" and not view.get("title"):
        problems.append("modal view has no title")
    if len(view.get("private_metadata") or "") > 3000:
        problems.append("view private_metadata is over 3000 characters")
    problems.extend(blocks_problems(blocks))
    return problems


def blocks_problems(blocks: list[Any]) -> list[str]:
    problems: list[str] = []
    for index, raw in enumerate(blocks):
        if not isinstance(raw, dict):
            problems.append(f"blocks[{index}] is not an object")
            continue
        parsed = Block.parse(raw)
        if parsed is None or type(parsed) is Block:
            problems.append(f"blocks[{index}] has an unknown type {raw.get('type')!r}")
            continue
        _walk(parsed, f"blocks[{index}]", problems, depth=0)
    return problems


def _walk(node: Any, path: str, problems: list[str], depth: int) -> None:
    if depth > 12:
        return
    if isinstance(node, JsonObject):
        try:
            node.validate_json()
        except (SlackObjectFormationError, ValueError, TypeError) as error:
            problems.append(f"{path} ({type(node).__name__}): {error}")
        for name, value in vars(node).items():
            if not name.startswith("_"):
                _walk(value, f"{path}.{name}", problems, depth + 1)
    elif isinstance(node, list | tuple):
        for index, item in enumerate(node):
            _walk(item, f"{path}[{index}]", problems, depth + 1)
    elif isinstance(node, dict):
        parsed = _parse(node, path, problems)
        if parsed is not None:
            _walk(parsed, path, problems, depth + 1)


def _parse(raw: dict[str, Any], path: str, problems: list[str]) -> JsonObject | None:
    kind = raw.get("type")
    if kind in TEXT_TYPES:
        return TextObject.parse(raw)
    if "value" in raw and "text" in raw and kind is None:
        options = Option.parse_all([raw])
        return options[0] if options else None
    if isinstance(kind, str):
        element = BlockElement.parse(raw)
        if element is None:
            problems.append(f"{path}: unknown element type {kind!r}")
        return element
    return None
