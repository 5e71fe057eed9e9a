"""Retrospective boards: boards, columns, cards, votes, thread posts, action items and their reviews.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "retro_boards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("channel_id", sa.String(32), nullable=False),
        sa.Column("title", sa.String(150), nullable=False),
        sa.Column("template", sa.String(32), nullable=False),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("votes_per_person", sa.Integer(), nullable=False),
        sa.Column("multiple_votes_per_card", sa.Boolean(), nullable=False),
        sa.Column("facilitator_id", sa.String(32), nullable=False),
        sa.Column("phase", sa.String(16), nullable=False),
        sa.Column("message_ts", sa.String(32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("phase_changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retro_boards")),
    )
    op.create_index("ix_retro_boards_team_channel", "retro_boards", ["team_id", "channel_id"])
    op.create_table(
        "retro_columns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("board_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(40), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retro_columns")),
        sa.UniqueConstraint("board_id", "position", name=op.f("uq_retro_columns_board_id")),
        sa.ForeignKeyConstraint(
            ["board_id"], ["retro_boards.id"], name=op.f("fk_retro_columns_board_id_retro_boards"), ondelete="CASCADE"
        ),
    )
    op.create_table(
        "retro_cards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("board_id", sa.Integer(), nullable=False),
        sa.Column("column", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(500), nullable=False),
        sa.Column("author_id", sa.String(32), nullable=True),
        sa.Column("author_key", sa.String(64), nullable=True),
        sa.Column("merged_into_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retro_cards")),
        sa.CheckConstraint(
            "author_id IS NULL OR author_key IS NULL", name=op.f("ck_retro_cards_one_author_kind")
        ),
        sa.ForeignKeyConstraint(
            ["board_id"], ["retro_boards.id"], name=op.f("fk_retro_cards_board_id_retro_boards"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["merged_into_id"], ["retro_cards.id"], name=op.f("fk_retro_cards_merged_into_id_retro_cards")
        ),
    )
    op.create_index("ix_retro_cards_board", "retro_cards", ["board_id"])
    op.create_table(
        "retro_votes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("board_id", sa.Integer(), nullable=False),
        sa.Column("card_id", sa.Integer(), nullable=False),
        sa.Column("voter_id", sa.String(32), nullable=False),
        sa.Column("slot", sa.Integer(), nullable=False),
        sa.Column("click_id", sa.String(64), nullable=False),
        sa.Column("cast_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retro_votes")),
        sa.UniqueConstraint("board_id", "voter_id", "slot", name=op.f("uq_retro_votes_slot")),
        sa.UniqueConstraint("board_id", "voter_id", "click_id", name=op.f("uq_retro_votes_click")),
        sa.ForeignKeyConstraint(
            ["board_id"], ["retro_boards.id"], name=op.f("fk_retro_votes_board_id_retro_boards"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["card_id"], ["retro_cards.id"], name=op.f("fk_retro_votes_card_id_retro_cards"), ondelete="CASCADE"
        ),
    )
    op.create_index("ix_retro_votes_card", "retro_votes", ["card_id"])
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
    op.create_table(
        "retro_action_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("channel_id", sa.String(32), nullable=False),
        sa.Column("board_id", sa.Integer(), nullable=False),
        sa.Column("card_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.String(300), nullable=False),
        sa.Column("owner_id", sa.String(32), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_by", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(32), nullable=True),
        sa.Column("carried_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retro_action_items")),
        sa.ForeignKeyConstraint(
            ["board_id"], ["retro_boards.id"], name=op.f("fk_retro_action_items_board_id_retro_boards"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["card_id"], ["retro_cards.id"], name=op.f("fk_retro_action_items_card_id_retro_cards"),
            ondelete="SET NULL",
        ),
    )
    op.create_index("ix_retro_action_items_channel", "retro_action_items", ["team_id", "channel_id", "status"])
    op.create_index("ix_retro_action_items_owner", "retro_action_items", ["team_id", "owner_id", "status"])
    op.create_table(
        "retro_action_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("action_item_id", sa.Integer(), nullable=False),
        sa.Column("board_id", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=True),
        sa.Column("message_ts", sa.String(32), nullable=True),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(32), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retro_action_reviews")),
        sa.UniqueConstraint("action_item_id", "board_id", name=op.f("uq_retro_action_reviews_action_item_id")),
        sa.ForeignKeyConstraint(
            ["action_item_id"], ["retro_action_items.id"],
            name=op.f("fk_retro_action_reviews_action_item_id_retro_action_items"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["board_id"], ["retro_boards.id"], name=op.f("fk_retro_action_reviews_board_id_retro_boards"),
            ondelete="CASCADE",
        ),
    )


def downgrade() -> None:
    op.drop_table("retro_action_reviews")
    op.drop_index("ix_retro_action_items_owner", table_name="retro_action_items")
    op.drop_index("ix_retro_action_items_channel", table_name="retro_action_items")
    op.drop_table("retro_action_items")
    op.drop_index("ix_retro_posts_board", table_name="retro_posts")
    op.drop_table("retro_posts")
    op.drop_index("ix_retro_votes_card", table_name="retro_votes")
    op.drop_table("retro_votes")
    op.drop_index("ix_retro_cards_board", table_name="retro_cards")
    op.drop_table("retro_cards")
    op.drop_table("retro_columns")
    op.drop_index("ix_retro_boards_team_channel", table_name="retro_boards")
    op.drop_table("retro_boards")
