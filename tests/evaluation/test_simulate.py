"""Simulated usage: plausible, reproducible, always marked simulated, and kept out of measured figures."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from evaluation.savings import compute_savings
from evaluation.simulate import simulate_year
from services.common.db import Database, open_database
from services.common.errors import InvalidInput
from services.common.ledger import UsageEvent


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = open_database(f"sqlite:///{tmp_path}/t.db")
    yield database
    database.dispose()


def _rows(db: Database, simulated: bool | None = None) -> int:
    with db.session() as session:
        query = select(func.count()).select_from(UsageEvent)
        if simulated is not None:
            query = query.where(UsageEvent.simulated.is_(simulated))
        return int(session.scalar(query) or 0)


def test_simulated_year_is_marked_and_counted(db: Database) -> None:
    written = simulate_year(db, 2026, seed=1, scale=0.02)
    assert written > 0
    assert _rows(db) == _rows(db, simulated=True) == written
    with db.session() as session:
        tasks = set(session.execute(select(UsageEvent.service, UsageEvent.task)).all())
        years = {at.year for at in session.scalars(select(UsageEvent.created_at))}
    assert {
        ("minutes", "transcribe"),
        ("minutes", "review"),
        ("chatbot", "ask"),
        ("chatbot", "feedback"),
    } <= tasks
    assert {("mailsort", "route"), ("mailsort", "correction")} <= tasks
    assert years == {2026}


def test_simulation_is_reproducible(tmp_path: Path) -> None:
    figures = []
    for name in ("a", "b"):
        database = open_database(f"sqlite:///{tmp_path}/{name}.db")
        simulate_year(database, 2026, seed=3, scale=0.02)
        figures.append([y.saved_dkk for y in compute_savings(database, simulated=True).years])
        database.dispose()
    assert figures[0] == figures[1]


def test_scale_changes_volume(tmp_path: Path) -> None:
    small = open_database(f"sqlite:///{tmp_path}/s.db")
    large = open_database(f"sqlite:///{tmp_path}/l.db")
    assert simulate_year(large, 2026, scale=0.04) > 1.5 * simulate_year(small, 2026, scale=0.02)
    with pytest.raises(InvalidInput, match="scale"):
        simulate_year(small, 2026, scale=0)
    with pytest.raises(InvalidInput, match="budgetårene"):
        simulate_year(small, 1999)


def test_simulated_rows_stay_out_of_measured_figures(db: Database) -> None:
    simulate_year(db, 2026, scale=0.02)
    measured = compute_savings(db)
    assert measured.units == [] and all(y.saved_dkk == 0 for y in measured.years)
    simulated = compute_savings(db, simulated=True)
    assert simulated.years[0].basis == "målt" and simulated.years[0].saved_dkk > 0
    assert all(y.basis == "fremskrevet" for y in simulated.years[1:])
