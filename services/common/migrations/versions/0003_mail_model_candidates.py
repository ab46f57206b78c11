"""mail model candidates: a retrained model's comparison, and when a model was last made active

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("mail_models", schema=None) as batch_op:
        batch_op.add_column(sa.Column("comparison", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("activated_at", sa.DateTime(timezone=True), nullable=True))
    # Models from before candidates stay as they were: restorable, none awaiting a person's promotion.
    op.execute("UPDATE mail_models SET activated_at = created_at")


def downgrade() -> None:
    with op.batch_alter_table("mail_models", schema=None) as batch_op:
        batch_op.drop_column("activated_at")
        batch_op.drop_column("comparison")
