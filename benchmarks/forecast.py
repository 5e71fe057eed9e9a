"""The sprint forecast's cost (issue 18): the 10,000-run Monte Carlo and the report pages' two charts.

    .venv/bin/python -m benchmarks.forecast

Six earlier sprints of ten working days each (60 daily samples of 0-8 points), mid-sprint with 5 working days left:
- `ceremonies.forecast.forecast(...)` for 20, 60 and 400 open points (the last runs to the longest horizon),
  median of 20 calls;
- `bot.reports.charts.forecast_png` and `velocity_trend_png` for 20 teams, median of 5.
Every `/sprint`, Home and summary of a running sprint pays the forecast once.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from datetime import date, timedelta

from bot.reports import charts
from ceremonies import forecast as fc


def median_ms(function: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    rng = random.Random(18)
    past = []
    start = date(2026, 9, 7)
    for _ in range(6):
        days = fc.working_days_between(start, start + timedelta(days=13))
        past.append(fc.PastSprint(days[0], days[-1], tuple((d, float(rng.choice((0, 1, 2, 3, 5, 8)))) for d in days)))
        start += timedelta(days=14)
    today, last = date(2026, 12, 7), date(2026, 12, 14)
    for remaining in (20, 60, 400):
        ms = median_ms(lambda r=remaining: fc.forecast(past=past, remaining_points=r, remaining_stories=5,
                                                         today=today, last_day=last), 20)
        result = fc.forecast(past=past, remaining_points=remaining, remaining_stories=5, today=today, last_day=last)
        print(f"forecast, {remaining:>3} points open: {ms:6.1f} ms (probability {result.probability:.0%}, "
              f"horizon {len(result.finish_days) - 1} working days)")
    result = fc.forecast(past=past, remaining_points=20, remaining_stories=5, today=today, last_day=last)
    print(f"forecast chart: {median_ms(lambda: charts.forecast_png(result, today=today, ends_on=last), 5):.0f} ms")
    teams = [(f"#team-{i}", [rng.uniform(10, 40) for _ in range(6)]) for i in range(20)]
    print(f"velocity trend, 20 teams: {median_ms(lambda: charts.velocity_trend_png(teams), 5):.0f} ms")


if __name__ == "__main__":
    main()
