"""How one ceremony reacts to another without importing it: a ceremony announces, others listen.

The stand-up announces each recorded answer; the blocker tracker listens to open a blocker from the blocker
question. The stand-up prompt asks every registered section provider for extra blocks (the blocker tracker adds
"still blocked?" questions). Registration happens in each listener module's `register(app)`; registering the same
function twice has no effect.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from slack_sdk import WebClient

if TYPE_CHECKING:
    from bot.server.runtime import Runtime

log = logging.getLogger("cadence.hooks")

Blocks = list[dict[str, Any]]


@dataclass(frozen=True)
class StandupAnswerRecorded:
    """A participant's stand-up answer was stored (first time or edited) and posted to the report."""

    team_id: str
    channel_id: str  # the team channel the stand-up belongs to
    report_channel_id: str
    standup_id: int
    run_id: int
    answer_id: int
    user_id: str
    local_date: date
    blocker_text: str | None  # the answer to the blocker question; None when the stand-up has none
    report_thread_ts: str | None  # the day's parent message, when the report is one thread a day
    answer_permalink: str | None
    is_edit: bool


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


AnswerListener = Callable[["Runtime", WebClient, StandupAnswerRecorded], None]
PromptSection = Callable[["Runtime", PromptContext], Blocks]
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


def standup_answer_recorded(runtime: Runtime, client: WebClient, event: StandupAnswerRecorded) -> None:
    """Tell every listener; one listener's failure is logged and does not stop the others."""
    for listener in list(_answer_listeners):
        try:
            listener(runtime, client, event)
        except Exception:
            log.exception("stand-up answer listener %s failed", listener.__qualname__,
                          extra={"team": event.team_id, "channel": event.channel_id, "user": event.user_id})


def prompt_sections(runtime: Runtime, context: PromptContext) -> Blocks:
    """The extra blocks every provider adds to a stand-up prompt."""
    blocks: Blocks = []
    for provider in list(_prompt_sections):
        try:
            blocks.extend(provider(runtime, context))
        except Exception:
            log.exception("stand-up prompt section %s failed", provider.__qualname__,
                          extra={"team": context.team_id, "channel": context.channel_id, "user": context.user_id})
    return blocks
