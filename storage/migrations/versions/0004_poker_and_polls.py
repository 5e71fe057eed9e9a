"""Planning poker (sessions, participants, stories, votes) and quick polls (polls, options, votes).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "poker_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("facilitator_id", sa.String(length=32), nullable=False),
        sa.Column("deck_name", sa.String(length=32), nullable=False),
        sa.Column("deck_cards", sa.String(length=2000), nullable=False),
        sa.Column("auto_reveal", sa.Boolean(), nullable=False),
        sa.Column("reveal_policy", sa.String(length=16), nullable=False),
        sa.Column("parent_ts", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_poker_sessions")),
    )
    op.create_index("ix_poker_sessions_team_channel", "poker_sessions", ["team_id", "channel_id"])

    op.create_table(
        "polls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("creator_id", sa.String(length=32), nullable=False),
        sa.Column("question", sa.String(length=500), nullable=False),
        sa.Column("multi", sa.Boolean(), nullable=False),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closes_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("message_ts", sa.String(length=32), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("rendered_version", sa.Integer(), nullable=False),
        sa.Column("render_lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_polls")),
    )
    op.create_index("ix_polls_team_channel", "polls", ["team_id", "channel_id"])

    op.create_table(
        "poker_participants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["poker_sessions.id"],
            name=op.f("fk_poker_participants_session_id_poker_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_poker_participants")),
        sa.UniqueConstraint("session_id", "user_id", name=op.f("uq_poker_participants_session_id")),
    )
    op.create_table(
        "poker_stories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=32), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("message_ts", sa.String(length=32), nullable=True),
        sa.Column("estimate", sa.String(length=75), nullable=True),
        sa.Column("points", sa.Float(), nullable=True),
        sa.Column("accepted_by", sa.String(length=32), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_round_consensus", sa.Boolean(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("rendered_version", sa.Integer(), nullable=False),
        sa.Column("render_lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["poker_sessions.id"],
            name=op.f("fk_poker_stories_session_id_poker_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_poker_stories")),
        sa.UniqueConstraint("session_id", "position", name=op.f("uq_poker_stories_session_id")),
    )
    op.create_index("ix_poker_stories_team_status", "poker_stories", ["team_id", "status"])

    op.create_table(
        "poll_options",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("poll_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(length=75), nullable=False),
        sa.ForeignKeyConstraint(
            ["poll_id"], ["polls.id"], name=op.f("fk_poll_options_poll_id_polls"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_poll_options")),
        sa.UniqueConstraint("poll_id", "position", name=op.f("uq_poll_options_poll_id")),
    )
    op.create_table(
        "poker_votes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("story_id", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("card", sa.String(length=75), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=True),
        sa.Column("voted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["story_id"], ["poker_stories.id"], name=op.f("fk_poker_votes_story_id_poker_stories"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_poker_votes")),
        sa.UniqueConstraint("story_id", "round", "user_id", name=op.f("uq_poker_votes_story_id")),
    )
    op.create_table(
        "poll_votes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("poll_id", sa.Integer(), nullable=False),
        sa.Column("option_id", sa.Integer(), nullable=False),
        sa.Column("voter", sa.String(length=64), nullable=False),
        sa.Column("voted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["option_id"], ["poll_options.id"], name=op.f("fk_poll_votes_option_id_poll_options"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["poll_id"], ["polls.id"], name=op.f("fk_poll_votes_poll_id_polls"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_poll_votes")),
        sa.UniqueConstraint("poll_id", "voter", "option_id", name=op.f("uq_poll_votes_poll_id")),
    )


def downgrade() -> None:
    op.drop_table("poll_votes")
    op.drop_table("poker_votes")
    op.drop_table("poll_options")
    op.drop_index("ix_poker_stories_team_status", table_name="poker_stories")

    op.drop_table("poker_stories")
    op.drop_table("poker_participants")
    op.drop_index("ix_polls_team_channel", table_name="polls")

    op.drop_table("polls")
    op.drop_index("ix_poker_sessions_team_channel", table_name="poker_sessions")

    op.drop_table("poker_sessions")
