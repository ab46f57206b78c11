"""Hybrid search over one or more collection indexes, and the decision whether they answer a question at all.

A question is searched two ways: BM25 over Danish terms (stemmed, æøå-folded, with compound parts, domain
synonyms from ``thesaurus_da.txt`` and typo-tolerant matching of unknown words) and dense e5 embeddings. Both
score *citation units* — a § of a law (the best of its stk. chunks) or a guide file — and the two scores are
fused as weighted z-scores. An optional cross-encoder reorders the best units. ``should_abstain`` turns the
search's dense evidence into a calibrated probability that the collections answer the question at all.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from services.chatbot.index import CollectionIndex, analyze, compound_parts
from services.chatbot.types import Chunk
from services.common.errors import ConfigurationError

if TYPE_CHECKING:
    from models.embedders import Embedder, Reranker
    from services.common.config import Settings

THESAURUS = Path(__file__).with_name("thesaurus_da.txt")


@dataclass(frozen=True)
class RetrievalConfig:
    """Knobs of the search; the defaults are the values tuned on the dev set (see the chatbot bench)."""

    fusion: str = "z"  # "z": weighted z-scores; "rrf": weighted reciprocal rank fusion (for comparison)
    bm25_weight: float = 0.5
    dense_weight: float = 1.0
    rrf_k: float = 60.0
    synonym_weight: float = 0.5  # query terms added by the thesaurus, relative to the question's own
    fuzzy_similarity: float = 85.0  # rapidfuzz ratio an unknown word needs to match an indexed term
    use_thesaurus: bool = True
    use_fuzzy: bool = True
    use_compounds: bool = True
    # The thesaurus' wording is appended to the dense query too: the small embedder does not know jargon
    # like "BFU", and the abstention model (fitted with this on) reads the dense similarities.
    expand_dense_query: bool = True
    rerank_candidates: int = 20
    rerank_weight: float = 1.0
    # Abstention: logistic model over (best chunk cosine, cosine with the collection centroid); see below.
    abstain_threshold: float = 0.42
    abstain_bias: float = -97.61
    abstain_dense_weight: float = 64.85
    abstain_domain_weight: float = 49.30

    @classmethod
    def from_settings(cls, settings: Settings) -> RetrievalConfig:
        return cls(
            bm25_weight=settings.retrieval_bm25_weight,
            dense_weight=settings.retrieval_dense_weight,
            synonym_weight=settings.retrieval_synonym_weight,
            abstain_threshold=settings.chat_abstain_threshold,
        )


DEFAULT_CONFIG = RetrievalConfig()


@dataclass
class Hit:
    """One citation unit (a § or a guide file), represented by its best-matching chunk."""

    chunk: Chunk
    score: float  # fused score; higher is better
    collection: str
    scores: dict[str, float] = field(default_factory=dict)  # per retriever: the unit's raw score
    ranks: dict[str, int] = field(default_factory=dict)  # per retriever: 1-based rank (absent: not ranked)
    evidence: dict[str, float] = field(default_factory=dict)  # features for the abstention decision

    @property
    def key(self) -> tuple[str, str]:
        return (self.chunk.source, self.chunk.section)


# --- query terms ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Expansion:
    phrases: tuple[tuple[str, ...], ...]  # analysed forms of what people write
    terms: tuple[str, ...]  # analysed terms the texts use
    text: str  # the texts' wording, for the dense query


@cache
def load_thesaurus(path: Path = THESAURUS) -> tuple[Expansion, ...]:
    """The domain thesaurus: 'what people write, … = what the texts call it' per line."""
    expansions = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if "=" not in line:
            continue
        left, right = line.split("=", 1)
        phrases = tuple(p for p in (tuple(analyze(x)) for x in left.split(",")) if p)
        terms = tuple(dict.fromkeys(analyze(right)))
        if phrases and terms:
            expansions.append(Expansion(phrases, terms, right.strip()))
    return tuple(expansions)


def _contains(sequence: list[str], phrase: tuple[str, ...]) -> bool:
    n = len(phrase)
    return any(tuple(sequence[i : i + n]) == phrase for i in range(len(sequence) - n + 1))


@dataclass
class Query:
    text: str
    terms: list[str]  # the question's own analysed terms, in order
    synonyms: dict[str, float]  # thesaurus terms and their weights
    dense_text: str


def parse_query(text: str, config: RetrievalConfig = DEFAULT_CONFIG) -> Query:
    terms = analyze(text)
    synonyms: dict[str, float] = {}
    extra_text: list[str] = []
    if config.use_thesaurus:
        for expansion in load_thesaurus():
            if any(_contains(terms, phrase) for phrase in expansion.phrases):
                extra_text.append(expansion.text)
                for term in expansion.terms:
                    if term not in terms:
                        synonyms[term] = config.synonym_weight
    dense_text = text
    if config.expand_dense_query and extra_text:
        dense_text = f"{text} ({', '.join(extra_text)})"
    return Query(text, terms, synonyms, dense_text)


def _index_terms(index: CollectionIndex, query: Query, config: RetrievalConfig) -> dict[str, float]:
    """Query terms as this index knows them: unknown words map to their compound parts or close spellings."""
    vocabulary = index.vocabulary
    weights: dict[str, float] = {}
    for term in query.terms:
        if term in vocabulary:
            weights[term] = max(weights.get(term, 0.0), 1.0)
            continue
        found: dict[str, float] = {}
        if config.use_compounds:
            for part in compound_parts(term, index.term_set):
                found[part] = 0.7
        if config.use_fuzzy and not found and len(term) >= 4:
            found.update(index.similar_terms(term, config.fuzzy_similarity))
        for candidate, weight in found.items():
            weights[candidate] = max(weights.get(candidate, 0.0), weight)
    for term, weight in query.synonyms.items():
        if term in vocabulary and term not in weights:
            weights[term] = weight
    return weights


# --- scoring -------------------------------------------------------------------------------------------


def _bm25_chunk_scores(index: CollectionIndex, weights: dict[str, float]) -> np.ndarray:
    data, indices, indptr = (index.bm25.scores[k] for k in ("data", "indices", "indptr"))
    scores = np.zeros(len(index.chunks), dtype=np.float32)
    for term, weight in weights.items():
        column = index.vocabulary.get(term)
        if column is not None:
            start, end = indptr[column], indptr[column + 1]
            scores[indices[start:end]] += weight * data[start:end]
    return scores


def _standardized(values: np.ndarray) -> np.ndarray:
    """z-scores: how far above this question's typical unit each unit scores, in standard deviations."""
    spread = float(values.std())
    return (values - float(values.mean())) / spread if spread > 0 else np.zeros_like(values)


def _reciprocal_ranks(values: np.ndarray, k: float) -> np.ndarray:
    ranks = np.empty(len(values), dtype=np.float64)
    ranks[np.argsort(-values, kind="stable")] = np.arange(1, len(values) + 1)
    return np.where(values > 0, 1.0 / (k + ranks), 0.0)


def query_terms(text: str, config: RetrievalConfig = DEFAULT_CONFIG) -> set[str]:
    """The analysed terms a search looks for: the question's own and the thesaurus' (for highlighting)."""
    parsed = parse_query(text, config)
    return set(parsed.terms) | set(parsed.synonyms)


def search(
    indexes: Sequence[CollectionIndex],
    query: str,
    embedder: Embedder,
    *,
    k: int = 5,
    reranker: Reranker | None = None,
    config: RetrievalConfig = DEFAULT_CONFIG,
) -> list[Hit]:
    """The ``k`` best citation units for ``query`` over ``indexes``, best first; a § appears once."""
    if not indexes or not query.strip():
        return []
    for index in indexes:
        if index.embedder_name != embedder.name:
            # Vectors of two models are not comparable: the collection must be re-ingested.
            raise ConfigurationError(
                f"Index {index.name!r} was built with {index.embedder_name}, not {embedder.name}; "
                "re-ingest it after changing KAI_EMBEDDING_MODEL."
            )
    parsed = parse_query(query, config)
    query_vector = embedder.embed_queries([parsed.dense_text])[0]

    pooled = []
    for index in indexes:
        chunk_bm25 = _bm25_chunk_scores(index, _index_terms(index, parsed, config))
        chunk_dense = index.embeddings @ query_vector
        pooled.append(
            (
                index,
                chunk_bm25,
                chunk_dense,
                index.pool_units(chunk_bm25),
                index.pool_units(chunk_dense),
            )
        )
    bm25_all = np.concatenate([p[3] for p in pooled])
    dense_all = np.concatenate([p[4] for p in pooled])
    if config.fusion == "rrf":
        fused = config.bm25_weight * _reciprocal_ranks(bm25_all, config.rrf_k) + (
            config.dense_weight * _reciprocal_ranks(dense_all, config.rrf_k)
        )
    else:
        # Score fusion on z-scores: unlike rank fusion it keeps how far ahead a unit is (a BM25 score far
        # above the rest says more than rank 1 alone). BM25's z-scores run higher (most units score 0).
        fused = config.bm25_weight * _standardized(bm25_all) + config.dense_weight * _standardized(dense_all)
    wanted = min(len(fused), max(k, config.rerank_candidates if reranker else k))
    top = np.argpartition(-fused, wanted - 1)[:wanted]
    top = top[np.argsort(-fused[top], kind="stable")]
    bm25_rank = _ranks(bm25_all, top)
    dense_rank = _ranks(dense_all, top)
    # Within a unit, the chunk shown is the stk. that is best on both scores (each in units of its spread).
    chunk_weights = (
        config.bm25_weight / max(float(bm25_all.std()), 1e-9),
        config.dense_weight / max(float(dense_all.std()), 1e-9),
    )

    evidence = {
        "dense_best": float(dense_all.max()),
        "domain": max(float(index.centroid @ query_vector) for index in indexes),
    }
    offsets = np.cumsum([0] + [len(p[3]) for p in pooled])
    hits = []
    for unit in (int(u) for u in top):
        position = int(np.searchsorted(offsets, unit, side="right") - 1)
        index, chunk_bm25, chunk_dense, bm25, dense = pooled[position]
        local = unit - int(offsets[position])
        rows = index.unit_rows(local)
        row = int(rows[np.argmax(chunk_weights[0] * chunk_bm25[rows] + chunk_weights[1] * chunk_dense[rows])])
        hits.append(
            Hit(
                chunk=index.chunks[row],
                score=float(fused[unit]),
                collection=index.name,
                scores={"bm25": float(bm25[local]), "dense": float(dense[local])},
                ranks={"bm25": bm25_rank[unit], "dense": dense_rank[unit]},
                evidence=dict(evidence),
            )
        )
    if reranker is not None and hits:
        hits = _rerank(hits, query, reranker, config)
    return hits[:k]


def _ranks(values: np.ndarray, units: np.ndarray) -> dict[int, int]:
    """1-based rank of each of ``units`` among all ``values`` (ties share the better rank)."""
    return {int(u): int(np.count_nonzero(values > values[u])) + 1 for u in units}


def _rerank(hits: list[Hit], query: str, reranker: Reranker, config: RetrievalConfig) -> list[Hit]:
    """Add the cross-encoder's z-scored opinion of the candidates to the hybrid score."""
    scores = reranker.score(query, [hit.chunk.searchable for hit in hits])
    standardized = _standardized(scores)
    for rank, position in enumerate(np.argsort(-scores, kind="stable"), start=1):
        hit = hits[int(position)]
        hit.scores["rerank"] = float(scores[position])
        hit.ranks["rerank"] = rank
        hit.score += config.rerank_weight * float(standardized[position])
    return sorted(hits, key=lambda h: -h.score)


# --- abstention ----------------------------------------------------------------------------------------


def abstention_confidence(hit: Hit, config: RetrievalConfig = DEFAULT_CONFIG) -> float:
    """Probability that the searched collections answer the question, from two dense signals of the search:
    how close the closest chunk is (``dense_best``) and how close the question is to the collection as a
    whole (``domain``: cosine with the mean chunk embedding). A logistic model fitted on the dev set and
    kai's own held-out questions (72 questions, 18 unanswerable); specific to the bundled e5 embedder."""
    z = (
        config.abstain_bias
        + config.abstain_dense_weight * hit.evidence.get("dense_best", 0.0)
        + config.abstain_domain_weight * hit.evidence.get("domain", 0.0)
    )
    return 1.0 / (1.0 + math.exp(-z))


def should_abstain(
    hits: Sequence[Hit], threshold: float | None = None, config: RetrievalConfig = DEFAULT_CONFIG
) -> tuple[bool, float]:
    """(abstain, confidence): abstain when the confidence that the collections answer the question is below
    ``threshold`` (default: ``config.abstain_threshold``, i.e. ``KAI_CHAT_ABSTAIN_THRESHOLD``)."""
    if not hits:
        return True, 0.0
    confidence = abstention_confidence(hits[0], config)
    return confidence < (config.abstain_threshold if threshold is None else threshold), confidence
