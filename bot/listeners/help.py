"""`/cadence`: help for every command of the app."""

from __future__ import annotations

from functools import cache

from slack_bolt import Ack, App, BoltContext

from bot.listeners import catalogue, trackers
from bot.listeners.commands import SlashCommand, first_word
from bot.views.help import command_usage_blocks, command_usage_text, help_blocks


def handle_cadence_command(ack: Ack, command: dict, context: BoltContext) -> None:
    """Lists every Cadence command with its description and usage."""
    subcommand, rest = first_word(command.get("text"))
    if subcommand in ("", "help"):
        ack(text="Cadence commands", blocks=every_command_help(), response_type="ephemeral")
        return
    if subcommand in TRACKER_SUBCOMMANDS:  # Jira and GitHub (bot/listeners/trackers.py)
        TRACKER_SUBCOMMANDS[subcommand](ack, command, context, rest)
        return
    problem = f"I don't know `{subcommand[:50]}`."
    ack(text=command_usage_text(CADENCE, problem), blocks=command_usage_blocks(CADENCE, problem))


@cache
def every_command_help() -> list[dict]:
    """The help blocks: the same for every request while the process runs, so built once."""
    return help_blocks([CADENCE, *catalogue.commands()])


TRACKER_SUBCOMMANDS = {"connect": trackers.connect, "disconnect": trackers.disconnect}
CADENCE = SlashCommand("/cadence", handle_cadence_command, (
    "/cadence help", "/cadence connect jira|github", "/cadence disconnect jira|github"))
SLASH_COMMANDS = (CADENCE,)


def register(app: App) -> None:
    app.command(CADENCE.name)(handle_cadence_command)
