"""Persistence of mail sorting: routed mails (with the decision and any correction), model versions, and
the IMAP watcher's record of the folders and mails it met.

A routed mail keeps the CPR-masked text the model saw, so that corrections can teach the next model; the
model files themselves live under ``<data dir>/mailsort/models/``.

A mail is stored once: ``dedup_key`` (unique) is a keyed hash of its Message-ID, or of its content when it
has none, so a retry of the same mail (from any client or user: the mailboxes are shared, not per user) finds
the stored routing. The key is an HMAC with a random secret kept on the storage dir, never in the database:
a plain hash of a Message-ID or text that holds a CPR number is undone by trying all CPR numbers.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from services.common.db import Base, utcnow
from services.common.errors import get_or_not_found


class MailStatus:
    AUTO = "auto"  # routed automatically
    REVIEW = "review"  # waiting for a person
    DECIDED = "decided"  # a person chose the queue (from review)
    CORRECTED = "corrected"  # routed automatically, then re-routed by a person


class RoutedMail(Base):
    __tablename__ = "mail_routed"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=lambda: uuid.uuid4().hex)
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    source: Mapped[str] = mapped_column(String(16), default="api")  # api | cli | imap
    message_id: Mapped[str] = mapped_column(String(300), default="", index=True)  # CPR-masked
    # the same mail routed again finds this row (see the module's docstring); None on rows from before 0005
    dedup_key: Mapped[str | None] = mapped_column(String(80), nullable=True, unique=True, index=True)
    sender: Mapped[str] = mapped_column(String(300), default="")  # CPR-masked
    mailbox: Mapped[str] = mapped_column(String(300), default="")  # the To address, CPR-masked
    subject: Mapped[str] = mapped_column(String(500), default="")  # CPR-masked
    text: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)  # CPR-masked fields the model reads
    model_version: Mapped[str] = mapped_column(String(64), default="")
    queue: Mapped[str | None] = mapped_column(String(64), nullable=True)  # the model's choice
    confidence: Mapped[float] = mapped_column(Float, default=0.0)
    auto: Mapped[bool] = mapped_column(Boolean, default=False)
    suggestions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # top 3: queue, probability
    explanation: Mapped[list[str]] = mapped_column(JSON, default=list)
    contains_cpr: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    problems: Mapped[list[str]] = mapped_column(JSON, default=list)  # why not routed normally; CPR-masked
    status: Mapped[str] = mapped_column(String(16), default=MailStatus.REVIEW, index=True)
    final_queue: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    decided_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(nullable=True)


class MailModel(Base):
    """One trained routing model; exactly one is active. A model never activated is a candidate: a person
    promotes it (or discards it) after reading its ``comparison`` with the model that was active."""

    __tablename__ = "mail_models"

    version: Mapped[str] = mapped_column(String(64), primary_key=True)
    file: Mapped[str] = mapped_column(String(300))  # file name under the models folder
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    active: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    trained_on: Mapped[int] = mapped_column(Integer, default=0)
    corrections: Mapped[int] = mapped_column(Integer, default=0)  # corrected mails included
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # cross-validated
    note: Mapped[str] = mapped_column(Text, default="")
    # held-out comparison with the model active at retraining (see service.retrain); None for other models
    comparison: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    activated_at: Mapped[datetime | None] = mapped_column(nullable=True)  # last made active; None: candidate


# --- the IMAP watcher's record (services.mailsort.imap) ---------------------------------------------


class ImapOutcome:
    """What the IMAP watcher did with a mail."""

    ROUTED = "routed"  # the routing step put it in a queue
    MANUAL = "manual"  # the routing step sent it to a person
    FAILED = "failed"  # the routing step raised, or kai would not download it; it stays in the folder
    DUPLICATE = "duplicate"  # same Message-ID (or bytes) as a mail already handled in this folder
    PENDING = "pending"  # handed to the routing step, which has not returned (yet, or kai stopped)


class ImapFolderState(Base):
    """One folder incarnation: a new UIDVALIDITY is a new row, since the old UIDs then mean nothing."""

    __tablename__ = "mail_imap_folders"
    __table_args__ = (UniqueConstraint("host", "user", "folder", "uidvalidity"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    host: Mapped[str] = mapped_column(String(255))
    user: Mapped[str] = mapped_column(String(255))
    folder: Mapped[str] = mapped_column(String(500))
    uidvalidity: Mapped[int] = mapped_column(BigInteger)  # 32-bit unsigned on the wire
    last_uid: Mapped[int] = mapped_column(BigInteger, default=0)  # every UID up to this one is recorded
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    polled_at: Mapped[datetime | None] = mapped_column(nullable=True)


class ImapMail(Base):
    """One mail the watcher met: what it did with it and why."""

    __tablename__ = "mail_imap_mails"
    __table_args__ = (UniqueConstraint("folder_id", "uid"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    folder_id: Mapped[int] = mapped_column(ForeignKey("mail_imap_folders.id"), index=True)
    uid: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[str] = mapped_column(String(300), default="")  # CPR-masked
    dedupe_key: Mapped[str] = mapped_column(String(80), default="", index=True)
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    outcome: Mapped[str] = mapped_column(String(32), default=ImapOutcome.PENDING, index=True)
    reason: Mapped[str] = mapped_column(Text, default="")  # CPR-masked; empty when routed normally
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # times handed to the routing step
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    handled_at: Mapped[datetime | None] = mapped_column(nullable=True)


def models_dir(storage_dir: Path) -> Path:
    return storage_dir / "mailsort" / "models"


def _dedup_secret(storage_dir: Path) -> bytes:
    """This installation's key for ``dedup_key``, made on first use (every process sees the storage dir)."""
    path = storage_dir / "mailsort" / "dedup.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fresh = path.with_name(f".dedup.key.{uuid.uuid4().hex}")
        descriptor = os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(secrets.token_bytes(32))
        try:
            os.link(fresh, path)  # atomic, and never replaces a key another process made first
        except FileExistsError:
            pass
        finally:
            fresh.unlink()
    return path.read_bytes()


def dedup_key(storage_dir: Path, message_id: str, content: bytes) -> str:
    """What makes two mails the same: the Message-ID, else ``content`` (the caller normalises it)."""
    secret = _dedup_secret(storage_dir)
    if message_id:
        return "mid:" + hmac.new(secret, message_id.encode("utf-8", "replace"), hashlib.sha256).hexdigest()
    return "sha:" + hmac.new(secret, content, hashlib.sha256).hexdigest()


def routed_before(session: Session, key: str) -> RoutedMail | None:
    return session.scalar(select(RoutedMail).where(RoutedMail.dedup_key == key))


def active_model(session: Session) -> MailModel | None:
    return session.scalar(select(MailModel).where(MailModel.active.is_(True)))


def get_model(session: Session, version: str) -> MailModel:
    return get_or_not_found(session, MailModel, version, f"Modelversionen '{version}' findes ikke.")


def list_models(session: Session) -> list[MailModel]:
    return list(session.scalars(select(MailModel).order_by(MailModel.created_at.desc())))


def newest_candidate(session: Session) -> MailModel | None:
    """The newest model that was never active: the one awaiting a person's decision."""
    query = select(MailModel).where(MailModel.activated_at.is_(None)).order_by(MailModel.created_at.desc())
    return session.scalar(query.limit(1))


def get_mail(session: Session, mail_id: str) -> RoutedMail:
    return get_or_not_found(session, RoutedMail, mail_id, f"Mailen {mail_id} findes ikke.")


def mails_with_status(session: Session, status: str, limit: int = 200) -> list[RoutedMail]:
    query = select(RoutedMail).where(RoutedMail.status == status).order_by(RoutedMail.received_at)
    return list(session.scalars(query.limit(limit)))


def taught_mails(session: Session) -> list[RoutedMail]:
    """Mails whose queue a person decided or corrected: what the next model learns from."""
    return list(
        session.scalars(
            select(RoutedMail).where(RoutedMail.status.in_([MailStatus.DECIDED, MailStatus.CORRECTED]))
        )
    )
