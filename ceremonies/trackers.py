"""Jira and GitHub as the team's trackers: what a connection needs, which issues a poker session or a sprint takes,
how an estimate is written back and when an issue counts as done. No HTTP here: bot/trackers talks to the trackers."""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from ceremonies.errors import InvalidInput
from ceremonies.poker import STORY_KEY_MAX_LENGTH, STORY_TITLE_MAX_LENGTH, StoryDraft, card_value


class Kind(StrEnum):
    JIRA = "jira"
    GITHUB = "github"


LABELS = {Kind.JIRA: "Jira", Kind.GITHUB: "GitHub"}
IMPORT_MAX = 50  # issues a poker session takes from a search; the rest are named, not imported
POINTS_FIELD_NAMES = ("story points", "story point estimate")  # Jira's names, company- and team-managed
PROJECT_FIELD_NAMES = ("estimate", "story points", "points", "size")  # a GitHub project's number field
ESTIMATE_LABEL = "estimate: "
URL_MAX = 500
PROJECT_MAX = 100
ACCOUNT_MAX = 200
TOKEN_MAX = 2000
PRIVATE_KEY_MAX = 3000  # Slack's plain_text_input max_length; an App's RSA-2048 PEM is about 1.7 KB
GITHUB_ID = re.compile(r"[0-9]{1,20}")  # an App's or an installation's ID
PEM = re.compile(r"-----BEGIN (RSA )?PRIVATE KEY-----\s+[A-Za-z0-9+/=\s]+-----END (RSA )?PRIVATE KEY-----")
JQL_MAX = 2000
REPO = re.compile(r"^[A-Za-z0-9_.-]{1,39}/[A-Za-z0-9_.-]{1,100}$")
JIRA_PROJECT = re.compile(r"^[A-Z][A-Z0-9_]{0,31}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def parse_kind(text: str) -> Kind:
    """`jira` or `github` as typed after `/cadence connect`."""
    try:
        return Kind(text.strip().lower())
    except ValueError:
        raise InvalidInput("say which tracker: `jira` or `github`.") from None


# -- connecting -------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Credentials:
    """What a connection authenticates with: an e-mail and API token (Jira Cloud), a personal access token (Jira
    Data Center, `email` empty), a GitHub token, or a GitHub App installation (`app_id` set, `token` empty)."""

    token: str
    email: str = ""
    app_id: int = 0
    installation_id: int = 0
    private_key: str = ""  # the App's PEM


def private_key_parts(pem: str) -> list[str]:
    """What of a private key must never be shown: the whole PEM and each line of its body (a log may quote it with
    its newlines escaped)."""
    body = [line.strip() for line in pem.splitlines() if line.strip() and not line.startswith("-----")]
    return [pem, "".join(body), *body] if pem else []


@dataclass(frozen=True)
class ConnectForm:
    """The connect modal's answers, checked."""

    kind: Kind
    site_url: str  # Jira's site; empty for GitHub (its API base URL is a setting)
    credentials: Credentials
    project: str  # Jira project key or GitHub owner/repo for new issues; may be empty


def check_connect_form(kind: Kind, *, site_url: str, email: str, token: str, project: str, app_id: str = "",
                       installation_id: str = "", private_key: str = ""
                       ) -> tuple[ConnectForm | None, dict[str, str]]:
    """The form, or its problems by field name (site_url, email, token, project, and GitHub App's app_id,
    installation_id, private_key). GitHub takes exactly one of two ways: a token, or a GitHub App's three fields."""
    problems: dict[str, str] = {}
    site_url, email, token, project = site_url.strip().rstrip("/"), email.strip(), token.strip(), project.strip()
    app_id, installation_id, private_key = app_id.strip(), installation_id.strip(), private_key.strip()
    app = kind is Kind.GITHUB and bool(app_id or installation_id or private_key)
    if app and token:
        problems["token"] = "Either a token or a GitHub App, not both: empty the token or the App's fields."
    elif app:
        problems.update(_app_problems(app_id, installation_id, private_key))
    elif not token:
        problems["token"] = ("Paste the token." if kind is Kind.JIRA
                             else "Paste a fine-grained token, or fill in the GitHub App's three fields.")
    elif len(token) > TOKEN_MAX or any(c.isspace() for c in token):
        problems["token"] = "This is not a token: it has spaces or is too long."
    if kind is Kind.JIRA:
        if not re.fullmatch(r"https?://[^\s/]+(/[^\s]*)?", site_url) or len(site_url) > URL_MAX:
            problems["site_url"] = "Give the site's address, e.g. https://your-team.atlassian.net"
        if email and not EMAIL.match(email):
            problems["email"] = "This is not an e-mail address."
        if project and not JIRA_PROJECT.match(project.upper()):
            problems["project"] = "A project key is letters and digits, e.g. PROJ."
        project = project.upper()
    else:
        site_url = ""
        email = ""
        if project and not REPO.match(project):
            problems["project"] = "Write the repository as owner/name, e.g. acme/shop."
    if problems:
        return None, problems
    if app:
        credentials = Credentials("", app_id=int(app_id), installation_id=int(installation_id),
                                  private_key=private_key + "\n")
        return ConnectForm(kind, site_url, credentials, project), {}
    return ConnectForm(kind, site_url, Credentials(token, email), project), {}


def _app_problems(app_id: str, installation_id: str, private_key: str) -> dict[str, str]:
    problems: dict[str, str] = {}
    if not (GITHUB_ID.fullmatch(app_id) and int(app_id) > 0):
        problems["app_id"] = "The App ID is a number, e.g. 123456 (the App's settings page, under About)."
    if not (GITHUB_ID.fullmatch(installation_id) and int(installation_id) > 0):
        problems["installation_id"] = ("The installation ID is a number: the end of the installation's settings "
                                       "address, …/settings/installations/12345678.")
    if len(private_key) > PRIVATE_KEY_MAX or not PEM.fullmatch(private_key):
        problems["private_key"] = ("Paste the App's private key: the whole .pem file, from -----BEGIN RSA PRIVATE "
                                   "KEY----- to -----END RSA PRIVATE KEY-----.")
    return problems


# -- issues -----------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TrackerIssue:
    """An issue as Cadence needs it: its key (PROJ-12, or shop#12 on GitHub), title, link, state and estimate."""

    key: str
    title: str
    url: str
    done: bool
    points: float | None = None
    ref: str = ""  # how the tracker addresses it: the Jira key, or owner/repo#number

    def draft(self) -> StoryDraft:
        return StoryDraft(key=self.key[:STORY_KEY_MAX_LENGTH], title=story_title(self.title, self.url))


def story_title(title: str, url: str) -> str:
    """The poker story's title: the issue's title and its link, within the stored length."""
    suffix = f" {url}" if url and len(url) < 200 else ""
    return " ".join(title.split())[: STORY_TITLE_MAX_LENGTH - len(suffix)] + suffix


def github_key(repo: str, number: int) -> str:
    """The story key of a GitHub issue: the repository's name and the number, e.g. shop#12."""
    return f"{repo.split('/')[-1]}#{number}"[-STORY_KEY_MAX_LENGTH:]


def github_ref(repo: str, number: int) -> str:
    return f"{repo}#{number}"


def parse_github_ref(ref: str) -> tuple[str, int]:
    """`owner/repo#12` → ("owner/repo", 12)."""
    repo, _, number = ref.rpartition("#")
    if not REPO.match(repo) or not number.isdigit():
        raise InvalidInput(f"`{ref[:60]}` is not an issue like owner/repo#12.")
    return repo, int(number)


@dataclass(frozen=True)
class Imported:
    """The stories a poker session takes from a search, and how many more matched (named, not imported)."""

    stories: tuple[StoryDraft, ...]
    issues: tuple[TrackerIssue, ...]
    more: int


def imported(issues: Sequence[TrackerIssue], total: int) -> Imported:
    """At most IMPORT_MAX issues become stories; the count of the rest is kept to be named."""
    taken = tuple(issues[:IMPORT_MAX])
    if not taken:
        raise InvalidInput("no issue matches that search: nothing to estimate.")
    return Imported(tuple(i.draft() for i in taken), taken, max(total, len(issues)) - len(taken))


# -- /poker jira|github ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class IssueSearch:
    """`/poker jira <JQL>` or `/poker github <owner/repo> [terms]`."""

    kind: Kind
    jql: str = ""
    repo: str = ""
    terms: str = ""

    def github_query(self) -> str:
        """GitHub's search: open issues of the repository whose text has the terms."""
        return f"repo:{self.repo} is:issue is:open {self.terms}".strip()

    @property
    def described(self) -> str:
        if self.kind is Kind.JIRA:
            return self.jql
        return f"{self.repo} {self.terms}".strip()


def parse_search(kind: Kind, text: str) -> IssueSearch:
    """The search typed after `/poker jira` or `/poker github`."""
    text = " ".join((text or "").split())
    if kind is Kind.JIRA:
        if not text:
            raise InvalidInput("write the JQL after `/poker jira`, e.g. `/poker jira project = PROJ AND sprint in "
                               "futureSprints()`.")
        if len(text) > JQL_MAX:
            raise InvalidInput(f"the JQL is longer than {JQL_MAX} characters.")
        return IssueSearch(kind, jql=text)
    repo, _, terms = text.partition(" ")
    if not REPO.match(repo):
        raise InvalidInput("write the repository after `/poker github`, e.g. `/poker github acme/shop checkout`.")
    if any(":" in word for word in terms.split()):
        raise InvalidInput("search words only after the repository (no qualifiers such as `label:`).")
    return IssueSearch(kind, repo=repo, terms=terms[:200])


# -- estimates going back -----------------------------------------------------------------------------------------------
def points_field(fields: Sequence[tuple[str, str]]) -> str | None:
    """The id of the site's story-points field among (id, name) pairs, found by its name."""
    by_name = {name.strip().lower(): field_id for field_id, name in fields}
    return next((by_name[name] for name in POINTS_FIELD_NAMES if name in by_name), None)


def project_field(fields: Sequence[tuple[str, str]]) -> str | None:
    """The id of a GitHub project's number field that holds estimates, among (id, name) pairs, found by its name."""
    by_name = {name.strip().lower(): field_id for field_id, name in fields}
    return next((by_name[name] for name in PROJECT_FIELD_NAMES if name in by_name), None)


def estimate_label(estimate: str) -> str:
    """The label that carries an estimate on a GitHub issue without a project: `estimate: 5`."""
    return f"{ESTIMATE_LABEL}{estimate}"


def stale_estimate_labels(labels: Sequence[str], estimate: str) -> list[str]:
    """Earlier estimate labels of the issue, to remove when a new estimate is written."""
    return [label for label in labels if label.lower().startswith(ESTIMATE_LABEL) and label != estimate_label(estimate)]


def card_points(estimate: str) -> float | None:
    """The number an accepted card stands for (None for T-shirt sizes, ? and ☕): what Jira's numeric field takes."""
    return card_value(estimate)


def points_from_labels(labels: Sequence[str]) -> float | None:
    """The points of an `estimate: N` label, if the issue has one."""
    for label in labels:
        if label.lower().startswith(ESTIMATE_LABEL):
            return card_value(label[len(ESTIMATE_LABEL):].strip())
    return None


@dataclass(frozen=True)
class EstimateWrite:
    """An accepted estimate on its way to the tracker: what the story message says about it."""

    issue_key: str
    state: str  # pending, written or failed
    error: str | None

    def line(self) -> str:
        if self.state == "written":
            return f":outbox_tray: Estimate written to {self.issue_key}."
        if self.state == "failed":
            return f":warning: Estimate not written to {self.issue_key}: {self.error or 'refused'}."
        if self.error:
            return f":hourglass: Not written to {self.issue_key} yet: {self.error} (trying again)."
        return f":hourglass: Writing the estimate to {self.issue_key}…"


# -- sprints following the tracker -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class SprintLink:
    """A sprint that follows a tracker: a Jira sprint (board and sprint ids) or a GitHub milestone."""

    kind: Kind
    board_id: int = 0
    sprint_id: int = 0
    repo: str = ""
    milestone: int = 0

    @property
    def described(self) -> str:
        if self.kind is Kind.JIRA:
            return f"Jira sprint {self.sprint_id} (board {self.board_id})"
        return f"GitHub milestone {self.milestone} of {self.repo}"


def split_link_option(text: str) -> tuple[SprintLink | None, str]:
    """`/sprint start` text without its `--jira BOARD:SPRINT` or `--github owner/repo#MILESTONE` option, and the
    link it asked for."""
    try:
        words = shlex.split(text.translate(str.maketrans({"“": '"', "”": '"'})))
    except ValueError:
        return None, text  # the sprint's own parser says what is wrong
    link = None
    kept: list[str] = []
    index = 0
    while index < len(words):
        word = words[index]
        if word in ("--jira", "--github"):
            if index + 1 >= len(words):
                raise InvalidInput(f"`{word}` needs a value.")
            link = parse_link(Kind(word[2:]), words[index + 1])
            index += 2
            continue
        kept.append(word)
        index += 1
    return link, shlex.join(kept) if link is not None else text


def parse_link(kind: Kind, value: str) -> SprintLink:
    if kind is Kind.JIRA:
        board, _, sprint = value.partition(":")
        if not (board.isdigit() and sprint.isdigit()):
            raise InvalidInput("link a Jira sprint as `--jira BOARD:SPRINT`, e.g. `--jira 12:345`.")
        return SprintLink(kind, board_id=int(board), sprint_id=int(sprint))
    repo, _, milestone = value.rpartition("#")
    if not REPO.match(repo) or not milestone.isdigit():
        raise InvalidInput("link a GitHub milestone as `--github owner/repo#MILESTONE`, e.g. `--github acme/shop#3`.")
    return SprintLink(kind, repo=repo, milestone=int(milestone))


# -- what a tracker said ----------------------------------------------------------------------------------------------
def short_error(text: str, limit: int = 200) -> str:
    """A tracker's error message on one line, short enough for a modal or a story message."""
    line = " ".join((text or "").split())
    return line if len(line) <= limit else line[: limit - 1] + "…"
