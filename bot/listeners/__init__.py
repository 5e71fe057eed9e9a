"""The listener registry: one module per ceremony, each with `register(app)` and its slash commands."""

from __future__ import annotations

from types import ModuleType

from slack_bolt import App

from bot.listeners import catalogue, help
from bot.listeners.commands import SlashCommand

MODULES: tuple[ModuleType, ...] = (help, *catalogue.MODULES)


def register_all(app: App) -> None:
    """Register every ceremony's listeners on `app`."""
    for module in MODULES:
        module.register(app)


def all_commands() -> list[SlashCommand]:
    """Every slash command the app answers, in registry order."""
    return [command for module in MODULES for command in getattr(module, "SLASH_COMMANDS", ())]
