"""The IMAP protocol as the watcher uses it: checked settings, a TLS connection and login, and the few
commands it sends (EXAMINE, UID SEARCH, UID FETCH with BODY.PEEK, so no flag ever changes)."""

from __future__ import annotations

import base64
import contextlib
import imaplib
import ipaddress
import re
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import groupby
from typing import Any

from services.common.charsets import decode_unknown
from services.common.config import Settings
from services.common.errors import ConfigurationError, KaiError


class ImapError(KaiError):
    """The IMAP server refused something (folder missing, FETCH answered NO)."""

    status_code = 502


@dataclass(frozen=True)
class Header:
    """What one FETCH of a mail's header told: its UID, size and Message-ID."""

    uid: int
    size: int
    message_id: str


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


def fetch_headers(conn: imaplib.IMAP4, uids: list[int]) -> dict[int, Header]:
    """Size and Message-ID of each UID still in the folder (a mail expunged meanwhile is simply absent)."""
    uid_set = ",".join(str(uid) for uid in uids)
    data = _ok(
        *conn.uid("FETCH", uid_set, "(UID RFC822.SIZE BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])"), "FETCH"
    )
    headers = {}
    for text, literal in _fetch_parts(data):
        uid, size = _UID.search(text), _SIZE.search(text)
        if uid:
            header = Header(int(uid.group(1)), int(size.group(1)) if size else 0, _message_id(literal))
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
