"""Blockers: tracked items, their escalations and each team channel's blocker settings.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "blockers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("channel_id", sa.String(32), nullable=False),
        sa.Column("reporter_id", sa.String(32), nullable=False),
        sa.Column("text", sa.String(2000), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("link", sa.String(500), nullable=True),
        sa.Column("standup_answer_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("owner_id", sa.String(32), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(32), nullable=True),
        sa.Column("resolution_note", sa.String(1000), nullable=True),
        sa.Column("escalation_level", sa.Integer(), nullable=False),
        sa.Column("escalation_count", sa.Integer(), nullable=False),
        sa.Column("message_channel_id", sa.String(32), nullable=True),
        sa.Column("message_ts", sa.String(32), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_blockers")),
        sa.UniqueConstraint("team_id", "standup_answer_id", name=op.f("uq_blockers_team_id")),
    )
    op.create_index("ix_blockers_team_channel_status", "blockers", ["team_id", "channel_id", "status"])
    op.create_index("ix_blockers_team_reporter_status", "blockers", ["team_id", "reporter_id", "status"])
    op.create_table(
        "blocker_escalations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("blocker_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.String(32), nullable=False),
        sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["blocker_id"], ["blockers.id"], ondelete="CASCADE",
                                name=op.f("fk_blocker_escalations_blocker_id_blockers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_blocker_escalations")),
        sa.UniqueConstraint("blocker_id", "level", name=op.f("uq_blocker_escalations_blocker_id")),
    )
    op.create_table(
        "blocker_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("channel_id", sa.String(32), nullable=False),
        sa.Column("threshold_days", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.String(32), nullable=True),
        sa.Column("digest_time", sa.Time(), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("updated_by", sa.String(32), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_blocker_settings")),
        sa.UniqueConstraint("team_id", "channel_id", name=op.f("uq_blocker_settings_team_id")),
    )


def downgrade() -> None:
    op.drop_table("blocker_settings")
    op.drop_table("blocker_escalations")
    op.drop_index("ix_blockers_team_reporter_status", table_name="blockers")
    op.drop_index("ix_blockers_team_channel_status", table_name="blockers")
    op.drop_table("blockers")
