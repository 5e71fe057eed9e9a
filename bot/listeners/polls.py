"""`/poll`: quick polls with live counts, several choices, anonymous voting and closing on time."""

from __future__ import annotations

import re

from slack_bolt import Ack, App, BoltContext, Respond

from bot import hooks
from bot.listeners.commands import SlashCommand, first_word
from bot.listeners.home import message_link, refresh_home
from bot.server.errors import cannot_work_in
from bot.server.runtime import Runtime, runtime_of, slack_of
from bot.views import polls as views
from bot.views.help import command_usage_blocks, command_usage_text
from ceremonies import polls
from ceremonies.errors import CadenceError, InvalidInput
from storage import polls as store


def handle_poll_command(ack: Ack, command: dict, context: BoltContext) -> None:
    """Asks the channel a quick question: live counts, several choices or one, anonymous if you like, closes on time."""
    text = (command.get("text") or "").strip()
    if first_word(text)[0] == "help":
        ack(text=command_usage_text(POLL), blocks=command_usage_blocks(POLL), response_type="ephemeral")
        return
    if not text:
        ack()
        slack_of(context).open_view(trigger_id=command["trigger_id"], view=views.create_modal(command["channel_id"]))
        return
    try:
        draft = polls.parse_command(text)
    except InvalidInput as problem:
        ack(text=command_usage_text(POLL, str(problem)), blocks=command_usage_blocks(POLL, str(problem)))
        return
    ack()
    runtime = runtime_of(context)
    slack_of(context).ensure_member(channel=command["channel_id"])  # a refusal is told before anything is saved
    with runtime.db.transaction() as session:
        store.post(session, team_id=command["team_id"], channel_id=command["channel_id"],
                   creator_id=command["user_id"], draft=draft, now=runtime.now())


def submit_create(ack: Ack, body: dict, context: BoltContext) -> None:
    """The poll modal submitted: check it, then post the poll."""
    answers = views.parse_create(body["view"])
    draft, errors = views.checked_create(answers)
    if draft is None:
        ack(response_action="errors", errors=errors)
        return
    if refusal := cannot_work_in(slack_of(context), channel_id=answers["channel_id"]):
        ack(response_action="errors", errors={views.QUESTION_BLOCK: refusal})
        return
    ack()
    runtime = runtime_of(context)
    with runtime.db.transaction() as session:
        store.post(session, team_id=context.team_id or "", channel_id=answers["channel_id"],
                   creator_id=body["user"]["id"], draft=draft, now=runtime.now())


def vote(ack: Ack, body: dict, context: BoltContext, respond: Respond) -> None:
    """An option clicked: record it once, redraw the counts, tell the voter privately.

    Refusals are answered here rather than through the global error handler, whose log line names the user: in an
    anonymous poll nothing may tie a person to a vote, not even a log.
    """
    ack()
    runtime, team_id, user_id = runtime_of(context), context.team_id or "", body["user"]["id"]
    poll_id, option_id = views.parse_vote_value(body["actions"][0]["value"])
    try:
        with runtime.db.transaction() as session:
            voted = store.choose(session, secret=runtime.settings.retro_anonymity_secret, team_id=team_id,
                                 poll_id=poll_id, option_id=option_id, user_id=user_id, now=runtime.now())
    except CadenceError as refusal:
        respond(text=f":warning: {refusal}", response_type="ephemeral", replace_original=False)
        return
    if voted.changed:
        _confirm(runtime, respond, voted, team_id=team_id, user_id=user_id)


def clear(ack: Ack, body: dict, context: BoltContext, respond: Respond) -> None:
    """"Clear my vote" clicked: withdraw the person's choices."""
    ack()
    runtime, team_id, user_id = runtime_of(context), context.team_id or "", body["user"]["id"]
    try:
        with runtime.db.transaction() as session:
            voted = store.withdraw(session, secret=runtime.settings.retro_anonymity_secret, team_id=team_id,
                                   poll_id=views.parse_poll_value(body["actions"][0]["value"]), user_id=user_id, now=runtime.now())
    except CadenceError as refusal:
        respond(text=f":warning: {refusal}", response_type="ephemeral", replace_original=False)
        return
    _confirm(runtime, respond, voted, team_id=team_id, user_id=user_id)


def _confirm(runtime: Runtime, respond: Respond, voted: store.Voted, *, team_id: str, user_id: str) -> None:
    respond(text=views.your_choices(list(voted.choices), anonymous=voted.anonymous), response_type="ephemeral",
            replace_original=False)
    if voted.changed and not voted.anonymous:  # publishing their Home right after would tie them to the vote
        refresh_home(runtime, team_id=team_id, user_id=user_id)


def close(ack: Ack, body: dict, context: BoltContext) -> None:
    """The creator closes the poll: the counts are final."""
    ack()
    runtime = runtime_of(context)
    with runtime.db.transaction() as session:
        store.close_and_redraw(session, team_id=context.team_id or "", poll_id=views.parse_poll_value(body["actions"][0]["value"]),
                               now=runtime.now(), user_id=body["user"]["id"])


def home_section(runtime: Runtime, context: hooks.HomeContext) -> hooks.Blocks:
    """Open polls in the person's team channels that they have not voted in, each linked to the poll."""
    channels = hooks.teams_of(runtime, context)
    with runtime.db.reading() as session:
        found = store.open_polls_not_voted(session, team_id=context.team_id, channel_ids=channels,
                                           user_id=context.user_id, secret=runtime.settings.retro_anonymity_secret,
                                           now=context.now)
    shown = [(poll, message_link(runtime, team_id=context.team_id, channel_id=poll.channel_id, ts=poll.message_ts))
             for poll in found[: views.HOME_POLLS]]
    return views.home_blocks(shown, total=len(found))


POLL = SlashCommand("/poll", handle_poll_command, views.usage_lines())
SLASH_COMMANDS = (POLL,)


def register(app: App) -> None:
    app.command(POLL.name)(handle_poll_command)
    app.view(views.CREATE)(submit_create)
    app.action(re.compile(r"^poll\.vote\.\d+$"))(vote)
    app.action(views.CLEAR)(clear)
    app.action(views.CLOSE)(close)
    hooks.add_home_section(home_section)
