"""The help message every command answers with."""

from __future__ import annotations

from collections.abc import Iterable

from bot.listeners.commands import SlashCommand
from bot.views.common import Block, context, escape, header, section


def help_blocks(commands: Iterable[SlashCommand]) -> list[Block]:
    """Every command with its one-line description and usage."""
    blocks = [header("Cadence commands")]
    for command in commands:
        usage = "\n".join(f"`{line}`" for line in command.usage)
        blocks.append(section(f"*{command.name}* — {command.summary}\n{usage}"))
    blocks.append(context("Cadence runs your team's ceremonies: stand-ups, estimates, retros, blockers and sprints."))
    return blocks


def command_usage_blocks(command: SlashCommand, problem: str | None = None) -> list[Block]:
    """One command's usage, after what was wrong with the text it was given."""
    lines = [f":warning: {escape(problem, mentions=True)}"] if problem else []
    lines.append(f"*{command.name}* — {command.summary}")
    lines.extend(f"`{line}`" for line in command.usage)
    return [section("\n".join(lines))]


def command_usage_text(command: SlashCommand, problem: str | None = None) -> str:
    prefix = f"{escape(problem, mentions=True)} " if problem else ""
    return prefix + "Usage: " + " | ".join(command.usage)
