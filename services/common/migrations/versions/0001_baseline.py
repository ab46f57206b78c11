"""baseline: the pilot's tables (minutes, chatbot, mail sorting, jobs, ledger, users and API tokens)

Revision ID: 0001
Revises:
Create Date: 2026-11-27 05:18:59.689660
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "chat_answers",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("conversation_id", sa.String(length=32), nullable=False),
        sa.Column("user", sa.String(length=128), nullable=True),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("collections", sa.JSON(), nullable=False),
        sa.Column("abstained", sa.Boolean(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("citations", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("helpful", sa.Boolean(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("chat_answers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_chat_answers_abstained"), ["abstained"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_chat_answers_conversation_id"), ["conversation_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_chat_answers_created_at"), ["created_at"], unique=False)

    op.create_table(
        "chat_collections",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("contact", sa.String(length=300), nullable=False),
        sa.Column("chunks", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("user", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_jobs_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_jobs_status"), ["status"], unique=False)

    op.create_table(
        "mail_imap_folders",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("user", sa.String(length=255), nullable=False),
        sa.Column("folder", sa.String(length=500), nullable=False),
        sa.Column("uidvalidity", sa.BigInteger(), nullable=False),
        sa.Column("last_uid", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("polled_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("host", "user", "folder", "uidvalidity"),
    )
    op.create_table(
        "mail_models",
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("file", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("trained_on", sa.Integer(), nullable=False),
        sa.Column("corrections", sa.Integer(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("version"),
    )
    with op.batch_alter_table("mail_models", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mail_models_active"), ["active"], unique=False)

    op.create_table(
        "mail_routed",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("message_id", sa.String(length=300), nullable=False),
        sa.Column("sender", sa.String(length=300), nullable=False),
        sa.Column("mailbox", sa.String(length=300), nullable=False),
        sa.Column("subject", sa.String(length=500), nullable=False),
        sa.Column("text", sa.JSON(), nullable=False),
        sa.Column("model_version", sa.String(length=64), nullable=False),
        sa.Column("queue", sa.String(length=64), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("auto", sa.Boolean(), nullable=False),
        sa.Column("suggestions", sa.JSON(), nullable=False),
        sa.Column("explanation", sa.JSON(), nullable=False),
        sa.Column("contains_cpr", sa.Boolean(), nullable=False),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("problems", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("final_queue", sa.String(length=64), nullable=True),
        sa.Column("decided_by", sa.String(length=128), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("mail_routed", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mail_routed_contains_cpr"), ["contains_cpr"], unique=False)
        batch_op.create_index(batch_op.f("ix_mail_routed_final_queue"), ["final_queue"], unique=False)
        batch_op.create_index(batch_op.f("ix_mail_routed_message_id"), ["message_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_mail_routed_received_at"), ["received_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_mail_routed_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_mail_routed_urgent"), ["urgent"], unique=False)

    op.create_table(
        "minutes_meetings",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("meeting_date", sa.Date(), nullable=True),
        sa.Column("participants", sa.JSON(), nullable=False),
        sa.Column("agenda", sa.JSON(), nullable=True),
        sa.Column("glossary", sa.JSON(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("num_speakers", sa.Integer(), nullable=True),
        sa.Column("audio_filename", sa.String(length=300), nullable=False),
        sa.Column("audio_file", sa.String(length=300), nullable=False),
        sa.Column("audio_bytes", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.String(length=32), nullable=True),
        sa.Column("created_by", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("processing_seconds", sa.Float(), nullable=True),
        sa.Column("draft_transcript", sa.JSON(), nullable=True),
        sa.Column("draft_minutes", sa.JSON(), nullable=True),
        sa.Column("transcript", sa.JSON(), nullable=True),
        sa.Column("minutes", sa.JSON(), nullable=True),
        sa.Column("final_transcript", sa.JSON(), nullable=True),
        sa.Column("final_minutes", sa.JSON(), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approved_by", sa.String(length=128), nullable=True),
        sa.Column("failure", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("minutes_meetings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_minutes_meetings_job_id"), ["job_id"], unique=False)

    op.create_table(
        "usage_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("service", sa.String(length=32), nullable=False),
        sa.Column("task", sa.String(length=64), nullable=False),
        sa.Column("volume", sa.Float(), nullable=False),
        sa.Column("volume_unit", sa.String(length=32), nullable=False),
        sa.Column("processing_seconds", sa.Float(), nullable=False),
        sa.Column("user", sa.String(length=128), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("quality", sa.JSON(), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=True),
        sa.Column("simulated", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("usage_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_usage_events_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_usage_events_reference"), ["reference"], unique=False)
        batch_op.create_index(batch_op.f("ix_usage_events_service"), ["service"], unique=False)
        batch_op.create_index(batch_op.f("ix_usage_events_simulated"), ["simulated"], unique=False)
        batch_op.create_index(batch_op.f("ix_usage_events_task"), ["task"], unique=False)

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_users_name"), ["name"], unique=True)

    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=128), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_tokens_token_sha256"), ["token_sha256"], unique=True)
        batch_op.create_index(batch_op.f("ix_api_tokens_user_id"), ["user_id"], unique=False)

    op.create_table(
        "chat_documents",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("collection", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("checksum", sa.String(length=64), nullable=False),
        sa.Column("chunks", sa.Integer(), nullable=False),
        sa.Column("ingested_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["collection"], ["chat_collections.name"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("collection", "source"),
    )
    with op.batch_alter_table("chat_documents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_chat_documents_collection"), ["collection"], unique=False)

    op.create_table(
        "mail_imap_mails",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("folder_id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.String(length=300), nullable=False),
        sa.Column("dedupe_key", sa.String(length=80), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["folder_id"],
            ["mail_imap_folders.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("folder_id", "uid"),
    )
    with op.batch_alter_table("mail_imap_mails", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mail_imap_mails_dedupe_key"), ["dedupe_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_mail_imap_mails_folder_id"), ["folder_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_mail_imap_mails_outcome"), ["outcome"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("mail_imap_mails", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mail_imap_mails_outcome"))
        batch_op.drop_index(batch_op.f("ix_mail_imap_mails_folder_id"))
        batch_op.drop_index(batch_op.f("ix_mail_imap_mails_dedupe_key"))

    op.drop_table("mail_imap_mails")
    with op.batch_alter_table("chat_documents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_chat_documents_collection"))

    op.drop_table("chat_documents")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_tokens_user_id"))
        batch_op.drop_index(batch_op.f("ix_api_tokens_token_sha256"))

    op.drop_table("api_tokens")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_name"))

    op.drop_table("users")
    with op.batch_alter_table("usage_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_usage_events_task"))
        batch_op.drop_index(batch_op.f("ix_usage_events_simulated"))
        batch_op.drop_index(batch_op.f("ix_usage_events_service"))
        batch_op.drop_index(batch_op.f("ix_usage_events_reference"))
        batch_op.drop_index(batch_op.f("ix_usage_events_created_at"))

    op.drop_table("usage_events")
    with op.batch_alter_table("minutes_meetings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_minutes_meetings_job_id"))

    op.drop_table("minutes_meetings")
    with op.batch_alter_table("mail_routed", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mail_routed_urgent"))
        batch_op.drop_index(batch_op.f("ix_mail_routed_status"))
        batch_op.drop_index(batch_op.f("ix_mail_routed_received_at"))
        batch_op.drop_index(batch_op.f("ix_mail_routed_message_id"))
        batch_op.drop_index(batch_op.f("ix_mail_routed_final_queue"))
        batch_op.drop_index(batch_op.f("ix_mail_routed_contains_cpr"))

    op.drop_table("mail_routed")
    with op.batch_alter_table("mail_models", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mail_models_active"))

    op.drop_table("mail_models")
    op.drop_table("mail_imap_folders")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_jobs_status"))
        batch_op.drop_index(batch_op.f("ix_jobs_kind"))

    op.drop_table("jobs")
    op.drop_table("chat_collections")
    with op.batch_alter_table("chat_answers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_chat_answers_created_at"))
        batch_op.drop_index(batch_op.f("ix_chat_answers_conversation_id"))
        batch_op.drop_index(batch_op.f("ix_chat_answers_abstained"))

    op.drop_table("chat_answers")
