"""Sprint reviews: the review, its stakeholders, stories, verdicts (with follow-ups) and questions.

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("channel_id", sa.String(32), nullable=False),
        sa.Column("sprint_id", sa.Integer(), nullable=False),
        sa.Column("sprint_name", sa.String(80), nullable=False),
        sa.Column("facilitator_id", sa.String(32), nullable=False),
        sa.Column("note", sa.String(500), nullable=False),
        sa.Column("stakeholder_channel_id", sa.String(32), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closes_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(32), nullable=True),
        sa.Column("message_ts", sa.String(32), nullable=True),
        sa.ForeignKeyConstraint(["sprint_id"], ["sprints.id"], name=op.f("fk_reviews_sprint_id_sprints"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reviews")),
        sa.UniqueConstraint("sprint_id", name=op.f("uq_reviews_sprint_id")),
    )
    op.create_index("ix_reviews_channel", "reviews", ["team_id", "channel_id"])
    op.create_index("ix_reviews_closes_at", "reviews", ["closes_at"])
    op.create_table(
        "review_stakeholders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.ForeignKeyConstraint(["review_id"], ["reviews.id"], name=op.f("fk_review_stakeholders_review_id_reviews"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_stakeholders")),
        sa.UniqueConstraint("review_id", "user_id", name=op.f("uq_review_stakeholders_review_id")),
    )
    op.create_table(
        "review_stories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("sprint_story_id", sa.Integer(), nullable=True),
        sa.Column("key", sa.String(40), nullable=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("points", sa.Float(), nullable=False),
        sa.Column("finished", sa.Boolean(), nullable=False),
        sa.Column("presenter_id", sa.String(32), nullable=False),
        sa.Column("link", sa.String(500), nullable=True),
        sa.Column("message_ts", sa.String(32), nullable=True),
        sa.ForeignKeyConstraint(["review_id"], ["reviews.id"], name=op.f("fk_review_stories_review_id_reviews"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["sprint_story_id"], ["sprint_stories.id"],
                                name=op.f("fk_review_stories_sprint_story_id_sprint_stories"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_stories")),
        sa.UniqueConstraint("review_id", "position", name=op.f("uq_review_stories_review_id")),
    )
    op.create_table(
        "review_verdicts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("review_story_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("verdict", sa.String(16), nullable=False),
        sa.Column("note", sa.String(1000), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("follow_up_story_id", sa.Integer(), nullable=True),
        sa.Column("follow_up_title", sa.String(200), nullable=True),
        sa.Column("follow_up_by", sa.String(32), nullable=True),
        sa.Column("follow_up_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["review_story_id"], ["review_stories.id"],
                                name=op.f("fk_review_verdicts_review_story_id_review_stories"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["follow_up_story_id"], ["sprint_stories.id"],
                                name=op.f("fk_review_verdicts_follow_up_story_id_sprint_stories"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_verdicts")),
        sa.UniqueConstraint("review_story_id", "user_id", name=op.f("uq_review_verdicts_review_story_id")),
    )
    op.create_table(
        "review_questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("review_story_id", sa.Integer(), nullable=False),
        sa.Column("asker_id", sa.String(32), nullable=False),
        sa.Column("text", sa.String(1000), nullable=False),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_by", sa.String(32), nullable=True),
        sa.ForeignKeyConstraint(["review_story_id"], ["review_stories.id"],
                                name=op.f("fk_review_questions_review_story_id_review_stories"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_questions")),
    )
    op.create_index("ix_review_questions_story", "review_questions", ["review_story_id"])


def downgrade() -> None:
    op.drop_index("ix_review_questions_story", table_name="review_questions")
    op.drop_table("review_questions")
    op.drop_table("review_verdicts")
    op.drop_table("review_stories")
    op.drop_table("review_stakeholders")
    op.drop_index("ix_reviews_closes_at", table_name="reviews")
    op.drop_index("ix_reviews_channel", table_name="reviews")
    op.drop_table("reviews")
