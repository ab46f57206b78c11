"""Time saved by kai, from the usage ledger: minutes per unit of work → per task, month and year → FTE → DKK.

A unit of work is one meeting (transcribe + review rows), one question (ask + feedback rows) or one mail
(route + correction rows), joined by the ledger's ``reference``. Each unit earns manual baseline minutes
minus the time spent with kai, adjusted for quality (edited drafts, unhelpful answers, misrouted mails).
Baselines come from ``baselines.toml``; ledger measurements (review_seconds, manual_minutes) win over them.

Years with ledger data are measured and annualised; later budget years are projected from the adoption
scenarios and always labelled as such. Every total carries a seeded 95 % bootstrap interval over the per-unit
savings. Freed time is time freed from tasks; it is never the same as the positions the budget removes.
"""

from __future__ import annotations

import calendar
import tomllib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select

from evaluation.budget import BUDGET, BUDGET_YEARS
from services.common.db import Database
from services.common.errors import ConfigurationError
from services.common.ledger import (
    FeedbackQuality,
    ItemCounts,
    ItemKind,
    Outcome,
    ReviewQuality,
    Service,
    Task,
    UsageEvent,
)

DEFAULT_BASELINES = Path(__file__).with_name("baselines.toml")
SERVICES: tuple[Service, ...] = tuple(Service)
SERVICE_LABELS = {Service.MINUTES: "Referater", Service.CHATBOT: "Chatbot", Service.MAILSORT: "Postsortering"}
MEASURED, PROJECTED, PARTLY = "målt", "fremskrevet", "delvist målt"

REQUIRED_BASELINES: tuple[str, ...] = (
    "minutes_manual_per_meeting_hour",
    "minutes_review_per_meeting_hour",
    "minutes_rewrite_factor",
    "chatbot_manual_lookup_per_question",
    "chatbot_minutes_with_kai_per_answer",
    "mailsort_manual_routing_per_mail",
    "mailsort_extra_per_misroute",
    "hours_per_fte",
    "dkk_per_fte",
)
KINDS = ("measured", "assumed")
# Scenario volume per service, in the service's unit of work.
SCENARIO_KEYS = {Service.MINUTES: "meetings", Service.CHATBOT: "questions", Service.MAILSORT: "mails"}


@dataclass(frozen=True)
class Category:
    service: Service
    label: str  # the task the time is freed from (or lost on), in Danish


CATEGORIES: dict[str, Category] = {
    "minutes.referat": Category(Service.MINUTES, "Skrive referat (godkendt udkast)"),
    "minutes.afventer": Category(Service.MINUTES, "Referat afventer godkendelse (ingen gevinst endnu)"),
    "minutes.fejlet": Category(Service.MINUTES, "Transskription fejlede (ingen gevinst)"),
    "chatbot.svar": Category(Service.CHATBOT, "Finde svar i regler og vejledninger"),
    "chatbot.uden_gevinst": Category(Service.CHATBOT, "Spørgsmål uden brugbart svar (ingen gevinst)"),
    "mailsort.auto": Category(Service.MAILSORT, "Fordele indgående post (automatisk, ikke rettet)"),
    "mailsort.fejlsorteret": Category(Service.MAILSORT, "Rette fejlsorteret post (ekstra tid)"),
    "mailsort.manuel": Category(Service.MAILSORT, "Post fordelt af en medarbejder (ingen gevinst)"),
}


# --- baselines --------------------------------------------------------------------------------------------


class BaselineError(ConfigurationError):
    """A malformed baselines file; the message is Danish and names the file and the field."""


@dataclass(frozen=True)
class Baseline:
    name: str
    value: float
    unit: str
    kind: str  # measured | assumed
    source: str


@dataclass(frozen=True)
class Scenario:
    year: int
    meetings: float
    questions: float
    mails: float

    def volume(self, service: str) -> float:
        return float(getattr(self, SCENARIO_KEYS[service]))


@dataclass(frozen=True)
class Baselines:
    values: dict[str, Baseline]
    scenarios: dict[int, Scenario]
    scenario_source: str
    path: Path

    def __getitem__(self, name: str) -> float:
        return self.values[name].value


def _number(raw: Any, where: str, path: Path) -> float:
    # bool is an int in Python; a true/false value is a typo here, not a number.
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise BaselineError(f"{path}: '{where}' skal være et tal, men er {raw!r}.")
    if raw < 0:
        raise BaselineError(f"{path}: '{where}' må ikke være negativ ({raw}).")
    return float(raw)


def _baseline(name: str, raw: Any, path: Path) -> Baseline:
    if not isinstance(raw, dict):
        raise BaselineError(f"{path}: baseline '{name}' skal være en tabel med value, unit, kind og source.")
    missing = [key for key in ("value", "unit", "kind", "source") if key not in raw]
    if missing:
        raise BaselineError(f"{path}: baseline '{name}' mangler feltet/felterne: {', '.join(missing)}.")
    if raw["kind"] not in KINDS:
        raise BaselineError(
            f"{path}: baseline '{name}' har kind={raw['kind']!r}; skal være 'measured' eller 'assumed'."
        )
    for key in ("unit", "source"):
        if not isinstance(raw[key], str) or not raw[key].strip():
            raise BaselineError(f"{path}: baseline '{name}' skal have en udfyldt tekst i '{key}'.")
    value = _number(raw["value"], f"{name}.value", path)
    if name in ("hours_per_fte", "dkk_per_fte") and value == 0:
        raise BaselineError(f"{path}: '{name}.value' skal være større end 0.")
    return Baseline(name, value, raw["unit"], raw["kind"], raw["source"])


def _scenarios(raw: Any, path: Path) -> tuple[dict[int, Scenario], str]:
    if not isinstance(raw, dict):
        raise BaselineError(f"{path}: afsnittet [scenarios] mangler.")
    result: dict[int, Scenario] = {}
    for key, entry in raw.items():
        if key in ("kind", "source"):
            continue
        if not key.isdigit() or not isinstance(entry, dict):
            raise BaselineError(
                f"{path}: [scenarios.{key}] skal være et årstal med meetings, questions, mails."
            )
        counts = {}
        for name in SCENARIO_KEYS.values():
            if name not in entry:
                raise BaselineError(f"{path}: scenariet for {key} mangler '{name}'.")
            counts[name] = _number(entry[name], f"scenarios.{key}.{name}", path)
        result[int(key)] = Scenario(int(key), **counts)
    missing = [str(year) for year in BUDGET_YEARS if year not in result]
    if missing:
        raise BaselineError(f"{path}: scenarier mangler for budgetår: {', '.join(missing)}.")
    return result, str(raw.get("source", ""))


def load_baselines(path: Path | str | None = None) -> Baselines:
    """Read and validate the baselines file; every problem raises ``BaselineError`` with a Danish message."""
    path = Path(path) if path is not None else DEFAULT_BASELINES
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BaselineError(f"Filen med baselines findes ikke: {path}.") from None
    except tomllib.TOMLDecodeError as exc:
        raise BaselineError(f"{path} er ikke gyldig TOML: {exc}.") from None
    raw = data.get("baselines")
    if not isinstance(raw, dict):
        raise BaselineError(f"{path}: afsnittet [baselines] mangler.")
    missing = [name for name in REQUIRED_BASELINES if name not in raw]
    if missing:
        raise BaselineError(f"{path}: baselines mangler: {', '.join(missing)}.")
    values = {name: _baseline(name, entry, path) for name, entry in raw.items()}
    scenarios, scenario_source = _scenarios(data.get("scenarios"), path)
    return Baselines(values, scenarios, scenario_source, path)


# --- ledger rows → units of work ------------------------------------------------------------------------


@dataclass(frozen=True)
class LedgerRow:
    """A detached copy of one UsageEvent, so computing needs no open session."""

    id: int
    created_at: datetime
    service: str
    task: str
    volume: float
    volume_unit: str
    outcome: str
    quality: dict[str, Any]
    reference: str | None


@dataclass(frozen=True)
class UnitSaving:
    service: str
    category: str
    reference: str
    at: datetime
    manual_minutes: float  # the manual baseline for this unit
    kai_minutes: float  # time still spent with kai (review, reading, re-routing)
    saved_minutes: float  # manual − kai; negative when kai cost time
    measured: bool  # True when a ledger measurement replaced an assumed baseline
    settled: bool = True  # False while the outcome is open (a draft not yet approved)


def load_rows(db: Database, *, simulated: bool) -> list[LedgerRow]:
    """Ledger rows of one kind only: measured (simulated=False) or simulated, never both."""
    with db.session() as session:
        events = session.scalars(
            select(UsageEvent)
            .where(UsageEvent.simulated.is_(simulated))
            .order_by(UsageEvent.created_at, UsageEvent.id)
        ).all()
        return [
            LedgerRow(
                e.id,
                e.created_at,
                e.service,
                e.task,
                float(e.volume or 0.0),
                e.volume_unit,
                e.outcome,
                dict(e.quality or {}),
                e.reference,
            )
            for e in events
        ]


def _grouped(rows: Iterable[LedgerRow], service: Service) -> dict[str, list[LedgerRow]]:
    groups: dict[str, list[LedgerRow]] = defaultdict(list)
    for row in rows:
        if row.service == service:
            # A row without a reference cannot be joined; it stands alone.
            groups[row.reference or f"row-{row.id}"].append(row)
    return groups


def _meeting_unit(ref: str, rows: list[LedgerRow], b: Baselines) -> UnitSaving:
    reviews = [r for r in rows if r.task == Task.REVIEW]
    transcribes = [r for r in rows if r.task == Task.TRANSCRIBE]
    if not reviews:
        first = transcribes[0] if transcribes else rows[0]
        failed = bool(transcribes) and all(r.outcome == Outcome.FAILED for r in transcribes)
        category = "minutes.fejlet" if failed else "minutes.afventer"
        return UnitSaving(
            Service.MINUTES, category, ref, first.created_at, 0.0, 0.0, 0.0, False, settled=failed
        )
    review = reviews[-1]
    quality = ReviewQuality.from_dict(review.quality)
    seconds = review.volume or max((r.volume for r in transcribes), default=0.0)
    hours = seconds / 3600
    manual = b["minutes_manual_per_meeting_hour"] * hours
    if quality.review_seconds is not None:
        # The measured review time already contains the editing, so edit_ratio is not charged again.
        kai = quality.review_seconds / 60
        measured = True
    else:
        edit_ratio = min(max(quality.edit_ratio, 0.0), 1.0)
        kai = b["minutes_review_per_meeting_hour"] * hours + b["minutes_rewrite_factor"] * edit_ratio * manual
        # Each wrong item removed and each missed item added also cost finding out in the recording.
        kai += _item_fix_minutes(b) * sum(_fixes(quality.counts(kind)) for kind in ItemKind)
        measured = False
    return UnitSaving(
        Service.MINUTES, "minutes.referat", ref, review.created_at, manual, kai, manual - kai, measured
    )


# --- the draft's precision and recall in real use, from the review rows' item counts ------------------------

DRAFT_ITEM_LABELS = {ItemKind.DECISIONS: "Beslutninger", ItemKind.ACTIONS: "Handlingspunkter"}
# Optional baseline (older baselines files lack it): minutes per removed or added draft item.
ITEM_FIX_BASELINE = "minutes_fix_per_draft_item"


def _item_fix_minutes(b: Baselines) -> float:
    return b.values[ITEM_FIX_BASELINE].value if ITEM_FIX_BASELINE in b.values else 0.0


def _fixes(counts: ItemCounts | None) -> int:
    return counts.removed + counts.added if counts else 0


@dataclass(frozen=True)
class DraftQualityLine:
    """A period's review counts of one kind, summed over its approved meetings.

    precision = (accepted + edited) / proposed: of the items the draft proposed, the share the reviewer kept.
    recall = (accepted + edited) / (accepted + edited + added): of the items the approved minutes hold, the
    share the draft found. An edited item counts as found (the draft caught it; its wording was changed)."""

    period: str  # a year, or "I alt"
    kind: str  # decisions | actions
    label: str
    meetings: int
    proposed: int
    accepted: int
    edited: int
    removed: int
    added: int

    @property
    def precision(self) -> float | None:
        return (self.accepted + self.edited) / self.proposed if self.proposed else None

    @property
    def recall(self) -> float | None:
        kept = self.accepted + self.edited
        return kept / (kept + self.added) if kept + self.added else None


def draft_quality(rows: Sequence[LedgerRow]) -> list[DraftQualityLine]:
    """Per year and in all, per kind: the review counts of the approved meetings (each one's last review)."""
    reviews: dict[str, tuple[LedgerRow, ReviewQuality]] = {}
    for row in rows:
        if row.service == Service.MINUTES and row.task == Task.REVIEW:
            quality = ReviewQuality.from_dict(row.quality)
            if quality.decisions is not None:
                reviews[row.reference or f"row-{row.id}"] = (row, quality)
    periods: dict[str, list[ReviewQuality]] = defaultdict(list)
    for row, quality in reviews.values():
        periods[str(row.created_at.year)].append(quality)
    if reviews:
        periods["I alt"] = [quality for _, quality in reviews.values()]
    lines = []
    for period in sorted(periods, key=lambda p: (p == "I alt", p)):
        for kind, label in DRAFT_ITEM_LABELS.items():
            total = sum((q.counts(kind) or ItemCounts() for q in periods[period]), ItemCounts())
            figures = (total.proposed, total.accepted, total.edited, total.removed, total.added)
            lines.append(DraftQualityLine(period, kind, label, len(periods[period]), *figures))
    return lines


def _question_unit(ref: str, rows: list[LedgerRow], b: Baselines) -> UnitSaving | None:
    asks = [r for r in rows if r.task == Task.ASK]
    if not asks:
        return None  # feedback on an answer the ledger does not hold: nothing to credit
    ask = asks[0]
    feedback = next((r for r in reversed(rows) if r.task == Task.FEEDBACK), None)
    said = FeedbackQuality.from_dict(feedback.quality) if feedback is not None else FeedbackQuality()
    unhelpful = (feedback is not None and feedback.outcome == Outcome.UNHELPFUL) or not said.helpful
    if ask.outcome == Outcome.ABSTAINED or unhelpful:
        return UnitSaving(Service.CHATBOT, "chatbot.uden_gevinst", ref, ask.created_at, 0.0, 0.0, 0.0, False)
    own = said.manual_minutes
    measured = own is not None
    manual = own if own is not None else b["chatbot_manual_lookup_per_question"]
    kai = b["chatbot_minutes_with_kai_per_answer"]
    return UnitSaving(
        Service.CHATBOT, "chatbot.svar", ref, ask.created_at, manual, kai, manual - kai, measured
    )


def _mail_unit(ref: str, rows: list[LedgerRow], b: Baselines) -> UnitSaving | None:
    routes = [r for r in rows if r.task == Task.ROUTE]
    corrections = [r for r in rows if r.task == Task.CORRECTION]
    if not (routes or corrections):
        return None
    manual = b["mailsort_manual_routing_per_mail"]
    extra = b["mailsort_extra_per_misroute"]
    if routes and routes[0].outcome != Outcome.AUTO:
        category, kai, saved = "mailsort.manuel", manual, 0.0
    elif corrections:
        # Someone still routed it by hand, plus the cost of the detour.
        category, kai, saved = "mailsort.fejlsorteret", manual + extra, -extra
    else:
        category, kai, saved = "mailsort.auto", 0.0, manual
    at = (routes or corrections)[0].created_at
    return UnitSaving(Service.MAILSORT, category, ref, at, manual, kai, saved, False)


def units_from_rows(rows: Sequence[LedgerRow], baselines: Baselines) -> list[UnitSaving]:
    units: list[UnitSaving] = []
    for ref, group in _grouped(rows, Service.MINUTES).items():
        units.append(_meeting_unit(ref, group, baselines))
    for ref, group in _grouped(rows, Service.CHATBOT).items():
        if (unit := _question_unit(ref, group, baselines)) is not None:
            units.append(unit)
    for ref, group in _grouped(rows, Service.MAILSORT).items():
        if (unit := _mail_unit(ref, group, baselines)) is not None:
            units.append(unit)
    units.sort(key=lambda u: (u.at, u.service, u.reference))
    return units


# --- bootstrap ----------------------------------------------------------------------------------------------


def bootstrap_sums(values: Sequence[float], rng: np.random.Generator, resamples: int) -> np.ndarray:
    """Bootstrap distribution of the sum of ``values`` (resampled with replacement, same n).

    Drawing multinomial counts over the distinct values is exactly the ordinary bootstrap, but costs
    resamples × distinct values instead of resamples × n (mails have only a few distinct savings).
    """
    if len(values) == 0:
        return np.zeros(resamples)
    distinct, counts = np.unique(np.asarray(values, dtype=float), return_counts=True)
    draws = rng.multinomial(len(values), counts / counts.sum(), size=resamples)
    return draws @ distinct


def interval(samples: np.ndarray, point: float, level: float = 0.95) -> tuple[float, float]:
    tail = (1 - level) / 2
    low, high = np.quantile(samples, [tail, 1 - tail])
    # The percentile interval of a tiny, skewed sample can miss the estimate; widen rather than mislead.
    return float(min(low, point)), float(max(high, point))


# --- results ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskLine:
    """One row of the traceability table: a task, its units, the baselines used and the minutes."""

    category: str
    service: str
    label: str
    units: int
    measured_units: int
    manual_minutes: float
    kai_minutes: float
    saved_minutes: float
    saved_low: float
    saved_high: float
    baseline_note: str


@dataclass(frozen=True)
class MonthLine:
    service: str
    month: str  # YYYY-MM
    units: int
    saved_minutes: float


@dataclass(frozen=True)
class ServiceYear:
    service: str
    year: int
    basis: str  # målt | fremskrevet
    units: float  # measured units, or the scenario volume when projected
    period_minutes: float  # minutes saved in the measured period (0 when projected)
    covered_days: int  # first to last unit in the year, inclusive (0 when projected)
    factor: float  # annualisation factor: days in year / covered days (1 when projected)
    annual_minutes: float
    annual_low: float
    annual_high: float
    note: str


@dataclass(frozen=True)
class YearLine:
    year: int
    basis: str
    target_dkk: float
    saved_dkk: float
    saved_dkk_low: float
    saved_dkk_high: float
    target_fte: float
    saved_fte: float
    saved_fte_low: float
    saved_fte_high: float
    investment_dkk: float
    net_dkk: float  # saved − investment
    gap_dkk: float  # target − saved (positive: short of the target)
    gap_fte: float
    saved_hours: float


@dataclass(frozen=True)
class LedgerCount:
    service: str
    task: str
    outcome: str
    rows: int
    volume: float
    volume_unit: str


@dataclass
class SavingsReport:
    simulated: bool
    baselines: Baselines
    units: list[UnitSaving]
    ledger_counts: list[LedgerCount]
    tasks: list[TaskLine]
    months: list[MonthLine]
    service_years: list[ServiceYear]
    years: list[YearLine]
    first_at: datetime | None
    last_at: datetime | None
    notes: list[str] = field(default_factory=list)
    draft_quality: list[DraftQualityLine] = field(default_factory=list)
    seed: int = 0
    resamples: int = 2000

    def minutes_to_fte(self, minutes: float) -> float:
        return minutes / 60 / self.baselines["hours_per_fte"]

    def fte_to_dkk(self, fte: float) -> float:
        return fte * self.baselines["dkk_per_fte"]


BASELINE_NOTES = {
    "minutes.referat": "minutes_manual_per_meeting_hour − (målt review_seconds eller "
    "minutes_review_per_meeting_hour + minutes_rewrite_factor × edit_ratio × manuel tid "
    "+ minutes_fix_per_draft_item × (fjernede + tilføjede punkter))",
    "minutes.afventer": "0 indtil udkastet er godkendt",
    "minutes.fejlet": "0",
    "chatbot.svar": "manual_minutes fra feedback (målt) ellers chatbot_manual_lookup_per_question − "
    "chatbot_minutes_with_kai_per_answer",
    "chatbot.uden_gevinst": "0 (undladt svar eller markeret ikke hjælpsomt)",
    "mailsort.auto": "mailsort_manual_routing_per_mail",
    "mailsort.fejlsorteret": "− mailsort_extra_per_misroute",
    "mailsort.manuel": "0",
}


def _task_lines(units: list[UnitSaving], rng: np.random.Generator, resamples: int) -> list[TaskLine]:
    lines = []
    for key, cat in CATEGORIES.items():
        chosen = [u for u in units if u.category == key]
        saved = [u.saved_minutes for u in chosen]
        total = float(sum(saved))
        low, high = interval(bootstrap_sums(saved, rng, resamples), total)
        lines.append(
            TaskLine(
                key,
                cat.service,
                cat.label,
                len(chosen),
                sum(u.measured for u in chosen),
                float(sum(u.manual_minutes for u in chosen)),
                float(sum(u.kai_minutes for u in chosen)),
                total,
                low,
                high,
                BASELINE_NOTES[key],
            )
        )
    return lines


def _month_lines(units: list[UnitSaving]) -> list[MonthLine]:
    buckets: dict[tuple[str, str], list[float]] = defaultdict(list)
    for u in units:
        buckets[(u.service, u.at.strftime("%Y-%m"))].append(u.saved_minutes)
    return [
        MonthLine(service, month, len(values), float(sum(values)))
        for (service, month), values in sorted(buckets.items(), key=lambda kv: (kv[0][1], kv[0][0]))
    ]


def _ledger_counts(rows: Sequence[LedgerRow]) -> list[LedgerCount]:
    buckets: dict[tuple[str, str, str], list[LedgerRow]] = defaultdict(list)
    for r in rows:
        buckets[(r.service, r.task, r.outcome)].append(r)
    return [
        LedgerCount(s, t, o, len(group), float(sum(r.volume for r in group)), group[0].volume_unit)
        for (s, t, o), group in sorted(buckets.items())
    ]


def _measured_year(
    service: str, year: int, units: list[UnitSaving], rng: np.random.Generator, resamples: int
) -> tuple[ServiceYear, np.ndarray]:
    # Annualise by the span actually covered: first to last unit of this service in the year, inclusive.
    days_in_year = 366 if calendar.isleap(year) else 365
    covered = (units[-1].at.date() - units[0].at.date()).days + 1
    factor = days_in_year / covered
    values = [u.saved_minutes for u in units]
    total = float(sum(values))
    samples = bootstrap_sums(values, rng, resamples) * factor
    low, high = interval(samples, total * factor)
    note = f"{len(units)} enheder over {covered} dage, opregnet ×{factor:.2f} til helt år"
    if covered < 28:
        note += " (kort måleperiode: usikker opregning)"
    line = ServiceYear(
        service, year, MEASURED, len(units), total, covered, factor, total * factor, low, high, note
    )
    return line, samples


def _projected_year(
    service: str, year: int, pool: list[UnitSaving], b: Baselines, rng: np.random.Generator, resamples: int
) -> tuple[ServiceYear, np.ndarray]:
    volume = b.scenarios[year].volume(service) if year in b.scenarios else 0.0
    if not pool:
        note = "ingen målinger for tjenesten: fremskrivning sat til 0"
        return ServiceYear(service, year, PROJECTED, volume, 0.0, 0, 1.0, 0.0, 0.0, 0.0, note), np.zeros(
            resamples
        )
    values = [u.saved_minutes for u in pool]
    mean = float(np.mean(values))
    samples = bootstrap_sums(values, rng, resamples) / len(values) * volume
    low, high = interval(samples, mean * volume)
    note = f"scenarie: {volume:,.0f} enheder × {mean:.2f} min. pr. enhed (gennemsnit af {len(values)} målte)"
    return ServiceYear(service, year, PROJECTED, volume, 0.0, 0, 1.0, mean * volume, low, high, note), samples


def _year_basis(bases: list[str]) -> str:
    if all(b == MEASURED for b in bases):
        return MEASURED
    return PROJECTED if all(b == PROJECTED for b in bases) else PARTLY


def compute_from_rows(
    rows: Sequence[LedgerRow],
    baselines: Baselines,
    *,
    simulated: bool = False,
    seed: int = 0,
    resamples: int = 2000,
) -> SavingsReport:
    """The whole calculation from detached ledger rows (the database-free core, used by the tests)."""
    rng = np.random.default_rng(seed)
    units = units_from_rows(rows, baselines)
    settled = [u for u in units if u.settled]
    report = SavingsReport(
        simulated=simulated,
        baselines=baselines,
        units=units,
        ledger_counts=_ledger_counts(rows),
        tasks=_task_lines(units, rng, resamples),
        months=_month_lines(units),
        draft_quality=draft_quality(rows),
        service_years=[],
        years=[],
        first_at=rows[0].created_at if rows else None,
        last_at=rows[-1].created_at if rows else None,
        seed=seed,
        resamples=resamples,
    )
    for year_budget in BUDGET:
        year = year_budget.year
        samples = np.zeros(resamples)
        bases = []
        for service in SERVICES:
            in_year = [u for u in settled if u.service == service and u.at.year == year]
            if in_year:
                line, draws = _measured_year(service, year, in_year, rng, resamples)
            else:
                pool = [u for u in settled if u.service == service]
                line, draws = _projected_year(service, year, pool, baselines, rng, resamples)
            report.service_years.append(line)
            samples = samples + draws
            bases.append(line.basis)
        minutes = sum(s.annual_minutes for s in report.service_years if s.year == year)
        low_min, high_min = interval(samples, minutes)
        fte = report.minutes_to_fte(minutes)
        dkk = report.fte_to_dkk(fte)
        report.years.append(
            YearLine(
                year=year,
                basis=_year_basis(bases),
                target_dkk=year_budget.efficiency_dkk,
                saved_dkk=dkk,
                saved_dkk_low=report.fte_to_dkk(report.minutes_to_fte(low_min)),
                saved_dkk_high=report.fte_to_dkk(report.minutes_to_fte(high_min)),
                target_fte=year_budget.fte_removed,
                saved_fte=fte,
                saved_fte_low=report.minutes_to_fte(low_min),
                saved_fte_high=report.minutes_to_fte(high_min),
                investment_dkk=year_budget.investment_dkk,
                net_dkk=dkk - year_budget.investment_dkk,
                gap_dkk=year_budget.efficiency_dkk - dkk,
                gap_fte=year_budget.fte_removed - fte,
                saved_hours=minutes / 60,
            )
        )
    report.notes = _notes(report)
    return report


def _notes(report: SavingsReport) -> list[str]:
    notes = [
        "Frigjort tid er tid frigjort fra opgaver, ikke fra navngivne medarbejdere. Budgettets nedlagte "
        "stillinger er en beslutning, ikke en måling, og vises kun som mål.",
        "Målte år opregnes til helt år ud fra perioden fra første til sidste registrering i året "
        "(dage i året / dækkede dage) pr. tjeneste; det forudsætter jævnt forbrug.",
        "Fremskrevne år = scenariets antal enheder × gennemsnitlig besparelse pr. målt enhed.",
        f"95 %-intervaller: bootstrap over besparelsen pr. enhed ({report.resamples} gentrækninger, "
        f"seed {report.seed}); usikkerheden i de antagne baselines er ikke med.",
    ]
    pending = sum(1 for u in report.units if not u.settled)
    if pending:
        notes.append(f"{pending} møder afventer godkendelse og tæller 0, indtil referatet er godkendt.")
    if report.simulated:
        notes.insert(0, "SIMULEREDE DATA: tallene bygger på simuleret brug, ikke på målinger.")
    if not report.units:
        notes.append("Ingen registreringer i forbrugsloggen: alle tal er 0.")
    return notes


def compute_savings(
    db: Database,
    *,
    simulated: bool = False,
    baselines_path: Path | str | None = None,
    seed: int = 0,
    resamples: int = 2000,
) -> SavingsReport:
    """The savings calculation over the ledger: measured rows only, or simulated rows only."""
    baselines = load_baselines(baselines_path)
    return compute_from_rows(
        load_rows(db, simulated=simulated), baselines, simulated=simulated, seed=seed, resamples=resamples
    )


def year_dicts(report: SavingsReport) -> list[dict[str, Any]]:
    """The per-year budget comparison as JSON-ready dicts (the key order is part of the API)."""
    return [
        {
            "year": y.year,
            "target_dkk": round(y.target_dkk),
            "saved_dkk": round(y.saved_dkk),
            "saved_dkk_low": round(y.saved_dkk_low),
            "saved_dkk_high": round(y.saved_dkk_high),
            "target_fte": y.target_fte,
            "saved_fte": round(y.saved_fte, 3),
            "investment_dkk": round(y.investment_dkk),
            "net_dkk": round(y.net_dkk),
            "basis": y.basis,
            "saved_fte_low": round(y.saved_fte_low, 3),
            "saved_fte_high": round(y.saved_fte_high, 3),
            "saved_hours": round(y.saved_hours, 1),
            "gap_dkk": round(y.gap_dkk),
            "gap_fte": round(y.gap_fte, 3),
            "simulated": report.simulated,
        }
        for y in report.years
    ]


def savings_by_year(
    db: Database, *, simulated: bool = False, baselines_path: Path | str | None = None
) -> list[dict[str, Any]]:
    """Budget year by year: target vs saved DKK (with 95 % interval), FTE, investment and net."""
    return year_dicts(compute_savings(db, simulated=simulated, baselines_path=baselines_path))
