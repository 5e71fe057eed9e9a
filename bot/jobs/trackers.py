"""Jira and GitHub on their own: the tracker outbox (estimates written back, issues created for action items) and
the syncs of followed sprints and action-item issues, each found by an indexed due time and claimed first.

A tracker that refuses or does not answer never blocks a ceremony: a write is given back with the tracker's
Retry-After (or a backoff) and its reason shown where it was asked for; a sync is simply due again later and
catches up. After a rate limit, the rest of that workspace's writes to that tracker wait out the same Retry-After
without calling."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from bot.server.runtime import Runtime
from bot.slack.gateway import SlackFailure
from bot.trackers import connections
from bot.trackers.base import Tracker, TrackerError
from ceremonies import trackers as domain
from storage import sprint as sprints
from storage import trackers as store
from storage import trackers_cases as cases

log = logging.getLogger("cadence.trackers")

LEASE = timedelta(minutes=2)
BATCH = 50
MAX_BACKOFF = timedelta(hours=1)
GIVE_UP_AFTER = 60  # attempts (about two and a half days of hourly tries): then the story says it was not written


def _backoff(attempts: int) -> timedelta:
    return min(MAX_BACKOFF, timedelta(seconds=30 * 2 ** max(attempts - 1, 0)))


def _tracker(runtime: Runtime, team_id: str, kind: domain.Kind, channel_id: str) -> Tracker:
    """The client of the connection serving the channel (its own, else the workspace's)."""
    with runtime.db.reading() as session:
        row = store.connection(session, team_id=team_id, kind=kind, channel_id=channel_id)
    return connections.open_tracker(runtime.settings, row)


def _sync_every(runtime: Runtime) -> timedelta:
    return timedelta(minutes=runtime.settings.tracker_sync_minutes)


# -- the tracker outbox ---------------------------------------------------------------------------------------------
def deliver_writes(runtime: Runtime, now: datetime) -> None:
    """Write accepted estimates back and create the issues asked for, each once."""
    with runtime.db.transaction() as session:
        claimed = store.claim_writes(session, now=now, lease=LEASE, limit=BATCH)
    trackers: dict[tuple[str, domain.Kind, str], Tracker | TrackerError] = {}
    for write in claimed:
        channel_id = str(write.args.get("channel_id") or store.WORKSPACE)
        group = (write.team_id, write.kind, channel_id)
        if group not in trackers:
            try:
                trackers[group] = _tracker(runtime, write.team_id, write.kind, channel_id)
            except TrackerError as error:
                trackers[group] = error
        tracker = trackers[group]
        try:
            if isinstance(tracker, TrackerError):
                raise tracker
            _deliver(runtime, tracker, write, now)
        except TrackerError as refused:
            if refused.rate_limited:  # the rest of this group waits it out too, without calling
                trackers[group] = refused
            _refused(runtime, write, refused, now)


def _deliver(runtime: Runtime, tracker: Tracker, write: store.ClaimedWrite, now: datetime) -> None:
    if write.what == store.ESTIMATE:
        tracker.write_estimate(str(write.args["ref"]), str(write.args["estimate"]))
        with runtime.db.transaction() as session:
            if store.write_done(session, write, now=now):
                cases.estimate_written(session, team_id=write.team_id, story_id=write.target_id, now=now)
        return
    if write.what == store.FOLLOW_UP:
        issue = tracker.create_issue(project=str(write.args.get("project") or ""), title=str(write.args["title"]),
                                     body=str(write.args.get("body") or ""))
        with runtime.db.transaction() as session:
            if store.write_done(session, write, now=now, result={"issue_key": issue.key, "url": issue.url}):
                cases.follow_up_issue_created(session, team_id=write.team_id, sprint_story_id=write.target_id,
                                              kind=write.kind, issue=issue,
                                              asked_by=str(write.args.get("asked_by") or ""), now=now)
        return
    issue = tracker.create_issue(project=str(write.args.get("project") or ""), title=str(write.args["title"]),
                                 body=str(write.args.get("body") or ""),
                                 assignee_email=_email(runtime, write.team_id, str(write.args.get("owner_id") or "")))
    with runtime.db.transaction() as session:
        if store.write_done(session, write, now=now, result={"issue_key": issue.key, "url": issue.url}):
            cases.action_issue_created(session, team_id=write.team_id, item_id=write.target_id,
                                       channel_id=str(write.args.get("channel_id") or ""), kind=write.kind,
                                       issue=issue, asked_by=str(write.args.get("asked_by") or ""), now=now,
                                       every=_sync_every(runtime))


def _email(runtime: Runtime, team_id: str, user_id: str) -> str | None:
    """The Slack e-mail of the action item's owner (users:read.email), by which the tracker may know them."""
    if not user_id:
        return None
    try:
        user = runtime.gateway.for_team(team_id).user_info(user=user_id)
    except SlackFailure:  # the issue is created all the same, unassigned
        return None
    return str((user.get("profile") or {}).get("email") or "") or None


def _refused(runtime: Runtime, write: store.ClaimedWrite, refused: TrackerError, now: datetime) -> None:
    log.warning("%s write %s not done (attempt %d): %s", write.kind.value, write.key, write.attempts, refused.message,
                extra={"team": write.team_id})
    with runtime.db.transaction() as session:
        if refused.final or write.attempts >= GIVE_UP_AFTER:
            store.write_failed(session, write, now=now, error=refused.message)
        else:
            wait = timedelta(seconds=refused.retry_after) if refused.retry_after else _backoff(write.attempts)
            store.write_retry(session, write, at=now + wait, error=refused.message)
        if write.what == store.ESTIMATE:  # the story says why its estimate is not there yet
            cases.estimate_written(session, team_id=write.team_id, story_id=write.target_id, now=now)


# -- syncs ----------------------------------------------------------------------------------------------------------
def sync_sprints(runtime: Runtime, now: datetime) -> None:
    """Followed sprints whose sync is due take the tracker's issues: committed, added, removed and done."""
    every = _sync_every(runtime)
    with runtime.db.transaction() as session:
        due = store.claim_due_sprints(session, now=now, every=every)
    for link_id in due:
        with runtime.db.reading() as session:
            row = store.tracker_sprint(session, link_id=link_id)
            if row is None:
                continue
            team_id, kind, link = row.team_id, domain.Kind(row.kind), row.link()
            followed = sprints.sprint_by_id(session, sprint_id=row.sprint_id)
            channel_id = followed.channel_id if followed is not None else store.WORKSPACE
        try:
            issues = _tracker(runtime, team_id, kind, channel_id).sprint_issues(link)
        except TrackerError as refused:
            wait = timedelta(seconds=refused.retry_after) if refused.retry_after else every
            log.warning("could not sync %s: %s", link.described, refused.message, extra={"team": team_id})
            with runtime.db.transaction() as session:
                cases.sync_failed(session, link_id=link_id, error=refused.message, retry_at=now + wait)
            continue
        with runtime.db.transaction() as session:
            cases.sync_sprint(session, link_id=link_id, issues=issues, now=now)


def sync_action_issues(runtime: Runtime, now: datetime) -> None:
    """Issues created for action items are looked at when due: a closed one marks its item done."""
    with runtime.db.transaction() as session:
        due = [(r.id, r.team_id, domain.Kind(r.kind), r.ref, r.channel_id) for r in
               store.claim_due_action_issues(session, now=now, every=_sync_every(runtime))]
    for row_id, team_id, kind, ref, channel_id in due:
        try:
            issue = _tracker(runtime, team_id, kind, channel_id).issue(ref)
        except TrackerError as refused:
            log.warning("could not look at %s: %s", ref, refused.message, extra={"team": team_id})
            continue
        if issue.done:
            with runtime.db.transaction() as session:
                row = session.get(store.TrackerActionIssue, row_id)
                if row is not None and not row.closed:
                    cases.action_issue_closed(session, row=row, now=now)


JOBS = (deliver_writes, sync_sprints, sync_action_issues)
