"""How one ceremony reacts to another without importing it: a ceremony announces, others listen.

The stand-up announces each recorded answer, inside the transaction that records it; the blocker tracker listens to
open a blocker from the blocker question, writing its rows and queueing its messages (storage.outbox) in that same
transaction — a listener never calls Slack. The stand-up prompt asks every registered section provider for extra
blocks (the blocker tracker adds "still blocked?" questions), with a session to read from. Registration happens in
each listener module's `register(app)`; registering the same function twice has no effect.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from bot.server.runtime import Runtime

log = logging.getLogger("cadence.hooks")

Blocks = list[dict[str, Any]]


@dataclass(frozen=True)
class StandupAnswerRecorded:
    """A participant's stand-up answer was stored (first time or edited), and its post to the report queued."""

    team_id: str
    channel_id: str  # the team channel the stand-up belongs to
    report_channel_id: str
    standup_id: int
    run_id: int
    answer_id: int
    user_id: str
    local_date: date
    blocker_text: str | None  # the answer to the blocker question; None when the stand-up has none
    # Outbox keys (storage.outbox): a message threads under the day's parent with ref_key=report_parent_key; the
    # answer's own post is answer_key (its channel and ts, once sent: outbox.sent_message).
    report_parent_key: str | None  # None when the report is one message per answer
    answer_key: str
    is_edit: bool
    now: datetime


@dataclass(frozen=True)
class PromptContext:
    """Whom a stand-up prompt is for, so that other ceremonies can add to it."""

    team_id: str
    channel_id: str
    standup_id: int
    user_id: str
    local_date: date


@dataclass(frozen=True)
class HomeContext:
    """Whose App Home is being built, and when."""

    team_id: str
    user_id: str
    now: datetime
    # teams_of, found once per Home: several sections ask for it.
    found_teams: dict[str, frozenset[str]] = field(default_factory=dict, compare=False, repr=False)


AnswerListener = Callable[[Session, StandupAnswerRecorded], None]
PromptSection = Callable[[Session, PromptContext], Blocks]
HomeSection = Callable[["Runtime", HomeContext], Blocks]
TeamFinder = Callable[["Runtime", HomeContext], set[str]]

_answer_listeners: list[AnswerListener] = []
_prompt_sections: list[PromptSection] = []
_home_sections: list[HomeSection] = []
_team_finders: list[TeamFinder] = []


def on_standup_answer(listener: AnswerListener) -> None:
    if listener not in _answer_listeners:
        _answer_listeners.append(listener)


def add_prompt_section(provider: PromptSection) -> None:
    if provider not in _prompt_sections:
        _prompt_sections.append(provider)


def add_home_section(provider: HomeSection) -> None:
    """A ceremony's part of a person's App Home (today's stand-up, votes waiting, blockers, action items...)."""
    if provider not in _home_sections:
        _home_sections.append(provider)


def add_team_finder(finder: TeamFinder) -> None:
    """A ceremony telling which team channels a person belongs to (for the sprint health on their Home)."""
    if finder not in _team_finders:
        _team_finders.append(finder)


def home_sections(runtime: Runtime, context: HomeContext) -> Blocks:
    """Every ceremony's blocks for a person's Home, in registration order."""
    blocks: Blocks = []
    for provider in list(_home_sections):
        try:
            blocks.extend(provider(runtime, context))
        except Exception:
            log.exception("home section %s failed", provider.__qualname__,
                          extra={"team": context.team_id, "user": context.user_id})
    return blocks


def teams_of(runtime: Runtime, context: HomeContext) -> set[str]:
    """The team channels a person belongs to, by every ceremony's account."""
    if "teams" in context.found_teams:
        return set(context.found_teams["teams"])
    channels: set[str] = set()
    for finder in list(_team_finders):
        try:
            channels |= finder(runtime, context)
        except Exception:
            log.exception("team finder %s failed", finder.__qualname__,
                          extra={"team": context.team_id, "user": context.user_id})
    context.found_teams["teams"] = frozenset(channels)
    return channels


def standup_answer_recorded(session: Session, event: StandupAnswerRecorded) -> None:
    """Tell every listener, inside the answer's transaction; a failing listener's writes are undone (a savepoint)
    and logged, and neither the answer nor the other listeners are lost."""
    for listener in list(_answer_listeners):
        try:
            with session.begin_nested():
                listener(session, event)
        except Exception:
            log.exception("stand-up answer listener %s failed", listener.__qualname__,
                          extra={"team": event.team_id, "channel": event.channel_id, "user": event.user_id})


def prompt_sections(session: Session, context: PromptContext) -> Blocks:
    """The extra blocks every provider adds to a stand-up prompt, read with `session`."""
    blocks: Blocks = []
    for provider in list(_prompt_sections):
        try:
            with session.begin_nested():
                blocks.extend(provider(session, context))
        except Exception:
            log.exception("stand-up prompt section %s failed", provider.__qualname__,
                          extra={"team": context.team_id, "channel": context.channel_id, "user": context.user_id})
    return blocks


# -- the sprint review's follow-ups ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ReviewFollowUpCreated:
    """A sprint review's needs-changes note became a story of the team's next sprint. Announced inside the transaction
    that added the story, so that a connected tracker can queue the issue it creates (storage.outbox) along with it."""

    team_id: str
    channel_id: str
    review_id: int
    sprint_story_id: int
    title: str
    note: str
    by: str
    now: datetime


FollowUpListener = Callable[[Session, ReviewFollowUpCreated], None]
_follow_up_listeners: list[FollowUpListener] = []


def on_review_follow_up(listener: FollowUpListener) -> None:
    if listener not in _follow_up_listeners:
        _follow_up_listeners.append(listener)


def review_follow_up_created(session: Session, event: ReviewFollowUpCreated) -> None:
    """Tell every listener, inside the follow-up's transaction; a failing listener's writes are undone (a savepoint)
    and logged, and the follow-up is kept."""
    for listener in list(_follow_up_listeners):
        try:
            with session.begin_nested():
                listener(session, event)
        except Exception:
            log.exception("review follow-up listener %s failed", listener.__qualname__,
                          extra={"team": event.team_id, "channel": event.channel_id, "user": event.by})
