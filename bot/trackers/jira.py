"""Jira Cloud (REST v3, e-mail and API token) and Jira Data Center (REST v2, personal access token), through
atlassian-python-api. The library never sleeps on a 429 here: Retry-After goes back to Cadence's own retries."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any, TypeVar

import requests
from atlassian import Jira

from bot.server import redact
from bot.trackers.base import TrackerError
from ceremonies import trackers as domain

T = TypeVar("T")
DONE = "done"  # Jira's status category key for every "done" status, whatever a workflow names it


class JiraTracker:
    """One Jira site, as one account."""

    def __init__(self, site_url: str, credentials: domain.Credentials, *, timeout: float) -> None:
        self.site_url = site_url.rstrip("/")
        self.cloud = bool(credentials.email)
        redact.add_secrets(credentials.token)
        if self.cloud:
            # The basic-auth header carries the token base64-encoded: a debug log of it is redacted too.
            redact.add_secrets(base64.b64encode(f"{credentials.email}:{credentials.token}".encode()).decode())
            self.jira = Jira(self.site_url, username=credentials.email, password=credentials.token, cloud=True,
                             api_version="3", timeout=timeout, retry_with_header=False, backoff_and_retry=False)
        else:
            self.jira = Jira(self.site_url, token=credentials.token, cloud=False, api_version="2", timeout=timeout,
                             retry_with_header=False, backoff_and_retry=False)
        self._points_field: str | None = None

    # -- the one way to call ----------------------------------------------------------------------------------------
    def _call(self, call: Callable[[], T]) -> T:
        try:
            return call()
        except requests.HTTPError as error:
            raise _refusal(error) from None
        except requests.Timeout:
            raise TrackerError(f"Jira at {self.site_url} did not answer in time.") from None
        except requests.RequestException:
            raise TrackerError(f"Jira cannot be reached at {self.site_url}.") from None
        except ValueError:  # a body that is not JSON: not a Jira site
            raise TrackerError(f"{self.site_url} does not answer like Jira.") from None

    # -- what Cadence asks ------------------------------------------------------------------------------------------
    def whoami(self) -> str:
        me = self._call(self.jira.myself)
        if not isinstance(me, dict):
            raise TrackerError(f"{self.site_url} does not answer like Jira.")
        return str(me.get("displayName") or me.get("emailAddress") or me.get("name") or "?")

    def points_field(self) -> str | None:
        """The id of this site's story-points field, found by name ("Story Points", "Story point estimate")."""
        if self._points_field is None:
            fields = self._call(self.jira.get_all_fields) or []
            self._points_field = domain.points_field([(str(f.get("id")), str(f.get("name"))) for f in fields])
        return self._points_field

    def _issue(self, raw: dict[str, Any], points_field: str | None) -> domain.TrackerIssue:
        fields = raw.get("fields") or {}
        category = ((fields.get("status") or {}).get("statusCategory") or {}).get("key")
        points = fields.get(points_field) if points_field else None
        key = str(raw.get("key"))
        return domain.TrackerIssue(key=key, title=str(fields.get("summary") or ""),
                                   url=f"{self.site_url}/browse/{key}", done=category == DONE,
                                   points=float(points) if isinstance(points, int | float) else None, ref=key)

    def search(self, search: domain.IssueSearch, *, limit: int) -> tuple[list[domain.TrackerIssue], int]:
        fields = ["summary", "status"]
        if self.cloud:
            found = self._call(lambda: self.jira.enhanced_jql(search.jql, fields=fields, limit=limit))
            issues = [self._issue(i, None) for i in found.get("issues") or []]
            total = len(issues)
            if not found.get("isLast", True):
                counted = self._call(lambda: self.jira.approximate_issue_count(search.jql))
                total = max(total, int((counted or {}).get("count") or total))
            return issues, total
        found = self._call(lambda: self.jira.jql(search.jql, fields=fields, limit=limit))
        issues = [self._issue(i, None) for i in found.get("issues") or []]
        return issues, int(found.get("total") or len(issues))

    def write_estimate(self, ref: str, estimate: str) -> None:
        field = self.points_field()
        if field is None:
            raise TrackerError("this Jira site has no field named “Story Points” or “Story point estimate”.",
                               status=400)
        points = domain.card_points(estimate)
        if points is None:
            raise TrackerError(f"“{estimate}” is not a number, and Jira's story points are numbers.", status=400,
                               final=True)
        self._call(lambda: self.jira.update_issue_field(ref, {field: points}, notify_users=False))

    def sprint_issues(self, link: domain.SprintLink) -> list[domain.TrackerIssue]:
        field = self.points_field()
        found: list[domain.TrackerIssue] = []
        start = 0
        while True:
            page = self._call(lambda start=start: self.jira.get_sprint_issues(link.sprint_id, start, 50)) or {}
            raw = page.get("issues") or []
            found.extend(self._issue(i, field) for i in raw)
            start += len(raw)
            if not raw or start >= int(page.get("total") or 0) or start >= 1000:
                return found

    def issue(self, ref: str) -> domain.TrackerIssue:
        raw = self._call(lambda: self.jira.issue(ref, fields="summary,status"))
        return self._issue(raw, None)

    def assignee(self, email: str) -> dict[str, str] | None:
        """Jira's user with this e-mail, as an issue's assignee (Cloud: accountId; Data Center: name)."""
        params = {"query": email} if self.cloud else {"username": email}
        found = self._call(lambda: self.jira.get(self.jira.resource_url("user/search"), params=params)) or []
        person = next((u for u in found if isinstance(u, dict) and u.get("active", True)), None)
        if person is None:
            return None
        return {"accountId": str(person["accountId"])} if self.cloud else {"name": str(person.get("name"))}

    def create_issue(self, *, project: str, title: str, body: str, assignee_email: str | None = None
                     ) -> domain.TrackerIssue:
        if not project:
            raise TrackerError("the Jira connection has no project for new issues: connect again and name one.",
                               status=400)
        fields: dict[str, Any] = {"project": {"key": project}, "summary": title[:250],
                                  "issuetype": {"name": "Task"}}
        if body:
            fields["description"] = _adf(body) if self.cloud else body
        if assignee_email and (assignee := self.assignee(assignee_email)):
            fields["assignee"] = assignee
        created = self._call(lambda: self.jira.create_issue(fields=fields))
        key = str(created.get("key"))
        return domain.TrackerIssue(key=key, title=title, url=f"{self.site_url}/browse/{key}", done=False, ref=key)


def _adf(text: str) -> dict[str, Any]:
    """Plain text as Atlassian Document Format, which REST v3 wants for a description."""
    return {"type": "doc", "version": 1,
            "content": [{"type": "paragraph", "content": [{"type": "text", "text": text[:30000]}]}]}


def _refusal(error: requests.HTTPError) -> TrackerError:
    response = error.response
    status = response.status_code if response is not None else 0
    retry_after = None
    if response is not None and status in (429, 503) and response.headers.get("Retry-After", "").isdigit():
        retry_after = float(response.headers["Retry-After"])
    message = str(error)
    if status == 401 and response is not None:
        message = response.text or message  # Jira's own words ("Client must be authenticated…")
    return TrackerError(domain.short_error(f"Jira: {message}"), status=status,
                        retry_after=retry_after if retry_after is not None else (60.0 if status == 429 else None))
