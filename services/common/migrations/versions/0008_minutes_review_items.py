"""minutes review items: the reviewer's verdict (accepted/edited/removed/added) on each decision and action

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "minutes_review_items",
        sa.Column("meeting_id", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("section", sa.Integer(), nullable=False),
        sa.Column("segment", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("original_text", sa.Text(), nullable=True),
        sa.Column("original_who", sa.String(length=128), nullable=True),
        sa.Column("original_deadline", sa.String(length=64), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("who", sa.String(length=128), nullable=True),
        sa.Column("deadline", sa.String(length=64), nullable=True),
        sa.Column("updated_by", sa.String(length=128), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["meeting_id"], ["minutes_meetings.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("meeting_id", "key"),
    )


def downgrade() -> None:
    op.drop_table("minutes_review_items")
