"""Smoke test of the browser-test setup: the login page renders, passes axe-core and works by keyboard."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from browser import (
    LiveServer,
    assert_accessible,
    new_user,
)
from services.common.auth import Role


def test_login_page_is_accessible(page: Page) -> None:
    page.goto("/login")
    expect(page).to_have_title(re.compile("Log ind"))
    expect(page.get_by_role("heading", name="Log ind")).to_be_visible()
    assert_accessible(page, "login")


def test_login_with_keyboard_only(page: Page, live_server: LiveServer) -> None:
    name, password = new_user(live_server, Role.MEDARBEJDER)
    page.goto("/login")
    # The user-name field has autofocus (Chromium applies it after load: wait, or the first keys are lost);
    # Tab leads to the password and Enter submits the form.
    expect(page.get_by_label("Brugernavn")).to_be_focused()
    page.keyboard.type(name)
    expect(page.get_by_label("Brugernavn")).to_have_value(name)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Adgangskode")).to_be_focused()
    page.keyboard.type(password)
    expect(page.get_by_label("Adgangskode")).to_have_value(password)
    page.keyboard.press("Enter")
    # Generous: argon2 verification and the whole test suite share two cores.
    page.wait_for_url(f"{live_server.url}/", timeout=30_000)
    assert_accessible(page, "front-page")


def test_failed_login_shows_accessible_error(page: Page, live_server: LiveServer) -> None:
    name, _ = new_user(live_server, Role.MEDARBEJDER)
    page.goto("/login")
    page.get_by_label("Brugernavn").fill(name)
    page.get_by_label("Adgangskode").fill("forkert-adgangskode")
    page.get_by_role("button", name="Log ind").click()
    expect(page.get_by_role("alert")).to_be_visible()
    assert_accessible(page, "login-failed")
