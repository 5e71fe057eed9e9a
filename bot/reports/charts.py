"""The digest's and the report pages' charts as PNG bytes (matplotlib's object API, no global state): the velocity
trend across teams and the forecast's distribution. 1000 px wide; each has its alt text beside it."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date

from matplotlib.figure import Figure

from ceremonies.forecast import Forecast, working_days_after

SIZE_INCHES = (10, 5)
DPI = 100  # 1000 x 500 pixels
DONE_COLOUR = "#2eb67d"
LATE_COLOUR = "#e01e5a"
LINE_COLOUR = "#7a7f87"


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def velocity_trend_png(teams: Sequence[tuple[str, Sequence[float]]]) -> bytes:
    """Points done in each team's last sprints (oldest left, the latest at the right), one line per team."""
    figure = Figure(figsize=SIZE_INCHES, layout="constrained")
    axes = figure.subplots()
    longest = max((len(values) for _label, values in teams), default=0)
    for label, values in teams:
        if not values:
            continue
        positions = list(range(longest - len(values), longest))
        axes.plot(positions, list(values), marker="o", linewidth=2, label=label)
    labels = [("latest" if i == longest - 1 else f"{longest - 1 - i} before") for i in range(longest)]
    axes.set_xticks(list(range(longest)), labels)
    axes.set_ylabel("points done per sprint")
    axes.set_ylim(bottom=0)
    axes.set_title("Velocity trend across teams")
    axes.grid(alpha=0.3)
    if teams and longest:
        axes.legend(loc="upper left", fontsize="small")
    else:
        axes.text(0.5, 0.5, "No sprints yet", ha="center", va="center", transform=axes.transAxes)
    return _png(figure)


def velocity_trend_alt(teams: Sequence[tuple[str, Sequence[float]]]) -> str:
    """What the velocity trend shows, for screen readers."""
    parts = [f"{label}: " + ", ".join(f"{v:g}" for v in values) for label, values in teams if values]
    return ("Velocity trend across teams, points done in each of the last sprints, oldest first. "
            + ("; ".join(parts) if parts else "No sprints yet."))[:1000]


def forecast_png(forecast: Forecast, *, today: date, ends_on: date) -> bytes:
    """How many of the 10,000 runs finish on each working day, with the sprint's last day marked."""
    figure = Figure(figsize=SIZE_INCHES, layout="constrained")
    axes = figure.subplots()
    counts = list(forecast.finish_days)
    days = working_days_after(today, len(counts))
    shown = max((i for i, c in enumerate(counts) if c), default=0) + 1
    runs = sum(counts) or 1
    colours = [DONE_COLOUR if day <= ends_on else LATE_COLOUR for day in days[:shown]]
    axes.bar(range(shown), [100 * c / runs for c in counts[:shown]], color=colours)
    axes.set_xticks(list(range(shown)), [f"{d:%a %d %b}" for d in days[:shown]], rotation=45, ha="right")
    axes.set_ylabel("% of simulated runs finishing that day")
    chance = forecast.probability or 0.0
    axes.set_title(f"Forecast: {chance:.0%} chance of finishing by {ends_on:%a %d %b} (green: by then)")
    axes.grid(axis="y", alpha=0.3)
    return _png(figure)


def forecast_alt(forecast: Forecast, *, ends_on: date) -> str:
    dates = ", ".join(f"{p:.0%} by {d:%a %d %b}" if d else f"{p:.0%} later than a year" for p, d in forecast.dates)
    return (f"Forecast distribution: {(forecast.probability or 0):.0%} of 10,000 simulated runs finish the "
            f"{forecast.remaining:g} open committed {forecast.unit.value} by {ends_on:%a %d %b}; {dates}.")[:1000]
