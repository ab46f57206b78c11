"""Request bodies against a real `kai serve`: no byte is read before the caller is known, and no route reads
more than its limit, whether the client declares a length or streams the body chunked."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from kai_cli import KAI, kai_env
from servers import peak_rss_mib, running_kai
from services.common import auth
from services.common.config import Settings
from services.common.db import Database

MB = 1024 * 1024
CHUNK = 64 * 1024
LOGIN_REQUIRED = {"detail": "Log ind, eller send et API-token som 'Authorization: Bearer <token>'."}
# What may reach the server before it answers: its first reads and the sockets' buffers, not the body.
READ_BEFORE_ANSWER = 2 * MB


@dataclass(frozen=True)
class Served:
    url: str
    pid: int


@dataclass(frozen=True)
class Sent:
    response: httpx.Response
    bytes_sent: int  # handed to the socket before the server's answer (at least what the server read)


def _post_chunked(
    served: Served, path: str, megabytes: int, headers: dict[str, str], start: bytes = b""
) -> Sent:
    """POST ``start`` and ``megabytes`` of ``x`` chunked (no Content-Length), 64 KiB at a time, counting what
    was sent."""
    sent = 0

    def body() -> Iterator[bytes]:
        nonlocal sent
        sent += len(start)
        yield start
        block = b"x" * CHUNK
        for _ in range(megabytes * MB // CHUNK):
            sent += len(block)
            yield block

    # A small send buffer, so the count is close to what actually left this process.
    transport = httpx.HTTPTransport(socket_options=[(socket.SOL_SOCKET, socket.SO_SNDBUF, CHUNK)])
    with httpx.Client(base_url=served.url, transport=transport, timeout=120) as client:
        response = client.post(path, content=body(), headers=headers)
    return Sent(response, sent)


def _answer_to_head_only(served: Served, path: str, headers: dict[str, str]) -> bytes:
    """Send only a request's head (its body never comes); the server's answer, or a timeout if it waits."""
    address = urlsplit(served.url)
    head = f"POST {path} HTTP/1.1\r\nHost: {address.netloc}\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in headers.items()) + "\r\n"
    answer = b""
    with socket.create_connection((address.hostname, address.port), timeout=5) as connection:
        connection.sendall(head.encode())
        while block := connection.recv(65536):  # the server closes the connection after its answer
            answer += block
    return answer


@pytest.fixture
def tokens(db: Database) -> dict[str, str]:
    """Bearer headers of a caseworker and an IT clerk (who may list routed mails)."""
    headers = {}
    for name, role in (("mette", auth.Role.SAGSBEHANDLER), ("jens", auth.Role.IT)):
        auth.add_user(db, name, role)
        headers[name] = f"Bearer {auth.create_token(db, name)[1]}"
    return headers


@pytest.fixture
def served(settings: Settings, db: Database, tmp_path: Path) -> Iterator[Served]:
    env = kai_env(settings) | {"KAI_MAIL_MAX_MB": "1", "KAI_MAX_UPLOAD_MB": str(settings.max_upload_mb)}
    with running_kai(KAI, env, tmp_path / "kai.log") as (url, pid):
        yield Served(url, pid)


def test_anonymous_bodies_are_refused_before_a_byte_is_read(served: Served) -> None:
    before = peak_rss_mib(served.pid)
    json_body = _post_chunked(served, "/api/chat/ask", 100, {"Content-Type": "application/json"})
    upload = _post_chunked(
        served, "/api/minutes/meetings", 30, {"Content-Type": "multipart/form-data; boundary=kai-grense"}
    )
    forged = _post_chunked(
        served,
        "/api/mail/route/raw",
        30,
        {"Authorization": "Bearer kai_opdigtet", "Content-Type": "message/rfc822"},
    )
    growth = peak_rss_mib(served.pid) - before
    for sent in (json_body, upload):
        assert sent.response.status_code == 401 and sent.response.json() == LOGIN_REQUIRED
        assert sent.bytes_sent < READ_BEFORE_ANSWER, f"{sent.bytes_sent / MB:.0f} MB sent before the 401"
    assert forged.response.status_code == 401
    assert forged.response.json() == {"detail": "Ugyldigt eller tilbagekaldt API-token."}
    assert forged.bytes_sent < READ_BEFORE_ANSWER
    assert growth < 16, f"peak memory grew by {growth:.0f} MiB"


def test_a_chunked_body_is_cut_off_at_its_routes_limit(served: Served, tokens: dict[str, str]) -> None:
    mail = _post_chunked(
        served,
        "/api/mail/route/raw",
        200,
        {"Authorization": tokens["mette"], "Content-Type": "message/rfc822"},
    )
    assert mail.response.status_code == 413
    assert "1 MB" in mail.response.json()["detail"]
    assert mail.bytes_sent < 1 * MB + READ_BEFORE_ANSWER
    question = _post_chunked(
        served, "/api/chat/ask", 100, {"Authorization": tokens["mette"], "Content-Type": "application/json"}
    )
    assert question.response.status_code == 413 and "1 MB" in question.response.json()["detail"]
    assert question.bytes_sent < 1 * MB + READ_BEFORE_ANSWER
    recording = _post_chunked(
        served,
        "/api/minutes/meetings",
        100,
        {"Authorization": tokens["mette"], "Content-Type": "multipart/form-data; boundary=kai-grense"},
        start=b'--kai-grense\r\nContent-Disposition: form-data; name="file"; filename="lang.wav"\r\n\r\nRIFF',
    )
    assert recording.response.status_code == 413 and "20 MB" in recording.response.json()["detail"]
    assert recording.bytes_sent < 21 * MB + READ_BEFORE_ANSWER
    # Nothing was stored.
    with httpx.Client(base_url=served.url, headers={"Authorization": tokens["jens"]}) as client:
        assert client.get("/api/mail/mails").json() == []
        assert client.get("/api/minutes/meetings").json() == []


def test_a_declared_length_over_the_limit_is_refused_without_waiting_for_the_body(
    served: Served, tokens: dict[str, str]
) -> None:
    for path, megabytes in (("/api/mail/route/raw", 2), ("/api/chat/ask", 2), ("/login", 2)):
        headers = {"Authorization": tokens["mette"], "Content-Length": str(megabytes * MB)}
        answer = _answer_to_head_only(served, path, headers)
        assert answer.startswith(b"HTTP/1.1 413"), (path, answer[:200])
        assert "grænsen på 1 MB".encode() in answer


def test_the_login_form_has_a_limit_too(served: Served) -> None:
    sent = _post_chunked(served, "/login", 50, {"Content-Type": "application/x-www-form-urlencoded"})
    assert sent.response.status_code == 413
    assert sent.bytes_sent < 1 * MB + READ_BEFORE_ANSWER


def test_bodies_within_their_limits_still_arrive(served: Served, tokens: dict[str, str]) -> None:
    mail = b"From: borger@example.dk\r\nTo: post@htk.dk\r\nSubject: Parkering\r\n\r\n" + b"Hej " * 50_000
    with httpx.Client(base_url=served.url, headers={"Authorization": tokens["mette"]}, timeout=60) as client:
        routed = client.post(
            "/api/mail/route/raw", content=iter([mail]), headers={"Content-Type": "message/rfc822"}
        )
        assert routed.status_code == 200, routed.text
