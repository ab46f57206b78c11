"""HTTP layer of the evaluation side, for the management page: savings and the latest scorecard."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from evaluation.policy import SAVINGS_ROLES
from evaluation.savings import savings_by_year
from evaluation.scorecard import latest_scorecard
from services.common.auth import require_roles
from services.common.deps import DatabaseDep, SettingsDep
from services.common.errors import NotFound

router = APIRouter(
    prefix="/api/evaluation",
    tags=["evaluation"],
    dependencies=[Depends(require_roles(*SAVINGS_ROLES))],
)


@router.get("/scorecard")
def scorecard(settings: SettingsDep) -> dict[str, Any]:
    card = latest_scorecard(settings)
    if card is None:
        raise NotFound("Der er ingen kvalitetsmåling endnu; kør 'kai evaluate scorecard'.")
    return card


@router.get("/savings")
def savings(db: DatabaseDep, simulated: bool = False) -> list[dict[str, Any]]:
    """The same list as `kai evaluate savings --json`."""
    return savings_by_year(db, simulated=simulated)
