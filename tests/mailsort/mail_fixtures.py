"""Mails as mail programs write them, built with the standard library's ``email`` package (and extract-msg's
OLE writer for Outlook .msg files), so tests exercise real MIME structure rather than hand-typed bytes."""

from __future__ import annotations

import io
import json
import mailbox
import struct
from collections.abc import Iterable
from email import policy
from email.message import EmailMessage
from pathlib import Path

from extract_msg.ole_writer import OleWriter

from services.mailsort.readers import read_labelled
from services.mailsort.types import LabelledMail

# The Danish dev mail (routing and urgency are tuned on it; the held-out set is the benchmark's).
DEV_MAILS = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "mail_da" / "dev.jsonl"

SENDER = "Kim Rask <kim.rask@example.dk>"
TO = "post@kommune.dk"
DATE = "Tue, 04 Mar 2025 10:12:00 +0100"


def mail(
    body: str | None = "Hej\n\nSkolebussen kom ikke i dag.\n\nMvh Kim",
    *,
    subject: str = "Skolebussen",
    sender: str = SENDER,
    to: str = TO,
    date: str | None = DATE,
    charset: str = "utf-8",
    cte: str | None = None,
    message_id: str = "<1@example.dk>",
) -> EmailMessage:
    """A text/plain mail (``body=None``: headers only, as a subject-only mail)."""
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    if date is not None:
        msg["Date"] = date
    msg["Message-ID"] = message_id
    if body is not None:
        msg.set_content(body, charset=charset, cte=cte)
    return msg


def html_only(html: str, **headers: str) -> EmailMessage:
    """A mail with only an HTML body, as many web forms and newsletters send."""
    msg = mail(None, **headers)
    msg.set_content(html, subtype="html", charset="utf-8", cte="quoted-printable")
    return msg


def alternative(plain: str, html: str, **headers: str) -> EmailMessage:
    """multipart/alternative with a plain and an HTML version, as Outlook and Gmail send."""
    msg = mail(plain, **headers)
    msg.add_alternative(html, subtype="html")
    return msg


def relabel_charset(msg: EmailMessage, label: str) -> EmailMessage:
    """The same bytes under another charset label: what a misconfigured mail program sends."""
    msg.set_param("charset", label)
    return msg


def attach(msg: EmailMessage, data: bytes, filename: str, mime: str = "application/pdf") -> EmailMessage:
    maintype, subtype = mime.split("/")
    msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return msg


def to_bytes(msg: EmailMessage) -> bytes:
    return msg.as_bytes(policy=policy.SMTP)


def write_eml(path: Path, msg: EmailMessage) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(to_bytes(msg))
    return path


def write_mbox(path: Path, messages: Iterable[EmailMessage | bytes]) -> Path:
    """An mbox as mail programs export it (mailbox writes the "From " lines and escapes body lines)."""
    box = mailbox.mbox(path)
    try:
        for msg in messages:
            box.add(msg)
        box.flush()
    finally:
        box.close()
    return path


# --- Outlook .msg -------------------------------------------------------------------------------------------


def _utf16(text: str) -> bytes:
    return text.encode("utf-16-le")


def _property(tag: int, value: int) -> bytes:
    """One fixed-size MAPI property entry: tag, flags (readable, writable), 8 value bytes."""
    return struct.pack("<IIi4x", tag, 6, value)


def outlook_msg(
    *,
    subject: str = "Skolebussen",
    body: str = "Hej\r\n\r\nSkolebussen kom ikke i dag.\r\n\r\nMvh Kim",
    sender: str = SENDER,
    to: str = TO,
    attachments: tuple[tuple[str, str, bytes], ...] = (),
) -> bytes:
    """A minimal Outlook .msg (OLE compound file) with the streams extract-msg reads: message class, subject,
    plain body, transport headers (sender, date, Message-ID) and attachments as (name, mime, data)."""
    writer = OleWriter()
    header = bytes(8) + struct.pack("<IIII", 0, len(attachments), 0, len(attachments)) + bytes(8)
    writer.addEntry("__properties_version1.0", header + _property(0x0E070003, 0))  # message flags: sent
    writer.addEntry("__substg1.0_001A001F", _utf16("IPM.Note"))
    writer.addEntry("__substg1.0_0037001F", _utf16(subject))
    writer.addEntry("__substg1.0_1000001F", _utf16(body))
    writer.addEntry("__substg1.0_0E04001F", _utf16(to))
    transport = f"From: {sender}\r\nTo: {to}\r\nDate: {DATE}\r\nMessage-ID: <msg-1@example.dk>\r\n\r\n"
    writer.addEntry("__substg1.0_007D001F", _utf16(transport))
    for stream in ("00020102", "00030102", "00040102"):  # empty named-property map
        writer.addEntry(f"__nameid_version1.0/__substg1.0_{stream}", b"")
    for number, (name, mime, data) in enumerate(attachments):
        folder = f"__attach_version1.0_#{number:08X}/"
        writer.addEntry(folder + "__properties_version1.0", bytes(8) + _property(0x37050003, 1))  # by value
        writer.addEntry(folder + "__substg1.0_3707001F", _utf16(name))
        writer.addEntry(folder + "__substg1.0_3001001F", _utf16(name))
        writer.addEntry(folder + "__substg1.0_370E001F", _utf16(mime))
        writer.addEntry(folder + "__substg1.0_37010102", data)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def write_msg(path: Path, **fields: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(outlook_msg(**fields))  # type: ignore[arg-type]
    return path


def dev_mails() -> list[LabelledMail]:
    """The dev mails through kai's own reader, with their queues."""
    return list(read_labelled(DEV_MAILS))


def dev_urgent_flags() -> list[tuple[LabelledMail, bool]]:
    """Each dev mail with the file's ``urgent`` flag, which the reader does not keep."""
    with DEV_MAILS.open(encoding="utf-8") as handle:
        rows = (json.loads(line) for line in handle if line.strip())
        urgent = {row["id"]: bool(row.get("urgent")) for row in rows}
    return [(mail, urgent[mail.source_id]) for mail in dev_mails()]
