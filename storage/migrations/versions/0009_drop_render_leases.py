"""Redraws go through the outbox: the render leases of poker stories and polls and the retro's post table go.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

LEASE_COLUMNS = ("version", "rendered_version", "render_lease_until")


def upgrade() -> None:
    for table in ("poker_stories", "polls"):
        with op.batch_alter_table(table) as batch:
            for column in LEASE_COLUMNS:
                batch.drop_column(column)
    op.drop_index("ix_retro_posts_board", table_name="retro_posts")
    op.drop_table("retro_posts")


def downgrade() -> None:
    op.create_table(
        "retro_posts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("board_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("ts", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retro_posts")),
        sa.ForeignKeyConstraint(
            ["board_id"], ["retro_boards.id"], name=op.f("fk_retro_posts_board_id_retro_boards"), ondelete="CASCADE"
        ),
    )
    op.create_index("ix_retro_posts_board", "retro_posts", ["board_id", "kind"])
    for table in ("poker_stories", "polls"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="0"))
            batch.add_column(sa.Column("rendered_version", sa.Integer(), nullable=False, server_default="0"))
            batch.add_column(sa.Column("render_lease_until", sa.DateTime(timezone=True), nullable=True))
