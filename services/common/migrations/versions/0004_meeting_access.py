"""meeting access: the users and roles a meeting's owner shares it with

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Meetings from before keep their uploader as owner and are shared with no one (admin still sees all).
    op.create_table(
        "minutes_meeting_shares",
        sa.Column("meeting_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(["meeting_id"], ["minutes_meetings.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("meeting_id", "kind", "name"),
    )
    with op.batch_alter_table("minutes_meeting_shares", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_minutes_meeting_shares_name"), ["name"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("minutes_meeting_shares", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_minutes_meeting_shares_name"))

    op.drop_table("minutes_meeting_shares")
