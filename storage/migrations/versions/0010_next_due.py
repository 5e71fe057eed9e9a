"""Due work is a row with a time: each schedule's next due moment in an indexed column (storage/due.py).

Stand-ups and open blockers are due at once after the upgrade (their job computes the real next moment on its first
tick, as after any change); running sprints get their end moment and open polls their closing time.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

SCHEDULED = ("standups", "blockers", "sprints", "polls")


def _sprint_end(ends_on: date, timezone: str) -> datetime:
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return datetime.combine(ends_on + timedelta(days=1), time(0)).replace(tzinfo=zone, fold=0).astimezone(UTC)


def upgrade() -> None:
    for table in SCHEDULED:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("next_due_at", sa.DateTime(timezone=True), nullable=True))
            if table == "standups":
                batch.add_column(sa.Column("usergroup_synced_at", sa.DateTime(timezone=True), nullable=True))
        op.create_index(f"ix_{table}_next_due_at", table, ["next_due_at"])
    op.create_index("ix_workspaces_uninstalled_at", "workspaces", ["uninstalled_at"])
    op.create_index("ix_retro_action_items_due", "retro_action_items", ["due_date"])
    op.create_index("ix_outbox_sent", "outbox", ["sent_at"])

    connection = op.get_bind()
    now = datetime.now(UTC)
    standups = sa.table("standups", sa.column("paused", sa.Boolean()), sa.column("next_due_at", UTCDateTime()))
    connection.execute(standups.update().where(standups.c.paused.is_(False)).values(next_due_at=now))
    blockers = sa.table("blockers", sa.column("status", sa.String()), sa.column("next_due_at", UTCDateTime()))
    connection.execute(blockers.update().where(blockers.c.status == "open").values(next_due_at=now))
    polls = sa.table("polls", sa.column("closes_at", UTCDateTime()), sa.column("closed_at", UTCDateTime()),
                     sa.column("next_due_at", UTCDateTime()))
    connection.execute(polls.update().where(polls.c.closed_at.is_(None), polls.c.closes_at.is_not(None))
                       .values(next_due_at=polls.c.closes_at))
    sprints = sa.table("sprints", sa.column("id", sa.Integer()), sa.column("ends_on", sa.Date()),
                       sa.column("timezone", sa.String()), sa.column("ended_at", UTCDateTime()),
                       sa.column("next_due_at", UTCDateTime()))
    running = connection.execute(sa.select(sprints.c.id, sprints.c.ends_on, sprints.c.timezone)
                                 .where(sprints.c.ended_at.is_(None))).all()
    for sprint_id, ends_on, timezone in running:
        connection.execute(sprints.update().where(sprints.c.id == sprint_id)
                           .values(next_due_at=_sprint_end(ends_on, timezone)))


def downgrade() -> None:
    op.drop_index("ix_outbox_sent", table_name="outbox")
    op.drop_index("ix_retro_action_items_due", table_name="retro_action_items")
    op.drop_index("ix_workspaces_uninstalled_at", table_name="workspaces")
    for table in SCHEDULED:
        op.drop_index(f"ix_{table}_next_due_at", table_name=table)
        with op.batch_alter_table(table) as batch:
            batch.drop_column("next_due_at")
            if table == "standups":
                batch.drop_column("usergroup_synced_at")
