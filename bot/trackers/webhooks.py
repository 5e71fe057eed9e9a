"""`POST /trackers/jira?team=T…` and `POST /trackers/github?team=T…` (`&channel=C…` for a channel's own connection):
the trackers telling Cadence an issue changed.

Each delivery is verified against the workspace's connection before anything is read from it — GitHub's
`X-Hub-Signature-256` and Jira's `X-Hub-Signature` (an admin webhook's secret), both `sha256=<HMAC of the body>` —
and a bad or missing signature gets 401 and changes nothing. A delivery id seen before (`X-GitHub-Delivery`,
`X-Atlassian-Webhook-Identifier`; the trackers retry with the same one) gets 200 and changes nothing either.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from bot.server.runtime import Runtime
from bot.trackers import connections
from ceremonies import trackers as domain
from storage import dedup
from storage import trackers as store
from storage import trackers_cases as cases

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIEnvironment

log = logging.getLogger("cadence.trackers")

PREFIX = "/trackers/"
MAX_BODY_BYTES = 5_000_000  # GitHub caps webhook payloads at 25 MB, but an issue event is a few kilobytes
SIGNATURE_HEADER = {domain.Kind.GITHUB: "HTTP_X_HUB_SIGNATURE_256", domain.Kind.JIRA: "HTTP_X_HUB_SIGNATURE"}
DELIVERY_HEADER = {domain.Kind.GITHUB: "HTTP_X_GITHUB_DELIVERY", domain.Kind.JIRA: "HTTP_X_ATLASSIAN_WEBHOOK_IDENTIFIER"}
REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 405: "Method Not Allowed",
           413: "Content Too Large"}


def signed(secret: str, body: bytes, signature: str) -> bool:
    """Whether `signature` is `sha256=` and the HMAC-SHA256 of `body` with `secret`."""
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return bool(signature) and hmac.compare_digest(expected, signature)


def issue_of(kind: domain.Kind, payload: dict[str, Any], site_url: str) -> domain.TrackerIssue | None:
    """The issue a delivery is about, as Cadence sees issues (None: not an issue event)."""
    issue = payload.get("issue")
    if not isinstance(issue, dict):
        return None
    if kind is domain.Kind.GITHUB:
        repo = str((payload.get("repository") or {}).get("full_name") or "")
        if not domain.REPO.match(repo) or not isinstance(issue.get("number"), int):
            return None
        return domain.TrackerIssue(key=domain.github_key(repo, issue["number"]), title=str(issue.get("title") or ""),
                                   url=str(issue.get("html_url") or ""), done=issue.get("state") == "closed",
                                   ref=domain.github_ref(repo, issue["number"]))
    key = str(issue.get("key") or "")
    fields = issue.get("fields") or {}
    category = ((fields.get("status") or {}).get("statusCategory") or {}).get("key")
    return domain.TrackerIssue(key=key, title=str(fields.get("summary") or ""), url=f"{site_url}/browse/{key}",
                               done=category == "done", ref=key) if key else None


class TrackerWebhooks:
    """The WSGI application of the trackers' webhooks."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        status = self._handle(environ)
        body = REASONS[status].encode()
        start_response(f"{status} {REASONS[status]}",
                       [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))])
        return [body]

    def _handle(self, environ: WSGIEnvironment) -> int:
        try:
            kind = domain.Kind(str(environ.get("PATH_INFO", "")).removeprefix(PREFIX))
        except ValueError:
            return 404
        if environ.get("REQUEST_METHOD") != "POST":
            return 405
        declared = str(environ.get("CONTENT_LENGTH") or "0").strip()
        if not declared.isdigit():
            return 400
        if int(declared) > MAX_BODY_BYTES:
            return 413
        raw = environ["wsgi.input"].read(int(declared)) if int(declared) else b""
        query = parse_qs(str(environ.get("QUERY_STRING") or ""))
        team_id = (query.get("team") or [""])[0][:32]
        channel_id = (query.get("channel") or [store.WORKSPACE])[0][:32]
        with self.runtime.db.reading() as session:
            row = store.own_connection(session, team_id=team_id, kind=kind, channel_id=channel_id) if team_id else None
            secret = connections.webhook_secret_of(self.runtime.settings, row) if row is not None else None
            site_url = row.site_url if row is not None else ""
        # An unknown workspace is refused like a bad signature: the answer says nothing about who is connected.
        if secret is None or not signed(secret, raw, str(environ.get(SIGNATURE_HEADER[kind]) or "")):
            log.info("%s webhook refused with 401: signature missing or wrong", kind.value, extra={"team": team_id})
            return 401
        try:
            payload = json.loads(raw)
        except ValueError:
            return 400
        if not isinstance(payload, dict):
            return 400
        delivery = str(environ.get(DELIVERY_HEADER[kind]) or "")[:100]
        issue = issue_of(kind, payload, site_url)
        now = self.runtime.now()
        with self.runtime.db.transaction() as session:
            if delivery and not dedup.first_delivery(session, team_id=team_id, event_id=f"{kind.value}:{delivery}",
                                                     now=now):
                log.info("%s webhook %s seen before; ignored", kind.value, delivery, extra={"team": team_id})
                return 200
            if issue is not None:
                cases.issue_changed(session, team_id=team_id, kind=kind, issue=issue, now=now)
        return 200
