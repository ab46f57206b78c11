"""Helpers for the browser tests: Chromium launch settings, axe-core checks and screenshots."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

from services.common import auth
from services.common.auth import Role
from services.common.config import Settings
from services.common.db import Database

REPO = Path(__file__).resolve().parents[2]
# Git-ignored; CI keeps the folder as the test run's artefacts.
ARTIFACTS = REPO / "tests" / "artifacts"
# Debian's package (installed by .ci/browser-setup.sh); Playwright's own browser download does not work here.
CHROMIUM = Path("/usr/bin/chromium")
# The machine's network is closed: without these, Chromium's background connections fail noisily.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
BLOCKING_IMPACTS = frozenset({"serious", "critical"})

# The axe-core bundled in the axe-playwright-python wheel (offline; nothing is fetched at run time).
_axe = Axe()


@dataclass(frozen=True)
class LiveServer:
    """A running kai: its base URL, its settings and a handle on its database (to create users and data)."""

    url: str
    settings: Settings
    db: Database


def check_accessibility(page: Page) -> list[dict[str, Any]]:
    """Run axe-core on the page as it is now; its serious and critical violations (empty: a pass)."""
    results = _axe.run(page)
    violations: list[dict[str, Any]] = results.response.get("violations", [])
    return [violation for violation in violations if violation.get("impact") in BLOCKING_IMPACTS]


def describe_violations(violations: list[dict[str, Any]]) -> str:
    """A readable assertion message: rule, impact, help text and the offending elements."""
    lines = []
    for violation in violations:
        targets = ", ".join(str(node.get("target")) for node in violation.get("nodes", []))
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']} -> {targets}")
    return "\n".join(lines)


def save_screenshot(page: Page, name: str) -> Path:
    """Save a full-page PNG of the page under tests/artifacts/ and return its path."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    safe_name = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") or "page"
    path = ARTIFACTS / f"{safe_name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def assert_accessible(page: Page, screenshot: str) -> None:
    """No axe violation on the page as it stands; a screenshot under ``screenshot`` either way."""
    violations = check_accessibility(page)
    save_screenshot(page, screenshot)
    assert not violations, describe_violations(violations)


def new_user(live_server: LiveServer, role: Role) -> tuple[str, str]:
    """A new user and password; a fresh name, as the live server and its database are shared."""
    name, password = f"{role.value}-{secrets.token_hex(4)}", secrets.token_urlsafe(16)
    auth.add_user(live_server.db, name, role)
    auth.set_password(live_server.db, name, password)
    return name, password


def log_in(page: Page, live_server: LiveServer, role: Role, next_url: str = "/") -> str:
    """Log a new user with ``role`` in through the login form and land on ``next_url``; the user's name."""
    name, password = new_user(live_server, role)
    page.goto(f"/login?next={next_url}")
    page.get_by_label("Brugernavn").fill(name)
    page.get_by_label("Adgangskode").fill(password)
    page.get_by_role("button", name="Log ind").click()
    # Generous: argon2 verification and the whole test suite share two cores.
    page.wait_for_url(f"{live_server.url}{next_url}", timeout=30_000)
    return name
