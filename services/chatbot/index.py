"""A collection's search index: BM25 over Danish terms plus dense embeddings of the texts, the questions
indexed with each citation unit (question expansion) and the collection's abstention model, in a folder.

Layout of an index folder (the service keeps one per collection)::

    CURRENT                 the name of the version in use, replaced atomically (os.replace)
    v-<time>-<id>/          one complete version: meta.json, chunks.json, embeddings.npy, bm25/,
                            questions.json, question_vectors.npy, out_of_scope_vectors.npy, abstention.json,
                            ranker.json
    .tmp-v-…/               a version being written; never read, cleaned up later

A version is written under a temporary name and renamed when complete, and only then does CURRENT point to
it, so a crash at any moment leaves the previous version in use. Embeddings are cached across builds by
(embedder name, kind, sha256 of the text), so re-ingesting unchanged chunks or questions embeds nothing.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import os
import re
import shutil
import sqlite3
import time
import unicodedata
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import cache, cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import bm25s
import numpy as np
from bm25s.stopwords import STOPWORDS_DANISH

from services.chatbot.types import AbstentionModel, Chunk, Expansion, RankerModel

if TYPE_CHECKING:
    import Stemmer

    from models.embedders import Embedder

log = logging.getLogger(__name__)
# bm25s sets its own logger to DEBUG and logs every index build; an index's question field is built when the
# index is loaded, so without this every CLI command would print bm25s' debug lines.
logging.getLogger("bm25s").setLevel(logging.WARNING)

FORMAT_VERSION = 3  # 2: questions (expansions, out of scope) and the abstention model; 3: the ranker
POINTER = "CURRENT"
_EMBED_BATCH = 32
_STALE_TMP_SECONDS = 3600

# Progress of a long step: (what, done, total); the CLI shows it as a bar.
Progress = Callable[[str, int, int], None]

# --- Danish terms ------------------------------------------------------------------------------------

_WORD = re.compile(r"[^\W_]+(?:-[^\W_]+)*")
# Users often type without æøå ("faerdige", "gor", "naar"): both sides are folded to one spelling, in which
# æ/ae, ø/oe/o and å/aa/a coincide. Folding runs after stemming, so the stemmer still sees real Danish.
_FOLD = str.maketrans({"æ": "ae", "ø": "o", "å": "a", "ä": "ae", "ö": "o", "ü": "u"})
_MIN_PART = 3  # compound parts shorter than this are too ambiguous to index


def fold(term: str) -> str:
    """'færdig' and 'faerdig' → 'faerdig'; 'når' and 'naar' → 'nar'; 'gør' and 'gor' → 'gor'."""
    term = term.lower().translate(_FOLD).replace("aa", "a").replace("oe", "o")
    if term.isascii():
        return term
    return "".join(c for c in unicodedata.normalize("NFKD", term) if not unicodedata.combining(c))


@cache
def _stemmer() -> Stemmer.Stemmer:
    import Stemmer

    return Stemmer.Stemmer("danish")


@cache
def stopwords() -> frozenset[str]:
    """Danish stop words (bm25s' list), in their written and folded forms."""
    return frozenset(STOPWORDS_DANISH) | frozenset(fold(w) for w in STOPWORDS_DANISH)


def words(text: str) -> list[str]:
    """Lower-cased words; hyphenated words are split ("13-årig" → "13", "årig")."""
    return [w for word in _WORD.findall(text.lower()) for w in word.split("-") if w]


def analyze(text: str) -> list[str]:
    """Terms of ``text`` as the index sees them: words without stop words, stemmed (Danish), folded."""
    stop = stopwords()
    kept = [w for w in words(text) if w not in stop and fold(w) not in stop]
    return [fold(stem) for stem in _stemmer().stemWords(kept) if stem]


# --- embedding cache ---------------------------------------------------------------------------------


def text_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class DigestCache:
    """Values by (model name, sha256 digest) in one SQLite file: a cache, safe to delete. Two builds in two
    processes may share a cache; SQLite's locking serialises their writes."""

    table: ClassVar[str]
    value_column: ClassVar[str]  # the value's column: name and type

    def __init__(self, path: Path) -> None:
        self.path = path
        with self.connect() as db:
            db.execute(
                f"CREATE TABLE IF NOT EXISTS {self.table} (model TEXT NOT NULL, digest TEXT NOT NULL, "
                f"{self.value_column} NOT NULL, PRIMARY KEY (model, digest))"
            )

    def connect(self) -> contextlib.closing[sqlite3.Connection]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        return contextlib.closing(sqlite3.connect(self.path, timeout=60, isolation_level=None))


class EmbeddingCache(DigestCache):
    """Embeddings by (embedder name, sha256 of text)."""

    table = "embeddings"
    value_column = "vector BLOB"

    def get(self, model: str, digests: Sequence[str], dim: int) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        with self.connect() as db:
            for start in range(0, len(digests), 500):
                batch = list(digests[start : start + 500])
                marks = ",".join("?" * len(batch))
                rows = db.execute(
                    f"SELECT digest, vector FROM embeddings WHERE model = ? AND digest IN ({marks})",
                    [model, *batch],
                )
                for digest, blob in rows:
                    vector = np.frombuffer(blob, dtype=np.float32)
                    if vector.shape == (dim,):
                        found[digest] = vector
        return found

    def put(self, model: str, items: Iterable[tuple[str, np.ndarray]]) -> None:
        rows = [(model, d, np.asarray(v, dtype=np.float32).tobytes()) for d, v in items]
        with self.connect() as db:
            db.execute("BEGIN")
            db.executemany("INSERT OR REPLACE INTO embeddings VALUES (?, ?, ?)", rows)
            db.execute("COMMIT")


def embed_with_cache(
    texts: Sequence[str],
    embedder: Embedder,
    cache: EmbeddingCache,
    *,
    queries: bool = False,
    progress: Progress | None = None,
) -> tuple[np.ndarray, int]:
    """Embeddings of ``texts`` (rows in order) and how many had to be computed: passages, or with ``queries``
    as questions are embedded (e5 embeds a question differently from a passage; questions are compared with
    questions)."""
    what = "spørgsmål" if queries else "tekststykker"
    model = f"{embedder.name}#query" if queries else embedder.name
    embed = embedder.embed_queries if queries else embedder.embed_passages
    digests = [text_digest(t) for t in texts]
    known = cache.get(model, sorted(set(digests)), embedder.dim)
    missing = list(dict.fromkeys(d for d in digests if d not in known))
    text_of = dict(zip(digests, texts, strict=True))
    started = time.perf_counter()
    for start in range(0, len(missing), _EMBED_BATCH):
        batch = missing[start : start + _EMBED_BATCH]
        vectors = embed([text_of[d] for d in batch])
        # Stored batch by batch: an interrupted build keeps what it computed.
        cache.put(model, zip(batch, vectors, strict=True))
        known.update(zip(batch, vectors, strict=True))
        done = start + len(batch)
        if progress is not None:
            progress(what, done, len(missing))
        if done % (_EMBED_BATCH * 10) == 0 or done == len(missing):
            log.info("Embedded %d/%d %s (%.0f s)", done, len(missing), what, time.perf_counter() - started)
    matrix = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    for row, digest in enumerate(digests):
        matrix[row] = known[digest]
    return matrix, len(missing)


# --- compound words ----------------------------------------------------------------------------------


def compound_parts(term: str, vocabulary: set[str], min_part: int = _MIN_PART) -> list[str]:
    """The two known terms a Danish compound is made of ("samvaersr" → "samvaer", "r" is too short;
    "skolefravaer" → "skol", "fravaer"), allowing the linking -s-/-e- between them. [] when not a compound.

    The longest known head wins; the tail must be a known term (the stemmed compound ends like its tail).
    """
    for cut in range(len(term) - min_part, min_part - 1, -1):
        head, tail = term[:cut], term[cut:]
        if tail not in vocabulary:
            continue
        for candidate in (head, head[:-1] if head[-1:] in "se" else ""):
            if len(candidate) >= min_part and candidate in vocabulary:
                return [candidate, tail]
    return []


def _with_compound_parts(documents: list[list[str]]) -> list[list[str]]:
    """Each document's terms plus the parts of its compounds, so "fravær" also finds "skolefravær"."""
    vocabulary = {t for doc in documents for t in doc}
    parts = {t: compound_parts(t, vocabulary) for t in vocabulary if len(t) >= 2 * _MIN_PART}
    return [doc + [p for t in doc for p in parts.get(t, ())] for doc in documents]


def build_bm25(texts: Sequence[str]) -> bm25s.BM25:
    """BM25 (bm25s defaults: Lucene variant, k1 1.5, b 0.75; other values did not matter on the dev set)."""
    bm25 = bm25s.BM25()
    bm25.index(_with_compound_parts([analyze(t) for t in texts]), show_progress=False)
    return bm25


# --- questions indexed with a collection ----------------------------------------------------------------


def question_key(text: str) -> str:
    """How question texts are compared (duplicates, evaluation questions kept out): case, spacing ignored."""
    return " ".join(text.split()).casefold()


def usable_expansions(expansions: Iterable[Expansion], chunks: Sequence[Chunk]) -> list[Expansion]:
    """The expansions of units among ``chunks``, each question once per unit (the first of duplicates)."""
    units = {(c.source, c.section) for c in chunks}
    seen: set[tuple[tuple[str, str], str]] = set()
    kept = []
    for expansion in expansions:
        key = (expansion.unit, question_key(expansion.text))
        if expansion.unit in units and key not in seen:
            seen.add(key)
            kept.append(expansion)
    return kept


@dataclass
class QuestionIndex:
    """The questions indexed with a collection: the expansions (questions a unit answers) and questions known
    to be out of scope (an abstention signal), with their query embeddings (rows follow the lists)."""

    expansions: list[Expansion]
    vectors: np.ndarray  # float32, (len(expansions), dim)
    out_of_scope: list[str]
    out_of_scope_vectors: np.ndarray  # float32, (len(out_of_scope), dim)

    @classmethod
    def embed(
        cls,
        expansions: Sequence[Expansion],
        out_of_scope: Sequence[str],
        embedder: Embedder,
        cache_dir: Path,
        progress: Progress | None = None,
    ) -> QuestionIndex:
        """Embed the questions (from the cache where they were embedded before)."""
        cache = EmbeddingCache(cache_dir / "embeddings.sqlite3")
        texts = [e.text for e in expansions] + list(out_of_scope)
        vectors, _ = embed_with_cache(texts, embedder, cache, queries=True, progress=progress)
        count = len(expansions)
        return cls(list(expansions), vectors[:count], list(out_of_scope), vectors[count:])

    def where(self, keep_expansion: Sequence[bool], keep_out_of_scope: Sequence[bool]) -> QuestionIndex:
        """The questions marked to keep (cross-validation folds, evaluation questions kept out)."""
        expansions_kept = np.asarray(keep_expansion, dtype=bool).reshape(-1)
        out_kept = np.asarray(keep_out_of_scope, dtype=bool).reshape(-1)
        return QuestionIndex(
            [e for e, keep in zip(self.expansions, expansions_kept, strict=True) if keep],
            self.vectors[expansions_kept],
            [q for q, keep in zip(self.out_of_scope, out_kept, strict=True) if keep],
            self.out_of_scope_vectors[out_kept],
        )

    def without(self, texts: Iterable[str]) -> QuestionIndex:
        """These questions removed wherever they occur (matched by ``question_key``)."""
        drop = {question_key(t) for t in texts}
        return self.where(
            [question_key(e.text) not in drop for e in self.expansions],
            [question_key(q) not in drop for q in self.out_of_scope],
        )

    @classmethod
    def empty(cls, dim: int) -> QuestionIndex:
        return cls([], np.zeros((0, dim), dtype=np.float32), [], np.zeros((0, dim), dtype=np.float32))


# --- the index ---------------------------------------------------------------------------------------


@dataclass
class BuildStats:
    chunks: int = 0
    embedded: int = 0  # chunks whose embedding had to be computed
    cached: int = 0  # chunks whose embedding came from the cache
    seconds: float = 0.0
    training_seconds: float = 0.0  # the abstention model's and the ranker's (service.build_index)


class IndexFormatError(ValueError):
    """The index on disk was written by an older kai: it must be rebuilt (``kai prepare-models`` does it)."""


@dataclass
class CollectionIndex:
    """One collection's chunks, their BM25 index and embeddings (rows aligned with ``chunks``), the questions
    indexed with its units, and the abstention model and ranker trained on them (None: too few questions)."""

    name: str
    chunks: list[Chunk]
    bm25: bm25s.BM25
    embeddings: np.ndarray  # float32, (len(chunks), dim), L2-normalised
    embedder_name: str
    questions: QuestionIndex
    abstention: AbstentionModel | None = None
    ranker: RankerModel | None = None
    version: str = ""
    stats: BuildStats = field(default_factory=BuildStats)

    @classmethod
    def build(
        cls,
        name: str,
        chunks: list[Chunk],
        embedder: Embedder,
        cache_dir: Path,
        *,
        expansions: Sequence[Expansion] = (),
        out_of_scope: Sequence[str] = (),
        progress: Progress | None = None,
    ) -> CollectionIndex:
        """Index ``chunks`` and the questions; embeddings come from ``cache_dir`` where the same text was
        embedded before. Expansions of units that are not among the chunks are left out, duplicates too."""
        if not chunks:
            raise ValueError(f"{name}: an index needs at least one chunk")
        started = time.perf_counter()
        texts = [chunk.searchable for chunk in chunks]
        embeddings, embedded = embed_with_cache(
            texts, embedder, EmbeddingCache(cache_dir / "embeddings.sqlite3"), progress=progress
        )
        bm25 = build_bm25(texts)
        known = usable_expansions(expansions, chunks)
        if len(known) < len(expansions):
            log.warning(
                "%s: %d questions left out (unknown unit, duplicate)", name, len(expansions) - len(known)
            )
        questions = QuestionIndex.embed(known, out_of_scope, embedder, cache_dir, progress)
        stats = BuildStats(len(chunks), embedded, len(chunks) - embedded, time.perf_counter() - started)
        log.info("Built index %s: %d chunks, %d embedded, %.1f s", name, len(chunks), embedded, stats.seconds)
        return cls(name, chunks, bm25, embeddings, embedder.name, questions, stats=stats)

    def __post_init__(self) -> None:
        # Citation units: a law's § (its stk. chunks together) or a guide file (section "").
        keys: dict[tuple[str, str], int] = {}
        self.unit_of = np.array(
            [keys.setdefault((c.source, c.section), len(keys)) for c in self.chunks], dtype=np.int64
        )
        self.units: list[tuple[str, str]] = list(keys)
        self._order = np.argsort(self.unit_of, kind="stable")
        self._starts = np.flatnonzero(np.r_[True, np.diff(self.unit_of[self._order]) != 0])
        # How close a question is to the collection as a whole: one of the abstention signals.
        self.centroid = self.embeddings.mean(axis=0) if len(self.embeddings) else np.zeros(0, np.float32)
        # Each expansion's unit, and one BM25 document per unit that has questions: its questions together.
        self.question_unit = np.array([keys[e.unit] for e in self.questions.expansions], dtype=np.int64)
        self.question_bm25_units = np.unique(self.question_unit)
        self.questions_per_unit = np.bincount(self.question_unit, minlength=len(self.units)).astype(float)
        self._question_order = np.argsort(self.question_unit, kind="stable")
        self._question_starts = np.flatnonzero(
            np.r_[True, np.diff(self.question_unit[self._question_order]) != 0]
        )
        documents: dict[int, list[str]] = {}
        for unit, expansion in zip(self.question_unit, self.questions.expansions, strict=True):
            documents.setdefault(int(unit), []).append(expansion.text)
        self.question_bm25 = (
            build_bm25([" ".join(documents[int(u)]) for u in self.question_bm25_units]) if documents else None
        )

    def with_questions(self, questions: QuestionIndex) -> CollectionIndex:
        """This index with other questions (the texts' part is shared); the abstention model and the ranker
        are kept."""
        return dataclasses.replace(self, questions=questions, version="")

    @cached_property
    def unit_by_question(self) -> dict[str, int]:
        """The unit each indexed question was written or attached for, by ``question_key``."""
        found: dict[str, int] = {}
        for unit, expansion in zip(self.question_unit, self.questions.expansions, strict=True):
            found.setdefault(question_key(expansion.text), int(unit))
        return found

    @property
    def vocabulary(self) -> dict[str, int]:
        """Indexed term → column of the BM25 matrix."""
        return self.bm25.vocab_dict

    @cached_property
    def term_set(self) -> set[str]:
        return {t for t in self.vocabulary if t}

    @cached_property
    def known_terms(self) -> frozenset[str]:
        """Terms of the texts and of the questions (a question's share of them is an abstention signal)."""
        questions = set(self.question_bm25.vocab_dict) if self.question_bm25 is not None else set()
        return frozenset(self.term_set | questions)

    @cached_property
    def _terms_by_initial(self) -> dict[str, list[str]]:
        # Typos rarely hit the first letter: comparing within it keeps fuzzy matching fast on big indexes.
        buckets: dict[str, list[str]] = {}
        for term in sorted(self.term_set):
            buckets.setdefault(term[0], []).append(term)
        return buckets

    def similar_terms(self, term: str, min_similarity: float, limit: int = 2) -> dict[str, float]:
        """Indexed terms spelled like ``term`` (typos: "epelepsi" → "epilepsi"), weighted by similarity."""
        from rapidfuzz import fuzz, process

        candidates = self._terms_by_initial.get(term[:1], [])
        found = process.extract(term, candidates, scorer=fuzz.ratio, score_cutoff=min_similarity, limit=limit)
        return {candidate: score / 100.0 for candidate, score, _ in found}

    def pool_units(self, chunk_scores: np.ndarray) -> np.ndarray:
        """Per unit, the score of its best chunk (max pooling beat adding the other stk.'s scores on the dev
        set: a § is as relevant as its most relevant stk.)."""
        return np.maximum.reduceat(chunk_scores[self._order], self._starts)

    def pool_questions(self, question_scores: np.ndarray) -> np.ndarray:
        """Per unit that has questions (in ``question_bm25_units``' order), the score of its best question."""
        return np.maximum.reduceat(question_scores[self._question_order], self._question_starts)

    def unit_rows(self, unit: int) -> np.ndarray:
        """Rows of the chunks that make up ``unit``."""
        start = int(self._starts[unit])
        end = int(self._starts[unit + 1]) if unit + 1 < len(self._starts) else len(self._order)
        return self._order[start:end]

    def save(self, folder: Path) -> None:
        """Write a new version under ``folder`` and switch ``CURRENT`` to it atomically."""
        folder.mkdir(parents=True, exist_ok=True)
        version = f"v-{datetime.now(UTC):%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}"
        partial = folder / f".tmp-{version}"
        try:
            self._write(partial, version)
            _fsync_tree(partial)
            partial.rename(folder / version)
            _replace_text(folder / POINTER, version)
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            raise
        self.version = version
        _remove_old_versions(folder, keep={version})

    def _write(self, target: Path, version: str) -> None:
        target.mkdir()
        questions = self.questions
        meta = {
            "format": FORMAT_VERSION,
            "name": self.name,
            "version": version,
            "embedder": self.embedder_name,
            "chunks": len(self.chunks),
            "expansions": len(questions.expansions),
            "out_of_scope": len(questions.out_of_scope),
            "dim": int(self.embeddings.shape[1]),
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        _write_json(target / "chunks.json", [asdict(c) for c in self.chunks])
        _write_json(
            target / "questions.json",
            {"expansions": [asdict(e) for e in questions.expansions], "out_of_scope": questions.out_of_scope},
        )
        _write_json(target / "abstention.json", asdict(self.abstention) if self.abstention else None)
        _write_json(target / "ranker.json", asdict(self.ranker) if self.ranker else None)
        for name, array in (
            ("embeddings", self.embeddings),
            ("question_vectors", questions.vectors),
            ("out_of_scope_vectors", questions.out_of_scope_vectors),
        ):
            np.save(target / f"{name}.npy", np.ascontiguousarray(array, dtype=np.float32))
        self.bm25.save(str(target / "bm25"))
        # meta.json last: a version folder with it is complete (load also checks the row counts).
        (target / "meta.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> CollectionIndex:
        """The version ``CURRENT`` names (or ``folder`` itself when it is a version folder)."""
        version = current_version(folder)
        version_dir = folder / version if version else folder
        meta_path = version_dir / "meta.json"
        if not meta_path.is_file():
            raise FileNotFoundError(f"{folder}: no search index here (run the ingest first)")
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if meta.get("format") != FORMAT_VERSION:
            raise IndexFormatError(
                f"{version_dir}: index format {meta.get('format')}, expected {FORMAT_VERSION}"
            )
        chunks = [Chunk(**c) for c in _read_json(version_dir / "chunks.json")]
        embeddings = np.load(version_dir / "embeddings.npy")
        bm25 = bm25s.BM25.load(str(version_dir / "bm25"), mmap=False)
        stored = _read_json(version_dir / "questions.json")
        questions = QuestionIndex(
            [Expansion(**e) for e in stored["expansions"]],
            np.load(version_dir / "question_vectors.npy"),
            stored["out_of_scope"],
            np.load(version_dir / "out_of_scope_vectors.npy"),
        )
        model = _read_json(version_dir / "abstention.json")
        ranking = _read_json(version_dir / "ranker.json")
        if (
            len(chunks) != embeddings.shape[0]
            or len(chunks) != bm25.scores["num_docs"]
            or len(questions.expansions) != questions.vectors.shape[0]
            or len(questions.out_of_scope) != questions.out_of_scope_vectors.shape[0]
        ):
            raise ValueError(f"{version_dir}: the files of this index disagree on their number of rows")
        return cls(
            meta["name"],
            chunks,
            bm25,
            embeddings,
            meta["embedder"],
            questions,
            abstention=_model(AbstentionModel, model) if model else None,
            ranker=_model(RankerModel, ranking) if ranking else None,
            version=meta["version"],
            stats=BuildStats(chunks=len(chunks)),
        )


_Model = TypeVar("_Model", AbstentionModel, RankerModel)


def _model(kind: type[_Model], stored: dict[str, Any]) -> _Model:
    tuples = {k: tuple(v) for k, v in stored.items() if isinstance(v, list)}
    return kind(**{**stored, **tuples})


def _write_json(path: Path, value: object) -> None:
    path.write_text(json.dumps(value, ensure_ascii=False), encoding="utf-8")


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _replace_text(path: Path, text: str) -> None:
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    with partial.open("w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, path)
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not every platform/file system can fsync a directory
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def _fsync_tree(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())
    _fsync_dir(folder)


def current_version(folder: Path) -> str | None:
    """The version an index folder's ``CURRENT`` names; None before the first ingest."""
    pointer = folder / POINTER
    return pointer.read_text(encoding="utf-8").strip() if pointer.is_file() else None


def has_complete_index(folder: Path) -> bool:
    """Whether ``CURRENT`` names a complete version (its meta.json is written last) of this kai's format (an
    older one is not searched until it is rebuilt); reads nothing but meta.json."""
    version = current_version(folder)
    meta = folder / version / "meta.json" if version else None
    return meta is not None and meta.is_file() and _read_json(meta).get("format") == FORMAT_VERSION


def _remove_old_versions(folder: Path, keep: set[str]) -> None:
    """Drop versions no longer in use. The one before the current one stays a while: a process that read
    the old pointer a moment ago may still be loading it."""
    versions = sorted(p for p in folder.glob("v-*") if p.is_dir() and p.name not in keep)
    for old in versions[:-1]:
        shutil.rmtree(old, ignore_errors=True)
    now = time.time()
    for stale in folder.glob(".tmp-v-*"):
        if now - stale.stat().st_mtime > _STALE_TMP_SECONDS:
            shutil.rmtree(stale, ignore_errors=True)
