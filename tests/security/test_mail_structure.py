"""Security issue #11, finding 6: a mail whose MIME structure is broken is never routed on its subject alone.

A boundary declared as ``XYZ`` while the parts use ``B1`` once gave an empty text, no problem, and an
automatic routing on the subject: an urgent mail ("mangler insulin") lost its flag and went to teknik-miljoe.
Now the email package's defects and an empty-text check record a problem, the raw text is read for urgency,
and the mail waits for a person.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from services.common.config import Settings
from services.common.db import open_database
from services.mailsort import store
from services.mailsort.parse import parse_message

HEADERS = (
    b"From: Borger <borger@example.dk>\r\nTo: post@kommune.dk\r\nSubject: Vejen ved Kirkevej\r\n"
    b"Message-ID: <struktur@example.dk>\r\nMIME-Version: 1.0\r\n"
)
URGENT = "Min far mangler insulin, og hjemmeplejen er ikke kommet i dag."
PART = b"Content-Type: text/plain; charset=utf-8\r\n\r\n" + URGENT.encode() + b"\r\n"

WRONG_BOUNDARY = (
    HEADERS + b'Content-Type: multipart/mixed; boundary="XYZ"\r\n\r\n--B1\r\n' + PART + b"--B1--\r\n"
)
NO_BOUNDARY = HEADERS + b"Content-Type: multipart/mixed\r\n\r\n--B1\r\n" + PART + b"--B1--\r\n"
NO_CLOSING_BOUNDARY = HEADERS + b'Content-Type: multipart/mixed; boundary="B1"\r\n\r\n--B1\r\n' + PART
TEXT_AS_NAMELESS_ATTACHMENT = (
    HEADERS + b"Content-Type: text/plain; charset=utf-8\r\nContent-Disposition: attachment\r\n\r\n"
    + URGENT.encode() + b"\r\n"
)  # fmt: skip


def test_a_wrong_boundary_is_a_problem_and_the_raw_text_is_kept() -> None:
    parsed = parse_message(WRONG_BOUNDARY)
    assert not parsed.intact
    assert any("MIME" in problem for problem in parsed.problems)
    assert URGENT in parsed.new_text
    assert parsed.attachments == []  # the unreadable multipart is not an attachment


def test_a_multipart_without_boundary_is_a_problem() -> None:
    parsed = parse_message(NO_BOUNDARY)
    assert not parsed.intact and parsed.problems
    assert URGENT in parsed.new_text


def test_a_missing_closing_boundary_is_noted_but_the_parts_are_read() -> None:
    parsed = parse_message(NO_CLOSING_BOUNDARY)
    assert parsed.intact
    assert parsed.new_text == URGENT
    assert any("afsluttende" in problem for problem in parsed.problems)


def test_a_text_the_structure_hides_is_a_problem_and_read_raw() -> None:
    parsed = parse_message(TEXT_AS_NAMELESS_ATTACHMENT)
    assert not parsed.intact and parsed.problems
    assert URGENT in parsed.new_text


def test_a_broken_urgent_mail_is_flagged_and_left_to_a_person(
    client: TestClient, settings: Settings, bearer: Callable[..., dict[str, str]]
) -> None:
    answer = client.post("/api/mail/route/raw", content=WRONG_BOUNDARY, headers=bearer("staff"))
    assert answer.status_code == 200, answer.text
    routed = answer.json()
    assert routed["urgent"] is True
    assert routed["auto"] is False and routed["status"] == store.MailStatus.REVIEW
    assert routed["final_queue"] is None
    assert any("MIME" in problem for problem in routed["problems"])
    assert len(routed["suggestions"]) == 3  # a person still gets the model's suggestions
    db = open_database(settings.resolved_database_url)
    with db.session() as session:
        stored = store.get_mail(session, routed["id"])
        assert URGENT in stored.text["new_text"]
    db.dispose()
