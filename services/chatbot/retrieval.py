"""Hybrid search over one or more collection indexes, and the decision whether they answer a question at all.

In each collection a question is searched four ways, each scoring *citation units* — a § of a law (the best of
its stk. chunks) or a guide file:

    text_bm25       BM25 over the texts' Danish terms (stemmed, æøå-folded, compound parts, typo-tolerant)
    text_dense      e5 cosine between the question and the unit's closest chunk
    question_bm25   BM25 over the questions written for the unit (one document per unit: its questions)
    question_dense  e5 cosine between the question and the unit's closest question

A retriever's unit scores are z-scored over the units it scores. A unit's evidence of each kind — words
(BM25) and meaning (dense) — is the better of its text's and its questions' z-score: a unit is as relevant as
its best-matching part, a stk. or a question written for it, and a question that matches none of its questions
is no evidence against it (the questions cover some of what a unit answers, not all). The fused score is the
mean of the two kinds. No weight is fitted, so nothing here is tuned to evaluation questions; a unit nobody
wrote questions for is scored on its text alone.

Each collection's ranker (trained with its index on its own questions' out-of-fold searches, see
``ranker.py``) then reorders the fused search's best units from features of all four retrievers. An optional
cross-encoder reorders the best units after it.

Each collection's abstention model (trained with its index, see ``abstention.py``) turns the search's evidence
into the probability that the collection answers the question; hits come from the collections that do.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from services.chatbot import ranker
from services.chatbot.index import CollectionIndex, analyze, compound_parts, question_key
from services.chatbot.types import Chunk
from services.common.errors import ConfigurationError

if TYPE_CHECKING:
    import bm25s

    from models.embedders import Embedder, Reranker

RETRIEVERS = ("text_bm25", "text_dense", "question_bm25", "question_dense")
_KINDS = (("text_bm25", "question_bm25"), ("text_dense", "question_dense"))  # words, meaning
# The evidence an abstention model reads (see ``evidence``).
EVIDENCE = (
    "fused_top",
    "fused_margin",
    "text_dense_top",
    "question_dense_top",
    "out_of_scope_dense_top",
    "domain",
    "agreement",
    "coverage",
)


@dataclass(frozen=True)
class RetrievalConfig:
    """Knobs of the search. Nothing is fitted: the defaults are general; retriever subsets are ablations."""

    retrievers: tuple[str, ...] = RETRIEVERS
    fuzzy_similarity: float = 85.0  # rapidfuzz ratio an unknown word needs to match an indexed term
    use_fuzzy: bool = True
    use_compounds: bool = True
    use_ranker: bool = True  # the collection's learned ranker, where it has one (off: the fused order)
    rerank_candidates: int = 20
    rerank_weight: float = 1.0
    # None: each collection's own threshold, chosen by cross-validation when its model was trained.
    abstain_threshold: float | None = None


DEFAULT_CONFIG = RetrievalConfig()


@dataclass(frozen=True)
class Query:
    """A question as the search sees it: its text and its embedding (by the model named ``embedder``)."""

    text: str
    vector: np.ndarray
    embedder: str

    @cached_property
    def terms(self) -> list[str]:
        return analyze(self.text)


def embed_query(text: str, embedder: Embedder) -> Query:
    return Query(text, embedder.embed_queries([text])[0], embedder.name)


@dataclass
class Hit:
    """One citation unit (a § or a guide file), represented by its best-matching chunk."""

    chunk: Chunk
    score: float  # the ranker's log-odds (the fused score in a collection without a ranker); higher is better
    collection: str
    scores: dict[str, float] = field(default_factory=dict)  # per retriever: the unit's raw score
    ranks: dict[str, int] = field(default_factory=dict)  # per retriever: 1-based rank (absent: not ranked)
    # The unit's question closest to the query, if it has questions: its words help choose the sentences of
    # the unit's text to highlight (the highlighted text itself is always the unit's).
    question: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.chunk.source, self.chunk.section)


@dataclass(frozen=True)
class Verdict:
    """Whether one collection answers the question: the model's probability against its threshold."""

    collection: str
    confidence: float
    threshold: float
    evidence: dict[str, float]

    @property
    def answers(self) -> bool:
        return self.confidence >= self.threshold


@dataclass
class SearchResult:
    hits: list[Hit]  # best first; also when every collection declines (evaluation scores the ranking)
    verdicts: list[Verdict]

    @property
    def abstained(self) -> bool:
        return not any(v.answers for v in self.verdicts)

    @property
    def confidence(self) -> float:
        """The highest probability that a searched collection answers the question."""
        return max((v.confidence for v in self.verdicts), default=0.0)


# --- scoring -------------------------------------------------------------------------------------------


def _bm25_scores(bm25: bm25s.BM25, weights: dict[str, float], documents: int) -> np.ndarray:
    data, indices, indptr = (bm25.scores[k] for k in ("data", "indices", "indptr"))
    scores = np.zeros(documents, dtype=np.float32)
    for term, weight in weights.items():
        column = bm25.vocab_dict.get(term)
        if column is not None:
            start, end = indptr[column], indptr[column + 1]
            scores[indices[start:end]] += weight * data[start:end]
    return scores


def _index_terms(index: CollectionIndex, terms: Sequence[str], config: RetrievalConfig) -> dict[str, float]:
    """Query terms as this index knows them: unknown words map to their compound parts or close spellings."""
    vocabulary = index.vocabulary
    weights: dict[str, float] = {}
    for term in terms:
        if term in vocabulary:
            weights[term] = 1.0
            continue
        found: dict[str, float] = {}
        if config.use_compounds:
            for part in compound_parts(term, index.term_set):
                found[part] = 0.7
        if config.use_fuzzy and not found and len(term) >= 4:
            found.update(index.similar_terms(term, config.fuzzy_similarity))
        for candidate, weight in found.items():
            weights[candidate] = max(weights.get(candidate, 0.0), weight)
    return weights


def _cosines(rows: np.ndarray, vector: np.ndarray) -> np.ndarray:
    """``rows @ vector`` without BLAS: on a busy server its threads only add waiting to a matrix-vector
    product (1,894 × 384 at load 4 on 2 cores: 4 ms with OpenBLAS, 0.1 ms with einsum's own loop)."""
    return np.einsum("ij,j->i", rows, vector)


def standardized(values: np.ndarray) -> np.ndarray:
    """z-scores over the defined (finite) values: how far above this question's typical unit each unit scores,
    in standard deviations; NaN stays NaN (a unit the retriever does not score)."""
    defined = np.isfinite(values)
    result = np.full(values.shape, np.nan)
    if defined.any():
        spread = float(values[defined].std())
        centred = values[defined] - float(values[defined].mean())
        result[defined] = centred / spread if spread > 0 else 0.0
    return result


@dataclass
class CollectionScores:
    """One collection's scores for one question."""

    index: CollectionIndex
    query: Query
    chunk_bm25: np.ndarray  # per chunk
    chunk_dense: np.ndarray  # per chunk
    question_similarity: np.ndarray  # per expansion: cosine with the query
    signals: dict[str, np.ndarray]  # retriever → per-unit raw score (NaN: the unit has no questions)
    signal_z: dict[str, np.ndarray]  # retriever → per-unit z-score of ``signals`` (read by fusion and ranker)
    fused: np.ndarray  # per unit: the mean over kinds of the best configured retriever's z-score
    config: RetrievalConfig


def score_collection(index: CollectionIndex, query: Query, config: RetrievalConfig) -> CollectionScores:
    if index.embedder_name != query.embedder:
        # Vectors of two models are not comparable: the collection must be re-ingested.
        raise ConfigurationError(
            f"Index {index.name!r} was built with {index.embedder_name}, not {query.embedder}; "
            "re-ingest it after changing KAI_EMBEDDING_MODEL."
        )
    chunk_bm25 = _bm25_scores(index.bm25, _index_terms(index, query.terms, config), len(index.chunks))
    chunk_dense = _cosines(index.embeddings, query.vector)
    units = len(index.units)
    question_bm25 = np.full(units, np.nan)
    question_dense = np.full(units, np.nan)
    question_similarity = _cosines(index.questions.vectors, query.vector)
    if index.question_bm25 is not None:
        weights = dict.fromkeys(query.terms, 1.0)
        documents = len(index.question_bm25_units)
        question_bm25[index.question_bm25_units] = _bm25_scores(index.question_bm25, weights, documents)
        question_dense[index.question_bm25_units] = index.pool_questions(question_similarity)
    signals = {
        "text_bm25": index.pool_units(chunk_bm25).astype(np.float64),
        "text_dense": index.pool_units(chunk_dense).astype(np.float64),
        "question_bm25": question_bm25,
        "question_dense": question_dense,
    }
    signal_z = {name: standardized(values) for name, values in signals.items()}
    fused = _fuse(signal_z, config)
    return CollectionScores(
        index, query, chunk_bm25, chunk_dense, question_similarity, signals, signal_z, fused, config
    )


def _fuse(signal_z: dict[str, np.ndarray], config: RetrievalConfig) -> np.ndarray:
    """Per unit, the mean over kinds (words, meaning) of the best z-score among that kind's configured
    retrievers that score the unit; 0 for a unit none of them scores."""
    kinds = []
    for kind in _KINDS:
        used = [signal_z[name] for name in kind if name in config.retrievers]
        if used:
            stacked = np.vstack(used)
            best = np.where(np.isfinite(stacked), stacked, -np.inf).max(axis=0)
            kinds.append(np.where(np.isfinite(best), best, np.nan))
    stacked = np.vstack(kinds)
    defined = np.isfinite(stacked)
    return np.where(defined, stacked, 0.0).sum(axis=0) / np.maximum(defined.sum(axis=0), 1)


# --- abstention evidence and verdicts --------------------------------------------------------------------


def evidence(scores: CollectionScores) -> dict[str, float]:
    """What an abstention model reads: how strongly and how unanimously the best unit wins, how close the
    question is to the texts, to the questions the units answer and to questions known to be out of scope,
    to the collection as a whole (``domain``), and how many of its words the collection knows."""
    index, query, fused = scores.index, scores.query, scores.fused
    order = np.argsort(-fused, kind="stable")
    best = int(order[0])
    second = float(fused[order[1]]) if len(order) > 1 else float(fused[best])
    questions = index.questions
    bests = [
        int(np.nanargmax(scores.signals[name]))
        for name in scores.config.retrievers
        if np.isfinite(scores.signals[name]).any()
    ]
    terms = query.terms
    question_dense = scores.signals["question_dense"]
    return {
        "fused_top": float(fused[best]),
        "fused_margin": float(fused[best]) - second,
        "text_dense_top": float(scores.chunk_dense.max()),
        # No questions: no evidence from them (cosine 0).
        "question_dense_top": float(np.nanmax(question_dense)) if np.isfinite(question_dense).any() else 0.0,
        "out_of_scope_dense_top": float(_cosines(questions.out_of_scope_vectors, query.vector).max())
        if questions.out_of_scope
        else 0.0,
        "domain": float(index.centroid @ query.vector),
        "agreement": sum(b == best for b in bests) / len(bests) if bests else 0.0,
        "coverage": sum(t in index.known_terms for t in terms) / len(terms) if terms else 0.0,
    }


def verdict(scores: CollectionScores) -> Verdict:
    """The collection's abstention model on this search. A collection without one (too few questions were
    written for it to learn its scope) answers whenever its texts or its questions share a word with it."""
    found = evidence(scores)
    model = scores.index.abstention
    override = scores.config.abstain_threshold
    if model is None:
        words = np.nan_to_num(np.concatenate([scores.signals["text_bm25"], scores.signals["question_bm25"]]))
        matched = float(words.max() > 0)
        return Verdict(scores.index.name, matched, 0.5 if override is None else override, found)
    threshold = model.threshold if override is None else override
    return Verdict(scores.index.name, model.probability(found), threshold, found)


# --- search --------------------------------------------------------------------------------------------


def search(
    indexes: Sequence[CollectionIndex],
    query: Query,
    *,
    k: int = 5,
    reranker: Reranker | None = None,
    config: RetrievalConfig = DEFAULT_CONFIG,
) -> SearchResult:
    """The ``k`` best citation units for ``query`` over ``indexes``, best first (a § appears once), from the
    collections whose abstention model says they answer it (from all, when none does)."""
    if not indexes or not query.text.strip():
        return SearchResult([], [])
    scored = [score_collection(index, query, config) for index in indexes]
    verdicts = [verdict(s) for s in scored]
    answering = [s for s, v in zip(scored, verdicts, strict=True) if v.answers] or scored
    wanted = max(k, config.rerank_candidates if reranker else k)
    hits = _best_units(answering, wanted)
    if reranker is not None and hits:
        hits = _rerank(hits, query.text, reranker, config)
    return SearchResult(hits[:k], verdicts)


def _ordered(scores: CollectionScores, wanted: int) -> tuple[np.ndarray, np.ndarray]:
    """A collection's best units and their scores: in the ranker's order where the collection has one (among
    the fused search's ``ranker.CANDIDATES`` best), else in the fused order."""
    model = scores.index.ranker
    if model is None or not scores.config.use_ranker:
        units = _top(scores.fused, wanted)
        return units, scores.fused[units]
    units, logits = ranker.rank(model, scores)
    own = scores.index.unit_by_question.get(question_key(scores.query.text))
    if own is not None:
        # A question asked again that a unit's questions hold word for word (an editor attached it, or it was
        # written for the unit) is answered by that unit. The ranker learnt from searches without the question
        # itself and never saw such a match.
        keep = units != own
        units = np.r_[own, units[keep]]
        logits = np.r_[float(logits.max()) + 1.0, logits[keep]]
    return units[:wanted], logits[:wanted]


def _best_units(scored: list[CollectionScores], wanted: int) -> list[Hit]:
    candidates = sorted(
        (
            (float(score), position, int(unit))
            for position, s in enumerate(scored)
            for unit, score in zip(*_ordered(s, wanted), strict=True)
        ),
        key=lambda item: (-item[0], item[1], item[2]),
    )[:wanted]
    hits = []
    for score, position, unit in candidates:
        s = scored[position]
        rows = s.index.unit_rows(unit)
        # Within a unit, the chunk shown is the stk. that is best on both text scores (each in units of its
        # spread): a highlighted sentence is always the law's or the guide's own text.
        chunk_score = s.chunk_bm25[rows] / max(float(s.chunk_bm25.std()), 1e-9) + s.chunk_dense[rows] / max(
            float(s.chunk_dense.std()), 1e-9
        )
        row = int(rows[np.argmax(chunk_score)])
        defined = {name: values for name, values in s.signals.items() if np.isfinite(values[unit])}
        own = np.flatnonzero(s.index.question_unit == unit)
        closest = own[np.argmax(s.question_similarity[own])] if len(own) else None
        hits.append(
            Hit(
                chunk=s.index.chunks[row],
                score=score,
                collection=s.index.name,
                scores={name: float(values[unit]) for name, values in defined.items()},
                ranks={name: _rank(values, unit) for name, values in defined.items()},
                question=s.index.questions.expansions[closest].text if closest is not None else None,
            )
        )
    return hits


def _top(values: np.ndarray, wanted: int) -> np.ndarray:
    wanted = min(wanted, len(values))
    top = np.argpartition(-values, wanted - 1)[:wanted]
    return top[np.argsort(-values[top], kind="stable")]


def _rank(values: np.ndarray, unit: int) -> int:
    """1-based rank of ``unit`` among the units this retriever scores (ties share the better rank)."""
    return int(np.count_nonzero(values[np.isfinite(values)] > values[unit])) + 1


def _rerank(hits: list[Hit], query: str, reranker: Reranker, config: RetrievalConfig) -> list[Hit]:
    """Add the cross-encoder's z-scored opinion of the candidates to the hybrid score."""
    scores = reranker.score(query, [hit.chunk.searchable for hit in hits])
    z = standardized(scores.astype(np.float64))
    for rank, position in enumerate(np.argsort(-scores, kind="stable"), start=1):
        hit = hits[int(position)]
        hit.scores["rerank"] = float(scores[position])
        hit.ranks["rerank"] = rank
        hit.score += config.rerank_weight * float(z[position])
    return sorted(hits, key=lambda h: -h.score)
