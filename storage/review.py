"""Sprint reviews as rows: the review, its stakeholders, its stories (a snapshot of the sprint's), verdicts with
their notes and follow-ups, and questions. The use cases that change them are in storage/review_cases.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from ceremonies import review as domain
from ceremonies import sprint as sprint_domain
from ceremonies.errors import NotFound
from storage import sprint as sprints
from storage import workspaces
from storage.models import SLACK_ID_LENGTH, Base

TS_LENGTH = 32
OUT_OF_DATE = "That review is no longer here."


class Review(Base):
    """A sprint's review in its team channel: at most one per sprint."""

    __tablename__ = "reviews"
    __table_args__ = (
        UniqueConstraint("sprint_id"),
        Index("ix_reviews_channel", "team_id", "channel_id"),
        Index("ix_reviews_closes_at", "closes_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    channel_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    sprint_id: Mapped[int] = mapped_column(ForeignKey("sprints.id", ondelete="CASCADE"))
    sprint_name: Mapped[str] = mapped_column(String(sprint_domain.SPRINT_NAME_LENGTH))
    facilitator_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    note: Mapped[str] = mapped_column(String(domain.REVIEW_NOTE_LIMIT), default="")
    stakeholder_channel_id: Mapped[str | None] = mapped_column(String(SLACK_ID_LENGTH))
    started_at: Mapped[datetime]
    closes_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[str | None] = mapped_column(String(SLACK_ID_LENGTH))
    message_ts: Mapped[str | None] = mapped_column(String(TS_LENGTH))


class ReviewStakeholder(Base):
    """A person invited to the review (told by DM)."""

    __tablename__ = "review_stakeholders"
    __table_args__ = (UniqueConstraint("review_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))


class ReviewStory(Base):
    """A story shown in the review (one message each), as the sprint had it when the review started."""

    __tablename__ = "review_stories"
    __table_args__ = (UniqueConstraint("review_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    sprint_story_id: Mapped[int | None] = mapped_column(ForeignKey("sprint_stories.id", ondelete="SET NULL"))
    key: Mapped[str | None] = mapped_column(String(sprint_domain.STORY_KEY_LENGTH))
    title: Mapped[str] = mapped_column(String(sprint_domain.STORY_TITLE_LENGTH), default="")
    points: Mapped[float] = mapped_column(Float)
    finished: Mapped[bool] = mapped_column(Boolean)
    presenter_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    link: Mapped[str | None] = mapped_column(String(domain.LINK_LIMIT))  # a tracker connection may fill it
    message_ts: Mapped[str | None] = mapped_column(String(TS_LENGTH))


class ReviewVerdict(Base):
    """A person's verdict on a story (the latest counts); a needs-changes note, and the follow-up made of it."""

    __tablename__ = "review_verdicts"
    __table_args__ = (UniqueConstraint("review_story_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    review_story_id: Mapped[int] = mapped_column(ForeignKey("review_stories.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    verdict: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(String(domain.NOTE_LIMIT), default="")
    decided_at: Mapped[datetime]
    follow_up_story_id: Mapped[int | None] = mapped_column(ForeignKey("sprint_stories.id", ondelete="SET NULL"))
    follow_up_title: Mapped[str | None] = mapped_column(String(sprint_domain.STORY_TITLE_LENGTH))
    follow_up_by: Mapped[str | None] = mapped_column(String(SLACK_ID_LENGTH))
    follow_up_at: Mapped[datetime | None]

    @property
    def shows_note(self) -> bool:
        """A note is shown while its author still asks for changes, and for good once it became a follow-up."""
        return bool(self.note) and (self.verdict == domain.Verdict.NEEDS_CHANGES or self.follow_up_at is not None)


class ReviewQuestion(Base):
    """A question on a story for its presenter; answered once someone marks it so."""

    __tablename__ = "review_questions"
    __table_args__ = (Index("ix_review_questions_story", "review_story_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    review_story_id: Mapped[int] = mapped_column(ForeignKey("review_stories.id", ondelete="CASCADE"))
    asker_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    text: Mapped[str] = mapped_column(String(domain.QUESTION_LIMIT))
    asked_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]
    answered_by: Mapped[str | None] = mapped_column(String(SLACK_ID_LENGTH))


# -- reading ---------------------------------------------------------------------------------------------------------
def get_review(session: Session, *, team_id: str, review_id: int) -> Review:
    review = session.scalar(select(Review).where(Review.team_id == team_id, Review.id == review_id))
    if review is None:
        raise NotFound(OUT_OF_DATE)
    return review


def get_story(session: Session, *, team_id: str, story_id: int, lock: bool = False) -> ReviewStory:
    query = select(ReviewStory).where(ReviewStory.team_id == team_id, ReviewStory.id == story_id)
    story = session.scalar(query.with_for_update() if lock else query)
    if story is None:
        raise NotFound(OUT_OF_DATE)
    return story


def get_question(session: Session, *, team_id: str, question_id: int) -> ReviewQuestion:
    question = session.scalar(select(ReviewQuestion).where(ReviewQuestion.team_id == team_id,
                                                           ReviewQuestion.id == question_id))
    if question is None:
        raise NotFound(OUT_OF_DATE)
    return question


def review_of_sprint(session: Session, *, sprint_id: int) -> Review | None:
    return session.scalar(select(Review).where(Review.sprint_id == sprint_id))


def open_review(session: Session, *, team_id: str, channel_id: str) -> Review | None:
    """The channel's review still open for reactions, if any."""
    return session.scalar(select(Review).where(Review.team_id == team_id, Review.channel_id == channel_id,
                                               Review.closed_at.is_(None)).order_by(Review.id.desc()).limit(1))


def stories(session: Session, *, team_id: str, review_id: int) -> list[ReviewStory]:
    return list(session.scalars(select(ReviewStory).where(ReviewStory.team_id == team_id,
                                                          ReviewStory.review_id == review_id)
                                .order_by(ReviewStory.position)))


def stakeholders(session: Session, *, team_id: str, review_id: int) -> list[str]:
    return list(session.scalars(select(ReviewStakeholder.user_id).where(
        ReviewStakeholder.team_id == team_id, ReviewStakeholder.review_id == review_id).order_by(ReviewStakeholder.id)))


def verdicts(session: Session, *, team_id: str, story_ids: list[int]) -> list[ReviewVerdict]:
    if not story_ids:
        return []
    return list(session.scalars(select(ReviewVerdict).where(ReviewVerdict.team_id == team_id,
                                                            ReviewVerdict.review_story_id.in_(story_ids))
                                .order_by(ReviewVerdict.decided_at, ReviewVerdict.id)))


def questions(session: Session, *, team_id: str, story_ids: list[int]) -> list[ReviewQuestion]:
    if not story_ids:
        return []
    return list(session.scalars(select(ReviewQuestion).where(ReviewQuestion.team_id == team_id,
                                                             ReviewQuestion.review_story_id.in_(story_ids))
                                .order_by(ReviewQuestion.asked_at, ReviewQuestion.id)))


def due_to_close(session: Session, *, now: datetime, limit: int = 100) -> list[tuple[str, int]]:
    """(team_id, review id) of open reviews whose window has ended (installed workspaces only)."""
    rows = session.execute(
        select(Review.team_id, Review.id)
        .where(Review.closes_at <= now, Review.closed_at.is_(None), workspaces.active_clause(Review.team_id))
        .order_by(Review.closes_at).limit(limit)
    )
    return [(team_id, review_id) for team_id, review_id in rows]


# -- what a review amounts to ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class StoryState:
    """Everything a story's message shows."""

    story: ReviewStory
    review: Review
    verdicts: tuple[ReviewVerdict, ...]
    questions: tuple[ReviewQuestion, ...]

    @property
    def result(self) -> domain.StoryResult:
        return _result(self.story, self.verdicts, self.questions)


def _result(story: ReviewStory, given: tuple[ReviewVerdict, ...] | list[ReviewVerdict],
            asked: tuple[ReviewQuestion, ...] | list[ReviewQuestion]) -> domain.StoryResult:
    return domain.StoryResult(
        key=story.key, title=story.title, finished=story.finished, presenter_id=story.presenter_id,
        accepted_by=tuple(v.user_id for v in given if v.verdict == domain.Verdict.ACCEPTED),
        needs_changes_by=tuple(v.user_id for v in given if v.verdict == domain.Verdict.NEEDS_CHANGES),
        questions=len(asked), questions_open=sum(1 for q in asked if q.answered_at is None),
        follow_ups=sum(1 for v in given if v.follow_up_at is not None),
    )


def story_state(session: Session, *, team_id: str, story_id: int) -> StoryState:
    story = get_story(session, team_id=team_id, story_id=story_id)
    review = get_review(session, team_id=team_id, review_id=story.review_id)
    return StoryState(story, review, tuple(verdicts(session, team_id=team_id, story_ids=[story.id])),
                      tuple(questions(session, team_id=team_id, story_ids=[story.id])))


def outcome(session: Session, *, review: Review) -> domain.ReviewOutcome:
    """The review's outcome as it stands: per story, and who took part."""
    shown = stories(session, team_id=review.team_id, review_id=review.id)
    ids = [s.id for s in shown]
    given, asked = verdicts(session, team_id=review.team_id, story_ids=ids), questions(
        session, team_id=review.team_id, story_ids=ids)
    results = tuple(_result(s, [v for v in given if v.review_story_id == s.id],
                            [q for q in asked if q.review_story_id == s.id]) for s in shown)
    people = dict.fromkeys([*(v.user_id for v in given), *(q.asker_id for q in asked)])
    return domain.ReviewOutcome(results, tuple(people), closed=review.closed_at is not None)


def outcome_of_sprint(session: Session, *, sprint_id: int) -> domain.ReviewOutcome | None:
    """The outcome of a sprint's review, for its summary (None when it had none)."""
    review = review_of_sprint(session, sprint_id=sprint_id)
    return outcome(session, review=review) if review is not None else None


# -- the App Home ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class WaitingQuestion:
    question_id: int
    asker_id: str
    text: str
    story_label: str
    channel_id: str
    story_ts: str | None


@dataclass(frozen=True)
class WaitingNote:
    verdict_id: int
    author_id: str
    note: str
    story_label: str
    channel_id: str
    story_ts: str | None


TRIAGE_DAYS = 14  # needs-changes notes of reviews started this recently wait for the facilitator on their Home


def questions_for(session: Session, *, team_id: str, user_id: str) -> list[WaitingQuestion]:
    """Unanswered questions on the stories this person presents, oldest first."""
    rows = session.execute(
        select(ReviewQuestion, ReviewStory, Review.channel_id)
        .join(ReviewStory, ReviewStory.id == ReviewQuestion.review_story_id)
        .join(Review, Review.id == ReviewStory.review_id)
        .where(ReviewQuestion.team_id == team_id, ReviewStory.presenter_id == user_id,
               ReviewQuestion.answered_at.is_(None))
        .order_by(ReviewQuestion.asked_at, ReviewQuestion.id)
    ).all()
    return [WaitingQuestion(q.id, q.asker_id, q.text, _label(s), channel, s.message_ts) for q, s, channel in rows]


def notes_to_triage(session: Session, *, team_id: str, user_id: str, now: datetime) -> list[WaitingNote]:
    """Needs-changes notes without a follow-up in the recent reviews this person facilitates, oldest first."""
    rows = session.execute(
        select(ReviewVerdict, ReviewStory, Review.channel_id)
        .join(ReviewStory, ReviewStory.id == ReviewVerdict.review_story_id)
        .join(Review, Review.id == ReviewStory.review_id)
        .where(ReviewVerdict.team_id == team_id, Review.facilitator_id == user_id,
               Review.started_at >= now - timedelta(days=TRIAGE_DAYS),
               ReviewVerdict.verdict == domain.Verdict.NEEDS_CHANGES, ReviewVerdict.follow_up_at.is_(None))
        .order_by(ReviewVerdict.decided_at, ReviewVerdict.id)
    ).all()
    return [WaitingNote(v.id, v.user_id, v.note, _label(s), channel, s.message_ts) for v, s, channel in rows]


def _label(story: ReviewStory) -> str:
    return " ".join(part for part in (story.key, story.title) if part) or "(untitled)"


def sprints_to_review(session: Session, *, team_id: str, channel_id: str) -> list[sprints.Sprint]:
    """The sprints a `/review` in this channel may be about (see storage.sprint.sprints_to_review)."""
    return sprints.sprints_to_review(session, team_id=team_id, channel_id=channel_id)
