"""Sprint messages: status, the summary report, and the per-person participation for the facilitator."""

from __future__ import annotations

from datetime import date, timedelta

from bot.views import healthcheck as healthcheck_views
from bot.views import risks as risk_views
from bot.views.common import Block, button, context, divider, escape, fallback_text, fit_message, header, section
from ceremonies.sprint import Health, SprintInfo, SprintSummary, Story

DONE_ACTION = "sprint.done"
HEALTH_ICON = {Health.GREEN: ":large_green_circle:", Health.AMBER: ":large_orange_circle:", Health.RED: ":red_circle:"}


def points(value: float) -> str:
    return f"{value:g}"


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def day_label(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b}"


def hours(delta: timedelta | None) -> str:
    if delta is None:
        return "—"
    total = delta.total_seconds() / 3600
    return f"{total / 24:.1f} d" if total >= 48 else f"{total:.1f} h"


def story_label(story: Story) -> str:
    name = " ".join(part for part in (story.key, escape(story.title)) if part)
    return name or "(untitled)"


def started_blocks(sprint: SprintInfo, stories: list[Story]) -> list[Block]:
    committed = sum(s.points for s in stories)
    lines = [f"*{escape(sprint.name)}* started · until {day_label(sprint.ends_on)}"]
    if sprint.goal:
        lines.append(f"Goal: {escape(sprint.goal)}")
    lines.append(f"{len(stories)} committed stories · {points(committed)} points")
    return [section("\n".join(lines)), context("`/sprint` shows progress · `/sprint done KEY` marks a story done")]


def started_text(sprint: SprintInfo) -> str:
    return fallback_text(f"{escape(sprint.name)} started")


def summary_text(summary: SprintSummary) -> str:
    """The notification text of a status or summary: the sprint and its health."""
    return fallback_text(f"{escape(summary.sprint.name)}: health {summary.health.status.value}")


def participation_text(summary: SprintSummary) -> str:
    return fallback_text(f"{escape(summary.sprint.name)}: stand-up participation per person")


def chart_filename(summary: SprintSummary) -> str:
    return f"{summary.sprint.name.replace(' ', '-').lower()}-burn-up.png"


def chart_title(summary: SprintSummary) -> str:
    return f"{summary.sprint.name} burn-up"


def chart_alt_text(summary: SprintSummary) -> str:
    """What the burn-up chart shows, for screen readers."""
    return (f"Burn-up of {summary.sprint.name}: {points(summary.completed_points)} of "
            f"{points(summary.committed_points)} committed points done, health {summary.health.status.value}; "
            f"stand-up participation per day beneath.")[:1000]


def no_sprint_text() -> str:
    return ('No sprint is running in this channel. Start one with '
            '`/sprint start "Sprint 1" --until YYYY-MM-DD --goal "…"`.')


def ended_text(name: str) -> str:
    return f"{escape(name)} ended. Its summary and burn-up chart are on their way to the channel."


def report_queued_text(name: str) -> str:
    return f"The summary of {escape(name)} so far is on its way to the channel."


def done_text(keys: list[str], total: float) -> str:
    return f":white_check_mark: {escape(', '.join(keys))} done ({points(total)} points)."


def added_text(key: str, story_points: float, *, committed: bool) -> str:
    return f"{escape(key)} added ({points(story_points)} points, {'committed' if committed else 'a scope change'})."


def removed_text(key: str, story_points: float) -> str:
    return f"{escape(key)} removed from the sprint ({points(story_points)} points of scope change)."


def report_undelivered_text(name: str, channel_id: str, error: str) -> str:
    """To the facilitator when Slack would not take a sprint's summary in its channel."""
    return (f":warning: I could not post the summary of {escape(name)} in <#{channel_id}> ({error}). Invite me to the "
            f"channel, then `/sprint summary` there, or `cadence report` for the figures.")


def status_blocks(summary: SprintSummary, *, days_left: int) -> list[Block]:
    """The running sprint for the person who asked: figures, health and the open stories with Done buttons."""
    sprint = summary.sprint
    blocks = [
        header(f"{sprint.name} · {days_left} day{'s' if days_left != 1 else ''} left"),
        section(_headline(summary)),
        section(_health(summary)),
    ]
    open_stories = [s for s in summary.stories if s.in_scope and s.completed_at is None]
    if open_stories:
        blocks.append(divider())
    for story in open_stories[:40]:
        blocks.append(
            section(
                f"{story_label(story)} · {points(story.points)} pts",
                accessory=button("Done", DONE_ACTION, story.key or story.title, style="primary") if story.key else None,
            )
        )
    return fit_message(blocks)


def summary_blocks(summary: SprintSummary) -> list[Block]:
    """The sprint report posted to the team channel (no per-person figures: those go to the facilitator)."""
    sprint = summary.sprint
    title = f"{sprint.name} · {'summary' if sprint.ended_at else 'so far'}"
    blocks = [header(title), section(_headline(summary)), section(_health(summary))]
    participation = "\n".join(
        f"{day_label(d.day)}: {d.answered}/{d.expected} ({percent(d.rate)})" for d in summary.participation_days
    )
    blocks.append(
        section(f"*Stand-up participation* · {percent(summary.participation_rate)}\n{participation or 'No stand-ups.'}")
    )
    b = summary.blockers
    blocks.append(
        section(
            f"*Blockers* · {b.opened} opened · {b.resolved} resolved · {b.still_open} still open\n"
            f"Time to unblock: median {hours(b.median_to_unblock)}, longest {hours(b.longest_to_unblock)} · "
            f"{b.escalations} escalation{'s' if b.escalations != 1 else ''}"
        )
    )
    p = summary.planning
    blocks.append(
        section(
            f"*Planning* · {p.stories_estimated} stories estimated · consensus on the first round "
            f"{percent(p.consensus_rate)} · {p.revotes} re-vote{'s' if p.revotes != 1 else ''}"
        )
    )
    if (team_health := healthcheck_views.sprint_section_text(summary.team_health)) is not None:
        blocks.append(section(team_health))
    r = summary.retro
    top = "\n".join(f"• {escape(text)} ({votes} vote{'s' if votes != 1 else ''})" for text, votes in r.top_cards[:5])
    blocks.append(
        section(
            f"*Retro* · action items {r.actions_created} created, {r.actions_done} done, "
            f"{r.actions_carried_over} carried over · previous retro's items done {percent(r.previous_completion_rate)}"
            + (f"\n{top}" if top else "")
        )
    )
    blocks.extend(_review(summary))
    blocks.extend(risk_views.summary_section(summary.risks))
    return fit_message(blocks)


def _review(summary: SprintSummary) -> list[Block]:
    """The sprint review's outcome, when the sprint had one."""
    review = summary.review
    if review is None:
        return []
    state = "" if review.closed else " (still open)"
    line = (f"{review.accepted} accepted · {review.needs_changes} need changes · {review.undecided} undecided · "
            f"{review.follow_ups} follow-up{'s' if review.follow_ups != 1 else ''} created · "
            f"{review.questions_open} of {review.questions} questions open · {len(review.participants)} took part")
    return [section(f"*Review*{state} · {line}")]


def _headline(summary: SprintSummary) -> str:
    sprint = summary.sprint
    lines = [f"*{escape(sprint.name)}* · {day_label(sprint.starts_on)} – {day_label(sprint.ends_on)}"]
    if sprint.goal:
        lines.append(f"Goal: {escape(sprint.goal)}")
    lines.append(
        f"Points: {points(summary.completed_points)} of {points(summary.committed_points)} committed done "
        f"({summary.completed_stories} of {summary.committed_stories} committed stories)"
    )
    if summary.average_velocity is not None:
        lines.append(
            f"Velocity {points(summary.velocity)} vs {points(round(summary.average_velocity, 1))} average of the last "
            f"{len(summary.previous_velocities)} sprint{'s' if len(summary.previous_velocities) != 1 else ''}"
        )
    else:
        lines.append(f"Velocity {points(summary.velocity)} (no earlier sprint to compare)")
    lines.append(
        f"Scope change: {points(summary.scope_change_points)} points ({percent(summary.scope_change_share)}) — "
        f"+{points(summary.added_points)} added, −{points(summary.removed_points)} removed"
    )
    return "\n".join(lines)


def _health(summary: SprintSummary) -> str:
    verdict = summary.health
    reasons = "\n".join(f"• {reason}" for reason in verdict.reasons)
    return f"{HEALTH_ICON[verdict.status]} *Health: {verdict.status.value}*\n{reasons}"


def participation_blocks(summary: SprintSummary) -> list[Block]:
    """Per-person stand-up participation, for the facilitator only."""
    people = sorted(summary.participation_people, key=lambda p: (p.rate, p.name))
    lines = [
        f"<@{p.user_id}>: {p.answered}/{p.expected} ({percent(p.rate)})"
        + (f" · {p.late} late" if p.late else "")
        + (f" · {p.away} away" if p.away else "")
        for p in people
    ]
    blocks = [section(f"*{escape(summary.sprint.name)}* · stand-up participation per person (only you see this)")]
    for start in range(0, len(lines), 40):
        blocks.append(section("\n".join(lines[start : start + 40])))
    if not lines:
        blocks.append(section("No stand-up answers were expected in this sprint."))
    return fit_message(blocks)


HOME_SPRINTS = 8


def home_blocks(summaries: list[tuple[str, SprintSummary]]) -> list[Block]:
    """One line per team with a running sprint, for the person's Home tab."""
    if not summaries:
        return []
    blocks = [divider(), section("*Sprints*")]
    for channel_id, summary in summaries[:HOME_SPRINTS]:
        verdict = summary.health
        blocks.append(
            section(
                f"{HEALTH_ICON[verdict.status]} <#{channel_id}> *{escape(summary.sprint.name)}* · "
                f"health {verdict.status.value} · {points(summary.completed_points)}/"
                f"{points(summary.committed_points)} points done · ends {day_label(summary.sprint.ends_on)}\n"
                f"_{verdict.reasons[0]}_"
            )
        )
    if len(summaries) > HOME_SPRINTS:
        blocks.append(context(f"…and {len(summaries) - HOME_SPRINTS} more teams: `/sprint` in their channels."))
    return blocks
