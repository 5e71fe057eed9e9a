"""Sprint reports for people outside the channel: Markdown for Confluence or e-mail, CSV and JSON of the figures."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from bot.views import healthcheck as healthcheck_views
from bot.views import risks as risk_views
from ceremonies.sprint import SprintSummary


def _r(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def _hours(delta: timedelta | None) -> float | None:
    return None if delta is None else round(delta.total_seconds() / 3600, 1)


def figures(summary: SprintSummary, names: Callable[[str], str] = str) -> dict[str, Any]:
    """Every figure of the report as plain JSON-ready data."""
    s = summary.sprint
    b, p, r = summary.blockers, summary.planning, summary.retro
    return {
        "sprint": {"name": s.name, "goal": s.goal, "starts_on": s.starts_on.isoformat(),
                   "ends_on": s.ends_on.isoformat(), "ended": s.ended_at is not None},
        "health": {"status": summary.health.status.value, "reasons": list(summary.health.reasons)},
        "points": {
            "committed": summary.committed_points,
            "completed": summary.completed_points,
            "committed_stories": summary.committed_stories,
            "completed_stories": summary.completed_stories,
            "velocity": summary.velocity,
            "average_velocity_last_3": _r(summary.average_velocity),
            "previous_velocities": list(summary.previous_velocities),
        },
        "scope_change": {
            "added_points": summary.added_points,
            "removed_points": summary.removed_points,
            "points": summary.scope_change_points,
            "percent": _r(summary.scope_change_share * 100),
        },
        "standup": {
            "participation_percent": _r(None if summary.participation_rate is None else summary.participation_rate * 100),
            "days": [{"day": d.day.isoformat(), "answered": d.answered, "expected": d.expected}
                     for d in summary.participation_days],
        },
        "blockers": {
            "opened": b.opened, "resolved": b.resolved, "still_open": b.still_open,
            "median_hours_to_unblock": _hours(b.median_to_unblock),
            "longest_hours_to_unblock": _hours(b.longest_to_unblock),
            "escalations": b.escalations,
            "oldest_open_working_days": _r(b.oldest_open_working_days),
        },
        "planning": {
            "stories_estimated": p.stories_estimated,
            "first_round_consensus_percent": _r(None if p.consensus_rate is None else p.consensus_rate * 100),
            "revotes": p.revotes,
        },
        "retro": {
            "top_cards": [{"text": text, "votes": votes} for text, votes in r.top_cards],
            "actions_created": r.actions_created, "actions_done": r.actions_done,
            "actions_carried_over": r.actions_carried_over,
            "previous_completion_percent": _r(
                None if r.previous_completion_rate is None else r.previous_completion_rate * 100
            ),
        },
        "team_health": healthcheck_views.sprint_section_figures(summary.team_health),
        **_review_figures(summary, names),
        "risks": risk_views.summary_figures(summary.risks),
        "burn_up": [{"day": pt.day.isoformat(), "scope": pt.scope, "done": pt.done} for pt in summary.burn_up],
        "stories": [
            {"key": st.key, "title": st.title, "points": st.points, "committed": st.committed,
             "added_at": st.added_at.isoformat(), "added_by": names(st.added_by),
             "removed_at": _iso(st.removed_at), "completed_at": _iso(st.completed_at)}
            for st in summary.stories
        ],
    }


def _review_figures(summary: SprintSummary, names: Callable[[str], str]) -> dict[str, Any]:
    """The sprint review's outcome, when the sprint had one."""
    r = summary.review
    if r is None:
        return {}
    return {"review": {
        "closed": r.closed, "accepted": r.accepted, "needs_changes": r.needs_changes, "undecided": r.undecided,
        "questions": r.questions, "questions_open": r.questions_open, "follow_ups_created": r.follow_ups,
        "took_part": [names(p) for p in r.participants],
        "stories": [{"key": s.key, "title": s.title, "finished": s.finished, "outcome": s.outcome.value}
                    for s in r.stories],
    }}


def _review_markdown(summary: SprintSummary) -> list[str]:
    r = summary.review
    if r is None:
        return []
    lines = ["", "## Review" + ("" if r.closed else " (still open)"), "",
             f"- Accepted {r.accepted}, needs changes {r.needs_changes}, undecided {r.undecided}",
             f"- Follow-ups created for the next sprint: {r.follow_ups}",
             f"- Questions: {r.questions} ({r.questions_open} open)",
             f"- Took part: {len(r.participants)}", "", "| Story | Finished | Outcome |", "|---|---|---|"]
    names = {"accepted": "accepted", "needs_changes": "needs changes", "undecided": "undecided"}
    lines += [f"| {s.label.replace('|', '/')} | {'yes' if s.finished else 'no'} | {names[s.outcome.value]} |"
              for s in r.stories]
    return lines


def _iso(value: datetime | date | None) -> str | None:
    return None if value is None else value.isoformat()


def to_json(summary: SprintSummary, names: Callable[[str], str] = str) -> str:
    return json.dumps(figures(summary, names), indent=2, ensure_ascii=False) + "\n"


def to_csv(summary: SprintSummary, names: Callable[[str], str] = str) -> str:
    """One row per figure: section, metric, value — easy to pivot in a spreadsheet."""
    data = figures(summary, names)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["section", "metric", "value"])
    for section_name, values in data.items():
        if isinstance(values, dict):
            for metric, value in values.items():
                if isinstance(value, list):
                    value = json.dumps(value, ensure_ascii=False)
                writer.writerow([section_name, metric, "" if value is None else value])
    for point in data["burn_up"]:
        writer.writerow(["burn_up", point["day"], f"{point['scope']:g}/{point['done']:g}"])
    for story in data["stories"]:
        writer.writerow(["story", story["key"] or story["title"], story["points"]])
    return out.getvalue()


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def to_markdown(summary: SprintSummary) -> str:
    """A report that reads well pasted into Confluence or an e-mail."""
    s, b, p, r = summary.sprint, summary.blockers, summary.planning, summary.retro
    lines = [f"# {s.name}", ""]
    lines.append(f"**{s.starts_on:%a %d %b %Y} – {s.ends_on:%a %d %b %Y}**" + ("" if s.ended_at else " (in progress)"))
    if s.goal:
        lines += ["", f"**Goal:** {s.goal}"]
    lines += ["", f"## Health: {summary.health.status.value.upper()}", ""]
    lines += [f"- {reason}" for reason in summary.health.reasons]
    avg = "no earlier sprint" if summary.average_velocity is None else f"{summary.average_velocity:.1f}"
    lines += [
        "", "## Delivery", "",
        "| | |", "|---|---|",
        f"| Committed points | {summary.committed_points:g} ({summary.committed_stories} stories) |",
        f"| Completed points | {summary.completed_points:g} ({summary.completed_stories} stories) |",
        f"| Velocity | {summary.velocity:g} (average of last 3: {avg}) |",
        f"| Scope change | {summary.scope_change_points:g} points ({_pct(summary.scope_change_share)}): "
        f"+{summary.added_points:g} added, −{summary.removed_points:g} removed |",
        "", "## Stand-ups", "",
        f"Participation: {_pct(summary.participation_rate)}", "",
        "| Day | Answered | Expected |", "|---|---|---|",
    ]
    lines += [f"| {d.day:%a %d %b} | {d.answered} | {d.expected} |" for d in summary.participation_days]
    lines += [
        "", "## Blockers", "",
        f"- Opened {b.opened}, resolved {b.resolved}, still open {b.still_open}",
        f"- Time to unblock: median {_h(b.median_to_unblock)}, longest {_h(b.longest_to_unblock)}",
        f"- Escalations: {b.escalations}",
        "", "## Planning", "",
        f"- Stories estimated: {p.stories_estimated}",
        f"- Consensus on the first round: {_pct(p.consensus_rate)}",
        f"- Re-votes: {p.revotes}",
        "", "## Retro", "",
        f"- Action items: {r.actions_created} created, {r.actions_done} done, {r.actions_carried_over} carried over",
        f"- Previous retro's items done: {_pct(r.previous_completion_rate)}",
    ]
    if r.top_cards:
        lines += ["", "Top cards:", ""] + [f"1. {text} ({votes} votes)" for text, votes in r.top_cards[:5]]
    lines += healthcheck_views.sprint_section_markdown(summary.team_health)
    lines += _review_markdown(summary)
    lines += risk_views.summary_markdown(summary.risks)
    return "\n".join(lines) + "\n"


def _h(delta: timedelta | None) -> str:
    if delta is None:
        return "—"
    hours = delta.total_seconds() / 3600
    return f"{hours / 24:.1f} days" if hours >= 48 else f"{hours:.1f} hours"
