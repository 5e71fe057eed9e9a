"""Sprints on their own: they end after their last day, and their reports (summary, burn-up chart, the facilitator's
per-person figures) are drawn when the outbox delivers them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.jobs import outbox as outbox_jobs
from bot.jobs.outbox import Message, Undelivered
from bot.reports.links import sprint_page_url
from bot.server.runtime import Runtime
from bot.views import charts
from bot.views import sprint as views
from ceremonies.sprint import SprintSummary
from storage import outbox, sprint_figures
from storage import sprint as store


def end_overdue_sprints(runtime: Runtime, now: datetime) -> None:
    """Sprints whose last day is over in their timezone end by themselves, with their report (each exactly once)."""
    with runtime.db.transaction() as session:  # a claim (storage.due), so a write
        due = store.overdue_sprints(session, now=now)
    for sprint_id in due:
        with runtime.db.transaction() as session:
            store.end_sprint(session, sprint_id=sprint_id, by=store.AUTO_END_BY, now=now)


JOBS = (end_overdue_sprints,)


def _figures(runtime: Runtime, args: dict[str, Any]) -> SprintSummary | None:
    with runtime.db.reading() as session:
        return sprint_figures.report(session, sprint_id=int(args["sprint_id"]), at=datetime.fromisoformat(args["at"]))


@outbox_jobs.renderer(store.SUMMARY)
def render_summary(runtime: Runtime, args: dict[str, Any]) -> Message | None:
    """The sprint report in the team channel."""
    summary = _figures(runtime, args)
    if summary is None:
        return None
    url = sprint_page_url(runtime, sprint_id=int(args["sprint_id"]), by=store.AUTO_END_BY)
    return Message(text=views.summary_text(summary), blocks=views.summary_blocks(summary, page_url=url))


@outbox_jobs.renderer(store.CHART)
def render_chart(runtime: Runtime, args: dict[str, Any]) -> Message | None:
    """The burn-up chart, shared in the summary's thread."""
    summary = _figures(runtime, args)
    if summary is None:
        return None
    return Message(content=charts.burn_up_png(summary), filename=views.chart_filename(summary),
                   title=views.chart_title(summary), alt_text=views.chart_alt_text(summary))


@outbox_jobs.renderer(store.PARTICIPATION)
def render_participation(runtime: Runtime, args: dict[str, Any]) -> Message | None:
    """Per-person stand-up participation, in the facilitator's DM."""
    summary = _figures(runtime, args)
    if summary is None:
        return None
    return Message(text=views.participation_text(summary), blocks=views.participation_blocks(summary))


@outbox_jobs.on_failed(store.SUMMARY)
def tell_facilitator(session: Any, failed: Undelivered) -> None:
    """A summary Slack would not take (the app left the channel, it was archived): the facilitator hears why."""
    sprint = store.sprint_by_id(session, sprint_id=int(failed.payload["sprint_id"]))
    if sprint is None:
        return
    outbox.add(session, team_id=failed.team_id, key=f"sprint.undelivered:{failed.key}", kind="sprint.undelivered",
               channel=sprint.started_by, now=failed.now,
               text=views.report_undelivered_text(sprint.name, sprint.channel_id, failed.answer.error or "refused"))
