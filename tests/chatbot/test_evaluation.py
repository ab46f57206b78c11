"""The evaluation code shared by ``kai chatbot eval`` and the benchmark: cross-validation searches each
question in indexes without its fold, with models trained again without it (real e5, the shipped IT
guides)."""

from __future__ import annotations

import pytest

from services.chatbot import evaluation, service
from services.chatbot.abstention import EVIDENCE, Folds
from services.chatbot.evaluation import KAI_ABSTENTION, Item, cross_validate, outcome_scores
from services.chatbot.index import CollectionIndex
from services.chatbot.retrieval import Query, RetrievalConfig, search
from services.common.config import Settings
from services.common.db import Database


@pytest.fixture(scope="module")
def guides(shipped: tuple[Database, Settings]) -> CollectionIndex:
    index = service.load_index(shipped[1], "it-help")
    assert index is not None and index.ranker is not None
    return index


def _items(index: CollectionIndex) -> list[Item]:
    questions = index.questions
    return [
        Item(f"q{n}", "it", "", e.text, "it-help", [{"source": e.source}], questions.vectors[n])
        for n, e in enumerate(questions.expansions)
    ]


def test_cross_validation_scores_a_question_without_its_fold(guides: CollectionIndex) -> None:
    items = _items(guides)
    configs = {"fused": RetrievalConfig(use_ranker=False), "kai": RetrievalConfig()}
    features = {"domain only": ("domain",), KAI_ABSTENTION: EVIDENCE}
    lines: list[str] = []
    outcomes = cross_validate(
        items, {"it-help": guides}, Folds(count=2), guides.embedder_name, configs, features, lines.append
    )
    assert len(lines) == 2 and all(len(outcomes[c]) == len(items) for c in configs)
    assert all(set(o.abstained) == set(features) for o in outcomes["kai"])
    # In the full index a question is one of its own unit's questions and finds that unit first nearly always;
    # scored without its fold, less often.
    name = guides.embedder_name
    fused = configs["fused"]
    rankings = [
        [h.key for h in search([guides], Query(i.text, i.vector, name), config=fused).hits] for i in items
    ]
    full = [evaluation.judged(vars(i), r, False) for i, r in zip(items, rankings, strict=True)]
    in_sample = evaluation.scores(full)["recall_at_1"]
    held_out = outcome_scores(outcomes["fused"])
    assert held_out["answerable"] == len(items)
    assert in_sample > 0.95 and held_out["recall_at_1"] < in_sample - 0.1
