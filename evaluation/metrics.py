"""Quality metrics shared by the services' own evaluation commands and the benchmarks.

Retrieval: a hit is a citation with the same source and § as a gold entry; a gold entry without a section (an
IT guide) matches on source alone. Recall@k is the share of a question's gold entries found in its top k,
averaged over answerable questions; abstention is scored apart from ranking.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol


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


# ------------------------------------------------------------------------------------------ classification
# Mail routing: a decision names a queue and says whether it went there automatically (``auto``) or to a
# person. Coverage is the share routed automatically; auto precision is the share of those that were right.


class RoutingDecision(Protocol):
    queue: str
    auto: bool


def auto_routing_scores(
    truth: Sequence[str], predicted: Sequence[str], auto: Sequence[bool]
) -> dict[str, float | int]:
    """Coverage and precision of automatic routing (precision is 1.0 when nothing was routed: no mistakes)."""
    routed = [t == p for t, p, a in zip(truth, predicted, auto, strict=True) if a]
    return {
        "auto_count": len(routed),
        "auto_coverage": round(len(routed) / len(truth), 4) if truth else 0.0,
        "auto_precision": round(sum(routed) / len(routed), 4) if routed else 1.0,
    }


def classification_scores(
    truth: Sequence[str], decisions: Sequence[RoutingDecision]
) -> dict[str, float | int]:
    """Accuracy and macro-F1 of the decided queues (auto or not), plus coverage/precision of auto routing."""
    from sklearn.metrics import accuracy_score, f1_score  # lazy: the retrieval metrics need no sklearn

    predicted = [d.queue for d in decisions]
    return {
        "accuracy": round(float(accuracy_score(truth, predicted)), 4),
        # labels: the union of true and predicted queues, so a queue that is never predicted counts as 0
        "macro_f1": round(float(f1_score(truth, predicted, average="macro", zero_division=0)), 4),
        **auto_routing_scores(truth, predicted, [d.auto for d in decisions]),
    }


def per_class_scores(truth: Sequence[str], predicted: Sequence[str]) -> dict[str, dict[str, float | int]]:
    """Precision, recall, F1 and support per true or predicted label."""
    from sklearn.metrics import precision_recall_fscore_support

    labels = sorted(set(truth) | set(predicted))
    p, r, f, s = precision_recall_fscore_support(truth, predicted, labels=labels, zero_division=0)
    return {
        label: {
            "precision": round(float(p[i]), 4),
            "recall": round(float(r[i]), 4),
            "f1": round(float(f[i]), 4),
            "support": int(s[i]),
        }
        for i, label in enumerate(labels)
    }


def coverage_at_precision(correct: Sequence[bool], confidence: Sequence[float], target: float) -> float:
    """The largest share of items one global confidence threshold can pass while the passed items are still
    at least ``target`` precise (chosen after the fact: an upper bound, not a held-out figure)."""
    order = sorted(range(len(correct)), key=lambda i: -confidence[i])
    best, right = 0, 0
    for rank, i in enumerate(order, start=1):
        right += bool(correct[i])
        tie_follows = rank < len(order) and confidence[order[rank]] == confidence[i]
        if not tie_follows and right / rank >= target:
            best = rank
    return round(best / len(correct), 4) if correct else 0.0


def expected_calibration_error(correct: Sequence[bool], confidence: Sequence[float], bins: int = 10) -> float:
    """|accuracy − mean confidence| per equal-width confidence bin, weighted by the bin's share of items."""
    if not correct:
        return 0.0
    total = 0.0
    for b in range(bins):
        low, high = b / bins, (b + 1) / bins
        members = [i for i, c in enumerate(confidence) if low < c <= high or (b == 0 and c == 0.0)]
        if members:
            accuracy = sum(bool(correct[i]) for i in members) / len(members)
            mean_conf = sum(confidence[i] for i in members) / len(members)
            total += len(members) / len(correct) * abs(accuracy - mean_conf)
    return round(total, 4)
