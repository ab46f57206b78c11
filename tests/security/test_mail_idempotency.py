"""Security issue #11, finding 7: routing the same mail again returns the stored routing, whoever retries.

The API (``route`` and ``route/raw``) and ``kai mailsort route`` once stored a mail again on every retry: the
same Message-ID four times gave four rows and four ledger rows. A mail is now the same mail by its Message-ID,
else by its content; the key is unique in the database, so concurrent retries cannot both insert.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from kai_cli import run_kai
from services.common.config import Settings
from services.common.db import Database, open_database
from services.common.ledger import UsageEvent
from services.mailsort import service, store


def _raw(message_id: str | None = "<gentaget@example.dk>", *, relay: str = "") -> bytes:
    msg = EmailMessage()
    if relay:
        msg["Received"] = f"from {relay} by mx.kommune.dk"
    msg["From"] = "Borger <borger@example.dk>"
    msg["To"] = "it@kommune.dk"
    msg["Subject"] = "Nyt password"
    if message_id:
        msg["Message-ID"] = message_id
    msg.set_content("Jeg er låst ude af min pc efter ferien og skal have nulstillet mit password.")
    return bytes(msg)


Bearer = Callable[..., dict[str, str]]
FIELDS = {
    "from": "Bo <bo@example.dk>",
    "to": "post@kommune.dk",
    "subject": "Storskrald",
    "body": "Hvornår bliver der hentet storskrald på Kirkevej?\nJeg har et gammelt køleskab.",
}


def _counts(settings: Settings) -> tuple[int, int]:
    """Stored mails and routing ledger rows."""
    db = open_database(settings.resolved_database_url)
    with db.session() as session:
        mails = session.scalar(select(func.count()).select_from(store.RoutedMail))
        routings = session.scalar(
            select(func.count()).where(UsageEvent.service == "mailsort", UsageEvent.task == "route")
        )
    db.dispose()
    return mails or 0, routings or 0


def test_the_same_raw_mail_is_stored_once_whoever_retries(
    client: TestClient, settings: Settings, bearer: Bearer
) -> None:
    first_user, second_user = bearer("first"), bearer("second")
    answers = [
        client.post("/api/mail/route/raw", content=_raw(), headers=first_user),
        client.post("/api/mail/route/raw", content=_raw(), headers=first_user),
        client.post("/api/mail/route/raw", content=_raw(relay="relay2.example.dk"), headers=first_user),
        client.post("/api/mail/route/raw", content=_raw(), headers=second_user),  # the mailbox is shared
    ]
    assert [a.status_code for a in answers] == [200] * 4, answers[-1].text
    assert all(a.json() == answers[0].json() for a in answers)
    assert _counts(settings) == (1, 1)


def test_a_mail_without_message_id_is_the_same_mail_by_its_content(
    client: TestClient, settings: Settings, bearer: Bearer
) -> None:
    staff = bearer("staff")
    first = client.post("/api/mail/route/raw", content=_raw(None), headers=staff).json()
    crlf = _raw(None).replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")  # as another client sends it
    again = client.post("/api/mail/route/raw", content=crlf, headers=staff).json()
    other = client.post(
        "/api/mail/route/raw", content=_raw(None).replace(b"ferien", b"weekenden"), headers=staff
    )
    assert again["id"] == first["id"]
    assert other.json()["id"] != first["id"]
    assert _counts(settings) == (2, 2)


def test_the_same_fields_are_stored_once(client: TestClient, settings: Settings, bearer: Bearer) -> None:
    staff = bearer("staff")
    first = client.post("/api/mail/route", json=FIELDS, headers=staff)
    windows = {**FIELDS, "body": FIELDS["body"].replace("\n", "\r\n"), "from": " Bo  <bo@example.dk>"}
    again = client.post("/api/mail/route", json=windows, headers=staff)
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert _counts(settings) == (1, 1)


def test_cli_and_api_retries_of_one_mail_are_one_routing(
    client: TestClient, settings: Settings, bearer: Bearer, tmp_path: Path
) -> None:
    eml = tmp_path / "password.eml"
    eml.write_bytes(_raw())
    printed = []
    for _ in range(2):
        routed = run_kai(settings, "mailsort", "route", str(eml), "--json")
        assert routed.returncode == 0, routed.stderr
        printed.append(json.loads(routed.stdout))
    assert printed[0] == printed[1]
    staff = bearer("staff")
    assert (
        client.post("/api/mail/route/raw", content=_raw(), headers=staff).json()["queue"]
        == printed[0]["queue"]
    )
    assert _counts(settings) == (1, 1)


def test_concurrent_retries_store_one_mail(db: Database, settings: Settings) -> None:
    service.active_router(db, settings)  # the first model is trained once, before the race
    start = threading.Barrier(6)
    ids: list[str] = []
    errors: list[BaseException] = []

    def route() -> None:
        start.wait()
        try:
            ids.append(service.route_raw(db, settings, _raw("<samtidig@example.dk>")).mail.id)
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=route) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(ids) == 6 and len(set(ids)) == 1
    assert _counts(settings) == (1, 1)
