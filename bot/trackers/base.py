"""What every tracker client offers Cadence, and the one error they raise (with the tracker's own words)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from ceremonies import trackers as domain


@dataclass
class TrackerError(Exception):
    """The tracker refused or did not answer. `message` is what it said, fit to show people; `retry_after` is
    its Retry-After (seconds) when it asked to be left alone; `status` is the HTTP status (0: no answer)."""

    message: str
    status: int = 0
    retry_after: float | None = None
    final: bool = False  # trying again cannot help (a T-shirt size for Jira's numeric field)

    def __str__(self) -> str:
        return self.message

    @property
    def rate_limited(self) -> bool:
        return self.retry_after is not None


class Tracker(Protocol):
    """A connected Jira site or GitHub account."""

    def whoami(self) -> str:
        """Who the credentials belong to (one call: the check before a connection is saved)."""
        ...

    def search(self, search: domain.IssueSearch, *, limit: int) -> tuple[list[domain.TrackerIssue], int]:
        """Up to `limit` issues matching the search, and how many match in all."""
        ...

    def write_estimate(self, ref: str, estimate: str) -> None:
        """Put the accepted estimate on the issue."""
        ...

    def sprint_issues(self, link: domain.SprintLink) -> list[domain.TrackerIssue]:
        """The issues of a Jira sprint or a GitHub milestone, with whether each is done."""
        ...

    def issue(self, ref: str) -> domain.TrackerIssue:
        ...

    def create_issue(self, *, project: str, title: str, body: str, assignee_email: str | None = None
                     ) -> domain.TrackerIssue:
        """A new issue, assigned to the tracker's user with that e-mail when the tracker knows one."""
        ...
