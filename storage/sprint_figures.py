"""The sprint summary's figures, gathered from every ceremony's records with a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from ceremonies import sprint as domain
from ceremonies.healthcheck import SprintSection
from ceremonies.risks import RiskFigures
from storage import blockers, calendar, healthcheck, poker, retro, risks, standup
from storage import people as people_store
from storage import review as reviews
from storage import sprint as sprints


def summary(session: Session, *, sprint: sprints.Sprint, now: datetime) -> domain.SprintSummary:
    """Everything the sprint report says, as of `now` (read on the sprint's own calendar)."""
    team_id, channel_id = sprint.team_id, sprint.channel_id
    zone = ZoneInfo(sprint.timezone)
    today = now.astimezone(zone).date()
    until = min(today, sprint.ends_on)
    start_at = datetime.combine(sprint.starts_on, time(0), tzinfo=zone)
    end_at = min(now, datetime.combine(until + timedelta(days=1), time(0), tzinfo=zone))
    holidays = calendar.holiday_days(session, team_id=team_id, start=sprint.starts_on, end=sprint.ends_on)
    stories = [row.story() for row in sprints.stories(session, team_id=team_id, sprint_id=sprint.id)]
    days, people = participation(session, team_id=team_id, channel_id=channel_id, start=sprint.starts_on, end=until)
    planned_from = _planning_start(session, sprint=sprint)
    info = sprint.info()
    if info.ended_at is not None and info.ended_at > now:  # a report asked for before the sprint ended
        info = replace(info, ended_at=None)
    figures = domain.summarize(
        sprint=info,
        stories=stories,
        previous_velocities=sprints.previous_velocities(session, team_id=team_id, channel_id=channel_id, before=sprint),
        participation_days=days,
        participation_people=people,
        blockers=blocker_figures(session, sprint=sprint, start=start_at, end=end_at),
        planning=planning_figures(session, team_id=team_id, channel_id=channel_id, start=planned_from, end=end_at),
        retro=retro_figures(session, team_id=team_id, channel_id=channel_id, start=start_at, end=now),
        today=today,
        holidays=holidays,
    )
    figures = replace(figures, risks=risk_figures(session, sprint=sprint, start=start_at, end=end_at, now=now),
                      team_health=team_health(session, sprint=sprint, start=start_at, end=now))
    return with_review(session, figures, sprint_id=sprint.id)


def with_review(session: Session, figures: domain.SprintSummary, *, sprint_id: int) -> domain.SprintSummary:
    """The summary with its sprint review's outcome (accepted, needs changes, follow-ups, who took part), if held."""
    outcome = reviews.outcome_of_sprint(session, sprint_id=sprint_id)
    return replace(figures, review=outcome) if outcome is not None else figures


def risk_figures(session: Session, *, sprint: sprints.Sprint, start: datetime, end: datetime, now: datetime
                 ) -> RiskFigures:
    """The channel's risk register over the sprint: open risks by score, raised / closed / occurred, score trend."""
    return risks.sprint_section(session, team_id=sprint.team_id, channel_id=sprint.channel_id, start=start, end=end,
                                now=now)


def team_health(session: Session, *, sprint: sprints.Sprint, start: datetime, end: datetime
                ) -> SprintSection | None:
    """The team health check of the sprint's time: its latest round (results only from k answers)."""
    return healthcheck.sprint_section(session, team_id=sprint.team_id, channel_id=sprint.channel_id, start=start,
                                      end=end)


def participation(
    session: Session, *, team_id: str, channel_id: str, start: date, end: date
) -> tuple[list[domain.ParticipationDay], list[domain.PersonParticipation]]:
    """Stand-up participation per day (answers of those prompted) and per person, with names."""
    figures = standup.participation(session, team_id=team_id, channel_id=channel_id, start=start, end=end)
    names = {user_id: p.display_name for user_id, p in people_store.people(
        session, team_id=team_id, user_ids=[p.user_id for p in figures.people]).items()}
    days = [domain.ParticipationDay(d.local_date, answered=d.answered, expected=d.prompted) for d in figures.days]
    people = [
        domain.PersonParticipation(user_id=p.user_id, name=names.get(p.user_id, p.user_id), answered=p.answered,
                                   expected=p.prompted, late=p.late, skipped=p.skipped, away=p.away_days)
        for p in figures.people
    ]
    return days, people


def _planning_start(session: Session, *, sprint: sprints.Sprint) -> datetime:
    """Estimates count for a sprint from the end of the channel's previous sprint (planning happens in between)."""
    previous = sprints.previous_sprint(session, sprint=sprint)
    if previous is not None and previous.ended_at is not None:
        return previous.ended_at
    return sprint.started_at - (sprint.ends_on - sprint.starts_on) - timedelta(days=1)


def blocker_figures(session: Session, *, sprint: sprints.Sprint, start: datetime, end: datetime
                    ) -> domain.BlockerFigures:
    """The channel's blockers over the sprint so far, and how long the oldest still-open one has waited."""
    team_id, channel_id = sprint.team_id, sprint.channel_id
    stats = blockers.blocker_stats(session, team_id=team_id, channel_id=channel_id, start=start, end=end,
                                   default_timezone=sprint.timezone)
    timezone = blockers.tracker_settings(session, team_id=team_id, channel_id=channel_id,
                                         default_timezone=sprint.timezone).timezone
    still_open = [b for b in blockers.open_blockers(session, team_id=team_id, channel_id=channel_id)
                  if b.created_at < end]
    ages = blockers.aged(session, still_open, team_id=team_id, timezone=timezone, now=end)
    oldest = max((a.age for a in ages), default=timedelta(0))
    return domain.BlockerFigures(
        opened=stats.opened,
        resolved=stats.resolved,
        still_open=stats.still_open,
        median_to_unblock=stats.median_time_to_unblock,
        longest_to_unblock=stats.longest_time_to_unblock,
        escalations=stats.escalations,
        oldest_open_working_days=oldest / timedelta(days=1),
    )


def planning_figures(
    session: Session, *, team_id: str, channel_id: str, start: datetime, end: datetime
) -> domain.PlanningFigures:
    """Stories estimated in planning poker for this sprint, first-round consensus and re-votes."""
    stats = poker.estimation_stats(session, team_id=team_id, channel_id=channel_id, start=start, end=end)
    return domain.PlanningFigures(stories_estimated=stats.stories_accepted,
                                  first_round_consensus=stats.first_round_consensus, revotes=stats.revoted)


def retro_figures(session: Session, *, team_id: str, channel_id: str, start: datetime, end: datetime
                  ) -> domain.RetroFigures:
    """The sprint's retro (held any time from its start until the report): top cards and action items."""
    stats = retro.retro_stats(session, team_id=team_id, channel_id=channel_id, start=start, end=end)
    return domain.RetroFigures(
        top_cards=stats.top_cards,
        actions_created=stats.action_items_created,
        actions_done=stats.action_items_done,
        actions_carried_over=stats.action_items_carried_over,
        previous_completion_rate=stats.completion_rate,
    )


@dataclass(frozen=True)
class Status:
    """The running sprint as of now, and the days left until its last day."""

    summary: domain.SprintSummary
    days_left: int


def status(session: Session, *, team_id: str, channel_id: str, now: datetime) -> Status | None:
    """The channel's running sprint's figures so far (None when none runs)."""
    sprint = sprints.running_sprint(session, team_id=team_id, channel_id=channel_id)
    if sprint is None:
        return None
    return Status(summary(session, sprint=sprint, now=now),
                  domain.days_left(ends_on=sprint.ends_on, timezone=sprint.timezone, now=now))


def report(session: Session, *, sprint_id: int, at: datetime) -> domain.SprintSummary | None:
    """A queued report's figures, as of when it was asked for (None when the sprint is gone)."""
    sprint = sprints.sprint_by_id(session, sprint_id=sprint_id)
    return summary(session, sprint=sprint, now=at) if sprint is not None else None
