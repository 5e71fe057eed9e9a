"""Polls' scheduled work (closing on time) and outbox renderers: the poll's message, drawn from the current counts
when it is delivered."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bot.jobs import outbox as outbox_jobs
from bot.jobs.outbox import Delivered, Message, Undelivered
from bot.server.runtime import Runtime
from bot.views import polls as views
from ceremonies.errors import NotFound
from storage import outbox
from storage import polls as store


@outbox_jobs.renderer(store.POLL)
def render_poll(runtime: Runtime, args: dict[str, Any]) -> Message | None:
    """The poll's message with its counts as they stand now (None once the poll is gone)."""
    with runtime.db.reading() as session:
        try:
            state = store.poll_state(session, team_id=args["team_id"], poll_id=args["poll_id"])
        except NotFound:
            return None
    text, blocks = views.poll_message(state)
    return Message(text=text, blocks=blocks)


@outbox_jobs.after_sent(store.POLL)
def poll_posted(session: Session, delivered: Delivered) -> None:
    """Remember where the poll's message is: the App Home links to it and its redraws change it."""
    store.posted(session, team_id=delivered.team_id, poll_id=delivered.payload["poll_id"], ts=delivered.ts,
                 now=delivered.now)


@outbox_jobs.on_failed(store.POLL)
def poll_not_posted(session: Session, failed: Undelivered) -> None:
    """Slack refused the poll for good: tell its creator what to do, and forget the poll nobody can see."""
    team_id, poll_id = failed.team_id, failed.payload["poll_id"]
    try:
        poll = store.get_poll(session, team_id=team_id, poll_id=poll_id)
    except NotFound:
        return
    outbox.add(session, team_id=team_id, key=f"polls.not_posted:{poll_id}", kind="polls.not_posted",
               channel=poll.creator_id, text=views.not_posted(poll.question, poll.channel_id), now=failed.now)
    store.delete_poll(session, team_id=team_id, poll_id=poll_id)


def close_due_polls(runtime: Runtime, now: datetime) -> None:
    """Close every poll whose time has come and show its final counts: one transaction per poll."""
    with runtime.db.transaction() as session:  # a claim (storage.due), so a write
        due = store.due_to_close(session, now=now)
    for team_id, poll_id in due:
        with runtime.db.transaction() as session:
            store.close_and_redraw(session, team_id=team_id, poll_id=poll_id, now=now)


JOBS = (close_due_polls,)
