"""Charts as PNG bytes, drawn with matplotlib's object API (no pyplot global state, safe in threads)."""

from __future__ import annotations

import io

from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from ceremonies.risks import IMPACT_NAMES, LIKELIHOOD_NAMES, band, score
from ceremonies.sprint import SprintSummary

CHART_SIZE_INCHES = (10, 6)
CHART_DPI = 100  # 1000 x 600 pixels
SCOPE_COLOUR = "#7a7f87"
DONE_COLOUR = "#2eb67d"
PARTICIPATION_COLOUR = "#36c5f0"


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=CHART_DPI)
    return buffer.getvalue()


def burn_up_png(summary: SprintSummary) -> bytes:
    """Burn-up of points through the sprint, with daily stand-up participation beneath it."""
    figure = Figure(figsize=CHART_SIZE_INCHES, layout="constrained")
    top, bottom = figure.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    days = [p.day for p in summary.burn_up]
    top.step(days, [p.scope for p in summary.burn_up], where="post", color=SCOPE_COLOUR, label="scope")
    top.step(days, [p.done for p in summary.burn_up], where="post", color=DONE_COLOUR, linewidth=2.5, label="done")
    top.axhline(summary.committed_points, color=SCOPE_COLOUR, linestyle=":", linewidth=1, label="committed")
    top.set_ylabel("points")
    top.set_title(f"{summary.sprint.name} — burn-up · health {summary.health.status.value}")
    top.legend(loc="upper left")
    top.grid(alpha=0.3)
    rates = {d.day: d.rate * 100 for d in summary.participation_days}
    bottom.bar(days, [rates.get(day, 0) for day in days], color=PARTICIPATION_COLOUR, width=0.6)
    bottom.set_ylim(0, 100)
    bottom.set_ylabel("stand-up %")
    bottom.grid(axis="y", alpha=0.3)
    for label in bottom.get_xticklabels():
        label.set_rotation(30)
        label.set_horizontalalignment("right")
    return _png(figure)


def velocity_png(history: list[tuple[str, float, float]], *, title: str = "Velocity") -> bytes:
    """Committed and completed points per sprint, oldest first."""
    figure = Figure(figsize=CHART_SIZE_INCHES, layout="constrained")
    axes = figure.subplots()
    names = [name for name, _c, _d in history]
    positions = range(len(history))
    axes.bar([p - 0.2 for p in positions], [c for _n, c, _d in history], width=0.4, color=SCOPE_COLOUR,
             label="committed")
    axes.bar([p + 0.2 for p in positions], [d for _n, _c, d in history], width=0.4, color=DONE_COLOUR,
             label="completed")
    axes.set_xticks(list(positions), names, rotation=45, ha="right")
    axes.set_ylabel("points")
    axes.set_title(title)
    axes.legend()
    axes.grid(axis="y", alpha=0.3)
    return _png(figure)


# -- the risk register's heat map (issue 18) ------------------------------------------------------------------------
HEAT_MAP_SIZE_INCHES = (10, 8)  # 1000 x 800 pixels
BAND_COLOURS = {"low": "#2eb67d", "medium": "#ecb22e", "high": "#f2952f", "critical": "#e01e5a"}


def risk_heat_map_png(cells: dict[tuple[int, int], list[int]], *, title: str) -> bytes:
    """The 5×5 grid of likelihood (up) by impact (across), each cell coloured by its band, with the numbers of the
    open risks in it."""
    figure = Figure(figsize=HEAT_MAP_SIZE_INCHES, layout="constrained")
    axes = figure.subplots()
    for likelihood in range(1, 6):
        for impact in range(1, 6):
            ids = cells.get((likelihood, impact), [])
            colour = BAND_COLOURS[band(score(likelihood, impact)).value]
            axes.add_patch(Rectangle((impact - 0.5, likelihood - 0.5), 1, 1, facecolor=colour,
                                     alpha=0.9 if ids else 0.25, edgecolor="white", linewidth=3))
            label = ", ".join(f"#{i}" for i in ids[:4]) + (f" +{len(ids) - 4}" if len(ids) > 4 else "")
            axes.text(impact, likelihood + 0.12, str(len(ids)) if ids else "", ha="center", va="center",
                      fontsize=22, fontweight="bold", color="#1d1c1d")
            axes.text(impact, likelihood - 0.22, label, ha="center", va="center", fontsize=9, color="#1d1c1d",
                      wrap=True)
    axes.set_xlim(0.5, 5.5)
    axes.set_ylim(0.5, 5.5)
    axes.set_xticks(range(1, 6), [f"{n}\n{IMPACT_NAMES[n]}" for n in range(1, 6)])
    axes.set_yticks(range(1, 6), [f"{LIKELIHOOD_NAMES[n]} {n}" for n in range(1, 6)])
    axes.set_xlabel("impact")
    axes.set_ylabel("likelihood")
    axes.set_title(title)
    axes.set_aspect("auto")
    return _png(figure)
