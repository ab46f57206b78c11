"""Scores made comparable across retrievers and questions: read by the fusion and by the ranker alike."""

from __future__ import annotations

import numpy as np


def standardized(values: np.ndarray) -> np.ndarray:
    """z-scores over the defined (finite) values: how far above this question's typical unit each unit scores,
    in standard deviations; NaN stays NaN (a unit the retriever does not score)."""
    defined = np.isfinite(values)
    result = np.full(values.shape, np.nan)
    if defined.any():
        spread = float(values[defined].std())
        centred = values[defined] - float(values[defined].mean())
        result[defined] = centred / spread if spread > 0 else 0.0
    return result
