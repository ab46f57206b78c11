"""The budget proposal's target lines per year, as data (source: shared/seed/BUDGET.md).

Høje-Taastrup Kommune, Budget 2026–2029, prioriteringsforslag nr. 10 "Anvendelse af kunstig intelligens".
Amounts are DKK in 2026 prices. The FTE line is positions the budget removes: a political decision, not a
measurement, so the report shows it next to freed time and never calls freed time removed positions.
"""

from __future__ import annotations

from dataclasses import dataclass

SOURCE = (
    "Budget 2026–2029, prioriteringsforslag nr. 10 'Anvendelse af kunstig intelligens i Høje-Taastrup "
    "Kommune' (Økonomiudvalget), 1.000 kr., 2026-priser"
)


@dataclass(frozen=True)
class BudgetYear:
    year: int
    efficiency_dkk: float  # the saving the budget expects (positive number)
    investment_dkk: float  # permanent operating investment in AI
    fte_removed: float  # "Ændring i antal årsværk": positions the budget removes
    source: str = SOURCE


BUDGET: tuple[BudgetYear, ...] = (
    BudgetYear(2026, efficiency_dkk=1_000_000, investment_dkk=1_500_000, fte_removed=2),
    BudgetYear(2027, efficiency_dkk=1_100_000, investment_dkk=1_500_000, fte_removed=2),
    BudgetYear(2028, efficiency_dkk=1_650_000, investment_dkk=1_500_000, fte_removed=3),
    BudgetYear(2029, efficiency_dkk=2_200_000, investment_dkk=1_500_000, fte_removed=4),
)

BUDGET_YEARS: tuple[int, ...] = tuple(b.year for b in BUDGET)
