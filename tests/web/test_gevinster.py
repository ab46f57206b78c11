"""The Gevinster page: management sees targets vs savings (table, chart, report links); others get 403."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from browser import (
    LiveServer,
    assert_accessible,
    log_in,
)
from evaluation.simulate import simulate_year
from services.common.auth import Role


@pytest.fixture(scope="module")
def simulated_data(live_server: LiveServer) -> None:
    simulate_year(live_server.db, 2026, scale=0.02)


@pytest.mark.usefixtures("simulated_data")
def test_management_sees_simulated_savings(page: Page, live_server: LiveServer) -> None:
    log_in(page, live_server, Role.LEDELSE)
    nav = page.get_by_role("navigation", name="Hovedmenu")
    expect(nav.get_by_role("link", name="Gevinster")).to_be_visible()
    page.goto("/gevinster?simulated=1")
    expect(page).to_have_title(re.compile("Gevinster"))
    expect(page.get_by_role("heading", name="Gevinster", level=1)).to_be_visible()
    expect(page.get_by_text("SIMULEREDE DATA", exact=True)).to_be_visible()
    rows = page.locator("table.savings tbody tr")
    expect(rows).to_have_count(4)
    expect(page.locator("table.savings")).to_contain_text("2026")
    chart = page.locator("figure.chart svg[role='img']")
    expect(chart).to_be_visible()
    assert chart.get_attribute("aria-label")
    expect(page.get_by_role("link", name=re.compile("Excel"))).to_have_attribute(
        "href", "/gevinster/rapport.xlsx?simulated=1"
    )
    assert_accessible(page, "gevinster")


@pytest.mark.usefixtures("simulated_data")
def test_report_downloads(page: Page, live_server: LiveServer) -> None:
    log_in(page, live_server, Role.ADMIN)
    html = page.request.get("/gevinster/rapport.html?simulated=1")
    assert html.status == 200
    assert "SIMULEREDE DATA" in html.text()
    xlsx = page.request.get("/gevinster/rapport.xlsx?simulated=1")
    assert xlsx.status == 200
    assert xlsx.body()[:2] == b"PK"  # a zip container, as every .xlsx


@pytest.mark.parametrize("role", [Role.MEDARBEJDER, Role.SAGSBEHANDLER, Role.IT])
def test_staff_are_forbidden(page: Page, live_server: LiveServer, role: Role) -> None:
    log_in(page, live_server, role)
    expect(page.get_by_role("link", name="Gevinster")).to_have_count(0)
    expect(page.get_by_role("link", name="Spørg vejledningen").first).to_be_visible()
    response = page.goto("/gevinster")
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", name="Adgang nægtet")).to_be_visible()
    assert page.request.get("/gevinster/rapport.xlsx").status == 403


def test_anonymous_is_sent_to_login(page: Page, live_server: LiveServer) -> None:
    page.goto("/gevinster")
    page.wait_for_url(f"{live_server.url}/login?next=/gevinster")
    expect(page.get_by_role("heading", name="Log ind")).to_be_visible()
