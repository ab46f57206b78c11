"""The report: self-contained Danish HTML with inline SVG, and an XLSX whose numbers equal the savings."""

from __future__ import annotations

from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from openpyxl import load_workbook

from evaluation.report import SIMULATED_MARK, danish_number, write_report
from evaluation.savings import compute_savings
from evaluation.simulate import simulate_year
from services.common.db import Database, open_database
from services.common.ledger import UsageEvent


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.external: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("src", "href") and value and not value.startswith(("#", "url(#")):
                self.external.append(value)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = open_database(f"sqlite:///{tmp_path}/t.db")
    yield database
    database.dispose()


def test_simulated_report_renders_and_is_marked(db: Database, tmp_path: Path) -> None:
    simulate_year(db, 2026, seed=2, scale=0.03)
    html_path, xlsx_path = write_report(db, tmp_path / "out", simulated=True)

    html = html_path.read_text(encoding="utf-8")
    parser = _Collector()
    parser.feed(html)
    parser.close()
    assert parser.tags.count("svg") == 3
    assert "script" not in parser.tags and parser.external == []
    assert html.count(SIMULATED_MARK) >= 7  # title, banner and every section
    assert "Hvilke opgaver tiden frigøres fra" in html and "nedlagte stillinger" in html.lower()
    assert "<td>2026</td>" in html.replace(' class="num"', "") or ">2026<" in html
    assert "2.026" not in html  # a year is a label, never written with a thousands separator

    book = load_workbook(xlsx_path)
    for sheet in book.worksheets:
        assert SIMULATED_MARK in str(sheet["A1"].value) and sheet["A2"].value == SIMULATED_MARK


def test_xlsx_numbers_equal_the_savings_figures(db: Database, tmp_path: Path) -> None:
    simulate_year(db, 2026, seed=2, scale=0.03)
    _, xlsx_path = write_report(db, tmp_path / "out", simulated=True)
    report = compute_savings(db, simulated=True)  # same seed as the report: identical intervals

    budget = load_workbook(xlsx_path)["Budget"]
    headers = [c.value for c in budget[3]]
    rows = list(budget.iter_rows(min_row=4, max_row=3 + len(report.years), values_only=True))
    col = {name: headers.index(name) for name in headers}
    for row, year in zip(rows, report.years, strict=True):
        assert row[col["År"]] == year.year
        assert isinstance(row[col["Frigjort tid (kr.)"]], float)
        assert row[col["Frigjort tid (kr.)"]] == pytest.approx(year.saved_dkk)
        assert row[col["Nedre 95 % (kr.)"]] == pytest.approx(year.saved_dkk_low)
        assert row[col["Mål, effektivisering (kr.)"]] == year.target_dkk
        assert row[col["Frigjort tid (årsværk)"]] == pytest.approx(year.saved_fte)
        assert row[col["Netto: frigjort − investering (kr.)"]] == pytest.approx(year.net_dkk)

    tasks = load_workbook(xlsx_path)["Opgaver"]
    saved = [r[6] for r in tasks.iter_rows(min_row=4, max_row=3 + len(report.tasks), values_only=True)]
    assert saved == pytest.approx([t.saved_minutes for t in report.tasks])


def test_measured_report_has_no_simulation_mark(db: Database, tmp_path: Path) -> None:
    simulate_year(db, 2026, scale=0.01)
    with db.session() as session:
        session.add(UsageEvent(service="mailsort", task="route", outcome="auto", reference="real-1"))
    html_path, xlsx_path = write_report(db, tmp_path / "out")
    assert SIMULATED_MARK not in html_path.read_text(encoding="utf-8")
    ledger = load_workbook(xlsx_path)["Forbrugslog"]
    data = list(ledger.iter_rows(min_row=4, values_only=True))
    assert data[0][:4] == ("mailsort", "route", "auto", 1)  # only the one measured row


def test_empty_ledger_still_renders(db: Database, tmp_path: Path) -> None:
    html_path, xlsx_path = write_report(db, tmp_path / "out")
    assert "<svg" in html_path.read_text(encoding="utf-8") and xlsx_path.exists()


def test_danish_number_format() -> None:
    assert danish_number(1234567.891, "dkk") == "1.234.568"
    assert danish_number(1.5, "fte") == "1,50"
    assert danish_number(None) == "" and danish_number("tekst", "text") == "tekst"
