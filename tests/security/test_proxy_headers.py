"""`kai serve` believes X-Forwarded-* headers only when KAI_TRUST_PROXY_HEADERS says a TLS proxy is there."""

from __future__ import annotations

from pathlib import Path

import httpx

from kai_cli import KAI, kai_env
from servers import running_kai
from services.common.config import Settings

FORWARDED = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}


def _login_cookie(env: dict[str, str], log: Path) -> str:
    """The login form's cookie from a real server, asked through a would-be proxy on loopback."""
    with running_kai(KAI, env, log) as (url, _):
        return httpx.get(f"{url}/login", headers=FORWARDED).headers["set-cookie"].lower()


def test_forwarded_proto_from_loopback_is_ignored_unless_trusted(settings: Settings, tmp_path: Path) -> None:
    # Anyone on the machine (or a proxy that passes the header on) could otherwise claim https.
    assert "secure" not in _login_cookie(kai_env(settings), tmp_path / "untrusted.log")
    trusted = kai_env(settings) | {"KAI_TRUST_PROXY_HEADERS": "true"}
    assert "secure" in _login_cookie(trusted, tmp_path / "trusted.log")
