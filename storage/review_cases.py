"""The sprint review's use cases: each changes rows in the caller's transaction and queues, in that same
transaction, every message the change causes (storage/outbox.py).

The review's messages are drawn by renderers (bot/jobs/review.py) from the current rows when they are delivered, so
their outbox rows carry only ids; each reaction asks for one redraw of its story's message (`outbox.redraw`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ceremonies import review as domain
from ceremonies import sprint as sprint_domain
from ceremonies.errors import InvalidInput, NotFound
from storage import outbox
from storage import review as store
from storage import sprint as sprints

# Outbox kinds, which are also the names of their renderers.
HEADER = "review.header"
STORY = "review.story"
QUESTION = "review.question"
ASKED = "review.asked"  # the presenter's DM about a question
INVITE = "review.invite"  # a stakeholder's DM, or the invitation in the stakeholders' channel
CLOSING = "review.closing"
FOLLOW_UP_SOURCE = "review"  # the source of a follow-up story in the sprint's backlog


def header_key(review_id: int) -> str:
    return f"{HEADER}:{review_id}"


def story_key(story_id: int) -> str:
    return f"{STORY}:{story_id}"


def question_key(question_id: int) -> str:
    return f"{QUESTION}:{question_id}"


# -- starting ----------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Candidate:
    """A sprint story the review will show, with who presents it unless the facilitator picks someone else."""

    sprint_story_id: int
    key: str | None
    title: str
    points: float
    finished: bool
    presenter_id: str


@dataclass(frozen=True)
class Target:
    """What `/review` in a channel would review: the sprint, its facilitator and its stories."""

    sprint_id: int
    sprint_name: str
    channel_id: str
    facilitator_id: str
    stories: tuple[Candidate, ...]


def target(session: Session, *, team_id: str, channel_id: str, now: datetime) -> Target:
    """The channel's sprint to review now, or the one clear reason why there is none."""
    sprint = _sprint_to_review(session, team_id=team_id, channel_id=channel_id, now=now)
    existing = store.review_of_sprint(session, sprint_id=sprint.id)
    if existing is not None and existing.closed_at is None:
        raise InvalidInput(f"The review of “{sprint.name}” is open: react on its stories in the channel, or close "
                           "it with `/review close`.")
    if existing is not None:
        raise InvalidInput(f"“{sprint.name}” has been reviewed already; its outcome is in the sprint summary.")
    rows = [s for s in sprints.stories(session, team_id=team_id, sprint_id=sprint.id) if s.removed_at is None]
    rows.sort(key=lambda s: s.completed_at is None)  # finished stories first, each group in the sprint's order
    if not rows:
        raise InvalidInput(f"“{sprint.name}” has no stories to review. Add them with `/sprint add`.")
    # The sprint records who marked a story done: the person who did it, as a rule, and so its presenter.
    candidates = tuple(Candidate(s.id, s.key, s.title, s.points, s.completed_at is not None,
                                 domain.default_presenter(owner_id=s.completed_by, facilitator_id=sprint.started_by))
                       for s in rows)
    return Target(sprint.id, sprint.name, channel_id, sprint.started_by, candidates)


def _sprint_to_review(session: Session, *, team_id: str, channel_id: str, now: datetime) -> sprints.Sprint:
    """The running sprint near its end or, when it is not (the next one started already), the one that just ended."""
    found = store.sprints_to_review(session, team_id=team_id, channel_id=channel_id)
    if not found:
        raise NotFound("No sprint is running or just ended in this channel, so there is nothing to review. "
                       "Start one with `/sprint start`.")
    problems = []
    for sprint in found:
        try:
            domain.check_reviewable(name=sprint.name, ends_on=sprint.ends_on, timezone=sprint.timezone,
                                    ended_at=sprint.ended_at, now=now)
        except InvalidInput as problem:
            problems.append(problem)
            continue
        return sprint
    raise problems[0]


@dataclass(frozen=True)
class Plan:
    """What the facilitator chose in the review's modal."""

    sprint_id: int
    stakeholder_ids: tuple[str, ...] = ()
    stakeholder_channel_id: str | None = None
    presenters: dict[int, str] = field(default_factory=dict)  # sprint story id -> presenter
    note: str = ""
    window: str = domain.DEFAULT_WINDOW


@dataclass(frozen=True)
class Started:
    review_id: int
    sprint_name: str
    stories: int


def start(session: Session, *, team_id: str, channel_id: str, plan: Plan, by: str, now: datetime) -> Started:
    """Start the review: store it and queue its header and one message per story in the team channel (the
    stakeholders' DMs and invitation follow once the header is posted, to link to it)."""
    found = target(session, team_id=team_id, channel_id=channel_id, now=now)
    if found.sprint_id != plan.sprint_id:
        raise InvalidInput("The channel's sprint changed while the form was open; run `/review` again.")
    review = store.Review(team_id=team_id, channel_id=channel_id, sprint_id=found.sprint_id,
                          sprint_name=found.sprint_name, facilitator_id=by, note=domain.clean_review_note(plan.note),
                          stakeholder_channel_id=domain.slack_channel(plan.stakeholder_channel_id),
                          started_at=now, closes_at=now + domain.parse_window(plan.window))
    session.add(review)
    session.flush()
    for user_id in domain.slack_users(plan.stakeholder_ids):
        session.add(store.ReviewStakeholder(team_id=team_id, review_id=review.id, user_id=user_id))
    outbox.add(session, team_id=team_id, key=header_key(review.id), kind=HEADER, channel=channel_id, render=HEADER,
               args={"team_id": team_id, "review_id": review.id}, now=now)
    for position, candidate in enumerate(found.stories):
        chosen = domain.slack_users([plan.presenters.get(candidate.sprint_story_id)])
        story = store.ReviewStory(team_id=team_id, review_id=review.id, position=position,
                                  sprint_story_id=candidate.sprint_story_id, key=candidate.key, title=candidate.title,
                                  points=candidate.points, finished=candidate.finished,
                                  presenter_id=chosen[0] if chosen else candidate.presenter_id,
                                  link=domain.story_link(candidate.key, candidate.title))
        session.add(story)
        session.flush()
        outbox.add(session, team_id=team_id, key=story_key(story.id), kind=STORY, channel=channel_id, render=STORY,
                   args={"team_id": team_id, "story_id": story.id}, now=now)
    return Started(review.id, found.sprint_name, len(found.stories))


def header_posted(session: Session, *, team_id: str, review_id: int, channel: str, ts: str, now: datetime) -> None:
    """The header is in the channel: remember it, DM each stakeholder the link, and invite the stakeholders' channel."""
    review = store.get_review(session, team_id=team_id, review_id=review_id)
    review.message_ts = ts
    args = {"team_id": team_id, "review_id": review_id, "channel": channel, "ts": ts}
    for user_id in store.stakeholders(session, team_id=team_id, review_id=review_id):
        outbox.add(session, team_id=team_id, key=f"{INVITE}:{review_id}:{user_id}", kind=INVITE, channel=user_id,
                   render=INVITE, args=args, now=now)
    if review.stakeholder_channel_id and review.stakeholder_channel_id != review.channel_id:
        outbox.add(session, team_id=team_id, key=f"{INVITE}:{review_id}:channel", kind=INVITE,
                   channel=review.stakeholder_channel_id, render=INVITE, args={**args, "to": "channel"}, now=now)


def not_posted_key(review_id: int) -> str:
    return f"review.not_posted:{review_id}"


def forget_unposted(session: Session, *, team_id: str, review_id: int) -> store.Review | None:
    """Remove a review whose header Slack refused for good (nobody can see it, and it would block the sprint's
    review), with every message queued for it; the removed review, so that its facilitator can be told.

    Its queued rows go too: SQLite gives a deleted review's ids to the next one, whose keys must not be taken.
    """
    review = session.scalar(select(store.Review).where(store.Review.team_id == team_id, store.Review.id == review_id))
    if review is None:
        return None
    story_ids = [s.id for s in store.stories(session, team_id=team_id, review_id=review_id)]
    outbox.forget(session, team_id=team_id, keys=[header_key(review_id), not_posted_key(review_id),
                                                   *(story_key(i) for i in story_ids)],
                  prefixes=[f"{INVITE}:{review_id}:"])
    session.expunge(review)
    session.execute(delete(store.Review).where(store.Review.team_id == team_id, store.Review.id == review_id)
                    .execution_options(synchronize_session=False))
    return review


def story_posted(session: Session, *, team_id: str, story_id: int, ts: str) -> None:
    store.get_story(session, team_id=team_id, story_id=story_id).message_ts = ts


def redraw_story(session: Session, *, team_id: str, story_id: int, now: datetime) -> None:
    """Ask for the story's message to show its verdicts as they are once this transaction commits."""
    outbox.redraw(session, team_id=team_id, key=f"redraw:{story_key(story_id)}", kind=f"{STORY}_redraw",
                  render=STORY, args={"team_id": team_id, "story_id": story_id}, ref_key=story_key(story_id), now=now)


# -- reacting --------------------------------------------------------------------------------------------------------
def _open_story(session: Session, *, team_id: str, story_id: int) -> tuple[store.ReviewStory, store.Review]:
    story = store.get_story(session, team_id=team_id, story_id=story_id)
    review = store.get_review(session, team_id=team_id, review_id=story.review_id)
    domain.check_open(closed=review.closed_at is not None)
    return story, review


def check_reacting(session: Session, *, team_id: str, story_id: int) -> store.ReviewStory:
    """The story, while its review takes reactions (before a modal opens for it)."""
    return _open_story(session, team_id=team_id, story_id=story_id)[0]


@dataclass(frozen=True)
class Reacted:
    """A reaction recorded: the story, and whose Home now shows something new (a question, a note to triage)."""

    key: str | None
    title: str
    presenter_id: str
    facilitator_id: str


def _reacted(story: store.ReviewStory, review: store.Review) -> Reacted:
    return Reacted(story.key, story.title, story.presenter_id, review.facilitator_id)


def _upsert(session: Session):  # type: ignore[no-untyped-def]
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def record_verdict(session: Session, *, team_id: str, story_id: int, user_id: str, verdict: domain.Verdict,
                   note: str = "", now: datetime) -> Reacted:
    """A person's verdict on a story (replacing their earlier one; a needs-changes note is required); redraws it."""
    story, review = _open_story(session, team_id=team_id, story_id=story_id)
    if verdict is domain.Verdict.NEEDS_CHANGES:
        note = domain.clean_note(note)
    values: dict[str, object] = {"verdict": verdict.value, "decided_at": now}
    if note:  # an Accepted keeps the earlier note, which stays shown if it became a follow-up
        values["note"] = note
    session.execute(
        _upsert(session)(store.ReviewVerdict)
        .values({"team_id": team_id, "review_story_id": story_id, "user_id": user_id, "note": note, **values})
        .on_conflict_do_update(index_elements=["review_story_id", "user_id"], set_=values)
    )
    redraw_story(session, team_id=team_id, story_id=story_id, now=now)
    return _reacted(story, review)


def ask(session: Session, *, team_id: str, story_id: int, user_id: str, text: str, now: datetime) -> Reacted:
    """A question on a story: shown in the story's thread, DM'd to its presenter, counted on the story."""
    story, review = _open_story(session, team_id=team_id, story_id=story_id)
    question = store.ReviewQuestion(team_id=team_id, review_story_id=story_id, asker_id=user_id,
                                    text=domain.clean_question(text), asked_at=now)
    session.add(question)
    session.flush()
    args = {"team_id": team_id, "question_id": question.id}
    outbox.add(session, team_id=team_id, key=question_key(question.id), kind=QUESTION, channel=review.channel_id,
               render=QUESTION, args=args, ref_key=story_key(story_id), now=now)
    if story.presenter_id != user_id:
        outbox.add(session, team_id=team_id, key=f"{ASKED}:{question.id}", kind=ASKED, channel=story.presenter_id,
                   render=ASKED, args=args, now=now)
    redraw_story(session, team_id=team_id, story_id=story_id, now=now)
    return _reacted(story, review)


def answered(session: Session, *, team_id: str, question_id: int, user_id: str, now: datetime) -> store.ReviewStory:
    """Mark a question answered (its presenter, whoever asked, or the facilitator); redraws it and its story."""
    question = store.get_question(session, team_id=team_id, question_id=question_id)
    story = store.get_story(session, team_id=team_id, story_id=question.review_story_id)
    review = store.get_review(session, team_id=team_id, review_id=story.review_id)
    domain.check_may_answer(user_id=user_id, asker_id=question.asker_id, presenter_id=story.presenter_id,
                            facilitator_id=review.facilitator_id)
    done = session.execute(
        update(store.ReviewQuestion).where(store.ReviewQuestion.id == question_id,
                                           store.ReviewQuestion.answered_at.is_(None))
        .values(answered_at=now, answered_by=user_id).returning(store.ReviewQuestion.id)
        .execution_options(synchronize_session=False)
    ).first()
    if done is not None:
        key = question_key(question_id)
        outbox.redraw(session, team_id=team_id, key=f"redraw:{key}", kind=f"{QUESTION}_redraw", render=QUESTION,
                      args={"team_id": team_id, "question_id": question_id}, ref_key=key, now=now)
        redraw_story(session, team_id=team_id, story_id=story.id, now=now)
    return story


@dataclass(frozen=True)
class FollowUp:
    """A needs-changes note turned into a story of the channel's next sprint."""

    team_id: str
    channel_id: str
    review_id: int
    sprint_story_id: int
    title: str
    note: str
    created: bool  # False: it had been created before (a double click)


def create_follow_up(session: Session, *, team_id: str, verdict_id: int, user_id: str, now: datetime) -> FollowUp:
    """Turn a needs-changes note into a story of the next sprint's backlog, once; redraws the story's message."""
    verdict = session.get(store.ReviewVerdict, verdict_id)
    if verdict is None or verdict.team_id != team_id:
        raise NotFound(store.OUT_OF_DATE)
    story = store.get_story(session, team_id=team_id, story_id=verdict.review_story_id)
    review = store.get_review(session, team_id=team_id, review_id=story.review_id)
    domain.check_may_triage(user_id=user_id, facilitator_id=review.facilitator_id, presenter_id=story.presenter_id)
    claimed = session.execute(
        update(store.ReviewVerdict).where(store.ReviewVerdict.id == verdict_id,
                                          store.ReviewVerdict.follow_up_at.is_(None),
                                          store.ReviewVerdict.note != "")
        .values(follow_up_at=now, follow_up_by=user_id).returning(store.ReviewVerdict.id)
        .execution_options(synchronize_session=False)
    ).first()
    session.refresh(verdict)
    if claimed is None:
        if verdict.follow_up_at is None:
            raise InvalidInput("That verdict has no note to follow up.")
        return FollowUp(team_id, review.channel_id, review.id, verdict.follow_up_story_id or 0,
                        verdict.follow_up_title or "", verdict.note, created=False)
    title = domain.follow_up_title(key=story.key, title=story.title, note=verdict.note,
                                   limit=sprint_domain.STORY_TITLE_LENGTH)
    added = sprints.add_next_story(session, team_id=team_id, channel_id=review.channel_id, title=title, by=user_id,
                                   now=now, source=FOLLOW_UP_SOURCE)
    verdict.follow_up_story_id, verdict.follow_up_title = added.id, added.title
    session.flush()
    redraw_story(session, team_id=team_id, story_id=story.id, now=now)
    return FollowUp(team_id, review.channel_id, review.id, added.id, added.title, verdict.note, created=True)


# -- closing ---------------------------------------------------------------------------------------------------------
def close(session: Session, *, team_id: str, review_id: int, by: str | None, now: datetime) -> bool:
    """Close the review (by a person, or by the clock when `by` is None): the stories lose their buttons and the
    closing message lists what came of each. False when it was closed already."""
    closed = session.execute(
        update(store.Review).where(store.Review.team_id == team_id, store.Review.id == review_id,
                                   store.Review.closed_at.is_(None))
        .values(closed_at=now, closed_by=by).returning(store.Review.channel_id)
        .execution_options(synchronize_session=False)
    ).first()
    if closed is None:
        return False
    args = {"team_id": team_id, "review_id": review_id}
    outbox.redraw(session, team_id=team_id, key=f"redraw:{header_key(review_id)}", kind=f"{HEADER}_redraw",
                  render=HEADER, args=args, ref_key=header_key(review_id), now=now)
    for story in store.stories(session, team_id=team_id, review_id=review_id):
        redraw_story(session, team_id=team_id, story_id=story.id, now=now)
    outbox.add(session, team_id=team_id, key=f"{CLOSING}:{review_id}", kind=CLOSING, channel=closed[0],
               render=CLOSING, args=args, now=now)
    return True


NO_OPEN_REVIEW = "No review is open in this channel."


def open_review_facilitator(session: Session, *, team_id: str, channel_id: str) -> str:
    """Who facilitates the channel's open review (who may close it, with workspace admins)."""
    review = store.open_review(session, team_id=team_id, channel_id=channel_id)
    if review is None:
        raise NotFound(NO_OPEN_REVIEW)
    return review.facilitator_id


def close_channel_review(session: Session, *, team_id: str, channel_id: str, by: str, now: datetime) -> str:
    """`/review close`: close the channel's open review; the sprint's name."""
    review = store.open_review(session, team_id=team_id, channel_id=channel_id)
    if review is None or not close(session, team_id=team_id, review_id=review.id, by=by, now=now):
        raise NotFound(NO_OPEN_REVIEW)
    return review.sprint_name
