"""The pages and the API docs work under the strict Content Security Policy and load nothing from afar."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from browser import LiveServer, log_in
from services.common.auth import Role


def _watch(page: Page, live_server: LiveServer) -> tuple[list[str], list[str]]:
    """The console's CSP refusals, and every URL the page asked for that is not this server's."""
    refusals: list[str] = []
    foreign: list[str] = []
    page.on("console", lambda m: refusals.append(m.text) if "Content Security Policy" in m.text else None)
    page.on(
        "request",
        lambda r: None if r.url.startswith((live_server.url, "data:")) else foreign.append(r.url),
    )
    return refusals, foreign


def test_every_page_runs_under_the_policy(page: Page, live_server: LiveServer) -> None:
    refusals, foreign = _watch(page, live_server)
    log_in(page, live_server, Role.ADMIN)
    for path, heading in (
        ("/referat", "Referat"),
        ("/vejledning", "Spørg vejledningen"),
        ("/post", "Postsortering"),
        ("/gevinster", "Gevinster"),
    ):
        page.goto(path)
        page.wait_for_load_state("networkidle")
        expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
    assert refusals == [] and foreign == []


def test_api_docs_render_from_this_server(page: Page, live_server: LiveServer) -> None:
    refusals, foreign = _watch(page, live_server)
    page.goto("/docs")
    expect(page.locator(".opblock-summary-path", has_text="/api/chat/ask")).to_be_visible(timeout=30_000)
    assert refusals == [] and foreign == []
