"""Health checks on their own: rounds open on schedule, reminders go out at a window's middle and results at its end
(each exactly once, found by indexed times); and the outbox's renderers for everything a round sends."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.jobs import outbox as outbox_jobs
from bot.jobs.outbox import Message, Undelivered
from bot.server.runtime import Runtime
from bot.views import healthcheck as views
from ceremonies import healthcheck as domain
from storage import healthcheck as store
from storage import outbox


def open_scheduled_rounds(runtime: Runtime, now: datetime) -> None:
    """Open the rounds whose time has come (every two weeks, or a sprint's last day): one transaction each."""
    with runtime.db.reading() as session:
        due = store.due_checks(session, now=now)
    for team_id, check_id in due:
        with runtime.db.transaction() as session:
            store.open_scheduled(session, team_id=team_id, check_id=check_id, now=now)


def remind_at_half_time(runtime: Runtime, now: datetime) -> None:
    """Remind those who have not answered, once, at the middle of the window."""
    with runtime.db.reading() as session:
        due = store.due_reminders(session, now=now)
    for team_id, round_id in due:
        with runtime.db.transaction() as session:
            store.remind(session, team_id=team_id, round_id=round_id, secret=runtime.settings.cadence_anonymity_secret,
                         now=now)


def close_ended_rounds(runtime: Runtime, now: datetime) -> None:
    """Close each round at its window's end and queue its results for the team channel (once)."""
    with runtime.db.reading() as session:
        due = store.due_closings(session, now=now)
    for team_id, round_id in due:
        with runtime.db.transaction() as session:
            store.close(session, team_id=team_id, round_id=round_id, now=now)


JOBS = (open_scheduled_rounds, remind_at_half_time, close_ended_rounds)


# -- renderers -----------------------------------------------------------------------------------------------------
def _invite(runtime: Runtime, args: dict[str, Any], *, reminder: bool) -> Message | None:
    with runtime.db.reading() as session:
        try:
            round_ = store.get_round(session, team_id=args["team_id"], round_id=int(args["round_id"]))
        except domain.RoundNotFound:
            return None
        dimensions = len(store.round_dimensions(session, team_id=round_.team_id, round_id=round_.id))
    if reminder and round_.closed_at is not None:
        return None  # the round closed before its reminder could go: nothing to answer any more
    text, blocks = views.invite_message(channel_id=round_.channel_id, closes_at=round_.closes_at, round_id=round_.id,
                                        dimensions=dimensions, reminder=reminder)
    return Message(text=text, blocks=blocks)


@outbox_jobs.renderer(store.INVITE)
def render_invite(runtime: Runtime, args: dict[str, Any]) -> Message | None:
    """A participant's invitation to a round, with the Answer button."""
    return _invite(runtime, args, reminder=False)


@outbox_jobs.renderer(store.REMINDER)
def render_reminder(runtime: Runtime, args: dict[str, Any]) -> Message | None:
    """The one reminder to a participant who has not answered."""
    return _invite(runtime, args, reminder=True)


def _result(runtime: Runtime, args: dict[str, Any]) -> domain.RoundResult | None:
    with runtime.db.reading() as session:
        try:
            return store.round_result(session, team_id=args["team_id"], round_id=int(args["round_id"]))
        except domain.RoundNotFound:
            return None


@outbox_jobs.renderer(store.RESULTS)
def render_results(runtime: Runtime, args: dict[str, Any]) -> Message | None:
    """A closed round's results in the team channel (the count only, below k answers)."""
    result = _result(runtime, args)
    if result is None:
        return None
    text, blocks = views.results_message(result)
    return Message(text=text, blocks=blocks)


@outbox_jobs.renderer(store.CHART)
def render_chart(runtime: Runtime, args: dict[str, Any]) -> Message | None:
    """The dimensions × rounds chart, in the results' thread."""
    result = _result(runtime, args)
    if result is None or not result.shown:
        return None
    return Message(content=views.chart_png(result), filename=views.chart_filename(result),
                   title="Team health check", alt_text=views.chart_alt_text(result))


@outbox_jobs.renderer(store.RETRO)
def render_retro_opener(runtime: Runtime, args: dict[str, Any]) -> Message | None:
    """The latest health check, first in a new retro board's thread."""
    result = _result(runtime, args)
    if result is None:
        return None
    text, blocks = views.retro_opener(result)
    return Message(text=text, blocks=blocks)


@outbox_jobs.on_failed(store.RESULTS)
def tell_facilitator(session: Any, failed: Undelivered) -> None:
    """Results Slack would not take (the app left the channel, it was archived): whoever set the check up hears why."""
    facilitator_id = store.facilitator_of_round(session, team_id=failed.team_id,
                                                round_id=int(failed.payload["round_id"]))
    if facilitator_id is None:
        return
    outbox.add(session, team_id=failed.team_id, key=f"healthcheck.undelivered:{failed.key}",
               kind="healthcheck.undelivered", channel=facilitator_id, now=failed.now,
               text=views.results_undelivered_text(failed.channel, failed.answer.error or "refused"))
