"""Schedule arithmetic for anything that happens at a local wall-clock time in a person's timezone.

Every function is pure: the current time is always a parameter (timezone-aware UTC).

Daylight saving, decided deliberately:
- A local time that does not exist on a day (the clocks jump over it, e.g. 02:30 in Europe/Berlin on the last
  Sunday of March) is moved forward by the length of the jump: 02:30 becomes 03:30 local. Nobody is prompted early,
  and the prompt still arrives that day.
- A local time that happens twice (the clocks go back, e.g. 02:30 in Europe/Berlin on the last Sunday of October)
  means its first occurrence (the earlier UTC instant, `fold=0`), so it fires once and as soon as the time is read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ceremonies.errors import InvalidInput


def zone(name: str) -> ZoneInfo:
    """The IANA timezone `name`; InvalidInput when there is no such zone."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput(f"`{name[:64]}` is not a timezone I know (try an IANA name such as Europe/Berlin).") from exc


def local_instant(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The UTC instant at which local wall-clock `at` happens on `day` in `tz` (see the module docs for DST)."""
    # In a gap, fold=0 takes the offset from before the jump, which lands after the jump by exactly the gap's
    # length (02:30 → 03:30 in Europe/Berlin); in an overlap, fold=0 is the first occurrence. Both as documented.
    return datetime.combine(day, at).replace(tzinfo=tz, fold=0).astimezone(UTC)


def local_date(now: datetime, tz: ZoneInfo) -> date:
    """The calendar date at `now` in `tz`."""
    return now.astimezone(tz).date()


@dataclass(frozen=True)
class DateRange:
    """An inclusive range of days, e.g. someone's time away."""

    start: date
    end: date

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end


def is_working_day(day: date, *, weekdays: frozenset[int], holidays: Iterable[date] = (),
                   away: Iterable[DateRange] = ()) -> bool:
    """True when `day` is one of `weekdays` (Monday=0), not a holiday and not inside any away range."""
    if day.weekday() not in weekdays:
        return False
    if day in set(holidays):
        return False
    return not any(day in r for r in away)


@dataclass(frozen=True)
class DailyWindow:
    """When something opens and closes on one local date, for one person (UTC instants)."""

    local_date: date
    opens_at: datetime
    closes_at: datetime

    def is_open(self, now: datetime) -> bool:
        return self.opens_at <= now < self.closes_at


def daily_window(day: date, *, opens: time, closes: time, tz: ZoneInfo) -> DailyWindow:
    """The window on local `day`: opens at local `opens`, closes at local `closes` (the next day if not later)."""
    opens_at = local_instant(day, opens, tz)
    closes_day = day if closes > opens else day + timedelta(days=1)
    closes_at = local_instant(closes_day, closes, tz)
    if closes_at <= opens_at:  # a DST gap can push the opening past a close just after it
        closes_at = opens_at + timedelta(minutes=1)
    return DailyWindow(day, opens_at, closes_at)


def candidate_dates(now: datetime, tz: ZoneInfo) -> list[date]:
    """The local dates whose window may be open at `now`: today, and yesterday for windows that end after midnight."""
    today = local_date(now, tz)
    return [today - timedelta(days=1), today]


def open_window(now: datetime, *, opens: time, closes: time, tz: ZoneInfo) -> DailyWindow | None:
    """The window open at `now` in `tz`, if any.

    This is also the catch-up rule: after a restart, work that fell due earlier today and whose window is still
    open is due now; work from a window that has already closed never is.
    """
    for day in reversed(candidate_dates(now, tz)):
        window = daily_window(day, opens=opens, closes=closes, tz=tz)
        if window.is_open(now):
            return window
    return None
