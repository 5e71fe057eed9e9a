"""Stand-ups as rows: configuration, daily runs, prompts, answers (with edit history), skips and time away.

Every row carries the workspace (`team_id`) and, where it belongs to a day, the participant's *local* date, so that
sprint summaries can count participation per day and per person without knowing how stand-ups are scheduled
(see `participation`).

Tables: standups, standup_questions, standup_participants, standup_runs, standup_prompts, standup_answers,
standup_answer_items, standup_answer_edits, standup_skips, standup_away.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    and_,
    delete,
    func,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from ceremonies.schedule import DateRange
from ceremonies.standup import (
    ANSWER_MAX_LENGTH,
    QUESTION_MAX_LENGTH,
    Question,
    ReportStyle,
    StandupConfig,
    TimezoneMode,
)
from storage import due, workspaces
from storage.models import SLACK_ID_LENGTH, Base

TIMEZONE_LENGTH = 64
TS_LENGTH = 32  # a Slack message timestamp, e.g. 1700000000.000123
MODE_LENGTH = 16
DAYS_LENGTH = 16  # weekday numbers joined by commas, "0,1,2,3,4"
PERMALINK_LENGTH = 500


class Standup(due.Scheduled, Base):
    """One team channel's stand-up and how it runs.

    `next_due_at` (storage.due): the next prompt, reminder or window close, whichever comes first; None while paused.
    """

    __tablename__ = "standups"
    __due_kind__ = "standup"
    __table_args__ = (UniqueConstraint("team_id", "channel_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    channel_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    report_channel_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    owner_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    usergroup_id: Mapped[str | None] = mapped_column(String(SLACK_ID_LENGTH))
    days: Mapped[str] = mapped_column(String(DAYS_LENGTH))
    local_time_minute: Mapped[int] = mapped_column(Integer)  # minutes after local midnight
    window_end_minute: Mapped[int] = mapped_column(Integer)
    reminder_delay_minutes: Mapped[int] = mapped_column(Integer)
    timezone_mode: Mapped[str] = mapped_column(String(MODE_LENGTH))
    team_timezone: Mapped[str] = mapped_column(String(TIMEZONE_LENGTH))
    report_style: Mapped[str] = mapped_column(String(MODE_LENGTH))
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    usergroup_synced_at: Mapped[datetime | None]  # the last daily sync of the user group's members


class StandupQuestion(Base):
    __tablename__ = "standup_questions"
    __table_args__ = (UniqueConstraint("standup_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    standup_id: Mapped[int] = mapped_column(ForeignKey("standups.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(String(QUESTION_MAX_LENGTH))
    is_blocker: Mapped[bool] = mapped_column(Boolean, default=False)
    required: Mapped[bool] = mapped_column(Boolean, default=True)


class StandupParticipant(Base):
    __tablename__ = "standup_participants"
    __table_args__ = (UniqueConstraint("standup_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    standup_id: Mapped[int] = mapped_column(ForeignKey("standups.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    via_usergroup: Mapped[bool] = mapped_column(Boolean, default=False)  # kept in step with the group daily
    gone_since: Mapped[datetime | None]  # Slack said the account is deleted/deactivated; the owner was told


class StandupRun(Base):
    """One stand-up day (the participants' local date) and its report."""

    __tablename__ = "standup_runs"
    __table_args__ = (UniqueConstraint("standup_id", "local_date"), Index("ix_standup_runs_team_open", "team_id",
                                                                          "closed_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    channel_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    standup_id: Mapped[int] = mapped_column(ForeignKey("standups.id", ondelete="CASCADE"))
    local_date: Mapped[date] = mapped_column(Date)
    report_channel_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    report_ts: Mapped[str | None] = mapped_column(String(TS_LENGTH))
    opened_at: Mapped[datetime]
    closes_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]


class StandupPrompt(Base):
    """A prompt DM: when it was due, when it was sent, and its one reminder."""

    __tablename__ = "standup_prompts"
    __table_args__ = (UniqueConstraint("standup_id", "user_id", "local_date"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    standup_id: Mapped[int] = mapped_column(ForeignKey("standups.id", ondelete="CASCADE"))
    run_id: Mapped[int] = mapped_column(ForeignKey("standup_runs.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    local_date: Mapped[date] = mapped_column(Date)
    timezone: Mapped[str] = mapped_column(String(TIMEZONE_LENGTH))
    due_at: Mapped[datetime]
    closes_at: Mapped[datetime]
    sent_at: Mapped[datetime]
    dm_channel_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    dm_ts: Mapped[str] = mapped_column(String(TS_LENGTH))
    reminded_at: Mapped[datetime | None]


class StandupAnswer(Base):
    """A participant's answer for one day; the answers to each question are StandupAnswerItem rows."""

    __tablename__ = "standup_answers"
    __table_args__ = (UniqueConstraint("run_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    standup_id: Mapped[int] = mapped_column(ForeignKey("standups.id", ondelete="CASCADE"))
    run_id: Mapped[int] = mapped_column(ForeignKey("standup_runs.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    local_date: Mapped[date] = mapped_column(Date)
    submitted_at: Mapped[datetime]
    edited_at: Mapped[datetime | None]
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    report_stale: Mapped[bool] = mapped_column(Boolean, default=False)  # edited, report not updated yet
    report_channel_id: Mapped[str | None] = mapped_column(String(SLACK_ID_LENGTH))
    report_ts: Mapped[str | None] = mapped_column(String(TS_LENGTH))  # None until posted (a tick retries)
    permalink: Mapped[str | None] = mapped_column(String(PERMALINK_LENGTH))


class StandupAnswerItem(Base):
    __tablename__ = "standup_answer_items"
    __table_args__ = (UniqueConstraint("answer_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    answer_id: Mapped[int] = mapped_column(ForeignKey("standup_answers.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    question: Mapped[str] = mapped_column(String(QUESTION_MAX_LENGTH))  # as asked that day
    text: Mapped[str] = mapped_column(String(ANSWER_MAX_LENGTH))
    is_blocker: Mapped[bool] = mapped_column(Boolean, default=False)


class StandupAnswerEdit(Base):
    """The text an answer had before an edit replaced it."""

    __tablename__ = "standup_answer_edits"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    answer_id: Mapped[int] = mapped_column(ForeignKey("standup_answers.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    previous_text: Mapped[str] = mapped_column(String(ANSWER_MAX_LENGTH))
    edited_at: Mapped[datetime]


class StandupSkip(Base):
    __tablename__ = "standup_skips"
    __table_args__ = (UniqueConstraint("standup_id", "user_id", "local_date"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    standup_id: Mapped[int] = mapped_column(ForeignKey("standups.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    local_date: Mapped[date] = mapped_column(Date)
    skipped_at: Mapped[datetime]


class StandupAway(Base):
    """A participant's time away (inclusive local dates); it applies to every stand-up in the workspace."""

    __tablename__ = "standup_away"
    __table_args__ = (Index("ix_standup_away_team_user", "team_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    user_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime]


# -- configuration --------------------------------------------------------------------------------------------------

def _minute(value: time) -> int:
    return value.hour * 60 + value.minute


def _time(minute: int) -> time:
    return time(minute // 60, minute % 60)


def get_standup(session: Session, *, team_id: str, channel_id: str) -> Standup | None:
    """The stand-up of a team channel."""
    return session.scalar(select(Standup).where(Standup.team_id == team_id, Standup.channel_id == channel_id))


def standup_by_id(session: Session, *, team_id: str, standup_id: int) -> Standup | None:
    return session.scalar(select(Standup).where(Standup.team_id == team_id, Standup.id == standup_id))


def questions_of(session: Session, *, team_id: str, standup_id: int) -> tuple[Question, ...]:
    rows = session.scalars(select(StandupQuestion).where(StandupQuestion.team_id == team_id,
                                                         StandupQuestion.standup_id == standup_id)
                           .order_by(StandupQuestion.position))
    return tuple(Question(r.text, is_blocker=r.is_blocker, required=r.required) for r in rows)


def participants_of(session: Session, *, team_id: str, standup_id: int) -> list[StandupParticipant]:
    return list(session.scalars(select(StandupParticipant).where(StandupParticipant.team_id == team_id,
                                                                 StandupParticipant.standup_id == standup_id)
                                .order_by(StandupParticipant.id)))


def config_of(session: Session, standup: Standup, *, participants: list[StandupParticipant] | None = None
              ) -> StandupConfig:
    """The domain configuration of a stored stand-up (`participants`: its participants, when the caller has just
    read them with `participants_of`)."""
    if participants is None:
        participants = participants_of(session, team_id=standup.team_id, standup_id=standup.id)
    return StandupConfig(
        channel_id=standup.channel_id,
        report_channel_id=standup.report_channel_id,
        participants=tuple(p.user_id for p in participants),
        questions=questions_of(session, team_id=standup.team_id, standup_id=standup.id),
        usergroup_id=standup.usergroup_id,
        days=frozenset(int(d) for d in standup.days.split(",") if d),
        local_time=_time(standup.local_time_minute),
        timezone_mode=TimezoneMode(standup.timezone_mode),
        team_timezone=standup.team_timezone,
        reminder_delay=reminder_delay_of(standup),
        window_end=_time(standup.window_end_minute),
        report_style=ReportStyle(standup.report_style),
    )


def reminder_delay_of(standup: Standup) -> timedelta:
    """How long after a prompt its reminder goes (zero: no reminders)."""
    return timedelta(minutes=standup.reminder_delay_minutes)


def save_standup(session: Session, *, team_id: str, channel_id: str, owner_id: str, config: StandupConfig,
                 now: datetime, from_usergroup: Iterable[str] = ()) -> Standup:
    """Create or replace a channel's stand-up configuration in one go (questions and participants included)."""
    standup = get_standup(session, team_id=team_id, channel_id=channel_id)
    if standup is None:
        standup = Standup(team_id=team_id, channel_id=channel_id, owner_id=owner_id, created_at=now, paused=False)
        session.add(standup)
    standup.report_channel_id = config.report_channel_id
    standup.usergroup_id = config.usergroup_id
    standup.days = ",".join(str(d) for d in sorted(config.days))
    standup.local_time_minute = _minute(config.local_time)
    standup.window_end_minute = _minute(config.window_end)
    standup.reminder_delay_minutes = int(config.reminder_delay.total_seconds() // 60)
    standup.timezone_mode = config.timezone_mode.value
    standup.team_timezone = config.team_timezone
    standup.report_style = config.report_style.value
    standup.updated_at = now
    standup.next_due_at = None if standup.paused else now  # the job computes the schedule's next moment
    session.flush()
    session.execute(delete(StandupQuestion).where(StandupQuestion.team_id == team_id,
                                                  StandupQuestion.standup_id == standup.id))
    for position, question in enumerate(config.questions):
        session.add(StandupQuestion(team_id=team_id, standup_id=standup.id, position=position, text=question.text,
                                    is_blocker=question.is_blocker, required=question.required))
    _set_participants(session, team_id=team_id, standup_id=standup.id, chosen=config.participants,
                      from_usergroup=from_usergroup)
    return standup


def _set_participants(session: Session, *, team_id: str, standup_id: int, chosen: Iterable[str],
                      from_usergroup: Iterable[str]) -> None:
    group = set(from_usergroup)
    existing = {p.user_id: p for p in participants_of(session, team_id=team_id, standup_id=standup_id)}
    wanted = list(dict.fromkeys(chosen))
    for user_id, row in existing.items():
        if user_id not in wanted:
            session.delete(row)
    for user_id in wanted:
        row = existing.get(user_id)
        if row is None:
            session.add(StandupParticipant(team_id=team_id, standup_id=standup_id, user_id=user_id,
                                           via_usergroup=user_id in group))
        else:
            row.via_usergroup = user_id in group
    session.flush()


def sync_usergroup(session: Session, *, team_id: str, standup_id: int, members: Iterable[str]) -> tuple[int, int]:
    """Bring the participants who came from the stand-up's user group in step with its members; (added, removed).

    People chosen one by one stay whatever the group does.
    """
    members = list(dict.fromkeys(members))
    rows = participants_of(session, team_id=team_id, standup_id=standup_id)
    chosen = [r.user_id for r in rows if not r.via_usergroup]
    from_group = {r.user_id for r in rows if r.via_usergroup}
    joined = [m for m in members if m not in from_group and m not in chosen]
    left = [u for u in from_group if u not in members]
    _set_participants(session, team_id=team_id, standup_id=standup_id,
                      chosen=[*chosen, *(m for m in members if m not in chosen)],
                      from_usergroup=[m for m in members if m not in chosen])
    return len(joined), len(left)


def delete_standup(session: Session, *, team_id: str, standup_id: int) -> bool:
    """Delete a stand-up and everything recorded for it."""
    for model in (StandupAnswerEdit, StandupAnswerItem):
        answer_ids = select(StandupAnswer.id).where(StandupAnswer.team_id == team_id,
                                                    StandupAnswer.standup_id == standup_id)
        session.execute(delete(model).where(model.team_id == team_id, model.answer_id.in_(answer_ids)))
    for model in (StandupAnswer, StandupPrompt, StandupSkip, StandupParticipant, StandupQuestion):
        session.execute(delete(model).where(model.team_id == team_id, model.standup_id == standup_id))
    session.execute(delete(StandupRun).where(StandupRun.team_id == team_id, StandupRun.standup_id == standup_id))
    removed = session.execute(delete(Standup).where(Standup.team_id == team_id, Standup.id == standup_id)
                              .returning(Standup.id)).first()
    return removed is not None


def scheduled_workspaces(session: Session) -> list[str]:
    """Every workspace with a stand-up that is not paused: where the scheduler looks for due work."""
    return list(session.scalars(select(Standup.team_id).where(
        Standup.paused.is_(False), workspaces.active_clause(Standup.team_id)).distinct()))


def active_standups(session: Session, *, team_id: str) -> list[Standup]:
    return list(session.scalars(select(Standup).where(Standup.team_id == team_id, Standup.paused.is_(False))
                                .order_by(Standup.id)))


def set_paused(session: Session, *, standup: Standup, paused: bool, now: datetime) -> None:
    """Pause a stand-up (no prompts, reminders or closes) or resume it."""
    standup.paused = paused
    standup.next_due_at = None if paused else now


def reschedule_participant(session: Session, *, team_id: str, user_id: str, now: datetime) -> int:
    """The stand-ups of a participant whose days changed (time away, timezone, account gone) are due at once, to
    compute their next moment again."""
    of_user = select(StandupParticipant.standup_id).where(StandupParticipant.team_id == team_id,
                                                          StandupParticipant.user_id == user_id)
    return due.reschedule(session, Standup, now=now, where=[Standup.team_id == team_id, Standup.id.in_(of_user)])


def mark_gone(session: Session, *, team_id: str, standup_id: int, user_id: str, now: datetime) -> bool:
    """Remember that a participant's account is gone; True the first time (when the owner must be told)."""
    row = session.scalar(select(StandupParticipant).where(
        StandupParticipant.team_id == team_id, StandupParticipant.standup_id == standup_id,
        StandupParticipant.user_id == user_id))
    if row is None or row.gone_since is not None:
        return False
    row.gone_since = now
    return True


# -- away -----------------------------------------------------------------------------------------------------------

def add_away(session: Session, *, team_id: str, user_id: str, away: DateRange, now: datetime) -> StandupAway:
    row = StandupAway(team_id=team_id, user_id=user_id, start_date=away.start, end_date=away.end, created_at=now)
    session.add(row)
    session.flush()
    reschedule_participant(session, team_id=team_id, user_id=user_id, now=now)
    return row


def away_ranges(session: Session, *, team_id: str, user_ids: Iterable[str] | None = None,
                start: date | None = None, end: date | None = None) -> dict[str, list[DateRange]]:
    """Time away by person, overlapping [start, end] when given."""
    query = select(StandupAway).where(StandupAway.team_id == team_id)
    if user_ids is not None:
        query = query.where(StandupAway.user_id.in_(list(user_ids)))
    if start is not None:
        query = query.where(StandupAway.end_date >= start)
    if end is not None:
        query = query.where(StandupAway.start_date <= end)
    found: dict[str, list[DateRange]] = defaultdict(list)
    for row in session.scalars(query.order_by(StandupAway.start_date)):
        found[row.user_id].append(DateRange(row.start_date, row.end_date))
    return dict(found)


# -- runs and prompts -----------------------------------------------------------------------------------------------

def open_run(session: Session, *, team_id: str, standup: Standup, local_date: date, closes_at: datetime,
             now: datetime) -> StandupRun:
    """The run of `local_date`, created by whichever process gets there first; its close is the latest seen."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(insert(StandupRun).values(
        team_id=team_id, channel_id=standup.channel_id, standup_id=standup.id, local_date=local_date,
        report_channel_id=standup.report_channel_id, opened_at=now, closes_at=closes_at,
    ).on_conflict_do_nothing(index_elements=["standup_id", "local_date"]))
    run = run_of(session, team_id=team_id, standup_id=standup.id, local_date=local_date)
    assert run is not None
    if closes_at > run.closes_at and run.closed_at is None:
        run.closes_at = closes_at
    return run


def run_of(session: Session, *, team_id: str, standup_id: int, local_date: date) -> StandupRun | None:
    return session.scalar(select(StandupRun).where(StandupRun.team_id == team_id,
                                                   StandupRun.standup_id == standup_id,
                                                   StandupRun.local_date == local_date))


def run_by_id(session: Session, *, team_id: str, run_id: int) -> StandupRun | None:
    return session.scalar(select(StandupRun).where(StandupRun.team_id == team_id, StandupRun.id == run_id))


def latest_run_date(session: Session, *, team_id: str, standup_id: int) -> date | None:
    """The local date of the stand-up's latest run."""
    return session.scalar(select(StandupRun.local_date).where(StandupRun.team_id == team_id,
                                                              StandupRun.standup_id == standup_id)
                          .order_by(StandupRun.local_date.desc()).limit(1))


def runs_to_close(session: Session, *, team_id: str, now: datetime) -> list[StandupRun]:
    return list(session.scalars(select(StandupRun).where(
        StandupRun.team_id == team_id, StandupRun.closed_at.is_(None), StandupRun.closes_at <= now)))


def prompted(session: Session, *, team_id: str, standup_id: int, dates: Iterable[date]) -> set[tuple[str, date]]:
    """(user, local date) pairs that already had their prompt."""
    rows = session.execute(select(StandupPrompt.user_id, StandupPrompt.local_date).where(
        StandupPrompt.team_id == team_id, StandupPrompt.standup_id == standup_id,
        StandupPrompt.local_date.in_(list(set(dates)))))
    return {(user_id, day) for user_id, day in rows}


def record_prompt(session: Session, *, team_id: str, standup_id: int, run_id: int, user_id: str, local_date: date,
                  timezone: str, due_at: datetime, closes_at: datetime, sent_at: datetime, dm_channel_id: str,
                  dm_ts: str) -> StandupPrompt:
    row = StandupPrompt(team_id=team_id, standup_id=standup_id, run_id=run_id, user_id=user_id,
                        local_date=local_date, timezone=timezone, due_at=due_at, closes_at=closes_at,
                        sent_at=sent_at, dm_channel_id=dm_channel_id, dm_ts=dm_ts)
    session.add(row)
    session.flush()
    return row


def prompt_of(session: Session, *, team_id: str, standup_id: int, user_id: str, local_date: date
              ) -> StandupPrompt | None:
    return session.scalar(select(StandupPrompt).where(
        StandupPrompt.team_id == team_id, StandupPrompt.standup_id == standup_id,
        StandupPrompt.user_id == user_id, StandupPrompt.local_date == local_date))


def awaiting_reminder(session: Session, *, team_id: str, standup_id: int, now: datetime) -> list[StandupPrompt]:
    """Prompts with no answer, no skip and no reminder yet, whose window is still open."""
    answered = select(StandupAnswer.id).where(StandupAnswer.team_id == team_id,
                                              StandupAnswer.run_id == StandupPrompt.run_id,
                                              StandupAnswer.user_id == StandupPrompt.user_id)
    skipped = select(StandupSkip.id).where(StandupSkip.team_id == team_id,
                                           StandupSkip.standup_id == StandupPrompt.standup_id,
                                           StandupSkip.user_id == StandupPrompt.user_id,
                                           StandupSkip.local_date == StandupPrompt.local_date)
    return list(session.scalars(select(StandupPrompt).where(
        StandupPrompt.team_id == team_id, StandupPrompt.standup_id == standup_id,
        StandupPrompt.reminded_at.is_(None), StandupPrompt.closes_at > now,
        ~answered.exists(), ~skipped.exists())))


def mark_reminded(session: Session, *, team_id: str, prompt_id: int, now: datetime) -> None:
    prompt = session.scalar(select(StandupPrompt).where(StandupPrompt.team_id == team_id,
                                                        StandupPrompt.id == prompt_id))
    if prompt is not None:
        prompt.reminded_at = now


# -- answers and skips ----------------------------------------------------------------------------------------------

def answer_of(session: Session, *, team_id: str, run_id: int, user_id: str) -> StandupAnswer | None:
    return session.scalar(select(StandupAnswer).where(StandupAnswer.team_id == team_id,
                                                      StandupAnswer.run_id == run_id,
                                                      StandupAnswer.user_id == user_id))


def answer_by_id(session: Session, *, team_id: str, answer_id: int) -> StandupAnswer | None:
    return session.scalar(select(StandupAnswer).where(StandupAnswer.team_id == team_id,
                                                      StandupAnswer.id == answer_id))


def answer_items(session: Session, *, team_id: str, answer_id: int) -> list[StandupAnswerItem]:
    return list(session.scalars(select(StandupAnswerItem).where(StandupAnswerItem.team_id == team_id,
                                                                StandupAnswerItem.answer_id == answer_id)
                                .order_by(StandupAnswerItem.position)))


def record_answer(session: Session, *, team_id: str, run: StandupRun, user_id: str,
                  questions: tuple[Question, ...], answers: dict[int, str], late: bool,
                  now: datetime) -> tuple[StandupAnswer, bool] | None:
    """Store a participant's answers for a run (or replace them, keeping the old texts); (answer, is_edit), or None
    when these very answers are already stored (the form submitted twice, at once or one after the other)."""
    answer = answer_of(session, team_id=team_id, run_id=run.id, user_id=user_id)
    fresh = None
    if answer is None:
        fresh = StandupAnswer(team_id=team_id, standup_id=run.standup_id, run_id=run.id, user_id=user_id,
                              local_date=run.local_date, submitted_at=now, late=late)
        try:
            with session.begin_nested():  # a submission of the same form at the same moment may store it first
                session.add(fresh)
                session.flush()
            answer = fresh
        except IntegrityError:
            answer = answer_of(session, team_id=team_id, run_id=run.id, user_id=user_id)
            if answer is None:
                raise
    is_edit = answer is not fresh
    old: dict[int, StandupAnswerItem] = {}
    if is_edit:
        old = {i.position: i for i in answer_items(session, team_id=team_id, answer_id=answer.id)}
        texts = {position: (answers.get(position) or "").strip() for position in range(len(questions))}
        if all(position in old and old[position].text == text for position, text in texts.items()):
            return None
        answer.edited_at = now
        answer.report_stale = True
    for position, question in enumerate(questions):
        text = (answers.get(position) or "").strip()
        item = old.get(position)
        if item is None:
            session.add(StandupAnswerItem(team_id=team_id, answer_id=answer.id, position=position,
                                          question=question.text, text=text, is_blocker=question.is_blocker))
        elif item.text != text:
            session.add(StandupAnswerEdit(team_id=team_id, answer_id=answer.id, position=position,
                                          previous_text=item.text, edited_at=now))
            item.text = text
    session.execute(delete(StandupSkip).where(StandupSkip.team_id == team_id,
                                              StandupSkip.standup_id == run.standup_id,
                                              StandupSkip.user_id == user_id,
                                              StandupSkip.local_date == run.local_date))
    session.flush()
    return answer, is_edit


def record_skip(session: Session, *, team_id: str, standup_id: int, user_id: str, local_date: date,
                now: datetime) -> bool:
    """Record that someone skips a day; False when they already had."""
    exists = session.scalar(select(StandupSkip.id).where(
        StandupSkip.team_id == team_id, StandupSkip.standup_id == standup_id, StandupSkip.user_id == user_id,
        StandupSkip.local_date == local_date))
    if exists is not None:
        return False
    session.add(StandupSkip(team_id=team_id, standup_id=standup_id, user_id=user_id, local_date=local_date,
                            skipped_at=now))
    session.flush()
    return True


def previous_answers(session: Session, *, team_id: str, standup_id: int, user_ids: Iterable[str], before: date,
                     position: int) -> dict[str, str]:
    """Each participant's latest answer to question `position` before `before` (their last "today"), in one
    statement, by user id (someone with none is missing)."""
    users = sorted(set(user_ids))
    if not users:
        return {}
    answered = and_(StandupAnswer.team_id == team_id, StandupAnswer.standup_id == standup_id,
                    StandupAnswer.user_id.in_(users), StandupAnswer.local_date < before,
                    StandupAnswerItem.position == position)
    latest = (select(StandupAnswer.user_id, func.max(StandupAnswer.local_date).label("day"))
              .join(StandupAnswerItem, StandupAnswer.id == StandupAnswerItem.answer_id)
              .where(answered).group_by(StandupAnswer.user_id).subquery())
    rows = session.execute(
        select(StandupAnswer.user_id, StandupAnswerItem.text)
        .join(StandupAnswerItem, StandupAnswer.id == StandupAnswerItem.answer_id)
        .join(latest, and_(latest.c.user_id == StandupAnswer.user_id, latest.c.day == StandupAnswer.local_date))
        .where(answered))
    return {user_id: text for user_id, text in rows}


def prompts_of(session: Session, *, team_id: str, keys: Iterable[tuple[int, str, date]]
               ) -> dict[tuple[int, str, date], StandupPrompt]:
    """The prompts named by (stand-up id, user id, local date), in one statement; those not found are missing."""
    wanted = set(keys)
    if not wanted:
        return {}
    rows = session.scalars(select(StandupPrompt).where(
        StandupPrompt.team_id == team_id, StandupPrompt.standup_id.in_(sorted({k[0] for k in wanted})),
        StandupPrompt.user_id.in_(sorted({k[1] for k in wanted})),
        StandupPrompt.local_date.in_(sorted({k[2] for k in wanted}))))
    found = {(p.standup_id, p.user_id, p.local_date): p for p in rows}
    return {key: prompt for key, prompt in found.items() if key in wanted}


# -- what a day looks like ------------------------------------------------------------------------------------------

@dataclass
class RunStatus:
    """Who answered, was late, skipped, is away or still pending on one stand-up day."""

    expected: list[str]
    answered: list[str] = field(default_factory=list)
    late: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    away: list[str] = field(default_factory=list)

    @property
    def pending(self) -> list[str]:
        done = set(self.answered) | set(self.skipped) | set(self.away)
        return [u for u in self.expected if u not in done]


def run_status(session: Session, *, team_id: str, standup_id: int, local_date: date,
               holiday: bool = False) -> RunStatus:
    participants = [p.user_id for p in participants_of(session, team_id=team_id, standup_id=standup_id)
                    if p.gone_since is None]
    away_by = away_ranges(session, team_id=team_id, user_ids=participants, start=local_date, end=local_date)
    away = participants if holiday else [u for u in participants if u in away_by]
    answers = session.execute(select(StandupAnswer.user_id, StandupAnswer.late).where(
        StandupAnswer.team_id == team_id, StandupAnswer.standup_id == standup_id,
        StandupAnswer.local_date == local_date).order_by(StandupAnswer.submitted_at, StandupAnswer.id)).all()
    answered = [u for u, _late in answers]
    skipped = list(session.scalars(select(StandupSkip.user_id).where(
        StandupSkip.team_id == team_id, StandupSkip.standup_id == standup_id,
        StandupSkip.local_date == local_date)))
    expected = [u for u in participants if u not in away] + [u for u in answered if u not in participants]
    return RunStatus(expected=expected, answered=answered, late=[u for u, late in answers if late],
                     skipped=skipped, away=[u for u in away if u not in answered])


# -- participation, for sprint summaries ----------------------------------------------------------------------------

@dataclass(frozen=True)
class DayParticipation:
    """One stand-up day: how many were prompted, answered (on time or late), skipped, or away."""

    local_date: date
    prompted: int
    answered: int
    late: int
    skipped: int
    away: int


@dataclass(frozen=True)
class PersonParticipation:
    """One participant over a period: prompts received, answers (of which late), skips, reminders, days away."""

    user_id: str
    prompted: int
    answered: int
    late: int
    skipped: int
    reminded: int
    away_days: int


@dataclass(frozen=True)
class Participation:
    """Stand-up participation of a team channel between two local dates (inclusive)."""

    team_id: str
    channel_id: str
    start: date
    end: date
    days: list[DayParticipation]
    people: list[PersonParticipation]

    @property
    def answer_rate(self) -> float:
        """Answers per prompt over the period (0.0 when nobody was prompted)."""
        prompted = sum(d.prompted for d in self.days)
        return sum(d.answered for d in self.days) / prompted if prompted else 0.0


def participation(session: Session, *, team_id: str, channel_id: str, start: date, end: date) -> Participation:
    """Per-day and per-person stand-up figures for the team channel `channel_id` between `start` and `end`.

    Days are the participants' local dates. "away" counts participants' days inside an away range on days the
    stand-up ran. Returns an empty Participation when the channel has no stand-up.
    """
    standup = get_standup(session, team_id=team_id, channel_id=channel_id)
    if standup is None:
        return Participation(team_id, channel_id, start, end, [], [])
    sid = standup.id

    def between(column: object) -> object:
        return column.between(start, end)  # type: ignore[attr-defined]

    prompts = session.execute(select(StandupPrompt.user_id, StandupPrompt.local_date, StandupPrompt.reminded_at)
                              .where(StandupPrompt.team_id == team_id, StandupPrompt.standup_id == sid,
                                     between(StandupPrompt.local_date))).all()
    answers = session.execute(select(StandupAnswer.user_id, StandupAnswer.local_date, StandupAnswer.late)
                              .where(StandupAnswer.team_id == team_id, StandupAnswer.standup_id == sid,
                                     between(StandupAnswer.local_date))).all()
    skips = session.execute(select(StandupSkip.user_id, StandupSkip.local_date)
                            .where(StandupSkip.team_id == team_id, StandupSkip.standup_id == sid,
                                   between(StandupSkip.local_date))).all()
    run_days = sorted(session.scalars(select(StandupRun.local_date).where(
        StandupRun.team_id == team_id, StandupRun.standup_id == sid, between(StandupRun.local_date))))
    members = [p.user_id for p in participants_of(session, team_id=team_id, standup_id=sid)]
    users = list(dict.fromkeys([*members, *(p[0] for p in prompts), *(a[0] for a in answers)]))
    away = away_ranges(session, team_id=team_id, user_ids=users, start=start, end=end)

    def is_away(user_id: str, day: date) -> bool:
        return any(day in r for r in away.get(user_id, ()))

    days = [DayParticipation(
        local_date=day,
        prompted=sum(1 for p in prompts if p[1] == day),
        answered=sum(1 for a in answers if a[1] == day),
        late=sum(1 for a in answers if a[1] == day and a[2]),
        skipped=sum(1 for s in skips if s[1] == day),
        away=sum(1 for u in members if is_away(u, day)),
    ) for day in run_days]
    people = [PersonParticipation(
        user_id=user,
        prompted=sum(1 for p in prompts if p[0] == user),
        answered=sum(1 for a in answers if a[0] == user),
        late=sum(1 for a in answers if a[0] == user and a[2]),
        skipped=sum(1 for s in skips if s[0] == user),
        reminded=sum(1 for p in prompts if p[0] == user and p[2] is not None),
        away_days=sum(1 for day in run_days if is_away(user, day)),
    ) for user in users]
    return Participation(team_id, channel_id, start, end, days, people)


# -- a participant's own stand-ups, for their App Home -----------------------------------------------------------------

def standups_of_participant(session: Session, *, team_id: str, user_id: str) -> list[Standup]:
    """The stand-ups listing `user_id` as a participant who has not left, by team channel."""
    return list(session.scalars(select(Standup).join(
        StandupParticipant, StandupParticipant.standup_id == Standup.id).where(
        Standup.team_id == team_id, StandupParticipant.team_id == team_id, StandupParticipant.user_id == user_id,
        StandupParticipant.gone_since.is_(None)).order_by(Standup.channel_id)))


@dataclass(frozen=True)
class ParticipantDays:
    """What a participant did on the local dates between two days: prompts received, answers, skips."""

    prompted: set[date]
    answers: dict[date, StandupAnswer]
    skipped: set[date]


def participant_days(session: Session, *, team_id: str, standup_id: int, user_id: str, start: date, end: date
                     ) -> ParticipantDays:
    """A participant's prompts, answers and skips of one stand-up between `start` and `end` (inclusive)."""
    prompted = set(session.scalars(select(StandupPrompt.local_date).where(
        StandupPrompt.team_id == team_id, StandupPrompt.standup_id == standup_id, StandupPrompt.user_id == user_id,
        StandupPrompt.local_date.between(start, end))))
    answers = {a.local_date: a for a in session.scalars(select(StandupAnswer).where(
        StandupAnswer.team_id == team_id, StandupAnswer.standup_id == standup_id, StandupAnswer.user_id == user_id,
        StandupAnswer.local_date.between(start, end)))}
    skipped = set(session.scalars(select(StandupSkip.local_date).where(
        StandupSkip.team_id == team_id, StandupSkip.standup_id == standup_id, StandupSkip.user_id == user_id,
        StandupSkip.local_date.between(start, end))))
    return ParticipantDays(prompted, answers, skipped)


def owner_of(session: Session, *, team_id: str, channel_id: str) -> str | None:
    """Who owns the channel's stand-up (for other ceremonies asking who facilitates the team)."""
    return session.scalar(select(Standup.owner_id).where(Standup.team_id == team_id, Standup.channel_id == channel_id))
