"""Benchmark of the chatbot's retrieval and abstention (``python -m evaluation.bench.chatbot_bench``).

1. Quality by k-fold cross-validation over every question kai has: the dev set
   (``../shared/data/qa/dev.jsonl``), kai's held-out questions (``chatbot_heldout.jsonl`` beside this file)
   and the synthetic questions the shipped collections carry (their ``questions.jsonl``, and
   ``corpus/out_of_scope.jsonl``). Folds follow a hash of the question text; a question is scored against
   indexes from which its fold's questions are removed (as expansions and as known out-of-scope questions)
   and with abstention models and rankers trained without them (each by the shipped procedure: inner
   cross-validation for features, threshold and the ranker's training searches). Nothing is fitted on a
   question that is then scored. Reported per set and per style (scenario, direct, colloquial).
2. Once more with whole units held out: folds by § or guide file, so a scored question's unit has none of its
   questions in the index — the floor for a unit nobody wrote questions for. Dev and held-out questions are
   placed in their gold unit's fold.
3. An ablation over the same folds: each retriever alone, text BM25 + dense (the plain baseline), plus the
   question fields one at a time, all four fused, all four + the learned ranker (kai), and abstention from two
   signals (closest text, domain) against the full evidence.
4. In-process latency of search + abstention (query embedding included) on the shipped indexes and over HTTP
   (``kai serve``), the build (cached embeddings, the cold cost of texts and questions, abstention training),
   and a synthetic 100,000-chunk corpus (random unit vectors for its dense part).

The cross-validation, the taking out of questions and the scoring are ``services/chatbot/evaluation.py``'s,
the code ``kai chatbot eval`` uses; this module only chooses the sets and configurations and reports.
Results: a printed table and ``evaluation/results/chatbot_bench.json``.

    python -m evaluation.bench.chatbot_bench [--folds 5] [--synthetic 100000] [--repetitions 3] [--no-http]
    python -m evaluation.bench.chatbot_bench --http-compare REF   # only HTTP latency: this tree against REF
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from evaluation.bench._common import (
    CHATBOT_DEV_SET,
    CHATBOT_HELDOUT_SET,
    REPO_ROOT,
    RESULTS_DIR,
    free_port,
    wait_until_serving,
)
from evaluation.metrics import first_hit_rank, percentile
from models.embedders import Embedder
from models.registry import load_embedder
from services.chatbot import service as chat_service
from services.chatbot.abstention import EVIDENCE, Folds
from services.chatbot.evaluation import (
    KAI_ABSTENTION,
    Item,
    Outcome,
    cross_validate,
    judged,
    outcome_scores,
    read_questions,
)
from services.chatbot.index import (
    CollectionIndex,
    EmbeddingCache,
    QuestionIndex,
    build_bm25,
    embed_with_cache,
)
from services.chatbot.retrieval import RETRIEVERS, RetrievalConfig, embed_query, search
from services.chatbot.types import Chunk
from services.common.config import Settings
from services.common.stamps import machine_info

CORPUS = chat_service.SHIPPED_CORPUS
QUESTION_FILES = {
    "dev": CHATBOT_DEV_SET,
    "heldout": CHATBOT_HELDOUT_SET,
    "synthetic law": CORPUS / "barnets-lov" / "questions.jsonl",
    "synthetic it": CORPUS / "it-help" / "questions.jsonl",
    "synthetic out-of-scope": chat_service.OUT_OF_SCOPE,
}
# The shipped files also hold questions kai's engineers wrote (the corpus SOURCE.md files say how), by id
# prefix: reported as sets of their own, apart from the shared synthetic ones.
WRITTEN_FOR_KAI = {
    "adj-": "kai adjacent law",
    "kai-bl-": "kai Barnets lov",
    "kai-it-": "kai IT",
    "kai-oos-": "kai out-of-scope",
}
SETS = [*QUESTION_FILES, *WRITTEN_FOR_KAI.values()]
INDEPENDENT = ("dev", "heldout")
RESULTS = RESULTS_DIR / "chatbot_bench.json"
HTTP_COMPARE_RESULTS = RESULTS_DIR / "chatbot_http_compare.json"
TARGETS = {"recall_at_5": 0.85, "mrr": 0.70, "abstain_rate_unanswerable": 0.80, "false_abstain_rate": 0.10}
P95_TARGET_MS = 150.0
P50_SYNTHETIC_TARGET_MS = 200.0
COLD_SAMPLE = 48  # texts embedded without cache to estimate a cold build

FULL = RetrievalConfig()
KAI = "kai: all four fused + ranker"


def _fused(*retrievers: str) -> RetrievalConfig:
    return RetrievalConfig(retrievers=retrievers, use_ranker=False)


RETRIEVAL_ABLATIONS: dict[str, RetrievalConfig] = {
    "text BM25": _fused("text_bm25"),
    "text dense (e5)": _fused("text_dense"),
    "text BM25 + dense (plain baseline)": _fused("text_bm25", "text_dense"),
    "+ question BM25": _fused("text_bm25", "text_dense", "question_bm25"),
    "+ question dense": _fused("text_bm25", "text_dense", "question_dense"),
    "question fields only": _fused("question_bm25", "question_dense"),
    "all four fused": _fused(*RETRIEVERS),
    KAI: FULL,
}
ABSTENTION_FEATURES: dict[str, tuple[str, ...]] = {
    "closest text + domain (2 signals)": ("text_dense_top", "domain"),
    KAI_ABSTENTION: EVIDENCE,
}
FOLD_SCHEMES = {"questions": Folds(), "units": Folds(by_unit=True)}


# --------------------------------------------------------------------------------------------- questions


def _set_of(question: dict[str, Any], file_set: str) -> str:
    return next((s for prefix, s in WRITTEN_FOR_KAI.items() if question["id"].startswith(prefix)), file_set)


def load_items(embedder: Embedder, cache: EmbeddingCache) -> list[Item]:
    """Every question of every set, embedded as a question (the cache makes reruns cheap)."""
    raw = [(_set_of(q, name), q) for name, path in QUESTION_FILES.items() for q in read_questions(path)]
    vectors, _ = embed_with_cache([q["question"] for _, q in raw], embedder, cache, queries=True)
    return [
        Item(
            q["id"],
            name,
            q.get("style", ""),
            q["question"],
            q.get("collection"),
            q.get("relevant", []),
            vector,
        )
        for (name, q), vector in zip(raw, vectors, strict=True)
    ]


# --------------------------------------------------------------------------------------------- quality


def breakdown(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """Figures for all questions, per set and per style (the synthetic sets have styles)."""
    groups: dict[str, Callable[[Outcome], bool]] = {
        "all": lambda o: True,
        # written independently of every question in the index and of every fitted model: the honest figure
        "independent: dev + heldout": lambda o: o.item.set in INDEPENDENT,
    }
    groups |= {f"set: {name}": (lambda o, n=name: o.item.set == n) for name in SETS}
    groups |= {
        f"style: {style}": (lambda o, s=style: o.item.style == s)
        for style in sorted({o.item.style for o in outcomes if o.item.style})
    }
    return {name: outcome_scores([o for o in outcomes if keep(o)]) for name, keep in groups.items()}


def per_question(outcomes: Sequence[Outcome]) -> list[dict[str, Any]]:
    rows = []
    for o in outcomes:
        ranking = judged(vars(o.item), o.ranked, False)
        rows.append(
            {
                "id": o.item.id,
                "set": o.item.set,
                "rank": first_hit_rank(ranking) if o.item.relevant else None,
                "abstained": o.abstained[KAI_ABSTENTION],
                "confidence": round(o.confidence, 3),
            }
        )
    return rows


def ablation(outcomes: dict[str, list[Outcome]]) -> dict[str, dict[str, Any]]:
    """Retrieval per configuration (per set), then both abstention variants on kai's retrieval."""
    table: dict[str, dict[str, Any]] = {}
    for name, rows in outcomes.items():
        table[name] = {s: outcome_scores([o for o in rows if o.item.set == s]) for s in SETS} | {
            "all": outcome_scores(rows)
        }
    kai = outcomes[KAI]
    for variant in ABSTENTION_FEATURES:
        table[f"abstention: {variant}"] = {
            s: outcome_scores([o for o in kai if o.item.set == s], variant) for s in SETS
        } | {"all": outcome_scores(kai, variant)}
    return table


# --------------------------------------------------------------------------------------------- latency


def time_queries(
    questions: list[str], indexes: list[CollectionIndex], embedder: Embedder, repetitions: int
) -> dict[str, float]:
    """In-process latency of search + abstention per question (query embedding included), after a warm-up."""
    search(indexes, embed_query(questions[0], embedder))
    timings = []
    for _ in range(repetitions):
        for question in questions:
            started = time.perf_counter()
            search(indexes, embed_query(question, embedder), k=5)
            timings.append((time.perf_counter() - started) * 1000)
    embed = []
    for question in questions:
        started = time.perf_counter()
        embedder.embed_queries([question])
        embed.append((time.perf_counter() - started) * 1000)
    return {
        "queries": len(timings),
        "p50_ms": round(statistics.median(timings), 1),
        "p95_ms": round(percentile(timings, 0.95), 1),
        "max_ms": round(max(timings), 1),
        "query_embedding_p50_ms": round(statistics.median(embed), 1),
        "load_avg_1min": load_avg(),
    }


@contextmanager
def kai_server(tree: Path, data_dir: Path) -> Iterator[tuple[str, str]]:
    """``kai serve`` of the source tree ``tree`` on loopback, on a data dir set up as a fresh install
    (``kai prepare-models``: the shipped collections) with a caseworker's API token: (base URL, token)."""
    kai = Path(sys.executable).with_name("kai")
    env = os.environ | {
        "PYTHONPATH": str(tree),
        "KAI_DATA_DIR": str(data_dir),
        "KAI_MODEL_CACHE_DIR": str(Settings().resolved_model_cache_dir.resolve()),
        "KAI_LOG_LEVEL": "WARNING",
    }

    def run(*args: str) -> str:
        return subprocess.run(
            [str(kai), *args], env=env, cwd=tree, check=True, capture_output=True, text=True
        ).stdout

    run("prepare-models")
    run("users", "add", "bench", "--role", "sagsbehandler")
    [token] = re.findall(r"kai_[\w-]+", run("tokens", "create", "--user", "bench"))
    port = free_port()
    server = subprocess.Popen(
        [str(kai), "serve", "--port", str(port)],
        env=env,
        cwd=tree,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(base, server, timeout=120)
        yield base, token
    finally:
        server.terminate()
        server.wait(timeout=30)


def _latency_figures(timings: list[float], errors: int) -> dict[str, Any]:
    return {
        "requests": len(timings),
        "errors": errors,
        "p50_ms": round(statistics.median(timings), 1),
        "p95_ms": round(percentile(timings, 0.95), 1),
    }


def http_latency(questions: list[str], repetitions: int, trees: dict[str, Path]) -> dict[str, Any]:
    """p50/p95 of ``POST /api/chat/ask`` against one ``kai serve`` per source tree, on loopback, over all
    shipped collections, as a caseworker with an API token (answers are stored and ledgered, as in use).
    With several trees the requests alternate between the servers, each question asked of each server in turn
    (the first server changing with every question), so load on the machine falls on all alike."""
    timings: dict[str, list[float]] = {name: [] for name in trees}
    errors = dict.fromkeys(trees, 0)
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        clients = {}
        for name, tree in trees.items():
            base, token = stack.enter_context(kai_server(tree, Path(tmp) / name / "var"))
            client = stack.enter_context(
                httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30)
            )
            client.post("/api/chat/ask", json={"question": questions[0]}).raise_for_status()  # warm-up
            clients[name] = client
        order = list(clients)
        for _ in range(repetitions):
            for question in questions:
                for name in order:
                    started = time.perf_counter()
                    response = clients[name].post("/api/chat/ask", json={"question": question})
                    timings[name].append((time.perf_counter() - started) * 1000)
                    errors[name] += response.status_code != 200
                order.append(order.pop(0))
    figures = {name: _latency_figures(timings[name], errors[name]) for name in trees}
    return {"servers": figures, "load_avg_1min": load_avg()}


def http_compare(questions: list[str], repetitions: int, ref: str, output: Path) -> None:
    """This tree's ``kai serve`` against git ``ref``'s, side by side in one run (``--http-compare``)."""
    with tempfile.TemporaryDirectory() as tmp:
        baseline = Path(tmp) / "baseline"
        baseline.mkdir()
        git = ["git", "-C", str(REPO_ROOT)]
        revision = [*git, "rev-parse", "--short", ref]
        name = subprocess.run(revision, check=True, capture_output=True, text=True).stdout.strip()
        archive = subprocess.run([*git, "archive", name], check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(baseline)], input=archive, check=True)
        latency = http_latency(questions, repetitions, {f"baseline {name}": baseline, "this tree": REPO_ROOT})
    results = {
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine_info(),
        "latency_http": latency,
        "command": "python -m evaluation.bench.chatbot_bench "
        f"--http-compare {ref} --repetitions {repetitions}",
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=2, ensure_ascii=False), encoding="utf-8")
    for name, figures in latency["servers"].items():
        print(f"{name:24s} {json.dumps(figures)}")
    print(f"load average (1 min): {latency['load_avg_1min']}\nresults: {output}")


# --------------------------------------------------------------------------------------------- builds


def rss_mb() -> tuple[float, float]:
    """(current, peak) resident memory of this process in MB, from /proc (0 where unavailable)."""
    values = {"VmRSS": 0.0, "VmHWM": 0.0}
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in values:
                values[key] = float(rest.split()[0]) / 1024
    return round(values["VmRSS"], 1), round(values["VmHWM"], 1)


def index_bytes(index: CollectionIndex) -> int:
    arrays = [
        index.embeddings,
        index.questions.vectors,
        index.questions.out_of_scope_vectors,
        *(index.bm25.scores[k] for k in ("data", "indices", "indptr")),
    ]
    return int(sum(a.nbytes for a in arrays))


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def load_avg() -> float:
    return round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else 0.0


def shipped_builds(settings: Settings) -> tuple[dict[str, CollectionIndex], dict[str, Any]]:
    """Build both shipped collections as ``kai prepare-models`` does (embeddings from the cache), save and
    reload them; measure each step, then the cold cost of what the questions add (texts were embedded before
    this change too: their cold cost is unchanged)."""
    figures: dict[str, Any] = {}
    indexes = {}
    with tempfile.TemporaryDirectory() as scratch:
        for name in ("barnets-lov", "it-help"):
            chunks, questions = chat_service.shipped_chunks(name), chat_service.shipped_questions(name)
            rss_before, _ = rss_mb()
            started = time.perf_counter()
            built = chat_service.build_index(name, chunks, questions, settings)
            build_s = time.perf_counter() - started
            started = time.perf_counter()
            built.save(Path(scratch) / name)
            save_s = time.perf_counter() - started
            started = time.perf_counter()
            indexes[name] = CollectionIndex.load(Path(scratch) / name)
            load_s = time.perf_counter() - started
            rss_after, peak = rss_mb()
            figures[name] = {
                "chunks": len(chunks),
                "units": len(built.units),
                "questions": len(built.questions.expansions),
                "out_of_scope_questions": len(built.questions.out_of_scope),
                "abstention": dataclasses.asdict(built.abstention) if built.abstention else None,
                "build_s": round(build_s, 2),
                "abstention_training_s": round(built.stats.training_seconds, 2),
                "save_s": round(save_s, 3),
                "load_s": round(load_s, 3),
                "index_mb_in_memory": round(index_bytes(built) / 1e6, 1),
                "index_mb_on_disk": round(folder_bytes(Path(scratch) / name) / 1e6, 1),
                "rss_growth_mb": round(rss_after - rss_before, 1),
                "peak_rss_mb": peak,
            }
    embedder = load_embedder(settings)
    texts = chat_service.shipped_chunks("barnets-lov")[:COLD_SAMPLE]
    questions = [e.text for e in chat_service.shipped_questions("barnets-lov")[:COLD_SAMPLE]]
    per_text = _cold_seconds([c.searchable for c in texts], embedder, queries=False)
    per_question = _cold_seconds(questions, embedder, queries=True)
    new_questions = len(
        {e.text for n in ("barnets-lov", "it-help") for e in chat_service.shipped_questions(n)}
    )
    new_questions += len(chat_service.out_of_scope_questions())
    training = sum(f["abstention_training_s"] for f in figures.values())
    figures["cold"] = {
        "sample": COLD_SAMPLE,
        "ms_per_text": round(per_text * 1000, 1),
        "ms_per_question": round(per_question * 1000, 1),
        "texts": sum(f["chunks"] for f in figures.values() if isinstance(f, dict) and "chunks" in f),
        "questions_to_embed": new_questions,
        "added_by_questions_s": round(per_question * new_questions + training, 0),
        "load_avg_1min": load_avg(),
    }
    return indexes, figures


def _cold_seconds(texts: list[str], embedder: Embedder, *, queries: bool) -> float:
    with tempfile.TemporaryDirectory() as empty_cache:
        started = time.perf_counter()
        embed_with_cache(texts, embedder, EmbeddingCache(Path(empty_cache) / "e.sqlite3"), queries=queries)
        return (time.perf_counter() - started) / len(texts)


def synthetic_chunks(n: int, seed: int = 7) -> list[Chunk]:
    """``n`` Danish-ish chunks: 2–5 sentences drawn from the law texts, 3 chunks (stk.) per synthetic §."""
    sentences = [
        s.strip()
        for chunk in chat_service.shipped_chunks("barnets-lov")
        for s in re.split(r"(?<=[.;:])\s+", chunk.text)
        if len(s.strip()) > 25
    ]
    rng = random.Random(seed)
    chunks = []
    for number in range(n):
        section, stk = divmod(number, 3)
        source = f"syntetisk_{section // 1000:03d}.json"
        text = " ".join(rng.choice(sentences) for _ in range(rng.randint(2, 5)))
        chunks.append(
            Chunk(
                id=f"{source}#{section}-{stk + 1}",
                source=source,
                section=str(section),
                title=f"Syntetisk lov § {section}, stk. {stk + 1}",
                text=text,
                url="",
                stk=stk + 1,
                context=f"Syntetisk lov § {section}.",
            )
        )
    return chunks


def synthetic_benchmark(
    n: int, dim: int, questions: list[str], embedder: Embedder, repetitions: int
) -> dict[str, Any]:
    started = time.perf_counter()
    chunks = synthetic_chunks(n)
    generate_s = time.perf_counter() - started
    rss_before, _ = rss_mb()
    started = time.perf_counter()
    rng = np.random.default_rng(7)
    vectors = rng.standard_normal((n, dim), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    # Random vectors stand in for the embedder's (named as the embedder, so the query side can be timed).
    bm25 = build_bm25([c.searchable for c in chunks])
    index = CollectionIndex("syntetisk", chunks, bm25, vectors, embedder.name, QuestionIndex.empty(dim))
    build_s = time.perf_counter() - started
    rss_after, peak = rss_mb()
    with tempfile.TemporaryDirectory() as scratch:
        started = time.perf_counter()
        index.save(Path(scratch) / "syntetisk")
        save_s = time.perf_counter() - started
        disk = folder_bytes(Path(scratch) / "syntetisk")
        started = time.perf_counter()
        loaded = CollectionIndex.load(Path(scratch) / "syntetisk")
        load_s = time.perf_counter() - started
    latency = time_queries(questions, [loaded], embedder, repetitions)
    return {
        "chunks": n,
        "units": len(index.units),
        "vocabulary": len(index.vocabulary),
        "dense": "random unit vectors (not e5)",
        "generate_s": round(generate_s, 1),
        "build_bm25_s": round(build_s, 1),
        "save_s": round(save_s, 2),
        "load_s": round(load_s, 2),
        "index_mb_in_memory": round(index_bytes(index) / 1e6, 1),
        "index_mb_on_disk": round(disk / 1e6, 1),
        "rss_growth_mb": round(rss_after - rss_before, 1),
        "peak_rss_mb": peak,
        "latency": latency,
        "p50_target_ms": P50_SYNTHETIC_TARGET_MS,
        "p50_ok": latency["p50_ms"] <= P50_SYNTHETIC_TARGET_MS,
    }


# --------------------------------------------------------------------------------------------- report

_COLUMNS = ("recall_at_1", "recall_at_5", "mrr", "abstain_rate_unanswerable", "false_abstain_rate")


def _row(label: str, values: dict[str, Any]) -> str:
    return f"{label:46s} {values['n']:5d} " + " ".join(f"{values[c]:8.3f}" for c in _COLUMNS)


def print_table(results: dict[str, Any]) -> None:
    header = f"{'':46s} {'n':>5s} " + " ".join(
        f"{c:>8s}" for c in ("r@1", "r@5", "MRR", "OOS dec", "ans dec")
    )
    for scheme, title in (("questions", "folds by question"), ("units", "whole units held out (floor)")):
        print(f"\ncross-validated, {title}\n{header}")
        for group, values in results["cross_validation"][scheme].items():
            print(_row(group, values))
    print(
        f"\nablation (folds by question; r@5 / MRR per set)\n{'':46s} " + "  ".join(f"{s:>22s}" for s in SETS)
    )
    for name, per_set in results["ablation"].items():
        cells = []
        for set_name in SETS:
            values = per_set[set_name]
            if name.startswith("abstention"):
                cells.append(
                    f"{values['abstain_rate_unanswerable']:.2f} OOS / {values['false_abstain_rate']:.2f} ans"
                )
            else:
                cells.append(
                    f"{values['recall_at_5']:.2f} / {values['mrr']:.2f}" if values["answerable"] else "–"
                )
        print(f"{name:46s} " + "  ".join(f"{c:>22s}" for c in cells))
    print("\nbuilds")
    for name, values in results["builds"].items():
        shown = {k: v for k, v in values.items() if k != "abstention"}
        print(f"  {name}: {json.dumps(shown)}")
    print("\nlatency (search + abstention, query embedding included)")
    print(f"  shipped collections: {json.dumps(results['latency_shipped'])}")
    if results.get("latency_http"):
        print(f"  over HTTP (kai serve): {json.dumps(results['latency_http'])}")
    synthetic = results.get("synthetic")
    if synthetic:
        print(f"  synthetic {synthetic['chunks']} chunks: {json.dumps(synthetic['latency'])}")
    print(f"\ntargets (cross-validated, all questions): {json.dumps(results['targets_met'])}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--folds", type=int, default=5, help="cross-validation folds")
    parser.add_argument(
        "--synthetic", type=int, default=100_000, help="chunks in the synthetic corpus (0: skip)"
    )
    parser.add_argument("--repetitions", type=int, default=3, help="timed passes over the questions")
    parser.add_argument("--no-http", action="store_true", help="skip the latency over HTTP (kai serve)")
    parser.add_argument("--output", type=Path, default=None)
    parser.add_argument(
        "--http-compare",
        metavar="REF",
        default=None,
        help="only the HTTP latency: this tree's kai serve against git REF's, requests alternating",
    )
    args = parser.parse_args()
    if args.http_compare:
        questions = [q["question"] for q in read_questions(CHATBOT_DEV_SET)]
        http_compare(questions, args.repetitions, args.http_compare, args.output or HTTP_COMPARE_RESULTS)
        return
    args.output = args.output or RESULTS

    settings = Settings()
    embedder = load_embedder(settings)
    print("building the shipped indexes …", flush=True)
    indexes, builds = shipped_builds(settings)
    items = load_items(
        embedder, EmbeddingCache(settings.resolved_model_cache_dir / "embeddings" / "embeddings.sqlite3")
    )

    cross_validation, ablations, questions = {}, {}, {}
    for scheme, folds in FOLD_SCHEMES.items():
        print(f"cross-validation, folds by {scheme} …", flush=True)
        outcomes = cross_validate(
            items,
            indexes,
            dataclasses.replace(folds, count=args.folds),
            embedder.name,
            RETRIEVAL_ABLATIONS,
            ABSTENTION_FEATURES,
            lambda line: print(line, flush=True),
        )
        cross_validation[scheme] = breakdown(outcomes[KAI])
        ablations[scheme] = ablation(outcomes)
        questions[scheme] = per_question(outcomes[KAI])

    dev_and_heldout = [i.text for i in items if i.set in INDEPENDENT]
    shipped = list(indexes.values())
    latency_shipped = time_queries(dev_and_heldout, shipped, embedder, args.repetitions)
    latency_http = None
    if not args.no_http:
        http = http_latency(dev_and_heldout, args.repetitions, {"kai": REPO_ROOT})
        latency_http = {**http["servers"]["kai"], "load_avg_1min": http["load_avg_1min"]}
    synthetic = (
        synthetic_benchmark(args.synthetic, embedder.dim, dev_and_heldout, embedder, args.repetitions)
        if args.synthetic
        else None
    )
    overall = cross_validation["questions"]["all"]
    targets_met = {
        name: (overall[name] <= target if name == "false_abstain_rate" else overall[name] >= target)
        for name, target in TARGETS.items()
    } | {"p95_ms": latency_shipped["p95_ms"] <= P95_TARGET_MS}
    results = {
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine_info(),
        "embedder": embedder.name,
        "embedding_threads": settings.embedding_threads,
        "retrievers": list(RETRIEVERS),
        "cross_validation": cross_validation,
        "ablation": ablations["questions"],
        "ablation_units_held_out": ablations["units"],
        "questions": questions,
        "builds": builds,
        "latency_shipped": latency_shipped,
        "latency_http": latency_http,
        "synthetic": synthetic,
        "targets": TARGETS | {"p95_ms": P95_TARGET_MS},
        "targets_met": targets_met,
        "command": "python -m evaluation.bench.chatbot_bench "
        + " ".join(
            f"--{k.replace('_', '-')} {v}"
            for k, v in vars(args).items()
            if k not in ("output", "http_compare")
        ),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    partial = args.output.with_suffix(".json.partial")
    partial.write_text(json.dumps(results, indent=2, ensure_ascii=False), encoding="utf-8")
    shutil.move(partial, args.output)
    print_table(results)
    print(f"\nresults: {args.output}")


if __name__ == "__main__":
    main()
