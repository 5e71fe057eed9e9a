"""`/poker`: planning poker in a thread — hidden votes, reveal, statistics, re-vote, accept and a summary."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond

from bot import hooks
from bot.listeners import trackers
from bot.listeners.commands import SlashCommand, first_word
from bot.listeners.home import message_link, refresh_home
from bot.server.runtime import Runtime, runtime_of, slack_of
from bot.views import poker as views
from bot.views.help import command_usage_blocks, command_usage_text
from ceremonies import poker
from ceremonies import trackers as domain_trackers
from ceremonies.errors import InvalidInput
from storage import poker as store
from storage import poker_cases as cases

# -- the command and the modal -------------------------------------------------------------------------------------


def handle_poker_command(ack: Ack, command: dict, context: BoltContext) -> None:
    """Estimates stories with planning poker in a thread: hidden votes, reveal, statistics, re-vote and a summary."""
    text = (command.get("text") or "").strip()
    subcommand, rest = first_word(text)
    if subcommand == "help":
        ack(text=command_usage_text(POKER), blocks=command_usage_blocks(POKER), response_type="ephemeral")
        return
    runtime, channel_id, user_id = runtime_of(context), command["channel_id"], command["user_id"]
    if subcommand == "":
        ack()
        sources = trackers.connected_sources(runtime, command["team_id"], channel_id)
        slack_of(context).open_view(trigger_id=command["trigger_id"], view=views.start_modal(channel_id, sources))
        return
    if subcommand in ("jira", "github"):  # stories from a tracker search (bot/listeners/trackers.py)
        ack()
        trackers.start_poker_from(context, kind=domain_trackers.Kind(subcommand), text=rest, channel_id=channel_id,
                                  facilitator_id=user_id)
        return
    if subcommand == "end" and not rest:
        ack()
        with runtime.db.transaction() as session:
            cases.end_in_channel(session, team_id=command["team_id"], channel_id=channel_id, user_id=user_id,
                                 now=runtime.now())
        return
    try:
        stories = poker.parse_command_stories(text)
    except InvalidInput as problem:
        ack(text=command_usage_text(POKER, str(problem)), blocks=command_usage_blocks(POKER, str(problem)))
        return
    ack()
    _start(context, channel_id=channel_id, facilitator_id=user_id, stories=stories, participants=[],
           deck=poker.standard_deck(poker.DeckName.FIBONACCI), auto_reveal=True,
           reveal_policy=poker.RevealPolicy.FACILITATOR)


def submit_start(ack: Ack, body: dict, context: BoltContext) -> None:
    """The start modal submitted: check the stories and the deck, then start the session."""
    answers = views.parse_start(body["view"])
    stories, deck, errors = views.checked_start(answers)
    if errors:
        ack(response_action="errors", errors=errors)
        return
    ack()
    if answers["search"]:  # from Jira or GitHub (bot/listeners/trackers.py)
        trackers.start_poker_from(context, kind=domain_trackers.Kind(answers["source"]), text=answers["search"],
                                  channel_id=answers["channel_id"], facilitator_id=body["user"]["id"], deck=deck,
                                  participants=answers["participants"], auto_reveal=answers["auto_reveal"],
                                  reveal_policy=poker.RevealPolicy(answers["reveal_policy"]))
        return
    _start(context, channel_id=answers["channel_id"], facilitator_id=body["user"]["id"], stories=stories,
           participants=answers["participants"], deck=deck, auto_reveal=answers["auto_reveal"],
           reveal_policy=poker.RevealPolicy(answers["reveal_policy"]))


def _start(context: BoltContext, *, channel_id: str, facilitator_id: str, deck: poker.Deck,
           stories: list[poker.StoryDraft], **settings: Any) -> None:
    """Post the session's parent message first (a refusal leaves nothing stored), then store the session.

    The bot joins a public channel first, so that its redraws and the facilitator's thread keep working there."""
    runtime, slack = runtime_of(context), slack_of(context)
    slack.ensure_member(channel=channel_id)
    text, blocks = views.parent_message(facilitator_id=facilitator_id, deck=deck, stories=len(stories))
    posted = slack.post(channel=channel_id, text=text, blocks=blocks)
    with runtime.db.transaction() as session:
        cases.start(session, team_id=context.team_id or "", channel_id=channel_id, facilitator_id=facilitator_id,
                    parent_ts=posted["ts"], deck=deck, stories=stories, now=runtime.now(), **settings)


# -- voting and deciding -------------------------------------------------------------------------------------------


def vote(ack: Ack, body: dict, context: BoltContext, respond: Respond) -> None:
    """A card clicked: record it, redraw the story's message, tell the voter their card."""
    ack()
    runtime, team_id, user_id = runtime_of(context), context.team_id or "", body["user"]["id"]
    story_id, round, card = views.parse_vote_value(body["actions"][0]["value"])
    with runtime.db.transaction() as session:
        voted = cases.vote(session, team_id=team_id, story_id=story_id, round=round, user_id=user_id, card=card,
                           now=runtime.now())
    if not voted.changed:
        return
    if not voted.revealed:
        text, blocks = views.your_vote(card, story_id, round, voted.label)
        # Through the click's response_url: it needs no membership (chat.postEphemeral answers not_in_channel in
        # a public channel the bot was removed from or posted to with chat:write.public).
        respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=False,
                thread_ts=voted.parent_ts)
    refresh_home(runtime, team_id=team_id, user_id=user_id)


def open_reason(ack: Ack, body: dict, context: BoltContext) -> None:
    """"Add a reason" clicked: open the modal for it."""
    ack()
    runtime = runtime_of(context)
    story_id, round = views.parse_story_value(body["actions"][0]["value"])
    with runtime.db.reading() as session:
        state = store.story_state(session, team_id=context.team_id or "", story_id=story_id)
    slack_of(context).open_view(trigger_id=body["trigger_id"], view=views.reason_modal(story_id, round, state.label))


def submit_reason(ack: Ack, body: dict, context: BoltContext) -> None:
    """The reason modal submitted: attach the reason to the person's vote."""
    story_id, round, text = views.parse_reason(body["view"])
    try:
        reason = poker.check_reason(text)
    except InvalidInput as problem:
        ack(response_action="errors", errors={views.REASON_BLOCK: str(problem)})
        return
    ack()
    runtime = runtime_of(context)
    with runtime.db.transaction() as session:
        cases.give_reason(session, team_id=context.team_id or "", story_id=story_id, round=round,
                          user_id=body["user"]["id"], reason=reason, now=runtime.now())


def reveal(ack: Ack, body: dict, context: BoltContext) -> None:
    """The facilitator reveals the round's votes."""
    ack()
    _step(body, context, cases.reveal)


def revote(ack: Ack, body: dict, context: BoltContext) -> None:
    """The facilitator starts a new round."""
    ack()
    _step(body, context, cases.revote)


def _step(body: dict, context: BoltContext, step: Callable[..., bool]) -> None:
    runtime = runtime_of(context)
    story_id, round = views.parse_story_value(body["actions"][0]["value"])
    with runtime.db.transaction() as session:
        step(session, team_id=context.team_id or "", story_id=story_id, round=round, user_id=body["user"]["id"],
             now=runtime.now())


def open_accept(ack: Ack, body: dict, context: BoltContext) -> None:
    """"Accept" clicked: the facilitator picks the estimate in a modal."""
    ack()
    runtime = runtime_of(context)
    story_id, _round = views.parse_story_value(body["actions"][0]["value"])
    with runtime.db.reading() as session:
        state = cases.story_to_accept(session, team_id=context.team_id or "", story_id=story_id,
                                      user_id=body["user"]["id"])
    slack_of(context).open_view(trigger_id=body["trigger_id"], view=views.accept_modal(state))


def submit_accept(ack: Ack, body: dict, context: BoltContext) -> None:
    """The estimate accepted: it goes to the sprint, and the next story (or the summary) follows."""
    ack()
    story_id, round, estimate = views.parse_accept(body["view"])
    _decide(body, context, story_id=story_id, round=round, estimate=estimate)


def skip(ack: Ack, body: dict, context: BoltContext) -> None:
    """The facilitator skips the story without an estimate."""
    ack()
    story_id, round = views.parse_story_value(body["actions"][0]["value"])
    _decide(body, context, story_id=story_id, round=round, estimate=None)


def _decide(body: dict, context: BoltContext, *, story_id: int, round: int, estimate: str | None) -> None:
    runtime = runtime_of(context)
    with runtime.db.transaction() as session:
        cases.decide(session, team_id=context.team_id or "", story_id=story_id, round=round,
                     user_id=body["user"]["id"], estimate=estimate, now=runtime.now())


# -- the App Home ---------------------------------------------------------------------------------------------------


def home_section(runtime: Runtime, context: hooks.HomeContext) -> hooks.Blocks:
    """Stories waiting for the person's vote, each with a link to its message in the session's thread."""
    with runtime.db.reading() as session:
        awaiting = store.stories_awaiting_vote(session, team_id=context.team_id, user_id=context.user_id)
    shown = [(story, message_link(runtime, team_id=context.team_id, channel_id=story.channel_id,
                                  ts=story.message_ts or story.parent_ts))
             for story in awaiting[: views.HOME_STORIES]]
    return views.home_blocks(shown, total=len(awaiting))


def home_teams(runtime: Runtime, context: hooks.HomeContext) -> set[str]:
    """The team channels where the person facilitated, was listed in or voted in a planning poker session."""
    with runtime.db.reading() as session:
        return store.channels_of(session, team_id=context.team_id, user_id=context.user_id)


POKER = SlashCommand("/poker", handle_poker_command, views.usage_lines())
SLASH_COMMANDS = (POKER,)


def register(app: App) -> None:
    app.command(POKER.name)(handle_poker_command)
    app.view(views.START)(submit_start)
    app.view(views.ACCEPT_MODAL)(submit_accept)
    app.view(views.REASON_MODAL)(submit_reason)
    app.action(re.compile(r"^poker\.vote\.\d+$"))(vote)
    app.action(views.REVEAL)(reveal)
    app.action(views.REVOTE)(revote)
    app.action(views.ACCEPT)(open_accept)
    app.action(views.SKIP)(skip)
    app.action(views.REASON)(open_reason)
    hooks.add_home_section(home_section)
    hooks.add_team_finder(home_teams)
