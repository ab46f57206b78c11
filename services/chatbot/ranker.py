"""A collection's learned ranker: which of the fused search's best units answers the question?

The fused score (``retrieval._fuse``) weighs nothing: it is the mean of the words' and the meaning's best
z-score. The ranker learns, per collection, how to read the four retrievers together: for each of the
``CANDIDATES`` best units by the fused score it computes ``FEATURES`` — each retriever's z-score, its
margin to that retriever's best unit and its reciprocal rank, the raw cosines, how many retrievers put the
unit in their top five, how many of the question's nearest expansion questions belong to the unit, how the
unit's other stk. score (aggregation over a §), and the unit's size and number of questions — and a logistic
regression (standardised features, scikit-learn's defaults) scores each candidate.

It is trained when the index is built, on the collection's own expansion questions, each searched in an index
*without its cross-validation fold* (the same out-of-fold searches the abstention model learns from, see
``abstention.training_set``), so a question never ranks against its own expansions in training. The labels
are the question's unit against the other candidates. Saved with the index as plain numbers (``RankerModel``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np
from sklearn.linear_model import LogisticRegression

from services.chatbot.types import RankerModel

if TYPE_CHECKING:
    from services.chatbot.index import CollectionIndex


class SearchScores(Protocol):
    """What the ranker reads of one collection's search (``retrieval.CollectionScores`` is one); declared
    here so the ranker does not import the retrieval that calls it."""

    index: CollectionIndex
    chunk_bm25: np.ndarray  # per chunk
    chunk_dense: np.ndarray  # per chunk
    question_similarity: np.ndarray  # per expansion
    signals: dict[str, np.ndarray]  # retriever → per-unit raw score
    signal_z: dict[str, np.ndarray]  # retriever → per-unit z-score of its raw score
    fused: np.ndarray  # per unit


CANDIDATES = 30  # units the ranker reorders (the fused search's best); recall@30 bounds what it can reach
NEIGHBOURS = 10  # the question's nearest expansion questions, for the neighbour vote
_SIGNALS = ("text_bm25", "text_dense", "question_bm25", "question_dense")
_MISSING_GAP = -10.0  # a unit a retriever does not score (no questions): far below that retriever's best
FEATURES = (
    *(f"{s}_z" for s in _SIGNALS),
    *(f"{s}_gap" for s in _SIGNALS),
    *(f"{s}_reciprocal_rank" for s in _SIGNALS),
    "text_dense_cosine",
    "question_dense_cosine",
    "fused",
    "fused_gap",
    "fused_reciprocal_rank",
    "top5_votes",
    "neighbour_share",
    "neighbour_similarity",
    "text_dense_stk_mean",
    "text_bm25_stk_share",
    "has_questions",
    "log_questions",
    "log_stk",
)
# Fewer training questions than this: no ranker (the fused order is kept).
MIN_QUESTIONS = 20


@dataclass
class RankingRows:
    """Candidates of a set of searches: features, whether each is the question's unit, and the search."""

    features: np.ndarray  # (rows, len(FEATURES))
    relevant: np.ndarray  # bool per row
    group: np.ndarray  # the search (question) each row belongs to

    @classmethod
    def empty(cls) -> RankingRows:
        return cls(np.zeros((0, len(FEATURES))), np.zeros(0, dtype=bool), np.zeros(0, dtype=np.int64))

    @classmethod
    def concatenate(cls, parts: Sequence[RankingRows]) -> RankingRows:
        if not parts:
            return cls.empty()
        return cls(
            np.vstack([p.features for p in parts]),
            np.concatenate([p.relevant for p in parts]),
            np.concatenate([p.group for p in parts]),
        )


def candidates(scores: SearchScores, count: int = CANDIDATES) -> np.ndarray:
    """The ``count`` best units by the fused score, best first."""
    fused = scores.fused
    count = min(count, len(fused))
    top = np.argpartition(-fused, count - 1)[:count]
    return top[np.argsort(-fused[top], kind="stable")]


def _ranks(values: np.ndarray) -> np.ndarray:
    """1-based rank of every unit by ``values`` (NaN last)."""
    order = np.argsort(-np.where(np.isfinite(values), values, -np.inf), kind="stable")
    ranks = np.empty(len(values), dtype=np.float64)
    ranks[order] = np.arange(1, len(values) + 1)
    return ranks


def features(scores: SearchScores, units: np.ndarray) -> np.ndarray:
    """``FEATURES`` of each of ``units`` (rows in their order) for this search."""
    index = scores.index
    columns: list[np.ndarray] = []
    zs, gaps, reciprocal, top5 = [], [], [], np.zeros(len(units))
    for name in _SIGNALS:
        values = scores.signals[name]
        z = scores.signal_z[name]
        best = float(np.nanmax(z)) if np.isfinite(z).any() else 0.0
        ranks = _ranks(values)
        defined = np.isfinite(values[units])
        zs.append(np.where(defined, z[units], 0.0))
        gaps.append(np.where(defined, z[units] - best, _MISSING_GAP))
        reciprocal.append(np.where(defined, 1.0 / ranks[units], 0.0))
        top5 += defined & (ranks[units] <= 5)
    columns += zs + gaps + reciprocal
    columns.append(scores.signals["text_dense"][units])
    question_dense = scores.signals["question_dense"][units]
    columns.append(np.where(np.isfinite(question_dense), question_dense, 0.0))
    fused = scores.fused
    columns += [fused[units], fused[units] - float(fused.max()), 1.0 / _ranks(fused)[units], top5]
    # The neighbour vote: the share of the question's nearest expansion questions written for each unit, and
    # their mean similarity (a § several close questions point to beats one that a single question matches).
    share, similarity = np.zeros(len(units)), np.zeros(len(units))
    if len(scores.question_similarity):
        count = min(NEIGHBOURS, len(scores.question_similarity))
        nearest = np.argpartition(-scores.question_similarity, count - 1)[:count]
        position = {int(u): i for i, u in enumerate(units)}
        for question in nearest:
            i = position.get(int(index.question_unit[question]))
            if i is not None:
                share[i] += 1.0 / count
                similarity[i] += float(scores.question_similarity[question]) / count
    columns += [share, similarity]
    # Aggregation over a §'s stk.: the mean closeness of its stk. and the share of its words' score that its
    # stk. together carry against its best one (a § matched in several stk. against one matched in one).
    stk_mean, stk_share, stk_count = np.zeros(len(units)), np.zeros(len(units)), np.zeros(len(units))
    for i, unit in enumerate(units):
        rows = index.unit_rows(int(unit))
        stk_mean[i] = float(scores.chunk_dense[rows].mean())
        bm25 = scores.chunk_bm25[rows]
        stk_share[i] = float(bm25.sum() / bm25.max()) if bm25.max() > 0 else 0.0
        stk_count[i] = len(rows)
    questions_per_unit = index.questions_per_unit[units]
    columns += [
        stk_mean,
        stk_share,
        (questions_per_unit > 0).astype(np.float64),
        np.log1p(questions_per_unit),
        np.log(stk_count),
    ]
    return np.column_stack(columns).astype(np.float64)


def ranking_rows(scores: SearchScores, unit: tuple[str, str], group: int) -> RankingRows:
    """The candidates of one training search whose question was written for ``unit``; empty when the unit is
    not among the candidates (nothing to learn about the order)."""
    units = candidates(scores)
    relevant = np.array([scores.index.units[int(u)] == unit for u in units])
    if not relevant.any():
        return RankingRows.empty()
    return RankingRows(features(scores, units), relevant, np.full(len(units), group, dtype=np.int64))


def fit(rows: RankingRows) -> RankerModel | None:
    """A logistic regression on standardised features (scikit-learn's defaults: L2, C=1, lbfgs); None with
    fewer than ``MIN_QUESTIONS`` training searches."""
    if len(np.unique(rows.group)) < MIN_QUESTIONS:
        return None
    mean = rows.features.mean(axis=0)
    scale = rows.features.std(axis=0)
    scale[scale == 0] = 1.0
    regression = LogisticRegression(max_iter=2000).fit((rows.features - mean) / scale, rows.relevant)
    return RankerModel(
        FEATURES,
        tuple(float(v) for v in mean),
        tuple(float(v) for v in scale),
        tuple(float(v) for v in regression.coef_[0]),
        float(regression.intercept_[0]),
        {"searches": len(np.unique(rows.group)), "rows": len(rows.relevant)},
    )


def rank(model: RankerModel, scores: SearchScores) -> tuple[np.ndarray, np.ndarray]:
    """The candidates in the ranker's order and their scores (log-odds that each is the answering unit)."""
    if model.features != FEATURES:
        raise ValueError("the ranker was trained on other features: rebuild the index")
    units = candidates(scores)
    logits = model.logits(features(scores, units))
    order = np.argsort(-logits, kind="stable")
    return units[order], logits[order]
