"""The IMAP watcher: poll one folder, hand every new mail to the routing step once, and remember the outcome.

Which mails are new: kai keeps its own high-water mark (the highest UID handled) per folder and UIDVALIDITY,
and asks ``UID SEARCH UID n:*``. ``UNSEEN`` would be wrong: people read the intake folder in their mail
client, and a mail they opened before kai polled must still be routed. The folder is opened read-only
(EXAMINE) and bodies are fetched with ``BODY.PEEK[]``, so kai never changes a flag, moves or deletes a mail.

Never twice, never lost:
- a mail is recorded as *pending* (with an attempt counter) before the routing step runs, and its outcome is
  committed only after the step returned; a crash in between leaves it pending, and the next run hands it
  to the step again with ``attempt`` > 1 (the step should be idempotent by Message-ID). A mail that stopped
  kai ``MAX_ATTEMPTS`` times is recorded as failed instead of crashing kai forever;
- the step raising (unparseable mail, odd charset, huge attachment) is recorded as failed with the reason,
  and the watcher goes on; the mail stays in the folder for a person;
- a mail whose Message-ID (or, without one, whose bytes) was already handled in this folder is recorded as
  a duplicate and not routed again: this is what makes a UIDVALIDITY change (the server renumbered the
  folder) safe, because every mail then looks new.

Logs name folders, UIDs and outcomes only: never subjects, senders or text (they may hold CPR numbers).
"""

from __future__ import annotations

import base64
import contextlib
import imaplib
import ipaddress
import logging
import re
import ssl
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import groupby
from pathlib import Path
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint, and_, not_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from services.common.charsets import decode_unknown
from services.common.config import Settings
from services.common.db import Base, Database, utcnow
from services.common.errors import ConfigurationError, KaiError
from services.common.privacy import mask_cpr
from services.mailsort import store

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3  # a mail that stopped kai this many times is given up (recorded failed), not retried forever
HEADER_BATCH = 100  # UIDs per header FETCH: few round trips, small answers
FIRST_BACKOFF_SECONDS = 5.0
MAX_BACKOFF_SECONDS = 300.0


class Outcome:
    ROUTED = "routed"  # the routing step put it in a queue
    MANUAL = "manual"  # the routing step sent it to a person
    FAILED = "failed"  # the routing step raised, or kai would not download it; it stays in the folder
    DUPLICATE = "duplicate"  # same Message-ID (or bytes) as a mail already handled in this folder
    PENDING = "pending"  # handed to the routing step, which has not returned (yet, or kai stopped)


class ImapError(KaiError):
    """The IMAP server refused something (folder missing, FETCH answered NO)."""

    status_code = 502


# --- state ----------------------------------------------------------------------------------------------


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
    outcome: Mapped[str] = mapped_column(String(32), default=Outcome.PENDING, index=True)
    reason: Mapped[str] = mapped_column(Text, default="")  # CPR-masked; empty when routed normally
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # times handed to the routing step
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    handled_at: Mapped[datetime | None] = mapped_column(nullable=True)


# --- plain data -----------------------------------------------------------------------------------------


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
class ImapMessageInfo:
    """Where a mail came from, for the routing step (which gets the raw bytes next to it)."""

    host: str
    user: str
    folder: str
    uidvalidity: int
    uid: int
    message_id: str  # "" when the mail has none
    size: int  # bytes, as the server counts them
    attempt: int  # 1 normally; > 1 when an earlier run stopped while the step handled this mail


RouteStep = Callable[[bytes, ImapMessageInfo], str]
"""Routes one raw mail and returns its outcome, recorded as is: "routed" or "manual" (any short label but
"pending" is accepted). Raising an Exception records the mail as failed; it is not retried."""


@dataclass(frozen=True)
class HandledMail:
    uid: int
    outcome: str
    reason: str = ""


@dataclass
class WatchReport:
    folder: str
    uidvalidity: int
    uidvalidity_changed: bool = False  # the server renumbered the folder since the last poll
    handled: list[HandledMail] = field(default_factory=list)
    remaining: int = 0  # new mails left for the next call (limit reached or asked to stop)

    @property
    def counts(self) -> dict[str, int]:
        return dict(Counter(h.outcome for h in self.handled))

    def __str__(self) -> str:
        counts = ", ".join(f"{outcome}: {n}" for outcome, n in sorted(self.counts.items())) or "no new mail"
        extra = f"; {self.remaining} left" if self.remaining else ""
        changed = " (UIDVALIDITY changed: re-scanned by Message-ID)" if self.uidvalidity_changed else ""
        return f"{self.folder}: {counts}{extra}{changed}"


@dataclass(frozen=True)
class _Header:
    uid: int
    size: int
    message_id: str


# --- connection -----------------------------------------------------------------------------------------


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_settings(settings: Settings) -> None:
    """Raise ConfigurationError for settings no retry can fix (so ``watch`` fails at once, not forever)."""
    missing = [
        name
        for name, value in (
            ("KAI_IMAP_HOST", settings.imap_host),
            ("KAI_IMAP_USER", settings.imap_user),
            ("KAI_IMAP_PASSWORD", settings.imap_password),
        )
        if not value
    ]
    if missing:
        raise ConfigurationError(f"Postkassen er ikke sat op: mangler {', '.join(missing)}.")
    if settings.imap_tls == "none" and not _is_loopback(settings.imap_host or ""):
        raise ConfigurationError(
            "KAI_IMAP_TLS=none sender adgangskoden ukrypteret og er kun tilladt til en server på denne "
            "maskine."
        )
    if settings.imap_ca_file is not None and not settings.imap_ca_file.is_file():
        raise ConfigurationError(f"KAI_IMAP_CA_FILE findes ikke: {settings.imap_ca_file}")


def ssl_context(settings: Settings) -> ssl.SSLContext:
    """A verifying context: the configured CA file when given (a local CA), else the system's CAs."""
    cafile = str(settings.imap_ca_file) if settings.imap_ca_file else None
    return ssl.create_default_context(cafile=cafile)  # CERT_REQUIRED and host name check


def connect(settings: Settings) -> imaplib.IMAP4:
    """A logged-in connection (TLS as configured); the caller closes it with ``close``."""
    check_settings(settings)
    host, port, timeout = settings.imap_host or "", settings.imap_port, settings.imap_timeout_seconds
    if settings.imap_tls == "ssl":
        conn: imaplib.IMAP4 = imaplib.IMAP4_SSL(
            host, port, ssl_context=ssl_context(settings), timeout=timeout
        )
    else:
        conn = imaplib.IMAP4(host, port, timeout=timeout)
        if settings.imap_tls == "starttls":
            conn.starttls(ssl_context=ssl_context(settings))
    password = settings.imap_password.get_secret_value() if settings.imap_password else ""
    try:
        _login(conn, settings.imap_user or "", password)
    except BaseException:
        close(conn)
        raise
    return conn


def _login(conn: imaplib.IMAP4, user: str, password: str) -> None:
    # LOGIN is ASCII-only in imaplib; SASL PLAIN carries UTF-8, so a password with æøå works.
    if "AUTH=PLAIN" in conn.capabilities:
        credentials = f"\0{user}\0{password}".encode()
        conn.authenticate("PLAIN", lambda _challenge: credentials)
    else:
        conn.login(user, password)


def close(conn: imaplib.IMAP4) -> None:
    """Log out, ignoring a connection that is already gone."""
    with contextlib.suppress(imaplib.IMAP4.error, OSError):
        conn.logout()


def encode_folder_name(name: str) -> str:
    """A folder name as an IMAP quoted string, non-ASCII in modified UTF-7 (RFC 3501 5.1.3).

    imaplib sends names as they are; 'Indgående post' must go out as "Indg&AOU-ende post".
    """
    parts = []
    for printable, run in groupby(name, key=lambda c: " " <= c <= "~"):
        text = "".join(run)
        if printable:
            parts.append(text.replace("&", "&-"))
        else:
            encoded = base64.b64encode(text.encode("utf-16-be")).decode("ascii").rstrip("=")
            parts.append("&" + encoded.replace("/", ",") + "-")
    mutf7 = "".join(parts)
    return '"' + mutf7.replace("\\", "\\\\").replace('"', '\\"') + '"'


# --- IMAP commands --------------------------------------------------------------------------------------


def _ok(typ: str, data: list[Any], what: str) -> list[Any]:
    if typ != "OK":
        detail = b" ".join(d for d in data if isinstance(d, bytes)).decode("ascii", "replace")
        raise ImapError(f"IMAP-serveren afviste {what}: {detail[:200]}")
    return data


def select_folder(conn: imaplib.IMAP4, folder: str) -> int:
    """Open ``folder`` read-only (EXAMINE: no flag can change) and return its UIDVALIDITY."""
    _ok(*conn.select(encode_folder_name(folder), readonly=True), f"mappen '{folder}'")
    _name, values = conn.response("UIDVALIDITY")
    if not values or values[0] is None:
        raise ImapError(f"IMAP-serveren oplyste ingen UIDVALIDITY for mappen '{folder}'.")
    return int(values[-1])


def search_new_uids(conn: imaplib.IMAP4, last_uid: int) -> list[int]:
    """UIDs above ``last_uid``, ascending."""
    data = _ok(*conn.uid("SEARCH", f"UID {last_uid + 1}:*"), "UID SEARCH")
    uids = {int(token) for line in data if line for token in line.split()}
    # "n:*" always matches the highest UID, even when it is below n: keep only the truly new ones.
    return sorted(uid for uid in uids if uid > last_uid)


def _fetch_parts(data: list[Any]) -> Iterator[tuple[bytes, bytes]]:
    """(response text, literal) per message of a FETCH answer.

    imaplib returns a literal as a (text before it, literal) tuple and what follows it as separate bytes;
    that trailing text (a server may send UID after the body) is joined onto the text of its message.
    """
    current: list[bytes] | None = None
    literal = b""
    for item in data:
        if isinstance(item, tuple):
            if current is not None:
                yield b" ".join(current), literal
            current, literal = [item[0]], item[1]
        elif isinstance(item, bytes) and current is not None:
            current.append(item)
    if current is not None:
        yield b" ".join(current), literal


_UID = re.compile(rb"\bUID (\d+)")
_SIZE = re.compile(rb"\bRFC822\.SIZE (\d+)")
_MESSAGE_ID = re.compile(rb"^message-id:[ \t]*(.*(?:\r?\n[ \t].*)*)", re.IGNORECASE | re.MULTILINE)


def _message_id(header_block: bytes) -> str:
    """The Message-ID as parse.py reads it: UTF-8, else windows-1252, else latin-1 (8-bit ids exist)."""
    found = _MESSAGE_ID.search(header_block)
    if not found:
        return ""
    return " ".join(decode_unknown(found.group(1))[0].split())


def fetch_headers(conn: imaplib.IMAP4, uids: list[int]) -> dict[int, _Header]:
    """Size and Message-ID of each UID still in the folder (a mail expunged meanwhile is simply absent)."""
    uid_set = ",".join(str(uid) for uid in uids)
    data = _ok(
        *conn.uid("FETCH", uid_set, "(UID RFC822.SIZE BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])"), "FETCH"
    )
    headers = {}
    for text, literal in _fetch_parts(data):
        uid, size = _UID.search(text), _SIZE.search(text)
        if uid:
            header = _Header(int(uid.group(1)), int(size.group(1)) if size else 0, _message_id(literal))
            headers[header.uid] = header
    return headers


def fetch_body(conn: imaplib.IMAP4, uid: int) -> bytes | None:
    """The whole raw mail, without setting \\Seen; None when it was expunged meanwhile."""
    data = _ok(*conn.uid("FETCH", str(uid), "(UID BODY.PEEK[])"), "FETCH")
    for text, literal in _fetch_parts(data):
        found = _UID.search(text)
        if found and int(found.group(1)) == uid:
            return literal
    return None


# --- state helpers --------------------------------------------------------------------------------------


def dedupe_key(storage_dir: Path, message_id: str, raw: bytes | None = None) -> str:
    """What makes two mails the same: the Message-ID, else the exact bytes ("" when neither is known). Keyed
    as a routed mail's ``store.dedup_key``, so a CPR number in a Message-ID cannot be found from it."""
    if not message_id and raw is None:
        return ""
    return store.dedup_key(storage_dir, message_id, raw or b"")


def _folder_state(db: Database, mailbox: Mailbox, uidvalidity: int) -> tuple[ImapFolderState, bool]:
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


def _handled_before(
    session: Session, mailbox: Mailbox, key: str, folder_id: int, uid: int
) -> ImapMail | None:
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
            ImapMail.outcome.not_in([Outcome.PENDING, Outcome.FAILED]),
            not_(and_(ImapMail.folder_id == folder_id, ImapMail.uid == uid)),
        )
        .limit(1)
    )


def _row(session: Session, folder_id: int, uid: int) -> ImapMail | None:
    return session.scalar(select(ImapMail).where(ImapMail.folder_id == folder_id, ImapMail.uid == uid))


def _advance(session: Session, folder_id: int, uid: int) -> None:
    state = session.get(ImapFolderState, folder_id)
    if state is not None and uid > state.last_uid:
        state.last_uid = uid


# --- one poll -------------------------------------------------------------------------------------------


@dataclass
class _Poll:
    """What handling one mail needs, gathered once per poll."""

    conn: imaplib.IMAP4
    db: Database
    route: RouteStep
    mailbox: Mailbox
    state: ImapFolderState
    max_bytes: int
    storage_dir: Path  # where the dedupe keys' secret is


def _stored_message_id(header: _Header) -> str:
    return mask_cpr(header.message_id)[:300]


def _finish(
    session: Session, poll: _Poll, header: _Header, key: str, outcome: str, reason: str
) -> HandledMail:
    """Record the outcome and move the high-water mark past this UID, in the caller's transaction."""
    row = _row(session, poll.state.id, header.uid)
    if row is None:
        row = ImapMail(folder_id=poll.state.id, uid=header.uid, attempts=0)
        session.add(row)
    row.message_id = _stored_message_id(header)
    row.dedupe_key = key
    row.size = header.size
    row.outcome = outcome
    row.reason = reason
    row.handled_at = utcnow()
    _advance(session, poll.state.id, header.uid)
    log.info("imap %s uid %d: %s", poll.mailbox.folder, header.uid, outcome)
    return HandledMail(header.uid, outcome, reason)


def _failure_reason(exc: Exception) -> str:
    # The reason is stored for the person who looks at failed mails, so it is CPR-masked and short.
    return mask_cpr(f"{type(exc).__name__}: {exc}")[:500]


def _handle(poll: _Poll, header: _Header) -> HandledMail | None:
    """Route one mail at most once; None when there was nothing to do (recorded before, or gone)."""
    uid = header.uid
    with poll.db.session() as session:
        row = _row(session, poll.state.id, uid)
        if row is not None and row.outcome != Outcome.PENDING:
            _advance(session, poll.state.id, uid)  # recorded already: never route twice
            return None
        if header.size > poll.max_bytes:
            reason = f"too large to download: {header.size / 1e6:.0f} MB (KAI_IMAP_MAX_MAIL_MB)"
            key = dedupe_key(poll.storage_dir, header.message_id)
            return _finish(session, poll, header, key, Outcome.FAILED, reason)
        if header.message_id:
            key = dedupe_key(poll.storage_dir, header.message_id)
            earlier = _handled_before(session, poll.mailbox, key, poll.state.id, uid)
            if earlier is not None:  # found from the header alone: no need to download the body
                return _finish(session, poll, header, key, Outcome.DUPLICATE, f"same as UID {earlier.uid}")

    raw = fetch_body(poll.conn, uid)
    if raw is None:
        log.info("imap %s uid %d: gone before it was fetched", poll.mailbox.folder, uid)
        return None
    key = dedupe_key(poll.storage_dir, header.message_id, raw)

    with poll.db.session() as session:
        if not header.message_id:
            earlier = _handled_before(session, poll.mailbox, key, poll.state.id, uid)
            if earlier is not None:
                return _finish(
                    session, poll, header, key, Outcome.DUPLICATE, f"same bytes as UID {earlier.uid}"
                )
        row = _row(session, poll.state.id, uid)
        if row is None:
            row = ImapMail(folder_id=poll.state.id, uid=uid, attempts=0, outcome=Outcome.PENDING)
            session.add(row)
        if row.attempts >= MAX_ATTEMPTS:
            reason = f"kai stopped {row.attempts} times while routing this mail; left for a person"
            return _finish(session, poll, header, key, Outcome.FAILED, reason)
        # Committed before routing: a crash from here on is seen (and counted) at the next start.
        row.message_id, row.dedupe_key, row.size = _stored_message_id(header), key, header.size
        row.attempts += 1
        attempt = row.attempts

    info = ImapMessageInfo(
        host=poll.mailbox.host,
        user=poll.mailbox.user,
        folder=poll.mailbox.folder,
        uidvalidity=poll.state.uidvalidity,
        uid=uid,
        message_id=header.message_id,
        size=len(raw),
        attempt=attempt,
    )
    try:
        outcome, reason = poll.route(raw, info), ""
        if not isinstance(outcome, str) or not outcome or len(outcome) > 32 or outcome == Outcome.PENDING:
            outcome, reason = Outcome.FAILED, f"the routing step returned {outcome!r:.40}, not an outcome"
    except Exception as exc:  # the mail's fault or the step's: record it, keep going with the next mail
        log.warning("imap %s uid %d: routing step raised %s", poll.mailbox.folder, uid, type(exc).__name__)
        outcome, reason = Outcome.FAILED, _failure_reason(exc)
    with poll.db.session() as session:
        return _finish(session, poll, header, key, outcome, reason)


def _batches(uids: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(uids), size):
        yield uids[start : start + size]


def poll_folder(
    conn: imaplib.IMAP4,
    db: Database,
    settings: Settings,
    route: RouteStep,
    *,
    limit: int | None = None,
    stop: threading.Event | None = None,
) -> WatchReport:
    """Handle the new mails of the configured folder over an open connection (see ``watch_once``)."""
    mailbox = Mailbox.from_settings(settings)
    uidvalidity = select_folder(conn, mailbox.folder)
    state, changed = _folder_state(db, mailbox, uidvalidity)
    if changed:
        log.warning("imap %s: UIDVALIDITY is now %d; re-scanning by Message-ID", mailbox.folder, uidvalidity)
    report = WatchReport(mailbox.folder, uidvalidity, uidvalidity_changed=changed)
    uids = search_new_uids(conn, state.last_uid)
    max_bytes = settings.imap_max_mail_mb * 1024 * 1024
    poll = _Poll(conn, db, route, mailbox, state, max_bytes, settings.resolved_storage_dir)
    done = 0
    for batch in _batches(uids, HEADER_BATCH):
        headers = fetch_headers(conn, batch)
        for uid in batch:
            if (limit is not None and len(report.handled) >= limit) or (stop is not None and stop.is_set()):
                report.remaining = len(uids) - done
                return report
            done += 1
            header = headers.get(uid)
            handled = _handle(poll, header) if header is not None else None
            if handled is not None:
                report.handled.append(handled)
    return report


def watch_once(
    db: Database,
    settings: Settings,
    route: RouteStep,
    *,
    limit: int | None = None,
    stop: threading.Event | None = None,
) -> WatchReport:
    """Connect, hand every new mail of the folder to ``route`` (at most ``limit`` mails), record, disconnect.

    Errors of the routing step are recorded per mail; connection, server and database errors propagate
    (everything handled until then is committed, so the next call goes on where this one stopped).
    """
    conn = connect(settings)
    try:
        return poll_folder(conn, db, settings, route, limit=limit, stop=stop)
    finally:
        close(conn)


def backoff_seconds(
    failures: int, first: float = FIRST_BACKOFF_SECONDS, cap: float = MAX_BACKOFF_SECONDS
) -> float:
    """Seconds to wait after ``failures`` failed polls in a row: 5, 10, 20 … at most 300."""
    return min(cap, first * 2 ** max(0, failures - 1))


def watch(
    db: Database,
    settings: Settings,
    route: RouteStep,
    stop: threading.Event,
    *,
    backoff: Callable[[int], float] = backoff_seconds,
) -> None:
    """Poll every ``imap_poll_seconds`` until ``stop`` is set; reconnect with bounded backoff on errors.

    Settings no retry can fix raise ConfigurationError at once; everything else (server down, login
    refused, folder renamed, database busy) is logged and retried.
    """
    check_settings(settings)
    failures = 0
    while not stop.is_set():
        try:
            report = watch_once(db, settings, route, stop=stop)
        except ConfigurationError:
            raise
        except Exception as exc:  # the watcher is a daemon: log, wait, try again
            failures += 1
            delay = backoff(failures)
            log.warning(
                "imap %s: poll failed (%s: %.200s); retrying in %.0f s",
                settings.imap_folder,
                type(exc).__name__,
                str(exc),
                delay,
            )
        else:
            failures = 0
            delay = settings.imap_poll_seconds
            if report.handled:
                log.info("imap %s", report)
        stop.wait(delay)
