"""The draft's precision and recall in real use, and the review counts in the minutes saving (by hand)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from test_savings import BASELINES_TOML, JAN1, add, write_baselines

from evaluation.savings import compute_savings
from services.common.db import Database

FIX_BASELINE = """
[baselines.minutes_fix_per_draft_item]
value = 3.0
unit = "min"
kind = "assumed"
source = "test"
"""
JUN1_2027 = datetime(2027, 6, 1, 9, tzinfo=UTC)


def counts(proposed: int, accepted: int, edited: int, removed: int, added: int) -> dict[str, int]:
    unmarked = 0
    return dict(
        proposed=proposed, accepted=accepted, edited=edited, removed=removed, added=added, unmarked=unmarked
    )


def reviewed(
    db: Database, ref: str, decisions: dict | None, actions: dict | None, at: datetime = JAN1, **q: Any
) -> None:
    add(db, "minutes", "transcribe", ref, at, volume=3600, volume_unit="audio_seconds")
    quality: dict[str, Any] = {"edit_ratio": 0.1, **q}
    if decisions is not None:
        quality |= {"decisions": decisions, "actions": actions, "item_review": True}
    add(db, "minutes", "review", ref, at, volume=3600, quality=quality)


@pytest.fixture
def ledger(db: Database) -> Database:
    reviewed(db, "m1", counts(4, 2, 1, 1, 2), counts(3, 3, 0, 0, 1))
    reviewed(db, "m2", counts(2, 1, 0, 1, 1), counts(1, 0, 1, 0, 0), review_seconds=1800)
    reviewed(db, "m3", None, None)  # approved before the counts existed: not in the figures
    reviewed(db, "m4", counts(1, 1, 0, 0, 0), counts(0, 0, 0, 0, 0), at=JUN1_2027)
    return db


def test_precision_and_recall_summed_over_the_period(ledger: Database, tmp_path: Path) -> None:
    report = compute_savings(ledger, baselines_path=write_baselines(tmp_path, BASELINES_TOML + FIX_BASELINE))
    lines = {(line.period, line.kind): line for line in report.draft_quality}
    assert sorted(lines) == sorted(
        (p, k) for p in ("2026", "2027", "I alt") for k in ("decisions", "actions")
    )

    d2026 = lines["2026", "decisions"]  # m1 + m2: proposed 6, accepted 3, edited 1, removed 2, added 3
    assert (d2026.meetings, d2026.proposed, d2026.accepted, d2026.edited, d2026.removed, d2026.added) == (
        2, 6, 3, 1, 2, 3,
    )  # fmt: skip
    assert d2026.precision == pytest.approx(4 / 6) and d2026.recall == pytest.approx(4 / 7)
    a2026 = lines["2026", "actions"]  # proposed 4, accepted 3, edited 1, added 1
    assert a2026.precision == pytest.approx(1.0) and a2026.recall == pytest.approx(4 / 5)
    total = lines["I alt", "decisions"]  # + m4: proposed 7, kept 5, added 3
    assert (
        total.meetings == 3
        and total.precision == pytest.approx(5 / 7)
        and total.recall == pytest.approx(5 / 8)
    )
    # m4 proposed no actions and nobody added one: no figure rather than a made-up one.
    assert lines["2027", "actions"].precision is None and lines["2027", "actions"].recall is None


def test_removed_and_added_items_cost_review_time(ledger: Database, tmp_path: Path) -> None:
    with_fix = compute_savings(
        ledger, baselines_path=write_baselines(tmp_path, BASELINES_TOML + FIX_BASELINE)
    )
    units = {u.reference: u for u in with_fix.units}
    # m1: 120 − (30 + 0.1 × 120 + 3 × (1 removed + 2 added + 0 + 1 added)) = 120 − 54 = 66.
    assert units["m1"].kai_minutes == pytest.approx(54) and units["m1"].saved_minutes == pytest.approx(66)
    # m2's review time was measured: it already holds the fixing, nothing is charged on top.
    assert units["m2"].saved_minutes == pytest.approx(90)
    # m3 has no counts: the edit amount alone, 120 − (30 + 12) = 78.
    assert units["m3"].saved_minutes == pytest.approx(78)

    other = tmp_path / "without"
    other.mkdir()
    without = compute_savings(ledger, baselines_path=write_baselines(other))  # an older file: no item cost
    assert {u.reference: u for u in without.units}["m1"].saved_minutes == pytest.approx(78)


def test_the_shipped_baseline_has_a_source() -> None:
    from evaluation.savings import ITEM_FIX_BASELINE, load_baselines

    baseline = load_baselines().values[ITEM_FIX_BASELINE]
    assert baseline.value > 0 and baseline.kind == "assumed" and "optagelsen" in baseline.source
