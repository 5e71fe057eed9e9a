"""Jira and GitHub: connections, imported poker stories, the tracker outbox, linked sprints and action-item issues.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tracker_connections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("channel_id", sa.String(32), nullable=False),
        sa.Column("site_url", sa.String(500), nullable=False),
        sa.Column("account", sa.String(200), nullable=False),
        sa.Column("secret", sa.String(4000), nullable=False),
        sa.Column("webhook_secret", sa.String(4000), nullable=False),
        sa.Column("project", sa.String(100), nullable=False),
        sa.Column("connected_by", sa.String(32), nullable=False),
        sa.Column("connected_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracker_connections")),
        sa.UniqueConstraint("team_id", "kind", "channel_id", name=op.f("uq_tracker_connections_team_id")),
    )
    op.create_table(
        "tracker_stories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("story_id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("ref", sa.String(200), nullable=False),
        sa.Column("issue_key", sa.String(64), nullable=False),
        sa.Column("url", sa.String(500), nullable=False),
        sa.ForeignKeyConstraint(["story_id"], ["poker_stories.id"], ondelete="CASCADE",
                                name=op.f("fk_tracker_stories_story_id_poker_stories")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracker_stories")),
        sa.UniqueConstraint("story_id", name=op.f("uq_tracker_stories_story_id")),
    )
    op.create_table(
        "tracker_writes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("what", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("args", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claim_token", sa.String(32), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracker_writes")),
    )
    op.create_index("ix_tracker_writes_key", "tracker_writes", ["key"], unique=True)
    op.create_index("ix_tracker_writes_due", "tracker_writes", ["state", "due_at"])
    op.create_index("ix_tracker_writes_target", "tracker_writes", ["team_id", "what", "target_id"])
    op.create_table(
        "tracker_sprints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("sprint_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("board_id", sa.Integer(), nullable=False),
        sa.Column("tracker_sprint_id", sa.Integer(), nullable=False),
        sa.Column("repo", sa.String(200), nullable=False),
        sa.Column("milestone", sa.Integer(), nullable=False),
        sa.Column("next_sync_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_synced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.ForeignKeyConstraint(["sprint_id"], ["sprints.id"], ondelete="CASCADE",
                                name=op.f("fk_tracker_sprints_sprint_id_sprints")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracker_sprints")),
        sa.UniqueConstraint("sprint_id", name=op.f("uq_tracker_sprints_sprint_id")),
    )
    op.create_index("ix_tracker_sprints_due", "tracker_sprints", ["next_sync_at"])
    op.create_table(
        "tracker_action_issues",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("action_item_id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("ref", sa.String(200), nullable=False),
        sa.Column("issue_key", sa.String(64), nullable=False),
        sa.Column("url", sa.String(500), nullable=False),
        sa.Column("closed", sa.Boolean(), nullable=False),
        sa.Column("next_sync_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["action_item_id"], ["retro_action_items.id"], ondelete="CASCADE",
                                name=op.f("fk_tracker_action_issues_action_item_id_retro_action_items")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracker_action_issues")),
        sa.UniqueConstraint("action_item_id", name=op.f("uq_tracker_action_issues_action_item_id")),
    )
    op.create_index("ix_tracker_action_issues_due", "tracker_action_issues", ["next_sync_at"])


def downgrade() -> None:
    op.drop_table("tracker_action_issues")
    op.drop_table("tracker_sprints")
    op.drop_table("tracker_writes")
    op.drop_table("tracker_stories")
    op.drop_table("tracker_connections")
