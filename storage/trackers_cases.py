"""The trackers' use cases: each changes rows in the caller's transaction and queues what it causes (Slack messages
through storage/outbox.py, tracker changes through `tracker_writes`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ceremonies import poker, retro, sprint
from ceremonies import trackers as domain
from ceremonies.errors import InvalidInput, NotFound
from storage import outbox, poker_cases, retro_cases
from storage import poker as poker_store
from storage import retro as retro_store
from storage import sprint as sprints
from storage import trackers as store

SYNC_FAILURES_BACKOFF_MAX = timedelta(hours=1)


# -- poker ------------------------------------------------------------------------------------------------------------
def start_poker(
    session: Session,
    *,
    team_id: str,
    channel_id: str,
    facilitator_id: str,
    parent_ts: str,
    deck: poker.Deck,
    kind: domain.Kind,
    imported: domain.Imported,
    participants: Sequence[str],
    auto_reveal: bool,
    reveal_policy: poker.RevealPolicy,
    now: datetime,
) -> poker_cases.Started:
    """A poker session of the issues a tracker search found; each story remembers its issue, and the issues that did
    not fit are named in the thread."""
    started = poker_cases.start(session, team_id=team_id, channel_id=channel_id, facilitator_id=facilitator_id,
                                parent_ts=parent_ts, deck=deck, stories=imported.stories, participants=participants,
                                auto_reveal=auto_reveal, reveal_policy=reveal_policy, now=now)
    story_ids = [s.id for s in poker_store.stories_of(session, team_id=team_id, session_id=started.session_id)]
    store.link_stories(session, team_id=team_id, channel_id=channel_id, kind=kind, story_ids=story_ids,
                       issues=imported.issues)
    if imported.more:
        outbox.add(session, team_id=team_id, key=f"tracker.poker_more:{started.session_id}", kind="tracker.poker_more",
                   channel=channel_id, thread_ts=parent_ts, now=now,
                   text=f":information_source: {imported.more} more {domain.LABELS[kind]} issues matched and were not "
                        f"imported (at most {domain.IMPORT_MAX} a session): narrow the search, or start another "
                        "session for them.")
    return started


def estimate_written(session: Session, *, team_id: str, story_id: int, now: datetime) -> None:
    """The story's message shows where its estimate went (or why it has not yet)."""
    try:
        poker_cases.redraw_story(session, team_id=team_id, story_id=story_id, now=now)
    except NotFound:  # the session was deleted meanwhile: nothing shows it any more
        return


# -- sprints ----------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Synced:
    added: int
    done: int
    removed: int
    followed: bool  # False once the sprint ended (it is not synced any more)


def sync_sprint(session: Session, *, link_id: int, issues: Sequence[domain.TrackerIssue],
                now: datetime) -> Synced:
    """Bring the sprint's stories in line with the tracker's sprint or milestone.

    The first sync takes its issues as the committed stories (as of the sprint's start); an issue that appears later
    is a scope change, one that leaves is removed; an issue in Jira's "done" status category or closed on GitHub is a
    story done (and reopening it undoes that, when the tracker had done it)."""
    link = store.tracker_sprint(session, link_id=link_id)
    if link is None:
        return Synced(0, 0, 0, False)
    running = sprints.sprint_by_id(session, sprint_id=link.sprint_id)
    if running is None or running.ended_at is not None:
        link.next_sync_at = None
        return Synced(0, 0, 0, False)
    kind = link.kind
    first = link.last_synced_at is None
    rows = sprints.stories(session, team_id=link.team_id, sprint_id=running.id)
    by_key = {row.key.upper(): row for row in rows if row.key}
    seen: set[str] = set()
    added = done = removed = 0
    for issue in issues:
        key = issue.key[: sprint.STORY_KEY_LENGTH]
        seen.add(key.upper())
        row = by_key.get(key.upper())
        if row is None:
            row = sprints.SprintStory(
                team_id=link.team_id, channel_id=running.channel_id, sprint_id=running.id, key=key,
                title=issue.title[: sprint.STORY_TITLE_LENGTH], points=issue.points or 0.0, source=kind,
                committed=first, added_at=running.started_at if first else now, added_by=kind,
            )
            session.add(row)
            by_key[key.upper()] = row
            added += 1
        else:
            if row.removed_at is not None and row.removed_by == kind:  # it came back to the tracker's sprint
                row.removed_at, row.removed_by = None, None
            if issue.points is not None and not row.points:
                row.points = issue.points
        if issue.done and row.completed_at is None:
            row.completed_at, row.completed_by = max(now, row.added_at), kind
            done += 1
        elif not issue.done and row.completed_at is not None and row.completed_by == kind:
            row.completed_at, row.completed_by = None, None
    if not first:
        for row in rows:
            if row.source == kind and row.key and row.key.upper() not in seen and row.removed_at is None:
                row.removed_at, row.removed_by = now, kind
                removed += 1
    link.last_synced_at, link.last_error = now, None
    session.flush()
    return Synced(added, done, removed, True)


def sync_failed(session: Session, *, link_id: int, error: str, retry_at: datetime) -> None:
    """The tracker did not answer: the sprint goes on, and the next sync (at `retry_at`) catches up."""
    link = store.tracker_sprint(session, link_id=link_id)
    if link is not None and link.next_sync_at is not None:
        link.next_sync_at = retry_at
        link.last_error = domain.short_error(error, store.ERROR_LENGTH)


def link_running_sprint(session: Session, *, team_id: str, channel_id: str, sprint_id: int, link: domain.SprintLink,
                        now: datetime) -> None:
    """`/sprint start … --jira BOARD:SPRINT` or `--github owner/repo#N`: the sprint follows the tracker."""
    if store.connection(session, team_id=team_id, kind=link.kind, channel_id=channel_id) is None:
        raise InvalidInput(f"{domain.LABELS[link.kind]} is not connected: an admin connects it with "
                           f"`/cadence connect {link.kind.value}` first.")
    store.link_sprint(session, team_id=team_id, sprint_id=sprint_id, link=link, now=now)


# -- what a webhook says ----------------------------------------------------------------------------------------------
def issue_changed(session: Session, *, team_id: str, kind: domain.Kind, issue: domain.TrackerIssue,
                  now: datetime) -> int:
    """A tracker told of a change to an issue: its story in a followed sprint is done (or not) at once, its action
    item is done when it closed, and the followed sprints sync soon for issues that came or left. How many rows
    changed."""
    changed = 0
    for link in store.sprint_links_of(session, team_id=team_id, kind=kind):
        link.next_sync_at = min(link.next_sync_at or now, now)
        for row in sprints.stories(session, team_id=team_id, sprint_id=link.sprint_id):
            if (row.key or "").upper() != issue.key.upper() or row.removed_at is not None:
                continue
            if issue.done and row.completed_at is None:
                row.completed_at, row.completed_by = max(now, row.added_at), kind.value
                changed += 1
            elif not issue.done and row.completed_at is not None and row.completed_by == kind.value:
                row.completed_at, row.completed_by = None, None
                changed += 1
    for action in store.action_issues_by_ref(session, team_id=team_id, kind=kind, ref=issue.ref):
        if issue.done and not action.closed:
            action_issue_closed(session, row=action, now=now)
            changed += 1
    session.flush()
    return changed


# -- sprint review follow-ups ------------------------------------------------------------------------------------------
def queue_follow_up_issue(session: Session, *, team_id: str, channel_id: str, sprint_story_id: int, title: str,
                          note: str, by: str, now: datetime) -> bool:
    """A review's follow-up story gets an issue in the tracker serving the channel (Jira when both are), created by
    the tracker job; False when no tracker serves it."""
    kinds = store.connected_kinds(session, team_id=team_id, channel_id=channel_id)
    if not kinds:
        return False
    kind = domain.Kind.JIRA if domain.Kind.JIRA in kinds else kinds[0]
    connection = store.connection(session, team_id=team_id, kind=kind, channel_id=channel_id)
    assert connection is not None
    return store.add_write(session, team_id=team_id, key=f"tracker.follow_up:{sprint_story_id}", what=store.FOLLOW_UP,
                           kind=kind, target_id=sprint_story_id,
                           args={"title": title, "body": f"From a sprint review: {note}", "project": connection.project,
                                 "asked_by": by, "channel_id": channel_id},
                           now=now)


def follow_up_issue_created(session: Session, *, team_id: str, sprint_story_id: int, kind: domain.Kind,
                            issue: domain.TrackerIssue, asked_by: str, now: datetime) -> None:
    """The follow-up story takes the issue's key (so the sprint that follows the tracker, and `/sprint done`, know
    it), and who asked for it hears where it is."""
    row = session.get(sprints.SprintStory, sprint_story_id)
    if row is not None and row.team_id == team_id and not row.key:
        row.key = issue.key[: sprint.STORY_KEY_LENGTH]
    if asked_by:
        outbox.add(session, team_id=team_id, key=f"tracker.follow_up_created:{sprint_story_id}",
                   kind="tracker.issue_created", channel=asked_by, now=now,
                   text=f":white_check_mark: {domain.LABELS[kind]} issue <{issue.url}|{issue.key}> created for the "
                        "review's follow-up.")
    session.flush()


# -- retro action items -------------------------------------------------------------------------------------------------
def queue_action_issue(session: Session, *, team_id: str, item_id: int, kind: domain.Kind,
                       user_id: str, now: datetime) -> bool:
    """"Create issue" on an action item: the issue is created by the tracker job (False: it was asked for already)."""
    item = retro_store.get_action_item(session, team_id=team_id, item_id=item_id)
    connection = store.connection(session, team_id=team_id, kind=kind, channel_id=item.channel_id)
    if connection is None:
        raise InvalidInput(f"{domain.LABELS[kind]} is not connected: connect it with "
                           f"`/cadence connect {kind.value}` first.")
    if store.action_issue(session, team_id=team_id, item_id=item_id) is not None:
        return False
    body = f"Action item from a retrospective, owned by Slack user {item.owner_id}."
    if item.due_date is not None:
        body += f" Due {item.due_date.isoformat()}."
    return store.add_write(session, team_id=team_id, key=store.issue_key_for_item(item_id), what=store.ISSUE,
                           kind=kind, target_id=item_id,
                           args={"title": item.text, "body": body, "project": connection.project, "asked_by": user_id,
                                 "owner_id": item.owner_id, "channel_id": item.channel_id},
                           now=now)


def action_issue_created(session: Session, *, team_id: str, item_id: int, channel_id: str, kind: domain.Kind,
                         issue: domain.TrackerIssue, asked_by: str, now: datetime, every: timedelta) -> None:
    """Remember the issue of the action item (its closing is synced from now) and tell who asked for it."""
    store.record_action_issue(session, team_id=team_id, item_id=item_id, channel_id=channel_id, kind=kind,
                              issue=issue, now=now, every=every)
    if asked_by:
        outbox.add(session, team_id=team_id, key=f"tracker.issue_created:{item_id}", kind="tracker.issue_created",
                   channel=asked_by, now=now,
                   text=f":white_check_mark: {domain.LABELS[kind]} issue <{issue.url}|{issue.key}> created for the "
                        f"action item; when it is closed, the item is done.")


def action_issue_closed(session: Session, *, row: store.TrackerActionIssue, now: datetime) -> None:
    """The issue of an action item closed: the item is done, and a review of it waiting at a retro says so."""
    row.closed, row.next_sync_at = True, None
    item = retro_store.get_action_item(session, team_id=row.team_id, item_id=row.action_item_id)
    if item.status != retro.ActionStatus.OPEN:
        return
    item.status = retro.ActionStatus.DONE.value
    item.resolved_at, item.resolved_by, item.next_due_at = now, row.kind, None
    waiting = session.scalars(select(retro_store.RetroActionReview).where(
        retro_store.RetroActionReview.team_id == row.team_id,
        retro_store.RetroActionReview.action_item_id == item.id,
        retro_store.RetroActionReview.outcome.is_(None)))
    for review in waiting:
        review.outcome = retro.ReviewOutcome.DONE.value
        review.decided_by, review.decided_at = None, now  # nobody in Slack: the tracker settled it
        key = retro_cases.review_key(review.id)
        outbox.redraw(session, team_id=row.team_id, key=f"redraw:{key}", kind=retro_cases.REVIEW + "_redraw",
                      render=retro_cases.REVIEW, args={"team_id": row.team_id, "review_id": review.id}, ref_key=key,
                      now=now)
    session.flush()
