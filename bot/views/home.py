"""The App Home tab: a person's day across every ceremony."""

from __future__ import annotations

from typing import Any

from bot.views.common import VIEW_BLOCK_LIMIT, Block, context, divider, header, section

EMPTY = "Nothing is waiting for you. :sunny:"
HOME_ITEMS = 6  # items a section lists before "…and N more": every section stays short and the Home within 100 blocks


def _tidy(blocks: list[Block]) -> list[Block]:
    """Sections start with a divider: no divider first, last, or twice in a row."""
    tidy: list[Block] = []
    for block in blocks:
        if block.get("type") == "divider" and (not tidy or tidy[-1].get("type") == "divider"):
            continue
        tidy.append(block)
    while tidy and tidy[-1].get("type") == "divider":
        tidy.pop()
    return tidy


def home_view(sections: list[Block], *, updated: str) -> dict[str, Any]:
    """The Home tab from the ceremonies' sections; within Slack's 100 blocks."""
    blocks = [header("Your day in Cadence"), context(f"Updated {updated} · `/cadence help` lists every command")]
    blocks.append(divider())
    blocks.extend(_tidy(sections) or [section(EMPTY)])
    if len(blocks) > VIEW_BLOCK_LIMIT:
        blocks = [*blocks[: VIEW_BLOCK_LIMIT - 1], context("…more than fits here; see the ceremonies' commands.")]
    return {"type": "home", "blocks": blocks}
