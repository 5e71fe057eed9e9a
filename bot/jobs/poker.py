"""Planning poker's scheduled work and outbox renderers: story messages, the summary and the parent, drawn from the
current rows when they are delivered."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bot.jobs import outbox as outbox_jobs
from bot.jobs.outbox import Delivered, Message
from bot.server.runtime import Runtime
from bot.views import poker as views
from bot.views import trackers as tracker_views
from ceremonies.errors import NotFound
from storage import poker as store
from storage import poker_cases as cases
from storage import trackers


@outbox_jobs.renderer(cases.STORY)
def render_story(runtime: Runtime, args: dict[str, Any]) -> Message | None:
    """A story's message in the session's thread, as it stands now (None once the story is gone)."""
    with runtime.db.reading() as session:
        try:
            state = store.story_state(session, team_id=args["team_id"], story_id=args["story_id"])
        except NotFound:
            return None
        written = trackers.estimate_write(session, team_id=args["team_id"], story_id=args["story_id"])
    text, blocks = views.story_message(state, tracker_line=tracker_views.estimate_line(written))
    return Message(text=text, blocks=blocks)


@outbox_jobs.renderer(cases.SUMMARY)
def render_summary(runtime: Runtime, args: dict[str, Any]) -> Message | None:
    """The session's summary in its thread: each story with its accepted estimate."""
    with runtime.db.reading() as session:
        summary = store.summary(session, team_id=args["team_id"], session_id=args["session_id"])
    text, blocks = views.summary_message(summary)
    return Message(text=text, blocks=blocks)


@outbox_jobs.renderer(cases.PARENT)
def render_parent(runtime: Runtime, args: dict[str, Any]) -> Message | None:
    """The session's parent message in the channel, with the summary once the session ended."""
    team_id, session_id = args["team_id"], args["session_id"]
    with runtime.db.reading() as session:
        try:
            parent = store.get_session(session, team_id=team_id, session_id=session_id)
        except NotFound:
            return None
        stories = len(store.stories_of(session, team_id=team_id, session_id=session_id))
        summary = store.summary(session, team_id=team_id, session_id=session_id) if parent.ended_at else None
        deck, facilitator_id = parent.deck, parent.facilitator_id
    text, blocks = views.parent_message(facilitator_id=facilitator_id, deck=deck, stories=stories, summary=summary)
    return Message(text=text, blocks=blocks)


@outbox_jobs.after_sent(cases.STORY)
def story_posted(session: Session, delivered: Delivered) -> None:
    """Remember where a story's message is: the App Home links to it and its redraws change it."""
    cases.story_posted(session, team_id=delivered.team_id, story_id=delivered.payload["story_id"],
                       channel_id=delivered.channel, ts=delivered.ts, now=delivered.now)


def catch_up(runtime: Runtime, now: datetime) -> None:
    """Queue the message of any open story that never got one queued (e.g. stored before the outbox existed)."""
    with runtime.db.transaction() as session:
        cases.queue_unposted_stories(session, now=now)


JOBS = (catch_up,)
