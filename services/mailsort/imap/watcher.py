"""The polling loop: each new mail of the folder is recorded pending, handed to the routing step once, and
its outcome recorded; ``watch`` repeats that until stopped, reconnecting with bounded backoff."""

from __future__ import annotations

import imaplib
import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session

from services.common.config import Settings
from services.common.db import Database, utcnow
from services.common.errors import ConfigurationError
from services.common.privacy import mask_cpr
from services.mailsort.imap.protocol import (
    Header,
    check_settings,
    close,
    connect,
    fetch_body,
    fetch_headers,
    search_new_uids,
    select_folder,
)
from services.mailsort.imap.state import (
    HandledMail,
    Mailbox,
    advance,
    dedupe_key,
    folder_state,
    handled_before,
    mail_row,
)
from services.mailsort.store import ImapFolderState, ImapMail, ImapOutcome

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3  # a mail that stopped kai this many times is given up (recorded failed), not retried forever
HEADER_BATCH = 100  # UIDs per header FETCH: few round trips, small answers
FIRST_BACKOFF_SECONDS = 5.0
MAX_BACKOFF_SECONDS = 300.0


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


def _stored_message_id(header: Header) -> str:
    return mask_cpr(header.message_id)[:300]


def _finish(
    session: Session, poll: _Poll, header: Header, key: str, outcome: str, reason: str
) -> HandledMail:
    """Record the outcome and move the high-water mark past this UID, in the caller's transaction."""
    row = mail_row(session, poll.state.id, header.uid)
    if row is None:
        row = ImapMail(folder_id=poll.state.id, uid=header.uid, attempts=0)
        session.add(row)
    row.message_id = _stored_message_id(header)
    row.dedupe_key = key
    row.size = header.size
    row.outcome = outcome
    row.reason = reason
    row.handled_at = utcnow()
    advance(session, poll.state.id, header.uid)
    log.info("imap %s uid %d: %s", poll.mailbox.folder, header.uid, outcome)
    return HandledMail(header.uid, outcome, reason)


def _failure_reason(exc: Exception) -> str:
    # The reason is stored for the person who looks at failed mails, so it is CPR-masked and short.
    return mask_cpr(f"{type(exc).__name__}: {exc}")[:500]


def _handle(poll: _Poll, header: Header) -> HandledMail | None:
    """Route one mail at most once; None when there was nothing to do (recorded before, or gone)."""
    uid = header.uid
    with poll.db.session() as session:
        row = mail_row(session, poll.state.id, uid)
        if row is not None and row.outcome != ImapOutcome.PENDING:
            advance(session, poll.state.id, uid)  # recorded already: never route twice
            return None
        if header.size > poll.max_bytes:
            reason = f"too large to download: {header.size / 1e6:.0f} MB (KAI_IMAP_MAX_MAIL_MB)"
            key = dedupe_key(poll.storage_dir, header.message_id)
            return _finish(session, poll, header, key, ImapOutcome.FAILED, reason)
        if header.message_id:
            key = dedupe_key(poll.storage_dir, header.message_id)
            earlier = handled_before(session, poll.mailbox, key, poll.state.id, uid)
            if earlier is not None:  # found from the header alone: no need to download the body
                return _finish(
                    session, poll, header, key, ImapOutcome.DUPLICATE, f"same as UID {earlier.uid}"
                )

    raw = fetch_body(poll.conn, uid)
    if raw is None:
        log.info("imap %s uid %d: gone before it was fetched", poll.mailbox.folder, uid)
        return None
    key = dedupe_key(poll.storage_dir, header.message_id, raw)

    with poll.db.session() as session:
        if not header.message_id:
            earlier = handled_before(session, poll.mailbox, key, poll.state.id, uid)
            if earlier is not None:
                return _finish(
                    session, poll, header, key, ImapOutcome.DUPLICATE, f"same bytes as UID {earlier.uid}"
                )
        row = mail_row(session, poll.state.id, uid)
        if row is None:
            row = ImapMail(folder_id=poll.state.id, uid=uid, attempts=0, outcome=ImapOutcome.PENDING)
            session.add(row)
        if row.attempts >= MAX_ATTEMPTS:
            reason = f"kai stopped {row.attempts} times while routing this mail; left for a person"
            return _finish(session, poll, header, key, ImapOutcome.FAILED, reason)
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
        if not isinstance(outcome, str) or not outcome or len(outcome) > 32 or outcome == ImapOutcome.PENDING:
            outcome, reason = ImapOutcome.FAILED, f"the routing step returned {outcome!r:.40}, not an outcome"
    except Exception as exc:  # the mail's fault or the step's: record it, keep going with the next mail
        log.warning("imap %s uid %d: routing step raised %s", poll.mailbox.folder, uid, type(exc).__name__)
        outcome, reason = ImapOutcome.FAILED, _failure_reason(exc)
    with poll.db.session() as session:
        return _finish(session, poll, header, key, outcome, reason)


def _batches(uids: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(uids), size):
        yield uids[start : start + size]


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
        mailbox = Mailbox.from_settings(settings)
        uidvalidity = select_folder(conn, mailbox.folder)
        state, changed = folder_state(db, mailbox, uidvalidity)
        if changed:
            log.warning(
                "imap %s: UIDVALIDITY is now %d; re-scanning by Message-ID", mailbox.folder, uidvalidity
            )
        report = WatchReport(mailbox.folder, uidvalidity, uidvalidity_changed=changed)
        uids = search_new_uids(conn, state.last_uid)
        max_bytes = settings.imap_max_mail_mb * 1024 * 1024
        poll = _Poll(conn, db, route, mailbox, state, max_bytes, settings.resolved_storage_dir)
        done = 0
        for batch in _batches(uids, HEADER_BATCH):
            headers = fetch_headers(conn, batch)
            for uid in batch:
                if (limit is not None and len(report.handled) >= limit) or (
                    stop is not None and stop.is_set()
                ):
                    report.remaining = len(uids) - done
                    return report
                done += 1
                header = headers.get(uid)
                handled = _handle(poll, header) if header is not None else None
                if handled is not None:
                    report.handled.append(handled)
        return report
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
