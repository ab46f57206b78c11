"""The IMAP watcher against a real Dovecot on loopback: every mail routed once, across restarts and crashes.

Dovecot comes from `.ci/dovecot-setup.sh` (Debian's dovecot-imapd); without it the server tests are skipped.
"""

from __future__ import annotations

import hashlib
import imaplib
import logging
import os
import ssl
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from imap_server import DovecotServer, dovecot_binary, openssl_binary, start_dovecot
from services.common.config import Settings
from services.common.db import Database, open_database
from services.common.errors import ConfigurationError
from services.mailsort import imap
from services.mailsort.imap import (
    ImapMessageInfo,
    backoff_seconds,
    check_settings,
    encode_folder_name,
    watch,
    watch_once,
)
from services.mailsort.imap import protocol as imap_protocol
from services.mailsort.imap import watcher as imap_watcher
from services.mailsort.store import ImapFolderState, ImapMail, ImapOutcome

CPR = "010203-1234"  # a valid-looking CPR number: must never reach a log


class Crash(BaseException):
    """kai being killed while the routing step runs (not an Exception: the watcher must not catch it)."""


def make_mail(n: int, *, message_id: str | None = "", attachment: bytes = b"") -> bytes:
    msg = EmailMessage()
    msg["From"] = "borger@example.dk"
    msg["To"] = "post@htk.dk"
    msg["Subject"] = f"Ansøgning nr. {n} om hjælp, CPR {CPR}"
    if message_id is not None:
        msg["Message-ID"] = message_id or mid(n)
    msg.set_content(f"Hej, jeg søger om tilskud. Mit CPR-nummer er {CPR}. Mail {n}.\n")
    if attachment:
        msg.add_attachment(attachment, maintype="application", subtype="pdf", filename="bilag.pdf")
    return msg.as_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def mid(n: int) -> str:
    return f"<mail-{n}@test.kai>"


@dataclass
class Router:
    """A routing step that, like a committed transaction, only counts a mail as routed when it returns."""

    crash_on: set[str] = field(default_factory=set)
    crash_times: int = 1  # how many times each crash_on mail crashes before it goes through
    fail_on: set[str] = field(default_factory=set)
    calls: list[ImapMessageInfo] = field(default_factory=list)
    routed: list[str] = field(default_factory=list)
    sizes: dict[str, int] = field(default_factory=dict)

    def __call__(self, raw: bytes, info: ImapMessageInfo) -> str:
        self.calls.append(info)
        if info.message_id in self.crash_on and self.times_called(info.message_id) <= self.crash_times:
            raise Crash
        if info.message_id in self.fail_on:
            raise ValueError(f"unknown charset x-foo in a mail about {CPR}")
        assert len(raw) == info.size
        self.sizes[info.message_id] = len(raw)
        self.routed.append(info.message_id)
        return ImapOutcome.MANUAL if len(raw) > 10_000_000 else ImapOutcome.ROUTED

    def times_called(self, message_id: str) -> int:
        return sum(1 for c in self.calls if c.message_id == message_id)


# --- fixtures -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dovecot() -> Iterator[DovecotServer]:
    if dovecot_binary() is None or openssl_binary() is None:
        pytest.skip("dovecot-imapd / openssl not installed (.ci/dovecot-setup.sh installs them)")
    server = start_dovecot()
    yield server
    server.stop()


@pytest.fixture
def folder(dovecot: DovecotServer) -> str:
    # Non-ASCII and a space: exercises modified UTF-7 and quoting of folder names.
    name = f"Borgerpost æøå {uuid.uuid4().hex[:8]}"
    dovecot.create_folder(name)
    return name


@pytest.fixture
def imap_settings(settings: Settings, dovecot: DovecotServer, folder: str) -> Settings:
    return settings.model_copy(
        update={
            "imap_host": "127.0.0.1",
            "imap_port": dovecot.imaps_port,
            "imap_user": dovecot.user,
            "imap_password": SecretStr(dovecot.password),
            "imap_folder": folder,
            "imap_tls": "ssl",
            "imap_ca_file": dovecot.ca_file,
            "imap_poll_seconds": 0.05,
            "imap_timeout_seconds": 30.0,
        }
    )


def rows(db: Database) -> list[ImapMail]:
    with db.session() as session:
        return list(session.scalars(select(ImapMail).order_by(ImapMail.folder_id, ImapMail.uid)))


def wait_for(condition: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


# --- against Dovecot ------------------------------------------------------------------------------------


def test_each_mail_routed_once_and_only_new_ones_after_restart(
    dovecot: DovecotServer, folder: str, imap_settings: Settings, db: Database
) -> None:
    uids = [dovecot.append(folder, make_mail(1)), dovecot.append(folder, make_mail(2), flags=r"(\Seen)")]
    uids.append(dovecot.append(folder, make_mail(3)))
    router = Router()

    report = watch_once(db, imap_settings, router)

    assert router.routed == [mid(1), mid(2), mid(3)]  # a mail someone already read is routed too
    assert report.counts == {"routed": 3} and report.remaining == 0
    assert [c.uid for c in router.calls] == uids and {c.attempt for c in router.calls} == {1}
    assert r"\Seen" not in dovecot.flags(folder, uids[0])  # BODY.PEEK: kai leaves the mail unread
    assert watch_once(db, imap_settings, router).handled == []  # nothing new: nothing routed again

    dovecot.append(folder, make_mail(4))
    dovecot.append(folder, make_mail(5))
    restarted = open_database(imap_settings.resolved_database_url)  # a new process: same DB, new connection
    try:
        report = watch_once(restarted, imap_settings, router)
    finally:
        restarted.dispose()

    assert report.counts == {"routed": 2}
    assert Counter(router.routed) == Counter({mid(n): 1 for n in range(1, 6)})
    assert [(r.message_id, r.outcome, r.attempts) for r in rows(db)] == [
        (mid(n), "routed", 1) for n in range(1, 6)
    ]
    with db.session() as session:
        state = session.scalars(select(ImapFolderState)).one()
    assert state.folder == folder and state.last_uid == max(uids) + 2


def test_crash_mid_batch_resumes_at_restart_without_routing_twice(
    dovecot: DovecotServer, folder: str, imap_settings: Settings, db: Database
) -> None:
    for n in range(1, 6):
        dovecot.append(folder, make_mail(n))
    router = Router(crash_on={mid(3)})

    with pytest.raises(Crash):
        watch_once(db, imap_settings, router)
    assert router.routed == [mid(1), mid(2)]
    assert [(r.message_id, r.outcome) for r in rows(db)] == [
        (mid(1), "routed"),
        (mid(2), "routed"),
        (mid(3), "pending"),  # handed over, never returned
    ]

    report = watch_once(db, imap_settings, router)

    assert report.counts == {"routed": 3}
    assert router.routed == [mid(n) for n in range(1, 6)]  # each once; mail 3 retried
    assert [c.attempt for c in router.calls if c.message_id == mid(3)] == [1, 2]  # step may dedupe on it
    assert router.times_called(mid(1)) == router.times_called(mid(2)) == 1


def test_a_mail_that_keeps_crashing_kai_is_given_up_after_max_attempts(
    dovecot: DovecotServer, folder: str, imap_settings: Settings, db: Database
) -> None:
    for n in range(1, 4):
        dovecot.append(folder, make_mail(n))
    router = Router(crash_on={mid(2)}, crash_times=99)

    for _ in range(imap.MAX_ATTEMPTS):
        with pytest.raises(Crash):
            watch_once(db, imap_settings, router)
    report = watch_once(db, imap_settings, router)

    assert router.times_called(mid(2)) == imap.MAX_ATTEMPTS
    assert router.routed == [mid(1), mid(3)]
    assert report.counts == {"failed": 1, "routed": 1}
    failed = next(r for r in rows(db) if r.message_id == mid(2))
    assert failed.outcome == "failed" and "stopped 3 times" in failed.reason


def test_a_broken_mail_is_recorded_as_failed_and_the_others_go_on(
    dovecot: DovecotServer,
    folder: str,
    imap_settings: Settings,
    db: Database,
    caplog: pytest.LogCaptureFixture,
) -> None:
    dovecot.append(folder, make_mail(1))
    dovecot.append(folder, make_mail(2))
    garbage_uid = dovecot.append(folder, b"\x00\xff\xfe not a mail at all \xe6\xf8\xe5\r\n")
    dovecot.append(folder, b"Message-ID: <\xe6\xf8\xe5@test.kai>\r\nSubject: \xff\r\n\r\n8-bit headers\r\n")
    dovecot.append(folder, make_mail(4))
    router = Router(fail_on={mid(2)})
    caplog.set_level(logging.INFO, logger="services.mailsort")

    report = watch_once(db, imap_settings, router)

    assert report.counts == {"routed": 4, "failed": 1}
    # The garbage and the raw 8-bit header reached the step as bytes: what to make of them is its business.
    assert router.routed == [mid(1), "", "<æøå@test.kai>", mid(4)]
    failed = next(r for r in rows(db) if r.outcome == "failed")
    assert failed.message_id == mid(2)
    assert failed.reason.startswith("ValueError: unknown charset") and CPR not in failed.reason
    assert any(r.uid == garbage_uid and r.message_id == "" and r.outcome == "routed" for r in rows(db))
    # The failed mail is left for a person, not retried on every poll.
    assert watch_once(db, imap_settings, router).handled == []
    assert router.times_called(mid(2)) == 1
    # Logs: folders, UIDs and outcomes; never the subject or text.
    assert "failed" in caplog.text and "ValueError" in caplog.text
    assert CPR not in caplog.text and "Ansøgning" not in caplog.text and "tilskud" not in caplog.text


def _large_then_small(dovecot: DovecotServer, folder: str, megabytes: int) -> Router:
    """Mail 1 with a random attachment of ``megabytes``, then a small mail 2; a fresh routing step."""
    dovecot.append(folder, make_mail(1, attachment=os.urandom(megabytes * 1024 * 1024)))
    dovecot.append(folder, make_mail(2))
    return Router()


def test_a_mail_with_a_30_mb_attachment_reaches_the_routing_step(
    dovecot: DovecotServer, folder: str, imap_settings: Settings, db: Database
) -> None:
    router = _large_then_small(dovecot, folder, megabytes=30)

    started = time.perf_counter()
    report = watch_once(db, imap_settings, router)
    elapsed = time.perf_counter() - started

    assert router.routed == [mid(1), mid(2)]
    assert router.sizes[mid(1)] > 40_000_000  # 30 MB in base64, all of it
    assert report.counts == {"manual": 1, "routed": 1}  # Router sends huge mails to a person
    assert elapsed < 60


def test_a_mail_over_the_size_limit_is_not_downloaded(
    dovecot: DovecotServer, folder: str, imap_settings: Settings, db: Database
) -> None:
    router = _large_then_small(dovecot, folder, megabytes=2)

    report = watch_once(db, imap_settings.model_copy(update={"imap_max_mail_mb": 1}), router)

    assert router.routed == [mid(2)]
    assert report.counts == {"failed": 1, "routed": 1}
    assert "too large" in rows(db)[0].reason


def test_uidvalidity_change_rescans_by_message_id_and_routes_nothing_twice(
    dovecot: DovecotServer, folder: str, imap_settings: Settings, db: Database
) -> None:
    without_id = make_mail(9, message_id=None)
    for raw in (make_mail(1), make_mail(2), without_id):
        dovecot.append(folder, raw)
    router = Router()
    first = watch_once(db, imap_settings, router)
    assert first.counts == {"routed": 3}

    # Recreating the folder renumbers it: the same mails come back under a new UIDVALIDITY.
    dovecot.delete_folder(folder)
    dovecot.create_folder(folder)
    for raw in (make_mail(1), make_mail(2), without_id, make_mail(3)):
        dovecot.append(folder, raw)
    report = watch_once(db, imap_settings, router)

    assert report.uidvalidity != first.uidvalidity and report.uidvalidity_changed
    assert report.counts == {"duplicate": 3, "routed": 1}
    assert Counter(router.routed) == Counter({mid(1): 1, mid(2): 1, "": 1, mid(3): 1})
    assert "UIDVALIDITY changed" in str(report)
    assert watch_once(db, imap_settings, router).handled == []


def test_the_same_mail_delivered_twice_is_routed_once(
    dovecot: DovecotServer, folder: str, imap_settings: Settings, db: Database
) -> None:
    dovecot.append(folder, make_mail(1))
    dovecot.append(folder, make_mail(1))
    router = Router()

    report = watch_once(db, imap_settings, router)

    assert router.routed == [mid(1)]
    assert report.counts == {"routed": 1, "duplicate": 1}


def test_a_cpr_number_in_a_message_id_is_masked_in_the_watchers_record(
    dovecot: DovecotServer, folder: str, imap_settings: Settings, db: Database
) -> None:
    message_id = f"<{CPR}@test.kai>"
    dovecot.append(folder, make_mail(1, message_id=message_id))
    dovecot.append(folder, make_mail(1, message_id=message_id))
    router = Router()

    report = watch_once(db, imap_settings, router)

    assert router.routed == [message_id]  # the routing step gets the mail as it is
    assert report.counts == {"routed": 1, "duplicate": 1}
    assert [r.message_id for r in rows(db)] == ["<[CPR]@test.kai>"] * 2
    # nor an unkeyed digest of it: trying every CPR number would find it again
    assert hashlib.sha256(message_id.encode()).hexdigest() not in {r.dedupe_key[4:] for r in rows(db)}


def test_limit_and_stop_leave_the_rest_for_the_next_poll(
    dovecot: DovecotServer, folder: str, imap_settings: Settings, db: Database
) -> None:
    for n in range(1, 5):
        dovecot.append(folder, make_mail(n))
    router = Router()

    assert watch_once(db, imap_settings, router, limit=1).remaining == 3
    stopped = threading.Event()
    stopped.set()
    assert watch_once(db, imap_settings, router, stop=stopped).remaining == 3
    assert watch_once(db, imap_settings, router).counts == {"routed": 3}
    assert router.routed == [mid(n) for n in range(1, 5)]


def test_starttls_works_and_an_untrusted_certificate_is_refused(
    dovecot: DovecotServer, folder: str, imap_settings: Settings, db: Database
) -> None:
    dovecot.append(folder, make_mail(1))
    starttls = imap_settings.model_copy(
        update={"imap_tls": "starttls", "imap_port": dovecot.imap_port, "imap_host": "localhost"}
    )
    router = Router()
    assert watch_once(db, starttls, router).counts == {"routed": 1}

    system_cas = imap_settings.model_copy(update={"imap_ca_file": None})
    with pytest.raises(ssl.SSLCertVerificationError):
        watch_once(db, system_cas, router)
    wrong_password = imap_settings.model_copy(update={"imap_password": SecretStr("forkert")})
    with pytest.raises(imaplib.IMAP4.error):
        watch_once(db, wrong_password, router)


def test_a_missing_folder_is_an_imap_error(imap_settings: Settings, db: Database) -> None:
    with pytest.raises(imap.ImapError, match="findes-ikke"):
        watch_once(db, imap_settings.model_copy(update={"imap_folder": "findes-ikke"}), Router())


def test_watch_polls_until_stopped(
    dovecot: DovecotServer, folder: str, imap_settings: Settings, db: Database
) -> None:
    router = Router()
    stop = threading.Event()
    thread = threading.Thread(target=watch, args=(db, imap_settings, router, stop), daemon=True)
    thread.start()
    try:
        dovecot.append(folder, make_mail(1))
        wait_for(lambda: router.routed == [mid(1)])
        dovecot.append(folder, make_mail(2))
        wait_for(lambda: router.routed == [mid(1), mid(2)])
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive()


def test_watch_reconnects_after_connection_errors(
    dovecot: DovecotServer,
    folder: str,
    imap_settings: Settings,
    db: Database,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    real_connect = imap.connect
    attempts: list[int] = []

    def flaky_connect(settings: Settings) -> imaplib.IMAP4:
        attempts.append(1)
        if len(attempts) <= 2:
            raise ConnectionRefusedError(111, "Connection refused")
        return real_connect(settings)

    monkeypatch.setattr(imap_watcher, "connect", flaky_connect)
    dovecot.append(folder, make_mail(1))
    router, stop, delays = Router(), threading.Event(), []

    def backoff(failures: int) -> float:
        delays.append(backoff_seconds(failures))
        return 0.01

    thread = threading.Thread(
        target=watch, args=(db, imap_settings, router, stop), kwargs={"backoff": backoff}, daemon=True
    )
    thread.start()
    try:
        wait_for(lambda: router.routed == [mid(1)])
    finally:
        stop.set()
        thread.join(10)
    assert delays == [5.0, 10.0]
    assert "ConnectionRefusedError" in caplog.text


def test_with_the_real_parser_as_routing_step(
    dovecot: DovecotServer, folder: str, imap_settings: Settings, db: Database
) -> None:
    parse = pytest.importorskip("services.mailsort.parse")
    dovecot.append(folder, make_mail(1))
    dovecot.append(folder, b"\x00\xff\xfe not a mail at all\r\n")
    dovecot.append(folder, b"Message-ID: <\xe6\xf8\xe5@test.kai>\r\nSubject: \xff\r\n\r\n8-bit headers\r\n")
    ids: list[tuple[str, str]] = []

    def route(raw: bytes, info: ImapMessageInfo) -> str:
        ids.append((info.message_id, parse.parse_message(raw).message_id))
        return ImapOutcome.ROUTED

    report = watch_once(db, imap_settings, route)

    assert report.counts == {"routed": 2, "failed": 1}
    assert ids == [(mid(1), mid(1)), ("<æøå@test.kai>", "<æøå@test.kai>")]  # the step can dedupe on either
    assert rows(db)[1].reason.startswith("MailParseError: ")


# --- without a server -----------------------------------------------------------------------------------


def test_watch_refuses_settings_no_retry_can_fix(settings: Settings, db: Database) -> None:
    with pytest.raises(ConfigurationError, match="KAI_IMAP_HOST"):
        watch(db, settings, Router(), threading.Event())


def test_plain_text_only_to_this_machine(settings: Settings, tmp_path: Path) -> None:
    base = settings.model_copy(update={"imap_user": "u", "imap_password": SecretStr("p"), "imap_tls": "none"})
    check_settings(base.model_copy(update={"imap_host": "127.0.0.1"}))
    check_settings(base.model_copy(update={"imap_host": "localhost"}))
    with pytest.raises(ConfigurationError, match="TLS"):
        check_settings(base.model_copy(update={"imap_host": "mail.htk.dk"}))
    with pytest.raises(ConfigurationError, match="CA_FILE"):
        check_settings(
            base.model_copy(
                update={"imap_host": "mail.htk.dk", "imap_tls": "ssl", "imap_ca_file": tmp_path / "x"}
            )
        )


def test_folder_names_are_quoted_modified_utf7() -> None:
    assert encode_folder_name("INBOX") == '"INBOX"'
    assert encode_folder_name("Børn & unge") == '"B&APg-rn &- unge"'
    assert encode_folder_name("台北/日本語") == '"&U,BTFw-/&ZeVnLIqe-"'  # RFC 3501's example
    assert encode_folder_name('a "b" \\c') == '"a \\"b\\" \\\\c"'


def test_backoff_is_bounded() -> None:
    assert [backoff_seconds(n) for n in (1, 2, 3, 4)] == [5.0, 10.0, 20.0, 40.0]
    assert backoff_seconds(50) == 300.0


def test_fetch_answers_with_the_uid_after_the_body_are_understood() -> None:
    data = [(b"7 (BODY[] {5}", b"hello"), b" UID 42)", (b"8 (UID 43 BODY[] {3}", b"bye"), b")"]
    parts = list(imap_protocol._fetch_parts(data))
    assert [(imap_protocol._UID.findall(text), literal) for text, literal in parts] == [
        ([b"42"], b"hello"),
        ([b"43"], b"bye"),
    ]


def test_message_ids_are_read_from_folded_and_odd_headers() -> None:
    assert imap_protocol._message_id(b"Message-Id:\r\n <a@b.dk>\r\n\r\n") == "<a@b.dk>"
    assert (
        imap_protocol._message_id(b"message-id: <\x80\x81@x>\r\n\r\n") == "<\x80\x81@x>"
    )  # latin-1: never fails
    assert imap_protocol._message_id(b"\r\n") == ""


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAI_IMAP_HOST", "mail.htk.dk")
    monkeypatch.setenv("KAI_IMAP_PASSWORD", "hemmelig")
    monkeypatch.setenv("KAI_IMAP_TLS", "starttls")
    settings = Settings()
    assert settings.imap_host == "mail.htk.dk" and settings.imap_tls == "starttls"
    assert settings.imap_password is not None and settings.imap_password.get_secret_value() == "hemmelig"
    assert "hemmelig" not in repr(settings)
    assert (settings.imap_port, settings.imap_folder, settings.imap_poll_seconds) == (993, "INBOX", 60.0)
