"""GitHub's REST API through githubkit, with a fine-grained token or as a GitHub App installation (githubkit creates
the installation's one-hour tokens with the App's JWT and renews them). githubkit's own retries are off: a secondary
rate limit's Retry-After goes back to Cadence's retries instead of holding a worker asleep."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

import jwt
from githubkit import AppInstallationAuthStrategy, GitHub, TokenAuthStrategy
from githubkit.cache import BaseCacheStrategy, MemCacheStrategy
from githubkit.exception import (
    GitHubException,
    GraphQLFailed,
    RateLimitExceeded,
    RequestError,
    RequestFailed,
    RequestTimeout,
)

from bot.server import redact
from bot.trackers.base import TrackerError
from ceremonies import trackers as domain

T = TypeVar("T")

PROJECT_ITEMS = """
query($owner: String!, $name: String!, $number: Int!) {
  repository(owner: $owner, name: $name) {
    issue(number: $number) {
      projectItems(first: 20) {
        nodes { id project { id fields(first: 50) { nodes { ... on ProjectV2Field { id name dataType } } } } }
      }
    }
  }
}"""
SET_NUMBER = """
mutation($project: ID!, $item: ID!, $field: ID!, $value: Float!) {
  updateProjectV2ItemFieldValue(
    input: {projectId: $project, itemId: $item, fieldId: $field, value: {number: $value}}
  ) { projectV2Item { id } }
}"""


# githubkit keeps an App's JWT and installation token in its cache under the App and installation IDs only, and its
# default cache is one per process: a connection typing another workspace's IDs with a wrong key would be handed that
# workspace's token. Each set of credentials (and API URL) has a cache of its own instead, kept between calls so that
# a token serves its hour.
_APP_CACHES: OrderedDict[str, BaseCacheStrategy] = OrderedDict()
_APP_CACHES_MAX = 1000
_app_caches_lock = threading.Lock()


def _app_cache(api_url: str, credentials: domain.Credentials) -> BaseCacheStrategy:
    key = hashlib.sha256("\0".join((api_url, str(credentials.app_id), str(credentials.installation_id),
                                     credentials.private_key)).encode()).hexdigest()
    with _app_caches_lock:
        cache = _APP_CACHES.pop(key, None) or MemCacheStrategy()
        _APP_CACHES[key] = cache
        while len(_APP_CACHES) > _APP_CACHES_MAX:
            _APP_CACHES.popitem(last=False)
        return cache


class GitHubTracker:
    """One GitHub account (the token's, or the account a GitHub App is installed on), on github.com or a GitHub
    Enterprise Server API base URL."""

    def __init__(self, api_url: str, credentials: domain.Credentials, *, timeout: float) -> None:
        self.api_url = api_url.rstrip("/")
        self.app = bool(credentials.app_id)
        if self.app:
            redact.add_secrets(*domain.private_key_parts(credentials.private_key))
            auth: TokenAuthStrategy | AppInstallationAuthStrategy = AppInstallationAuthStrategy(
                credentials.app_id, credentials.private_key, credentials.installation_id)
            cache: BaseCacheStrategy | None = _app_cache(self.api_url, credentials)
        else:
            redact.add_secrets(credentials.token)
            auth, cache = TokenAuthStrategy(credentials.token), None
        self.github = GitHub(auth, base_url=self.api_url + "/", auto_retry=False, timeout=timeout, http_cache=False,
                             cache_strategy=cache)

    def _call(self, call: Callable[[], T]) -> T:
        try:
            try:
                return call()
            except RequestError as wrapped:
                # An App's installation token is asked for inside the request (githubkit's auth flow): a refusal, or
                # a key that cannot sign, comes wrapped.
                if type(wrapped) is RequestError and isinstance(wrapped.exc, GitHubException | jwt.PyJWTError):
                    raise wrapped.exc from None
                raise
        except jwt.PyJWTError:
            raise TrackerError("GitHub App: the private key cannot be read: paste the whole .pem file that the "
                               "App's settings page gave.", status=401) from None
        except RateLimitExceeded as error:
            seconds = max(error.retry_after.total_seconds(), 1.0)
            raise TrackerError(f"GitHub: {_message(error)}", status=error.response.status_code,
                               retry_after=seconds) from None
        except RequestFailed as error:
            raise TrackerError(f"GitHub: {_message(error)}", status=error.response.status_code) from None
        except GraphQLFailed as error:
            errors = error.response.errors or []
            forbidden = any(e.type == "FORBIDDEN" for e in errors)
            raise TrackerError(domain.short_error("GitHub: " + "; ".join(e.message for e in errors)),
                               status=403 if forbidden else 422) from None
        except RequestTimeout:
            raise TrackerError("GitHub did not answer in time.") from None
        except GitHubException:
            raise TrackerError(f"GitHub cannot be reached at {self.api_url}.") from None

    def whoami(self) -> str:
        """The token's user; for an App, the account it is installed on (the call also proves that the JWT buys an
        installation token)."""
        if self.app:
            found = self._call(lambda: self.github.rest.apps.list_repos_accessible_to_installation(per_page=1)).json()
            owner = next((str((r.get("owner") or {}).get("login") or "") for r in found.get("repositories") or []),
                         "")
            if not owner:
                raise TrackerError("GitHub: the App's installation has access to no repository: choose some in the "
                                   "installation's settings (Repository access).", status=404)
            return owner
        me = self._call(lambda: self.github.rest.users.get_authenticated()).json()
        return str(me.get("login") or "?")

    @staticmethod
    def _issue(raw: dict[str, Any], repo: str) -> domain.TrackerIssue:
        number = int(raw["number"])
        labels = [str(label.get("name") if isinstance(label, dict) else label) for label in raw.get("labels") or []]
        return domain.TrackerIssue(key=domain.github_key(repo, number), title=str(raw.get("title") or ""),
                                   url=str(raw.get("html_url") or ""), done=raw.get("state") == "closed",
                                   points=domain.points_from_labels(labels), ref=domain.github_ref(repo, number))

    def search(self, search: domain.IssueSearch, *, limit: int) -> tuple[list[domain.TrackerIssue], int]:
        found = self._call(lambda: self.github.rest.search.issues_and_pull_requests(
            q=search.github_query(), per_page=min(limit, 100))).json()
        issues = [self._issue(i, search.repo) for i in (found.get("items") or [])[:limit]]
        return issues, int(found.get("total_count") or len(issues))

    def write_estimate(self, ref: str, estimate: str) -> None:
        """The estimate goes to the number field of the issue's Projects (v2) boards ("Estimate", "Story Points",
        "Points"); on an issue on no such board, to an `estimate: N` label."""
        repo, number = domain.parse_github_ref(ref)
        owner, name = repo.split("/")
        points = domain.card_points(estimate)
        if points is not None and self._write_project_fields(owner, name, number, points):
            return
        raw = self._call(lambda: self.github.rest.issues.get(owner, name, number)).json()
        labels = [str(label.get("name")) for label in raw.get("labels") or []]
        for stale in domain.stale_estimate_labels(labels, estimate):
            self._call(lambda stale=stale: self.github.rest.issues.remove_label(owner, name, number, stale))
        if domain.estimate_label(estimate) not in labels:
            self._call(lambda: self.github.rest.issues.add_labels(
                owner, name, number, data={"labels": [domain.estimate_label(estimate)]}))

    def _write_project_fields(self, owner: str, name: str, number: int, points: float) -> int:
        """Set the estimate field on each of the issue's project items; how many were set (0: none to set, or the
        token may not see projects, which then leaves the label)."""
        try:
            found = self._call(lambda: self.github.graphql.request(
                PROJECT_ITEMS, {"owner": owner, "name": name, "number": number}))
        except TrackerError as refused:
            if refused.status == 403:
                return 0
            raise
        items = ((((found.get("repository") or {}).get("issue") or {}).get("projectItems") or {}).get("nodes")) or []
        written = 0
        for item in items:
            project = item.get("project") or {}
            fields = [(str(f.get("id")), str(f.get("name"))) for f in (project.get("fields") or {}).get("nodes") or []
                      if f and f.get("dataType") == "NUMBER"]
            field_id = domain.project_field(fields)
            if field_id is None:
                continue
            self._call(lambda item=item, project=project, field_id=field_id: self.github.graphql.request(
                SET_NUMBER, {"project": project["id"], "item": item["id"], "field": field_id, "value": points}))
            written += 1
        return written

    def sprint_issues(self, link: domain.SprintLink) -> list[domain.TrackerIssue]:
        owner, name = link.repo.split("/")
        found: list[domain.TrackerIssue] = []
        for page in range(1, 11):
            raw = self._call(lambda page=page: self.github.rest.issues.list_for_repo(
                owner, name, milestone=str(link.milestone), state="all", per_page=100, page=page)).json()
            found.extend(self._issue(i, link.repo) for i in raw if "pull_request" not in i)
            if len(raw) < 100:
                break
        return found

    def issue(self, ref: str) -> domain.TrackerIssue:
        repo, number = domain.parse_github_ref(ref)
        owner, name = repo.split("/")
        return self._issue(self._call(lambda: self.github.rest.issues.get(owner, name, number)).json(), repo)

    def assignee(self, repo: str, email: str) -> str | None:
        """The login of the GitHub user whose public e-mail this is, when they can be assigned in the repository."""
        owner, name = repo.split("/")
        found = self._call(lambda: self.github.rest.search.users(q=f"{email} in:email", per_page=1)).json()
        login = next((str(u["login"]) for u in found.get("items") or [] if u.get("login")), None)
        if login is None:
            return None
        try:
            self._call(lambda: self.github.rest.issues.check_user_can_be_assigned(owner, name, login))
        except TrackerError as refused:
            if refused.status == 404:  # not a collaborator: the issue is created unassigned
                return None
            raise
        return login

    def create_issue(self, *, project: str, title: str, body: str, assignee_email: str | None = None
                     ) -> domain.TrackerIssue:
        if not project:
            raise TrackerError("the GitHub connection has no repository for new issues: connect again and name one.",
                               status=400)
        owner, name = project.split("/")
        data: dict[str, Any] = {"title": title[:250], "body": body}
        if assignee_email and (login := self.assignee(project, assignee_email)):
            data["assignees"] = [login]
        raw = self._call(lambda: self.github.rest.issues.create(owner, name, data=data)).json()
        return self._issue(raw, project)


def _message(error: RequestFailed) -> str:
    try:
        body = error.response.json()
    except ValueError:
        return f"HTTP {error.response.status_code}"
    message = str(body.get("message") or f"HTTP {error.response.status_code}") if isinstance(body, dict) else ""
    details = [str(e.get("message") or e.get("code")) for e in body.get("errors") or [] if isinstance(e, dict)] \
        if isinstance(body, dict) else []
    return domain.short_error(" — ".join([message, *details]))
