"""Savings from hand-made ledgers: exact minutes, FTE and DKK; quality adjustments; intervals; baselines."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from evaluation.savings import (
    BaselineError,
    bootstrap_sums,
    compute_savings,
    interval,
    load_baselines,
    savings_by_year,
)
from services.common.db import Database, open_database
from services.common.ledger import UsageEvent

# Round numbers, so every expected figure in the tests can be computed by hand.
BASELINES_TOML = """
version = 1
[baselines.minutes_manual_per_meeting_hour]
value = 120.0
unit = "min"
kind = "assumed"
source = "test"
[baselines.minutes_review_per_meeting_hour]
value = 30.0
unit = "min"
kind = "assumed"
source = "test"
[baselines.minutes_rewrite_factor]
value = 1.0
unit = "andel"
kind = "assumed"
source = "test"
[baselines.chatbot_manual_lookup_per_question]
value = 10.0
unit = "min"
kind = "assumed"
source = "test"
[baselines.chatbot_minutes_with_kai_per_answer]
value = 2.0
unit = "min"
kind = "assumed"
source = "test"
[baselines.mailsort_manual_routing_per_mail]
value = 2.0
unit = "min"
kind = "assumed"
source = "test"
[baselines.mailsort_extra_per_misroute]
value = 10.0
unit = "min"
kind = "measured"
source = "test"
[baselines.hours_per_fte]
value = 1924.0
unit = "timer"
kind = "assumed"
source = "test"
[baselines.dkk_per_fte]
value = 525000.0
unit = "kr."
kind = "assumed"
source = "test"
[scenarios]
source = "test"
[scenarios.2026]
meetings = 0
questions = 0
mails = 0
[scenarios.2027]
meetings = 10
questions = 100
mails = 1000
[scenarios.2028]
meetings = 0
questions = 0
mails = 0
[scenarios.2029]
meetings = 0
questions = 0
mails = 0
"""

JAN1 = datetime(2026, 1, 1, 9, tzinfo=UTC)
DEC31 = datetime(2026, 12, 31, 9, tzinfo=UTC)


# The first keys of a year's savings row, in order: the order is part of the API and the CLI's JSON.
SAVINGS_KEYS = [
    "year",
    "target_dkk",
    "saved_dkk",
    "saved_dkk_low",
    "saved_dkk_high",
    "target_fte",
    "saved_fte",
    "investment_dkk",
    "net_dkk",
]


def write_baselines(tmp_path: Path, text: str = BASELINES_TOML) -> Path:
    path = tmp_path / "baselines.toml"
    path.write_text(text, encoding="utf-8")
    return path


def add(db: Database, service: str, task: str, ref: str, at: datetime = JAN1, **fields: Any) -> None:
    with db.session() as session:
        session.add(UsageEvent(service=service, task=task, reference=ref, created_at=at, **fields))


def meeting(
    db: Database,
    ref: str,
    seconds: float,
    *,
    edit_ratio: float | None = 0.0,
    review_seconds: float | None = None,
    at: datetime = JAN1,
    simulated: bool = False,
) -> None:
    add(
        db, "minutes", "transcribe", ref, at, volume=seconds, volume_unit="audio_seconds", simulated=simulated
    )
    if edit_ratio is None:
        return  # never approved
    quality: dict[str, Any] = {"edit_ratio": edit_ratio}
    if review_seconds is not None:
        quality["review_seconds"] = review_seconds
    add(db, "minutes", "review", ref, at, volume=seconds, quality=quality, simulated=simulated)


def question(
    db: Database,
    ref: str,
    *,
    abstained: bool = False,
    helpful: bool | None = None,
    manual_minutes: float | None = None,
    at: datetime = JAN1,
    simulated: bool = False,
) -> None:
    add(db, "chatbot", "ask", ref, at, outcome="abstained" if abstained else "answered", simulated=simulated)
    if helpful is None:
        return
    quality: dict[str, Any] = {"helpful": helpful, "abstained": abstained}
    if manual_minutes is not None:
        quality["manual_minutes"] = manual_minutes
    outcome = "helpful" if helpful else "unhelpful"
    add(db, "chatbot", "feedback", ref, at, outcome=outcome, quality=quality, simulated=simulated)


def mail(
    db: Database,
    ref: str,
    *,
    auto: bool = True,
    corrected: bool = False,
    at: datetime = JAN1,
    simulated: bool = False,
) -> None:
    add(db, "mailsort", "route", ref, at, outcome="auto" if auto else "manual", simulated=simulated)
    if corrected:
        add(db, "mailsort", "correction", ref, at, outcome="misrouted", simulated=simulated)
    elif not auto:
        add(db, "mailsort", "decision", ref, at, outcome="decided", simulated=simulated)


def hand_ledger(db: Database, *, simulated: bool = False) -> None:
    """The ledger of test_savings: 2026 saves 128 + 36 − 6 = 158 minutes (see the test for the sums)."""
    s = simulated
    meeting(db, "m1", 3600, edit_ratio=0.1, simulated=s)  # 120 − (30 + 0.1 × 120) = 78
    meeting(db, "m2", 1800, edit_ratio=0.5, review_seconds=600, at=DEC31, simulated=s)  # 60 − 10 = 50
    meeting(db, "m3", 3600, edit_ratio=None, simulated=s)  # pending: 0, not settled
    question(db, "q1", simulated=s)  # 10 − 2 = 8
    question(db, "q2", helpful=True, manual_minutes=30, at=DEC31, simulated=s)  # 30 − 2 = 28
    question(db, "q3", abstained=True, helpful=False, simulated=s)  # 0
    question(db, "q4", helpful=False, simulated=s)  # 0
    mail(db, "e1", simulated=s)  # 2
    mail(db, "e2", corrected=True, simulated=s)  # −10
    mail(db, "e3", auto=False, simulated=s)  # 0
    mail(db, "e4", at=DEC31, simulated=s)  # 2


# --- tests ------------------------------------------------------------------------------------------------


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = open_database(f"sqlite:///{tmp_path}/t.db")
    yield database
    database.dispose()


@pytest.fixture
def baselines_path(tmp_path: Path) -> Path:
    return write_baselines(tmp_path)


def _fte(minutes: float) -> float:
    return minutes / 60 / 1924


def test_hand_computed_ledger_gives_exact_minutes_fte_and_dkk(db: Database, baselines_path: Path) -> None:
    hand_ledger(db)
    report = compute_savings(db, baselines_path=baselines_path)

    by_ref = {u.reference: u for u in report.units}
    assert by_ref["m1"].saved_minutes == pytest.approx(78)
    assert by_ref["m2"].saved_minutes == pytest.approx(50) and by_ref["m2"].measured
    assert not by_ref["m3"].settled and by_ref["m3"].saved_minutes == 0
    assert [by_ref[q].saved_minutes for q in ("q1", "q2", "q3", "q4")] == pytest.approx([8, 28, 0, 0])
    assert by_ref["q2"].measured
    assert [by_ref[e].saved_minutes for e in ("e1", "e2", "e3", "e4")] == pytest.approx([2, -10, 0, 2])

    tasks = {t.category: t for t in report.tasks}
    assert tasks["minutes.referat"].saved_minutes == pytest.approx(128)
    assert tasks["chatbot.svar"].saved_minutes == pytest.approx(36)
    assert tasks["mailsort.fejlsorteret"].saved_minutes == pytest.approx(-10)
    assert tasks["mailsort.auto"].units == 2

    y2026 = report.years[0]
    assert y2026.year == 2026 and y2026.basis == "målt"
    # Every service has a unit on 1 January and 31 December: 365 covered days, factor 1.
    assert all(s.factor == pytest.approx(1.0) for s in report.service_years if s.year == 2026)
    assert y2026.saved_hours == pytest.approx(158 / 60)
    assert y2026.saved_fte == pytest.approx(_fte(158))
    assert y2026.saved_dkk == pytest.approx(_fte(158) * 525_000)
    assert y2026.net_dkk == pytest.approx(_fte(158) * 525_000 - 1_500_000)
    assert y2026.gap_dkk == pytest.approx(1_000_000 - _fte(158) * 525_000)
    assert y2026.gap_fte == pytest.approx(2 - _fte(158))

    # 2027 has no rows: scenario × mean per settled unit: 10 × 64 + 100 × 9 + 1000 × (−1.5) = 40 minutes.
    y2027 = report.years[1]
    assert y2027.basis == "fremskrevet"
    assert y2027.saved_hours * 60 == pytest.approx(40)


def test_savings_by_year_json_keys_and_values(db: Database, baselines_path: Path) -> None:
    hand_ledger(db)
    rows = savings_by_year(db, baselines_path=baselines_path)
    assert [r["year"] for r in rows] == [2026, 2027, 2028, 2029]
    assert list(rows[0])[: len(SAVINGS_KEYS)] == SAVINGS_KEYS
    assert rows[0]["saved_dkk"] == round(_fte(158) * 525_000)
    assert rows[0]["target_dkk"] == 1_000_000 and rows[3]["target_fte"] == 4
    assert rows[0]["investment_dkk"] == 1_500_000
    assert rows[0]["basis"] == "målt" and rows[1]["basis"] == "fremskrevet"
    assert json.loads(json.dumps(rows)) == rows


def test_annualises_a_short_period(db: Database, baselines_path: Path) -> None:
    mail(db, "a", at=datetime(2026, 3, 1, 9, tzinfo=UTC))
    mail(db, "b", at=datetime(2026, 3, 31, 9, tzinfo=UTC))
    report = compute_savings(db, baselines_path=baselines_path)
    line = next(s for s in report.service_years if s.service == "mailsort" and s.year == 2026)
    assert line.covered_days == 31
    assert line.factor == pytest.approx(365 / 31)
    assert line.annual_minutes == pytest.approx(4 * 365 / 31)
    assert report.years[0].basis == "delvist målt"  # the other services are projected (from nothing: 0)


def test_more_editing_saves_less(tmp_path: Path, baselines_path: Path) -> None:
    saved = []
    for ratio in (0.0, 0.2, 0.6):
        database = open_database(f"sqlite:///{tmp_path}/edit{ratio}.db")
        meeting(database, "m", 3600, edit_ratio=ratio)
        saved.append(compute_savings(database, baselines_path=baselines_path).tasks[0].saved_minutes)
        database.dispose()
    assert saved == pytest.approx([90, 66, 18])  # 120 − 30 − ratio × 120
    assert saved[0] > saved[1] > saved[2]


def test_measured_review_time_replaces_the_model(db: Database, baselines_path: Path) -> None:
    meeting(db, "slow", 3600, edit_ratio=0.0, review_seconds=150 * 60)
    unit = compute_savings(db, baselines_path=baselines_path).units[0]
    assert unit.kai_minutes == pytest.approx(150) and unit.saved_minutes == pytest.approx(-30)


def test_unhelpful_and_abstained_answers_earn_nothing(db: Database, baselines_path: Path) -> None:
    question(db, "ok", helpful=True)
    question(db, "bad", helpful=False, manual_minutes=60)
    question(db, "none", abstained=True)
    units = {u.reference: u for u in compute_savings(db, baselines_path=baselines_path).units}
    assert units["ok"].saved_minutes == pytest.approx(8)
    assert units["bad"].saved_minutes == 0 and units["none"].saved_minutes == 0


def test_a_correction_costs_time(db: Database, baselines_path: Path) -> None:
    mail(db, "good")
    before = compute_savings(db, baselines_path=baselines_path).service_years[2].period_minutes
    mail(db, "wrong", corrected=True)
    after = compute_savings(db, baselines_path=baselines_path).service_years[2].period_minutes
    assert (before, after) == pytest.approx((2, 2 - 10))


def test_bootstrap_interval_contains_estimate_and_narrows_with_more_data(
    tmp_path: Path, baselines_path: Path
) -> None:
    widths = []
    for copies in (1, 10):
        database = open_database(f"sqlite:///{tmp_path}/boot{copies}.db")
        for i in range(copies):
            for j, manual in enumerate((5, 10, 20, 40)):
                question(database, f"q{i}-{j}", helpful=True, manual_minutes=manual)
        report = compute_savings(database, baselines_path=baselines_path)
        database.dispose()
        for y in report.years:
            assert y.saved_dkk_low <= y.saved_dkk <= y.saved_dkk_high
        for t in report.tasks:
            assert t.saved_low <= t.saved_minutes <= t.saved_high
        # 2027 is projected from the mean per answer: more answers, a tighter mean.
        y2027 = report.years[1]
        widths.append((y2027.saved_dkk_high - y2027.saved_dkk_low) / y2027.saved_dkk)
    assert widths[1] < widths[0]


def test_bootstrap_is_seeded() -> None:
    values = [1.0, 2.0, 5.0, 9.0]
    first = bootstrap_sums(values, np.random.default_rng(7), 500)
    second = bootstrap_sums(values, np.random.default_rng(7), 500)
    assert np.array_equal(first, second)
    assert interval(first, 17.0)[0] <= 17.0 <= interval(first, 17.0)[1]


def test_simulated_and_measured_rows_never_mix(db: Database, baselines_path: Path) -> None:
    hand_ledger(db)
    measured_only = compute_savings(db, baselines_path=baselines_path).years[0].saved_dkk
    hand_ledger(db, simulated=True)
    meeting(db, "sim-extra", 7200, simulated=True)

    measured = compute_savings(db, baselines_path=baselines_path)
    simulated = compute_savings(db, simulated=True, baselines_path=baselines_path)
    assert measured.years[0].saved_dkk == pytest.approx(measured_only)
    assert "sim-extra" not in {u.reference for u in measured.units}
    assert "sim-extra" in {u.reference for u in simulated.units}
    assert simulated.years[0].saved_dkk > measured.years[0].saved_dkk
    assert simulated.simulated and not measured.simulated
    assert any("SIMULEREDE DATA" in n for n in simulated.notes)


def test_empty_ledger_gives_zeros(db: Database, baselines_path: Path) -> None:
    rows = savings_by_year(db, baselines_path=baselines_path)
    assert all(r["saved_dkk"] == 0 and r["net_dkk"] == -1_500_000 for r in rows)


def test_default_baselines_file_is_valid() -> None:
    baselines = load_baselines()
    assert baselines["hours_per_fte"] == 1924 and baselines["dkk_per_fte"] == 525_000
    assert set(baselines.scenarios) >= {2026, 2027, 2028, 2029}
    assert all(b.kind in ("measured", "assumed") and b.source for b in baselines.values.values())


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        (
            BASELINES_TOML.replace('kind = "measured"', 'kind = "guessed"'),
            "skal være 'measured' eller 'assumed'",
        ),
        (BASELINES_TOML.replace("value = 120.0", 'value = "mange"'), "skal være et tal"),
        (BASELINES_TOML.replace("value = 120.0", "value = -1"), "må ikke være negativ"),
        (BASELINES_TOML.replace("[baselines.hours_per_fte]", "[baselines.timer]"), "mangler: hours_per_fte"),
        (
            BASELINES_TOML.replace("[scenarios.2029]", "[scenarios.2030]"),
            "scenarier mangler for budgetår: 2029",
        ),
        (BASELINES_TOML.replace('unit = "kr."\n', ""), "mangler feltet/felterne: unit"),
        (BASELINES_TOML + "\n[[[", "er ikke gyldig TOML"),
    ],
)
def test_malformed_baselines_give_a_clear_danish_error(tmp_path: Path, broken: str, message: str) -> None:
    with pytest.raises(BaselineError, match=re.escape(message)):
        load_baselines(write_baselines(tmp_path, broken))


def test_missing_baselines_file(tmp_path: Path) -> None:
    with pytest.raises(BaselineError, match="findes ikke"):
        load_baselines(tmp_path / "nope.toml")
