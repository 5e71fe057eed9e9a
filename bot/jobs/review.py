"""The sprint review's messages the app sends on its own, and its closing when the window ends.

The header, the story messages, the questions and the closing message are drawn here from the current rows when the
outbox delivers them (their rows carry only ids); the header's delivery queues the stakeholders' invitations, which
link to it.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bot.jobs import outbox as outbox_jobs
from bot.jobs.outbox import Delivered, Message, Undelivered
from bot.server.runtime import Runtime
from bot.slack.gateway import SlackFailure
from bot.views import review as views
from ceremonies.errors import NotFound
from storage import outbox
from storage import review as store
from storage import review_cases as cases

log = logging.getLogger("cadence.review")


def _review_of(session: Session, args: dict[str, Any]) -> store.Review | None:
    """The review an outbox row names, or None once it is gone (nothing left to draw)."""
    try:
        return store.get_review(session, team_id=args["team_id"], review_id=int(args["review_id"]))
    except NotFound:
        return None


def _question_of(session: Session, args: dict[str, Any]) -> tuple[store.ReviewQuestion, store.StoryState] | None:
    """The question an outbox row names and its story as it stands, or None once either is gone."""
    try:
        question = store.get_question(session, team_id=args["team_id"], question_id=int(args["question_id"]))
        return question, store.story_state(session, team_id=args["team_id"], story_id=question.review_story_id)
    except NotFound:
        return None


@outbox_jobs.renderer(cases.HEADER)
def render_header(runtime: Runtime, args: dict[str, Any]) -> Message | None:
    """The review's header: who runs it, who is invited, its stories by name."""
    with runtime.db.reading() as session:
        review = _review_of(session, args)
        if review is None:
            return None
        result = store.outcome(session, review=review)
        invited = store.stakeholders(session, team_id=review.team_id, review_id=review.id)
    return Message(text=views.header_text(review), blocks=views.header_blocks(review, result, invited))


@outbox_jobs.renderer(cases.STORY)
def render_story(runtime: Runtime, args: dict[str, Any]) -> Message | None:
    """A story's message with its verdicts as they stand now."""
    with runtime.db.reading() as session:
        try:
            state = store.story_state(session, team_id=args["team_id"], story_id=int(args["story_id"]))
        except NotFound:
            return None
    return Message(text=views.story_text(state), blocks=views.story_blocks(state))


@outbox_jobs.renderer(cases.QUESTION)
def render_question(runtime: Runtime, args: dict[str, Any]) -> Message | None:
    """A question in its story's thread, answered or not."""
    with runtime.db.reading() as session:
        found = _question_of(session, args)
        if found is None:
            return None
        question, state = found
    blocks = views.question_blocks(question, presenter_id=state.story.presenter_id,
                                   closed=state.review.closed_at is not None)
    return Message(text=views.question_text(question), blocks=blocks)


@outbox_jobs.renderer(cases.ASKED)
def render_asked(runtime: Runtime, args: dict[str, Any]) -> Message | None:
    """The presenter's DM about a question on their story."""
    with runtime.db.reading() as session:
        found = _question_of(session, args)
        if found is None:
            return None
        question, state = found
    return Message(text=views.asked_text(question, story_label=state.result.label,
                                         channel_id=state.review.channel_id))


@outbox_jobs.renderer(cases.INVITE)
def render_invite(runtime: Runtime, args: dict[str, Any]) -> Message | None:
    """A stakeholder's DM, or the invitation in their channel, with the link to the review's header."""
    with runtime.db.reading() as session:
        review = _review_of(session, args)
        if review is None:
            return None
    try:
        link = runtime.gateway.for_team(review.team_id).permalink(channel=args["channel"], ts=args["ts"]) or None
    except SlackFailure as failure:  # the invitation still names the channel
        log.warning("no permalink for the review's invitation: %s", failure.error, extra={"team": review.team_id})
        link = None
    return Message(text=views.invite_text(review, link=link, to_channel=str(args.get("to", "")) == "channel"))


@outbox_jobs.renderer(cases.CLOSING)
def render_closing(runtime: Runtime, args: dict[str, Any]) -> Message | None:
    """What came of each story, when the review closed."""
    with runtime.db.reading() as session:
        review = _review_of(session, args)
        if review is None:
            return None
        result = store.outcome(session, review=review)
    return Message(text=views.closing_text(review, result), blocks=views.closing_blocks(review, result))


@outbox_jobs.after_sent(cases.HEADER)
def header_posted(session: Session, sent: Delivered) -> None:
    """The header is posted: now the stakeholders can be sent its link."""
    cases.header_posted(session, team_id=sent.team_id, review_id=int(sent.payload["review_id"]), channel=sent.channel,
                        ts=sent.ts, now=sent.now)


@outbox_jobs.after_sent(cases.STORY)
def story_posted(session: Session, sent: Delivered) -> None:
    """Remember where the story's message is, for the App Home's links."""
    try:
        cases.story_posted(session, team_id=sent.team_id, story_id=int(sent.payload["story_id"]), ts=sent.ts)
    except NotFound:
        return


@outbox_jobs.on_failed(cases.HEADER)
def header_refused(session: Session, failed: Undelivered) -> None:
    """A header Slack refused for good (Cadence was removed from the channel, it was archived): the review is taken
    back, so that `/review` can start it again, and its facilitator is told why."""
    review = cases.forget_unposted(session, team_id=failed.team_id, review_id=int(failed.payload["review_id"]))
    if review is None:
        return
    outbox.add(session, team_id=failed.team_id, key=cases.not_posted_key(review.id), kind="review.not_posted",
               channel=review.facilitator_id, now=failed.now,
               text=views.not_posted_text(review, error=failed.answer.error or "refused"))


def close_due_reviews(runtime: Runtime, now: datetime) -> None:
    """Reviews whose window has ended close by themselves, with their closing message (each exactly once)."""
    with runtime.db.reading() as session:
        due = store.due_to_close(session, now=now)
    for team_id, review_id in due:
        with runtime.db.transaction() as session:
            cases.close(session, team_id=team_id, review_id=review_id, by=None, now=now)


JOBS = (close_due_reviews,)
