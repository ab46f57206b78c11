"""How the chatbot is evaluated — one code path for ``kai chatbot eval`` and the benchmark
(``evaluation/bench/chatbot_bench.py``): reading a question file, taking the questions to score out of the
indexes and training the models again without them, searching each question in its collection, and scoring
the rankings and decisions.

A scored question never helps retrieve, rank or judge itself: ``kai chatbot eval`` takes the file's
questions out of the collections' own questions (``without_questions``); the benchmark's cross-validation
takes a whole fold out (``cross_validate``). Either way the abstention model and the ranker are trained again
on what is left, by the procedure an index build uses.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from evaluation.metrics import JudgedRanking, retrieval_scores
from services.chatbot import abstention
from services.chatbot.abstention import EVIDENCE, Folds, fit_models, training_set
from services.chatbot.index import CollectionIndex, QuestionIndex
from services.chatbot.retrieval import Query, RetrievalConfig, search
from services.chatbot.types import Expansion
from services.common.errors import InvalidInput, NotFound

KAI_ABSTENTION = "all evidence (kai)"


def read_questions(path: Path) -> list[dict[str, Any]]:
    """The questions of a JSON Lines file in the dev-set format: ``question``, optional ``relevant`` (gold
    units, each with ``source`` and optionally ``section``), ``collection``, ``id``, ``style``."""
    if not path.is_file():
        raise NotFound(f"{path} findes ikke.")
    questions = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"{path.name}, linje {number}: ugyldig JSON ({exc.msg}).") from exc
        if (
            not isinstance(item, dict)
            or not isinstance(item.get("question"), str)
            or not isinstance(item.get("relevant", []), list)
            or not all(
                isinstance(g, dict) and isinstance(g.get("source"), str) for g in item.get("relevant", [])
            )
        ):
            raise InvalidInput(
                f"{path.name}, linje {number}: mangler 'question' eller 'relevant' (med 'source')."
            )
        questions.append(item)
    if not questions:
        raise InvalidInput(f"{path.name} indeholder ingen spørgsmål.")
    return questions


def judged(question: Mapping[str, Any], ranked: Sequence[tuple[str, str]], abstained: bool) -> JudgedRanking:
    """A question's ranking (``(source, section)`` of each cited unit, best first) and decision, against its
    gold units. Retrieval is scored on the ranking also where the bot declined; abstention apart."""
    return JudgedRanking(ranked, question.get("relevant", []), abstained)


def scores(items: Sequence[JudgedRanking]) -> dict[str, Any]:
    """``n`` and recall@1/5, MRR, out-of-scope declined, answerable declined (see ``evaluation.metrics``)."""
    return {"n": len(items), **retrieval_scores(items)}


# --- questions taken out, models trained again ------------------------------------------------------------


def retrained(
    index: CollectionIndex,
    questions: QuestionIndex,
    feature_sets: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, CollectionIndex]:
    """``index`` with ``questions`` instead of its own, and with an abstention model and a ranker trained on
    them as an index build trains them — once per abstention feature set (default: all evidence). The
    out-of-fold searches are made once and shared by every model."""
    feature_sets = feature_sets or {KAI_ABSTENTION: EVIDENCE}
    reduced = index.with_questions(questions)
    data = training_set(reduced) if abstention.can_train(reduced) else None
    variants = {}
    for name, features in feature_sets.items():
        copy = dataclasses.replace(reduced)
        copy.abstention, copy.ranker = fit_models(data, features) if data is not None else (None, None)
        variants[name] = copy
    return variants


def without_questions(index: CollectionIndex, texts: set[str]) -> CollectionIndex:
    """``index`` without these questions (as expansions or as out-of-scope questions) and, where any were
    among them, with an abstention model and a ranker trained without them."""
    questions = index.questions.without(texts)
    if len(questions.expansions) + len(questions.out_of_scope) == len(index.questions.expansions) + len(
        index.questions.out_of_scope
    ):
        return index
    return retrained(index, questions)[KAI_ABSTENTION]


# --- cross-validation (the benchmark) ---------------------------------------------------------------------


@dataclass
class Item:
    """One question to score: its set, style, scope (None: every collection), gold units and embedding."""

    id: str
    set: str
    style: str
    text: str
    collection: str | None
    relevant: list[dict[str, str]]
    vector: np.ndarray


@dataclass
class Outcome:
    item: Item
    ranked: list[tuple[str, str]]
    abstained: dict[str, bool]  # abstention variant → declined
    confidence: float  # kai's (all evidence)


def item_fold(item: Item, folds: Folds) -> int:
    """The fold a question is scored in: by its text, or (``by_unit``) by its gold unit's."""
    if folds.by_unit and item.relevant:
        gold = item.relevant[0]
        return folds.of_expansion(Expansion(gold["source"], str(gold.get("section", "")), item.text))
    return folds.of_question(item.text)


def cross_validate(
    items: Sequence[Item],
    indexes: Mapping[str, CollectionIndex],
    folds: Folds,
    embedder_name: str,
    configs: Mapping[str, RetrievalConfig],
    feature_sets: Mapping[str, Sequence[str]],
    report: Callable[[str], None] = print,
) -> dict[str, list[Outcome]]:
    """Per retrieval configuration, each question's outcome from indexes without its fold's questions and
    with models trained without them (per abstention feature set; the ranking is from the all-evidence
    variant's indexes, whose abstention decides which collections are searched)."""
    outcomes: dict[str, list[Outcome]] = {name: [] for name in configs}
    for fold in range(folds.count):
        started = time.perf_counter()
        per_index = {
            name: retrained(index, folds.without(index, fold).questions, feature_sets)
            for name, index in indexes.items()
        }
        variants = {v: {name: per_index[name][v] for name in indexes} for v in feature_sets}
        kai = variants[KAI_ABSTENTION]
        scored = [item for item in items if item_fold(item, folds) == fold]
        for item in scored:
            query = Query(item.text, item.vector, embedder_name)
            decisions = {v: search(_scope(item, ix), query, k=5).abstained for v, ix in variants.items()}
            for name, config in configs.items():
                result = search(_scope(item, kai), query, k=5, config=config)
                ranked = [h.key for h in result.hits]
                outcomes[name].append(Outcome(item, ranked, decisions, result.confidence))
        seconds = time.perf_counter() - started
        report(f"  fold {fold + 1}/{folds.count}: {len(scored)} questions, {seconds:.0f} s")
    return outcomes


def _scope(item: Item, indexes: Mapping[str, CollectionIndex]) -> list[CollectionIndex]:
    return [indexes[item.collection]] if item.collection else list(indexes.values())


def outcome_scores(outcomes: Sequence[Outcome], variant: str = KAI_ABSTENTION) -> dict[str, Any]:
    """``scores`` of outcomes (with ``variant``'s decisions), and how many of them are answerable."""
    return {
        **scores([judged(vars(o.item), o.ranked, o.abstained[variant]) for o in outcomes]),
        "answerable": sum(1 for o in outcomes if o.item.relevant),
    }
