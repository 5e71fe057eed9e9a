"""Blockers as tracked items: what counts as one, who owns it, how it ages in working time, when it escalates.

Plain values in and out; the time is always a parameter. Storage and Slack live elsewhere.
"""

from __future__ import annotations

import re
import statistics
import string
from collections.abc import Iterable, Set
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ceremonies.errors import InvalidInput, NotFound
from ceremonies.numbers import parse_id

# Documented maximum lengths of what a blocker stores.
TEXT_LIMIT = 2000
NOTE_LIMIT = 1000
LINK_LIMIT = 500
TIMEZONE_LIMIT = 64

DEFAULT_THRESHOLD_DAYS = 1
MAX_THRESHOLD_DAYS = 30
DEFAULT_DIGEST_TIME = time(9, 30)
WORKING_DAY = timedelta(days=1)

NO_BLOCKER_ANSWERS = frozenset({"none", "no", "nope", "nothing", "n/a", "na", "-", "no blockers", "no blocker"})

_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_PUNCTUATION = "".join(c for c in string.punctuation if c not in "-/")


class Source(StrEnum):
    """Where a blocker was flagged."""

    STANDUP = "standup"
    COMMAND = "command"
    MESSAGE = "message"
    RISK = "risk"  # a risk of the register occurred


class Status(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class BlockerNotFound(NotFound):
    def __init__(self, blocker_id: int | str) -> None:
        super().__init__(f"There is no blocker #{blocker_id} in this workspace. `/blocker list` shows the open ones.")


class BlockerAlreadyResolved(InvalidInput):
    def __init__(self, blocker_id: int, resolved_by: str | None) -> None:
        by = f" by <@{resolved_by}>" if resolved_by else ""
        super().__init__(f"Blocker #{blocker_id} was already resolved{by}; nothing changed.")


class OwnerNotAMember(InvalidInput):
    def __init__(self, user_id: str) -> None:
        super().__init__(f"<@{user_id}> is not a member of this workspace, so they can't own a blocker. Nothing was saved.")


def says_no_blocker(answer: str | None) -> bool:
    """True when a stand-up blocker answer is empty or says there is none ("None.", "n/a", "No blockers!")."""
    if answer is None:
        return True
    words = answer.strip().lower().translate(str.maketrans("", "", _PUNCTUATION)).split()
    normalized = " ".join(words)
    if normalized in ("", *NO_BLOCKER_ANSWERS):
        return True
    # "-" and "n/a" carry the punctuation we keep; "-." or "n/a!" were already stripped of the rest.
    return normalized.strip("-/ ") == "" or normalized.replace("/", "") in NO_BLOCKER_ANSWERS


@dataclass(frozen=True)
class FlaggedText:
    """A blocker's text as typed, and the owner named in it with an @mention (the first one), if any."""

    text: str
    owner_id: str | None


def parse_blocker_text(raw: str | None) -> FlaggedText:
    """The blocker text and its owner from Slack's escaped mention form (`<@U123>` or `<@U123|name>`).

    Refuses empty and over-long text with a message saying what to do.
    """
    text = (raw or "").strip()
    if not text:
        raise InvalidInput("Tell me what is blocking you, e.g. `/blocker waiting on @dana for the API key`.")
    if len(text) > TEXT_LIMIT:
        raise InvalidInput(f"A blocker can be at most {TEXT_LIMIT} characters (yours has {len(text)}); please shorten it.")
    match = _MENTION.search(text)
    return FlaggedText(text=text, owner_id=match.group(1) if match else None)


def clean_note(raw: str | None) -> str:
    """A resolution note, stripped; refused when longer than the stored limit."""
    note = (raw or "").strip()
    if len(note) > NOTE_LIMIT:
        raise InvalidInput(f"A resolution note can be at most {NOTE_LIMIT} characters (yours has {len(note)}).")
    return note


def parse_blocker_id(raw: str) -> int:
    """`12` or `#12` as a blocker id."""
    return parse_id(raw, invalid=f"`{raw[:30]}` is not a blocker number; use the number `/blocker list` shows, e.g. "
                                 "`12`.", missing=BlockerNotFound)


def check_resolvable(*, blocker_id: int, status: str, resolved_by: str | None) -> None:
    """Refuse to resolve a blocker twice."""
    if status != Status.OPEN:
        raise BlockerAlreadyResolved(blocker_id, resolved_by)


# -- working time ---------------------------------------------------------------------------------------------------


def is_working_day(day: date, holidays: Set[date]) -> bool:
    """Monday to Friday, and not a workspace holiday."""
    return day.weekday() < 5 and day not in holidays


def working_time_between(start: datetime, end: datetime, *, holidays: Set[date], timezone: str) -> timedelta:
    """How much of [start, end) fell on working days in `timezone`: weekends and holidays do not count.

    Days are the local calendar days of the team, so a blocker flagged late on Friday ages until midnight and then
    not again until Monday. Durations are real elapsed time (a 23-hour daylight-saving day counts 23 hours).
    """
    if end <= start:
        return timedelta(0)
    zone = ZoneInfo(timezone)
    total = timedelta(0)
    day = start.astimezone(zone).date()
    last = end.astimezone(zone).date()
    while day <= last:
        if is_working_day(day, holidays):
            day_start = datetime.combine(day, time(0), zone).astimezone(UTC)
            day_end = datetime.combine(day + timedelta(days=1), time(0), zone).astimezone(UTC)
            overlap = min(end, day_end) - max(start, day_start)
            if overlap > timedelta(0):
                total += overlap
        day += timedelta(days=1)
    return total


def escalation_level(age: timedelta, *, threshold_days: int) -> int:
    """How many whole threshold steps a blocker of working age `age` has passed (0: not yet escalated)."""
    return int(age // (WORKING_DAY * threshold_days))


def next_escalation_at(created_at: datetime, *, level: int, threshold_days: int, holidays: Set[date], timezone: str,
                       max_days: int = 800) -> datetime | None:
    """When a blocker flagged at `created_at` reaches escalation step `level + 1` (its working age passes
    `(level + 1) × threshold_days` working days); None when that is more than `max_days` away."""
    target = WORKING_DAY * threshold_days * (level + 1)
    zone = ZoneInfo(timezone)
    aged = timedelta(0)
    day = created_at.astimezone(zone).date()
    for _ in range(max_days):
        if is_working_day(day, holidays):
            day_start = max(created_at, datetime.combine(day, time(0), zone).astimezone(UTC))
            day_end = datetime.combine(day + timedelta(days=1), time(0), zone).astimezone(UTC)
            if day_end > day_start:
                if aged + (day_end - day_start) >= target:
                    return day_start + (target - aged)
                aged += day_end - day_start
        day += timedelta(days=1)
    return None


def next_digest_at(now: datetime, *, settings: TrackerSettings, holidays: Set[date], max_days: int = 60
                   ) -> datetime | None:
    """The first digest moment after `now`: the digest time of the next working day (today's, if still to come)."""
    day = now.astimezone(ZoneInfo(settings.timezone)).date()
    for offset in range(max_days):
        moment = digest_moment(day + timedelta(days=offset), settings=settings)
        if moment > now and is_working_day(day + timedelta(days=offset), holidays):
            return moment
    return None


def describe_age(age: timedelta) -> str:
    """A working age a person reads at a glance: "40 min", "5 h", "2 working days 3 h"."""
    minutes = int(age.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours = minutes // 60
    if hours < 24:
        return f"{hours} h"
    days, hours = divmod(hours, 24)
    unit = "working day" if days == 1 else "working days"
    return f"{days} {unit}" + (f" {hours} h" if hours else "")


# -- settings -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrackerSettings:
    """A team channel's blocker settings."""

    threshold_days: int = DEFAULT_THRESHOLD_DAYS
    contact_id: str | None = None
    digest_time: time = DEFAULT_DIGEST_TIME
    timezone: str = "UTC"


def validate_settings(*, threshold: str, contact_id: str | None, digest_time: str | None, timezone: str
                      ) -> tuple[TrackerSettings | None, dict[str, str]]:
    """Settings from what was typed into the settings form, or the problems by field name."""
    problems: dict[str, str] = {}
    days = 0
    try:
        days = int((threshold or "").strip())
    except ValueError:
        problems["threshold"] = "Enter a whole number of working days, e.g. 1."
    else:
        if not 1 <= days <= MAX_THRESHOLD_DAYS:
            problems["threshold"] = f"Enter a number of working days from 1 to {MAX_THRESHOLD_DAYS}."
    at = DEFAULT_DIGEST_TIME
    if digest_time:
        try:
            at = time.fromisoformat(digest_time)
        except ValueError:
            problems["digest_time"] = "Pick a time of day, e.g. 09:30."
    zone = (timezone or "").strip()
    try:
        if not zone or len(zone) > TIMEZONE_LIMIT:
            raise ValueError(zone)
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        problems["timezone"] = "Enter an IANA timezone name such as Europe/Berlin or America/New_York."
    if problems:
        return None, problems
    return TrackerSettings(threshold_days=days, contact_id=contact_id or None, digest_time=at, timezone=zone), {}


def digest_day(now: datetime, *, settings: TrackerSettings, holidays: Set[date]) -> date | None:
    """The local day whose digest is due at `now`: a working day at or after the digest time; else None.

    Only today's digest is ever due, so a process that was down all morning sends today's digest when it comes back
    and never yesterday's.
    """
    local = now.astimezone(ZoneInfo(settings.timezone))
    if not is_working_day(local.date(), holidays):
        return None
    if local.time().replace(tzinfo=None) < settings.digest_time:
        return None
    return local.date()


def digest_moment(day: date, *, settings: TrackerSettings) -> datetime:
    """When `day`'s digest is due, in UTC: it lists the blockers open at that moment and still open when it is sent."""
    return datetime.combine(day, settings.digest_time, ZoneInfo(settings.timezone)).astimezone(UTC)


# -- records --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BlockerRecord:
    """What the sprint summary needs of one blocker."""

    created_at: datetime
    resolved_at: datetime | None


@dataclass(frozen=True)
class BlockerStats:
    """Blockers of one team channel over a date range [start, end).

    - `opened`: flagged in the range; `resolved`: resolved in the range;
    - `still_open`: flagged before `end` and not resolved by then (whenever flagged);
    - `median_time_to_unblock` / `longest_time_to_unblock`: working time (weekends and holidays excluded) from
      flagging to resolution, over the blockers resolved in the range; None when none were;
    - `escalations`: escalation messages sent in the range.
    """

    opened: int = 0
    resolved: int = 0
    still_open: int = 0
    median_time_to_unblock: timedelta | None = None
    longest_time_to_unblock: timedelta | None = None
    escalations: int = 0
    times_to_unblock: tuple[timedelta, ...] = field(default=(), repr=False)


def summarize(blockers: Iterable[BlockerRecord], *, start: datetime, end: datetime, escalations: int,
              holidays: Set[date], timezone: str) -> BlockerStats:
    """The sprint summary's view of the blockers of one team channel between `start` and `end`."""
    opened = resolved = still_open = 0
    durations: list[timedelta] = []
    for blocker in blockers:
        if start <= blocker.created_at < end:
            opened += 1
        if blocker.resolved_at is not None and start <= blocker.resolved_at < end:
            resolved += 1
            durations.append(working_time_between(blocker.created_at, blocker.resolved_at, holidays=holidays,
                                                  timezone=timezone))
        if blocker.created_at < end and (blocker.resolved_at is None or blocker.resolved_at >= end):
            still_open += 1
    durations.sort()
    return BlockerStats(
        opened=opened,
        resolved=resolved,
        still_open=still_open,
        median_time_to_unblock=statistics.median(durations) if durations else None,
        longest_time_to_unblock=durations[-1] if durations else None,
        escalations=escalations,
        times_to_unblock=tuple(durations),
    )
