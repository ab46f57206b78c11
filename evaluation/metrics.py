"""Quality metrics shared by the services' own evaluation commands and the benchmarks.

Retrieval: a hit is a citation with the same source and § as a gold entry; a gold entry without a section (an
IT guide) matches on source alone. Recall@k is the share of a question's gold entries found in its top k,
averaged over answerable questions; abstention is scored apart from ranking.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class JudgedRanking:
    ranked: Sequence[tuple[str, str]]  # (source, section) of each citation, best first
    gold: Sequence[Mapping[str, str]]  # {"source", "section"?}; empty when the corpus does not answer
    abstained: bool


def is_hit(source: str, section: str, gold: Mapping[str, str]) -> bool:
    if source != gold.get("source"):
        return False
    return not gold.get("section") or section == str(gold["section"])


def recall_at(item: JudgedRanking, k: int) -> float:
    found = sum(1 for g in item.gold if any(is_hit(s, sec, g) for s, sec in item.ranked[:k]))
    return found / len(item.gold)


def first_hit_rank(item: JudgedRanking) -> int | None:
    return next(
        (
            rank
            for rank, (s, sec) in enumerate(item.ranked, start=1)
            if any(is_hit(s, sec, g) for g in item.gold)
        ),
        None,
    )


def _mean(values: Sequence[float]) -> float:
    return round(sum(values) / len(values), 4) if values else 0.0


def retrieval_scores(items: Sequence[JudgedRanking]) -> dict[str, float]:
    """recall@1, recall@5 and MRR over answerable items; abstention on unanswerable and answerable ones."""
    answerable = [i for i in items if i.gold]
    unanswerable = [i for i in items if not i.gold]
    ranks = [first_hit_rank(i) for i in answerable]
    return {
        "recall_at_1": _mean([recall_at(i, 1) for i in answerable]),
        "recall_at_5": _mean([recall_at(i, 5) for i in answerable]),
        "mrr": _mean([1 / r if r else 0.0 for r in ranks]),
        "abstain_rate_unanswerable": _mean([1.0 if i.abstained else 0.0 for i in unanswerable]),
        "false_abstain_rate": _mean([1.0 if i.abstained else 0.0 for i in answerable]),
    }


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank percentile (q in 0..1): a value that was actually measured."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]
