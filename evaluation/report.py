"""The savings report: a self-contained Danish HTML page with inline SVG charts, and the same tables as XLSX.

Both files are built from one list of tables (``report_tables``), so the spreadsheet and the page cannot
disagree. Simulated data is marked "SIMULEREDE DATA" in the page's banner, every section and every sheet.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from evaluation.budget import SOURCE as BUDGET_SOURCE
from evaluation.savings import CATEGORIES, MEASURED, SERVICE_LABELS, SERVICES, SavingsReport, compute_savings
from services.common.danish import danish_date
from services.common.db import Database
from services.common.ledger import Service

TEMPLATES = Path(__file__).with_name("templates")
SIMULATED_MARK = "SIMULEREDE DATA"
COLORS = {Service.MINUTES: "#1f6f8b", Service.CHATBOT: "#e07a1f", Service.MAILSORT: "#4a8f3c"}
# Excel number formats per column kind; the HTML uses the same kinds with Danish separators.
XLSX_FORMATS = {
    "year": "0",  # a year is a label, not an amount: no thousands separator
    "int": "#,##0",
    "dkk": "#,##0",
    "min": "#,##0.0",
    "hours": "#,##0.0",
    "fte": "0.00",
    "num": "0.00",
}


@dataclass(frozen=True)
class Table:
    key: str  # sheet name (≤ 31 chars) and HTML anchor
    title: str
    headers: Sequence[str]
    kinds: Sequence[str]  # per column: text | year | int | dkk | min | hours | fte | num
    rows: Sequence[Sequence[Any]]
    intro: str = ""


# --- numbers the Danish way ---------------------------------------------------------------------------------


def danish_number(value: Any, kind: str = "num") -> str:
    if value is None or isinstance(value, str):
        return "" if value is None else value
    if kind == "year":
        return str(int(value))
    decimals = {"int": 0, "dkk": 0, "min": 0, "hours": 1, "fte": 2, "num": 2}.get(kind, 2)
    text = f"{float(value):,.{decimals}f}"
    # Swap separators: 1,234.5 → 1.234,5
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


# --- tables -------------------------------------------------------------------------------------------------


def _budget_table(r: SavingsReport) -> Table:
    rows = [
        [
            y.year,
            y.basis,
            y.target_dkk,
            y.saved_dkk,
            y.saved_dkk_low,
            y.saved_dkk_high,
            y.target_fte,
            y.saved_fte,
            y.saved_fte_low,
            y.saved_fte_high,
            y.saved_hours,
            y.investment_dkk,
            y.net_dkk,
            y.gap_dkk,
            y.gap_fte,
        ]
        for y in r.years
    ]
    return Table(
        "Budget",
        "Budgettet år for år: mål mod frigjort tid",
        [
            "År",
            "Grundlag",
            "Mål, effektivisering (kr.)",
            "Frigjort tid (kr.)",
            "Nedre 95 % (kr.)",
            "Øvre 95 % (kr.)",
            "Nedlagte stillinger i budgettet (årsværk)",
            "Frigjort tid (årsværk)",
            "Nedre 95 % (årsværk)",
            "Øvre 95 % (årsværk)",
            "Frigjort tid (timer)",
            "Investering (kr.)",
            "Netto: frigjort − investering (kr.)",
            "Mangler til mål (kr.)",
            "Mangler til mål (årsværk)",
        ],
        [
            "year",
            "text",
            "dkk",
            "dkk",
            "dkk",
            "dkk",
            "num",
            "fte",
            "fte",
            "fte",
            "hours",
            "dkk",
            "dkk",
            "dkk",
            "fte",
        ],
        rows,
        "Frigjort tid er tid frigjort fra opgaver og omregnet til årsværk og kroner. Budgettets nedlagte "
        f"stillinger er en politisk beslutning, ikke en måling. Kilde til mål: {BUDGET_SOURCE}.",
    )


def _task_table(r: SavingsReport) -> Table:
    rows = [
        [
            SERVICE_LABELS[t.service],
            t.label,
            t.units,
            t.measured_units,
            t.manual_minutes,
            t.kai_minutes,
            t.saved_minutes,
            t.saved_low,
            t.saved_high,
            t.saved_minutes / 60,
            t.baseline_note,
        ]
        for t in r.tasks
    ]
    return Table(
        "Opgaver",
        "Hvilke opgaver tiden frigøres fra (hele perioden)",
        [
            "Tjeneste",
            "Opgave",
            "Enheder",
            "Heraf med målt tid",
            "Manuel tid (min.)",
            "Tid med kai (min.)",
            "Sparet (min.)",
            "Nedre 95 % (min.)",
            "Øvre 95 % (min.)",
            "Sparet (timer)",
            "Beregning",
        ],
        ["text", "text", "int", "int", "min", "min", "min", "min", "min", "hours", "text"],
        rows,
        "Pr. opgave i forbrugsloggen: antal enheder (møder, spørgsmål, mails), den manuelle baseline, tiden "
        "med kai og forskellen. Negative minutter er tid, kai har kostet (fejlsorteret post).",
    )


def _month_table(r: SavingsReport) -> Table:
    rows = [
        [m.month, SERVICE_LABELS[m.service], m.units, m.saved_minutes, m.saved_minutes / 60] for m in r.months
    ]
    return Table(
        "Måneder",
        "Sparet tid pr. tjeneste pr. måned (målt periode)",
        ["Måned", "Tjeneste", "Enheder", "Sparet (min.)", "Sparet (timer)"],
        ["text", "text", "int", "min", "hours"],
        rows,
    )


def _service_year_table(r: SavingsReport) -> Table:
    rows = [
        [
            s.year,
            SERVICE_LABELS[s.service],
            s.basis,
            s.units,
            s.period_minutes,
            s.covered_days,
            s.factor,
            s.annual_minutes,
            s.annual_low,
            s.annual_high,
            r.minutes_to_fte(s.annual_minutes),
            s.note,
        ]
        for s in r.service_years
    ]
    return Table(
        "Tjenester pr. år",
        "Tjenester pr. budgetår: målt og opregnet, eller fremskrevet",
        [
            "År",
            "Tjeneste",
            "Grundlag",
            "Enheder",
            "Sparet i måleperioden (min.)",
            "Dækkede dage",
            "Opregningsfaktor",
            "Helårs sparet (min.)",
            "Nedre 95 % (min.)",
            "Øvre 95 % (min.)",
            "Årsværk",
            "Forklaring",
        ],
        ["year", "text", "text", "int", "min", "int", "num", "min", "min", "min", "fte", "text"],
        rows,
        "Målt: summen af besparelser i året × (dage i året / dage fra første til sidste registrering). "
        "Fremskrevet: scenariets antal × gennemsnitlig besparelse pr. målt enhed.",
    )


def _ledger_table(r: SavingsReport) -> Table:
    rows = [[c.service, c.task, c.outcome, c.rows, c.volume, c.volume_unit] for c in r.ledger_counts]
    return Table(
        "Forbrugslog",
        "Forbrugsloggens rækker (grundlaget for alle tal)",
        ["Tjeneste", "Opgave (task)", "Udfald (outcome)", "Rækker", "Mængde (volume)", "Enhed"],
        ["text", "text", "text", "int", "num", "text"],
        rows,
        "Rækker i usage_events, " + ("kun simulerede." if r.simulated else "kun målte (simulated = falsk)."),
    )


def _baseline_table(r: SavingsReport) -> Table:
    kinds = {"measured": "målt", "assumed": "antaget"}
    rows = [[b.name, b.value, b.unit, kinds[b.kind], b.source] for b in r.baselines.values.values()]
    return Table(
        "Baselines",
        "Baselines og deres kilder",
        ["Navn", "Værdi", "Enhed", "Art", "Kilde"],
        ["text", "num", "text", "text", "text"],
        rows,
        f"Fra {r.baselines.path.name}. Målinger i forbrugsloggen (review_seconds, manual_minutes) går forud.",
    )


def _scenario_table(r: SavingsReport) -> Table:
    rows = [[s.year, s.meetings, s.questions, s.mails] for _, s in sorted(r.baselines.scenarios.items())]
    return Table(
        "Scenarier",
        "Udbredelsesscenarier (bruges kun til fremskrevne år)",
        ["År", "Møder", "Spørgsmål", "Mails"],
        ["year", "int", "int", "int"],
        rows,
        r.baselines.scenario_source,
    )


def report_tables(report: SavingsReport) -> list[Table]:
    return [
        _budget_table(report),
        _task_table(report),
        _service_year_table(report),
        _month_table(report),
        _ledger_table(report),
        _baseline_table(report),
        _scenario_table(report),
    ]


# --- inline SVG charts --------------------------------------------------------------------------------------

W, H, PAD_L, PAD_R, PAD_T, PAD_B = 720, 300, 80, 20, 20, 50


def _scale(lo: float, hi: float, out_lo: float, out_hi: float) -> Callable[[float], float]:
    span = (hi - lo) or 1.0
    return lambda v: out_lo + (v - lo) / span * (out_hi - out_lo)


def _axis(y: Callable[[float], float], lo: float, hi: float, unit: str) -> list[str]:
    parts = []
    for i in range(5):
        value = lo + (hi - lo) * i / 4
        py = y(value)
        parts.append(f'<line x1="{PAD_L}" x2="{W - PAD_R}" y1="{py:.1f}" y2="{py:.1f}" stroke="#ddd"/>')
        parts.append(
            f'<text x="{PAD_L - 6}" y="{py + 4:.1f}" text-anchor="end" font-size="11">'
            f"{escape(danish_number(value, 'int'))} {unit}</text>"
        )
    return parts


def _svg(parts: list[str], label: str) -> Markup:
    body = "".join(parts)
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="100%" role="img" '
        f'aria-label="{escape(label)}" font-family="sans-serif">{body}</svg>'
    )


def monthly_chart(report: SavingsReport) -> Markup:
    months = sorted({m.month for m in report.months})
    if not months:
        return _svg([f'<text x="{W / 2}" y="{H / 2}" text-anchor="middle">Ingen data</text>'], "Ingen data")
    hours = {(m.service, m.month): m.saved_minutes / 60 for m in report.months}
    lo, hi = min(0.0, *hours.values()), max(1.0, *hours.values())
    x = _scale(0, max(len(months) - 1, 1), PAD_L + 10, W - PAD_R - 10)
    y = _scale(lo, hi, H - PAD_B, PAD_T)
    parts = _axis(y, lo, hi, "t")
    step = max(1, len(months) // 12)
    for i, month in enumerate(months):
        if i % step == 0:
            parts.append(
                f'<text x="{x(i):.1f}" y="{H - PAD_B + 16}" text-anchor="middle" font-size="10">'
                f"{month}</text>"
            )
    for k, service in enumerate(SERVICES):
        points = [(x(i), y(hours.get((service, m), 0.0))) for i, m in enumerate(months)]
        path = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{COLORS[service]}" stroke-width="2"/>')
        parts.extend(
            f'<circle cx="{px:.1f}" cy="{py:.1f}" r="2.5" fill="{COLORS[service]}"/>' for px, py in points
        )
        parts.append(
            f'<rect x="{PAD_L + 10 + k * 150}" y="{H - 18}" width="12" height="12" fill="{COLORS[service]}"/>'
            f'<text x="{PAD_L + 26 + k * 150}" y="{H - 8}" font-size="12">{SERVICE_LABELS[service]}</text>'
        )
    return _svg(parts, "Sparede timer pr. tjeneste pr. måned")


def budget_chart(report: SavingsReport) -> Markup:
    years = report.years
    values = [v for yl in years for v in (yl.target_dkk, yl.saved_dkk_high, yl.investment_dkk)]
    hi = max(1.0, *values) * 1.1
    y = _scale(0, hi, H - PAD_B, PAD_T)
    slot = (W - PAD_L - PAD_R) / max(len(years), 1)
    parts = _axis(_scale(0, hi / 1000, H - PAD_B, PAD_T), 0, hi / 1000, "t.kr.")
    centers = [PAD_L + slot * (i + 0.5) for i in range(len(years))]
    for cx, yl in zip(centers, years, strict=True):
        measured = yl.basis == MEASURED
        fill = "#1f6f8b" if measured else "url(#hatch)"
        top = y(yl.saved_dkk)
        parts.append(
            f'<rect x="{cx - 30:.1f}" y="{top:.1f}" width="60" height="{H - PAD_B - top:.1f}" fill="{fill}" '
            f'stroke="#1f6f8b"><title>{yl.year}: {escape(danish_number(yl.saved_dkk, "dkk"))} kr. '
            f"({escape(yl.basis)})</title></rect>"
        )
        lo_y, hi_y = y(yl.saved_dkk_low), y(yl.saved_dkk_high)
        parts.append(
            f'<line x1="{cx:.1f}" x2="{cx:.1f}" y1="{lo_y:.1f}" y2="{hi_y:.1f}" stroke="#000" '
            'stroke-width="1.5"/>'
            f'<line x1="{cx - 8:.1f}" x2="{cx + 8:.1f}" y1="{lo_y:.1f}" y2="{lo_y:.1f}" stroke="#000"/>'
            f'<line x1="{cx - 8:.1f}" x2="{cx + 8:.1f}" y1="{hi_y:.1f}" y2="{hi_y:.1f}" stroke="#000"/>'
            f'<text x="{cx:.1f}" y="{H - PAD_B + 16}" text-anchor="middle" font-size="12">{yl.year}</text>'
            f'<text x="{cx:.1f}" y="{H - PAD_B + 30}" text-anchor="middle" font-size="10">'
            f"{escape(yl.basis)}</text>"
        )
    for key, color, dash, label in (
        ("target_dkk", "#c0392b", "", "Mål (effektivisering)"),
        ("investment_dkk", "#555", "6,4", "Investering"),
    ):
        path = " ".join(f"{cx:.1f},{y(getattr(yl, key)):.1f}" for cx, yl in zip(centers, years, strict=True))
        parts.append(
            f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2.5" '
            f'stroke-dasharray="{dash}"/>'
        )
        parts.extend(
            f'<circle cx="{cx:.1f}" cy="{y(getattr(yl, key)):.1f}" r="4" fill="{color}"/>'
            for cx, yl in zip(centers, years, strict=True)
        )
        offset = 0 if key == "target_dkk" else 170
        parts.append(
            f'<line x1="{PAD_L + 300 + offset}" x2="{PAD_L + 320 + offset}" y1="{H - 12}" y2="{H - 12}" '
            f'stroke="{color}" stroke-width="2.5" stroke-dasharray="{dash}"/>'
            f'<text x="{PAD_L + 325 + offset}" y="{H - 8}" font-size="12">{label}</text>'
        )
    defs = (
        '<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="6" height="6" fill="#d6e6ec"/>'
        '<line x1="0" y1="0" x2="0" y2="6" stroke="#1f6f8b" stroke-width="2"/></pattern></defs>'
    )
    legend = (
        f'<rect x="{PAD_L}" y="{H - 18}" width="12" height="12" fill="#1f6f8b"/>'
        f'<text x="{PAD_L + 16}" y="{H - 8}" font-size="12">Målt</text>'
        f'<rect x="{PAD_L + 70}" y="{H - 18}" width="12" height="12" fill="url(#hatch)" stroke="#1f6f8b"/>'
        f'<text x="{PAD_L + 86}" y="{H - 8}" font-size="12">Fremskrevet (scenarie)</text>'
    )
    return _svg([defs, *parts, legend], "Budgetmål mod frigjort tid i kroner pr. år med 95 %-interval")


def task_chart(report: SavingsReport) -> Markup:
    tasks = [t for t in report.tasks if t.units]
    if not tasks:
        return _svg([f'<text x="{W / 2}" y="{H / 2}" text-anchor="middle">Ingen data</text>'], "Ingen data")
    hours = [t.saved_minutes / 60 for t in tasks]
    lo, hi = min(0.0, *hours), max(1.0, *hours)
    left = 330
    x = _scale(lo, hi, left, W - 60)
    bar = min(28.0, (H - 20) / len(tasks) - 6)
    parts = [f'<line x1="{x(0):.1f}" x2="{x(0):.1f}" y1="5" y2="{H - 5}" stroke="#999"/>']
    for i, (task, value) in enumerate(zip(tasks, hours, strict=True)):
        top = 10 + i * (bar + 6)
        x0, x1 = sorted((x(0), x(value)))
        color = "#c0392b" if value < 0 else COLORS[task.service]
        parts.append(
            f'<text x="{left - 6}" y="{top + bar / 2 + 4:.1f}" text-anchor="end" font-size="11">'
            f"{escape(task.label)}</text>"
            f'<rect x="{x0:.1f}" y="{top:.1f}" width="{max(x1 - x0, 0.5):.1f}" height="{bar:.1f}" '
            f'fill="{color}"/>'
            f'<text x="{x1 + 4:.1f}" y="{top + bar / 2 + 4:.1f}" font-size="11">'
            f"{escape(danish_number(value, 'hours'))} t</text>"
        )
    return _svg(parts, "Timer frigjort pr. opgave")


# --- writers ------------------------------------------------------------------------------------------------


def render_html(report: SavingsReport, tables: list[Table]) -> str:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"]))
    env.filters["dk"] = danish_number
    template = env.get_template("report.html.j2")
    period = (
        f"{danish_date(report.first_at.date())} – {danish_date(report.last_at.date())}"
        if report.first_at and report.last_at
        else "ingen registreringer"
    )
    return template.render(
        report=report,
        tables={t.key: t for t in tables},
        ordered=tables,
        mark=SIMULATED_MARK if report.simulated else "",
        period=period,
        generated=danish_date(datetime.now(UTC).date()),
        charts={"budget": budget_chart(report), "tasks": task_chart(report), "months": monthly_chart(report)},
        categories=CATEGORIES,
    )


def write_xlsx(report: SavingsReport, tables: list[Table], path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    book = Workbook()
    book.remove(book.active)
    mark = f" – {SIMULATED_MARK}" if report.simulated else ""
    for table in [*tables, _notes_table(report)]:
        sheet = book.create_sheet(table.key[:31])
        sheet.append([table.title + mark])
        sheet["A1"].font = Font(bold=True, size=13)
        # Row 2 carries the simulation mark (or stays empty), so data always starts on row 4.
        sheet.append([SIMULATED_MARK] if report.simulated else [])
        if report.simulated:
            sheet["A2"].font = Font(bold=True, color="FFFFFF")
            sheet["A2"].fill = PatternFill("solid", fgColor="C0392B")
        sheet.append(list(table.headers))
        for cell in sheet[3]:
            cell.font = Font(bold=True)
        for row in table.rows:
            sheet.append(list(row))
        for col, kind in enumerate(table.kinds, start=1):
            if kind in XLSX_FORMATS:
                for (cell,) in sheet.iter_rows(min_row=4, min_col=col, max_col=col):
                    cell.number_format = XLSX_FORMATS[kind]
            sheet.column_dimensions[sheet.cell(3, col).column_letter].width = 14 if kind != "text" else 30
        if table.intro:
            sheet.append([])
            sheet.append([table.intro])
    book.save(path)


def _notes_table(report: SavingsReport) -> Table:
    return Table("Noter", "Forudsætninger og begrænsninger", ["Note"], ["text"], [[n] for n in report.notes])


def write_report(
    db: Database,
    out_dir: Path,
    *,
    simulated: bool = False,
    baselines_path: Path | str | None = None,
    seed: int = 0,
) -> tuple[Path, Path]:
    """Write report.html and report.xlsx for measured (or only simulated) ledger rows; returns both paths."""
    report = compute_savings(db, simulated=simulated, baselines_path=baselines_path, seed=seed)
    return write_report_files(report, Path(out_dir))


def write_report_files(report: SavingsReport, out_dir: Path) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    tables = report_tables(report)
    html_path, xlsx_path = out_dir / "report.html", out_dir / "report.xlsx"
    html_path.write_text(render_html(report, tables), encoding="utf-8")
    write_xlsx(report, tables, xlsx_path)
    return html_path, xlsx_path
