"""The executive digest: its weekly schedule (pure arithmetic), its settings, and what it says about each team."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ceremonies.forecast import Forecast
from ceremonies.risks import OpenRisk
from ceremonies.sprint import SprintSummary

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MAX_RECIPIENTS = 20
TIMEZONE_LIMIT = 64
LINK_DAYS = 30  # a report link's life unless the settings say otherwise
RECENT_SPRINT_DAYS = 14  # a team between sprints still shows with the sprint that ended in the last two weeks
VELOCITY_SPRINTS = 6
TOP_RISKS = 3
CONVERSATION = re.compile(r"^[CGDUW][A-Z0-9]{2,31}$")


@dataclass(frozen=True)
class DigestSettings:
    """Who gets the digest, and when: a weekday and a time in a timezone."""

    channels: tuple[str, ...]
    people: tuple[str, ...]
    weekday: int  # 0 = Monday
    at: time
    timezone: str

    @property
    def recipients(self) -> tuple[str, ...]:
        return self.channels + self.people


def validate_settings(*, channels: list[str], people: list[str], weekday: str | None, at: str | None,
                      timezone: str | None) -> tuple[DigestSettings | None, dict[str, str]]:
    """The settings the modal describes, or the problems by field (recipients, weekday, time, timezone)."""
    problems: dict[str, str] = {}
    channels = list(dict.fromkeys(c for c in channels if c))
    people = list(dict.fromkeys(p for p in people if p))
    if not channels and not people:
        problems["recipients"] = "Pick at least one channel or person to send the digest to."
    elif len(channels) + len(people) > MAX_RECIPIENTS:
        problems["recipients"] = f"At most {MAX_RECIPIENTS} channels and people together."
    elif not all(CONVERSATION.match(c) for c in channels + people):
        problems["recipients"] = "Pick channels and people from the lists."
    day = int(weekday) if weekday is not None and weekday.isdigit() and int(weekday) < 7 else None
    if day is None:
        problems["weekday"] = "Pick a weekday."
    parsed_time: time | None = None
    try:
        parsed_time = time.fromisoformat(at or "")
    except ValueError:
        problems["time"] = "Pick a time, e.g. 09:00."
    zone = (timezone or "").strip()
    try:
        ZoneInfo(zone)
        if not zone or len(zone) > TIMEZONE_LIMIT:
            raise ValueError(zone)
    except (ZoneInfoNotFoundError, ValueError):
        problems["timezone"] = "Write a timezone such as Europe/Berlin or America/New_York."
    if problems or day is None or parsed_time is None:
        return None, problems
    return DigestSettings(tuple(channels), tuple(people), day, parsed_time.replace(second=0, microsecond=0), zone), {}


def next_due(*, weekday: int, at: time, timezone: str, after: datetime) -> datetime:
    """The first `weekday` at `at` local time strictly after `after`, in UTC (a time skipped by a clock change
    moves forward with the clock)."""
    zone = ZoneInfo(timezone)
    local = after.astimezone(zone)
    day = local.date() + timedelta(days=(weekday - local.weekday()) % 7)
    for _ in range(3):
        candidate = datetime.combine(day, at, tzinfo=zone).astimezone(UTC)
        if candidate > after:
            return candidate
        day += timedelta(days=7)
    raise AssertionError("unreachable: three weeks ahead is always later")


@dataclass(frozen=True)
class AgedBlockerLine:
    """An open blocker older than its team's threshold."""

    number: int
    text: str
    working_days: float


@dataclass(frozen=True)
class TeamStatus:
    """One team channel in the digest: its sprint (running, or ended in the last two weeks) and what threatens it."""

    channel_id: str
    summary: SprintSummary | None
    velocities: tuple[tuple[str, float], ...]  # (sprint, points done), oldest first
    risks: tuple[OpenRisk, ...]
    old_blockers: tuple[AgedBlockerLine, ...]
    blocker_threshold_days: int

    @property
    def forecast(self) -> Forecast | None:
        return self.summary.forecast if self.summary is not None else None

    @property
    def rank(self) -> tuple[int, str]:
        """Red teams first, then amber, green, and teams without a sprint; by channel within each."""
        order = {"red": 0, "amber": 1, "green": 2}
        status = self.summary.health.status.value if self.summary is not None else ""
        return order.get(status, 3), self.channel_id


@dataclass(frozen=True)
class Digest:
    """The week's roll-up of every team channel of a workspace."""

    team_id: str
    workspace_name: str
    as_of: datetime
    teams: tuple[TeamStatus, ...]

    def count(self, status: str) -> int:
        return sum(1 for t in self.teams if t.summary is not None and t.summary.health.status.value == status)

    @property
    def week_of(self) -> date:
        return self.as_of.date() - timedelta(days=self.as_of.weekday())
