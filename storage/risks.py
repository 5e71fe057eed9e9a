"""The risk register as rows: each team channel's risks, every change to them (risk_events), and the use cases —
raise, rescore, mitigate, close, mark occurred (which flags a blocker), the owner's review reminders — plus the plain
data the sprint summary and the executive digest read (`top_open`, `sprint_section`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from ceremonies import risks as domain
from ceremonies.blockers import Source
from ceremonies.errors import InvalidInput
from ceremonies.risks import Change, RiskNotFound, RiskNotOpen, Status
from storage import blockers, outbox, workspaces
from storage import sprint as sprints
from storage.models import SLACK_ID_LENGTH, Base

STATUS_LENGTH = 16
TIMEZONE_LENGTH = 64


class Risk(Base):
    """A risk of a team channel: what might happen, how likely and how bad, who owns it, what is done about it.

    `next_review_at` is when the owner's review reminder is due (09:00 their time on `next_review_on`); it is
    cleared once the reminder is queued and set again by the next review, so "what reminders are due?" is one
    indexed range query. `reviewed_at` and `review_period_days` decide when it goes stale.
    """

    __tablename__ = "risks"
    __table_args__ = (
        Index("ix_risks_team_channel_status", "team_id", "channel_id", "status"),
        Index("ix_risks_next_review_at", "next_review_at"),
        Index("ix_risks_team_owner_status", "team_id", "owner_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    channel_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    title: Mapped[str] = mapped_column(String(domain.TITLE_LIMIT))
    description: Mapped[str] = mapped_column(String(domain.DESCRIPTION_LIMIT), default="")
    likelihood: Mapped[int] = mapped_column(Integer)
    impact: Mapped[int] = mapped_column(Integer)
    owner_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    owner_timezone: Mapped[str] = mapped_column(String(TIMEZONE_LENGTH))
    mitigation: Mapped[str] = mapped_column(String(domain.MITIGATION_LIMIT), default="")
    status: Mapped[str] = mapped_column(String(STATUS_LENGTH), default=Status.OPEN)
    raised_by: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    raised_at: Mapped[datetime]
    reviewed_at: Mapped[datetime]
    reviewed_by: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    review_period_days: Mapped[int] = mapped_column(Integer)
    next_review_on: Mapped[date] = mapped_column(Date)
    next_review_at: Mapped[datetime | None]
    linked_blocker_id: Mapped[int | None] = mapped_column(Integer)
    linked_story_id: Mapped[int | None] = mapped_column(Integer)
    blocker_id: Mapped[int | None] = mapped_column(Integer)  # the blocker flagged when it occurred
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[str | None] = mapped_column(String(SLACK_ID_LENGTH))

    @property
    def score(self) -> int:
        return domain.score(self.likelihood, self.impact)

    @property
    def is_open(self) -> bool:
        return self.status == Status.OPEN

    def is_stale(self, now: datetime) -> bool:
        return domain.is_stale(status=self.status, reviewed_at=self.reviewed_at, period_days=self.review_period_days,
                               now=now)

    def open_risk(self, now: datetime) -> domain.OpenRisk:
        return domain.OpenRisk(id=self.id, channel_id=self.channel_id, title=self.title, likelihood=self.likelihood,
                               impact=self.impact, owner_id=self.owner_id, mitigation=self.mitigation,
                               next_review_on=self.next_review_on, raised_at=self.raised_at, stale=self.is_stale(now))


class RiskEventRow(Base):
    """One change of a risk: who, when, old → new likelihood / impact / score and status, and a note."""

    __tablename__ = "risk_events"
    __table_args__ = (
        Index("ix_risk_events_risk", "risk_id", "at"),
        Index("ix_risk_events_team_channel_at", "team_id", "channel_id", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    channel_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    risk_id: Mapped[int] = mapped_column(ForeignKey("risks.id", ondelete="CASCADE"))
    at: Mapped[datetime]
    by: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    change: Mapped[str] = mapped_column(String(STATUS_LENGTH))
    old_likelihood: Mapped[int | None] = mapped_column(Integer)
    old_impact: Mapped[int | None] = mapped_column(Integer)
    new_likelihood: Mapped[int] = mapped_column(Integer)
    new_impact: Mapped[int] = mapped_column(Integer)
    old_status: Mapped[str | None] = mapped_column(String(STATUS_LENGTH))
    new_status: Mapped[str] = mapped_column(String(STATUS_LENGTH))
    note: Mapped[str] = mapped_column(String(domain.MITIGATION_LIMIT), default="")

    def event(self) -> domain.RiskEvent:
        old = None if self.old_likelihood is None or self.old_impact is None \
            else domain.score(self.old_likelihood, self.old_impact)
        return domain.RiskEvent(risk_id=self.risk_id, at=self.at, change=self.change, old_score=old,
                                new_score=domain.score(self.new_likelihood, self.new_impact),
                                old_status=self.old_status, new_status=self.new_status)


# -- reading ----------------------------------------------------------------------------------------------------------


def get_risk(session: Session, *, team_id: str, risk_id: int, for_update: bool = False) -> Risk:
    """The risk `risk_id` of this workspace; RiskNotFound otherwise."""
    query = select(Risk).where(Risk.team_id == team_id, Risk.id == risk_id)
    risk = session.scalar(query.with_for_update() if for_update else query)
    if risk is None:
        raise RiskNotFound(risk_id)
    return risk


def open_risks(session: Session, *, team_id: str, channel_id: str) -> list[Risk]:
    """A team channel's open risks, highest score first (ties: the oldest first)."""
    rows = session.scalars(select(Risk).where(Risk.team_id == team_id, Risk.channel_id == channel_id,
                                              Risk.status == Status.OPEN.value))
    return sorted(rows, key=lambda r: (-r.score, r.raised_at, r.id))


def top_open(session: Session, *, team_id: str, channel_id: str, limit: int, now: datetime | None = None
             ) -> list[domain.OpenRisk]:
    """The channel's `limit` highest-scored open risks as plain data (for the digest and reports); `stale` as of
    `now` (default: the wall clock)."""
    at = now or datetime.now(UTC)
    rows = open_risks(session, team_id=team_id, channel_id=channel_id)[: max(0, limit)]
    return [row.open_risk(at) for row in rows]


def history(session: Session, *, team_id: str, risk_id: int) -> list[RiskEventRow]:
    """A risk's changes, oldest first."""
    return list(session.scalars(select(RiskEventRow).where(RiskEventRow.team_id == team_id,
                                                           RiskEventRow.risk_id == risk_id)
                                .order_by(RiskEventRow.at, RiskEventRow.id)))


def sprint_section(session: Session, *, team_id: str, channel_id: str, start: datetime, end: datetime,
                   now: datetime) -> domain.RiskFigures:
    """The register over [start, end): open risks by score (as of `now`), raised / closed / occurred, and the sum
    of open scores at the start and at the end (replayed from the history), for the sprint summary and digest."""
    events = [row.event() for row in session.scalars(
        select(RiskEventRow).where(RiskEventRow.team_id == team_id, RiskEventRow.channel_id == channel_id,
                                   RiskEventRow.at < end))]
    still_open = [row.open_risk(now) for row in open_risks(session, team_id=team_id, channel_id=channel_id)]
    return domain.figures(open_risks=still_open, events=events, start=start, end=end)


def due_for_review(session: Session, *, team_id: str, owner_id: str, now: datetime) -> list[Risk]:
    """The open risks `owner_id` owns whose review date has come (for their App Home), the earliest first."""
    rows = session.scalars(select(Risk).where(Risk.team_id == team_id, Risk.owner_id == owner_id,
                                              Risk.status == Status.OPEN.value))
    due = [r for r in rows if domain.review_moment(r.next_review_on, r.owner_timezone) <= now]
    return sorted(due, key=lambda r: (r.next_review_on, -r.score, r.id))


def channels_of(session: Session, *, team_id: str, user_id: str) -> set[str]:
    """The team channels where `user_id` owns or raised a risk."""
    return set(session.scalars(select(Risk.channel_id).where(
        Risk.team_id == team_id, (Risk.owner_id == user_id) | (Risk.raised_by == user_id)).distinct()))


@dataclass(frozen=True)
class LinkChoice:
    """Something a new risk may be linked to: an open blocker or a story of the running sprint."""

    link: domain.Link
    label: str


LINK_CHOICES = 50  # of each kind: a select holds 100 options


def link_choices(session: Session, *, team_id: str, channel_id: str) -> tuple[list[LinkChoice], list[LinkChoice]]:
    """The channel's open blockers and its running sprint's open stories, for the modal's link select."""
    found_blockers = [LinkChoice(domain.Link("blocker", b.id), f"#{b.id} {b.text}")
                      for b in blockers.open_blockers(session, team_id=team_id, channel_id=channel_id)]
    sprint = sprints.running_sprint(session, team_id=team_id, channel_id=channel_id)
    stories = [] if sprint is None else [
        LinkChoice(domain.Link("story", s.id), " ".join(p for p in (s.key or "", s.title) if p) or f"story {s.id}")
        for s in sprints.stories(session, team_id=team_id, sprint_id=sprint.id)
        if s.removed_at is None and s.completed_at is None]
    return found_blockers[-LINK_CHOICES:], stories[:LINK_CHOICES]


def register(session: Session, *, team_id: str, channel_id: str, now: datetime) -> list[domain.OpenRisk]:
    """The channel's open risks by score as plain data, each with what it threatens in words (one query for the
    linked stories)."""
    found = open_risks(session, team_id=team_id, channel_id=channel_id)
    story_ids = {r.linked_story_id for r in found if r.linked_story_id is not None}
    stories = {} if not story_ids else {s.id: s for s in session.scalars(
        select(sprints.SprintStory).where(sprints.SprintStory.team_id == team_id,
                                          sprints.SprintStory.id.in_(story_ids)))}
    previous: dict[int, int] = {}
    if found:  # the score before each risk's last rescoring, oldest first so that the last one wins
        for row in session.scalars(select(RiskEventRow).where(
                RiskEventRow.team_id == team_id, RiskEventRow.risk_id.in_([r.id for r in found]),
                RiskEventRow.change == Change.RESCORED.value).order_by(RiskEventRow.at, RiskEventRow.id)):
            if row.old_likelihood is not None and row.old_impact is not None:
                previous[row.risk_id] = domain.score(row.old_likelihood, row.old_impact)
    return [replace(risk.open_risk(now), threatens=_threatens(risk, stories), previous_score=previous.get(risk.id))
            for risk in found]


def _threatens(risk: Risk, stories: dict[int, sprints.SprintStory]) -> str:
    if risk.linked_blocker_id is not None:
        return f"blocker #{risk.linked_blocker_id}"
    story = stories.get(risk.linked_story_id) if risk.linked_story_id is not None else None
    if story is not None:
        return "story " + " ".join(p for p in (story.key or "", story.title) if p)
    return ""


# -- changing (each records its event) --------------------------------------------------------------------------------


def _record(session: Session, risk: Risk, *, change: Change, by: str, now: datetime, old_likelihood: int | None,
            old_impact: int | None, old_status: str | None, note: str = "") -> None:
    session.add(RiskEventRow(team_id=risk.team_id, channel_id=risk.channel_id, risk_id=risk.id, at=now, by=by,
                             change=change.value, old_likelihood=old_likelihood, old_impact=old_impact,
                             new_likelihood=risk.likelihood, new_impact=risk.impact, old_status=old_status,
                             new_status=risk.status, note=note[: domain.MITIGATION_LIMIT]))
    session.flush()


def _reviewed(risk: Risk, *, by: str, now: datetime, next_review_on: date) -> None:
    """A change by someone who may change the risk is its review: the next review is set (and its reminder)."""
    today = domain.local_day(now, risk.owner_timezone)
    risk.reviewed_at = now
    risk.reviewed_by = by
    risk.review_period_days = domain.review_period_days(reviewed_on=today, next_review_on=next_review_on)
    risk.next_review_on = next_review_on
    risk.next_review_at = domain.review_moment(next_review_on, risk.owner_timezone)


def _check_link(session: Session, *, team_id: str, channel_id: str, link: domain.Link | None) -> None:
    if link is None:
        return
    blocker_choices, story_choices = link_choices(session, team_id=team_id, channel_id=channel_id)
    if link not in {c.link for c in (*blocker_choices, *story_choices)}:
        raise InvalidInput("That blocker or story is no longer open in this channel; pick another.")


def raise_risk(session: Session, *, team_id: str, channel_id: str, draft: domain.RiskDraft, owner_timezone: str,
               by: str, now: datetime) -> Risk:
    """Add a risk to the channel's register (its first review set by the draft)."""
    _check_link(session, team_id=team_id, channel_id=channel_id, link=draft.link)
    today = domain.local_day(now, owner_timezone)
    risk = Risk(
        team_id=team_id, channel_id=channel_id, title=draft.title[: domain.TITLE_LIMIT],
        description=draft.description[: domain.DESCRIPTION_LIMIT], likelihood=draft.likelihood, impact=draft.impact,
        owner_id=draft.owner_id, owner_timezone=owner_timezone, mitigation=draft.mitigation[: domain.MITIGATION_LIMIT],
        status=Status.OPEN.value, raised_by=by, raised_at=now, reviewed_at=now, reviewed_by=by,
        review_period_days=domain.review_period_days(reviewed_on=today, next_review_on=draft.review_on),
        next_review_on=draft.review_on, next_review_at=domain.review_moment(draft.review_on, owner_timezone),
        linked_blocker_id=draft.link.id if draft.link and draft.link.kind == "blocker" else None,
        linked_story_id=draft.link.id if draft.link and draft.link.kind == "story" else None,
    )
    session.add(risk)
    session.flush()
    _record(session, risk, change=Change.RAISED, by=by, now=now, old_likelihood=None, old_impact=None,
            old_status=None, note=draft.mitigation)
    return risk


def _open_risk(session: Session, *, team_id: str, risk_id: int) -> Risk:
    risk = get_risk(session, team_id=team_id, risk_id=risk_id, for_update=True)
    if not risk.is_open:
        raise RiskNotOpen(risk.id, risk.status)
    return risk


def rescore(session: Session, *, team_id: str, risk_id: int, rescoring: domain.Rescore, by: str, now: datetime
            ) -> Risk:
    """New likelihood and impact (a review: the next review date is set too)."""
    risk = _open_risk(session, team_id=team_id, risk_id=risk_id)
    old_l, old_i = risk.likelihood, risk.impact
    risk.likelihood, risk.impact = rescoring.likelihood, rescoring.impact
    _reviewed(risk, by=by, now=now, next_review_on=rescoring.review_on)
    _record(session, risk, change=Change.RESCORED, by=by, now=now, old_likelihood=old_l, old_impact=old_i,
            old_status=risk.status, note=rescoring.note)
    return risk


def mitigate(session: Session, *, team_id: str, risk_id: int, mitigation: domain.Mitigation, by: str, now: datetime
             ) -> Risk:
    """Record what is done about the risk (a review: the next review date is set too)."""
    risk = _open_risk(session, team_id=team_id, risk_id=risk_id)
    risk.mitigation = mitigation.text[: domain.MITIGATION_LIMIT]
    _reviewed(risk, by=by, now=now, next_review_on=mitigation.review_on)
    _record(session, risk, change=Change.MITIGATED, by=by, now=now, old_likelihood=risk.likelihood,
            old_impact=risk.impact, old_status=risk.status, note=mitigation.text)
    return risk


def close(session: Session, *, team_id: str, risk_id: int, by: str, now: datetime) -> Risk:
    """Take the risk off the register: it passed, or it was dealt with. No more reminders."""
    risk = _open_risk(session, team_id=team_id, risk_id=risk_id)
    risk.status, risk.closed_at, risk.closed_by, risk.next_review_at = Status.CLOSED.value, now, by, None
    _record(session, risk, change=Change.CLOSED, by=by, now=now, old_likelihood=risk.likelihood,
            old_impact=risk.impact, old_status=Status.OPEN.value)
    return risk


def occurred(session: Session, *, team_id: str, risk_id: int, by: str, now: datetime) -> Risk:
    """The risk happened: it leaves the register and a blocker linked to it is flagged (its card posted in the
    channel through the outbox), in this one transaction."""
    risk = _open_risk(session, team_id=team_id, risk_id=risk_id)
    blocker = blockers.open_blocker(session, team_id=team_id, channel_id=risk.channel_id, reporter_id=by,
                                    text=f"Risk #{risk.id} occurred: {risk.title}", source=Source.RISK,
                                    owner_id=risk.owner_id, now=now)
    blockers.queue_card(session, blocker, channel_id=risk.channel_id, now=now)
    risk.status, risk.closed_at, risk.closed_by, risk.next_review_at = Status.OCCURRED.value, now, by, None
    risk.blocker_id = blocker.id
    _record(session, risk, change=Change.OCCURRED, by=by, now=now, old_likelihood=risk.likelihood,
            old_impact=risk.impact, old_status=Status.OPEN.value, note=f"blocker #{blocker.id}")
    return risk


# -- review reminders ---------------------------------------------------------------------------------------------------

REVIEW = "risk.review"


def due_reminders(session: Session, *, now: datetime, limit: int = 500) -> list[tuple[str, int]]:
    """(workspace, risk) of every open risk whose review reminder is due (installed workspaces only).

    The one query that spans workspaces, because the clock serves them all: an indexed range on `next_review_at`.
    """
    query = (select(Risk.team_id, Risk.id)
             .where(Risk.next_review_at.is_not(None), Risk.next_review_at <= now, Risk.status == Status.OPEN.value,
                    workspaces.active_clause(Risk.team_id))
             .order_by(Risk.next_review_at, Risk.id).limit(limit))
    return [(team_id, risk_id) for team_id, risk_id in session.execute(query)]


def queue_reminder(session: Session, *, team_id: str, risk_id: int, now: datetime) -> bool:
    """DM the owner that the risk is due for review, once per review date; False when another process (or an
    earlier tick) queued it, or the risk was reviewed or closed meanwhile."""
    claimed = session.execute(
        update(Risk).where(Risk.team_id == team_id, Risk.id == risk_id, Risk.status == Status.OPEN.value,
                           Risk.next_review_at.is_not(None), Risk.next_review_at <= now)
        .values(next_review_at=None).returning(Risk.owner_id, Risk.next_review_on)
        .execution_options(synchronize_session=False)
    ).first()
    if claimed is None:
        return False
    owner_id, review_on = claimed
    return outbox.add(session, team_id=team_id, key=f"{REVIEW}:{team_id}:{risk_id}:{review_on.isoformat()}",
                      kind=REVIEW, channel=owner_id, now=now, render=REVIEW,
                      args={"team_id": team_id, "risk_id": risk_id})


# -- the register and its heat map, posted in the channel through the outbox --------------------------------------------

REGISTER = "risk.register"
HEAT_MAP = "risk.heatmap"


def queue_register(session: Session, *, team_id: str, channel_id: str, request: str, now: datetime) -> str | None:
    """`/risk`: post the channel's register (drawn when it goes out) with its heat map in the thread, once per
    request; None (nothing posted) when the channel has no open risk."""
    if session.scalar(select(Risk.id).where(Risk.team_id == team_id, Risk.channel_id == channel_id,
                                            Risk.status == Status.OPEN.value).limit(1)) is None:
        return None
    args = {"team_id": team_id, "channel_id": channel_id}
    key = f"{REGISTER}:{team_id}:{channel_id}:{request}"
    outbox.add(session, team_id=team_id, key=key, kind=REGISTER, channel=channel_id, now=now, render=REGISTER,
               args=args)
    outbox.add(session, team_id=team_id, key=f"{HEAT_MAP}:{team_id}:{channel_id}:{request}", kind=HEAT_MAP,
               channel=channel_id, now=now, render=HEAT_MAP, args=args, ref_key=key)
    return key


def redraw_register(session: Session, *, team_id: str, channel_id: str, ts: str, now: datetime) -> None:
    """Redraw a posted register after a change made from it (once, however many changes ask before it goes out)."""
    outbox.redraw(session, team_id=team_id, key=f"redraw:{REGISTER}:{team_id}:{channel_id}:{ts}",
                  kind=f"{REGISTER}.redraw", render=REGISTER, args={"team_id": team_id, "channel_id": channel_id},
                  now=now, channel=channel_id, ts=ts)
