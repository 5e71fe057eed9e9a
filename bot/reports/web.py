"""`GET /reports/<token>`: a report page for whoever holds a live link, no Slack sign-in, no Slack signature.

The token is the only key: a link id and an HMAC over the id, its workspace, its page and its expiry
(storage.digest). An unknown or forged token (another workspace's id with this one's signature, say) gets 404, a
revoked link 403, an expired one 410, each a clear page. A page shows only the workspace its link belongs to.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

from sqlalchemy.exc import OperationalError

from bot.reports import pages
from bot.reports.links import channel_labels, people_names
from bot.server.runtime import Runtime
from storage import digest as store
from storage import sprint as sprints
from storage import sprint_figures

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIEnvironment

log = logging.getLogger("cadence.reports")

PREFIX = "/reports/"
HEADERS = [
    ("Content-Type", "text/html; charset=utf-8"),
    ("Cache-Control", "no-store"),
    ("X-Robots-Tag", "noindex, nofollow"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    # Nothing runs on the page: no scripts at all, images only inline, styles only the page's own.
    ("Content-Security-Policy", "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; "
                                "form-action 'none'; frame-ancestors 'none'"),
]


class ReportPages:
    """The WSGI handler of the report pages."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD", "GET") not in ("GET", "HEAD"):
            return self._send(start_response, "405 Method Not Allowed", "", extra=[("Allow", "GET, HEAD")])
        token = str(environ.get("PATH_INFO", ""))[len(PREFIX):]
        try:
            status, body = self.page(token)
        except OperationalError:
            log.warning("report page: database unavailable")
            status, body = "503 Service Unavailable", pages.refused_page("unknown")[1].replace(
                "This link does not work", "Try again in a moment")
        return self._send(start_response, status, body if environ.get("REQUEST_METHOD") != "HEAD" else "")

    @staticmethod
    def _send(start_response: StartResponse, status: str, body: str, extra: list[tuple[str, str]] | None = None
              ) -> Iterable[bytes]:
        data = body.encode()
        start_response(status, [*HEADERS, ("Content-Length", str(len(data))), *(extra or [])])
        return [data]

    def page(self, token: str) -> tuple[str, str]:
        """The HTTP status and HTML for a token."""
        runtime = self.runtime
        now = runtime.now()
        with runtime.db.reading() as session:
            state, link = store.check_token(session, secret=runtime.settings.report_key, token=token, now=now)
            if state is not store.LinkState.OK or link is None:
                return pages.refused_page(state.value)
            team_id = link.team_id
            if link.kind == store.DIGEST:
                digest = store.digest(session, team_id=team_id, now=now,
                                      default_timezone=runtime.settings.default_timezone)
                owners = [r.owner_id for t in digest.teams for r in t.risks]
                channels = [t.channel_id for t in digest.teams]
                render = lambda labels, names: pages.digest_page(  # noqa: E731
                    digest, labels=labels, names=names, today=now.date())
            else:
                sprint = sprints.sprint_by_id(session, sprint_id=link.sprint_id or 0)
                if sprint is None or sprint.team_id != team_id:
                    return pages.refused_page("gone")
                summary = sprint_figures.summary(session, sprint=sprint, now=now)
                history = sprints.velocity_history(session, team_id=team_id, channel_id=sprint.channel_id, limit=8)
                owners = [r.owner_id for r in (summary.risks.open if summary.risks is not None else ())]
                channels = [sprint.channel_id]
                today = summary.sprint.ends_on if summary.sprint.ended_at else now.date()
                render = lambda labels, names: pages.sprint_page(  # noqa: E731
                    summary, label=labels[channels[0]], names=names, history=history, today=today)
        log.info("report page served", extra={"team": team_id})
        # Slack is asked (through the gateway, cached) only after the database session is closed.
        return "200 OK", render(channel_labels(self.runtime, team_id, channels),
                                people_names(self.runtime, team_id, owners))
