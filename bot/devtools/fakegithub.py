"""A fake GitHub REST API over HTTP, as strict as the parts Cadence uses: token auth ("Bearer" or "token"), 401 Bad
credentials, 403 secondary rate limits with Retry-After, 404 Not Found, 422 Validation Failed, issue search, issues,
labels and milestones, webhooks signed with X-Hub-Signature-256, and GitHub Apps: a JWT (RS256, signed with the App's
private key) buys an installation token (`ghs_…`, one hour) at POST /app/installations/{id}/access_tokens.

    github = FakeGitHub().start()
    github.add_token("github_pat_1", "ada")
    app = github.add_app(123456, installation_id=7890, account="acme")  # app.private_key: the PEM to connect with
    github.add_issue("acme/shop", "Pay by card")
    github.fail("PATCH /repos/acme/shop/issues", status=403, retry_after=60)
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from bot.devtools.fakeservice import Failure, FakeService, Reply, Request, deliver, new_delivery_id, signature

DOCS = "https://docs.github.com/rest"
# GitHub's words when it refuses an App's JWT (docs.github.com: "Generating a JSON Web Token (JWT) for a GitHub App").
JWT_UNDECODABLE = "A JSON web token could not be decoded"  # not a JWT, a wrong signature, or an unknown App ID
JWT_EXPIRED = ("'Expiration time' claim ('exp') must be a numeric value representing the future time at which the "
               "assertion expires")
JWT_TOO_LONG = "'Expiration time' claim ('exp') is too far in the future"
JWT_IAT = "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued"
JWT_MAX_SECONDS = 600  # exp at most 10 minutes after iat (and after now)
INSTALLATION_TOKEN_LIFETIME = timedelta(hours=1)
SECONDARY = ("You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you "
             "reach out to GitHub Support for help, please include the request ID.")


@dataclass
class Issue:
    repo: str
    number: int
    title: str
    state: str = "open"
    labels: list[str] = field(default_factory=list)
    assignees: list[str] = field(default_factory=list)
    milestone: int | None = None
    body: str = ""
    project_items: list[tuple[str, str]] = field(default_factory=list)  # (item id, project id)


@dataclass
class Project:
    """A Projects (v2) board: its fields by id (name, dataType) and each item's field values."""

    id: str
    fields: dict[str, tuple[str, str]] = field(default_factory=dict)
    values: dict[str, dict[str, float]] = field(default_factory=dict)


@dataclass
class Repo:
    full_name: str
    issues: dict[int, Issue] = field(default_factory=dict)
    milestones: dict[int, str] = field(default_factory=dict)
    collaborators: set[str] = field(default_factory=set)
    next_number: int = 1


def new_private_key() -> str:
    """A fresh RSA-2048 private key as GitHub gives an App's: PKCS#1 PEM ("BEGIN RSA PRIVATE KEY")."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption()).decode()


@dataclass
class App:
    """A GitHub App: its ID, its private key (what its owner downloads) and its installations (id -> account)."""

    id: int
    private_key: str
    installations: dict[int, str] = field(default_factory=dict)
    repositories: dict[int, list[str] | None] = field(default_factory=dict)  # None: all the account's repositories

    @property
    def public_key(self) -> Any:
        return serialization.load_pem_private_key(self.private_key.encode(), password=None).public_key()


@dataclass(frozen=True)
class InstallationToken:
    app_id: int
    installation_id: int
    account: str
    expires_at: datetime


class FakeGitHub(FakeService):
    name = "github"

    def __init__(self) -> None:
        super().__init__()
        self.tokens: dict[str, str] = {}  # token -> login
        self.read_only: set[str] = set()  # tokens without write access to issues
        self.repos: dict[str, Repo] = {}
        self.public_emails: dict[str, str] = {}  # e-mail -> login, for users who show their e-mail
        self.projects: dict[str, Project] = {}
        self.without_projects: set[str] = set()  # tokens not granted Projects access
        self.apps: dict[int, App] = {}
        self.installation_tokens: dict[str, InstallationToken] = {}
        # GitHub's clock: real time, as githubkit signs JWTs and decides when to refresh a token by real time.
        self.now: Callable[[], datetime] = lambda: datetime.now(UTC)
        self.token_lifetime = INSTALLATION_TOKEN_LIFETIME  # GitHub's is an hour; a test may shorten it

    # -- arranging ------------------------------------------------------------------------------------------------
    def add_token(self, token: str, login: str, *, read_only: bool = False) -> None:
        with self._lock:
            self.tokens[token] = login
            if read_only:
                self.read_only.add(token)

    def add_app(self, app_id: int, *, installation_id: int, account: str, repositories: list[str] | None = None,
                private_key: str | None = None) -> App:
        """A GitHub App installed on `account` (all its repositories, or only `repositories`)."""
        with self._lock:
            app = self.apps.get(app_id) or App(app_id, private_key or new_private_key())
            app.installations[installation_id] = account
            app.repositories[installation_id] = repositories
            self.apps[app_id] = app
            return app

    def repo(self, full_name: str) -> Repo:
        with self._lock:
            return self.repos.setdefault(full_name, Repo(full_name))

    def add_issue(self, full_name: str, title: str, *, state: str = "open", milestone: int | None = None,
                  labels: list[str] | None = None) -> Issue:
        repo = self.repo(full_name)
        with self._lock:
            issue = Issue(full_name, repo.next_number, title, state, list(labels or []), milestone=milestone)
            repo.issues[issue.number] = issue
            repo.next_number += 1
        return issue

    def add_milestone(self, full_name: str, number: int, title: str) -> None:
        with self._lock:
            self.repo(full_name).milestones[number] = title

    def close(self, full_name: str, number: int) -> None:
        with self._lock:
            self.repos[full_name].issues[number].state = "closed"

    def issue(self, full_name: str, number: int) -> Issue:
        with self._lock:
            return self.repos[full_name].issues[number]

    def add_to_project(self, full_name: str, number: int, *, field_name: str = "Estimate",
                       data_type: str = "NUMBER") -> tuple[str, str, str]:
        """Put an issue on a new Projects (v2) board that has a field `field_name`; (project, item, field) ids."""
        with self._lock:
            project = Project(f"PVT_{len(self.projects) + 1}")
            field_id = f"PVTF_{len(self.projects) + 1}"
            project.fields = {field_id: (field_name, data_type), f"{field_id}_title": ("Title", "TITLE")}
            self.projects[project.id] = project
            item_id = f"PVTI_{len(self.projects)}_{number}"
            self.repos[full_name].issues[number].project_items.append((item_id, project.id))
        return project.id, item_id, field_id

    def project_value(self, project_id: str, item_id: str, field_id: str) -> float | None:
        with self._lock:
            return self.projects[project_id].values.get(item_id, {}).get(field_id)

    def webhook(self, url: str, *, secret: str | None, full_name: str, number: int, action: str = "closed",
                delivery_id: str | None = None) -> tuple[int, str]:
        """Deliver an `issues` webhook about an issue, signed with `secret` (unsigned when None)."""
        with self._lock:
            payload = {"action": action, "issue": self._issue_json(self.repos[full_name].issues[number]),
                       "repository": {"full_name": full_name}}
        body = json.dumps(payload).encode()
        headers = {"X-GitHub-Event": "issues", "X-GitHub-Delivery": delivery_id or new_delivery_id()}
        if secret is not None:
            headers["X-Hub-Signature-256"] = signature(secret, body)
        return deliver(url, body, headers)

    # -- answering ------------------------------------------------------------------------------------------------
    def failure_reply(self, failure: Failure) -> Reply:
        headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else {}
        if failure.status == 403 and failure.retry_after is not None:
            return Reply(403, {"message": failure.message or SECONDARY, "documentation_url": DOCS}, headers)
        if failure.status == 401:
            return _error(401, failure.message or "Bad credentials")
        return Reply(failure.status, {"message": failure.message or "Server Error", "documentation_url": DOCS},
                     headers)

    def answer(self, request: Request) -> Reply:
        header = request.headers.get("authorization", "")
        token = header.split(" ", 1)[1] if header.startswith(("Bearer ", "token ")) else ""
        path, method = request.path, request.method
        if match := re.fullmatch(r"/app/installations/([^/]+)/access_tokens", path):
            return self._access_token(token, match.group(1)) if method == "POST" else _error(404, "Not Found")
        installation = self.installation_tokens.get(token)
        if installation is not None and installation.expires_at <= self.now():
            installation = None  # expired: GitHub no longer knows it
        login = self.tokens.get(token) or (installation.account if installation else None)
        if login is None:
            return _error(401, "Bad credentials")
        if method == "GET" and path == "/installation/repositories":
            if installation is None:
                return _error(403, "You must authenticate with an installation access token in order to list "
                                   "repositories for an installation.")
            return self._installation_repositories(installation, request.query)
        if method == "GET" and path == "/user":
            if installation is not None:
                return _error(403, "Resource not accessible by integration")
            return Reply(200, {"login": login, "id": 1000 + len(login), "type": "User"})
        if method == "GET" and path == "/search/issues":
            wanted = next((w[5:] for w in (request.query.get("q") or "").split() if w.startswith("repo:")), None)
            if installation is not None and wanted is not None and not self._visible(installation, wanted):
                return _unsearchable()
            return self._search(request.query)
        if method == "POST" and path == "/graphql":
            return self._graphql(token, request.body or {})
        if method == "GET" and path == "/search/users":
            email = (request.query.get("q") or "").removesuffix(" in:email").strip().lower()
            found = [{"login": who, "type": "User"} for mail, who in self.public_emails.items() if mail == email]
            return Reply(200, {"total_count": len(found), "incomplete_results": False, "items": found})
        match = re.fullmatch(r"/repos/([^/]+/[^/]+)(/.*)?", path)
        if match is None:
            return _error(404, "Not Found")
        repo = self.repos.get(match.group(1))
        if repo is None or (installation is not None and not self._visible(installation, repo.full_name)):
            return _error(404, "Not Found")
        rest = match.group(2) or ""
        writes = method in ("POST", "PATCH", "DELETE", "PUT")
        if writes and token in self.read_only:
            return _error(403, "Resource not accessible by personal access token")
        return self._repo(request, repo, method, rest)

    # -- GitHub Apps ------------------------------------------------------------------------------------------------
    def _access_token(self, jwt_text: str, installation: str) -> Reply:
        """POST /app/installations/{id}/access_tokens, authenticated with the App's JWT as GitHub checks it: RS256
        signed with the private key of the App named by `iss`, `iat` not in the future, `exp` in the future and at
        most 10 minutes after `iat`. The token is good for an hour."""
        try:
            claims = jwt.decode(jwt_text, options={"verify_signature": False})
            app = self.apps.get(int(claims.get("iss")))
            if app is None:
                raise jwt.InvalidTokenError("unknown App")
            jwt.decode(jwt_text, app.public_key, algorithms=["RS256"],
                       options={"verify_exp": False, "verify_iat": False, "verify_nbf": False})
        except (jwt.PyJWTError, TypeError, ValueError):
            return _error(401, JWT_UNDECODABLE)
        now = self.now().timestamp()
        iat, exp = claims.get("iat"), claims.get("exp")
        if not isinstance(iat, int) or iat > now + 60:  # GitHub allows a little clock drift
            return _error(401, JWT_IAT)
        if not isinstance(exp, int) or exp <= now:
            return _error(401, JWT_EXPIRED)
        if exp - iat > JWT_MAX_SECONDS or exp > now + JWT_MAX_SECONDS:
            return _error(401, JWT_TOO_LONG)
        if not installation.isdigit() or int(installation) not in app.installations:
            return _error(404, "Not Found")
        installation_id = int(installation)
        expires = (self.now() + self.token_lifetime).replace(microsecond=0)
        token = "ghs_" + secrets.token_urlsafe(27).replace("-", "A").replace("_", "B")
        self.installation_tokens[token] = InstallationToken(app.id, installation_id,
                                                            app.installations[installation_id], expires)
        selected = app.repositories[installation_id]
        return Reply(201, {"token": token, "expires_at": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
                           "permissions": {"issues": "write", "metadata": "read", "organization_projects": "write"},
                           "repository_selection": "all" if selected is None else "selected"})

    def _visible(self, installation: InstallationToken, full_name: str) -> bool:
        """Whether an installation's token may see the repository (an App sees only the repositories it is
        installed on)."""
        selected = self.apps[installation.app_id].repositories[installation.installation_id]
        if selected is None:
            return full_name.split("/")[0].lower() == installation.account.lower()
        return full_name in selected

    def _installation_repositories(self, installation: InstallationToken, query: dict[str, str]) -> Reply:
        visible = [r for r in self.repos.values() if self._visible(installation, r.full_name)]
        per_page = min(int(query.get("per_page") or 30), 100)
        page = int(query.get("page") or 1)
        shown = visible[(page - 1) * per_page : page * per_page]
        selected = self.apps[installation.app_id].repositories[installation.installation_id]
        return Reply(200, {"total_count": len(visible), "repository_selection": "all" if selected is None
                           else "selected", "repositories": [
                               {"id": 9000 + n, "name": r.full_name.split("/")[1], "full_name": r.full_name,
                                "private": True, "owner": {"login": r.full_name.split("/")[0], "type": "Organization"}}
                               for n, r in enumerate(shown)]})

    def _repo(self, request: Request, repo: Repo, method: str, rest: str) -> Reply:
        body = request.body or {}
        if rest == "/issues" and method == "GET":
            issues = list(repo.issues.values())
            if (milestone := request.query.get("milestone")) not in (None, "*"):
                issues = [i for i in issues if str(i.milestone) == milestone]
            state = request.query.get("state") or "open"
            if state != "all":
                issues = [i for i in issues if i.state == state]
            return Reply(200, [self._issue_json(i) for i in issues])
        if rest == "/issues" and method == "POST":
            if not body.get("title"):
                return _validation("Issue", "title", "missing_field")
            unknown = [a for a in body.get("assignees") or [] if a not in repo.collaborators]
            if unknown:
                return _validation("Issue", "assignees", "invalid")
            issue = self.add_issue(repo.full_name, str(body["title"]), labels=body.get("labels"))
            issue.assignees = list(body.get("assignees") or [])
            issue.body = str(body.get("body") or "")
            return Reply(201, self._issue_json(issue))
        if (match := re.fullmatch(r"/assignees/([^/]+)", rest)) and method == "GET":
            return Reply(204) if match.group(1) in repo.collaborators else _error(404, "Not Found")
        if rest == "/milestones" and method == "GET":
            return Reply(200, [{"number": n, "title": t, "state": "open"} for n, t in repo.milestones.items()])
        if match := re.fullmatch(r"/milestones/(\d+)", rest):
            title = repo.milestones.get(int(match.group(1)))
            return Reply(200, {"number": int(match.group(1)), "title": title, "state": "open"}) if title \
                else _error(404, "Not Found")
        match = re.fullmatch(r"/issues/(\d+)(/labels(?:/(.+))?)?", rest)
        if match is None:
            return _error(404, "Not Found")
        issue = repo.issues.get(int(match.group(1)))
        if issue is None:
            return _error(404, "Not Found")
        if match.group(2) is None:
            if method == "GET":
                return Reply(200, self._issue_json(issue))
            if method == "PATCH":
                if "state" in body:
                    if body["state"] not in ("open", "closed"):
                        return _validation("Issue", "state", "invalid")
                    issue.state = body["state"]
                if "labels" in body:
                    issue.labels = [str(label) for label in body["labels"]]
                if "title" in body:
                    issue.title = str(body["title"])
                return Reply(200, self._issue_json(issue))
        elif match.group(3) is None and method == "POST":
            labels = body.get("labels") if isinstance(body, dict) else body
            for label in labels or []:
                if label not in issue.labels:
                    issue.labels.append(str(label))
            return Reply(200, [{"name": label} for label in issue.labels])
        elif match.group(3) is not None and method == "DELETE":
            from urllib.parse import unquote

            name = unquote(match.group(3))
            if name not in issue.labels:
                return _error(404, "Label does not exist")
            issue.labels.remove(name)
            return Reply(200, [{"name": label} for label in issue.labels])
        return _error(404, "Not Found")

    def _graphql(self, token: str, body: dict[str, Any]) -> Reply:
        """The two operations Cadence sends: an issue's Projects (v2) items with their fields, and setting a number
        field's value on an item. GraphQL answers 200 with `errors` when it refuses."""
        query, variables = str(body.get("query") or ""), body.get("variables") or {}
        if "updateProjectV2ItemFieldValue" in query:
            if token in self.without_projects or token in self.read_only:
                return _graphql_error("FORBIDDEN", "Resource not accessible by personal access token")
            project = self.projects.get(str(variables.get("project")))
            item, field_id = str(variables.get("item")), str(variables.get("field"))
            if project is None or field_id not in project.fields:
                return _graphql_error("NOT_FOUND", f"Could not resolve to a node with the global id of "
                                                   f"'{variables.get('project')}'")
            if project.fields[field_id][1] != "NUMBER" or not isinstance(variables.get("value"), int | float):
                return _graphql_error("UNPROCESSABLE", "The field value is not a number")
            project.values.setdefault(item, {})[field_id] = float(variables["value"])
            return Reply(200, {"data": {"updateProjectV2ItemFieldValue": {"projectV2Item": {"id": item}}}})
        if "projectItems" in query:
            repo = self.repos.get(f"{variables.get('owner')}/{variables.get('name')}")
            issue = repo.issues.get(int(variables.get("number") or 0)) if repo else None
            if issue is None:
                return _graphql_error("NOT_FOUND", "Could not resolve to an Issue.")
            if token in self.without_projects:
                return Reply(200, {"data": {"repository": {"issue": {"projectItems": None}}}, "errors": [
                    {"type": "FORBIDDEN", "message": "Resource not accessible by personal access token",
                     "path": ["repository", "issue", "projectItems"]}]})
            nodes = [{"id": item_id, "project": {"id": project_id, "fields": {"nodes": [
                {"id": fid, "name": name, "dataType": kind}
                for fid, (name, kind) in self.projects[project_id].fields.items()]}}}
                for item_id, project_id in issue.project_items]
            return Reply(200, {"data": {"repository": {"issue": {"projectItems": {"nodes": nodes}}}}})
        return _graphql_error("UNSUPPORTED", "the fake GitHub does not answer this query")

    def _search(self, query: dict[str, str]) -> Reply:
        q = query.get("q") or ""
        wanted_repo = None
        state = None
        words = []
        for word in q.split():
            qualifier, _, value = word.partition(":")
            if not value:
                words.append(word.lower())
            elif qualifier == "repo":
                wanted_repo = value
            elif qualifier in ("is", "state") and value in ("open", "closed"):
                state = value
            elif qualifier in ("is", "type") and value in ("issue", "pr", "pull-request"):
                continue
            else:
                return Reply(422, {"message": "Validation Failed", "errors": [
                    {"message": f"The qualifier '{qualifier}' is not supported here.", "resource": "Search",
                     "field": "q", "code": "invalid"}], "documentation_url": DOCS})
        if wanted_repo is None or wanted_repo not in self.repos:
            return _unsearchable()
        found = [i for i in self.repos[wanted_repo].issues.values()
                 if (state is None or i.state == state) and all(w in i.title.lower() for w in words)]
        per_page = min(int(query.get("per_page") or 30), 100)
        page = int(query.get("page") or 1)
        items = found[(page - 1) * per_page : page * per_page]
        return Reply(200, {"total_count": len(found), "incomplete_results": False,
                           "items": [self._issue_json(i) for i in items]})

    def _issue_json(self, issue: Issue) -> dict[str, Any]:
        url = f"https://github.com/{issue.repo}/issues/{issue.number}"
        return {
            "id": 5000 + issue.number, "number": issue.number, "title": issue.title, "state": issue.state,
            "html_url": url, "url": f"{self.url}/repos/{issue.repo}/issues/{issue.number}",
            "labels": [{"name": label} for label in issue.labels],
            "assignees": [{"login": a} for a in issue.assignees],
            "milestone": {"number": issue.milestone} if issue.milestone is not None else None,
            "body": issue.body, "repository_url": f"{self.url}/repos/{issue.repo}",
        }


def _error(status: int, message: str) -> Reply:
    return Reply(status, {"message": message, "documentation_url": DOCS, "status": str(status)})


def _unsearchable() -> Reply:
    return Reply(422, {"message": "Validation Failed", "errors": [
        {"message": "The listed users and repositories cannot be searched either because the resources do not exist "
                    "or you do not have permission to view them.", "resource": "Search", "field": "q",
         "code": "invalid"}], "documentation_url": DOCS})


def _graphql_error(kind: str, message: str) -> Reply:
    return Reply(200, {"data": None, "errors": [{"type": kind, "message": message}]})


def _validation(resource: str, field_name: str, code: str) -> Reply:
    return Reply(422, {"message": "Validation Failed",
                       "errors": [{"resource": resource, "field": field_name, "code": code}],
                       "documentation_url": DOCS})
