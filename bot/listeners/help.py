"""`/cadence`: help for every command of the app."""

from __future__ import annotations

from functools import cache

from slack_bolt import Ack, App, BoltContext, Respond

from bot.listeners import catalogue, digest
from bot.listeners.commands import SlashCommand, first_word
from bot.views.help import command_usage_blocks, command_usage_text, help_blocks


def handle_cadence_command(ack: Ack, command: dict, respond: Respond, context: BoltContext) -> None:
    """Lists every Cadence command with its description and usage; admins set up the executive digest."""
    subcommand, rest = first_word(command.get("text"))
    if subcommand == "digest":
        digest.handle_digest(ack, command, respond, context, rest)
        return
    if subcommand in ("", "help"):
        ack(text="Cadence commands", blocks=every_command_help(), response_type="ephemeral")
        return
    problem = f"I don't know `{subcommand[:50]}`."
    ack(text=command_usage_text(CADENCE, problem), blocks=command_usage_blocks(CADENCE, problem))


@cache
def every_command_help() -> list[dict]:
    """The help blocks: the same for every request while the process runs, so built once."""
    return help_blocks([CADENCE, *catalogue.commands()])


CADENCE = SlashCommand("/cadence", handle_cadence_command,
                       ("/cadence help", "/cadence digest", "/cadence digest revoke [link]"))
SLASH_COMMANDS = (CADENCE,)


def register(app: App) -> None:
    app.command(CADENCE.name)(handle_cadence_command)
