"""A fake Jira (Cloud REST v3 and v2 for Data Center, and the Agile API) over HTTP, as strict as the parts Cadence
uses: basic auth with an account's e-mail and API token (or a Bearer personal access token), 401/403/404 in Jira's
own words, 429 with Retry-After, a small JQL, fields found by name, and admin webhooks signed with X-Hub-Signature.

    jira = FakeJira().start()
    jira.add_account("ada@example.com", "api-token-1")
    jira.add_issue("PROJ-1", "Pay by card")
    jira.fail("PUT /rest/api/3/issue", status=429, retry_after=30)
"""

from __future__ import annotations

import base64
import itertools
import json
import re
from dataclasses import dataclass, field
from typing import Any

from bot.devtools.fakeservice import Failure, FakeService, Reply, Request, deliver, new_delivery_id, signature

STORY_POINTS_FIELD = "customfield_10016"
SPRINT_FIELD = "customfield_10020"
NOT_AUTHENTICATED = "Client must be authenticated to access this resource."
NO_ISSUE = "Issue does not exist or you do not have permission to see it."
CATEGORIES = {"new": "To Do", "indeterminate": "In Progress", "done": "Done"}


@dataclass
class Issue:
    key: str
    summary: str
    status: str = "To Do"
    category: str = "new"  # Jira's status category key: new, indeterminate or done
    points: float | None = None
    assignee: str | None = None  # an accountId
    issue_type: str = "Story"
    sprint: int | None = None
    id: int = 0

    @property
    def project(self) -> str:
        return self.key.split("-")[0]


@dataclass
class Sprint:
    id: int
    name: str
    board_id: int
    state: str = "active"


@dataclass
class Account:
    account_id: str
    email: str
    display_name: str
    token: str | None = None  # API token (Cloud, basic auth)
    pat: str | None = None  # personal access token (Data Center, Bearer)
    may_edit: bool = True


@dataclass
class JiraState:
    issues: dict[str, Issue] = field(default_factory=dict)
    sprints: dict[int, Sprint] = field(default_factory=dict)
    accounts: list[Account] = field(default_factory=list)
    # Fields by id; the story-points field is named as on a team-managed Cloud project by default.
    fields: dict[str, str] = field(default_factory=lambda: {
        "summary": "Summary", "status": "Status", "assignee": "Assignee", SPRINT_FIELD: "Sprint",
        STORY_POINTS_FIELD: "Story point estimate",
    })


class FakeJira(FakeService):
    name = "jira"

    def __init__(self) -> None:
        super().__init__()
        self.state = JiraState()
        self._ids = itertools.count(10001)

    # -- arranging ------------------------------------------------------------------------------------------------
    def add_account(self, email: str, token: str | None = None, *, pat: str | None = None,
                    display_name: str | None = None, may_edit: bool = True) -> Account:
        account = Account(f"acc-{len(self.state.accounts) + 1}", email, display_name or email.split("@")[0].title(),
                          token, pat, may_edit)
        with self._lock:
            self.state.accounts.append(account)
        return account

    def add_issue(self, key: str, summary: str, *, category: str = "new", points: float | None = None,
                  sprint: int | None = None, assignee: str | None = None) -> Issue:
        issue = Issue(key, summary, CATEGORIES[category], category, points, assignee, sprint=sprint,
                      id=next(self._ids))
        with self._lock:
            self.state.issues[key] = issue
        return issue

    def add_sprint(self, sprint_id: int, name: str, *, board_id: int = 1, state: str = "active") -> Sprint:
        sprint = Sprint(sprint_id, name, board_id, state)
        with self._lock:
            self.state.sprints[sprint_id] = sprint
        return sprint

    def set_status(self, key: str, category: str) -> None:
        with self._lock:
            issue = self.state.issues[key]
            issue.category, issue.status = category, CATEGORIES[category]

    def rename_points_field(self, name: str) -> None:
        """Name the story-points field as a company-managed project does ("Story Points")."""
        with self._lock:
            self.state.fields[STORY_POINTS_FIELD] = name

    def issue(self, key: str) -> Issue:
        with self._lock:
            return self.state.issues[key]

    def webhook(self, url: str, *, secret: str | None, issue_key: str, event: str = "jira:issue_updated",
                delivery_id: str | None = None) -> tuple[int, str]:
        """Deliver an admin webhook about an issue, signed with `secret` (unsigned when None)."""
        with self._lock:
            payload = {"timestamp": 1, "webhookEvent": event, "issue": self._issue_json(self.state.issues[issue_key])}
        body = json.dumps(payload).encode()
        headers = {"X-Atlassian-Webhook-Identifier": delivery_id or new_delivery_id(),
                   "X-Atlassian-Webhook-Flow": "Primary"}
        if secret is not None:
            headers["X-Hub-Signature"] = signature(secret, body)
        return deliver(url, body, headers)

    # -- answering ------------------------------------------------------------------------------------------------
    def failure_reply(self, failure: Failure) -> Reply:
        headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else None
        if failure.status == 401:
            return Reply(401, failure.message or NOT_AUTHENTICATED, headers, "text/plain;charset=UTF-8")
        message = failure.message or ("Rate limit exceeded." if failure.status == 429 else "Internal server error")
        return Reply(failure.status, {"errorMessages": [message], "errors": {}}, headers)

    def _account(self, request: Request) -> Account | None:
        header = request.headers.get("authorization", "")
        if header.startswith("Basic "):
            try:
                email, _, token = base64.b64decode(header[6:]).decode().partition(":")
            except ValueError:
                return None
            return next((a for a in self.state.accounts if a.email == email and a.token and a.token == token), None)
        if header.startswith("Bearer "):
            pat = header[7:]
            return next((a for a in self.state.accounts if a.pat and a.pat == pat), None)
        return None

    def answer(self, request: Request) -> Reply:
        account = self._account(request)
        if account is None:
            return Reply(401, NOT_AUTHENTICATED, None, "text/plain;charset=UTF-8")
        path, method = request.path, request.method
        if match := re.fullmatch(r"/rest/api/([23])/(.+)", path):
            version, rest = match.group(1), match.group(2)
            return self._core(request, account, version, method, rest)
        if match := re.fullmatch(r"/rest/agile/1\.0/(.+)", path):
            return self._agile(request, method, match.group(1))
        return _error(404, "Not Found")

    def _core(self, request: Request, account: Account, version: str, method: str, rest: str) -> Reply:
        if method == "GET" and rest == "myself":
            return Reply(200, {"accountId": account.account_id, "emailAddress": account.email,
                               "displayName": account.display_name, "active": True})
        if method == "GET" and rest == "field":
            return Reply(200, [{"id": fid, "key": fid, "name": name, "custom": fid.startswith("customfield_"),
                                "schema": {"type": "number" if fid == STORY_POINTS_FIELD else "string"}}
                               for fid, name in self.state.fields.items()])
        if method == "GET" and rest in ("search/jql", "search"):
            if rest == "search/jql" and version != "3":
                return _error(404, "Not Found")
            return self._search(request.query)
        if method == "POST" and rest == "search/approximate-count" and version == "3":
            try:
                count = len([i for i in self.state.issues.values() if _matches(i, (request.body or {}).get("jql", ""))])
            except ValueError as problem:
                return Reply(400, {"errorMessages": [str(problem)], "errors": {}})
            return Reply(200, {"count": count})
        if method == "GET" and rest == "user/search":
            query = (request.query.get("query") or request.query.get("username") or "").lower()
            return Reply(200, [{"accountId": a.account_id, "name": a.email, "displayName": a.display_name,
                                "emailAddress": a.email, "active": True}
                               for a in self.state.accounts if query and query in a.email.lower()])
        if match := re.fullmatch(r"issue/([A-Z][A-Z0-9]*-\d+)", rest):
            issue = self.state.issues.get(match.group(1))
            if issue is None:
                return _error(404, NO_ISSUE)
            if method == "GET":
                return Reply(200, self._issue_json(issue))
            if method == "PUT":
                return self._edit(issue, account, request.body or {})
        if method == "POST" and rest == "issue":
            return self._create(account, request.body or {})
        return _error(404, "Not Found")

    def _edit(self, issue: Issue, account: Account, body: dict[str, Any]) -> Reply:
        if not account.may_edit:
            return _error(403, "You do not have permission to edit issues in this project.")
        problems = {}
        for field_id, value in (body.get("fields") or {}).items():
            if field_id not in self.state.fields:
                problems[field_id] = (f"Field '{field_id}' cannot be set. It is not on the appropriate screen, "
                                      "or unknown.")
            elif field_id == STORY_POINTS_FIELD and not (value is None or isinstance(value, int | float)):
                problems[field_id] = "Operation value must be a number."
        if problems:
            return Reply(400, {"errorMessages": [], "errors": problems})
        fields = body.get("fields") or {}
        if STORY_POINTS_FIELD in fields:
            issue.points = fields[STORY_POINTS_FIELD]
        if "summary" in fields:
            issue.summary = str(fields["summary"])
        return Reply(204)

    def _create(self, account: Account, body: dict[str, Any]) -> Reply:
        if not account.may_edit:
            return _error(403, "You do not have permission to create issues in this project.")
        fields = body.get("fields") or {}
        project = (fields.get("project") or {}).get("key")
        problems = {}
        if not project:
            problems["project"] = "Specify a valid project ID or key"
        if not fields.get("summary"):
            problems["summary"] = "You must specify a summary of the issue."
        if not (fields.get("issuetype") or {}).get("name"):
            problems["issuetype"] = "Specify an issue type"
        assignee = (fields.get("assignee") or {}).get("accountId")
        if assignee is not None and all(a.account_id != assignee for a in self.state.accounts):
            problems["assignee"] = f"User '{assignee}' cannot be assigned issues."
        if problems:
            return Reply(400, {"errorMessages": [], "errors": problems})
        number = 1 + max((int(k.split("-")[1]) for k in self.state.issues if k.startswith(f"{project}-")), default=0)
        issue = Issue(f"{project}-{number}", str(fields["summary"]), assignee=assignee,
                      issue_type=fields["issuetype"]["name"], id=next(self._ids))
        self.state.issues[issue.key] = issue
        return Reply(201, {"id": str(issue.id), "key": issue.key, "self": f"{self.url}/rest/api/3/issue/{issue.id}"})

    def _search(self, query: dict[str, str]) -> Reply:
        jql = query.get("jql") or ""
        try:
            _matches(Issue("X-1", ""), jql)  # a bad query is refused even when no issue would be looked at
            matching = [i for i in self.state.issues.values() if _matches(i, jql)]
        except ValueError as problem:
            return Reply(400, {"errorMessages": [str(problem)], "errors": {}})
        matching.sort(key=lambda i: (i.project, int(i.key.split("-")[1])))
        limit = min(int(query.get("maxResults") or 50), 100)
        start = int(query.get("nextPageToken") or query.get("startAt") or 0)
        page = matching[start : start + limit]
        body: dict[str, Any] = {"issues": [self._issue_json(i) for i in page]}
        if start + limit < len(matching):
            body["nextPageToken"] = str(start + limit)
        body["isLast"] = start + limit >= len(matching)
        body.update(startAt=start, maxResults=limit, total=len(matching))  # /search (v2) pages by startAt
        return Reply(200, body)

    def _agile(self, request: Request, method: str, rest: str) -> Reply:
        if method != "GET":
            return _error(405, "Method Not Allowed")
        if match := re.fullmatch(r"board/(\d+)/sprint", rest):
            board = int(match.group(1))
            sprints = [s for s in self.state.sprints.values() if s.board_id == board]
            if not sprints:
                return _error(404, "The requested board cannot be viewed because it either does not exist or you "
                                   "do not have permission to view it.")
            return Reply(200, {"maxResults": 50, "startAt": 0, "isLast": True,
                               "values": [self._sprint_json(s) for s in sprints]})
        if match := re.fullmatch(r"sprint/(\d+)(/issue)?", rest):
            sprint = self.state.sprints.get(int(match.group(1)))
            if sprint is None:
                return _error(404, "Sprint does not exist or you do not have permission to view it.")
            if not match.group(2):
                return Reply(200, self._sprint_json(sprint))
            issues = [self._issue_json(i) for i in self.state.issues.values() if i.sprint == sprint.id]
            start = int(request.query.get("startAt") or 0)
            limit = int(request.query.get("maxResults") or 50)
            return Reply(200, {"startAt": start, "maxResults": limit, "total": len(issues),
                               "issues": issues[start : start + limit]})
        return _error(404, "Not Found")

    def _sprint_json(self, sprint: Sprint) -> dict[str, Any]:
        return {"id": sprint.id, "self": f"{self.url}/rest/agile/1.0/sprint/{sprint.id}", "state": sprint.state,
                "name": sprint.name, "originBoardId": sprint.board_id}

    def _issue_json(self, issue: Issue) -> dict[str, Any]:
        category = {"key": issue.category, "name": CATEGORIES[issue.category]}
        fields: dict[str, Any] = {
            "summary": issue.summary,
            "status": {"name": issue.status, "statusCategory": category},
            "issuetype": {"name": issue.issue_type},
            "project": {"key": issue.project},
            "assignee": {"accountId": issue.assignee} if issue.assignee else None,
            STORY_POINTS_FIELD: issue.points,
            SPRINT_FIELD: [self._sprint_json(self.state.sprints[issue.sprint])]
            if issue.sprint in self.state.sprints else None,
        }
        return {"id": str(issue.id), "key": issue.key, "self": f"{self.url}/rest/api/3/issue/{issue.id}",
                "fields": fields}


def _error(status: int, message: str) -> Reply:
    return Reply(status, {"errorMessages": [message], "errors": {}})


# -- a small JQL: clauses joined by AND, ORDER BY ignored -------------------------------------------------------------
_CLAUSE = re.compile(
    r'\s*(?P<field>[a-zA-Z]+)\s*(?P<op>=|!=|~|\bin\b)\s*(?P<value>"[^"]*"|\([^)]*\)|[^\s()]+)\s*', re.IGNORECASE)


def _matches(issue: Issue, jql: str) -> bool:
    """Whether `issue` matches `jql` (project, key, sprint, status, statusCategory, summary/text ~; AND only)."""
    text = re.split(r"\border\s+by\b", jql, flags=re.IGNORECASE)[0].strip()
    if not text:
        return True
    for clause in re.split(r"\s+AND\s+", text, flags=re.IGNORECASE):
        match = _CLAUSE.fullmatch(clause)
        if match is None:
            raise ValueError(f"Error in the JQL Query: the clause '{clause.strip()[:60]}' is not valid.")
        name, op, raw = match.group("field").lower(), match.group("op").lower(), match.group("value")
        values = [v.strip().strip('"') for v in raw.strip("()").split(",")] if op == "in" else [raw.strip('"')]
        actual = {
            "project": issue.project, "key": issue.key, "issuekey": issue.key, "status": issue.status,
            "statuscategory": CATEGORIES[issue.category], "sprint": str(issue.sprint or ""),
            "summary": issue.summary, "text": issue.summary,
        }.get(name)
        if actual is None:
            raise ValueError(f"Field '{match.group('field')}' does not exist or you do not have permission to view it.")
        if op == "~":
            ok = values[0].lower() in actual.lower()
        else:
            ok = actual.lower() in [v.lower() for v in values]
            ok = not ok if op == "!=" else ok
        if not ok:
            return False
    return True
