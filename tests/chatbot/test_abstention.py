"""The abstention model: folds, evidence computed without the question's own fold, the threshold's rule,
and the models trained on the shipped questions (real e5, real indexes from the ``shipped`` data dir)."""

from __future__ import annotations

import numpy as np
import pytest

from services.chatbot import abstention, service
from services.chatbot.abstention import Folds, choose_threshold, training_set
from services.chatbot.index import CollectionIndex
from services.chatbot.types import Expansion
from services.common.config import Settings
from services.common.db import Database


@pytest.fixture(scope="module")
def guides(shipped: tuple[Database, Settings]) -> CollectionIndex:
    index = service.load_index(shipped[1], "it-help")
    assert index is not None
    return index


def test_folds_follow_the_text_or_the_unit() -> None:
    folds = Folds()
    assert folds.of_question("Hvad er en BFU?") == folds.of_question("  hvad er  en bfu? ")
    assert {folds.of_question(f"spørgsmål {n}") for n in range(100)} == set(range(folds.count))
    by_unit = Folds(by_unit=True)
    siblings = [Expansion("lov.json", "47", f"spørgsmål {n}") for n in range(20)]
    assert len({by_unit.of_expansion(e) for e in siblings}) == 1
    assert len({folds.of_expansion(e) for e in siblings}) > 1


def test_choose_threshold_declines_at_most_the_target_share() -> None:
    probabilities = np.array([0.9, 0.2, 0.8, 0.95, 0.6, 0.7, 0.85, 0.99, 0.75, 0.65])
    # 10 answerable questions, target 0.1: one may be declined; the threshold is the second lowest.
    assert choose_threshold(probabilities, target=0.1) == 0.6
    assert np.mean(probabilities < choose_threshold(probabilities, target=0.1)) <= 0.1
    assert choose_threshold(probabilities, target=0.0) == 0.2


def test_the_threshold_holds_for_each_document_not_only_on_average() -> None:
    # 60 easy questions of one law and 20 harder ones of another: pooled, the 5 % allowed (4 questions) would
    # all be the harder law's (20 %); per document, at most 1 of its 20 is declined.
    easy = np.linspace(0.90, 0.99, 60)
    hard = np.linspace(0.30, 0.88, 20)
    probabilities = np.concatenate([easy, hard])
    documents = np.array(["a.json"] * 60 + ["b.json"] * 20, dtype=object)
    pooled = choose_threshold(probabilities)
    assert np.mean(hard < pooled) == 0.2
    threshold = choose_threshold(probabilities, documents)
    assert np.mean(hard < threshold) <= 0.05 and np.mean(easy < threshold) <= 0.05
    # documents with too few questions to tell count together: two of 10 hard ones are one group of 20
    few = np.array(["a.json"] * 60 + ["b.json"] * 10 + ["c.json"] * 10, dtype=object)
    assert choose_threshold(probabilities, few) == threshold


def test_a_training_question_is_searched_without_its_fold(guides: CollectionIndex) -> None:
    data = training_set(guides)
    questions = guides.questions
    assert len(data.answerable) == len(questions.expansions) + len(questions.out_of_scope)
    assert data.answerable.sum() == len(questions.expansions)
    # Were a question in the index it is searched in, its closest question would be itself (cosine 1).
    closest = data.features[:, abstention.EVIDENCE.index("question_dense_top")]
    closest_out = data.features[:, abstention.EVIDENCE.index("out_of_scope_dense_top")]
    assert closest[data.answerable].max() < 0.995
    assert closest_out[~data.answerable].max() < 0.995


def test_shipped_models_meet_their_cross_validated_operating_point(
    shipped: tuple[Database, Settings],
) -> None:
    for name in ("barnets-lov", "it-help"):
        index = service.load_index(shipped[1], name)
        assert index is not None and index.abstention is not None
        summary = index.abstention.summary
        assert summary["answerable"] == len(index.questions.expansions)
        assert summary["cv_false_abstention"] <= abstention.TARGET_FALSE_ABSTENTION + 0.01
        assert summary["cv_out_of_scope_declined"] >= 0.7
        # The question's own closeness to the questions a unit answers counts for it, to known
        # out-of-scope questions against it.
        coef = dict(zip(index.abstention.features, index.abstention.coef, strict=True))
        assert coef["question_dense_top"] > 0 > coef["out_of_scope_dense_top"]


def test_training_is_deterministic(guides: CollectionIndex) -> None:
    assert abstention.train(guides) == abstention.train(guides)


def test_too_few_questions_train_no_model(guides: CollectionIndex) -> None:
    questions = guides.questions
    keep = [n < 5 for n in range(len(questions.expansions))]
    few = guides.with_questions(questions.where(keep, [True] * len(questions.out_of_scope)))
    assert len(few.questions.expansions) == 5
    assert abstention.train(few) == (None, None)
