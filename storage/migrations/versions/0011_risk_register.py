"""The risk register: risks of a team channel and the history of every change to them.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "risks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("channel_id", sa.String(32), nullable=False),
        sa.Column("title", sa.String(150), nullable=False),
        sa.Column("description", sa.String(2000), nullable=False),
        sa.Column("likelihood", sa.Integer(), nullable=False),
        sa.Column("impact", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.String(32), nullable=False),
        sa.Column("owner_timezone", sa.String(64), nullable=False),
        sa.Column("mitigation", sa.String(1000), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("raised_by", sa.String(32), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reviewed_by", sa.String(32), nullable=False),
        sa.Column("review_period_days", sa.Integer(), nullable=False),
        sa.Column("next_review_on", sa.Date(), nullable=False),
        sa.Column("next_review_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("linked_blocker_id", sa.Integer(), nullable=True),
        sa.Column("linked_story_id", sa.Integer(), nullable=True),
        sa.Column("blocker_id", sa.Integer(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(32), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risks")),
    )
    op.create_index("ix_risks_team_channel_status", "risks", ["team_id", "channel_id", "status"])
    op.create_index("ix_risks_next_review_at", "risks", ["next_review_at"])
    op.create_index("ix_risks_team_owner_status", "risks", ["team_id", "owner_id", "status"])
    op.create_table(
        "risk_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("channel_id", sa.String(32), nullable=False),
        sa.Column("risk_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by", sa.String(32), nullable=False),
        sa.Column("change", sa.String(16), nullable=False),
        sa.Column("old_likelihood", sa.Integer(), nullable=True),
        sa.Column("old_impact", sa.Integer(), nullable=True),
        sa.Column("new_likelihood", sa.Integer(), nullable=False),
        sa.Column("new_impact", sa.Integer(), nullable=False),
        sa.Column("old_status", sa.String(16), nullable=True),
        sa.Column("new_status", sa.String(16), nullable=False),
        sa.Column("note", sa.String(1000), nullable=False),
        sa.ForeignKeyConstraint(["risk_id"], ["risks.id"], name=op.f("fk_risk_events_risk_id_risks"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_events")),
    )
    op.create_index("ix_risk_events_risk", "risk_events", ["risk_id", "at"])
    op.create_index("ix_risk_events_team_channel_at", "risk_events", ["team_id", "channel_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_risk_events_team_channel_at", table_name="risk_events")
    op.drop_index("ix_risk_events_risk", table_name="risk_events")
    op.drop_table("risk_events")
    op.drop_index("ix_risks_team_owner_status", table_name="risks")
    op.drop_index("ix_risks_next_review_at", table_name="risks")
    op.drop_index("ix_risks_team_channel_status", table_name="risks")
    op.drop_table("risks")
