"""Gevinster: the management view of the budget targets vs the measured/projected savings."""

from __future__ import annotations

import tempfile
from pathlib import Path

from fastapi import APIRouter, Request, Response
from starlette.background import BackgroundTask

from evaluation.report import SIMULATED_MARK, budget_chart, write_report
from evaluation.savings import compute_savings, year_dicts
from services.common import auth
from services.common.deps import DatabaseDep
from services.common.files import file_response
from services.web.rendering import page_access, render

router = APIRouter(include_in_schema=False)
SAVINGS_ROLES = frozenset({auth.Role.LEDELSE, auth.Role.ADMIN})


@router.get("/gevinster", response_model=None)
def savings_page(request: Request, db: DatabaseDep, simulated: bool = False) -> Response:
    principal, denied = page_access(request, db, SAVINGS_ROLES)
    if denied is not None:
        return denied
    report = compute_savings(db, simulated=simulated)
    return render(
        request,
        "gevinster.html",
        principal,
        simulated=simulated,
        mark=SIMULATED_MARK,
        years=year_dicts(report),
        chart=budget_chart(report),
        draft_quality=report.draft_quality,
    )


def _report_file(request: Request, db: DatabaseDep, simulated: bool, suffix: str) -> Response:
    _, denied = page_access(request, db, SAVINGS_ROLES)
    if denied is not None:
        return denied
    tmp = tempfile.TemporaryDirectory(prefix="kai-rapport-")
    try:
        html_path, xlsx_path = write_report(db, Path(tmp.name), simulated=simulated)
    except BaseException:
        tmp.cleanup()
        raise
    return file_response(
        html_path if suffix == "html" else xlsx_path,
        suffix,
        f"gevinster{'-simuleret' if simulated else ''}.{suffix}",
        headers={"Cache-Control": "no-store"},
        background=BackgroundTask(tmp.cleanup),
    )


@router.get("/gevinster/rapport.html", response_model=None)
def savings_report_html(request: Request, db: DatabaseDep, simulated: bool = False) -> Response:
    return _report_file(request, db, simulated, "html")


@router.get("/gevinster/rapport.xlsx", response_model=None)
def savings_report_xlsx(request: Request, db: DatabaseDep, simulated: bool = False) -> Response:
    return _report_file(request, db, simulated, "xlsx")
