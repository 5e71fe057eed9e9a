"""The declarative base and the models every ceremony shares: workspaces, people and claimed work."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import Boolean, Date, Index, Integer, MetaData, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from storage.types import UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Documented maximum lengths of stored identifiers; Slack ids are short, keys are ours.
SLACK_ID_LENGTH = 32
CLAIM_KEY_LENGTH = 255
HOLIDAY_NAME_LENGTH = 100


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


class Workspace(Base):
    """A Slack workspace Cadence is installed in."""

    __tablename__ = "workspaces"

    team_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), default="")
    installed_at: Mapped[datetime]
    uninstalled_at: Mapped[datetime | None] = mapped_column(index=True)  # every "what is due?" skips these


class Person(Base):
    """What Cadence knows of a workspace member from `users.info`, refreshed at most daily."""

    __tablename__ = "people"
    __table_args__ = (UniqueConstraint("team_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    user_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    display_name: Mapped[str] = mapped_column(String(255), default="")
    timezone: Mapped[str | None] = mapped_column(String(64))
    is_deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    is_bot: Mapped[bool] = mapped_column(Boolean, default=False)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    is_owner: Mapped[bool] = mapped_column(Boolean, default=False)
    fetched_at: Mapped[datetime]


class WorkClaim(Base):
    """One piece of scheduled work, claimed by key before it is done so that it is done exactly once.

    A claim holds a lease: a process that dies between claiming and finishing leaves a lease that expires, and the
    work is then claimed again. `done_at` marks it finished for good.
    """

    __tablename__ = "work_claims"
    __table_args__ = (
        UniqueConstraint("key"),
        Index("ix_work_claims_team_kind", "team_id", "kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    kind: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(CLAIM_KEY_LENGTH))
    due_at: Mapped[datetime | None]
    claimed_at: Mapped[datetime]
    lease_until: Mapped[datetime]
    done_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    last_error: Mapped[str | None] = mapped_column(String(500))


class Holiday(Base):
    """A day off for the whole workspace: no stand-up prompts, and blockers do not age."""

    __tablename__ = "holidays"
    __table_args__ = (UniqueConstraint("team_id", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH))
    day: Mapped[date] = mapped_column(Date)
    name: Mapped[str] = mapped_column(String(HOLIDAY_NAME_LENGTH), default="")
    added_by: Mapped[str] = mapped_column(String(SLACK_ID_LENGTH), default="")
    added_at: Mapped[datetime]
