"""The risk register's scheduled work and its messages: the owner's review reminder on the review date (found by
the indexed `next_review_at`), and the register and its heat map, drawn when the outbox delivers them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.jobs import outbox as outbox_jobs
from bot.server.runtime import Runtime
from bot.views import charts
from bot.views import risks as views
from ceremonies.risks import OpenRisk, RiskNotFound
from storage import risks as store


def remind_owners(runtime: Runtime, now: datetime) -> None:
    """DM each owner whose risk's review date has come (09:00 their time), once per review date."""
    with runtime.db.reading() as session:
        due = store.due_reminders(session, now=now)
    for team_id, risk_id in due:
        with runtime.db.transaction() as session:
            store.queue_reminder(session, team_id=team_id, risk_id=risk_id, now=now)


JOBS = (remind_owners,)


def _open_risks(runtime: Runtime, args: dict[str, Any]) -> list[OpenRisk]:
    with runtime.db.reading() as session:
        return store.register(session, team_id=args["team_id"], channel_id=args["channel_id"], now=runtime.now())


@outbox_jobs.renderer(store.REGISTER)
def render_register(runtime: Runtime, args: dict[str, Any]) -> outbox_jobs.Message | None:
    """The channel's register as it stands when it goes out (or is redrawn after a change)."""
    risks = _open_risks(runtime, args)
    return outbox_jobs.Message(text=views.register_text(risks),
                               blocks=views.register_blocks(risks, channel_id=args["channel_id"]))


@outbox_jobs.renderer(store.HEAT_MAP)
def render_heat_map(runtime: Runtime, args: dict[str, Any]) -> outbox_jobs.Message | None:
    """The 5×5 heat map, shared in the register's thread with its alt text; nothing when no risk is open any more."""
    risks = _open_risks(runtime, args)
    if not risks:
        return None
    return outbox_jobs.Message(content=charts.risk_heat_map_png(views.heat_map_cells(risks),
                                                                title=views.heat_map_title(risks)),
                               filename=views.heat_map_filename(args["channel_id"]),
                               title=views.heat_map_title(risks), alt_text=views.heat_map_alt_text(risks))


@outbox_jobs.renderer(store.REVIEW)
def render_reminder(runtime: Runtime, args: dict[str, Any]) -> outbox_jobs.Message | None:
    """The owner's reminder; nothing when the risk was closed meanwhile."""
    now = runtime.now()
    with runtime.db.reading() as session:
        try:
            risk = store.get_risk(session, team_id=args["team_id"], risk_id=int(args["risk_id"]))
        except RiskNotFound:
            return None
        if not risk.is_open:
            return None
        shown = risk.open_risk(now)
    return outbox_jobs.Message(text=views.reminder_text(shown), blocks=views.reminder_blocks(shown))
