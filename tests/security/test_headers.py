"""Security headers on every answer, a strict CSP for pages, and API docs served without the internet."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from services.app import create_app
from services.common import auth
from services.common.config import Settings
from services.common.db import Database

TEMPLATES = Path(__file__).resolve().parents[2] / "services" / "web" / "templates"
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'self'; frame-ancestors 'none'; form-action 'self'"
)
EVERY_ANSWER = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}


@pytest.fixture
def token(db: Database) -> str:
    auth.add_user(db, "mette", auth.Role.SAGSBEHANDLER)
    return f"Bearer {auth.create_token(db, 'mette')[1]}"


@pytest.fixture
def browser_client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as client:
        yield client


def test_every_answer_carries_the_security_headers(browser_client: TestClient, token: str) -> None:
    client = browser_client
    answers = {
        "page": client.get("/login"),
        "static": client.get("/static/kai.css"),
        "liveness": client.get("/healthz"),
        "unknown": client.get("/findes-ikke"),
        "api": client.get("/api/minutes/meetings", headers={"Authorization": token}),
        "api, anonymous": client.get("/api/minutes/meetings"),
        "api, refused body": client.post("/api/chat/ask", json={"question": "Hvad er en handleplan?"}),
    }
    assert [answers["api"].status_code, answers["api, refused body"].status_code] == [200, 401]
    for name, answer in answers.items():
        for header, value in EVERY_ANSWER.items():
            assert answer.headers.get(header) == value, (name, header)
        # API answers hold personal data: never kept by a browser or a proxy.
        expected_cache = "no-store" if name.startswith("api") else answer.headers.get("cache-control")
        assert answer.headers.get("cache-control") == expected_cache, name


def test_pages_have_a_strict_content_security_policy(browser_client: TestClient) -> None:
    login = browser_client.get("/login")
    assert login.headers["content-security-policy"] == PAGE_CSP
    assert "content-security-policy" not in browser_client.get("/healthz").headers


@pytest.mark.parametrize("template", sorted(p.name for p in TEMPLATES.glob("*.html")))
def test_templates_have_no_inline_code_the_policy_would_block(template: str) -> None:
    html = (TEMPLATES / template).read_text(encoding="utf-8")
    scripts = re.findall(r"<script\b([^>]*)>", html)
    assert all("src=" in attrs or 'type="application/json"' in attrs for attrs in scripts), scripts
    assert "<style" not in html
    assert not re.search(r"\sstyle\s*=", html)
    assert not re.search(r"\son[a-z]+\s*=", html)


def test_api_docs_come_from_this_server(browser_client: TestClient) -> None:
    docs = browser_client.get("/docs")
    assert docs.status_code == 200
    html = docs.text
    assert "http://" not in html.replace("http://testserver", "") and "https://" not in html
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert len(assets) >= 3  # the script, the style sheet, the icon
    for asset in assets:
        assert asset.startswith("/"), asset
        assert browser_client.get(asset).status_code == 200, asset
    # The one inline script (Swagger UI's start) is allowed by its hash, nothing else.
    inline = re.findall(r"<script>(.*?)</script>", html, flags=re.DOTALL)
    assert len(inline) == 1
    digest = base64.b64encode(hashlib.sha256(inline[0].encode()).digest()).decode()
    policy = docs.headers["content-security-policy"]
    assert f"script-src 'self' 'sha256-{digest}';" in policy
    assert "unsafe" not in policy
    # ReDoc needs inline styles and web workers from blob: URLs; it is off.
    assert browser_client.get("/redoc").status_code == 404
    assert browser_client.get("/openapi.json").status_code == 200


def test_api_docs_can_be_turned_off(settings: Settings) -> None:
    with TestClient(create_app(settings.model_copy(update={"api_docs": False}))) as client:
        for path in ("/docs", "/redoc", "/openapi.json"):
            assert client.get(path).status_code == 404, path
