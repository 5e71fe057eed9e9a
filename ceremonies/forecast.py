"""Will the committed work land? A seeded Monte Carlo forecast from the team's daily throughput in earlier sprints.

Method: every working day of the team's earlier sprints is one sample of how much the team finishes in a day (points,
or stories when the team does not estimate in points); days on which nothing was finished count as zeros. Each of
10,000 runs draws one sample for each working day to come, with replacement, until the committed work still open is
done. The share of runs that finish by the sprint's last day is the probability; the 50th, 85th and 95th percentile
of the finishing day are the dates. Working days skip weekends and the workspace's holidays.

Limits, said where they are shown: it assumes the coming days look like the sampled ones (same team, same kind of
work, days independent of each other); it knows nothing of people away or of stories split or re-estimated; with
fewer than two earlier sprints it does not guess.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

import numpy as np

RUNS = 10_000
MIN_SPRINTS = 2
HISTORY_SPRINTS = 6  # the last six earlier sprints: recent enough to be this team, enough days to sample
PERCENTILES = (0.50, 0.85, 0.95)
MAX_HORIZON_DAYS = 260  # a year of working days: what has not finished by then is "later than" that
DEFAULT_SEED = 14


class Unit(StrEnum):
    POINTS = "points"
    STORIES = "stories"


@dataclass(frozen=True)
class PastSprint:
    """An earlier sprint of the team: its working span and what was finished on which (local) day."""

    starts_on: date
    last_day: date  # its planned last day, or the day it ended when it ended early
    finished: tuple[tuple[date, float], ...]  # (local day, points) of each story finished in it


@dataclass(frozen=True)
class Forecast:
    """The forecast of the committed work still open, as of `today`."""

    unit: Unit
    remaining: float  # in `unit`
    days_left: int  # working days after today up to the sprint's last day
    sprints_used: int
    days_sampled: int
    probability: float | None  # None: not enough history
    dates: tuple[tuple[float, date | None], ...] = ()  # (percentile, day the work is done; None: later than a year)
    finish_days: tuple[int, ...] = ()  # runs finishing on working day 1, 2, ... after today (last: later still)
    reason: str = ""  # why there is no probability

    @property
    def enough_history(self) -> bool:
        return self.probability is not None

    def date_at(self, percentile: float) -> date | None:
        return dict(self.dates).get(percentile)


def working_days_after(day: date, count: int, holidays: frozenset[date] | set[date] = frozenset()) -> list[date]:
    """The next `count` Monday-to-Friday days after `day`, holidays skipped."""
    days: list[date] = []
    current = day
    while len(days) < count:
        current += timedelta(days=1)
        if current.weekday() < 5 and current not in holidays:
            days.append(current)
    return days


def working_days_between(start: date, end: date, holidays: frozenset[date] | set[date] = frozenset()) -> list[date]:
    """Monday-to-Friday days from `start` to `end` inclusive, holidays skipped."""
    days = []
    current = start
    while current <= end:
        if current.weekday() < 5 and current not in holidays:
            days.append(current)
        current += timedelta(days=1)
    return days


def daily_throughput(sprint: PastSprint, unit: Unit, holidays: frozenset[date] | set[date] = frozenset()
                     ) -> list[float]:
    """What the team finished on each working day of an earlier sprint (zeros included).

    Work marked done on a weekend or holiday counts for the next working day of the sprint (or its last one): it is
    the week's work, only recorded late.
    """
    days = working_days_between(sprint.starts_on, sprint.last_day, holidays)
    if not days:
        return []
    totals = dict.fromkeys(days, 0.0)
    for day, points in sprint.finished:
        target = next((d for d in days if d >= day), days[-1])
        totals[target] += points if unit is Unit.POINTS else 1.0
    return [totals[d] for d in days]


def choose_unit(past: Sequence[PastSprint], remaining_points: float, remaining_stories: int) -> Unit:
    """Points when the team estimates (points were finished before and the open work has points), else stories."""
    finished_points = sum(points for sprint in past for _day, points in sprint.finished)
    if finished_points > 0 and (remaining_points > 0 or remaining_stories == 0):
        return Unit.POINTS
    return Unit.STORIES


def forecast(
    *,
    past: Sequence[PastSprint],
    remaining_points: float,
    remaining_stories: int,
    today: date,
    last_day: date,
    holidays: Iterable[date] = (),
    runs: int = RUNS,
    seed: int = DEFAULT_SEED,
) -> Forecast:
    """The chance of finishing the open committed work by `last_day`, and the 50/85/95 % finishing dates.

    `past` are the team's earlier sprints, newest first (only the last HISTORY_SPRINTS are used). The days to go are
    the working days after `today`: what was finished today is already off the remaining work.
    """
    off = frozenset(holidays)
    used = list(past[:HISTORY_SPRINTS])
    unit = choose_unit(used, remaining_points, remaining_stories)
    remaining = remaining_points if unit is Unit.POINTS else float(remaining_stories)
    days_left = len(working_days_between(today + timedelta(days=1), last_day, off)) if last_day > today else 0
    samples = [value for sprint in used for value in daily_throughput(sprint, unit, off)]
    base = dict(unit=unit, remaining=remaining, days_left=days_left, sprints_used=len(used), days_sampled=len(samples))
    if len(used) < MIN_SPRINTS or not samples:
        earlier = f"{len(used)} earlier sprint{'s' if len(used) != 1 else ''}"
        return Forecast(**base, probability=None,
                        reason=f"not enough history: {earlier} of this team (the forecast needs {MIN_SPRINTS})")
    if remaining <= 0:
        return Forecast(**base, probability=1.0, dates=tuple((p, today) for p in PERCENTILES))
    throughput = np.asarray(samples, dtype=float)
    mean = float(throughput.mean())
    if mean <= 0:
        return Forecast(**base, probability=0.0, dates=tuple((p, None) for p in PERCENTILES),
                        finish_days=(0,) * days_left + (runs,))
    horizon = min(MAX_HORIZON_DAYS, max(days_left, 3 * math.ceil(remaining / mean) + 5))
    rng = np.random.default_rng(seed)
    draws = rng.choice(throughput, size=(runs, horizon))
    # A tolerance for sums of fractional points (0.5 + 0.5 + ...) that land a hair under the remaining work.
    reached = draws.cumsum(axis=1) >= remaining - 1e-9
    finished = reached.any(axis=1)
    finish = np.where(finished, reached.argmax(axis=1) + 1, horizon + 1)  # working day 1 = the day after today
    probability = float(np.mean(finish <= days_left))
    calendar = working_days_after(today, horizon, off)
    dates: list[tuple[float, date | None]] = []
    for percentile in PERCENTILES:
        day = int(np.quantile(finish, percentile, method="inverted_cdf"))
        dates.append((percentile, calendar[day - 1] if day <= horizon else None))
    counts = np.bincount(finish, minlength=horizon + 2)[1:]
    return Forecast(**base, probability=probability, dates=tuple(dates),
                    finish_days=tuple(int(c) for c in counts))
