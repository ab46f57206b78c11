"""A year of plausible, clearly marked simulated usage, so the savings report can be seen before real use.

Every row is written with ``simulated=True``; the savings calculation reads either measured or simulated rows,
never both. Volumes follow the adoption scenario for the year in baselines.toml (times ``scale``); the shares
below (abstentions, misroutes, edit ratios, ...) are guesses for a demo, not measurements.

A meeting's draft items (decisions, actions) are drawn per kind: the number proposed is Poisson, each proposed
item is removed (wrong) with one probability and, if kept, edited with another; the items the draft missed and
the reviewer added are binomial over the proposed (a missed item per proposed one at most). These assumptions
only shape the demo's draft-quality table and the per-item charge (minutes_fix_per_draft_item).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from evaluation.savings import load_baselines
from services.common import ledger
from services.common.db import Database
from services.common.errors import InvalidInput


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
    decisions_mean: float = 3.0  # Poisson mean of decisions proposed per meeting draft
    actions_mean: float = 4.0  # Poisson mean of action items proposed per meeting draft
    item_removed_share: float = 0.1  # of proposed items: wrong, removed by the reviewer (binomial)
    item_edited_share: float = 0.2  # of kept items: edited by the reviewer (binomial)
    item_added_share: float = 0.1  # missed items added by the reviewer, binomial over the proposed


def _moment(rng: np.random.Generator, year: int) -> datetime:
    # Working hours on a random weekday of the year.
    start = datetime(year, 1, 1, tzinfo=UTC)
    days = (datetime(year + 1, 1, 1, tzinfo=UTC) - start).days
    while True:
        day = start + timedelta(days=int(rng.integers(0, days)))
        if day.weekday() < 5:
            return day + timedelta(hours=8, seconds=int(rng.integers(0, 8 * 3600)))


def _item_counts(rng: np.random.Generator, mean: float, p: SimulationProfile) -> ledger.ItemCounts:
    proposed = int(rng.poisson(mean))
    removed = int(rng.binomial(proposed, p.item_removed_share))
    edited = int(rng.binomial(proposed - removed, p.item_edited_share))
    added = int(rng.binomial(proposed, p.item_added_share))
    accepted = proposed - removed - edited
    return ledger.ItemCounts(
        proposed=proposed, accepted=accepted, edited=edited, removed=removed, added=added
    )


def _simulated(row: dict[str, Any], at: datetime) -> dict[str, Any]:
    row["created_at"], row["simulated"] = at, True
    return row


def _meetings(
    batch: ledger.Rows, rng: np.random.Generator, year: int, n: int, p: SimulationProfile
) -> list[dict[str, Any]]:
    rows = []
    for _ in range(n):
        ref, at = f"sim-m-{uuid.UUID(int=int(rng.integers(0, 2**63)))}", _moment(rng, year)
        if rng.random() < p.failed_share:
            rows.append(_simulated(ledger.record_failed_transcription(batch, user=None, reference=ref), at))
            continue
        seconds = round(float(rng.lognormal(np.log(p.meeting_hours_mean * 3600), 0.4)), 1)
        transcription = ledger.TranscriptionQuality(language="da", segments=int(seconds / 12), speakers=4)
        transcribed = ledger.record_transcription(
            batch,
            audio_seconds=seconds,
            processing_seconds=seconds / 8,
            user=None,
            reference=ref,
            quality=transcription,
        )
        rows.append(_simulated(transcribed, at))
        if rng.random() < p.unapproved_share:
            continue
        ratio = float(rng.beta(p.edit_ratio_alpha, p.edit_ratio_beta))
        draft = int(seconds * 2)
        review_seconds = None
        if rng.random() < p.review_measured_share:
            # Reading ≈ a quarter of the meeting, plus time for the edits.
            review_seconds = round(seconds * (0.25 + 1.5 * ratio) * float(rng.uniform(0.7, 1.3)), 1)
        quality = ledger.ReviewQuality(
            edit_distance_chars=int(ratio * draft),
            draft_chars=draft,
            final_chars=draft,
            edit_ratio=round(ratio, 4),
            review_seconds=review_seconds,
            decisions=_item_counts(rng, p.decisions_mean, p),
            actions=_item_counts(rng, p.actions_mean, p),
            item_review=True,
        )
        # Approval follows within days, but stays inside the simulated year (no stray rows in the next one).
        later = min(
            at + timedelta(days=int(rng.integers(0, 4)), hours=2), datetime(year, 12, 31, 23, tzinfo=UTC)
        )
        reviewed = ledger.record_review(
            batch, audio_seconds=seconds, user=None, reference=ref, quality=quality
        )
        rows.append(_simulated(reviewed, later))
    return rows


def _questions(
    batch: ledger.Rows, rng: np.random.Generator, year: int, n: int, p: SimulationProfile
) -> list[dict[str, Any]]:
    rows = []
    for _ in range(n):
        ref, at = f"sim-q-{uuid.UUID(int=int(rng.integers(0, 2**63)))}", _moment(rng, year)
        abstained = bool(rng.random() < p.abstain_share)
        answer = ledger.AnswerQuality(
            confidence=round(float(rng.uniform(0.2, 0.95)), 4),
            citations=0 if abstained else int(rng.integers(1, 4)),
            answer_source="extractive",
            collections=("sim",),
        )
        asked = ledger.record_answer(
            batch, abstained=abstained, processing_seconds=1.5, user=None, reference=ref, quality=answer
        )
        rows.append(_simulated(asked, at))
        if rng.random() >= p.feedback_share:
            continue
        helpful = not abstained and bool(rng.random() >= p.unhelpful_share)
        manual_minutes = None
        if rng.random() < p.manual_minutes_share:
            manual_minutes = float(rng.choice([5, 10, 15, 20, 30]))
        feedback = ledger.FeedbackQuality(helpful, abstained, manual_minutes)
        given = ledger.record_feedback(batch, user=None, reference=ref, quality=feedback)
        rows.append(_simulated(given, at + timedelta(minutes=3)))
    return rows


def _mails(
    batch: ledger.Rows, rng: np.random.Generator, year: int, n: int, p: SimulationProfile
) -> list[dict[str, Any]]:
    rows = []
    queues = ("borgerservice", "byggesag", "social", "økonomi")
    for _ in range(n):
        ref, at = f"sim-e-{uuid.UUID(int=int(rng.integers(0, 2**63)))}", _moment(rng, year)
        auto = bool(rng.random() < p.auto_share)
        queue = str(rng.choice(queues))
        routing = ledger.RoutingQuality(
            queue=queue if auto else None, confidence=round(float(rng.uniform(0.3, 0.99)), 4)
        )
        routed = ledger.record_routing(
            batch, auto=auto, processing_seconds=0.05, user=None, reference=ref, quality=routing
        )
        rows.append(_simulated(routed, at))
        if auto and rng.random() < p.misroute_share:
            moved = ledger.QueueChoiceQuality(queue=str(rng.choice(queues)), model_queue=queue)
            corrected = ledger.record_correction(batch, user=None, reference=ref, quality=moved)
            rows.append(_simulated(corrected, at + timedelta(hours=3)))
        elif not auto and rng.random() < p.review_decision_share:
            chosen = ledger.QueueChoiceQuality(queue=str(rng.choice(queues)))
            decided = ledger.record_decision(batch, user=None, reference=ref, quality=chosen)
            rows.append(_simulated(decided, at + timedelta(hours=1)))
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
    # The ledger's record_* functions shape the rows; they are collected as dicts and bulk-inserted.
    rows = ledger.Rows()
    _meetings(rows, rng, year, round(scenario.meetings * scale), p)
    _questions(rows, rng, year, round(scenario.questions * scale), p)
    _mails(rows, rng, year, round(scenario.mails * scale), p)
    with db.session() as session:
        return rows.insert(session)
