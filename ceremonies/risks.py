"""The risk register's rules: a risk's score (likelihood × impact), what a valid risk is, when its owner reviews it,
when it goes stale, and how the register's score moved over a period.

Plain values in and out; the time is always a parameter. Storage and Slack live elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ceremonies.errors import InvalidInput, NotFound
from ceremonies.numbers import button_ids, parse_id

# Documented maximum lengths of what a risk stores.
TITLE_LIMIT = 150
DESCRIPTION_LIMIT = 2000
MITIGATION_LIMIT = 1000
NOTE_LIMIT = 500

SCALE = range(1, 6)  # likelihood and impact: 1 (rare / negligible) to 5 (almost certain / severe)
LIKELIHOOD_NAMES = {1: "rare", 2: "unlikely", 3: "possible", 4: "likely", 5: "almost certain"}
IMPACT_NAMES = {1: "negligible", 2: "minor", 3: "moderate", 4: "major", 5: "severe"}

DEFAULT_REVIEW_DAYS = 14  # the first review date a new risk proposes: one usual sprint ahead
MAX_REVIEW_DAYS = 366
REVIEW_TIME = time(9, 0)  # the owner's reminder goes out at 09:00 their time on the review date
STALE_AFTER_PERIODS = 2


class Status(StrEnum):
    """Where a risk is in its life: open until it is closed (it passed or was dealt with) or it occurred."""

    OPEN = "open"
    CLOSED = "closed"
    OCCURRED = "occurred"


class Change(StrEnum):
    """What one entry of a risk's history records."""

    RAISED = "raised"
    RESCORED = "rescored"
    MITIGATED = "mitigated"
    CLOSED = "closed"
    OCCURRED = "occurred"


class Band(StrEnum):
    """The usual 5×5 bands of a score."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class RiskNotFound(NotFound):
    def __init__(self, risk_id: int | str) -> None:
        super().__init__(f"There is no risk #{risk_id} in this workspace. `/risk` lists the open ones.")


class RiskNotOpen(InvalidInput):
    def __init__(self, risk_id: int, status: str) -> None:
        super().__init__(f"Risk #{risk_id} is already {status}; nothing changed.")


def parse_risk_id(raw: str) -> int:
    """`3` or `#3` as a risk's number, as typed."""
    return parse_id(raw, invalid="Which risk? `/risk` lists the open ones with their numbers.", missing=RiskNotFound)


def button_risk_id(value: str) -> int:
    """The risk a button (or a modal we opened) carries."""
    return button_ids(value, 1)[0]


def score(likelihood: int, impact: int) -> int:
    """A risk's score: likelihood × impact, 1 to 25."""
    return likelihood * impact


def band(value: int) -> Band:
    """The band of a score: low 1–4, medium 5–9, high 10–16, critical 20–25."""
    if value >= 20:
        return Band.CRITICAL
    if value >= 10:
        return Band.HIGH
    if value >= 5:
        return Band.MEDIUM
    return Band.LOW


# -- what a valid risk is ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Link:
    """What a risk threatens: one of the channel's open blockers or a story of its running sprint."""

    kind: str  # "blocker" or "story"
    id: int

    @classmethod
    def parse(cls, value: str | None) -> Link | None:
        kind, _, number = (value or "").partition(":")
        if kind not in ("blocker", "story") or not number.isdigit():
            return None
        return cls(kind, int(number))

    def value(self) -> str:
        return f"{self.kind}:{self.id}"


@dataclass(frozen=True)
class RiskDraft:
    """A new risk as the person described it, checked."""

    title: str
    description: str
    likelihood: int
    impact: int
    owner_id: str
    mitigation: str
    review_on: date
    link: Link | None = None


def _level(raw: str | None, name: str, problems: dict[str, str]) -> int:
    text = (raw or "").strip()
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value not in SCALE or str(value) != text.lstrip("+"):
        problems[name] = f"Pick a {name} from 1 to 5."
        return 0
    return value


def _review_day(raw: str | None, *, today: date, problems: dict[str, str]) -> date:
    try:
        day = date.fromisoformat((raw or "").strip())
    except ValueError:
        problems["review"] = "Pick the date of the next review."
        return today
    if day < today:
        problems["review"] = f"The next review can't be in the past (today is {today:%a %d %b %Y})."
    elif day > today + timedelta(days=MAX_REVIEW_DAYS):
        problems["review"] = "Review it at least once a year: pick a date within the next 12 months."
    return day


def validate_draft(*, title: str | None, description: str | None, likelihood: str | None, impact: str | None,
                   owner_id: str | None, mitigation: str | None, review_on: str | None, link: str | None,
                   today: date) -> tuple[RiskDraft | None, dict[str, str]]:
    """The risk the modal describes, or the problems by field (title, likelihood, impact, owner, review, ...)."""
    problems: dict[str, str] = {}
    clean_title = " ".join((title or "").split())
    if not clean_title:
        problems["title"] = "Give the risk a short title."
    elif len(clean_title) > TITLE_LIMIT:
        problems["title"] = f"Keep the title to {TITLE_LIMIT} characters."
    clean_description = (description or "").strip()
    if len(clean_description) > DESCRIPTION_LIMIT:
        problems["description"] = f"Keep the description to {DESCRIPTION_LIMIT} characters."
    clean_mitigation = (mitigation or "").strip()
    if len(clean_mitigation) > MITIGATION_LIMIT:
        problems["mitigation"] = f"Keep the mitigation to {MITIGATION_LIMIT} characters."
    level_l = _level(likelihood, "likelihood", problems)
    level_i = _level(impact, "impact", problems)
    if not owner_id:
        problems["owner"] = "Every risk needs an owner who reviews it."
    day = _review_day(review_on, today=today, problems=problems)
    if problems:
        return None, problems
    return RiskDraft(clean_title, clean_description, level_l, level_i, owner_id or "", clean_mitigation, day,
                     Link.parse(link)), {}


@dataclass(frozen=True)
class Rescore:
    """New scores (and the next review) for a risk."""

    likelihood: int
    impact: int
    review_on: date
    note: str


def validate_rescore(*, likelihood: str | None, impact: str | None, review_on: str | None, note: str | None,
                     today: date) -> tuple[Rescore | None, dict[str, str]]:
    """The rescoring the modal describes, or the problems by field."""
    problems: dict[str, str] = {}
    level_l = _level(likelihood, "likelihood", problems)
    level_i = _level(impact, "impact", problems)
    day = _review_day(review_on, today=today, problems=problems)
    clean_note = (note or "").strip()
    if len(clean_note) > NOTE_LIMIT:
        problems["note"] = f"Keep the note to {NOTE_LIMIT} characters."
    if problems:
        return None, problems
    return Rescore(level_l, level_i, day, clean_note), {}


@dataclass(frozen=True)
class Mitigation:
    text: str
    review_on: date


def validate_mitigation(*, text: str | None, review_on: str | None, today: date
                        ) -> tuple[Mitigation | None, dict[str, str]]:
    """The mitigation the modal describes, or the problems by field."""
    problems: dict[str, str] = {}
    clean = (text or "").strip()
    if not clean:
        problems["mitigation"] = "Say what is being done to make it less likely or less harmful."
    elif len(clean) > MITIGATION_LIMIT:
        problems["mitigation"] = f"Keep the mitigation to {MITIGATION_LIMIT} characters."
    day = _review_day(review_on, today=today, problems=problems)
    if problems:
        return None, problems
    return Mitigation(clean, day), {}


# -- reviews and staleness -------------------------------------------------------------------------------------------


def zone(timezone: str | None, default: str = "UTC") -> ZoneInfo:
    try:
        return ZoneInfo(timezone or default)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(default)


def local_day(now: datetime, timezone: str | None) -> date:
    return now.astimezone(zone(timezone)).date()


def review_moment(day: date, timezone: str | None) -> datetime:
    """When the owner's reminder for a review on `day` is due: 09:00 on that day in their timezone."""
    return datetime.combine(day, REVIEW_TIME, tzinfo=zone(timezone))


def review_period_days(*, reviewed_on: date, next_review_on: date) -> int:
    """The risk's review period: from this review to the next one, at least a day."""
    return max(1, (next_review_on - reviewed_on).days)


def default_next_review(*, today: date, period_days: int) -> date:
    """The next review a change proposes: the same period again from today."""
    return today + timedelta(days=max(1, period_days))


def stale_since(*, reviewed_at: datetime, period_days: int) -> datetime:
    """When a risk not reviewed since `reviewed_at` goes stale: after two review periods."""
    return reviewed_at + timedelta(days=max(1, period_days) * STALE_AFTER_PERIODS)


def is_stale(*, status: str, reviewed_at: datetime, period_days: int, now: datetime) -> bool:
    """An open risk nobody reviewed for two review periods."""
    return status == Status.OPEN and now >= stale_since(reviewed_at=reviewed_at, period_days=period_days)


# -- the register as plain data, and its history ----------------------------------------------------------------------


@dataclass(frozen=True)
class OpenRisk:
    """An open risk as reports show it."""

    id: int
    channel_id: str
    title: str
    likelihood: int
    impact: int
    owner_id: str
    mitigation: str
    next_review_on: date
    raised_at: datetime
    stale: bool
    threatens: str = ""  # what it is linked to, in words ("blocker #4", "story PAY-7 Refund flow")
    previous_score: int | None = None  # before its last rescoring, so that the register shows where it is going

    @property
    def score(self) -> int:
        return score(self.likelihood, self.impact)

    @property
    def band(self) -> Band:
        return band(self.score)


def by_score(risks: Iterable[OpenRisk]) -> list[OpenRisk]:
    """Highest score first; ties by age (the oldest first), then by number."""
    return sorted(risks, key=lambda r: (-r.score, r.raised_at, r.id))


def heat_counts(risks: Iterable[OpenRisk]) -> dict[tuple[int, int], int]:
    """How many risks sit in each (likelihood, impact) cell of the 5×5 grid."""
    counts: dict[tuple[int, int], int] = {}
    for risk in risks:
        counts[(risk.likelihood, risk.impact)] = counts.get((risk.likelihood, risk.impact), 0) + 1
    return counts


@dataclass(frozen=True)
class RiskEvent:
    """One entry of a risk's history: what it was after the change (and before)."""

    risk_id: int
    at: datetime
    change: str
    old_score: int | None
    new_score: int
    old_status: str | None
    new_status: str


def open_score_at(events: Iterable[RiskEvent], at: datetime) -> int:
    """The sum of the scores of the risks that were open at `at`, replayed from their history."""
    latest: dict[int, RiskEvent] = {}
    for event in sorted(events, key=lambda e: e.at):
        if event.at <= at:
            latest[event.risk_id] = event
    return sum(e.new_score for e in latest.values() if e.new_status == Status.OPEN)


@dataclass(frozen=True)
class RiskFigures:
    """The register over a sprint (or any period): for the sprint summary and the digest."""

    open: tuple[OpenRisk, ...]
    raised: int
    closed: int
    occurred: int
    score_at_start: int
    score_at_end: int
    stale: int

    @property
    def trend(self) -> int:
        """How the sum of open scores moved over the period (negative: the exposure went down)."""
        return self.score_at_end - self.score_at_start


def figures(*, open_risks: Iterable[OpenRisk], events: Iterable[RiskEvent], start: datetime, end: datetime
            ) -> RiskFigures:
    """Open risks by score, what was raised / closed / occurred in [start, end), and the open score at both ends."""
    history = list(events)
    during = [e for e in history if start <= e.at < end]
    ordered = by_score(open_risks)
    return RiskFigures(
        open=tuple(ordered),
        raised=sum(1 for e in during if e.change == Change.RAISED),
        closed=sum(1 for e in during if e.change == Change.CLOSED),
        occurred=sum(1 for e in during if e.change == Change.OCCURRED),
        score_at_start=open_score_at(history, start),
        score_at_end=open_score_at(history, end),
        stale=sum(1 for r in ordered if r.stale),
    )
