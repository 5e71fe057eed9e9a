"""`/poll`: quick polls with live counts, several choices, anonymous voting and closing on time."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from sqlalchemy.orm import Session

from bot import hooks
from bot.listeners.commands import SlashCommand, first_word
from bot.listeners.home import message_link, refresh_home
from bot.listeners.poker import coalesced_update
from bot.server.runtime import Runtime, runtime_of
from bot.views import polls as views
from bot.views.help import command_usage_blocks, command_usage_text
from ceremonies import polls
from ceremonies.errors import CadenceError, InvalidInput
from storage import claims
from storage import polls as store
from storage.poker import release_render, stale_messages


def refresh_poll(runtime: Runtime, client: WebClient, *, team_id: str, poll_id: int) -> None:
    """Show the poll's current counts on its message (bursts of votes coalesced into few updates)."""

    def render(session: Session) -> tuple[int, str, str, str, list[dict[str, Any]]]:
        state = store.poll_state(session, team_id=team_id, poll_id=poll_id)
        text, blocks = views.poll_message(state)
        return state.version, state.channel_id, state.message_ts or "", text, blocks

    coalesced_update(runtime, client, store.Poll, team_id=team_id, row_id=poll_id, render=render)


def post_poll(runtime: Runtime, client: WebClient, *, team_id: str, channel_id: str, creator_id: str,
              draft: polls.PollDraft) -> None:
    with runtime.db.transaction() as session:
        poll_id = store.create_poll(session, team_id=team_id, channel_id=channel_id, creator_id=creator_id,
                                    draft=draft, now=runtime.now()).id
        state = store.poll_state(session, team_id=team_id, poll_id=poll_id)
    text, blocks = views.poll_message(state)
    posted = client.chat_postMessage(channel=channel_id, text=text, blocks=blocks)
    with runtime.db.transaction() as session:
        store.set_message_ts(session, team_id=team_id, poll_id=poll_id, ts=posted["ts"])
        release_render(session, store.Poll, team_id=team_id, row_id=poll_id, shown_version=state.version)


def handle_poll_command(ack: Ack, command: dict, client: WebClient, context: BoltContext) -> None:
    """Asks the channel a quick question: live counts, several choices or one, anonymous if you like, closes on time."""
    text = (command.get("text") or "").strip()
    subcommand, _rest = first_word(text)
    if subcommand == "help":
        ack(text=command_usage_text(POLL), blocks=command_usage_blocks(POLL), response_type="ephemeral")
        return
    if not text:
        ack()
        client.views_open(trigger_id=command["trigger_id"], view=views.create_modal(command["channel_id"]))
        return
    try:
        draft = polls.parse_command(text)
    except InvalidInput as problem:
        ack(text=command_usage_text(POLL, str(problem)), blocks=command_usage_blocks(POLL, str(problem)))
        return
    ack()
    post_poll(runtime_of(context), client, team_id=command["team_id"], channel_id=command["channel_id"],
              creator_id=command["user_id"], draft=draft)


def submit_create(ack: Ack, body: dict, client: WebClient, context: BoltContext) -> None:
    answers = views.parse_create(body["view"])
    errors = {
        {"question": views.QUESTION_BLOCK, "options": views.OPTIONS_BLOCK}[name]: problem
        for name, problem in polls.problems_of(answers["question"], answers["options"]).items()
    }
    close_after = None
    if answers["close_after"]:
        try:
            close_after = polls.parse_duration(answers["close_after"])
        except InvalidInput as problem:
            errors[views.CLOSE_AFTER_BLOCK] = str(problem)
    if errors:
        ack(response_action="errors", errors=errors)
        return
    ack()
    draft = polls.validate(answers["question"], answers["options"], multi=answers["multi"],
                           anonymous=answers["anonymous"], close_after=close_after)
    post_poll(runtime_of(context), client, team_id=context.team_id or "", channel_id=answers["channel_id"],
              creator_id=body["user"]["id"], draft=draft)


def _voter(runtime: Runtime, session: Session, *, team_id: str, poll_id: int, user_id: str) -> tuple[str, bool]:
    anonymous = store.get_poll(session, team_id=team_id, poll_id=poll_id).anonymous
    key = store.voter_key(secret=runtime.settings.retro_anonymity_secret, team_id=team_id, poll_id=poll_id,
                          user_id=user_id, anonymous=anonymous)
    return key, anonymous


def vote(ack: Ack, body: dict, client: WebClient, context: BoltContext, respond: Respond) -> None:
    """An option clicked: record it once, update the counts from the database, tell the voter privately.

    Refusals are answered here rather than through the global error handler, whose log line names the user: in an
    anonymous poll nothing may tie a person to a vote, not even a log.
    """
    ack()
    runtime = runtime_of(context)
    team_id = context.team_id or ""
    poll_id, option_id = views.parse_vote_value(body["actions"][0]["value"])
    try:
        with runtime.db.transaction() as session:
            voter, anonymous = _voter(runtime, session, team_id=team_id, poll_id=poll_id, user_id=body["user"]["id"])
            changed = store.vote(session, team_id=team_id, poll_id=poll_id, option_id=option_id, voter=voter,
                                 now=runtime.now())
            choices = store.choices_of(session, team_id=team_id, poll_id=poll_id, voter=voter)
    except CadenceError as refusal:
        respond(text=f":warning: {refusal}", response_type="ephemeral", replace_original=False)
        return
    if not changed:
        return
    respond(text=views.your_choices(choices, anonymous=anonymous), response_type="ephemeral", replace_original=False)
    refresh_poll(runtime, client, team_id=team_id, poll_id=poll_id)
    if not anonymous:  # publishing their Home right after would tie a person to an anonymous vote
        refresh_home(runtime, client, team_id=team_id, user_id=body["user"]["id"])


def clear(ack: Ack, body: dict, client: WebClient, context: BoltContext, respond: Respond) -> None:
    ack()
    runtime = runtime_of(context)
    team_id = context.team_id or ""
    poll_id = int(body["actions"][0]["value"])
    try:
        with runtime.db.transaction() as session:
            voter, anonymous = _voter(runtime, session, team_id=team_id, poll_id=poll_id, user_id=body["user"]["id"])
            changed = store.clear_votes(session, team_id=team_id, poll_id=poll_id, voter=voter)
    except CadenceError as refusal:
        respond(text=f":warning: {refusal}", response_type="ephemeral", replace_original=False)
        return
    respond(text=views.your_choices([], anonymous=anonymous), response_type="ephemeral", replace_original=False)
    if changed:
        refresh_poll(runtime, client, team_id=team_id, poll_id=poll_id)
        if not anonymous:
            refresh_home(runtime, client, team_id=team_id, user_id=body["user"]["id"])


def close(ack: Ack, body: dict, client: WebClient, context: BoltContext) -> None:
    ack()
    runtime = runtime_of(context)
    team_id = context.team_id or ""
    poll_id = int(body["actions"][0]["value"])
    with runtime.db.transaction() as session:
        closed = store.close(session, team_id=team_id, poll_id=poll_id, now=runtime.now(), user_id=body["user"]["id"])
    if closed:
        refresh_poll(runtime, client, team_id=team_id, poll_id=poll_id)


def close_due_polls(runtime: Runtime, now: datetime) -> None:
    """Close every poll whose time has come, each exactly once, and bring stale poll messages up to date."""
    with runtime.db.transaction() as session:
        due = store.due_to_close(session, now=now)
    for team_id, poll_id in due:
        key = f"poll.close:{poll_id}"
        with runtime.db.transaction() as session:
            if not claims.claim(session, team_id=team_id, kind="poll.close", key=key, now=now):
                continue
        with runtime.db.transaction() as session:
            store.close(session, team_id=team_id, poll_id=poll_id, now=now)
            claims.finish(session, key=key, now=now)
        # Closed for good; if this update fails, the stale-message pass below retries it on the next tick.
        refresh_poll(runtime, runtime.client_for(team_id), team_id=team_id, poll_id=poll_id)
    with runtime.db.transaction() as session:
        stale = stale_messages(session, store.Poll, now=now)
    for team_id, poll_id in stale:
        refresh_poll(runtime, runtime.client_for(team_id), team_id=team_id, poll_id=poll_id)


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
JOBS = (close_due_polls,)


def register(app: App) -> None:
    app.command(POLL.name)(handle_poll_command)
    app.view(views.CREATE)(submit_create)
    app.action(re.compile(r"^poll\.vote\.\d+$"))(vote)
    app.action(views.CLEAR)(clear)
    app.action(views.CLOSE)(close)
    hooks.add_home_section(home_section)
