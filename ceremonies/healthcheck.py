"""The team health check: dimensions, when rounds open, anonymous answers, and results shown only to a crowd.

A round asks each participant, per dimension, green / amber / red and whether it got better, stayed the same or got
worse since last time, plus an optional comment. Answers are kept under a keyed hash of (round, person), never the
person; results are shown only when at least `k` people answered (k-anonymity, never below three).
"""

from __future__ import annotations

import hashlib
import hmac
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import Enum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ceremonies.errors import CadenceError, InvalidInput

MIN_K = 3  # fewer answers than this could be told apart: never configurable below
MAX_K = 50
DEFAULT_K = 3
DEFAULT_WINDOW_HOURS = 24
MIN_WINDOW_HOURS, MAX_WINDOW_HOURS = 1, 168
MAX_DIMENSIONS = 15
NAME_LENGTH = 40
EXAMPLE_LENGTH = 150
COMMENT_LENGTH = 1000
MAX_PARTICIPANTS = 100
DEFAULT_TIME = time(10, 0)
DEFAULT_WEEKDAY = 4  # Friday
EVERY = timedelta(days=14)
# A mean that moved less than this between two rounds is "the same": one person changing amber to green in a team of
# eight is noise, not a trend.
TREND_STEP = 0.25
HISTORY_ROUNDS = 6  # rounds the chart shows, the latest last


class Rating(Enum):
    GREEN = "green"
    AMBER = "amber"
    RED = "red"

    @property
    def score(self) -> int:
        return {Rating.GREEN: 3, Rating.AMBER: 2, Rating.RED: 1}[self]


class Trend(Enum):
    BETTER = "better"
    SAME = "same"
    WORSE = "worse"


class Cadence(Enum):
    SPRINT_END = "sprint"  # on each sprint's last day
    BIWEEKLY = "biweekly"  # every two weeks on a weekday and time
    ON_DEMAND = "manual"  # only with `/healthcheck now`


CADENCE_LABELS = {
    Cadence.SPRINT_END: "On each sprint's last day",
    Cadence.BIWEEKLY: "Every two weeks",
    Cadence.ON_DEMAND: "On demand only (/healthcheck now)",
}


@dataclass(frozen=True)
class Dimension:
    """One thing the team rates, with what "awesome" and "crappy" look like."""

    name: str
    awesome: str = ""
    crappy: str = ""


# Spotify's squad health check model (Kniberg & Ivarsson, 2014), in its ten classic dimensions.
DEFAULT_DIMENSIONS: tuple[Dimension, ...] = (
    Dimension("Delivering value", "We deliver great stuff! We're proud of it and our stakeholders are really happy.",
              "We deliver crap. We feel ashamed to deliver it. Our stakeholders hate us."),
    Dimension("Easy to release", "Releasing is simple, safe, painless and mostly automated.",
              "Releasing is risky, painful, lots of manual work, and takes forever."),
    Dimension("Fun", "We love going to work, and have great fun working together.",
              "Boooooooring."),
    Dimension("Health of codebase", "We're proud of the quality of our code! It is clean, easy to read, and has "
              "great test coverage.", "Our code is a pile of dung, and technical debt is raging out of control."),
    Dimension("Learning", "We're learning lots of interesting stuff all the time!",
              "We never have time to learn anything."),
    Dimension("Mission", "We know exactly why we are here, and we're really excited about it.",
              "We have no idea why we are here, there's no high level picture or focus."),
    Dimension("Speed", "We get stuff done really quickly. No waiting, no delays.",
              "We never seem to get done with anything. We keep getting stuck or interrupted."),
    Dimension("Suitable process", "Our way of working fits us perfectly.",
              "Our way of working sucks."),
    Dimension("Support", "We always get great support and help when we ask for it!",
              "We keep getting stuck because we can't get the support and help that we ask for."),
    Dimension("Teamwork", "We are a totally gelled super-team with awesome collaboration!",
              "We are a bunch of individuals that neither know nor care about what the other people are doing."),
)


class HealthCheckNotFound(CadenceError):
    def __init__(self) -> None:
        super().__init__("There is no health check in this channel yet. `/healthcheck setup` creates one.")


class RoundNotFound(CadenceError):
    def __init__(self) -> None:
        super().__init__("That health check round no longer exists.")


class RoundClosed(CadenceError):
    def __init__(self) -> None:
        super().__init__("This health check round is closed; answers are no longer taken.")


class RoundAlreadyOpen(CadenceError):
    def __init__(self) -> None:
        super().__init__("A health check round is already open in this channel; it closes at the end of its window.")


class NoOpenRound(CadenceError):
    def __init__(self) -> None:
        super().__init__("No health check round is open in this channel. `/healthcheck now` opens one.")


class NotParticipant(CadenceError):
    def __init__(self) -> None:
        super().__init__("You are not among this health check's participants; its facilitator can add you.")


# -- dimensions -------------------------------------------------------------------------------------------------------
def format_dimensions(dimensions: Iterable[Dimension]) -> str:
    """Dimensions as the setup modal shows them: one a line, "Name | awesome | crappy"."""
    return "\n".join(" | ".join(part for part in (d.name, d.awesome, d.crappy)) for d in dimensions)


def parse_dimensions(text: str) -> tuple[Dimension, ...]:
    """Dimensions from lines "Name | awesome | crappy" (the examples optional); InvalidInput names the bad line."""
    dimensions: list[Dimension] = []
    seen: set[str] = set()
    for number, line in enumerate((text or "").splitlines(), 1):
        if not line.strip():
            continue
        parts = [part.strip() for part in line.split("|")]
        if len(parts) > 3:
            raise InvalidInput(f"Line {number} has more than three parts; write \"Name | awesome | crappy\".")
        name, awesome, crappy = [*parts, "", ""][:3]
        if not name:
            raise InvalidInput(f"Line {number} has no name before the first |.")
        if len(name) > NAME_LENGTH:
            raise InvalidInput(f"Line {number}: a name can have at most {NAME_LENGTH} characters.")
        if len(awesome) > EXAMPLE_LENGTH or len(crappy) > EXAMPLE_LENGTH:
            raise InvalidInput(f"Line {number}: an example can have at most {EXAMPLE_LENGTH} characters.")
        if name.casefold() in seen:
            raise InvalidInput(f"Line {number}: {name} is there twice.")
        seen.add(name.casefold())
        dimensions.append(Dimension(name, awesome, crappy))
    if not dimensions:
        raise InvalidInput("Give at least one dimension, one a line: \"Name | awesome | crappy\".")
    if len(dimensions) > MAX_DIMENSIONS:
        raise InvalidInput(f"A health check can have at most {MAX_DIMENSIONS} dimensions.")
    return tuple(dimensions)


# -- setup -------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class HealthCheckSetup:
    """A channel's health check as its facilitator set it up."""

    dimensions: tuple[Dimension, ...]
    cadence: Cadence
    participants: tuple[str, ...]
    weekday: int = DEFAULT_WEEKDAY
    local_time: time = DEFAULT_TIME
    timezone: str = "UTC"
    window_hours: int = DEFAULT_WINDOW_HOURS
    k: int = DEFAULT_K


def _whole_number(raw: str | None, *, default: int) -> int | None:
    text = (raw or "").strip()
    if not text:
        return default
    return int(text) if text.isdigit() and len(text) <= 6 else None


def validate_setup(
    *,
    dimensions_text: str,
    cadence: str | None,
    participants: Sequence[str],
    weekday: str | None,
    local_time: time | None,
    timezone: str,
    window_hours: str | None,
    k: str | None,
) -> tuple[HealthCheckSetup | None, dict[str, str]]:
    """The setup, or the problems by field (dimensions, cadence, participants, weekday, timezone, window, k)."""
    problems: dict[str, str] = {}
    dimensions: tuple[Dimension, ...] = ()
    try:
        dimensions = parse_dimensions(dimensions_text)
    except InvalidInput as problem:
        problems["dimensions"] = str(problem)
    try:
        chosen = Cadence(cadence or Cadence.ON_DEMAND.value)
    except ValueError:
        problems["cadence"] = "Pick when rounds open."
        chosen = Cadence.ON_DEMAND
    people = tuple(dict.fromkeys(p for p in participants if p))
    day = int(weekday) if weekday is not None and weekday.isdigit() and int(weekday) < 7 else None
    if day is None:
        if chosen is Cadence.BIWEEKLY:
            problems["weekday"] = "Pick the weekday rounds open on."
        day = DEFAULT_WEEKDAY
    zone = (timezone or "").strip() or "UTC"
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        problems["timezone"] = f"{zone[:64]} is not a timezone; use an IANA name such as Europe/Berlin."
    window = _whole_number(window_hours, default=DEFAULT_WINDOW_HOURS)
    if window is None or not MIN_WINDOW_HOURS <= window <= MAX_WINDOW_HOURS:
        problems["window"] = f"The window is a whole number of hours from {MIN_WINDOW_HOURS} to {MAX_WINDOW_HOURS}."
    threshold = _whole_number(k, default=DEFAULT_K)
    if threshold is None or not MIN_K <= threshold <= MAX_K:
        problems["k"] = (f"Results need at least {MIN_K} answers to stay anonymous: give a whole number from "
                         f"{MIN_K} to {MAX_K}.")
    if len(people) > MAX_PARTICIPANTS:
        problems["participants"] = f"A health check can have at most {MAX_PARTICIPANTS} participants."
    elif threshold is not None and len(people) < max(threshold, MIN_K):
        problems["participants"] = (f"Pick at least {max(threshold, MIN_K)} participants: results are shown only "
                                    f"when that many answer.")
    if problems:
        return None, problems
    assert window is not None
    assert threshold is not None
    return HealthCheckSetup(dimensions=dimensions, cadence=chosen, participants=people, weekday=day,
                            local_time=local_time or DEFAULT_TIME, timezone=zone, window_hours=window,
                            k=threshold), {}


# -- when rounds open and close ----------------------------------------------------------------------------------------
def _at(day: date, at: time, zone: ZoneInfo) -> datetime:
    # A wall time the clocks skip moves forward by the gap (fold=0 then normalised), as stand-ups do.
    local = datetime.combine(day, at, tzinfo=zone)
    return datetime.fromtimestamp(local.timestamp(), tz=zone)


def next_biweekly(*, weekday: int, local_time: time, timezone: str, after: datetime) -> datetime:
    """The first `weekday` at `local_time` (in `timezone`) strictly after `after`."""
    zone = ZoneInfo(timezone)
    local = after.astimezone(zone)
    day = local.date() + timedelta(days=(weekday - local.weekday()) % 7)
    candidate = _at(day, local_time, zone)
    if candidate <= after:
        candidate = _at(day + timedelta(days=7), local_time, zone)
    return candidate


def sprint_round_at(*, ends_on: date, local_time: time, timezone: str) -> datetime:
    """When a sprint-end round opens: the sprint's last day at the health check's time."""
    return _at(ends_on, local_time, ZoneInfo(timezone))


def next_day_at(*, local_time: time, timezone: str, after: datetime) -> datetime:
    """The next `local_time` after `after`: when a sprint-end health check looks for a sprint again."""
    zone = ZoneInfo(timezone)
    day = after.astimezone(zone).date()
    candidate = _at(day, local_time, zone)
    return candidate if candidate > after else _at(day + timedelta(days=1), local_time, zone)


@dataclass(frozen=True)
class Window:
    opens_at: datetime
    remind_at: datetime
    closes_at: datetime


def window(opens_at: datetime, hours: int) -> Window:
    """A round's window: reminders at its middle, closing at its end."""
    length = timedelta(hours=hours)
    return Window(opens_at, opens_at + length / 2, opens_at + length)


# -- answers -----------------------------------------------------------------------------------------------------------
def responder_key(secret: str, *, team_id: str, round_id: int, user_id: str) -> str:
    """The keyed hash standing for a participant in one round: it lets them change their answer and tells who has
    not answered yet, and without the server's secret it cannot be linked to them or to their other rounds."""
    message = f"healthcheck-responder\x1f{team_id}\x1f{round_id}\x1f{user_id}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Answer:
    """One person's answer: per dimension (in order) a rating and an optional trend, and an optional comment."""

    ratings: tuple[tuple[Rating, Trend | None], ...]
    comment: str = ""


def validate_answer(
    *, dimensions: int, ratings: Mapping[int, str | None], trends: Mapping[int, str | None], comment: str | None
) -> tuple[Answer | None, dict[tuple[str, int], str]]:
    """The answer, or problems by (field, dimension index): every dimension needs a rating."""
    problems: dict[tuple[str, int], str] = {}
    items: list[tuple[Rating, Trend | None]] = []
    for index in range(dimensions):
        raw = ratings.get(index)
        try:
            rating = Rating(raw)
        except ValueError:
            problems[("rating", index)] = "Pick green, amber or red."
            continue
        raw_trend = trends.get(index)
        try:
            trend = Trend(raw_trend) if raw_trend else None
        except ValueError:
            problems[("trend", index)] = "Pick better, the same or worse."
            continue
        items.append((rating, trend))
    text = (comment or "").strip()
    if len(text) > COMMENT_LENGTH:
        problems[("comment", 0)] = f"A comment can have at most {COMMENT_LENGTH} characters."
    if problems:
        return None, problems
    return Answer(tuple(items), text), {}


# -- results -----------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DimensionResult:
    """How the team rated one dimension in a round, and how that compares with the round before."""

    name: str
    green: int
    amber: int
    red: int
    better: int
    same: int
    worse: int
    previous_mean: float | None = None

    @property
    def answers(self) -> int:
        return self.green + self.amber + self.red

    @property
    def mean(self) -> float | None:
        """1 (all red) to 3 (all green)."""
        if not self.answers:
            return None
        return (3 * self.green + 2 * self.amber + self.red) / self.answers

    @property
    def trend(self) -> Trend | None:
        """Against the previous round's mean; None when there is nothing to compare with."""
        return trend_between(self.previous_mean, self.mean)


def trend_between(previous: float | None, current: float | None) -> Trend | None:
    if previous is None or current is None:
        return None
    if current - previous >= TREND_STEP:
        return Trend.BETTER
    if previous - current >= TREND_STEP:
        return Trend.WORSE
    return Trend.SAME


def colour_of(mean: float | None) -> Rating | None:
    """The colour a mean stands for: green from 2.5, red under 1.5."""
    if mean is None:
        return None
    return Rating.GREEN if mean >= 2.5 else Rating.RED if mean < 1.5 else Rating.AMBER


@dataclass(frozen=True)
class HistoryColumn:
    """One round in the dimensions × rounds grid: its label and each dimension's mean (None: not asked, or hidden)."""

    label: str
    means: Mapping[str, float | None]


@dataclass(frozen=True)
class RoundResult:
    """What a closed round shows: nothing but the count unless at least `k` people answered."""

    round_id: int
    channel_id: str
    opened_at: datetime
    closed_at: datetime | None
    answers: int
    participants: int
    k: int
    dimensions: tuple[DimensionResult, ...] = ()
    comments: tuple[str, ...] = ()
    history: tuple[HistoryColumn, ...] = ()

    @property
    def shown(self) -> bool:
        return results_shown(self.answers, self.k)


def results_shown(answers: int, k: int) -> bool:
    """k-anonymity: a round's figures and comments are shown only when at least k (never under three) answered."""
    return answers >= max(k, MIN_K)


def ordered_comments(comments: Iterable[str]) -> tuple[str, ...]:
    """Comments in an order that says nothing about who answered first: alphabetical, blanks left out."""
    return tuple(sorted((c.strip() for c in comments if c and c.strip()), key=lambda c: (c.casefold(), c)))


def aggregate(
    *,
    round_id: int,
    channel_id: str,
    opened_at: datetime,
    closed_at: datetime | None,
    participants: int,
    k: int,
    dimensions: Sequence[str],
    answers: Sequence[Answer],
    previous_means: Mapping[str, float | None] | None = None,
    history: Sequence[HistoryColumn] = (),
) -> RoundResult:
    """A round's result. Below k answers it carries the count only: no distribution, no comment, no history."""
    if not results_shown(len(answers), k):
        return RoundResult(round_id, channel_id, opened_at, closed_at, len(answers), participants, k)
    previous = previous_means or {}
    results = []
    for index, name in enumerate(dimensions):
        given = [a.ratings[index] for a in answers if index < len(a.ratings)]
        ratings = [r for r, _t in given]
        trends = [t for _r, t in given if t is not None]
        results.append(DimensionResult(
            name=name,
            green=ratings.count(Rating.GREEN), amber=ratings.count(Rating.AMBER), red=ratings.count(Rating.RED),
            better=trends.count(Trend.BETTER), same=trends.count(Trend.SAME), worse=trends.count(Trend.WORSE),
            previous_mean=previous.get(name),
        ))
    return RoundResult(round_id, channel_id, opened_at, closed_at, len(answers), participants, k, tuple(results),
                       ordered_comments(a.comment for a in answers), tuple(history))


def means(answers: Sequence[Answer], dimensions: Sequence[str], k: int) -> dict[str, float | None]:
    """Each dimension's mean score in a round; empty when the round had fewer than k answers (nothing to show)."""
    if not results_shown(len(answers), k):
        return {}
    found: dict[str, float | None] = {}
    for index, name in enumerate(dimensions):
        scores = [a.ratings[index][0].score for a in answers if index < len(a.ratings)]
        found[name] = statistics.fmean(scores) if scores else None
    return found


@dataclass(frozen=True)
class SprintSection:
    """The health check in a sprint's report: the latest round of its time, closed (its result) or still open."""

    result: RoundResult | None  # None while the round is open
    open_until: datetime | None
    answers: int
    participants: int
