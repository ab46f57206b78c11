"""Simulated usage: plausible, reproducible, always marked simulated, and kept out of measured figures."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from evaluation.savings import compute_savings
from evaluation.simulate import SimulationProfile, simulate_year
from services.common.db import Database, open_database
from services.common.errors import InvalidInput
from services.common.ledger import ItemCounts, ReviewQuality, Task, UsageEvent


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


def test_simulated_reviews_carry_item_counts_and_their_charge(db: Database) -> None:
    # Every meeting approved, none with a measured review time: the item charge applies to each.
    profile = SimulationProfile(failed_share=0.0, unapproved_share=0.0, review_measured_share=0.0)
    simulate_year(db, 2026, seed=2, scale=0.02, profile=profile)
    with db.session() as session:
        reviews = {
            e.reference: (e.volume, ReviewQuality.from_dict(e.quality))
            for e in session.scalars(select(UsageEvent).where(UsageEvent.task == Task.REVIEW))
        }
    assert reviews and all(q.decisions is not None and q.actions is not None for _, q in reviews.values())
    total = sum((q.decisions + q.actions for _, q in reviews.values()), ItemCounts())  # type: ignore[operator]
    assert total.proposed > 0 and total.removed + total.added > 0
    assert total.proposed == total.accepted + total.edited + total.removed
    units = {
        u.reference: u for u in compute_savings(db, simulated=True).units if u.category == "minutes.referat"
    }
    assert units.keys() == reviews.keys()
    # By hand with baselines.toml: manual 120 min/hour; kai 30 min/hour + 1.0 × edit ratio × manual
    # + 2.0 min per removed or added item.
    for ref, (seconds, q) in reviews.items():
        hours = seconds / 3600
        fixes = sum(c.removed + c.added for c in (q.decisions, q.actions) if c is not None)
        kai = 30.0 * hours + 1.0 * q.edit_ratio * 120.0 * hours + 2.0 * fixes
        assert units[ref].manual_minutes == pytest.approx(120.0 * hours)
        assert units[ref].kai_minutes == pytest.approx(kai)
