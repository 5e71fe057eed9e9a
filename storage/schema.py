"""The complete metadata: importing this module imports every model, for migrations and their drift check.

`metadata` holds Cadence's own tables, every one scoped by `team_id`. `slack_metadata` holds the tables of
slack_sdk's installation and OAuth-state stores (see storage/installations.py); migrations create both.
"""

from __future__ import annotations

from sqlalchemy import MetaData

from storage import (
    blockers,
    dedup,
    healthcheck,
    models,
    outbox,
    poker,
    polls,
    retro,
    review,
    risks,
    sprint,
    standup,
    trackers,
)
from storage.installations import slack_metadata
from storage.models import Base

metadata = Base.metadata

# Everything Alembic manages, for autogenerate and the drift check.
ALL_METADATA: tuple[MetaData, ...] = (metadata, slack_metadata)

__all__ = [
    "ALL_METADATA", "blockers", "dedup", "healthcheck", "metadata", "models", "outbox", "poker", "polls", "retro",
    "review", "risks", "slack_metadata", "sprint", "standup", "trackers",
]
