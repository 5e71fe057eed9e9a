"""The weekly executive digest: due schedules (by their indexed next_due_at) queue one message per recipient, and
its velocity chart in the thread, through the outbox; both are drawn when delivered, as of when the digest fell due."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from bot.jobs import outbox as outbox_jobs
from bot.jobs.outbox import Message
from bot.reports import charts
from bot.reports.links import channel_labels, page_url, public_base
from bot.server.runtime import Runtime
from bot.views import digest as views
from ceremonies.digest import Digest
from storage import digest as store

log = logging.getLogger("cadence.digest")


def send_due_digests(runtime: Runtime, now: datetime) -> None:
    """Each digest due now goes out once: moving its schedule on a week and queueing its messages is one transaction,
    and only one process can move it."""
    with runtime.db.reading() as session:
        due = store.due_schedules(session, now=now)
    for schedule_id, due_at in due:
        with runtime.db.transaction() as session:
            queued = store.queue_due_digest(session, schedule_id=schedule_id, due_at=due_at, now=now,
                                            link_days=runtime.settings.report_link_days)
        if queued is not None:
            log.info("digest queued for %d recipients", len(queued.keys), extra={"team": queued.team_id})


JOBS = (send_due_digests,)


def _figures(runtime: Runtime, args: dict[str, Any]) -> tuple[Digest, str]:
    with runtime.db.reading() as session:
        digest = store.digest(session, team_id=args["team_id"], now=datetime.fromisoformat(args["at"]),
                              default_timezone=runtime.settings.default_timezone)
        link = store.link_by_public_id(session, public_id=args["link"])
        url = page_url(runtime, link) if link is not None else public_base(runtime)
    return digest, url


@outbox_jobs.renderer(store.DIGEST)
def render_digest(runtime: Runtime, args: dict[str, Any]) -> Message | None:
    """The week's roll-up of every team channel."""
    digest, url = _figures(runtime, args)
    return Message(text=views.digest_text(digest), blocks=views.digest_blocks(digest, url=url))


@outbox_jobs.renderer(store.CHART)
def render_chart(runtime: Runtime, args: dict[str, Any]) -> Message | None:
    """The velocity trend across teams, in the digest's thread."""
    digest, _url = _figures(runtime, args)
    labels = channel_labels(runtime, digest.team_id, [t.channel_id for t in digest.teams])
    teams = [(labels[t.channel_id], [v for _n, v in t.velocities]) for t in digest.teams]
    return Message(content=charts.velocity_trend_png(teams), filename=views.chart_filename(digest),
                   title="Velocity trend across teams", alt_text=charts.velocity_trend_alt(teams))
