"""The executive digest's schedule and recipients, and the report pages' signed links.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "digest_schedules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("send_time", sa.Time(), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("next_due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(32), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digest_schedules")),
        sa.UniqueConstraint("team_id", name=op.f("uq_digest_schedules_team_id")),
    )
    op.create_index("ix_digest_schedules_due", "digest_schedules", ["next_due_at"])
    op.create_table(
        "digest_recipients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("schedule_id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(32), nullable=False),
        sa.ForeignKeyConstraint(["schedule_id"], ["digest_schedules.id"],
                                name=op.f("fk_digest_recipients_schedule_id_digest_schedules"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digest_recipients")),
        sa.UniqueConstraint("schedule_id", "conversation_id", name=op.f("uq_digest_recipients_schedule_id")),
    )
    op.create_table(
        "report_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(32), nullable=False),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("sprint_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(32), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(32), nullable=True),
        sa.ForeignKeyConstraint(["sprint_id"], ["sprints.id"], name=op.f("fk_report_links_sprint_id_sprints"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_links")),
        sa.UniqueConstraint("public_id", name=op.f("uq_report_links_public_id")),
    )
    op.create_index("ix_report_links_team", "report_links", ["team_id", "revoked_at"])


def downgrade() -> None:
    op.drop_index("ix_report_links_team", table_name="report_links")
    op.drop_table("report_links")
    op.drop_table("digest_recipients")
    op.drop_index("ix_digest_schedules_due", table_name="digest_schedules")
    op.drop_table("digest_schedules")
