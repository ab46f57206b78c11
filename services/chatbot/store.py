"""Persistence of the chatbot: collections and their documents, conversations, answers (for feedback and
content gaps), and the questions editors attached to a source. The search index itself lives in files (see
``index.py``); these rows say what is in it."""

from __future__ import annotations

import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from services.common.db import Base, utcnow
from services.common.errors import NotFound, get_or_not_found


def _new_id() -> str:
    return uuid.uuid4().hex


class ChatCollection(Base):
    __tablename__ = "chat_collections"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)  # roles that may read it
    contact: Mapped[str] = mapped_column(String(300), default="")  # who to ask when the bot cannot answer
    chunks: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ChatDocument(Base):
    __tablename__ = "chat_documents"
    __table_args__ = (UniqueConstraint("collection", "source"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    collection: Mapped[str] = mapped_column(
        ForeignKey("chat_collections.name", ondelete="CASCADE"), index=True
    )
    source: Mapped[str] = mapped_column(String(300))
    title: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(16))
    checksum: Mapped[str] = mapped_column(String(64))
    chunks: Mapped[int] = mapped_column(default=0)
    ingested_at: Mapped[datetime] = mapped_column(default=utcnow)


class ChatAnswer(Base):
    """One answered (or declined) question. The question is stored CPR-masked, never logged."""

    __tablename__ = "chat_answers"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=_new_id)
    conversation_id: Mapped[str] = mapped_column(String(32), index=True)
    user: Mapped[str | None] = mapped_column(String(128), nullable=True)
    question: Mapped[str] = mapped_column(Text)
    collections: Mapped[list[str]] = mapped_column(JSON, default=list)
    abstained: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    confidence: Mapped[float] = mapped_column(Float, default=0.0)
    citations: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    helpful: Mapped[bool | None] = mapped_column(Boolean, nullable=True)


class ChatExpansion(Base):
    """A question an editor attached to the § or guide that answers it: indexed with that unit (question
    expansion) until it is removed. Removal keeps the row (who added and removed what, and when)."""

    __tablename__ = "chat_expansions"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    collection: Mapped[str] = mapped_column(
        ForeignKey("chat_collections.name", ondelete="CASCADE"), index=True
    )
    source: Mapped[str] = mapped_column(String(300))
    section: Mapped[str] = mapped_column(String(32), default="")
    question: Mapped[str] = mapped_column(Text)  # CPR-masked, as asked
    answer_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)  # the asked question
    added_by: Mapped[str] = mapped_column(String(128))
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
    removed_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    removed_at: Mapped[datetime | None] = mapped_column(nullable=True)


def new_conversation_id() -> str:
    return _new_id()


def get_collection(session: Session, name: str) -> ChatCollection:
    return get_or_not_found(session, ChatCollection, name, f"Samlingen '{name}' findes ikke.")


def list_collections(session: Session) -> list[ChatCollection]:
    return list(session.scalars(select(ChatCollection).order_by(ChatCollection.name)))


def documents_of(session: Session, collection: str) -> list[ChatDocument]:
    return list(
        session.scalars(
            select(ChatDocument).where(ChatDocument.collection == collection).order_by(ChatDocument.source)
        )
    )


def conversation_turns(session: Session, conversation_id: str, limit: int = 3) -> list[ChatAnswer]:
    """The latest turns of a conversation, oldest first."""
    rows = session.scalars(
        select(ChatAnswer)
        .where(ChatAnswer.conversation_id == conversation_id)
        .order_by(ChatAnswer.created_at.desc())
        .limit(limit)
    )
    return list(reversed(list(rows)))


def get_answer(session: Session, answer_id: str) -> ChatAnswer:
    return get_or_not_found(session, ChatAnswer, answer_id, f"Svaret {answer_id} findes ikke.")


def active_expansions(session: Session, collection: str | None = None) -> list[ChatExpansion]:
    """Editors' questions in use (not removed), oldest first; of one collection, or of all."""
    query = select(ChatExpansion).where(ChatExpansion.removed_at.is_(None))
    if collection is not None:
        query = query.where(ChatExpansion.collection == collection)
    return list(session.scalars(query.order_by(ChatExpansion.id)))


def get_expansion(session: Session, expansion_id: int) -> ChatExpansion:
    row = session.get(ChatExpansion, expansion_id)
    if row is None or row.removed_at is not None:
        raise NotFound(f"Spørgsmålet {expansion_id} er ikke knyttet til en kilde.")
    return row


def index_dir(storage_dir: Path, collection: str) -> Path:
    return storage_dir / "chatbot" / "indexes" / collection


def sources_dir(storage_dir: Path, collection: str) -> Path:
    """Copies of the ingested files, served as the citations' links for documents without a web address."""
    return storage_dir / "chatbot" / "sources" / collection
