"""Team health checks: a channel's set-up, its rounds, and anonymous answers.

Revision ID: 0015
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0013"
branch_labels = None
depends_on = None


def _key(table: str) -> list[sa.SchemaItem]:
    return [sa.Column("id", sa.Integer(), nullable=False), sa.Column("team_id", sa.String(32), nullable=False),
            sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}"))]


def _parent(table: str, column: str, parent: str) -> list[sa.SchemaItem]:
    return [sa.Column(column, sa.Integer(), nullable=False),
            sa.ForeignKeyConstraint([column], [f"{parent}.id"], name=op.f(f"fk_{table}_{column}_{parent}"),
                                    ondelete="CASCADE")]


def upgrade() -> None:
    op.create_table(
        "health_checks",
        *_key("health_checks"),
        sa.Column("channel_id", sa.String(32), nullable=False),
        sa.Column("facilitator_id", sa.String(32), nullable=False),
        sa.Column("cadence", sa.String(16), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("local_time", sa.String(5), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("window_hours", sa.Integer(), nullable=False),
        sa.Column("k", sa.Integer(), nullable=False),
        sa.Column("next_round_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("team_id", "channel_id", name=op.f("uq_health_checks_team_id")),
    )
    op.create_index("ix_health_checks_next_round_at", "health_checks", ["next_round_at"])
    for table in ("health_check_dimensions",):
        op.create_table(
            table,
            *_key(table),
            *_parent(table, "check_id", "health_checks"),
            sa.Column("position", sa.Integer(), nullable=False),
            sa.Column("name", sa.String(40), nullable=False),
            sa.Column("awesome", sa.String(150), nullable=False),
            sa.Column("crappy", sa.String(150), nullable=False),
            sa.UniqueConstraint("check_id", "position", name=op.f(f"uq_{table}_check_id")),
        )
    op.create_table(
        "health_check_participants",
        *_key("health_check_participants"),
        *_parent("health_check_participants", "check_id", "health_checks"),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.UniqueConstraint("check_id", "user_id", name=op.f("uq_health_check_participants_check_id")),
    )
    op.create_table(
        "health_rounds",
        *_key("health_rounds"),
        *_parent("health_rounds", "check_id", "health_checks"),
        sa.Column("channel_id", sa.String(32), nullable=False),
        sa.Column("occasion", sa.String(64), nullable=False),
        sa.Column("opened_by", sa.String(32), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("remind_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closes_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("k", sa.Integer(), nullable=False),
        sa.Column("answer_count", sa.Integer(), nullable=False),
        sa.Column("retro_shown_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("check_id", "occasion", name=op.f("uq_health_rounds_check_id")),
    )
    op.create_index("ix_health_rounds_closes_at", "health_rounds", ["closes_at"])
    op.create_index("ix_health_rounds_remind_at", "health_rounds", ["remind_at"])
    op.create_index("ix_health_rounds_channel", "health_rounds", ["team_id", "channel_id", "opened_at"])
    op.create_table(
        "health_round_dimensions",
        *_key("health_round_dimensions"),
        *_parent("health_round_dimensions", "round_id", "health_rounds"),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("awesome", sa.String(150), nullable=False),
        sa.Column("crappy", sa.String(150), nullable=False),
        sa.UniqueConstraint("round_id", "position", name=op.f("uq_health_round_dimensions_round_id")),
    )
    op.create_table(
        "health_round_participants",
        *_key("health_round_participants"),
        *_parent("health_round_participants", "round_id", "health_rounds"),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.UniqueConstraint("round_id", "user_id", name=op.f("uq_health_round_participants_round_id")),
    )
    op.create_table(
        "health_responses",
        *_key("health_responses"),
        *_parent("health_responses", "round_id", "health_rounds"),
        sa.Column("responder_key", sa.String(64), nullable=False),
        sa.Column("comment", sa.String(1000), nullable=False),
        sa.UniqueConstraint("round_id", "responder_key", name=op.f("uq_health_responses_round_id")),
    )
    op.create_table(
        "health_ratings",
        *_key("health_ratings"),
        *_parent("health_ratings", "response_id", "health_responses"),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("rating", sa.String(8), nullable=False),
        sa.Column("trend", sa.String(8), nullable=True),
        sa.UniqueConstraint("response_id", "position", name=op.f("uq_health_ratings_response_id")),
    )


def downgrade() -> None:
    for table in ("health_ratings", "health_responses", "health_round_participants", "health_round_dimensions"):
        op.drop_table(table)
    op.drop_index("ix_health_rounds_channel", table_name="health_rounds")
    op.drop_index("ix_health_rounds_remind_at", table_name="health_rounds")
    op.drop_index("ix_health_rounds_closes_at", table_name="health_rounds")
    op.drop_table("health_rounds")
    op.drop_table("health_check_participants")
    op.drop_table("health_check_dimensions")
    op.drop_index("ix_health_checks_next_round_at", table_name="health_checks")
    op.drop_table("health_checks")
