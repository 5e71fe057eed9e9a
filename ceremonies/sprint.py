"""Sprints: their commands, scope, figures across every ceremony, and the health status with its reasons."""

from __future__ import annotations

import re
import shlex
import statistics
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from ceremonies.errors import InvalidInput
from ceremonies.healthcheck import SprintSection
from ceremonies.review import ReviewOutcome
from ceremonies.risks import RiskFigures

SPRINT_NAME_LENGTH = 80
SPRINT_GOAL_LENGTH = 300
STORY_KEY_LENGTH = 40
STORY_TITLE_LENGTH = 200
MAX_SPRINT_DAYS = 60
STORY_KEY = re.compile(r"^[A-Z][A-Z0-9]{0,15}-\d{1,7}$")
QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "‘": "'", "’": "'"})


# -- commands -----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SprintPlan:
    """What `/sprint start` asked for."""

    name: str
    ends_on: date
    goal: str


def parse_start(text: str, *, today: date) -> SprintPlan:
    """Read `"Sprint 14" --until 2026-12-09 --goal "Checkout v2"`; the end date is required and after today."""
    try:
        words = shlex.split(text.translate(QUOTES))
    except ValueError as error:
        raise InvalidInput("a quote is not closed.") from error
    name_words: list[str] = []
    until: str | None = None
    goal = ""
    index = 0
    while index < len(words):
        word = words[index]
        if word in ("--until", "--goal"):
            if index + 1 >= len(words):
                raise InvalidInput(f"`{word}` needs a value.")
            value = words[index + 1]
            if word == "--until":
                until = value
            else:
                goal = value
            index += 2
            continue
        if word.startswith("--"):
            raise InvalidInput(f"I don't know the option `{word[:30]}`.")
        name_words.append(word)
        index += 1
    name = " ".join(name_words).strip()
    if not name:
        raise InvalidInput("give the sprint a name.")
    if until is None:
        raise InvalidInput("say when the sprint ends with `--until YYYY-MM-DD`.")
    ends_on = parse_day(until)
    if ends_on < today:
        raise InvalidInput(f"the end date {ends_on.isoformat()} is in the past.")
    if (ends_on - today).days > MAX_SPRINT_DAYS:
        raise InvalidInput(f"a sprint can last at most {MAX_SPRINT_DAYS} days.")
    if len(name) > SPRINT_NAME_LENGTH:
        raise InvalidInput(f"the name is longer than {SPRINT_NAME_LENGTH} characters.")
    if len(goal) > SPRINT_GOAL_LENGTH:
        raise InvalidInput(f"the goal is longer than {SPRINT_GOAL_LENGTH} characters.")
    return SprintPlan(name=name, ends_on=ends_on, goal=goal.strip())


def parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError as error:
        raise InvalidInput(f"`{text[:30]}` is not a date; write it as YYYY-MM-DD.") from error


def parse_story_key(text: str) -> str:
    """A story key such as PAY-123, upper-cased."""
    key = text.strip().upper()
    if not STORY_KEY.match(key):
        raise InvalidInput(f"`{text[:40]}` is not a story key like PAY-123.")
    return key


def parse_story_title(text: str) -> str:
    """A story's title as typed, refused when longer than what is stored."""
    title = text.strip()
    if len(title) > STORY_TITLE_LENGTH:
        raise InvalidInput(f"the story's title is longer than {STORY_TITLE_LENGTH} characters.")
    return title


@dataclass(frozen=True)
class StoryAddition:
    """`/sprint add KEY POINTS [title]`, parsed."""

    key: str
    points: float
    title: str


MAX_STORY_POINTS = 1000


def parse_story_addition(text: str) -> StoryAddition:
    """`PAY-9 3 Refund flow`: a story key, its points (½ and decimal commas allowed) and an optional title."""
    words = text.split(maxsplit=2)
    if len(words) < 2:
        raise InvalidInput("write `/sprint add KEY POINTS [title]`, e.g. `/sprint add PAY-9 3 Refund flow`.")
    key = parse_story_key(words[0])
    try:
        points = float(words[1].replace("½", ".5").replace(",", "."))
    except ValueError as error:
        raise InvalidInput(f"`{words[1][:20]}` is not a number of points.") from error
    if not 0 <= points <= MAX_STORY_POINTS:
        raise InvalidInput(f"points must be between 0 and {MAX_STORY_POINTS}.")
    return StoryAddition(key, points, parse_story_title(words[2] if len(words) > 2 else ""))


def parse_story_keys(text: str) -> list[str]:
    """`PAY-1, PAY-2`: the story keys of `/sprint done`, at least one."""
    keys = [parse_story_key(word) for word in text.replace(",", " ").split()]
    if not keys:
        raise InvalidInput("say which story is done, e.g. `/sprint done PAY-123`.")
    return keys


# -- the calendar ---------------------------------------------------------------------------------------------------
def local_day(now: datetime, timezone: str) -> date:
    """The day it is at `now` on the sprint's calendar."""
    return now.astimezone(ZoneInfo(timezone)).date()


def is_over(*, ends_on: date, timezone: str, now: datetime) -> bool:
    """A sprint is over (and ends by itself) once its last day has passed in its timezone."""
    return local_day(now, timezone) > ends_on


def days_left(*, ends_on: date, timezone: str, now: datetime) -> int:
    """Days until the sprint's last day, never below zero."""
    return max((ends_on - local_day(now, timezone)).days, 0)


# -- scope --------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Story:
    """A story in a sprint: committed at the start, or added later (scope change), maybe removed, maybe done."""

    key: str
    title: str
    points: float
    added_at: datetime
    added_by: str
    committed: bool
    removed_at: datetime | None = None
    removed_by: str | None = None
    completed_at: datetime | None = None
    completed_by: str | None = None

    @property
    def in_scope(self) -> bool:
        return self.removed_at is None


def is_scope_change(*, sprint_started_at: datetime, added_at: datetime) -> bool:
    """A story added after the sprint started changes its scope; one added before or as it starts is committed."""
    return added_at > sprint_started_at


# -- figures from the other ceremonies ------------------------------------------------------------------------------
@dataclass(frozen=True)
class ParticipationDay:
    day: date
    answered: int
    expected: int

    @property
    def rate(self) -> float:
        return self.answered / self.expected if self.expected else 0.0


@dataclass(frozen=True)
class PersonParticipation:
    user_id: str
    name: str
    answered: int
    expected: int
    late: int = 0
    skipped: int = 0
    away: int = 0

    @property
    def rate(self) -> float:
        return self.answered / self.expected if self.expected else 0.0


@dataclass(frozen=True)
class BlockerFigures:
    opened: int = 0
    resolved: int = 0
    still_open: int = 0
    median_to_unblock: timedelta | None = None
    longest_to_unblock: timedelta | None = None
    escalations: int = 0
    oldest_open_working_days: float = 0.0


@dataclass(frozen=True)
class PlanningFigures:
    stories_estimated: int = 0
    first_round_consensus: int = 0
    revotes: int = 0

    @property
    def consensus_rate(self) -> float | None:
        return self.first_round_consensus / self.stories_estimated if self.stories_estimated else None


@dataclass(frozen=True)
class RetroFigures:
    top_cards: tuple[tuple[str, int], ...] = ()
    actions_created: int = 0
    actions_done: int = 0
    actions_carried_over: int = 0
    previous_completion_rate: float | None = None


# -- health -------------------------------------------------------------------------------------------------------
class Health(StrEnum):
    GREEN = "green"
    AMBER = "amber"
    RED = "red"


# The documented health rules. Red wins over amber; every rule that fired is given as a reason.
RED_SCOPE_CHANGE = 0.20
AMBER_SCOPE_CHANGE = 0.10
RED_BLOCKER_WORKING_DAYS = 3.0
AMBER_BLOCKER_WORKING_DAYS = 1.0
RED_DONE_SHARE = 0.60
AMBER_DONE_SHARE = 0.80
AMBER_PARTICIPATION = 0.70


@dataclass(frozen=True)
class HealthVerdict:
    status: Health
    reasons: tuple[str, ...]


def health(
    *,
    committed_points: float,
    completed_points: float,
    scope_change_share: float,
    oldest_open_blocker_working_days: float,
    participation_rate: float | None,
    elapsed_share: float,
) -> HealthVerdict:
    """Green, amber or red, with the reasons that decided it.

    Rules (each is a reason when it fires):
    - red: scope changed by more than 20% of committed points;
    - red: a blocker has been open longer than 3 working days;
    - red: under 60% of the committed points expected by now are done (at the end, of all committed points);
    - amber: scope changed by more than 10%; a blocker open longer than 1 working day; under 80% of the expected
      points done; stand-up participation under 70%.
    "Expected by now" is the committed points times the share of the sprint's working days already past, so a sprint
    is not red on its first morning.
    """
    red: list[str] = []
    amber: list[str] = []
    if scope_change_share > RED_SCOPE_CHANGE:
        red.append(f"scope changed by {scope_change_share:.0%} (red above {RED_SCOPE_CHANGE:.0%})")
    elif scope_change_share > AMBER_SCOPE_CHANGE:
        amber.append(f"scope changed by {scope_change_share:.0%} (amber above {AMBER_SCOPE_CHANGE:.0%})")
    blocker_days = oldest_open_blocker_working_days
    if blocker_days > RED_BLOCKER_WORKING_DAYS:
        red.append(f"a blocker has been open {blocker_days:.1f} working days (red above {RED_BLOCKER_WORKING_DAYS:g})")
    elif blocker_days > AMBER_BLOCKER_WORKING_DAYS:
        amber.append(
            f"a blocker has been open {blocker_days:.1f} working days (amber above {AMBER_BLOCKER_WORKING_DAYS:g})"
        )
    expected = committed_points * min(max(elapsed_share, 0.0), 1.0)
    if expected > 0:
        share = completed_points / expected
        what = "committed points" if elapsed_share >= 1 else "points expected by now"
        if share < RED_DONE_SHARE:
            red.append(f"{share:.0%} of the {what} are done (red under {RED_DONE_SHARE:.0%})")
        elif share < AMBER_DONE_SHARE:
            amber.append(f"{share:.0%} of the {what} are done (amber under {AMBER_DONE_SHARE:.0%})")
    if participation_rate is not None and participation_rate < AMBER_PARTICIPATION:
        amber.append(f"stand-up participation is {participation_rate:.0%} (amber under {AMBER_PARTICIPATION:.0%})")
    if red:
        return HealthVerdict(Health.RED, tuple(red + amber))
    if amber:
        return HealthVerdict(Health.AMBER, tuple(amber))
    return HealthVerdict(Health.GREEN, ("no rule fired: scope, blockers, progress and participation are on track",))


# -- the summary --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SprintInfo:
    name: str
    goal: str
    starts_on: date
    ends_on: date
    started_at: datetime
    ended_at: datetime | None
    facilitator_id: str


@dataclass(frozen=True)
class BurnUpPoint:
    day: date
    scope: float
    done: float


@dataclass(frozen=True)
class SprintSummary:
    sprint: SprintInfo
    committed_points: float
    completed_points: float
    committed_stories: int
    completed_stories: int
    added_points: float
    removed_points: float
    scope_change_points: float
    scope_change_share: float
    velocity: float
    average_velocity: float | None
    previous_velocities: tuple[float, ...]
    participation_days: tuple[ParticipationDay, ...]
    participation_people: tuple[PersonParticipation, ...]
    participation_rate: float | None
    blockers: BlockerFigures
    planning: PlanningFigures
    retro: RetroFigures
    health: HealthVerdict
    burn_up: tuple[BurnUpPoint, ...]
    stories: tuple[Story, ...] = field(default=())
    review: ReviewOutcome | None = None  # the sprint review's outcome, when the sprint had one
    risks: RiskFigures | None = None  # the risk register over the sprint (storage.sprint_figures adds it)
    team_health: SprintSection | None = None  # the team health check of the sprint's time (storage.sprint_figures)


def working_days(start: date, end: date, holidays: set[date] | frozenset[date] = frozenset()) -> list[date]:
    """Monday-to-Friday days from `start` to `end` inclusive, holidays left out."""
    days = []
    day = start
    while day <= end:
        if day.weekday() < 5 and day not in holidays:
            days.append(day)
        day += timedelta(days=1)
    return days


def elapsed_share(sprint: SprintInfo, today: date, holidays: set[date] | frozenset[date] = frozenset()) -> float:
    """The share of the sprint's working days that are over by the end of `today` (1.0 once it ended)."""
    if sprint.ended_at is not None or today >= sprint.ends_on:
        return 1.0
    days = working_days(sprint.starts_on, sprint.ends_on, holidays)
    if not days:
        return 1.0
    return sum(1 for d in days if d <= today) / len(days)


def burn_up(stories: list[Story], *, starts_on: date, until: date) -> list[BurnUpPoint]:
    """Scope and done points at the end of each day of the sprint up to `until` (days in UTC)."""
    points = []
    day = starts_on
    while day <= until:
        end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
        scope = sum(
            s.points for s in stories if s.added_at < end and (s.removed_at is None or s.removed_at >= end)
        )
        done = sum(
            s.points
            for s in stories
            if s.completed_at is not None and s.completed_at < end and (s.removed_at is None or s.removed_at >= end)
        )
        points.append(BurnUpPoint(day, scope, done))
        day += timedelta(days=1)
    return points


def summarize(
    *,
    sprint: SprintInfo,
    stories: list[Story],
    previous_velocities: list[float],
    participation_days: list[ParticipationDay],
    participation_people: list[PersonParticipation],
    blockers: BlockerFigures,
    planning: PlanningFigures,
    retro: RetroFigures,
    today: date,
    holidays: set[date] | frozenset[date] = frozenset(),
) -> SprintSummary:
    """Every figure of the sprint report, from the sprint's stories and the other ceremonies' figures."""
    committed = [s for s in stories if s.committed]
    added = [s for s in stories if not s.committed]
    removed = [s for s in stories if s.removed_at is not None]
    committed_points = sum(s.points for s in committed)
    completed = [s for s in stories if s.in_scope and s.completed_at is not None]
    completed_points = sum(s.points for s in completed)
    added_points = sum(s.points for s in added)
    removed_points = sum(s.points for s in removed)
    scope_change = added_points + removed_points
    scope_share = scope_change / committed_points if committed_points else (1.0 if scope_change else 0.0)
    recent = previous_velocities[:3]
    expected = sum(d.expected for d in participation_days)
    participation = sum(d.answered for d in participation_days) / expected if expected else None
    verdict = health(
        committed_points=committed_points,
        completed_points=completed_points,
        scope_change_share=scope_share,
        oldest_open_blocker_working_days=blockers.oldest_open_working_days,
        participation_rate=participation,
        elapsed_share=elapsed_share(sprint, today, holidays),
    )
    last_day = min(today, sprint.ends_on)
    return SprintSummary(
        sprint=sprint,
        committed_points=committed_points,
        completed_points=completed_points,
        committed_stories=len(committed),
        completed_stories=len(completed),
        added_points=added_points,
        removed_points=removed_points,
        scope_change_points=scope_change,
        scope_change_share=scope_share,
        velocity=completed_points,
        average_velocity=statistics.fmean(recent) if recent else None,
        previous_velocities=tuple(recent),
        participation_days=tuple(participation_days),
        participation_people=tuple(participation_people),
        participation_rate=participation,
        blockers=blockers,
        planning=planning,
        retro=retro,
        health=verdict,
        burn_up=tuple(burn_up(stories, starts_on=sprint.starts_on, until=max(last_day, sprint.starts_on))),
        stories=tuple(stories),
    )
