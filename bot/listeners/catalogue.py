"""Every listener module but `/cadence`'s own, so that help can list their commands without importing the registry."""

from __future__ import annotations

from types import ModuleType

from bot.listeners import (
    blockers,
    healthcheck,
    home,
    poker,
    polls,
    retro,
    review,
    risks,
    sprint,
    standup,
    trackers,
    workspaces,
)
from bot.listeners.commands import SlashCommand

MODULES: tuple[ModuleType, ...] = (
    standup, blockers, poker, polls, retro, sprint, risks, workspaces, home, review, healthcheck, trackers,
)


def commands() -> list[SlashCommand]:
    """The slash commands of these modules, in registry order."""
    return [command for module in MODULES for command in getattr(module, "SLASH_COMMANDS", ())]
