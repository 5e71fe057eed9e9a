"""Stand-ups: configuration, daily runs, prompts, answers with edit history, skips and time away.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "standup_away",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_standup_away")),
    )
    with op.batch_alter_table("standup_away", schema=None) as batch_op:
        batch_op.create_index("ix_standup_away_team_user", ["team_id", "user_id"], unique=False)

    op.create_table(
        "standups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("report_channel_id", sa.String(length=32), nullable=False),
        sa.Column("owner_id", sa.String(length=32), nullable=False),
        sa.Column("usergroup_id", sa.String(length=32), nullable=True),
        sa.Column("days", sa.String(length=16), nullable=False),
        sa.Column("local_time_minute", sa.Integer(), nullable=False),
        sa.Column("window_end_minute", sa.Integer(), nullable=False),
        sa.Column("reminder_delay_minutes", sa.Integer(), nullable=False),
        sa.Column("timezone_mode", sa.String(length=16), nullable=False),
        sa.Column("team_timezone", sa.String(length=64), nullable=False),
        sa.Column("report_style", sa.String(length=16), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_standups")),
        sa.UniqueConstraint("team_id", "channel_id", name=op.f("uq_standups_team_id")),
    )
    op.create_table(
        "standup_participants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("standup_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("via_usergroup", sa.Boolean(), nullable=False),
        sa.Column("gone_since", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["standup_id"],
            ["standups.id"],
            name=op.f("fk_standup_participants_standup_id_standups"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_standup_participants")),
        sa.UniqueConstraint("standup_id", "user_id", name=op.f("uq_standup_participants_standup_id")),
    )
    op.create_table(
        "standup_questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("standup_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(length=300), nullable=False),
        sa.Column("is_blocker", sa.Boolean(), nullable=False),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["standup_id"], ["standups.id"], name=op.f("fk_standup_questions_standup_id_standups"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_standup_questions")),
        sa.UniqueConstraint("standup_id", "position", name=op.f("uq_standup_questions_standup_id")),
    )
    op.create_table(
        "standup_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("standup_id", sa.Integer(), nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("report_channel_id", sa.String(length=32), nullable=False),
        sa.Column("report_ts", sa.String(length=32), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closes_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["standup_id"], ["standups.id"], name=op.f("fk_standup_runs_standup_id_standups"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_standup_runs")),
        sa.UniqueConstraint("standup_id", "local_date", name=op.f("uq_standup_runs_standup_id")),
    )
    with op.batch_alter_table("standup_runs", schema=None) as batch_op:
        batch_op.create_index("ix_standup_runs_team_open", ["team_id", "closed_at"], unique=False)

    op.create_table(
        "standup_skips",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("standup_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("skipped_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["standup_id"], ["standups.id"], name=op.f("fk_standup_skips_standup_id_standups"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_standup_skips")),
        sa.UniqueConstraint("standup_id", "user_id", "local_date", name=op.f("uq_standup_skips_standup_id")),
    )
    op.create_table(
        "standup_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("standup_id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("edited_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("report_stale", sa.Boolean(), nullable=False),
        sa.Column("report_channel_id", sa.String(length=32), nullable=True),
        sa.Column("report_ts", sa.String(length=32), nullable=True),
        sa.Column("permalink", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"], ["standup_runs.id"], name=op.f("fk_standup_answers_run_id_standup_runs"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["standup_id"], ["standups.id"], name=op.f("fk_standup_answers_standup_id_standups"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_standup_answers")),
        sa.UniqueConstraint("run_id", "user_id", name=op.f("uq_standup_answers_run_id")),
    )
    op.create_table(
        "standup_prompts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("standup_id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closes_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("dm_channel_id", sa.String(length=32), nullable=False),
        sa.Column("dm_ts", sa.String(length=32), nullable=False),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"], ["standup_runs.id"], name=op.f("fk_standup_prompts_run_id_standup_runs"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["standup_id"], ["standups.id"], name=op.f("fk_standup_prompts_standup_id_standups"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_standup_prompts")),
        sa.UniqueConstraint("standup_id", "user_id", "local_date", name=op.f("uq_standup_prompts_standup_id")),
    )
    op.create_table(
        "standup_answer_edits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("answer_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("previous_text", sa.String(length=3000), nullable=False),
        sa.Column("edited_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["answer_id"],
            ["standup_answers.id"],
            name=op.f("fk_standup_answer_edits_answer_id_standup_answers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_standup_answer_edits")),
    )
    with op.batch_alter_table("standup_answer_edits", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_standup_answer_edits_answer_id"), ["answer_id"], unique=False)

    op.create_table(
        "standup_answer_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("answer_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("question", sa.String(length=300), nullable=False),
        sa.Column("text", sa.String(length=3000), nullable=False),
        sa.Column("is_blocker", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["answer_id"],
            ["standup_answers.id"],
            name=op.f("fk_standup_answer_items_answer_id_standup_answers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_standup_answer_items")),
        sa.UniqueConstraint("answer_id", "position", name=op.f("uq_standup_answer_items_answer_id")),
    )


def downgrade() -> None:
    op.drop_table("standup_answer_items")
    with op.batch_alter_table("standup_answer_edits", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_standup_answer_edits_answer_id"))

    op.drop_table("standup_answer_edits")
    op.drop_table("standup_prompts")
    op.drop_table("standup_answers")
    op.drop_table("standup_skips")
    with op.batch_alter_table("standup_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_standup_runs_team_open")

    op.drop_table("standup_runs")
    op.drop_table("standup_questions")
    op.drop_table("standup_participants")
    op.drop_table("standups")
    with op.batch_alter_table("standup_away", schema=None) as batch_op:
        batch_op.drop_index("ix_standup_away_team_user")

    op.drop_table("standup_away")
