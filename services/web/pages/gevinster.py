"""Gevinster: the management view of the budget targets vs the measured/projected savings."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request, Response
from starlette.background import BackgroundTask

from evaluation.policy import SAVINGS_ROLES
from evaluation.report import SIMULATED_MARK, budget_chart, write_report
from evaluation.savings import compute_savings, year_dicts
from services.common.auth import Principal
from services.common.deps import DatabaseDep
from services.common.files import file_response
from services.web.rendering import page_router, page_user, render

router = page_router()
Manager = Annotated[Principal, Depends(page_user(SAVINGS_ROLES))]


@router.get("/gevinster", response_model=None)
def savings_page(request: Request, db: DatabaseDep, principal: Manager, simulated: bool = False) -> Response:
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


def _report_file(db: DatabaseDep, simulated: bool, suffix: str) -> Response:
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
def savings_report_html(db: DatabaseDep, _: Manager, simulated: bool = False) -> Response:
    return _report_file(db, simulated, "html")


@router.get("/gevinster/rapport.xlsx", response_model=None)
def savings_report_xlsx(db: DatabaseDep, _: Manager, simulated: bool = False) -> Response:
    return _report_file(db, simulated, "xlsx")
