"""Security issue #11, finding 5 (mail fields): a CPR number anywhere in a mail is masked in everything mail
sorting stores or shows: sender, recipient, Message-ID, subject, text, problems, the ledger and the answers.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select

from services.common import auth
from services.common.config import Settings
from services.common.db import open_database
from services.common.ledger import UsageEvent
from services.mailsort import store

CPR = "070761-4285"
DIGITS = CPR.replace("-", "")

MESSAGE_ID = f"<{CPR}.sag@example.dk>"
RAW = (
    f"From: Jens CPR-{DIGITS} <jens@example.dk>\r\n"
    f"To: post+{DIGITS}@kommune.dk\r\n"
    f"Subject: Sag {CPR}\r\n"
    f"Message-ID: {MESSAGE_ID}\r\n"
    f"Date: mandag {CPR}\r\n"
    "MIME-Version: 1.0\r\n"
    f'Content-Type: text/plain; charset="cpr{DIGITS}"\r\n'
    "\r\n"
    f"Hej, mit cpr-nummer er {CPR} og min søns er {DIGITS}; min datters er 070761 4285-. Jeg skal bruge et "
    "nyt sundhedskort.\r\n"
).encode()


def _leaks(text: str) -> bool:
    return "070761" in text or "4285" in text


def test_a_cpr_number_in_any_mail_field_is_masked_in_what_is_stored_and_shown(
    client: TestClient, settings: Settings, bearer: Callable[..., dict[str, str]]
) -> None:
    staff, it = bearer("staff"), bearer("it", auth.Role.IT)
    answer = client.post("/api/mail/route/raw", content=RAW, headers=staff)
    assert answer.status_code == 200, answer.text
    routed = answer.json()
    assert routed["contains_cpr"] is True
    assert routed["problems"]  # the odd charset and date are noted (masked)
    assert not _leaks(answer.text)
    assert "[CPR]" in routed["sender"] and "[CPR]" in routed["mailbox"] and "[CPR]" in routed["subject"]
    for listing in ("/api/mail/mails", "/api/mail/review"):
        assert not _leaks(client.get(listing, headers=it).text)

    db = open_database(settings.resolved_database_url)
    with db.session() as session:
        row = store.get_mail(session, routed["id"])
        stored = json.dumps(
            {column.name: str(getattr(row, column.key)) for column in store.RoutedMail.__mapper__.columns},
            ensure_ascii=False,
        )
        ledger = json.dumps([e.quality for e in session.scalars(select(UsageEvent))], ensure_ascii=False)
    db.dispose()
    assert not _leaks(stored) and not _leaks(ledger)
    assert row.message_id == "<[CPR].sag@example.dk>"
    # No unkeyed digest either: sha256 of a Message-ID or mail is reversed by trying every CPR number.
    for value in (MESSAGE_ID.encode(), RAW, RAW.replace(b"\r\n", b"\n")):
        assert hashlib.sha256(value).hexdigest() not in stored
