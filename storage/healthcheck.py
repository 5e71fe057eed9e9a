"""Team health checks: a channel's set-up, its rounds, and anonymous answers; the use cases that change them.

Tables: health_checks (one per team channel), health_check_dimensions, health_check_participants (the set-up);
health_rounds, health_round_dimensions, health_round_participants (each round keeps what it asked and whom);
health_responses and health_ratings (the answers). A response is stored under a keyed hash of (round, person) —
`ceremonies.healthcheck.responder_key` — and never under the person: the hashes are the round's answered set, and
the people still to remind are the round's participants whose hash is not in it. Answers are never exported row by
row (`export_rows` gives each round's aggregates) and are shown only when at least k people answered.

Everything the app sends on its own is queued here in the outbox as a renderer (bot/jobs/healthcheck.py draws it):
the invitations and reminders (DMs), the results and their chart, the section in the next retro's thread.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint, case, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from ceremonies import healthcheck as domain
from ceremonies.healthcheck import Answer, Cadence, Dimension, HealthCheckSetup, Rating, Trend
from storage import outbox, standup, workspaces
from storage import sprint as sprints
from storage.models import SLACK_ID_LENGTH, Base

INVITE = "healthcheck.invite"  # a participant's DM with the Answer button
REMINDER = "healthcheck.reminder"  # once, at the window's middle, to those who have not answered
RESULTS = "healthcheck.results"  # the closed round's message in the team channel
CHART = "healthcheck.chart"  # the dimensions × rounds grid, in the results' thread
RETRO = "healthcheck.retro"  # the latest round, in the next retro board's thread
SCHEDULED = ""  # opened_by of a round the schedule opened
RETRO_LOOKBACK = timedelta(days=31)  # an older round says little about the sprint a retro looks back on
# Answer rows: exported only as each round's aggregates (export_rows), never row by row.
PRIVATE_TABLES = ("health_responses", "health_ratings")


class HealthCheck(Base):
    """A team channel's health check: when rounds open, for whom, and the anonymity threshold."""

    __tablename__ = "health_checks"
    __table_args__ = (
        UniqueConstraint("team_id", "channel_id"),
        Index("ix_health_checks_next_round_at", "next_round_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    channel_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    facilitator_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    cadence: Mapped[str] = mapped_column(String(16))
    weekday: Mapped[int] = mapped_column(Integer)
    local_time: Mapped[str] = mapped_column(String(5))  # HH:MM in `timezone`
    timezone: Mapped[str] = mapped_column(String(64))
    window_hours: Mapped[int] = mapped_column(Integer)
    k: Mapped[int] = mapped_column(Integer)
    next_round_at: Mapped[datetime | None]  # when the schedule next looks (None: on demand only)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    @property
    def time_of_day(self) -> time:
        return time.fromisoformat(self.local_time)


class HealthCheckDimension(Base):
    __tablename__ = "health_check_dimensions"
    __table_args__ = (UniqueConstraint("check_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    check_id: Mapped[int] = mapped_column(ForeignKey("health_checks.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(domain.NAME_LENGTH))
    awesome: Mapped[str] = mapped_column(String(domain.EXAMPLE_LENGTH), default="")
    crappy: Mapped[str] = mapped_column(String(domain.EXAMPLE_LENGTH), default="")


class HealthCheckParticipant(Base):
    __tablename__ = "health_check_participants"
    __table_args__ = (UniqueConstraint("check_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    check_id: Mapped[int] = mapped_column(ForeignKey("health_checks.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))


class HealthRound(Base):
    """One round: open from `opened_at` to `closes_at`, reminded at `remind_at`, closed (results queued) once."""

    __tablename__ = "health_rounds"
    __table_args__ = (
        UniqueConstraint("check_id", "occasion"),
        Index("ix_health_rounds_closes_at", "closes_at"),
        Index("ix_health_rounds_remind_at", "remind_at"),
        Index("ix_health_rounds_channel", "team_id", "channel_id", "opened_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    check_id: Mapped[int] = mapped_column(ForeignKey("health_checks.id", ondelete="CASCADE"))
    channel_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    occasion: Mapped[str] = mapped_column(String(64))  # why it opened: at most one round per occasion
    opened_by: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))  # SCHEDULED when the schedule opened it
    opened_at: Mapped[datetime]
    remind_at: Mapped[datetime]
    closes_at: Mapped[datetime]
    reminded_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    k: Mapped[int] = mapped_column(Integer)
    answer_count: Mapped[int] = mapped_column(Integer, default=0)
    retro_shown_at: Mapped[datetime | None]  # when a retro board opened with it


class HealthRoundDimension(Base):
    __tablename__ = "health_round_dimensions"
    __table_args__ = (UniqueConstraint("round_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    round_id: Mapped[int] = mapped_column(ForeignKey("health_rounds.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(domain.NAME_LENGTH))
    awesome: Mapped[str] = mapped_column(String(domain.EXAMPLE_LENGTH), default="")
    crappy: Mapped[str] = mapped_column(String(domain.EXAMPLE_LENGTH), default="")


class HealthRoundParticipant(Base):
    __tablename__ = "health_round_participants"
    __table_args__ = (UniqueConstraint("round_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    round_id: Mapped[int] = mapped_column(ForeignKey("health_rounds.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))


class HealthResponse(Base):
    """One anonymous answer: the keyed hash of (round, person), never the person, and the optional comment."""

    __tablename__ = "health_responses"
    __table_args__ = (UniqueConstraint("round_id", "responder_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    round_id: Mapped[int] = mapped_column(ForeignKey("health_rounds.id", ondelete="CASCADE"))
    responder_key: Mapped[str] = mapped_column(String(64))
    comment: Mapped[str] = mapped_column(String(domain.COMMENT_LENGTH), default="")


class HealthRating(Base):
    __tablename__ = "health_ratings"
    __table_args__ = (UniqueConstraint("response_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    response_id: Mapped[int] = mapped_column(ForeignKey("health_responses.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    rating: Mapped[str] = mapped_column(String(8))
    trend: Mapped[str | None] = mapped_column(String(8))


def _insert(session: Session) -> object:
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


# -- set-up ------------------------------------------------------------------------------------------------------------
def get_check(session: Session, *, team_id: str, channel_id: str) -> HealthCheck | None:
    return session.scalar(select(HealthCheck).where(HealthCheck.team_id == team_id,
                                                    HealthCheck.channel_id == channel_id))


def require_check(session: Session, *, team_id: str, channel_id: str) -> HealthCheck:
    check = get_check(session, team_id=team_id, channel_id=channel_id)
    if check is None:
        raise domain.HealthCheckNotFound()
    return check


def setup_of(session: Session, check: HealthCheck) -> HealthCheckSetup:
    """A stored health check as the set-up modal shows it."""
    dimensions = session.scalars(select(HealthCheckDimension).where(HealthCheckDimension.check_id == check.id)
                                 .order_by(HealthCheckDimension.position))
    people = session.scalars(select(HealthCheckParticipant.user_id).where(HealthCheckParticipant.check_id == check.id)
                             .order_by(HealthCheckParticipant.id))
    return HealthCheckSetup(
        dimensions=tuple(Dimension(d.name, d.awesome, d.crappy) for d in dimensions), cadence=Cadence(check.cadence),
        participants=tuple(people), weekday=check.weekday, local_time=check.time_of_day, timezone=check.timezone,
        window_hours=check.window_hours, k=check.k)


def default_setup(session: Session, *, team_id: str, channel_id: str, timezone: str) -> HealthCheckSetup:
    """A new health check: the squad-health-check dimensions, on demand, for the channel's stand-up participants."""
    found = standup.get_standup(session, team_id=team_id, channel_id=channel_id)
    people = tuple(p.user_id for p in standup.participants_of(session, team_id=team_id, standup_id=found.id)) \
        if found is not None else ()
    return HealthCheckSetup(dimensions=domain.DEFAULT_DIMENSIONS, cadence=Cadence.ON_DEMAND, participants=people,
                            timezone=timezone)


def facilitators(session: Session, *, team_id: str, channel_id: str) -> set[str]:
    """Who may change the channel's health check and open rounds: whoever set it up, and the team's facilitators."""
    check = get_check(session, team_id=team_id, channel_id=channel_id)
    found = {check.facilitator_id} if check is not None else set()
    for other in (standup.owner_of(session, team_id=team_id, channel_id=channel_id),
                  sprints.facilitator_of(session, team_id=team_id, channel_id=channel_id)):
        if other:
            found.add(other)
    return found


def save_check(session: Session, *, team_id: str, channel_id: str, setup: HealthCheckSetup, by: str,
               now: datetime) -> HealthCheck:
    """Create or replace the channel's health check (dimensions and participants included) and its next round."""
    check = get_check(session, team_id=team_id, channel_id=channel_id)
    if check is None:
        check = HealthCheck(team_id=team_id, channel_id=channel_id, facilitator_id=by, created_at=now)
        session.add(check)
    check.cadence, check.weekday = setup.cadence.value, setup.weekday
    check.local_time, check.timezone = f"{setup.local_time:%H:%M}", setup.timezone
    check.window_hours, check.k, check.updated_at = setup.window_hours, setup.k, now
    session.flush()
    session.execute(delete(HealthCheckDimension).where(HealthCheckDimension.check_id == check.id))
    session.execute(delete(HealthCheckParticipant).where(HealthCheckParticipant.check_id == check.id))
    session.add_all(HealthCheckDimension(team_id=team_id, check_id=check.id, position=i, name=d.name,
                                         awesome=d.awesome, crappy=d.crappy) for i, d in enumerate(setup.dimensions))
    session.add_all(HealthCheckParticipant(team_id=team_id, check_id=check.id, user_id=u) for u in setup.participants)
    check.next_round_at = _next_look(session, check, after=now)
    session.flush()
    return check


def _next_look(session: Session, check: HealthCheck, *, after: datetime) -> datetime | None:
    """When the schedule next looks at a health check: its next biweekly time, the running sprint's last day, or
    (sprint-end with no sprint to wait for) tomorrow at its time, to look for one again."""
    cadence = Cadence(check.cadence)
    if cadence is Cadence.ON_DEMAND:
        return None
    if cadence is Cadence.BIWEEKLY:
        return domain.next_biweekly(weekday=check.weekday, local_time=check.time_of_day, timezone=check.timezone,
                                    after=after)
    sprint = sprints.running_sprint(session, team_id=check.team_id, channel_id=check.channel_id)
    if sprint is not None and not _has_round(session, check.id, f"sprint:{sprint.id}"):
        return max(after, domain.sprint_round_at(ends_on=sprint.ends_on, local_time=check.time_of_day,
                                                 timezone=check.timezone))
    return domain.next_day_at(local_time=check.time_of_day, timezone=check.timezone, after=after)


def _has_round(session: Session, check_id: int, occasion: str) -> bool:
    return session.scalar(select(HealthRound.id).where(HealthRound.check_id == check_id,
                                                       HealthRound.occasion == occasion)) is not None


# -- rounds ------------------------------------------------------------------------------------------------------------
def open_round_of(session: Session, *, team_id: str, channel_id: str, now: datetime) -> HealthRound | None:
    return session.scalar(select(HealthRound).where(
        HealthRound.team_id == team_id, HealthRound.channel_id == channel_id, HealthRound.closed_at.is_(None),
        HealthRound.closes_at > now))


def open_round(session: Session, *, check: HealthCheck, by: str, now: datetime, occasion: str | None = None
               ) -> HealthRound | None:
    """Open a round (RoundAlreadyOpen while one runs) and queue each participant's invitation; None when a round
    for this occasion was opened before (a second process, a rerun)."""
    if open_round_of(session, team_id=check.team_id, channel_id=check.channel_id, now=now) is not None:
        raise domain.RoundAlreadyOpen()
    setup = setup_of(session, check)
    span = domain.window(now, check.window_hours)
    inserted = session.execute(
        _insert(session)(HealthRound).values(  # type: ignore[operator]
            team_id=check.team_id, check_id=check.id, channel_id=check.channel_id,
            occasion=occasion or f"now:{now.isoformat()}", opened_by=by, opened_at=now, remind_at=span.remind_at,
            closes_at=span.closes_at, k=check.k, answer_count=0,
        ).on_conflict_do_nothing(index_elements=["check_id", "occasion"]).returning(HealthRound.id)
    ).scalar_one_or_none()
    if inserted is None:
        return None
    round_ = session.get_one(HealthRound, inserted)
    session.add_all(HealthRoundDimension(team_id=check.team_id, round_id=round_.id, position=i, name=d.name,
                                         awesome=d.awesome, crappy=d.crappy) for i, d in enumerate(setup.dimensions))
    session.add_all(HealthRoundParticipant(team_id=check.team_id, round_id=round_.id, user_id=u)
                    for u in setup.participants)
    for user_id in setup.participants:
        outbox.add(session, team_id=check.team_id, key=f"{INVITE}:{round_.id}:{user_id}", kind=INVITE,
                   channel=user_id, render=INVITE, args=round_args(round_), now=now)
    session.flush()
    return round_


@dataclass(frozen=True)
class Opened:
    round_id: int
    participants: int
    closes_at: datetime


def open_now(session: Session, *, team_id: str, channel_id: str, by: str, now: datetime) -> Opened:
    """`/healthcheck now`: open a round of the channel's health check at once (RoundAlreadyOpen while one runs)."""
    check = require_check(session, team_id=team_id, channel_id=channel_id)
    opened = open_round(session, check=check, by=by, now=now)
    if opened is None:  # the same command twice within its second: the first one opened it
        raise domain.RoundAlreadyOpen()
    return Opened(opened.id, len(round_participants(session, team_id=team_id, round_id=opened.id)), opened.closes_at)


def round_args(round_: HealthRound) -> dict[str, object]:
    return {"team_id": round_.team_id, "round_id": round_.id}


def due_checks(session: Session, *, now: datetime) -> list[tuple[str, int]]:
    """Health checks whose schedule is due to look now (indexed on next_round_at), of installed workspaces."""
    rows = session.execute(select(HealthCheck.team_id, HealthCheck.id).where(
        HealthCheck.next_round_at.is_not(None), HealthCheck.next_round_at <= now,
        workspaces.active_clause(HealthCheck.team_id)).order_by(HealthCheck.next_round_at))
    return [(team_id, check_id) for team_id, check_id in rows]


def open_scheduled(session: Session, *, team_id: str, check_id: int, now: datetime) -> HealthRound | None:
    """Open the round a health check's schedule is due for (once, whichever process gets there first) and set when
    it looks next. Nothing opens while a round is still open, or on a day that is not its sprint's last."""
    check = session.scalar(select(HealthCheck).where(HealthCheck.team_id == team_id, HealthCheck.id == check_id))
    if check is None or check.next_round_at is None or check.next_round_at > now:
        return None
    due_at = check.next_round_at
    occasion: str | None = None
    cadence = Cadence(check.cadence)
    if cadence is Cadence.BIWEEKLY:
        occasion = f"at:{due_at.isoformat()}"
        following = due_at + domain.EVERY
        upcoming = following if following > now else domain.next_biweekly(
            weekday=check.weekday, local_time=check.time_of_day, timezone=check.timezone, after=now)
    else:
        sprint = sprints.running_sprint(session, team_id=team_id, channel_id=check.channel_id)
        if sprint is not None and now >= domain.sprint_round_at(ends_on=sprint.ends_on, local_time=check.time_of_day,
                                                                 timezone=check.timezone):
            occasion = f"sprint:{sprint.id}"
        upcoming = None
    # Claimed by moving next_round_at on: a second process finds it moved and does nothing.
    claimed = session.execute(update(HealthCheck).where(HealthCheck.id == check.id, HealthCheck.next_round_at == due_at)
                              .values(next_round_at=upcoming or now).execution_options(synchronize_session=False))
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return None
    opened = None
    if occasion is not None and open_round_of(session, team_id=team_id, channel_id=check.channel_id, now=now) is None:
        opened = open_round(session, check=check, by=SCHEDULED, now=now, occasion=occasion)
    if upcoming is None:
        session.refresh(check)
        check.next_round_at = _next_look(session, check, after=now)
    session.flush()
    return opened


def get_round(session: Session, *, team_id: str, round_id: int) -> HealthRound:
    found = session.scalar(select(HealthRound).where(HealthRound.team_id == team_id, HealthRound.id == round_id))
    if found is None:
        raise domain.RoundNotFound()
    return found


def facilitator_of_round(session: Session, *, team_id: str, round_id: int) -> str | None:
    """Who set up the health check a round belongs to (told when its results could not be posted)."""
    return session.scalar(select(HealthCheck.facilitator_id).join(HealthRound, HealthRound.check_id == HealthCheck.id)
                          .where(HealthRound.team_id == team_id, HealthRound.id == round_id))


def round_dimensions(session: Session, *, team_id: str, round_id: int) -> tuple[Dimension, ...]:
    rows = session.scalars(select(HealthRoundDimension).where(HealthRoundDimension.team_id == team_id,
                                                              HealthRoundDimension.round_id == round_id)
                           .order_by(HealthRoundDimension.position))
    return tuple(Dimension(r.name, r.awesome, r.crappy) for r in rows)


def round_participants(session: Session, *, team_id: str, round_id: int) -> list[str]:
    return list(session.scalars(select(HealthRoundParticipant.user_id).where(
        HealthRoundParticipant.team_id == team_id, HealthRoundParticipant.round_id == round_id)
        .order_by(HealthRoundParticipant.id)))


def _answered_keys(session: Session, round_id: int) -> set[str]:
    return set(session.scalars(select(HealthResponse.responder_key).where(HealthResponse.round_id == round_id)))


def _accepting(session: Session, *, team_id: str, round_id: int, user_id: str, now: datetime) -> HealthRound:
    round_ = get_round(session, team_id=team_id, round_id=round_id)
    if round_.closed_at is not None or round_.closes_at <= now:
        raise domain.RoundClosed()
    if user_id not in round_participants(session, team_id=team_id, round_id=round_id):
        raise domain.NotParticipant()
    return round_


@dataclass(frozen=True)
class Questions:
    """What a participant's answer modal asks, and their own answer so far (only they ever see it)."""

    round_id: int
    channel_id: str
    closes_at: datetime
    dimensions: tuple[Dimension, ...]
    previous: Answer | None


def questions_for(session: Session, *, team_id: str, round_id: int, user_id: str, secret: str, now: datetime
                  ) -> Questions:
    """The round's dimensions for a participant, with the answer they gave before (to change it)."""
    round_ = _accepting(session, team_id=team_id, round_id=round_id, user_id=user_id, now=now)
    key = domain.responder_key(secret, team_id=team_id, round_id=round_id, user_id=user_id)
    response = session.scalar(select(HealthResponse).where(HealthResponse.round_id == round_id,
                                                           HealthResponse.responder_key == key))
    previous = _answers(session, [response.id])[response.id] if response is not None else None
    return Questions(round_.id, round_.channel_id, round_.closes_at,
                     round_dimensions(session, team_id=team_id, round_id=round_id), previous)


def record_answer(session: Session, *, team_id: str, round_id: int, user_id: str, secret: str, answer: Answer,
                  now: datetime) -> bool:
    """Store a participant's answer under their keyed hash, replacing an earlier one; True the first time."""
    round_ = _accepting(session, team_id=team_id, round_id=round_id, user_id=user_id, now=now)
    if len(answer.ratings) != len(round_dimensions(session, team_id=team_id, round_id=round_id)):
        raise domain.RoundNotFound()  # a modal of another round's dimensions: there is nothing it can answer
    key = domain.responder_key(secret, team_id=team_id, round_id=round_id, user_id=user_id)
    inserted = session.execute(
        _insert(session)(HealthResponse).values(  # type: ignore[operator]
            team_id=team_id, round_id=round_id, responder_key=key, comment=answer.comment,
        ).on_conflict_do_nothing(index_elements=["round_id", "responder_key"]).returning(HealthResponse.id)
    ).scalar_one_or_none()
    first = inserted is not None
    if first:
        session.execute(update(HealthRound).where(HealthRound.id == round_.id)
                        .values(answer_count=HealthRound.answer_count + 1)
                        .execution_options(synchronize_session=False))
        response_id = inserted
    else:
        response = session.scalars(select(HealthResponse).where(HealthResponse.round_id == round_id,
                                                                HealthResponse.responder_key == key)
                                   .with_for_update()).one()
        response.comment = answer.comment
        response_id = response.id
        session.execute(delete(HealthRating).where(HealthRating.response_id == response_id))
    session.add_all(HealthRating(team_id=team_id, response_id=response_id, position=i, rating=rating.value,
                                 trend=trend.value if trend else None)
                    for i, (rating, trend) in enumerate(answer.ratings))
    session.flush()
    return first


def _answers(session: Session, response_ids: Sequence[int]) -> dict[int, Answer]:
    if not response_ids:
        return {}
    comments: dict[int, str] = {
        row.id: row.comment for row in session.execute(select(HealthResponse.id, HealthResponse.comment)
                                                       .where(HealthResponse.id.in_(response_ids)))}
    items: dict[int, list[tuple[int, Rating, Trend | None]]] = defaultdict(list)
    for row in session.execute(select(HealthRating.response_id, HealthRating.position, HealthRating.rating,
                                      HealthRating.trend).where(HealthRating.response_id.in_(response_ids))):
        items[row.response_id].append((row.position, Rating(row.rating), Trend(row.trend) if row.trend else None))
    return {rid: Answer(tuple((r, t) for _p, r, t in sorted(items[rid], key=lambda i: i[0])), comments[rid] or "")
            for rid in response_ids}


def round_answers(session: Session, *, round_id: int) -> list[Answer]:
    """Every answer of a round, in no meaningful order (callers aggregate them)."""
    ids = list(session.scalars(select(HealthResponse.id).where(HealthResponse.round_id == round_id)
                               .order_by(HealthResponse.responder_key)))
    found = _answers(session, ids)
    return [found[i] for i in ids]


# -- reminders and closing -------------------------------------------------------------------------------------------
def due_reminders(session: Session, *, now: datetime) -> list[tuple[str, int]]:
    """Open rounds at their window's middle whose reminders have not gone out (indexed on remind_at)."""
    rows = session.execute(select(HealthRound.team_id, HealthRound.id).where(
        HealthRound.remind_at <= now, HealthRound.reminded_at.is_(None), HealthRound.closed_at.is_(None),
        HealthRound.closes_at > now, workspaces.active_clause(HealthRound.team_id)).order_by(HealthRound.remind_at))
    return [(team_id, round_id) for team_id, round_id in rows]


def remind(session: Session, *, team_id: str, round_id: int, secret: str, now: datetime) -> int:
    """Queue one reminder to each participant who has not answered (once a round); how many were queued."""
    claimed = session.execute(update(HealthRound).where(HealthRound.team_id == team_id, HealthRound.id == round_id,
                                                        HealthRound.reminded_at.is_(None))
                              .values(reminded_at=now).execution_options(synchronize_session=False))
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return 0
    answered = _answered_keys(session, round_id)
    waiting = [u for u in round_participants(session, team_id=team_id, round_id=round_id)
               if domain.responder_key(secret, team_id=team_id, round_id=round_id, user_id=u) not in answered]
    args = {"team_id": team_id, "round_id": round_id}
    for user_id in waiting:
        outbox.add(session, team_id=team_id, key=f"{REMINDER}:{round_id}:{user_id}", kind=REMINDER, channel=user_id,
                   render=REMINDER, args=args, now=now)
    return len(waiting)


def due_closings(session: Session, *, now: datetime) -> list[tuple[str, int]]:
    """Open rounds whose window has ended (indexed on closes_at)."""
    rows = session.execute(select(HealthRound.team_id, HealthRound.id).where(
        HealthRound.closes_at <= now, HealthRound.closed_at.is_(None),
        workspaces.active_clause(HealthRound.team_id)).order_by(HealthRound.closes_at))
    return [(team_id, round_id) for team_id, round_id in rows]


def close(session: Session, *, team_id: str, round_id: int, now: datetime) -> bool:
    """Close a round and queue its results in the team channel, with the chart in their thread when shown (once)."""
    claimed = session.execute(update(HealthRound).where(HealthRound.team_id == team_id, HealthRound.id == round_id,
                                                        HealthRound.closed_at.is_(None))
                              .values(closed_at=now).execution_options(synchronize_session=False))
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return False
    round_ = get_round(session, team_id=team_id, round_id=round_id)
    args = round_args(round_)
    results_key = f"{RESULTS}:{round_id}"
    outbox.add(session, team_id=team_id, key=results_key, kind=RESULTS, channel=round_.channel_id, render=RESULTS,
               args=args, now=now)
    if domain.results_shown(round_.answer_count, round_.k):
        outbox.add(session, team_id=team_id, key=f"{CHART}:{round_id}", kind=CHART, channel=round_.channel_id,
                   render=CHART, args=args, ref_key=results_key, now=now)
    return True


def close_now(session: Session, *, team_id: str, channel_id: str, now: datetime) -> int:
    """Close the channel's open round before its window ends (its reminder, if not sent, is not sent); its answers."""
    round_ = open_round_of(session, team_id=team_id, channel_id=channel_id, now=now)
    if round_ is None or not close(session, team_id=team_id, round_id=round_.id, now=now):
        raise domain.NoOpenRound()
    return round_.answer_count


# -- results -----------------------------------------------------------------------------------------------------------
def _closed_rounds(session: Session, *, team_id: str, channel_id: str, until: datetime, limit: int
                   ) -> list[HealthRound]:
    rows = session.scalars(select(HealthRound).where(
        HealthRound.team_id == team_id, HealthRound.channel_id == channel_id, HealthRound.closed_at.is_not(None),
        HealthRound.opened_at <= until).order_by(HealthRound.opened_at.desc(), HealthRound.id.desc()).limit(limit))
    return list(reversed(list(rows)))


def _means(session: Session, rounds: Sequence[HealthRound]) -> dict[int, dict[str, float | None]]:
    """Each round's mean per dimension, summed in SQL (two queries whatever the rounds); empty below k answers."""
    shown = [r.id for r in rounds if domain.results_shown(r.answer_count, r.k)]
    found: dict[int, dict[str, float | None]] = {r.id: {} for r in rounds}
    if not shown:
        return found
    names = {(row.round_id, row.position): row.name for row in session.execute(
        select(HealthRoundDimension.round_id, HealthRoundDimension.position, HealthRoundDimension.name)
        .where(HealthRoundDimension.round_id.in_(shown)))}
    score = case((HealthRating.rating == Rating.GREEN.value, Rating.GREEN.score),
                 (HealthRating.rating == Rating.AMBER.value, Rating.AMBER.score), else_=Rating.RED.score)
    sums = session.execute(
        select(HealthResponse.round_id, HealthRating.position, func.sum(score), func.count())
        .join(HealthResponse, HealthResponse.id == HealthRating.response_id)
        .where(HealthResponse.round_id.in_(shown)).group_by(HealthResponse.round_id, HealthRating.position))
    for round_id, position, total, count in sums:
        if (round_id, position) in names:
            found[round_id][names[(round_id, position)]] = total / count if count else None
    return found


def round_result(session: Session, *, team_id: str, round_id: int) -> domain.RoundResult:
    """A round's result as the team may see it: aggregates only, and only from k answers on, with the trend against
    the channel's previous round that showed results and the grid of its last rounds."""
    round_ = get_round(session, team_id=team_id, round_id=round_id)
    names = [d.name for d in round_dimensions(session, team_id=team_id, round_id=round_id)]
    participants = len(round_participants(session, team_id=team_id, round_id=round_id))
    answers = round_answers(session, round_id=round_id)
    earlier = [r for r in _closed_rounds(session, team_id=team_id, channel_id=round_.channel_id,
                                         until=round_.opened_at, limit=domain.HISTORY_ROUNDS * 2)
               if r.id != round_id]
    history, previous = [], None
    earlier_means = _means(session, earlier)
    for other in earlier:
        other_means = earlier_means[other.id]
        if other_means:
            previous = other_means
        history.append(domain.HistoryColumn(f"{other.opened_at:%d %b}", other_means))
    history.append(domain.HistoryColumn(f"{round_.opened_at:%d %b}", domain.means(answers, names, round_.k)))
    return domain.aggregate(round_id=round_id, channel_id=round_.channel_id, opened_at=round_.opened_at,
                            closed_at=round_.closed_at, participants=participants, k=round_.k, dimensions=names,
                            answers=answers, previous_means=previous,
                            history=history[-domain.HISTORY_ROUNDS:])


def sprint_section(session: Session, *, team_id: str, channel_id: str, start: datetime, end: datetime
                   ) -> domain.SprintSection | None:
    """The channel's latest round opened from `start` to `end` (a sprint's time), for its report."""
    round_ = session.scalar(select(HealthRound).where(
        HealthRound.team_id == team_id, HealthRound.channel_id == channel_id, HealthRound.opened_at >= start,
        HealthRound.opened_at <= end).order_by(HealthRound.opened_at.desc(), HealthRound.id.desc()).limit(1))
    if round_ is None:
        return None
    participants = len(round_participants(session, team_id=team_id, round_id=round_.id))
    if round_.closed_at is None or round_.closed_at > end:
        return domain.SprintSection(None, round_.closes_at, round_.answer_count, participants)
    return domain.SprintSection(round_result(session, team_id=team_id, round_id=round_.id), None, round_.answer_count,
                         participants)


def queue_retro_opener(session: Session, *, team_id: str, channel_id: str, board_key: str, now: datetime) -> bool:
    """Put the channel's latest closed round not yet shown at a retro in a new retro board's thread, so the retro
    starts from it; False when there is none."""
    latest = session.scalar(select(HealthRound).where(
        HealthRound.team_id == team_id, HealthRound.channel_id == channel_id, HealthRound.closed_at.is_not(None),
        HealthRound.closed_at >= now - RETRO_LOOKBACK, HealthRound.retro_shown_at.is_(None)).order_by(HealthRound.closed_at.desc(), HealthRound.id.desc()).limit(1))
    if latest is None:
        return False
    session.execute(update(HealthRound).where(HealthRound.team_id == team_id, HealthRound.channel_id == channel_id,
                                              HealthRound.closed_at.is_not(None), HealthRound.retro_shown_at.is_(None))
                    .values(retro_shown_at=now).execution_options(synchronize_session=False))
    outbox.add(session, team_id=team_id, key=f"{RETRO}:{latest.id}:{board_key}", kind=RETRO, channel=channel_id,
               render=RETRO, args=round_args(latest), ref_key=board_key, now=now)
    return True


# -- the App Home ------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Waiting:
    round_id: int
    channel_id: str
    closes_at: datetime
    answered: bool


def open_rounds_for(session: Session, *, team_id: str, user_id: str, secret: str, now: datetime) -> list[Waiting]:
    """The open rounds a person takes part in, and whether they answered (their hash is in the answered set)."""
    rounds = session.scalars(select(HealthRound).join(
        HealthRoundParticipant, HealthRoundParticipant.round_id == HealthRound.id).where(
        HealthRound.team_id == team_id, HealthRoundParticipant.user_id == user_id, HealthRound.closed_at.is_(None),
        HealthRound.closes_at > now).order_by(HealthRound.closes_at))
    found = []
    for round_ in rounds:
        key = domain.responder_key(secret, team_id=team_id, round_id=round_.id, user_id=user_id)
        found.append(Waiting(round_.id, round_.channel_id, round_.closes_at, key in _answered_keys(session, round_.id)))
    return found


def channels_of(session: Session, *, team_id: str, user_id: str) -> set[str]:
    """The team channels whose health check the person takes part in or set up."""
    taking_part = select(HealthCheck.channel_id).join(
        HealthCheckParticipant, HealthCheckParticipant.check_id == HealthCheck.id).where(
        HealthCheck.team_id == team_id, HealthCheckParticipant.user_id == user_id)
    facilitating = select(HealthCheck.channel_id).where(HealthCheck.team_id == team_id,
                                                        HealthCheck.facilitator_id == user_id)
    return set(session.scalars(taking_part.union(facilitating)))


# -- the workspace export ------------------------------------------------------------------------------------------------
def export_rows(session: Session, *, team_id: str) -> list[dict[str, object]]:
    """Each round of the workspace as the team saw it: counts always, and the aggregates and (alphabetical) comments
    of closed rounds with at least k answers. No answer, hash or answer order is in it."""
    rows: list[dict[str, object]] = []
    for round_ in session.scalars(select(HealthRound).where(HealthRound.team_id == team_id).order_by(HealthRound.id)):
        participants = len(round_participants(session, team_id=team_id, round_id=round_.id))
        names = [d.name for d in round_dimensions(session, team_id=team_id, round_id=round_.id)]
        result = domain.aggregate(round_id=round_.id, channel_id=round_.channel_id, opened_at=round_.opened_at,
                                  closed_at=round_.closed_at, participants=participants, k=round_.k, dimensions=names,
                                  answers=round_answers(session, round_id=round_.id))
        shown = round_.closed_at is not None and result.shown  # an open round shows nothing yet
        rows.append({
            "round_id": round_.id, "channel_id": round_.channel_id, "opened_at": round_.opened_at,
            "closes_at": round_.closes_at, "closed_at": round_.closed_at, "k": round_.k,
            "answers": round_.answer_count, "participants": participants, "shown": shown,
            "dimensions": [{"name": d.name, "green": d.green, "amber": d.amber, "red": d.red, "better": d.better,
                            "same": d.same, "worse": d.worse} for d in result.dimensions] if shown else [],
            "comments": list(result.comments) if shown else [],
        })
    return rows


def answer_count(session: Session, *, round_id: int) -> int:
    return session.scalar(select(func.count()).select_from(HealthResponse)
                          .where(HealthResponse.round_id == round_id)) or 0
