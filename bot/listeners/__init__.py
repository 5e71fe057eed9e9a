"""The listener registry: one module per ceremony, each with `register(app)`, its slash commands and its jobs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from types import ModuleType
from typing import TYPE_CHECKING

from slack_bolt import App

from bot.listeners import catalogue, help
from bot.listeners.commands import SlashCommand

if TYPE_CHECKING:
    from bot.server.runtime import Runtime

Job = Callable[["Runtime", datetime], None]

MODULES: tuple[ModuleType, ...] = (help, *catalogue.MODULES)


def register_all(app: App) -> None:
    """Register every ceremony's listeners on `app`."""
    for module in MODULES:
        module.register(app)


def all_commands() -> list[SlashCommand]:
    """Every slash command the app answers, in registry order."""
    return [command for module in MODULES for command in getattr(module, "SLASH_COMMANDS", ())]


def all_jobs() -> list[Job]:
    """Every ceremony's scheduled job: each is called with the runtime and the current time on every tick."""
    return [job for module in MODULES for job in getattr(module, "JOBS", ())]
