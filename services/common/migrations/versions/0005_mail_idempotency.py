"""mail idempotency: a routed mail's dedup key, unique, so a retried mail is stored once

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Mails routed before keep no key (NULL, which a unique index allows many times): their Message-IDs were
    # stored unmasked and the key needs the installation's secret, so they are not backfilled.
    with op.batch_alter_table("mail_routed", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dedup_key", sa.String(length=80), nullable=True))
        batch_op.create_index(batch_op.f("ix_mail_routed_dedup_key"), ["dedup_key"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("mail_routed", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mail_routed_dedup_key"))
        batch_op.drop_column("dedup_key")
