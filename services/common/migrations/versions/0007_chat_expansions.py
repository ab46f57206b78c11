"""chat expansions: questions editors attached to the § or guide that answers them (content-gap page)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "chat_expansions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("collection", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.Column("section", sa.String(length=32), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answer_id", sa.String(length=32), nullable=True),
        sa.Column("added_by", sa.String(length=128), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("removed_by", sa.String(length=128), nullable=True),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["collection"], ["chat_collections.name"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("chat_expansions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_chat_expansions_answer_id"), ["answer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_chat_expansions_collection"), ["collection"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("chat_expansions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_chat_expansions_collection"))
        batch_op.drop_index(batch_op.f("ix_chat_expansions_answer_id"))

    op.drop_table("chat_expansions")
