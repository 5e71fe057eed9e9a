"""The sprint summary's figures, gathered from every ceremony's records with a fixed number of queries."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from ceremonies import sprint as domain
from storage import calendar
from storage import sprint as sprints


def summary(session: Session, *, sprint: sprints.Sprint, today: date) -> domain.SprintSummary:
    """Everything the sprint report says, as of `today` (the team's local date)."""
    team_id, channel_id = sprint.team_id, sprint.channel_id
    until = min(today, sprint.ends_on)
    holidays = calendar.holiday_days(session, team_id=team_id, start=sprint.starts_on, end=sprint.ends_on)
    stories = [row.story() for row in sprints.stories(session, team_id=team_id, sprint_id=sprint.id)]
    days, people = participation(session, team_id=team_id, channel_id=channel_id, start=sprint.starts_on, end=until)
    return domain.summarize(
        sprint=sprint.info(),
        stories=stories,
        previous_velocities=sprints.previous_velocities(session, team_id=team_id, channel_id=channel_id, before=sprint),
        participation_days=days,
        participation_people=people,
        blockers=blocker_figures(session, team_id=team_id, channel_id=channel_id, start=sprint.starts_on, end=until),
        planning=planning_figures(session, team_id=team_id, channel_id=channel_id, start=sprint.starts_on, end=until),
        retro=retro_figures(session, team_id=team_id, channel_id=channel_id, start=sprint.starts_on, end=until),
        today=today,
        holidays=holidays,
    )


def participation(
    session: Session, *, team_id: str, channel_id: str, start: date, end: date
) -> tuple[list[domain.ParticipationDay], list[domain.PersonParticipation]]:
    """Stand-up participation per day and per person."""
    return [], []


def blocker_figures(session: Session, *, team_id: str, channel_id: str, start: date, end: date) -> domain.BlockerFigures:
    return domain.BlockerFigures()


def planning_figures(
    session: Session, *, team_id: str, channel_id: str, start: date, end: date
) -> domain.PlanningFigures:
    return domain.PlanningFigures()


def retro_figures(session: Session, *, team_id: str, channel_id: str, start: date, end: date) -> domain.RetroFigures:
    return domain.RetroFigures()
