"""Benchmark of the chatbot's retrieval core (``python -m evaluation.bench.chatbot_bench``).

1. Quality on the dev set (``../shared/data/qa/dev.jsonl``) and on kai's own held-out questions
   (``chatbot_heldout.jsonl`` beside this file, written without looking at retrieval output): BM25 only,
   dense only and kai's hybrid side by side — recall@1, recall@5, MRR, abstention on unanswerable questions
   and false abstention on answerable ones — plus ablations (the hybrid without one mechanism at a time).
2. Index build time and memory for the shipped collections (embeddings from the cache, and the cold
   embedding cost measured on a sample), and in-process query latency (p50/p95, query embedding included).
3. A synthetic corpus of 100,000 chunks recombined from the law texts' sentences: build, save, load and
   query latency. Its dense part uses random unit vectors: embedding 100k passages with e5 takes hours on
   2 cores, and the cost of a dense search (one matrix-vector product) does not depend on the vectors' values.

Results: a printed table and ``evaluation/results/chatbot_bench.json``.

    python -m evaluation.bench.chatbot_bench [--synthetic 100000] [--repetitions 3]
    python -m evaluation.bench.chatbot_bench --http-compare REF   # only HTTP latency: this tree against REF
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import platform
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from evaluation.metrics import JudgedRanking, first_hit_rank, percentile, retrieval_scores
from models.embedders import Embedder
from models.registry import load_embedder
from services.chatbot import service as chat_service
from services.chatbot.index import CollectionIndex, EmbeddingCache, build_bm25, embed_with_cache
from services.chatbot.retrieval import RetrievalConfig, search, should_abstain
from services.chatbot.types import Chunk
from services.common.config import Settings

REPO_ROOT = Path(__file__).resolve().parents[2]
DATA = REPO_ROOT.parent / "shared" / "data"
DEV_SET = DATA / "qa" / "dev.jsonl"
HELDOUT_SET = Path(__file__).with_name("chatbot_heldout.jsonl")
RESULTS = REPO_ROOT / "evaluation" / "results" / "chatbot_bench.json"
HTTP_COMPARE_RESULTS = REPO_ROOT / "evaluation" / "results" / "chatbot_http_compare.json"
OLD_BARNETS_LOV = "retsinformation_2023_721.json"
TARGETS = {"recall_at_5": 0.90, "mrr": 0.75, "abstain_rate_unanswerable": 0.8, "false_abstain_rate": 0.1}
P50_TARGET_MS = 200.0
COLD_SAMPLE = 48  # chunks embedded without cache to estimate a cold build

BASE = RetrievalConfig()
VARIANTS: dict[str, RetrievalConfig] = {
    "bm25": dataclasses.replace(BASE, dense_weight=0.0),
    "dense": dataclasses.replace(BASE, bm25_weight=0.0),
    "hybrid": BASE,
}
ABLATIONS: dict[str, RetrievalConfig] = {
    "hybrid, rank fusion (RRF k=60, equal weights)": dataclasses.replace(
        BASE, fusion="rrf", bm25_weight=1.0, dense_weight=1.0
    ),
    "hybrid, no thesaurus": dataclasses.replace(BASE, use_thesaurus=False),
    "hybrid, thesaurus only for BM25": dataclasses.replace(BASE, expand_dense_query=False),
    "hybrid, no typo matching": dataclasses.replace(BASE, use_fuzzy=False),
    "hybrid, no compound split of query words": dataclasses.replace(BASE, use_compounds=False),
    "bm25, no thesaurus": dataclasses.replace(BASE, dense_weight=0.0, use_thesaurus=False),
    "dense, no thesaurus": dataclasses.replace(BASE, bm25_weight=0.0, use_thesaurus=False),
}


# --------------------------------------------------------------------------------------------- corpus


def law_chunks() -> list[Chunk]:
    return chat_service.shipped_chunks("barnets-lov")


def guide_chunks() -> list[Chunk]:
    return chat_service.shipped_chunks("it-help")


def read_questions(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


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
    arrays = [index.embeddings, *(index.bm25.scores[k] for k in ("data", "indices", "indptr"))]
    return int(sum(a.nbytes for a in arrays))


def load_avg() -> float:
    return round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else 0.0


# --------------------------------------------------------------------------------------------- quality


def evaluate(
    questions: list[dict[str, Any]],
    indexes: dict[str, CollectionIndex],
    embedder: Embedder,
    config: RetrievalConfig,
) -> dict[str, Any]:
    """The dev-set metrics of one configuration (a question searches its collection, else all of them)."""
    judged, per_question = [], []
    for question in questions:
        scope = [indexes[question["collection"]]] if question.get("collection") else list(indexes.values())
        hits = search(scope, question["question"], embedder, k=5, config=config)
        abstain, confidence = should_abstain(hits, config=config)
        item = JudgedRanking([(h.chunk.source, h.chunk.section) for h in hits], question["relevant"], abstain)
        judged.append(item)
        per_question.append(
            {
                "id": question["id"],
                "rank": first_hit_rank(item) if item.gold else None,
                "abstained": abstain,
                "confidence": round(confidence, 3),
            }
        )
    return {**retrieval_scores(judged), "questions": per_question}


# --------------------------------------------------------------------------------------------- latency


def time_queries(
    questions: list[str], indexes: list[CollectionIndex], embedder: Embedder, repetitions: int
) -> dict[str, float]:
    """In-process latency of search + abstention per question (query embedding included), after a warm-up."""
    search(indexes, questions[0], embedder)
    timings = []
    for _ in range(repetitions):
        for question in questions:
            started = time.perf_counter()
            should_abstain(search(indexes, question, embedder, k=5))
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


# --------------------------------------------------------------------------------------------- builds


def shipped_builds(embedder: Embedder, cache_dir: Path) -> tuple[dict[str, CollectionIndex], dict[str, Any]]:
    """Build both collections (embeddings from the cache), save and reload them; measure each step."""
    figures: dict[str, Any] = {}
    indexes = {}
    with tempfile.TemporaryDirectory() as scratch:
        for name, chunks in (("barnets-lov", law_chunks()), ("it-help", guide_chunks())):
            rss_before, _ = rss_mb()
            started = time.perf_counter()
            built = CollectionIndex.build(name, chunks, embedder, cache_dir)
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
                "embedded_now": built.stats.embedded,
                "from_cache": built.stats.cached,
                "build_s": round(build_s, 2),
                "save_s": round(save_s, 3),
                "load_s": round(load_s, 3),
                "index_mb_in_memory": round(index_bytes(built) / 1e6, 1),
                "index_mb_on_disk": round(folder_bytes(Path(scratch) / name) / 1e6, 1),
                "rss_growth_mb": round(rss_after - rss_before, 1),
                "peak_rss_mb": peak,
            }
    # A cold build embeds every chunk: measure that cost on a sample, without the cache.
    sample = law_chunks()[:COLD_SAMPLE]
    with tempfile.TemporaryDirectory() as empty_cache:
        started = time.perf_counter()
        embed_with_cache(
            [c.searchable for c in sample], embedder, EmbeddingCache(Path(empty_cache) / "e.sqlite3")
        )
        per_chunk = (time.perf_counter() - started) / len(sample)
    total = sum(f["chunks"] for f in figures.values())
    figures["cold_embedding"] = {
        "sample_chunks": len(sample),
        "ms_per_chunk": round(per_chunk * 1000, 1),
        "estimated_cold_build_s_all_shipped": round(per_chunk * total, 0),
        "load_avg_1min": load_avg(),
    }
    return indexes, figures


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def synthetic_chunks(n: int, seed: int = 7) -> list[Chunk]:
    """``n`` Danish-ish chunks: 2–5 sentences drawn from the law texts, 3 chunks (stk.) per synthetic §."""
    sentences = [
        s.strip()
        for chunk in law_chunks()
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
    index = CollectionIndex("syntetisk", chunks, bm25, vectors, embedder.name)
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
        "p50_target_ms": P50_TARGET_MS,
        "p50_ok": latency["p50_ms"] <= P50_TARGET_MS,
    }


# --------------------------------------------------------------------------------------------- report


def print_table(results: dict[str, Any]) -> None:
    columns = ["recall_at_1", "recall_at_5", "mrr", "abstain_rate_unanswerable", "false_abstain_rate"]
    header = f"{'configuration':52s} " + " ".join(
        f"{c[:14]:>14s}" for c in ("r@1", "r@5", "MRR", "abstain na", "false abst.")
    )
    for set_name in ("dev", "heldout"):
        print(f"\n{set_name} set ({results['quality'][set_name]['n']} questions)")
        print(header)
        rows = results["quality"][set_name]
        for name, figures in {**rows["variants"], **rows["ablations"]}.items():
            print(f"{name:52s} " + " ".join(f"{figures[c]:14.3f}" for c in columns))
    print("\nbuilds")
    for name, figures in results["builds"].items():
        print(f"  {name}: {json.dumps(figures)}")
    print("\nlatency (search + abstention, query embedding included)")
    print(f"  shipped collections: {json.dumps(results['latency_shipped'])}")
    print(f"  over HTTP (kai serve): {json.dumps(results['latency_http'])}")
    synthetic = results.get("synthetic")
    if synthetic:
        print(f"  synthetic {synthetic['chunks']} chunks: {json.dumps(synthetic['latency'])}")
        print(
            f"  synthetic build (BM25) {synthetic['build_bm25_s']} s, save {synthetic['save_s']} s, "
            f"load {synthetic['load_s']} s, {synthetic['index_mb_in_memory']} MB arrays, "
            f"peak RSS {synthetic['peak_rss_mb']} MB"
        )
    print(f"\ntargets (hybrid, dev): {json.dumps(results['targets_met'])}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


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
    port = _free_port()
    server = subprocess.Popen(
        [str(kai), "serve", "--port", str(port)],
        env=env,
        cwd=tree,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"kai serve from {tree} did not start")
            time.sleep(0.2)
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
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
        "latency_http": latency,
        "command": "python -m evaluation.bench.chatbot_bench "
        f"--http-compare {ref} --repetitions {repetitions}",
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=2, ensure_ascii=False), encoding="utf-8")
    for name, figures in latency["servers"].items():
        print(f"{name:24s} {json.dumps(figures)}")
    print(f"load average (1 min): {latency['load_avg_1min']}\nresults: {output}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--synthetic", type=int, default=100_000, help="chunks in the synthetic corpus (0: skip)"
    )
    parser.add_argument("--repetitions", type=int, default=3, help="timed passes over the questions")
    parser.add_argument("--output", type=Path, default=None)
    parser.add_argument(
        "--http-compare",
        metavar="REF",
        default=None,
        help="only the HTTP latency: this tree's kai serve against git REF's, requests alternating",
    )
    args = parser.parse_args()
    if args.http_compare:
        questions = [q["question"] for q in read_questions(DEV_SET)]
        http_compare(questions, args.repetitions, args.http_compare, args.output or HTTP_COMPARE_RESULTS)
        return
    args.output = args.output or RESULTS

    settings = Settings()
    embedder = load_embedder(settings)
    cache_dir = settings.resolved_model_cache_dir / "embeddings"
    indexes, builds = shipped_builds(embedder, cache_dir)

    quality: dict[str, Any] = {}
    for set_name, path in (("dev", DEV_SET), ("heldout", HELDOUT_SET)):
        questions = read_questions(path)
        quality[set_name] = {
            "n": len(questions),
            "variants": {name: evaluate(questions, indexes, embedder, c) for name, c in VARIANTS.items()},
            "ablations": {name: evaluate(questions, indexes, embedder, c) for name, c in ABLATIONS.items()},
        }
    dev_questions = [q["question"] for q in read_questions(DEV_SET)]
    latency_shipped = time_queries(dev_questions, list(indexes.values()), embedder, args.repetitions)
    http = http_latency(dev_questions, args.repetitions, {"kai": REPO_ROOT})
    latency_http = {**http["servers"]["kai"], "load_avg_1min": http["load_avg_1min"]}
    synthetic = (
        synthetic_benchmark(args.synthetic, embedder.dim, dev_questions, embedder, args.repetitions)
        if args.synthetic
        else None
    )
    hybrid = quality["dev"]["variants"]["hybrid"]
    targets_met = {
        name: (hybrid[name] <= target if name == "false_abstain_rate" else hybrid[name] >= target)
        for name, target in TARGETS.items()
    }
    results = {
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
        },
        "embedder": embedder.name,
        "embedding_threads": settings.embedding_threads,
        "config": dataclasses.asdict(BASE),
        "builds": builds,
        "quality": quality,
        "latency_shipped": latency_shipped,
        "latency_http": latency_http,
        "synthetic": synthetic,
        "targets": TARGETS,
        "targets_met": targets_met,
        "command": "python -m evaluation.bench.chatbot_bench "
        + " ".join(f"--{k} {v}" for k, v in vars(args).items() if k not in ("output", "http_compare")),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    partial = args.output.with_suffix(".json.partial")
    partial.write_text(json.dumps(results, indent=2, ensure_ascii=False), encoding="utf-8")
    shutil.move(partial, args.output)
    print_table(results)
    print(f"\nresults: {args.output}")


if __name__ == "__main__":
    main()
