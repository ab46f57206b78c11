"""A year of plausible, clearly marked simulated usage, so the savings report can be seen before real use.

Every row is written with ``simulated=True``; the savings calculation reads either measured or simulated rows,
never both. Volumes follow the adoption scenario for the year in baselines.toml (times ``scale``); the shares
below (abstentions, misroutes, edit ratios, ...) are guesses for a demo, not measurements.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import insert

from evaluation.savings import load_baselines
from services.common.db import Database
from services.common.errors import InvalidInput
from services.common.ledger import UsageEvent


@dataclass(frozen=True)
class SimulationProfile:
    meeting_hours_mean: float = 1.5  # lognormal meeting length, hours
    review_measured_share: float = 0.5  # approvals that record review_seconds
    edit_ratio_alpha: float = 1.5  # beta(α, β) edit ratio: mean ≈ 0.13
    edit_ratio_beta: float = 10.0
    unapproved_share: float = 0.05  # drafts never approved
    failed_share: float = 0.02
    abstain_share: float = 0.15
    feedback_share: float = 0.3
    unhelpful_share: float = 0.15  # of answers given feedback
    manual_minutes_share: float = 0.4  # of feedback that states how long a manual lookup takes
    auto_share: float = 0.8
    misroute_share: float = 0.04  # of automatically routed mails
    review_decision_share: float = 0.9  # manual mails that get a logged decision


def _moment(rng: np.random.Generator, year: int) -> datetime:
    # Working hours on a random weekday of the year.
    start = datetime(year, 1, 1, tzinfo=UTC)
    days = (datetime(year + 1, 1, 1, tzinfo=UTC) - start).days
    while True:
        day = start + timedelta(days=int(rng.integers(0, days)))
        if day.weekday() < 5:
            return day + timedelta(hours=8, seconds=int(rng.integers(0, 8 * 3600)))


def _row(at: datetime, service: str, task: str, **fields: Any) -> dict[str, Any]:
    row = {
        "created_at": at,
        "service": service,
        "task": task,
        "volume": 1.0,
        "volume_unit": "items",
        "processing_seconds": 0.0,
        "user": None,
        "outcome": "ok",
        "quality": {},
        "reference": None,
        "simulated": True,
    }
    row.update(fields)
    return row


def _meetings(rng: np.random.Generator, year: int, n: int, p: SimulationProfile) -> list[dict[str, Any]]:
    rows = []
    for _ in range(n):
        ref, at = f"sim-m-{uuid.UUID(int=int(rng.integers(0, 2**63)))}", _moment(rng, year)
        if rng.random() < p.failed_share:
            rows.append(
                _row(
                    at,
                    "minutes",
                    "transcribe",
                    volume=0.0,
                    volume_unit="audio_seconds",
                    outcome="failed",
                    reference=ref,
                )
            )
            continue
        seconds = round(float(rng.lognormal(np.log(p.meeting_hours_mean * 3600), 0.4)), 1)
        rows.append(
            _row(
                at,
                "minutes",
                "transcribe",
                volume=seconds,
                volume_unit="audio_seconds",
                processing_seconds=seconds / 8,
                reference=ref,
                quality={"language": "da", "segments": int(seconds / 12), "speakers": 4},
            )
        )
        if rng.random() < p.unapproved_share:
            continue
        ratio = float(rng.beta(p.edit_ratio_alpha, p.edit_ratio_beta))
        draft = int(seconds * 2)
        quality: dict[str, Any] = {
            "edit_distance_chars": int(ratio * draft),
            "draft_chars": draft,
            "final_chars": draft,
            "edit_ratio": round(ratio, 4),
        }
        if rng.random() < p.review_measured_share:
            # Reading ≈ a quarter of the meeting, plus time for the edits.
            quality["review_seconds"] = round(
                seconds * (0.25 + 1.5 * ratio) * float(rng.uniform(0.7, 1.3)), 1
            )
        # Approval follows within days, but stays inside the simulated year (no stray rows in the next one).
        later = min(
            at + timedelta(days=int(rng.integers(0, 4)), hours=2), datetime(year, 12, 31, 23, tzinfo=UTC)
        )
        rows.append(
            _row(
                later,
                "minutes",
                "review",
                volume=seconds,
                volume_unit="audio_seconds",
                quality=quality,
                reference=ref,
            )
        )
    return rows


def _questions(rng: np.random.Generator, year: int, n: int, p: SimulationProfile) -> list[dict[str, Any]]:
    rows = []
    for _ in range(n):
        ref, at = f"sim-q-{uuid.UUID(int=int(rng.integers(0, 2**63)))}", _moment(rng, year)
        abstained = bool(rng.random() < p.abstain_share)
        rows.append(
            _row(
                at,
                "chatbot",
                "ask",
                volume_unit="questions",
                processing_seconds=1.5,
                outcome="abstained" if abstained else "answered",
                reference=ref,
                quality={
                    "confidence": round(float(rng.uniform(0.2, 0.95)), 4),
                    "citations": 0 if abstained else int(rng.integers(1, 4)),
                    "answer_source": "extractive",
                    "collections": ["sim"],
                },
            )
        )
        if rng.random() >= p.feedback_share:
            continue
        helpful = not abstained and bool(rng.random() >= p.unhelpful_share)
        quality: dict[str, Any] = {"helpful": helpful, "abstained": abstained}
        if rng.random() < p.manual_minutes_share:
            quality["manual_minutes"] = float(rng.choice([5, 10, 15, 20, 30]))
        rows.append(
            _row(
                at + timedelta(minutes=3),
                "chatbot",
                "feedback",
                volume_unit="answers",
                outcome="helpful" if helpful else "unhelpful",
                quality=quality,
                reference=ref,
            )
        )
    return rows


def _mails(rng: np.random.Generator, year: int, n: int, p: SimulationProfile) -> list[dict[str, Any]]:
    rows = []
    queues = ("borgerservice", "byggesag", "social", "økonomi")
    for _ in range(n):
        ref, at = f"sim-e-{uuid.UUID(int=int(rng.integers(0, 2**63)))}", _moment(rng, year)
        auto = bool(rng.random() < p.auto_share)
        queue = str(rng.choice(queues))
        rows.append(
            _row(
                at,
                "mailsort",
                "route",
                volume_unit="mails",
                processing_seconds=0.05,
                outcome="auto" if auto else "manual",
                reference=ref,
                quality={
                    "queue": queue if auto else None,
                    "confidence": round(float(rng.uniform(0.3, 0.99)), 4),
                },
            )
        )
        if auto and rng.random() < p.misroute_share:
            rows.append(
                _row(
                    at + timedelta(hours=3),
                    "mailsort",
                    "correction",
                    volume_unit="mails",
                    outcome="misrouted",
                    reference=ref,
                    quality={"model_queue": queue, "queue": str(rng.choice(queues))},
                )
            )
        elif not auto and rng.random() < p.review_decision_share:
            rows.append(
                _row(
                    at + timedelta(hours=1),
                    "mailsort",
                    "decision",
                    volume_unit="mails",
                    outcome="decided",
                    reference=ref,
                    quality={"queue": str(rng.choice(queues))},
                )
            )
    return rows


def simulate_year(
    db: Database,
    year: int,
    *,
    seed: int = 0,
    scale: float = 1.0,
    baselines_path: Path | str | None = None,
    profile: SimulationProfile | None = None,
) -> int:
    """Append a year of simulated usage (every row ``simulated=True``); returns the number of rows written."""
    if scale <= 0:
        raise InvalidInput("scale skal være større end 0.")
    baselines = load_baselines(baselines_path)
    if year not in baselines.scenarios:
        years = ", ".join(str(y) for y in sorted(baselines.scenarios))
        raise InvalidInput(f"Der er intet brugsscenarie for {year}; vælg et af budgetårene {years}.")
    scenario = baselines.scenarios[year]
    p = profile or SimulationProfile()
    rng = np.random.default_rng([seed, year])
    rows = (
        _meetings(rng, year, round(scenario.meetings * scale), p)
        + _questions(rng, year, round(scenario.questions * scale), p)
        + _mails(rng, year, round(scenario.mails * scale), p)
    )
    if rows:
        with db.session() as session:
            session.execute(insert(UsageEvent), rows)  # bulk insert: a year is tens of thousands of rows
    return len(rows)
