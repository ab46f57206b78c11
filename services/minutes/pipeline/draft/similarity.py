"""Sentence similarity by TF-IDF over character n-grams, shared by agenda alignment, topics and summaries."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.sparse import csr_matrix
from sklearn.feature_extraction.text import TfidfVectorizer

from services.minutes.pipeline.draft.words import content_tokens


def _content_text(text: str) -> str:
    return " ".join(content_tokens(text))


def char_vectors(texts: Sequence[str]) -> csr_matrix | None:
    """Sparse, L2-normalised TF-IDF rows over character n-grams (they match the parts of Danish compounds);
    None when there is nothing to vectorise. Kept sparse: a long meeting has tens of thousands of n-grams."""
    docs = [_content_text(t) for t in texts]
    if not any(docs):
        return None
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True)
    return csr_matrix(vectorizer.fit_transform(docs))


def row_sum(vectors: csr_matrix, start: int, stop: int) -> np.ndarray:
    return np.asarray(vectors[start:stop].sum(axis=0)).ravel()


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    norm = float(np.linalg.norm(a) * np.linalg.norm(b))
    return float(a @ b) / norm if norm > 0 else 0.0
