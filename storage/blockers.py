"""Blockers, their escalations and each team channel's blocker settings, as rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import ForeignKey, Index, Integer, String, Time, UniqueConstraint, func, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from ceremonies import blockers as domain
from ceremonies.blockers import BlockerNotFound, BlockerRecord, BlockerStats, Source, Status, TrackerSettings
from storage import due, outbox, workspaces
from storage import sprint as sprints
from storage import standup as standups
from storage.calendar import holiday_days
from storage.models import SLACK_ID_LENGTH, Base

SOURCE_LENGTH = 16
STATUS_LENGTH = 16


class Blocker(due.Scheduled, Base):
    """Something stopping a team member, tracked from the moment it is flagged until someone resolves it.

    `text` at most 2,000 characters, `link` (stand-up answer or message permalink) 500, `resolution_note` 1,000.
    `standup_answer_id` keys a blocker flagged from a stand-up answer, so that an edit of the answer updates it.
    `message_channel_id`/`message_ts` are where the app posted it (edited in place when it changes).
    """

    __tablename__ = "blockers"
    __due_kind__ = "blocker"  # next_due_at: its next escalation step or its channel's next digest; None once resolved
    __table_args__ = (
        UniqueConstraint("team_id", "standup_answer_id"),
        Index("ix_blockers_team_channel_status", "team_id", "channel_id", "status"),
        Index("ix_blockers_team_reporter_status", "team_id", "reporter_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    channel_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    reporter_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    text: Mapped[str] = mapped_column(String(domain.TEXT_LIMIT))
    source: Mapped[str] = mapped_column(String(SOURCE_LENGTH))
    link: Mapped[str | None] = mapped_column(String(domain.LINK_LIMIT))
    standup_answer_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime]
    owner_id: Mapped[str | None] = mapped_column(String(SLACK_ID_LENGTH))
    status: Mapped[str] = mapped_column(String(STATUS_LENGTH), default=Status.OPEN)
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(String(SLACK_ID_LENGTH))
    resolution_note: Mapped[str | None] = mapped_column(String(domain.NOTE_LIMIT))
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    escalation_count: Mapped[int] = mapped_column(Integer, default=0)
    message_channel_id: Mapped[str | None] = mapped_column(String(SLACK_ID_LENGTH))
    message_ts: Mapped[str | None] = mapped_column(String(SLACK_ID_LENGTH))

    @property
    def is_open(self) -> bool:
        return self.status == Status.OPEN


class BlockerEscalation(Base):
    """One escalation step of one blocker, sent to `contact_id` at `escalated_at`; each level at most once."""

    __tablename__ = "blocker_escalations"
    __table_args__ = (UniqueConstraint("blocker_id", "level"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    blocker_id: Mapped[int] = mapped_column(ForeignKey("blockers.id", ondelete="CASCADE"))
    level: Mapped[int] = mapped_column(Integer)
    contact_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    escalated_at: Mapped[datetime]


class BlockerSettingsRow(Base):
    """A team channel's blocker settings (`/blocker settings`); no row means the defaults."""

    __tablename__ = "blocker_settings"
    __table_args__ = (UniqueConstraint("team_id", "channel_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    channel_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    threshold_days: Mapped[int] = mapped_column(Integer, default=domain.DEFAULT_THRESHOLD_DAYS)
    contact_id: Mapped[str | None] = mapped_column(String(SLACK_ID_LENGTH))
    digest_time: Mapped[time] = mapped_column(Time)
    timezone: Mapped[str] = mapped_column(String(domain.TIMEZONE_LIMIT))
    updated_by: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    updated_at: Mapped[datetime]


# -- blockers -------------------------------------------------------------------------------------------------------


def open_blocker(
    session: Session,
    *,
    team_id: str,
    channel_id: str,
    reporter_id: str,
    text: str,
    source: Source,
    now: datetime,
    owner_id: str | None = None,
    link: str | None = None,
    standup_answer_id: int | None = None,
) -> Blocker:
    """Store a new open blocker."""
    blocker = Blocker(
        team_id=team_id,
        channel_id=channel_id,
        reporter_id=reporter_id,
        text=text[: domain.TEXT_LIMIT],
        source=source.value,
        link=(link or None) and link[: domain.LINK_LIMIT],
        standup_answer_id=standup_answer_id,
        created_at=now,
        owner_id=owner_id,
        status=Status.OPEN.value,
        escalation_level=0,
        escalation_count=0,
        next_due_at=now,  # its job computes when it next escalates, and its channel's next digest
    )
    session.add(blocker)
    session.flush()
    return blocker


def get_blocker(session: Session, *, team_id: str, blocker_id: int) -> Blocker:
    """The blocker `blocker_id` of this workspace; BlockerNotFound otherwise."""
    blocker = session.scalar(select(Blocker).where(Blocker.team_id == team_id, Blocker.id == blocker_id))
    if blocker is None:
        raise BlockerNotFound(blocker_id)
    return blocker


def blocker_for_answer(session: Session, *, team_id: str, answer_id: int) -> Blocker | None:
    """The blocker flagged from stand-up answer `answer_id`, if any."""
    return session.scalar(select(Blocker).where(Blocker.team_id == team_id, Blocker.standup_answer_id == answer_id))


def set_message(session: Session, *, team_id: str, blocker_id: int, channel_id: str, ts: str) -> None:
    """Remember where the blocker was posted, to edit it in place later."""
    blocker = get_blocker(session, team_id=team_id, blocker_id=blocker_id)
    blocker.message_channel_id = channel_id
    blocker.message_ts = ts
    session.flush()


def resolve_blocker(session: Session, *, team_id: str, blocker_id: int, user_id: str, note: str, now: datetime
                    ) -> Blocker:
    """Mark the blocker resolved by `user_id` (anyone may); refused when it is unknown or already resolved."""
    blocker = session.scalar(
        select(Blocker).where(Blocker.team_id == team_id, Blocker.id == blocker_id).with_for_update()
    )
    if blocker is None:
        raise BlockerNotFound(blocker_id)
    domain.check_resolvable(blocker_id=blocker.id, status=blocker.status, resolved_by=blocker.resolved_by)
    blocker.status = Status.RESOLVED.value
    blocker.resolved_at = now
    blocker.resolved_by = user_id
    blocker.resolution_note = domain.clean_note(note) or None
    blocker.next_due_at = None
    session.flush()
    return blocker


def assign_owner(session: Session, *, team_id: str, blocker_id: int, owner_id: str | None) -> Blocker:
    """Set who is expected to unblock it."""
    blocker = get_blocker(session, team_id=team_id, blocker_id=blocker_id)
    blocker.owner_id = owner_id
    session.flush()
    return blocker


def update_from_answer(session: Session, *, team_id: str, blocker_id: int, text: str, owner_id: str | None,
                       link: str | None) -> Blocker:
    """An edited stand-up answer changes its blocker's text (and owner, when the new text names one)."""
    blocker = get_blocker(session, team_id=team_id, blocker_id=blocker_id)
    blocker.text = text[: domain.TEXT_LIMIT]
    if owner_id is not None:
        blocker.owner_id = owner_id
    if link:
        blocker.link = link[: domain.LINK_LIMIT]
    session.flush()
    return blocker


def open_blockers(session: Session, *, team_id: str, channel_id: str) -> list[Blocker]:
    """A team channel's open blockers, oldest first."""
    query = select(Blocker).where(
        Blocker.team_id == team_id, Blocker.channel_id == channel_id, Blocker.status == Status.OPEN.value
    )
    return list(session.scalars(query.order_by(Blocker.created_at, Blocker.id)))


def open_blockers_for_user(session: Session, *, team_id: str, user_id: str, channel_id: str | None = None
                           ) -> list[Blocker]:
    """The open blockers `user_id` reported (optionally in one team channel), oldest first — for prompts and Home."""
    query = select(Blocker).where(
        Blocker.team_id == team_id, Blocker.reporter_id == user_id, Blocker.status == Status.OPEN.value
    )
    if channel_id is not None:
        query = query.where(Blocker.channel_id == channel_id)
    return list(session.scalars(query.order_by(Blocker.created_at, Blocker.id)))


def open_blockers_involving(session: Session, *, team_id: str, user_id: str) -> list[Blocker]:
    """The open blockers `user_id` reported or owns, in every team channel, oldest first — for their App Home."""
    return list(session.scalars(
        select(Blocker)
        .where(Blocker.team_id == team_id, Blocker.status == Status.OPEN.value,
               or_(Blocker.reporter_id == user_id, Blocker.owner_id == user_id))
        .order_by(Blocker.created_at, Blocker.id)
    ))


def channels_of(session: Session, *, team_id: str, user_id: str) -> set[str]:
    """The team channels where `user_id` reported or owns a blocker."""
    return set(session.scalars(
        select(Blocker.channel_id)
        .where(Blocker.team_id == team_id, or_(Blocker.reporter_id == user_id, Blocker.owner_id == user_id))
        .distinct()
    ))


def teams_with_open_blockers(session: Session) -> list[tuple[str, str]]:
    """Every (workspace, team channel) that has an open blocker: the scheduled jobs' starting point.

    The one query that spans workspaces, because the clock serves them all; everything after it is scoped.
    """
    query = select(Blocker.team_id, Blocker.channel_id).where(
        Blocker.status == Status.OPEN.value, workspaces.active_clause(Blocker.team_id)).distinct()
    return [(team_id, channel_id) for team_id, channel_id in session.execute(query.order_by(Blocker.team_id))]


def claim_due_channels(session: Session, *, now: datetime, limit: int = 500) -> list[tuple[str, str]]:
    """The (workspace, team channel) pairs with an open blocker due at `now` (an escalation step or the digest),
    claimed for this process (storage.due): one indexed query."""
    rows = due.claim(session, Blocker, now=now, limit=limit, where=[Blocker.status == Status.OPEN.value])
    return list(dict.fromkeys((b.team_id, b.channel_id) for b in rows))


ESCALATION_HORIZON = timedelta(days=90)


def schedule_channel(session: Session, *, team_id: str, channel_id: str, now: datetime, default_timezone: str) -> None:
    """Store each open blocker's next due moment in a channel after a run at `now`: its next escalation step, or the
    channel's next digest, whichever comes first."""
    blockers = open_blockers(session, team_id=team_id, channel_id=channel_id)
    if not blockers:
        return
    settings = tracker_settings(session, team_id=team_id, channel_id=channel_id, default_timezone=default_timezone)
    first = min(b.created_at for b in blockers)
    holidays = holiday_days(session, team_id=team_id, start=first.date() - timedelta(days=1),
                            end=(now + ESCALATION_HORIZON).date())
    digest = domain.next_digest_at(now, settings=settings, holidays=holidays) or now + ESCALATION_HORIZON
    for blocker in blockers:
        age = domain.working_time_between(blocker.created_at, now, holidays=holidays, timezone=settings.timezone)
        level = max(blocker.escalation_level, domain.escalation_level(age, threshold_days=settings.threshold_days))
        step = domain.next_escalation_at(blocker.created_at, level=level, threshold_days=settings.threshold_days,
                                         holidays=holidays, timezone=settings.timezone)
        due.set_next(blocker, at=min(digest, step or digest), now=now)
    session.flush()


def record_escalation(session: Session, *, team_id: str, blocker_id: int, level: int, contact_id: str,
                      now: datetime) -> None:
    """Note that escalation step `level` was sent to `contact_id`."""
    blocker = get_blocker(session, team_id=team_id, blocker_id=blocker_id)
    session.add(BlockerEscalation(team_id=team_id, blocker_id=blocker_id, level=level, contact_id=contact_id,
                                  escalated_at=now))
    blocker.escalation_level = max(blocker.escalation_level, level)
    blocker.escalation_count += 1
    session.flush()


# -- settings -------------------------------------------------------------------------------------------------------


def tracker_settings(session: Session, *, team_id: str, channel_id: str, default_timezone: str) -> TrackerSettings:
    """A team channel's blocker settings, or the defaults (1 working day, no contact, 09:30 in `default_timezone`)."""
    row = _settings_row(session, team_id=team_id, channel_id=channel_id)
    if row is None:
        return TrackerSettings(timezone=default_timezone)
    return TrackerSettings(threshold_days=row.threshold_days, contact_id=row.contact_id, digest_time=row.digest_time,
                           timezone=row.timezone)


def save_tracker_settings(session: Session, *, team_id: str, channel_id: str, settings: TrackerSettings,
                          user_id: str, now: datetime) -> None:
    """Store a team channel's blocker settings, replacing what was there."""
    row = _settings_row(session, team_id=team_id, channel_id=channel_id)
    if row is None:
        row = BlockerSettingsRow(team_id=team_id, channel_id=channel_id)
        session.add(row)
    row.threshold_days = settings.threshold_days
    row.contact_id = settings.contact_id
    row.digest_time = settings.digest_time
    row.timezone = settings.timezone
    row.updated_by = user_id
    row.updated_at = now
    session.flush()
    # Another threshold, digest time or timezone: the channel's open blockers compute their next moment again.
    due.reschedule(session, Blocker, now=now, where=[Blocker.team_id == team_id, Blocker.channel_id == channel_id,
                                                     Blocker.status == Status.OPEN.value])


def settings_saved_by(session: Session, *, team_id: str, channel_id: str) -> str | None:
    """Who saved the channel's blocker settings last; None when it has none."""
    row = _settings_row(session, team_id=team_id, channel_id=channel_id)
    return row.updated_by if row is not None else None


def _settings_row(session: Session, *, team_id: str, channel_id: str) -> BlockerSettingsRow | None:
    return session.scalar(
        select(BlockerSettingsRow).where(BlockerSettingsRow.team_id == team_id, BlockerSettingsRow.channel_id == channel_id)
    )


# -- records --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AgedBlocker:
    """An open blocker with its working age, for lists, digests and escalation."""

    blocker: Blocker
    age: timedelta


def blocker_stats(session: Session, *, team_id: str, channel_id: str, start: datetime, end: datetime,
                  default_timezone: str = "UTC") -> BlockerStats:
    """Opened, resolved and still-open counts, median and longest working time to unblock, and escalations of one
    team channel between `start` (inclusive) and `end` (exclusive): see `ceremonies.blockers.BlockerStats`."""
    settings = tracker_settings(session, team_id=team_id, channel_id=channel_id, default_timezone=default_timezone)
    rows = session.execute(
        select(Blocker.created_at, Blocker.resolved_at).where(
            Blocker.team_id == team_id, Blocker.channel_id == channel_id, Blocker.created_at < end
        )
    )
    records = [BlockerRecord(created_at=created, resolved_at=resolved) for created, resolved in rows]
    escalations = session.scalar(
        select(func.count(BlockerEscalation.id))
        .join(Blocker, Blocker.id == BlockerEscalation.blocker_id)
        .where(
            BlockerEscalation.team_id == team_id,
            Blocker.channel_id == channel_id,
            BlockerEscalation.escalated_at >= start,
            BlockerEscalation.escalated_at < end,
        )
    )
    first = min((r.created_at for r in records), default=start)
    holidays = holiday_days(session, team_id=team_id, start=first.date() - timedelta(days=1),
                            end=end.date() + timedelta(days=1))
    return domain.summarize(records, start=start, end=end, escalations=escalations or 0, holidays=holidays,
                            timezone=settings.timezone)


def aged(session: Session, blockers: list[Blocker], *, team_id: str, timezone: str, now: datetime
         ) -> list[AgedBlocker]:
    """Each blocker with its working age at `now` (weekends and the workspace's holidays excluded)."""
    if not blockers:
        return []
    first = min(b.created_at for b in blockers)
    holidays = holiday_days(session, team_id=team_id, start=first.date() - timedelta(days=1),
                            end=now.date() + timedelta(days=1))
    return [
        AgedBlocker(b, domain.working_time_between(b.created_at, now, holidays=holidays, timezone=timezone))
        for b in blockers
    ]


# -- use cases: the change and the messages it causes, in the caller's transaction ----------------------------------

CARD = "blocker.card"
CARD_REDRAW = "blocker.card.redraw"


def card_key(blocker_id: int) -> str:
    return f"{CARD}:{blocker_id}"


def queue_card(session: Session, blocker: Blocker, *, channel_id: str, now: datetime, ref_key: str | None = None
               ) -> None:
    """Post the blocker's card (built when it goes out) in `channel_id`, or threaded under the message `ref_key`."""
    outbox.add(session, team_id=blocker.team_id, key=card_key(blocker.id), kind=CARD, now=now, render=CARD,
               args={"team_id": blocker.team_id, "blocker_id": blocker.id}, channel="" if ref_key else channel_id,
               ref_key=ref_key)


def redraw_card(session: Session, blocker: Blocker, *, now: datetime) -> None:
    """Redraw the posted card as the blocker stands now (once, however many changes ask before it goes out)."""
    if blocker.message_ts:
        where: dict[str, str | None] = {"channel": blocker.message_channel_id or "", "ts": blocker.message_ts}
    elif outbox.state_of(session, key=card_key(blocker.id)) is not None:
        where = {"ref_key": card_key(blocker.id)}
    else:
        return  # never posted (Slack refused the /blocker card): nothing to redraw
    outbox.redraw(session, team_id=blocker.team_id, key=f"redraw:{card_key(blocker.id)}", kind=CARD_REDRAW,
                  render=CARD, args={"team_id": blocker.team_id, "blocker_id": blocker.id}, now=now, **where)


def resolve(session: Session, *, team_id: str, blocker_id: int, user_id: str, note: str, now: datetime) -> Blocker:
    """Resolve a blocker (anyone may) and redraw its card."""
    blocker = resolve_blocker(session, team_id=team_id, blocker_id=blocker_id, user_id=user_id, note=note, now=now)
    redraw_card(session, blocker, now=now)
    return blocker


@dataclass(frozen=True)
class FromAnswer:
    """What a stand-up answer did to its blocker: opened, updated, resolved it, or nothing."""

    blocker: Blocker | None
    change: str  # "opened", "updated", "resolved" or ""


def apply_standup_answer(session: Session, *, team_id: str, channel_id: str, report_channel_id: str,
                         reporter_id: str, answer_id: int, blocker_text: str | None, owner_id: str | None,
                         parent_key: str | None, now: datetime) -> FromAnswer:
    """A stand-up answer naming a blocker opens one, its card threaded under the day's parent; an edit updates it,
    or resolves it when the edited answer says there is none."""
    existing = blocker_for_answer(session, team_id=team_id, answer_id=answer_id)
    if domain.says_no_blocker(blocker_text):
        if existing is None or not existing.is_open:
            return FromAnswer(existing, "")
        return FromAnswer(resolve(session, team_id=team_id, blocker_id=existing.id, user_id=reporter_id,
                                  note="The stand-up answer was edited to say there is no blocker.", now=now),
                          "resolved")
    text = (blocker_text or "").strip()[: domain.TEXT_LIMIT]
    if existing is not None:
        blocker = update_from_answer(session, team_id=team_id, blocker_id=existing.id, text=text, owner_id=owner_id,
                                     link=None)
        redraw_card(session, blocker, now=now)
        return FromAnswer(blocker, "updated")
    blocker = open_blocker(session, team_id=team_id, channel_id=channel_id, reporter_id=reporter_id, text=text,
                           source=Source.STANDUP, owner_id=owner_id, standup_answer_id=answer_id, now=now)
    queue_card(session, blocker, channel_id=report_channel_id, now=now, ref_key=parent_key)
    return FromAnswer(blocker, "opened")


def aged_in_channel(session: Session, blockers: list[Blocker], *, team_id: str, channel_id: str,
                    default_timezone: str, now: datetime) -> list[AgedBlocker]:
    """Each blocker of one team channel with its working age at `now`, in the channel's tracker timezone."""
    settings = tracker_settings(session, team_id=team_id, channel_id=channel_id, default_timezone=default_timezone)
    return aged(session, blockers, team_id=team_id, timezone=settings.timezone, now=now)


def time_to_unblock(session: Session, blocker: Blocker, *, default_timezone: str) -> timedelta | None:
    """How long (in working time) a resolved blocker was open; None while it is open."""
    if blocker.resolved_at is None:
        return None
    [item] = aged_in_channel(session, [blocker], team_id=blocker.team_id, channel_id=blocker.channel_id,
                             default_timezone=default_timezone, now=blocker.resolved_at)
    return item.age


ESCALATION = "blocker.escalate"


def queue_escalation(session: Session, *, team_id: str, blocker_id: int, level: int, contact_id: str,
                     now: datetime) -> bool:
    """DM the escalation contact about a blocker that passed another threshold step, each step once (built when it
    is sent); False when it was resolved meanwhile or this step was queued before."""
    blocker = get_blocker(session, team_id=team_id, blocker_id=blocker_id)
    if not blocker.is_open or blocker.escalation_level >= level:
        return False
    return outbox.add(session, team_id=team_id, key=f"{ESCALATION}:{team_id}:{blocker_id}:{level}", kind=ESCALATION,
                      channel=contact_id, now=now, render=ESCALATION,
                      args={"team_id": team_id, "blocker_id": blocker_id, "level": level, "contact_id": contact_id})


def escalation_sent(session: Session, *, team_id: str, blocker_id: int, level: int, contact_id: str,
                    now: datetime) -> None:
    """The contact has the escalation: record the step and redraw the card ("escalated N×")."""
    blocker = get_blocker(session, team_id=team_id, blocker_id=blocker_id)
    if blocker.escalation_level >= level:
        return
    record_escalation(session, team_id=team_id, blocker_id=blocker_id, level=level, contact_id=contact_id, now=now)
    redraw_card(session, blocker, now=now)


def facilitators(session: Session, *, team_id: str, channel_id: str) -> set[str]:
    """Who facilitates the team of `channel_id` and so may change its `/blocker settings`.

    The owner of the channel's stand-up and the facilitator of its running sprint (asked of those ceremonies'
    storage, never their tables). A channel with neither keeps whoever saved its blocker settings last (the first
    to configure them, until someone else is allowed to); with no stand-up, no sprint and no settings yet there is
    nobody, and anyone may set them up.
    """
    standup_owner = standups.owner_of(session, team_id=team_id, channel_id=channel_id)
    sprint_facilitator = sprints.facilitator_of(session, team_id=team_id, channel_id=channel_id)
    found = {person for person in (standup_owner, sprint_facilitator) if person}
    if not found:
        updated_by = settings_saved_by(session, team_id=team_id, channel_id=channel_id)
        found = {updated_by} if updated_by else set()
    return found
