"""`/poker`: planning poker in a thread — hidden votes, reveal, statistics, re-vote, accept and a summary."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session

from bot import hooks
from bot.listeners.commands import SlashCommand, first_word
from bot.listeners.home import message_link, refresh_home
from bot.server.runtime import Runtime, runtime_of
from bot.views import poker as views
from bot.views.help import command_usage_blocks, command_usage_text
from ceremonies import poker
from ceremonies.errors import InvalidInput, NotFound
from storage import claims
from storage import poker as store
from storage import sprint as sprints

log = logging.getLogger("cadence.poker")

Render = Callable[[Session], tuple[int, str, str, str, list[dict[str, Any]]]]
POST_RETRY = timedelta(minutes=1)


# -- coalesced message updates -------------------------------------------------------------------------------------


def coalesced_update(runtime: Runtime, client: WebClient, model: Any, *, team_id: str, row_id: int,
                     render: Render) -> None:
    """Bring a message up to date with its row, coalescing bursts: one updater at a time renders the latest state.

    Whoever changed the row calls this after committing. If another updater holds the row, it re-reads the row
    after its own update and sees this change, so nothing is lost and a burst of votes becomes a few `chat.update`s.
    """
    while True:
        with runtime.db.transaction() as session:
            if not store.claim_render(session, model, team_id=team_id, row_id=row_id, now=runtime.now()):
                return
        shown: int | None = None
        try:
            with runtime.db.reading() as session:
                version, channel, ts, text, blocks = render(session)
            client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)
            shown = version
        except SlackApiError as error:
            # The change itself is stored; the message stays marked stale and the next tick updates it.
            log.warning("chat.update of %s %s failed; the scheduler retries it: %s", model.__tablename__, row_id,
                        error.response.get("error"))
            return
        finally:
            with runtime.db.transaction() as session:
                store.release_render(session, model, team_id=team_id, row_id=row_id, shown_version=shown)


def _render_story(team_id: str, story_id: int) -> Render:
    def render(session: Session) -> tuple[int, str, str, str, list[dict[str, Any]]]:
        state = store.story_state(session, team_id=team_id, story_id=story_id)
        text, blocks = views.story_message(state)
        return state.version, state.channel_id, state.message_ts or "", text, blocks

    return render


def refresh_story(runtime: Runtime, client: WebClient, *, team_id: str, story_id: int) -> None:
    """Show the story's current state on its message."""
    coalesced_update(runtime, client, store.PokerStory, team_id=team_id, row_id=story_id,
                     render=_render_story(team_id, story_id))


def post_story(runtime: Runtime, client: WebClient, *, team_id: str, story_id: int) -> None:
    """Post a story's message in the session's thread, exactly once (a job retries it after a failure)."""
    key = f"poker.story:{story_id}"
    now = runtime.now()
    with runtime.db.transaction() as session:
        if not claims.claim(session, team_id=team_id, kind="poker.story", key=key, now=now):
            return
    with runtime.db.transaction() as session:
        state = store.story_state(session, team_id=team_id, story_id=story_id)
    if state.message_ts is not None or state.parent_ts is None:
        with runtime.db.transaction() as session:
            claims.finish(session, key=key, now=now)
        return
    text, blocks = views.story_message(state)
    try:
        posted = client.chat_postMessage(channel=state.channel_id, thread_ts=state.parent_ts, text=text, blocks=blocks)
    except SlackApiError as error:
        with runtime.db.transaction() as session:
            claims.release(session, key=key, now=now, retry_after=POST_RETRY, error=str(error))
        raise
    with runtime.db.transaction() as session:
        store.set_story_message_ts(session, team_id=team_id, story_id=story_id, ts=posted["ts"])
        # What it showed when posted; a vote in between makes the updater run again.
        store.release_render(session, store.PokerStory, team_id=team_id, row_id=story_id,
                             shown_version=state.version)
        claims.finish(session, key=key, now=now)
    refresh_story(runtime, client, team_id=team_id, story_id=story_id)


def finish_session(runtime: Runtime, client: WebClient, *, team_id: str, session_id: int) -> None:
    """End the session (once): close open stories, post the summary in the thread and on the parent message."""
    with runtime.db.transaction() as session:
        ended = store.end_session(session, team_id=team_id, session_id=session_id, now=runtime.now())
        parent = store.get_session(session, team_id=team_id, session_id=session_id)
        stories = store.stories_of(session, team_id=team_id, session_id=session_id)
        summary = store.summary(session, team_id=team_id, session_id=session_id)
    if not ended:
        return
    for story in stories:
        refresh_story(runtime, client, team_id=team_id, story_id=story.id)
    text, blocks = views.summary_message(summary)
    if parent.parent_ts is None:
        client.chat_postMessage(channel=parent.channel_id, text=text, blocks=blocks)
        return
    client.chat_postMessage(channel=parent.channel_id, thread_ts=parent.parent_ts, text=text, blocks=blocks)
    text, blocks = views.parent_message(
        facilitator_id=parent.facilitator_id, deck=parent.deck, stories=len(stories), summary=summary
    )
    client.chat_update(channel=parent.channel_id, ts=parent.parent_ts, text=text, blocks=blocks)


def start_session(runtime: Runtime, client: WebClient, *, team_id: str, channel_id: str, facilitator_id: str,
                  deck: poker.Deck, stories: list[poker.StoryDraft], participants: list[str], auto_reveal: bool,
                  reveal_policy: poker.RevealPolicy) -> None:
    """Create the session, post its parent message in the channel and its first story in the thread."""
    with runtime.db.transaction() as session:
        created = store.create_session(
            session, team_id=team_id, channel_id=channel_id, facilitator_id=facilitator_id, deck=deck,
            stories=stories, participants=participants, auto_reveal=auto_reveal, reveal_policy=reveal_policy,
            now=runtime.now(),
        )
        session_id = created.id
        first = store.stories_of(session, team_id=team_id, session_id=session_id)[0].id
    text, blocks = views.parent_message(facilitator_id=facilitator_id, deck=deck, stories=len(stories))
    posted = client.chat_postMessage(channel=channel_id, text=text, blocks=blocks)
    with runtime.db.transaction() as session:
        store.set_parent_ts(session, team_id=team_id, session_id=session_id, ts=posted["ts"])
    post_story(runtime, client, team_id=team_id, story_id=first)


# -- the command and the modal -------------------------------------------------------------------------------------


def handle_poker_command(ack: Ack, command: dict, client: WebClient, context: BoltContext) -> None:
    """Estimates stories with planning poker in a thread: hidden votes, reveal, statistics, re-vote and a summary."""
    text = (command.get("text") or "").strip()
    subcommand, _rest = first_word(text)
    if subcommand == "help":
        ack(text=command_usage_text(POKER), blocks=command_usage_blocks(POKER), response_type="ephemeral")
        return
    runtime = runtime_of(context)
    team_id, channel_id, user_id = command["team_id"], command["channel_id"], command["user_id"]
    if subcommand == "":
        ack()
        client.views_open(trigger_id=command["trigger_id"], view=views.start_modal(channel_id))
        return
    if subcommand == "end" and not _rest:
        ack()
        with runtime.db.transaction() as session:
            open_session = store.open_session_in(session, team_id=team_id, channel_id=channel_id)
            if open_session is None:
                raise NotFound("There is no planning poker session running in this channel.")
            poker.check_is_facilitator(user_id=user_id, facilitator_id=open_session.facilitator_id,
                                       what="end the session")
            session_id = open_session.id
        finish_session(runtime, client, team_id=team_id, session_id=session_id)
        return
    try:
        stories = poker.parse_command_stories(text)
    except InvalidInput as problem:
        ack(text=command_usage_text(POKER, str(problem)), blocks=command_usage_blocks(POKER, str(problem)))
        return
    ack()
    start_session(runtime, client, team_id=team_id, channel_id=channel_id, facilitator_id=user_id,
                  deck=poker.standard_deck(poker.DeckName.FIBONACCI), stories=stories, participants=[],
                  auto_reveal=True, reveal_policy=poker.RevealPolicy.FACILITATOR)


def submit_start(ack: Ack, body: dict, client: WebClient, context: BoltContext) -> None:
    answers = views.parse_start(body["view"])
    errors = {}
    try:
        stories = poker.parse_stories(answers["stories"])
    except InvalidInput as problem:
        errors[views.STORIES_BLOCK] = str(problem)
    try:
        deck = poker.deck_from(answers["deck"], answers["custom_deck"])
    except InvalidInput as problem:
        errors[views.CUSTOM_DECK_BLOCK] = str(problem)
    if errors:
        ack(response_action="errors", errors=errors)
        return
    ack()
    start_session(
        runtime_of(context), client, team_id=context.team_id or "", channel_id=answers["channel_id"],
        facilitator_id=body["user"]["id"], deck=deck, stories=stories, participants=answers["participants"],
        auto_reveal=answers["auto_reveal"], reveal_policy=poker.RevealPolicy(answers["reveal_policy"]),
    )


# -- voting and deciding -------------------------------------------------------------------------------------------


def vote(ack: Ack, body: dict, client: WebClient, context: BoltContext) -> None:
    """A card clicked: record it, update the story's message from the database, tell the voter their card."""
    ack()
    runtime = runtime_of(context)
    team_id, user_id = context.team_id or "", body["user"]["id"]
    story_id, round, card = views.parse_vote_value(body["actions"][0]["value"])
    with runtime.db.transaction() as session:
        outcome = store.record_vote(session, team_id=team_id, story_id=story_id, round=round, user_id=user_id,
                                    card=card, now=runtime.now())
    if not outcome.changed:
        return
    if not outcome.revealed:
        with runtime.db.reading() as session:  # apart from the vote, which holds the story's row lock
            state = store.story_state(session, team_id=team_id, story_id=story_id)
        # The voter's own note first: the shared message may wait behind other voters' updates.
        text, blocks = views.your_vote(card, story_id, round, state.label)
        client.chat_postEphemeral(channel=state.channel_id, user=user_id, thread_ts=state.parent_ts, text=text,
                                  blocks=blocks)
    refresh_story(runtime, client, team_id=team_id, story_id=story_id)
    refresh_home(runtime, client, team_id=team_id, user_id=user_id)


def open_reason(ack: Ack, body: dict, client: WebClient, context: BoltContext) -> None:
    ack()
    runtime = runtime_of(context)
    story_id, round = views.parse_story_value(body["actions"][0]["value"])
    with runtime.db.transaction() as session:
        state = store.story_state(session, team_id=context.team_id or "", story_id=story_id)
    client.views_open(trigger_id=body["trigger_id"], view=views.reason_modal(story_id, round, state.label))


def submit_reason(ack: Ack, body: dict, client: WebClient, context: BoltContext) -> None:
    story_id, round, text = views.parse_reason(body["view"])
    try:
        reason = poker.check_reason(text)
    except InvalidInput as problem:
        ack(response_action="errors", errors={views.REASON_BLOCK: str(problem)})
        return
    ack()
    runtime = runtime_of(context)
    team_id = context.team_id or ""
    with runtime.db.transaction() as session:
        store.set_reason(session, team_id=team_id, story_id=story_id, round=round, user_id=body["user"]["id"],
                         reason=reason)
    refresh_story(runtime, client, team_id=team_id, story_id=story_id)


def reveal(ack: Ack, body: dict, client: WebClient, context: BoltContext) -> None:
    ack()
    _change_story(body, client, context, store.reveal)


def revote(ack: Ack, body: dict, client: WebClient, context: BoltContext) -> None:
    ack()
    _change_story(body, client, context, store.revote)


def _change_story(body: dict, client: WebClient, context: BoltContext, change: Callable[..., bool]) -> None:
    """Apply a facilitator's step (reveal, re-vote) to the story on the clicked button, and redraw it if it moved."""
    runtime = runtime_of(context)
    team_id = context.team_id or ""
    story_id, round = views.parse_story_value(body["actions"][0]["value"])
    with runtime.db.transaction() as session:
        changed = change(session, team_id=team_id, story_id=story_id, round=round, user_id=body["user"]["id"])
    if changed:
        refresh_story(runtime, client, team_id=team_id, story_id=story_id)


def open_accept(ack: Ack, body: dict, client: WebClient, context: BoltContext) -> None:
    ack()
    runtime = runtime_of(context)
    story_id, _round = views.parse_story_value(body["actions"][0]["value"])
    with runtime.db.transaction() as session:
        state = store.story_state(session, team_id=context.team_id or "", story_id=story_id)
    poker.check_is_facilitator(user_id=body["user"]["id"], facilitator_id=state.facilitator_id,
                               what="accept an estimate")
    client.views_open(trigger_id=body["trigger_id"], view=views.accept_modal(state))


def _decide(runtime: Runtime, client: WebClient, *, team_id: str, story_id: int, round: int, user_id: str,
            estimate: str | None) -> None:
    with runtime.db.transaction() as session:
        decision = store.decide(session, team_id=team_id, story_id=story_id, round=round, user_id=user_id,
                                estimate=estimate, now=runtime.now())
        state = store.story_state(session, team_id=team_id, story_id=story_id)
        session_id = state.session_id
        points = state.deck.points(estimate) if decision.decided and estimate is not None else None
        if points is not None:
            # An accepted estimate is the sprint's: committed before it starts, a scope change after.
            sprints.add_story(session, team_id=team_id, channel_id=state.channel_id, key=state.key,
                              title=state.title, points=points, by=user_id, now=runtime.now(), source="poker")
    if not decision.decided:
        return
    refresh_story(runtime, client, team_id=team_id, story_id=story_id)
    if decision.next_story_id is not None:
        post_story(runtime, client, team_id=team_id, story_id=decision.next_story_id)
    else:
        finish_session(runtime, client, team_id=team_id, session_id=session_id)


def submit_accept(ack: Ack, body: dict, client: WebClient, context: BoltContext) -> None:
    ack()
    story_id, round, estimate = views.parse_accept(body["view"])
    _decide(runtime_of(context), client, team_id=context.team_id or "", story_id=story_id, round=round,
            user_id=body["user"]["id"], estimate=estimate)


def skip(ack: Ack, body: dict, client: WebClient, context: BoltContext) -> None:
    ack()
    story_id, round = views.parse_story_value(body["actions"][0]["value"])
    _decide(runtime_of(context), client, team_id=context.team_id or "", story_id=story_id, round=round,
            user_id=body["user"]["id"], estimate=None)


# -- catching up after a restart or a failure -------------------------------------------------------------------------


def catch_up(runtime: Runtime, now: datetime) -> None:
    """Post story messages that were never posted and bring stale story messages up to date."""
    with runtime.db.transaction() as session:
        unposted = store.unposted_stories(session)
        stale = store.stale_messages(session, store.PokerStory, now=now)
    for team_id, story_id in unposted:
        post_story(runtime, runtime.client_for(team_id), team_id=team_id, story_id=story_id)
    for team_id, story_id in stale:
        refresh_story(runtime, runtime.client_for(team_id), team_id=team_id, story_id=story_id)


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
JOBS = (catch_up,)


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
