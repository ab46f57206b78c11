"""The turn classifiers: logistic regression over hashed turn features, one per kind (decision, action).

Features are hashed with CRC-32 into ``DIMENSIONS`` buckets, so a model is a bias, a threshold and a sparse
table of weights: small, readable JSON, the same on every machine, and predicting needs only Python.
Training (``fit_turn_model``) uses scikit-learn's liblinear solver, which is deterministic.
"""

from __future__ import annotations

import json
import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from services.minutes.pipeline.draft.agenda import AlignmentWeights
from services.minutes.pipeline.draft.features import Features

FORMAT = 1
DIMENSIONS = 2**18
KINDS = ("decision", "action")


def bucket(name: str) -> int:
    return zlib.crc32(name.encode("utf-8")) % DIMENSIONS


@dataclass(frozen=True)
class TurnModel:
    """One kind's classifier: P(turn is a decision | features) = sigmoid(bias + Σ weight·value)."""

    kind: str
    bias: float
    weights: dict[int, float]
    threshold: float

    def probability(self, row: Features) -> float:
        score = self.bias + sum(self.weights.get(bucket(name), 0.0) * value for name, value in row.items())
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, score))))

    def probabilities(self, rows: Sequence[Features]) -> list[float]:
        return [self.probability(row) for row in rows]

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "bias": round(self.bias, 6),
            "threshold": round(self.threshold, 4),
            "weights": {str(k): round(v, 6) for k, v in sorted(self.weights.items()) if round(v, 6) != 0.0},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TurnModel:
        return cls(
            kind=str(data["kind"]),
            bias=float(data["bias"]),
            weights={int(k): float(v) for k, v in data["weights"].items()},
            threshold=float(data["threshold"]),
        )


@dataclass(frozen=True)
class DraftModels:
    """Everything the draft learned: the two turn classifiers, the agenda alignment's weights, and how the
    features were built (``ngrams``: whether a kind's features include the turn's words)."""

    decision: TurnModel
    action: TurnModel
    alignment: AlignmentWeights
    ngrams: tuple[tuple[str, bool], ...] = (("action", True), ("decision", True))
    trained_on: tuple[str, ...] = ()
    choices: tuple[tuple[str, float, float], ...] = ()  # (kind, C, inner cross-validated F1) of the fit

    def uses_ngrams(self, kind: str) -> bool:
        return dict(self.ngrams).get(kind, True)

    def to_json(self) -> str:
        data = {
            "format": FORMAT,
            "trained_on": list(self.trained_on),
            "ngrams": dict(self.ngrams),
            "choices": {kind: {"c": c, "cross_validated_f1": f1} for kind, c, f1 in self.choices},
            "models": [self.decision.to_dict(), self.action.to_dict()],
            "alignment": self.alignment.to_dict(),
        }
        return json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> DraftModels:
        data = json.loads(text)
        if data.get("format") != FORMAT:
            raise ValueError(f"unknown draft model format {data.get('format')!r}")
        models = {m["kind"]: TurnModel.from_dict(m) for m in data["models"]}
        return cls(
            decision=models["decision"],
            action=models["action"],
            alignment=AlignmentWeights.from_dict(data["alignment"]),
            ngrams=tuple(sorted((str(k), bool(v)) for k, v in data.get("ngrams", {}).items())),
            trained_on=tuple(data.get("trained_on", [])),
            choices=tuple(
                (str(kind), float(v["c"]), float(v["cross_validated_f1"]))
                for kind, v in sorted(data.get("choices", {}).items())
            ),
        )

    def save(self, path: Path) -> None:
        path.write_text(self.to_json(), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> DraftModels:
        return cls.from_json(path.read_text(encoding="utf-8"))


def hashed_matrix(rows: Sequence[Features]) -> Any:
    """The rows as a sparse matrix over the hashed buckets (``DIMENSIONS`` columns)."""
    import numpy as np
    from scipy.sparse import csr_matrix

    data, indices, indptr = [], [], [0]
    for row in rows:
        merged: dict[int, float] = {}
        for name, value in row.items():
            index = bucket(name)
            merged[index] = merged.get(index, 0.0) + value
        for index in sorted(merged):
            indices.append(index)
            data.append(merged[index])
        indptr.append(len(indices))
    return csr_matrix(
        (np.array(data, dtype=float), np.array(indices, dtype=np.int64), np.array(indptr, dtype=np.int64)),
        shape=(len(rows), DIMENSIONS),
    )


def fit_turn_model(
    kind: str,
    matrix: Any,
    labels: Sequence[int],
    *,
    c: float,
    threshold: float,
    weights: Sequence[float] | None = None,
) -> TurnModel:
    """Logistic regression (L2, balanced classes, optional per-turn weights) on a ``hashed_matrix``;
    deterministic. Only the buckets that occur are fitted (the others keep weight 0)."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    used = np.unique(matrix.indices)
    compact = matrix[:, used]
    classifier = LogisticRegression(
        C=c, class_weight="balanced", solver="liblinear", max_iter=1000, random_state=0
    )
    classifier.fit(
        compact, np.asarray(labels), sample_weight=None if weights is None else np.asarray(weights)
    )
    coef = classifier.coef_.ravel()
    table = {int(b): float(w) for b, w in zip(used, coef, strict=True) if w != 0.0}
    return TurnModel(kind, float(classifier.intercept_[0]), table, threshold)
