"""The clock: APScheduler calls `tick` every few seconds; each ceremony's jobs ask the database what is due."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from types import ModuleType

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.exc import OperationalError

from bot.jobs import blockers as blocker_jobs
from bot.jobs import healthcheck as healthcheck_jobs
from bot.jobs import outbox as outbox_jobs
from bot.jobs import poker as poker_jobs
from bot.jobs import polls as polls_jobs
from bot.jobs import retro as retro_jobs
from bot.jobs import review as review_jobs
from bot.jobs import risks as risk_jobs
from bot.jobs import sprint
from bot.jobs import standup as standup_jobs
from bot.jobs import trackers as tracker_jobs
from bot.jobs import workspaces as workspace_jobs
from bot.jobs.outbox import OutboxWorker
from bot.server import metrics
from bot.server.runtime import Runtime
from bot.slack.gateway import WorkspaceNotInstalled

log = logging.getLogger("cadence.scheduler")

Job = Callable[[Runtime, datetime], None]

TICK_SECONDS = 20  # the default of SCHEDULER_TICK_SECONDS


# Each ceremony's jobs module (bot/jobs/<ceremony>.py): its JOBS, and the outbox renderers and hooks it registers.
JOB_MODULES: tuple[ModuleType, ...] = (
    retro_jobs,
    sprint,
    standup_jobs,
    blocker_jobs,
    workspace_jobs,
    poker_jobs,
    polls_jobs,
    review_jobs,
    risk_jobs,
    healthcheck_jobs,
    tracker_jobs,
    outbox_jobs,
)


def all_jobs() -> list[Job]:
    """Every scheduled job: each is called with the runtime and the current time on every tick."""
    return [job for module in JOB_MODULES for job in module.JOBS]


class Scheduler:
    """Runs every scheduled job on each tick; a failing job is logged and never stops the others or the clock.

    Jobs skip workspaces that uninstalled Cadence: in their "what is due?" query with
    `storage.workspaces.active_clause(Model.team_id)`, or per item with `runtime.is_active(team_id)`.
    """

    def __init__(self, runtime: Runtime, jobs: Sequence[Job] | None = None) -> None:
        self.runtime = runtime
        self.jobs = list(all_jobs() if jobs is None else jobs)
        self._clock: BackgroundScheduler | None = None
        # Delivers what the jobs (and the listeners) queued; woken by every commit that queued something.
        self.outbox = OutboxWorker(runtime)
        runtime.kick_outbox = self.outbox.kick

    def tick(self, now: datetime | None = None) -> None:
        """Do all work that is due at `now` (default: the runtime's clock)."""
        now = now or self.runtime.now()
        for job in self.jobs:
            try:
                job(self.runtime, now)
            except WorkspaceNotInstalled as error:
                log.error("scheduled job %s acted in an uninstalled workspace (%s); skip those with "
                          "storage.workspaces.active_clause or runtime.is_active", job.__qualname__, error)
            except OperationalError as error:
                # The database is down or restarting: expected now and then, and the claims make the next tick
                # catch up, so one line per job instead of a traceback every few seconds.
                metrics.job_failed(job.__qualname__)
                log.warning("scheduled job %s: database unavailable (%s); it runs again on the next tick",
                            job.__qualname__, (str(error.orig or error).strip().splitlines() or ["?"])[0][:200])
            except Exception:
                metrics.job_failed(job.__qualname__)
                log.exception("scheduled job %s failed; it runs again on the next tick", job.__qualname__)

    def start(self) -> None:
        """Tick now (catching up on what fell due while the app was down) and then every few seconds."""
        self._clock = BackgroundScheduler(timezone=UTC)
        self._clock.add_job(
            self.tick,
            "interval",
            seconds=self.runtime.settings.scheduler_tick_seconds,
            next_run_time=datetime.now(UTC),
            max_instances=1,
            coalesce=True,
            id="cadence.tick",
        )
        self._clock.start()
        self.outbox.start()

    def shutdown(self) -> None:
        self.outbox.stop()
        if self._clock is not None:
            self._clock.shutdown(wait=True)
            self._clock = None
