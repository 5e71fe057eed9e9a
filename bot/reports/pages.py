"""The report pages' HTML, rendered by Jinja2 templates with autoescape on: every name, title and reason a person
typed is escaped. Pure: the figures, names and chart images come in, a page comes out."""

from __future__ import annotations

import base64
import math
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from bot.reports import charts
from bot.views import charts as sprint_charts
from bot.views import risks as risk_views
from ceremonies.digest import Digest, TeamStatus
from ceremonies.sprint import SprintSummary


@cache
def _environment() -> Environment:
    env = Environment(loader=PackageLoader("bot.reports", "templates"), autoescape=select_autoescape(["html"]),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(pts=points, pct=percent, day=day, stamp=stamp)
    return env


def points(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"


def percent(value: float | None) -> str:
    """A share as a whole percentage rounded down (the health rules read 69.9% as under 70%)."""
    return "—" if value is None else f"{math.floor(value * 100 + 1e-9)}%"


def day(value: date | None) -> str:
    return "later than a year" if value is None else f"{value:%a} {value.day} {value:%b %Y}"


def stamp(value: datetime) -> str:
    return f"{value:%a} {value.day} {value:%b %Y, %H:%M} UTC"


@dataclass(frozen=True)
class Chart:
    """An inline chart: a PNG as a data: URI, and what it shows for people who cannot see it."""

    uri: str
    alt: str

    @classmethod
    def of(cls, png: bytes, alt: str) -> Chart:
        return cls("data:image/png;base64," + base64.b64encode(png).decode(), alt)


def velocity_chart(digest: Digest, labels: dict[str, str]) -> Chart:
    teams = [(labels.get(t.channel_id, t.channel_id), [v for _n, v in t.velocities]) for t in digest.teams]
    return Chart.of(charts.velocity_trend_png(teams), charts.velocity_trend_alt(teams))


def forecast_chart(summary: SprintSummary, today: date) -> Chart | None:
    f = summary.forecast
    if f is None or not f.enough_history or f.remaining <= 0 or not f.finish_days:
        return None
    return Chart.of(charts.forecast_png(f, today=today, ends_on=summary.sprint.ends_on),
                    charts.forecast_alt(f, ends_on=summary.sprint.ends_on))


def team_view(team: TeamStatus, labels: dict[str, str], names: dict[str, str]) -> dict[str, Any]:
    return {"team": team, "s": team.summary, "label": labels.get(team.channel_id, team.channel_id),
            "velocities": team.velocities, "names": names}


def digest_page(digest: Digest, *, labels: dict[str, str], names: dict[str, str], today: date) -> str:
    """The executive digest as a page: every team's health, progress, forecast, velocity, risks, blockers."""
    teams = [team_view(t, labels, names) for t in digest.teams]
    return _environment().get_template("digest.html").render(
        digest=digest, teams=teams, velocity=velocity_chart(digest, labels), names=names,
        counts={s: digest.count(s) for s in ("red", "amber", "green")})


def sprint_page(summary: SprintSummary, *, label: str, names: dict[str, str], history: list[tuple[str, float, float]],
                today: date) -> str:
    """One sprint's report as a page: health, delivery, forecast, risks, blockers, stand-ups, planning, retro."""
    burn_up = Chart.of(sprint_charts.burn_up_png(summary), f"Burn-up of {summary.sprint.name}: "
                       f"{points(summary.committed_done_points)} of {points(summary.committed_points)} committed "
                       f"points done; stand-up participation per day beneath.")
    velocity = Chart.of(sprint_charts.velocity_png(history, title=f"{label}: velocity"),
                        f"Committed and completed points of {label}'s last sprints: "
                        + ", ".join(f"{n} {c:g}/{d:g}" for n, c, d in history)) if history else None
    open_risks = list(summary.risks.open) if summary.risks is not None else []
    heat_map = Chart.of(sprint_charts.risk_heat_map_png(risk_views.heat_map_cells(open_risks),
                                                        title=risk_views.heat_map_title(open_risks)),
                        risk_views.heat_map_alt_text(open_risks)) if open_risks else None
    return _environment().get_template("sprint.html").render(
        s=summary, label=label, names=names, burn_up=burn_up, velocity=velocity,
        forecast=forecast_chart(summary, today), heat_map=heat_map)


REFUSALS = {
    "unknown": ("404 Not Found", "This link does not work",
                "The link is not one Cadence made, or it was changed. Ask whoever sent it for a new one."),
    "revoked": ("403 Forbidden", "This link was revoked",
                "An admin of the Slack workspace withdrew this link. Ask them for a new one."),
    "expired": ("410 Gone", "This link has expired",
                "Report links last a limited time. Ask whoever sent it for a new one, or find the latest in Slack."),
    "gone": ("404 Not Found", "This report is no longer there",
             "The sprint this link pointed to was deleted."),
}


def refused_page(reason: str) -> tuple[str, str]:
    """The HTTP status and the clear page for a link that does not open its report."""
    status, title, text = REFUSALS[reason]
    return status, _environment().get_template("refused.html").render(title=title, text=text)
