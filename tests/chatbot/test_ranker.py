"""The learned ranker: its training rows come from out-of-fold searches, its arithmetic, and — on the IT
guides' own questions, by cross-validation inside the training searches — that it orders better than the
fused score it starts from (real e5, real indexes from the ``shipped`` data dir)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from models.registry import load_embedder
from services.chatbot import ranker, service
from services.chatbot.abstention import training_set
from services.chatbot.index import CollectionIndex
from services.chatbot.retrieval import Query, RetrievalConfig, embed_query, score_collection, search
from services.common.config import Settings
from services.common.db import Database

FUSED = RetrievalConfig(use_ranker=False)


@pytest.fixture(scope="module")
def guides(shipped: tuple[Database, Settings]) -> CollectionIndex:
    index = service.load_index(shipped[1], "it-help")
    assert index is not None
    return index


def _reciprocal_ranks(rows: ranker.RankingRows, scores: np.ndarray) -> list[float]:
    found = []
    for group in np.unique(rows.group):
        members = np.flatnonzero(rows.group == group)
        order = members[np.argsort(-scores[members], kind="stable")]
        found.append(1.0 / (int(np.flatnonzero(rows.relevant[order])[0]) + 1))
    return found


def test_training_rows_are_candidates_with_the_question_s_unit(guides: CollectionIndex) -> None:
    rows = training_set(guides).ranking
    assert rows.features.shape[1] == len(ranker.FEATURES) and np.isfinite(rows.features).all()
    for group in np.unique(rows.group):
        members = rows.group == group
        # One search's candidates: at most CANDIDATES, exactly one of them the question's unit.
        assert members.sum() <= ranker.CANDIDATES and rows.relevant[members].sum() == 1


def test_the_ranker_beats_the_fused_order_on_held_out_training_searches(guides: CollectionIndex) -> None:
    """Fitted on four folds' searches, scored on the fifth: the fused order is the candidates' own order."""
    data = training_set(guides)
    rows = data.ranking
    fold_of_search = data.folds[np.unique(rows.group)]
    fold = data.folds[rows.group]
    fused, learned = [], []
    for held in np.unique(fold_of_search):
        train = ranker.RankingRows(
            rows.features[fold != held], rows.relevant[fold != held], rows.group[fold != held]
        )
        test = ranker.RankingRows(
            rows.features[fold == held], rows.relevant[fold == held], rows.group[fold == held]
        )
        model = ranker.fit(train)
        assert model is not None
        fused.extend(_reciprocal_ranks(test, -np.arange(len(test.group), dtype=float)))
        learned.extend(_reciprocal_ranks(test, model.logits(test.features)))
    assert np.mean(learned) > np.mean(fused)


def test_fit_learns_which_feature_marks_the_answer() -> None:
    rng = np.random.default_rng(0)
    searches, per_search = 40, 10
    features = rng.standard_normal((searches * per_search, len(ranker.FEATURES)))
    relevant = np.zeros(searches * per_search, dtype=bool)
    relevant[rng.integers(0, per_search, searches) + np.arange(searches) * per_search] = True
    column = ranker.FEATURES.index("neighbour_share")
    features[relevant, column] += 3.0
    rows = ranker.RankingRows(features, relevant, np.repeat(np.arange(searches), per_search))
    model = ranker.fit(rows)
    assert model is not None and model.features == ranker.FEATURES
    assert int(np.argmax(model.coef)) == column
    assert np.mean(_reciprocal_ranks(rows, model.logits(features))) > 0.9
    few = ranker.RankingRows(features[:50], relevant[:50], rows.group[:50])
    assert ranker.fit(few) is None  # 5 searches: too few to learn from


def test_search_uses_the_ranker_and_can_do_without(
    guides: CollectionIndex, shipped: tuple[Database, Settings]
) -> None:
    assert guides.ranker is not None and guides.ranker.features == ranker.FEATURES
    query = embed_query("Hvordan tilføjer jeg en printer til en borgerpc?", load_embedder(shipped[1]))
    ranked = search([guides], query, k=5)
    scores = [h.score for h in ranked.hits]
    assert len(scores) == 5 and scores == sorted(scores, reverse=True)
    # The ranker only reorders the fused search's candidates.
    candidates = {guides.units[int(u)] for u in ranker.candidates(score_collection(guides, query, FUSED))}
    assert {h.key for h in ranked.hits} <= candidates
    # Switched off, or in an index without one, the fused order.
    without = dataclasses.replace(guides)
    without.ranker = None
    assert [h.key for h in search([guides], query, k=5, config=FUSED).hits] == [
        h.key for h in search([without], query, k=5).hits
    ]


def test_a_question_the_index_holds_word_for_word_finds_its_unit_first(guides: CollectionIndex) -> None:
    """An asked question an editor attached to a unit (or written for it), asked again: that unit first. The
    ranker alone, trained on searches without the question itself, put it first for 73 % of the guides'."""
    questions = guides.questions
    for number, expansion in enumerate(questions.expansions):
        query = Query(expansion.text.upper(), questions.vectors[number], guides.embedder_name)
        assert search([guides], query, k=5).hits[0].key == expansion.unit, expansion.text
