"""Planning poker's use cases: each changes the rows and queues the messages the change causes, in the caller's
transaction.

Story messages are posted and redrawn through the outbox and rendered from the current rows when they are delivered
(the renderers are in bot/jobs/poker.py), so a storm of votes becomes a few `chat.update`s of the latest state.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from ceremonies import poker
from ceremonies.errors import NotFound
from storage import outbox, trackers
from storage import poker as store
from storage import sprint as sprints

STORY = "poker.story"  # the kind of a story's first post, and the renderer of its message
STORY_REDRAW = "poker.story.redraw"
SUMMARY = "poker.summary"
PARENT = "poker.parent"
PARENT_REDRAW = "poker.parent.redraw"


def story_key(story_id: int) -> str:
    """The outbox key of a story's message in the session's thread."""
    return f"{STORY}:{story_id}"


@dataclass(frozen=True)
class Started:
    session_id: int
    first_story_id: int


@dataclass(frozen=True)
class Voted:
    """A card recorded; what the voter is told privately."""

    changed: bool  # False: the same card again (a double click or a retried delivery)
    revealed: bool
    card: str
    label: str
    channel_id: str
    parent_ts: str | None


@dataclass(frozen=True)
class Decided:
    decided: bool  # False: the story was accepted or skipped already (a double click)
    next_story_id: int | None
    session_ended: bool


def _post_story(session: Session, *, team_id: str, story_id: int, channel_id: str, parent_ts: str,
                 now: datetime) -> None:
    outbox.add(session, team_id=team_id, key=story_key(story_id), kind=STORY, channel=channel_id,
               thread_ts=parent_ts, render=STORY, args={"team_id": team_id, "story_id": story_id}, now=now)


def redraw_story(session: Session, *, team_id: str, story_id: int, now: datetime) -> None:
    """Queue a redraw of the story's message from its current state (once, however many changes come first)."""
    state = store.story_state(session, team_id=team_id, story_id=story_id)
    _redraw(session, team_id=team_id, story_id=story_id, channel_id=state.channel_id, message_ts=state.message_ts,
            now=now)


def _redraw(session: Session, *, team_id: str, story_id: int, channel_id: str, message_ts: str | None,
            now: datetime) -> None:
    # Before its message is posted there is nothing to redraw: `story_posted` redraws it once it is.
    if message_ts is None:
        return
    outbox.redraw(session, team_id=team_id, key=f"redraw:{STORY}:{story_id}", kind=STORY_REDRAW, render=STORY,
                  args={"team_id": team_id, "story_id": story_id}, channel=channel_id, ts=message_ts, now=now)


def story_posted(session: Session, *, team_id: str, story_id: int, channel_id: str, ts: str, now: datetime) -> None:
    """Remember where the story's message is, and redraw it once: a change made while it was on its way to Slack
    (after it was drawn, before its ts was stored) then shows too."""
    store.set_story_message_ts(session, team_id=team_id, story_id=story_id, ts=ts)
    state = store.story_state(session, team_id=team_id, story_id=story_id)
    if state.votes or state.round > 1 or state.status != poker.StoryStatus.VOTING:  # else it shows as drawn
        _redraw(session, team_id=team_id, story_id=story_id, channel_id=channel_id, message_ts=ts, now=now)


def start(
    session: Session,
    *,
    team_id: str,
    channel_id: str,
    facilitator_id: str,
    parent_ts: str,
    deck: poker.Deck,
    stories: Sequence[poker.StoryDraft],
    participants: Sequence[str],
    auto_reveal: bool,
    reveal_policy: poker.RevealPolicy,
    now: datetime,
) -> Started:
    """Store a session whose parent message was posted at `parent_ts`, and queue its first story in the thread."""
    created = store.create_session(
        session, team_id=team_id, channel_id=channel_id, facilitator_id=facilitator_id, deck=deck, stories=stories,
        participants=participants, auto_reveal=auto_reveal, reveal_policy=reveal_policy, now=now,
    )
    store.set_parent_ts(session, team_id=team_id, session_id=created.id, ts=parent_ts)
    first = store.stories_of(session, team_id=team_id, session_id=created.id)[0].id
    _post_story(session, team_id=team_id, story_id=first, channel_id=channel_id, parent_ts=parent_ts, now=now)
    return Started(created.id, first)


def vote(session: Session, *, team_id: str, story_id: int, round: int, user_id: str, card: str,
         now: datetime) -> Voted:
    """Record a card and redraw the story's message."""
    outcome = store.record_vote(session, team_id=team_id, story_id=story_id, round=round, user_id=user_id,
                                card=card, now=now)
    if outcome.changed:
        _redraw(session, team_id=team_id, story_id=story_id, channel_id=outcome.channel_id,
                message_ts=outcome.message_ts, now=now)
    return Voted(outcome.changed, outcome.revealed, card, outcome.label, outcome.channel_id, outcome.parent_ts)


def give_reason(session: Session, *, team_id: str, story_id: int, round: int, user_id: str, reason: str,
                now: datetime) -> None:
    """Attach a reason to the person's vote (shown after reveal) and redraw the story."""
    store.set_reason(session, team_id=team_id, story_id=story_id, round=round, user_id=user_id, reason=reason)
    redraw_story(session, team_id=team_id, story_id=story_id, now=now)


def reveal(session: Session, *, team_id: str, story_id: int, round: int, user_id: str, now: datetime) -> bool:
    """Reveal the round's votes; False when it was revealed already."""
    changed = store.reveal(session, team_id=team_id, story_id=story_id, round=round, user_id=user_id)
    if changed:
        redraw_story(session, team_id=team_id, story_id=story_id, now=now)
    return changed


def revote(session: Session, *, team_id: str, story_id: int, round: int, user_id: str, now: datetime) -> bool:
    """Start a new round of a revealed story; False when it was started already."""
    changed = store.revote(session, team_id=team_id, story_id=story_id, round=round, user_id=user_id)
    if changed:
        redraw_story(session, team_id=team_id, story_id=story_id, now=now)
    return changed


def decide(session: Session, *, team_id: str, story_id: int, round: int, user_id: str, estimate: str | None,
           now: datetime) -> Decided:
    """Accept an estimate (or skip with None): the sprint gets its points, the next story is posted, or the session
    ends with its summary."""
    decision = store.decide(session, team_id=team_id, story_id=story_id, round=round, user_id=user_id,
                            estimate=estimate, now=now)
    if not decision.decided:
        return Decided(False, None, False)
    state = store.story_state(session, team_id=team_id, story_id=story_id)
    points = state.deck.points(estimate) if estimate is not None else None
    if points is not None:
        # An accepted estimate is the sprint's: committed before it starts, a scope change after.
        sprints.add_story(session, team_id=team_id, channel_id=state.channel_id, key=state.key, title=state.title,
                          points=points, by=user_id, now=now, source="poker")
    if estimate is not None:  # a story imported from Jira or GitHub gets its estimate written back
        trackers.queue_estimate(session, team_id=team_id, story_id=story_id, estimate=estimate, now=now)
    redraw_story(session, team_id=team_id, story_id=story_id, now=now)
    if decision.next_story_id is not None:
        _post_story(session, team_id=team_id, story_id=decision.next_story_id, channel_id=state.channel_id,
                    parent_ts=state.parent_ts or "", now=now)
        return Decided(True, decision.next_story_id, False)
    return Decided(True, None, end(session, team_id=team_id, session_id=state.session_id, now=now))


def end_in_channel(session: Session, *, team_id: str, channel_id: str, user_id: str, now: datetime) -> bool:
    """`/poker end`: the facilitator ends the channel's running session."""
    running = store.open_session_in(session, team_id=team_id, channel_id=channel_id)
    if running is None:
        raise NotFound("There is no planning poker session running in this channel.")
    poker.check_is_facilitator(user_id=user_id, facilitator_id=running.facilitator_id, what="end the session")
    return end(session, team_id=team_id, session_id=running.id, now=now)


def end(session: Session, *, team_id: str, session_id: int, now: datetime) -> bool:
    """End the session once: its open stories close, the summary goes in the thread and on the parent message."""
    if not store.end_session(session, team_id=team_id, session_id=session_id, now=now):
        return False
    parent = store.get_session(session, team_id=team_id, session_id=session_id)
    for story in store.stories_of(session, team_id=team_id, session_id=session_id):
        _redraw(session, team_id=team_id, story_id=story.id, channel_id=parent.channel_id,
                message_ts=story.message_ts, now=now)
    args = {"team_id": team_id, "session_id": session_id}
    outbox.add(session, team_id=team_id, key=f"{SUMMARY}:{session_id}", kind=SUMMARY, channel=parent.channel_id,
               thread_ts=parent.parent_ts, render=SUMMARY, args=args, now=now)
    if parent.parent_ts is not None:
        outbox.redraw(session, team_id=team_id, key=f"redraw:{PARENT}:{session_id}", kind=PARENT_REDRAW,
                      render=PARENT, args=args, channel=parent.channel_id, ts=parent.parent_ts, now=now)
    return True


def queue_unposted_stories(session: Session, *, now: datetime) -> int:
    """Queue the message of every open story that has none and none waiting (e.g. one stored before the outbox
    existed); how many were queued."""
    queued = 0
    for team_id, story_id in store.unposted_stories(session):
        state = store.story_state(session, team_id=team_id, story_id=story_id)
        key_free = outbox.state_of(session, key=story_key(story_id)) is None
        if key_free and state.parent_ts is not None:
            _post_story(session, team_id=team_id, story_id=story_id, channel_id=state.channel_id,
                        parent_ts=state.parent_ts, now=now)
            queued += 1
    return queued


def story_to_accept(session: Session, *, team_id: str, story_id: int, user_id: str) -> store.StoryState:
    """The story whose estimate the facilitator is about to accept (only the facilitator may)."""
    state = store.story_state(session, team_id=team_id, story_id=story_id)
    poker.check_is_facilitator(user_id=user_id, facilitator_id=state.facilitator_id, what="accept an estimate")
    return state
