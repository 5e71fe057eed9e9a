"""Action-item reminders are due work with a time: each open item keeps its reminder moment (09:00 on its due date
in its owner's timezone) in an indexed `next_due_at`, instead of every tick reading every item due within a week.

Open items due from a week ago on are due at once after the upgrade: their job computes the real moment on its first
tick (and an item whose reminder was already queued is not reminded twice: the reminder's outbox key is taken).

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("retro_action_items") as batch:
        batch.add_column(sa.Column("next_due_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_retro_action_items_next_due_at", "retro_action_items", ["next_due_at"])
    op.drop_index("ix_retro_action_items_due", table_name="retro_action_items")  # the scan by date it served goes
    now = datetime.now(UTC)
    items = sa.table("retro_action_items", sa.column("status", sa.String()), sa.column("due_date", sa.Date()),
                     sa.column("next_due_at", UTCDateTime()))
    op.get_bind().execute(items.update().where(items.c.status == "open",
                                               items.c.due_date >= (now - timedelta(days=8)).date())
                          .values(next_due_at=now))


def downgrade() -> None:
    op.create_index("ix_retro_action_items_due", "retro_action_items", ["due_date"])
    op.drop_index("ix_retro_action_items_next_due_at", table_name="retro_action_items")
    with op.batch_alter_table("retro_action_items") as batch:
        batch.drop_column("next_due_at")
