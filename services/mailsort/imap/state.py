"""What the watcher remembers per folder: its high-water mark per UIDVALIDITY, and each mail it met with the
outcome, so that a mail is handed to the routing step once and a duplicate is known by its Message-ID."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import and_, not_, select
from sqlalchemy.orm import Session

from services.common.config import Settings
from services.common.db import Database, utcnow
from services.mailsort import store
from services.mailsort.store import ImapFolderState, ImapMail, ImapOutcome


@dataclass(frozen=True)
class Mailbox:
    """Which folder of which account: the identity the watcher's state is kept under."""

    host: str
    user: str
    folder: str

    @classmethod
    def from_settings(cls, settings: Settings) -> Mailbox:
        return cls(settings.imap_host or "", settings.imap_user or "", settings.imap_folder)


@dataclass(frozen=True)
class HandledMail:
    uid: int
    outcome: str
    reason: str = ""


def dedupe_key(storage_dir: Path, message_id: str, raw: bytes | None = None) -> str:
    """What makes two mails the same: the Message-ID, else the exact bytes ("" when neither is known). Keyed
    as a routed mail's ``store.dedup_key``, so a CPR number in a Message-ID cannot be found from it."""
    if not message_id and raw is None:
        return ""
    return store.dedup_key(storage_dir, message_id, raw or b"")


def folder_state(db: Database, mailbox: Mailbox, uidvalidity: int) -> tuple[ImapFolderState, bool]:
    """The state row for this UIDVALIDITY (made on first sight) and whether an older UIDVALIDITY was known."""
    same_folder = and_(
        ImapFolderState.host == mailbox.host,
        ImapFolderState.user == mailbox.user,
        ImapFolderState.folder == mailbox.folder,
    )
    with db.session() as session:
        state = session.scalar(
            select(ImapFolderState).where(same_folder, ImapFolderState.uidvalidity == uidvalidity)
        )
        changed = False
        if state is None:
            changed = session.scalar(select(ImapFolderState.id).where(same_folder).limit(1)) is not None
            state = ImapFolderState(
                host=mailbox.host,
                user=mailbox.user,
                folder=mailbox.folder,
                uidvalidity=uidvalidity,
                last_uid=0,
            )
            session.add(state)
        state.polled_at = utcnow()
    return state, changed


def handled_before(session: Session, mailbox: Mailbox, key: str, folder_id: int, uid: int) -> ImapMail | None:
    """A mail with this key that the folder (any UIDVALIDITY) already handed over: routed, manual, duplicate.

    Pending and failed ones do not count: routing those again is the point (a failed mail a person moves
    out and back in is retried).
    """
    return session.scalar(
        select(ImapMail)
        .join(ImapFolderState, ImapMail.folder_id == ImapFolderState.id)
        .where(
            ImapFolderState.host == mailbox.host,
            ImapFolderState.user == mailbox.user,
            ImapFolderState.folder == mailbox.folder,
            ImapMail.dedupe_key == key,
            ImapMail.outcome.not_in([ImapOutcome.PENDING, ImapOutcome.FAILED]),
            not_(and_(ImapMail.folder_id == folder_id, ImapMail.uid == uid)),
        )
        .limit(1)
    )


def mail_row(session: Session, folder_id: int, uid: int) -> ImapMail | None:
    return session.scalar(select(ImapMail).where(ImapMail.folder_id == folder_id, ImapMail.uid == uid))


def advance(session: Session, folder_id: int, uid: int) -> None:
    state = session.get(ImapFolderState, folder_id)
    if state is not None and uid > state.last_uid:
        state.last_uid = uid
